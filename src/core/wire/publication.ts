import { blake2b } from '@noble/hashes/blake2';
import { sha256 } from '@noble/hashes/sha2';
import { ByteReader, ByteWriter, bytesEqual } from './bytes.ts';
import { WireFormatError } from './errors.ts';
import { toHex } from './hashes.ts';

/**
 * A validator's signed publication (issue #14): the envelope around everything a peer applies on a
 * validator's word — the aggregated update of a window, a checkpoint of θ, the gather-peer list.
 * Templar trusts these objects because they sit in the validator's bucket; here the bucket is only
 * storage, and nothing is applied before its header, hash and signature are checked against the run.
 * Little-endian throughout:
 *
 * ```
 * magic "GWPB" (4) | u8 version (=1) | u8 kind (1 aggregate, 2 checkpoint, 3 peer list, 4 θ hash)
 * u16 len + runId (UTF-8) | runConfigHash (32) | u16 netuid | u32 window | u32 globalStep
 * layoutHash (32) | publisher (32: raw public key) | payloadSha256 (32) | u32 payloadLength
 * payload (payloadLength bytes) | u8 signatureLength | signature
 * ```
 *
 * The publisher signs `publicationSigningMessage(header)`: blake2b-256 over a domain tag and every
 * header byte, which includes the payload's sha256, so a signature binds one run config, one window
 * (or step), one model layout and one payload, and cannot be moved to another publication.
 */
export const PUBLICATION_MAGIC = new Uint8Array([0x47, 0x57, 0x50, 0x42]); // "GWPB": gauntlet-webgpu publication
export const PUBLICATION_VERSION = 1;
export const PUBLICATION_SIGNING_DOMAIN = 'gauntlet-webgpu/publication/v1';

/**
 * `theta`: the sha256 of θ (`parameterHash`) as the validator scored a window with it, so another
 * validator of the run can tell whether it measures the same model before it sets weights (issue #17).
 */
export type PublicationKind = 'aggregate' | 'checkpoint' | 'peer-list' | 'theta';
const KIND_IDS: Record<PublicationKind, number> = { aggregate: 1, checkpoint: 2, 'peer-list': 3, theta: 4 };

/** Longest signature accepted (sr25519 and ed25519 are 64 bytes, ecdsa 65). */
const MAX_SIGNATURE_BYTES = 128;

export interface PublicationHeader {
  readonly kind: PublicationKind;
  readonly runId: string;
  /** sha256 of the run config's canonical JSON (`runConfigHash`), as 32 bytes. */
  readonly runConfigHash: Uint8Array;
  readonly netuid: number;
  /** The sync window the publication belongs to. */
  readonly window: number;
  /** The validator's outer step count after this publication (checkpoints are named by it). */
  readonly globalStep: number;
  readonly layoutHash: Uint8Array;
  /** 32-byte public key of the publishing validator's hotkey. */
  readonly publisher: Uint8Array;
  readonly payloadSha256: Uint8Array;
  readonly payloadLength: number;
}

export interface DecodedPublication {
  readonly header: PublicationHeader;
  readonly payload: Uint8Array;
  /** The bytes the publisher signed (`publicationSigningMessage(header)`). */
  readonly signedMessage: Uint8Array;
  readonly signature: Uint8Array;
}

/** What a reader expects of a publication before it looks at the signature. */
export interface PublicationExpectation {
  readonly kind: PublicationKind;
  readonly runId: string;
  readonly runConfigHash: Uint8Array;
  readonly netuid: number;
  readonly layoutHash: Uint8Array;
  /** The payload must be exactly this long (float32 vectors), or at most `maxPayloadBytes` long. */
  readonly payloadLength?: number;
  readonly maxPayloadBytes: number;
  readonly window?: number;
  readonly globalStep?: number;
}

/** The header fields as bytes, in the wire order (what is signed, before the payload). */
export function encodePublicationHeader(header: PublicationHeader): Uint8Array {
  const writer = new ByteWriter();
  writer.bytes(PUBLICATION_MAGIC);
  writer.u8(PUBLICATION_VERSION);
  writer.u8(KIND_IDS[header.kind]);
  writer.string(header.runId);
  writer.fixedBytes(header.runConfigHash, 32, 'runConfigHash');
  writer.u16(header.netuid, 'netuid');
  writer.u32(header.window, 'window');
  writer.u32(header.globalStep, 'globalStep');
  writer.fixedBytes(header.layoutHash, 32, 'layoutHash');
  writer.fixedBytes(header.publisher, 32, 'publisher');
  writer.fixedBytes(header.payloadSha256, 32, 'payloadSha256');
  writer.u32(header.payloadLength, 'payloadLength');
  return writer.finish();
}

/** The 32 bytes the publisher's wallet signs: blake2b-256 over `u16 len + domain tag` and the header bytes. */
export function publicationSigningMessage(header: PublicationHeader): Uint8Array {
  const writer = new ByteWriter();
  writer.string(PUBLICATION_SIGNING_DOMAIN);
  writer.bytes(encodePublicationHeader(header));
  return blake2b(writer.finish(), { dkLen: 32 });
}

/** The header of `payload` for a publisher (its hash and length filled in). */
export function publicationHeader(fields: Omit<PublicationHeader, 'payloadSha256' | 'payloadLength'>, payload: Uint8Array): PublicationHeader {
  return { ...fields, payloadSha256: sha256(payload), payloadLength: payload.length };
}

/** header ‖ payload ‖ u8 length ‖ signature: the bytes stored under the publication's key. */
export function encodePublication(header: PublicationHeader, payload: Uint8Array, signature: Uint8Array): Uint8Array {
  if (payload.length !== header.payloadLength) throw new WireFormatError('bad-field', `the payload has ${payload.length} bytes, the header says ${header.payloadLength}`);
  if (signature.length === 0 || signature.length > MAX_SIGNATURE_BYTES) throw new WireFormatError('bad-field', `a signature of ${signature.length} bytes cannot be stored`);
  const writer = new ByteWriter();
  writer.bytes(encodePublicationHeader(header));
  writer.bytes(payload);
  writer.u8(signature.length);
  writer.bytes(signature);
  return writer.finish();
}

/**
 * Strict decoder: magic, version, kind, run id and run-config hash, netuid, layout hash, window or
 * step where expected, payload length and sha256, signature length, no trailing bytes. Only
 * `WireFormatError`s are thrown, whatever the bytes. The signature itself is checked by the caller
 * (src/peer/publications.ts), which knows which hotkeys may publish.
 */
export function decodePublication(bytes: Uint8Array, expected: PublicationExpectation): DecodedPublication {
  const limit = expected.maxPayloadBytes + 512 + MAX_SIGNATURE_BYTES;
  if (bytes.length > limit) throw new WireFormatError('oversized', `publication is ${bytes.length} bytes, at most ${limit} expected`);
  const reader = new ByteReader(bytes);
  const magic = reader.bytes(4, 'magic');
  if (magic.some((b, i) => b !== PUBLICATION_MAGIC[i])) throw new WireFormatError('bad-magic', `not a signed publication (magic ${toHex(magic)}); a validator of an older version published it unsigned`);
  const version = reader.u8('version');
  if (version !== PUBLICATION_VERSION) throw new WireFormatError('bad-version', `publication format version ${version}; this peer reads version ${PUBLICATION_VERSION}`);
  const kindId = reader.u8('kind');
  const kind = (Object.keys(KIND_IDS) as PublicationKind[]).find((k) => KIND_IDS[k] === kindId);
  if (kind !== expected.kind) throw new WireFormatError('header-mismatch', `publication kind ${kind ?? kindId}, expected ${expected.kind}`);
  const runId = reader.string('runId');
  const runConfigHash = reader.bytes(32, 'runConfigHash');
  const netuid = reader.u16('netuid');
  const window = reader.u32('window');
  const globalStep = reader.u32('globalStep');
  const layoutHash = reader.bytes(32, 'layoutHash');
  const publisher = reader.bytes(32, 'publisher');
  const payloadSha256 = reader.bytes(32, 'payloadSha256');
  const payloadLength = reader.u32('payloadLength');
  if (runId !== expected.runId) throw new WireFormatError('header-mismatch', `runId is ${runId}, expected ${expected.runId}`);
  if (!bytesEqual(runConfigHash, expected.runConfigHash)) throw new WireFormatError('header-mismatch', `run-config hash ${toHex(runConfigHash)} differs from this run's ${toHex(expected.runConfigHash)}`);
  if (netuid !== expected.netuid) throw new WireFormatError('header-mismatch', `netuid is ${netuid}, expected ${expected.netuid}`);
  if (!bytesEqual(layoutHash, expected.layoutHash)) throw new WireFormatError('layout-mismatch', `layout hash ${toHex(layoutHash)} differs from this run's ${toHex(expected.layoutHash)}`);
  if (expected.window !== undefined && window !== expected.window) throw new WireFormatError('header-mismatch', `window is ${window}, expected ${expected.window}`);
  if (expected.globalStep !== undefined && globalStep !== expected.globalStep) throw new WireFormatError('header-mismatch', `globalStep is ${globalStep}, expected ${expected.globalStep}`);
  if (expected.payloadLength !== undefined ? payloadLength !== expected.payloadLength : payloadLength > expected.maxPayloadBytes) {
    throw new WireFormatError('shape-mismatch', `the payload has ${payloadLength} bytes, expected ${expected.payloadLength ?? `at most ${expected.maxPayloadBytes}`}`);
  }
  const payload = reader.bytes(payloadLength, 'payload');
  if (!bytesEqual(sha256(payload), payloadSha256)) throw new WireFormatError('header-mismatch', 'the payload does not match its sha256 in the header (tampered or truncated)');
  const signatureLength = reader.u8('signatureLength');
  if (signatureLength === 0 || signatureLength > MAX_SIGNATURE_BYTES) throw new WireFormatError('bad-signature-length', `a signature of ${signatureLength} bytes`);
  const signature = reader.bytes(signatureLength, 'signature');
  if (reader.remaining !== 0) throw new WireFormatError('trailing-bytes', `${reader.remaining} bytes after the signature`);
  const header: PublicationHeader = { kind, runId, runConfigHash, netuid, window, globalStep, layoutHash, publisher, payloadSha256, payloadLength };
  return { header, payload, signedMessage: publicationSigningMessage(header), signature };
}
