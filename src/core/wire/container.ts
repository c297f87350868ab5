import type { CompressionConfig } from '../config.ts';
import { tensorBoundsViolation, type SubmissionBounds } from '../compress/bounds.ts';
import { chunkLayout, type ChunkLayout, type TensorSpec } from '../compress/chunking.ts';
import type { EncodedTensor } from '../compress/codec.ts';
import { CompressionError } from '../compress/errors.ts';
import { bitsPerCode, pack12, packCodes, packedCodeBytes, unpack12, unpackCodes } from '../compress/pack.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { WireFormatError } from './errors.ts';
import { layoutHash, toHex } from './hashes.ts';

/**
 * The submission container: what Templar uploads as `gradient-{w}-{uid}-v{ver}.pt` (gauntlet-spec §5.4),
 * as a versioned binary format instead of a pickle. Little-endian throughout:
 *
 * ```
 * magic "GWPS" (4) | u8 version (=1) | u8 codec (1 sparseloco, 2 dct-sign) | u16 quantizationBins
 * u16 len + runId (UTF-8) | u16 netuid | u32 window | u16 uid
 * hotkey (32: raw public key) | layoutHash (32) | sampleDigest (16) | u32 sampleCount
 * u16 tensorCount, then per tensor, in layout order:
 *   u16 len + name | u8 ndim | u32 dims… | u16 k
 *   f32 shift | f32 scale | f32 lookup[quantizationBins]
 *   12-bit packed indices (chunkCount·k·3/2 bytes) | bit-packed codes (⌈chunkCount·k·bits/8⌉ bytes)
 * ```
 * Lengths of the index and code blocks are not stored: they follow from the shape, k and the run's
 * compression config, which the decoder checks first, so a hostile length can never drive an allocation.
 *
 * The hotkey travels as its 32-byte public key, not its SS58 address: SS58 is a display encoding whose
 * network prefix and checksum carry nothing the signature needs, and a fixed-size field keeps the
 * header simple. Convert with `@polkadot/util-crypto`'s `decodeAddress`/`encodeAddress` at the edges.
 */
export const WIRE_MAGIC = new Uint8Array([0x47, 0x57, 0x50, 0x53]); // "GWPS": gauntlet-webgpu peer submission
export const WIRE_VERSION = 1;

const CODEC_IDS: Record<CompressionConfig['codec'], number> = { sparseloco: 1, 'dct-sign': 2 };

/** Accepted range of |scale|, as the quantisation-parameter check of Templar `comms.gather` (gauntlet-spec §5.8). */
export const MIN_ABS_SCALE = 1e-12;
export const MAX_ABS_SCALE = 1e4;

export interface SubmissionHeader {
  readonly runId: string;
  readonly netuid: number;
  readonly window: number;
  readonly uid: number;
  /** 32-byte public key of the hotkey that signs the submission. */
  readonly hotkey: Uint8Array;
  /** 16-byte receipt of the training pool assigned for (uid, window) (`sampleDigest`; v2.1.3 metadata `sample_digest`). */
  readonly sampleDigest: Uint8Array;
  readonly sampleCount: number;
}

export interface Submission extends SubmissionHeader {
  readonly tensors: readonly EncodedTensor[];
}

export interface DecodedSubmission extends Submission {
  readonly codec: CompressionConfig['codec'];
  readonly layoutHash: Uint8Array;
}

/** What the decoder checks a submission against: the run's layout and compression, and optionally who and when. */
export interface SubmissionExpectation {
  readonly layout: readonly TensorSpec[];
  readonly compression: CompressionConfig;
  /** The run's absolute value and norm bounds (`RunConfig.bounds`): a submission outside them is refused here. */
  readonly bounds: SubmissionBounds;
  /** Larger inputs are refused before any parsing (`WindowConfig.maxSubmissionBytes`). */
  readonly maxBytes: number;
  readonly runId?: string;
  readonly netuid?: number;
  readonly window?: number;
  readonly uid?: number;
}

/** Serialises a submission. Throws `WireFormatError('bad-field')` for a field the format cannot hold. */
export function encodeSubmission(submission: Submission, compression: CompressionConfig): Uint8Array {
  const bits = bitsPerCode(compression.quantizationBins);
  const writer = new ByteWriter();
  writer.bytes(WIRE_MAGIC);
  writer.u8(WIRE_VERSION);
  writer.u8(CODEC_IDS[compression.codec]);
  writer.u16(compression.quantizationBins, 'quantizationBins');
  writer.string(submission.runId);
  writer.u16(submission.netuid, 'netuid');
  writer.u32(submission.window, 'window');
  writer.u16(submission.uid, 'uid');
  writer.fixedBytes(submission.hotkey, 32, 'hotkey');
  writer.bytes(layoutHash(submission.tensors));
  writer.fixedBytes(submission.sampleDigest, 16, 'sampleDigest');
  writer.u32(submission.sampleCount, 'sampleCount');
  writer.u16(submission.tensors.length, 'tensor count');
  for (const tensor of submission.tensors) {
    writer.string(tensor.name);
    writer.u8(tensor.shape.length, 'ndim');
    for (const d of tensor.shape) writer.u32(d, 'dimension');
    writer.u16(tensor.k, 'k');
    if (tensor.quant.lookup.length !== compression.quantizationBins) {
      throw new WireFormatError('bad-field', `tensor ${tensor.name} has ${tensor.quant.lookup.length} lookup entries, the config ${compression.quantizationBins} bins`);
    }
    writer.f32(tensor.quant.shift);
    writer.f32(tensor.quant.scale);
    for (const v of tensor.quant.lookup) writer.f32(v);
    try {
      writer.bytes(pack12(tensor.indices));
      writer.bytes(packCodes(tensor.codes, bits));
    } catch (error) {
      if (error instanceof CompressionError) throw new WireFormatError('bad-field', `tensor ${tensor.name}: ${error.message}`);
      throw error;
    }
  }
  return writer.finish();
}

/**
 * Strict decoder: checks everything Templar's `comms.gather` checks (gauntlet-spec §5.8) and more
 * (layout hash, names, shapes, duplicate indices, padding bits, trailing bytes), against the run's
 * expected layout. Any problem is a `WireFormatError` with a code; nothing else is ever thrown for
 * any input bytes.
 */
export function decodeSubmission(bytes: Uint8Array, expected: SubmissionExpectation): DecodedSubmission {
  if (bytes.length > expected.maxBytes) {
    throw new WireFormatError('oversized', `submission is ${bytes.length} bytes, the run allows ${expected.maxBytes}`);
  }
  const { compression, layout } = expected;
  const bins = compression.quantizationBins;
  const bits = bitsPerCode(bins);
  const reader = new ByteReader(bytes);
  const magic = reader.bytes(4, 'magic');
  if (magic.some((b, i) => b !== WIRE_MAGIC[i])) throw new WireFormatError('bad-magic', `not a gauntlet-webgpu submission (magic ${toHex(magic)})`);
  const version = reader.u8('version');
  if (version !== WIRE_VERSION) throw new WireFormatError('bad-version', `format version ${version}; this peer reads version ${WIRE_VERSION}`);
  const codecId = reader.u8('codec');
  if (codecId !== CODEC_IDS[compression.codec]) throw new WireFormatError('codec-mismatch', `codec id ${codecId}; the run uses ${compression.codec} (${CODEC_IDS[compression.codec]})`);
  const wireBins = reader.u16('quantizationBins');
  if (wireBins !== bins) throw new WireFormatError('codec-mismatch', `${wireBins} quantisation bins; the run uses ${bins}`);

  const runId = reader.string('runId');
  const netuid = reader.u16('netuid');
  const window = reader.u32('window');
  const uid = reader.u16('uid');
  for (const [field, got, want] of [
    ['runId', runId, expected.runId],
    ['netuid', netuid, expected.netuid],
    ['window', window, expected.window],
    ['uid', uid, expected.uid],
  ] as const) {
    if (want !== undefined && got !== want) throw new WireFormatError('header-mismatch', `${field} is ${got}, expected ${want}`);
  }
  const hotkey = reader.bytes(32, 'hotkey');
  const wireLayoutHash = reader.bytes(32, 'layoutHash');
  const expectedHash = layoutHash(layout);
  if (wireLayoutHash.some((b, i) => b !== expectedHash[i])) {
    throw new WireFormatError('layout-mismatch', `layout hash ${toHex(wireLayoutHash)} differs from this run's ${toHex(expectedHash)}`);
  }
  const sampleDigest = reader.bytes(16, 'sampleDigest');
  const sampleCount = reader.u32('sampleCount');
  const tensorCount = reader.u16('tensor count');
  if (tensorCount !== layout.length) throw new WireFormatError('layout-mismatch', `${tensorCount} tensors; the model has ${layout.length}`);

  const tensors: EncodedTensor[] = [];
  for (const spec of layout) tensors.push(readTensor(reader, spec, expected.compression, expected.bounds, bits));
  if (reader.remaining !== 0) throw new WireFormatError('trailing-bytes', `${reader.remaining} bytes after the last tensor`);
  return { runId, netuid, window, uid, hotkey, sampleDigest, sampleCount, tensors, codec: compression.codec, layoutHash: wireLayoutHash };
}

function readTensor(reader: ByteReader, spec: TensorSpec, compression: CompressionConfig, bounds: SubmissionBounds, bits: 1 | 2 | 4 | 8): EncodedTensor {
  const name = reader.string('tensor name');
  if (name !== spec.name) throw new WireFormatError('layout-mismatch', `tensor "${name}" where the layout has "${spec.name}"`);
  const ndim = reader.u8(`${name} ndim`);
  if (ndim !== spec.shape.length) throw new WireFormatError('shape-mismatch', `${name} has ${ndim} dimensions, expected ${spec.shape.length}`);
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(reader.u32(`${name} dim ${d}`));
  if (shape.some((d, i) => d !== spec.shape[i])) throw new WireFormatError('shape-mismatch', `${name} has shape [${shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
  const layout = chunkLayoutOf(spec, compression);
  const k = reader.u16(`${name} k`);
  if (k !== layout.k) throw new WireFormatError('k-mismatch', `${name} keeps ${k} per chunk, the run allows ${layout.k}`);

  const shift = reader.f32(`${name} shift`);
  const scale = reader.f32(`${name} scale`);
  const lookup = new Float32Array(compression.quantizationBins);
  for (let b = 0; b < lookup.length; b++) lookup[b] = reader.f32(`${name} lookup`);
  if (!Number.isFinite(shift) || !Number.isFinite(scale) || lookup.some((v) => !Number.isFinite(v))) {
    throw new WireFormatError('non-finite', `${name} has a non-finite quantisation parameter`);
  }
  if (!(Math.abs(scale) >= MIN_ABS_SCALE && Math.abs(scale) <= MAX_ABS_SCALE)) {
    throw new WireFormatError('scale-out-of-range', `${name} scale ${scale} is outside [${MIN_ABS_SCALE}, ${MAX_ABS_SCALE}]`);
  }

  const count = layout.chunkCount * k;
  const indices = unpack12(reader.bytes((count / 2) * 3, `${name} indices`), count);
  checkIndices(name, indices, layout);
  const codeBytes = reader.bytes(packedCodeBytes(count, bits), `${name} codes`);
  const usedBits = (count * bits) % 8;
  if (usedBits !== 0 && codeBytes[codeBytes.length - 1]! >> usedBits !== 0) {
    throw new WireFormatError('bad-padding', `${name}: unused bits of the last code byte are not zero`);
  }
  const codes = unpackCodes(codeBytes, count, bits);
  const violation = tensorBoundsViolation(name, codes, { shift, scale, lookup }, bounds);
  if (violation !== null) throw new WireFormatError(violation.code, violation.message);
  return { name, shape, k, indices, codes, quant: { shift, scale, lookup } };
}


function chunkLayoutOf(spec: TensorSpec, compression: CompressionConfig): ChunkLayout {
  try {
    return chunkLayout(spec.shape, compression);
  } catch (error) {
    if (error instanceof CompressionError) throw new WireFormatError('shape-mismatch', `${spec.name}: ${error.message}`);
    throw error;
  }
}

/** Every index inside its chunk, none twice in the same chunk (a duplicate would weigh one value double in the scatter-mean). */
function checkIndices(name: string, indices: Uint16Array, layout: ChunkLayout): void {
  const seen = new Int32Array(layout.totalk).fill(-1);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    const chunk = Math.floor(i / layout.k);
    if (j >= layout.totalk) throw new WireFormatError('index-out-of-range', `${name}: index ${j} in chunk ${chunk} is outside [0, ${layout.totalk})`);
    if (seen[j] === chunk) throw new WireFormatError('duplicate-index', `${name}: index ${j} appears twice in chunk ${chunk}`);
    seen[j] = chunk;
  }
}
