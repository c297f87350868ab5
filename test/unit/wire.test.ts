import { blake2b } from '@noble/hashes/blake2';
import { sha256 } from '@noble/hashes/sha2';
import { describe, expect, it } from 'vitest';
import { FINITE_ONLY, chunkLayout, encodeTensor, type EncodedTensor, type TensorSpec } from '../../src/core/compress/index.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { gaussianArray, Xoshiro128 } from '../../src/core/prng.ts';
import { smallRunConfig, tinyRunConfig } from '../../src/core/run-config.ts';
import {
  ByteReader,
  ByteWriter,
  contentHash,
  decodeSubmission,
  encodeSubmission,
  layoutHash,
  signingMessage,
  SUBMISSION_SIGNING_DOMAIN,
  WireFormatError,
  type Submission,
  type SubmissionExpectation,
  type WireFormatErrorCode,
} from '../../src/core/wire/index.ts';

const compression: CompressionConfig = {
  codec: 'sparseloco',
  targetChunk: 8,
  topk: 8,
  quantizationBins: 4,
  quantizationRange: 6,
  errorFeedbackDecay: 0.95,
  outerLr: 1,
};
// [16][8]: 2 chunks of 8×8, k = 8. [6]: one 1-D chunk of 6, k = 6 (dense). [4][6]: one 4×6 chunk, k = round(8·24/64) = 3 → 2.
const layout: TensorSpec[] = [
  { name: 'blocks.0.w', shape: [16, 8] },
  { name: 'norm', shape: [6] },
  { name: 'head', shape: [4, 6] },
];
const expectation: SubmissionExpectation = { layout, compression, bounds: FINITE_ONLY, maxBytes: 10_000, runId: 'run-α', netuid: 3, window: 77, uid: 5 };

function makeSubmission(tensors: EncodedTensor[] = layout.map((spec, t) => encodeTensor(spec, gaussianArray(spec.shape.reduce((a, b) => a * b), 100 + t), compression))): Submission {
  return {
    runId: 'run-α',
    netuid: 3,
    window: 77,
    uid: 5,
    hotkey: Uint8Array.from({ length: 32 }, (_, i) => i),
    sampleDigest: Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i),
    sampleCount: 12,
    tensors,
  };
}

function codeOf(fn: () => unknown): WireFormatErrorCode | 'no error' | 'other error' {
  try {
    fn();
    return 'no error';
  } catch (error) {
    return error instanceof WireFormatError ? error.code : 'other error';
  }
}

/** Byte offset of the first tensor record: 4 + 1 + 1 + 2 + (2 + runId) + 2 + 4 + 2 + 32 + 32 + 16 + 4 + 2. */
const runIdBytes = new TextEncoder().encode('run-α').length; // 6: 'α' is two UTF-8 bytes
const headerBytes = 4 + 1 + 1 + 2 + 2 + runIdBytes + 2 + 4 + 2 + 32 + 32 + 16 + 4 + 2;

describe('submission container', () => {
  it('round-trips every field', () => {
    const submission = makeSubmission();
    const decoded = decodeSubmission(encodeSubmission(submission, compression), expectation);
    expect(decoded.runId).toBe('run-α');
    expect([decoded.netuid, decoded.window, decoded.uid, decoded.sampleCount]).toEqual([3, 77, 5, 12]);
    expect(decoded.hotkey).toEqual(submission.hotkey);
    expect(decoded.sampleDigest).toEqual(submission.sampleDigest);
    expect(decoded.codec).toBe('sparseloco');
    decoded.tensors.forEach((t, i) => {
      const original = submission.tensors[i]!;
      expect([t.name, t.shape, t.k]).toEqual([original.name, original.shape, original.k]);
      expect(t.indices).toEqual(original.indices);
      expect(t.codes).toEqual(original.codes);
      expect(t.quant.shift).toBe(original.quant.shift);
      expect(t.quant.scale).toBe(original.quant.scale);
      expect(t.quant.lookup).toEqual(original.quant.lookup);
    });
  });

  it('lays the header and sizes out as documented', () => {
    const bytes = encodeSubmission(makeSubmission(), compression);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x47, 0x57, 0x50, 0x53, 1, 1, 4, 0]); // "GWPS", v1, sparseloco, 4 bins LE
    expect(Array.from(bytes.subarray(8, 10))).toEqual([runIdBytes, 0]);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const at = 10 + runIdBytes;
    expect([view.getUint16(at, true), view.getUint32(at + 2, true), view.getUint16(at + 6, true)]).toEqual([3, 77, 5]);
    // Per tensor: 2 + name, 1 + 4·ndim, k 2, shift/scale 8, lookup 16, indices count·3/2, codes ⌈count/4⌉.
    const tensorBytes = (name: string, ndim: number, count: number) => 2 + name.length + 1 + 4 * ndim + 2 + 8 + 16 + (count / 2) * 3 + Math.ceil(count / 4);
    expect(bytes.length).toBe(headerBytes + tensorBytes('blocks.0.w', 2, 16) + tensorBytes('norm', 1, 6) + tensorBytes('head', 2, 2));
  });

  it('refuses each kind of malformed input with its code', () => {
    const good = encodeSubmission(makeSubmission(), compression);
    const mutate = (edit: (b: Uint8Array) => void) => {
      const b = good.slice();
      edit(b);
      return b;
    };
    const decode = (b: Uint8Array, exp: Partial<SubmissionExpectation> = {}) => () => decodeSubmission(b, { ...expectation, ...exp });
    expect(codeOf(decode(good, { maxBytes: good.length - 1 }))).toBe('oversized');
    expect(codeOf(decode(good.subarray(0, good.length - 1)))).toBe('truncated');
    expect(codeOf(decode(new Uint8Array(0)))).toBe('truncated');
    expect(codeOf(decode(mutate((b) => (b[0] = 0))))).toBe('bad-magic');
    expect(codeOf(decode(mutate((b) => (b[4] = 2))))).toBe('bad-version');
    expect(codeOf(decode(good, { compression: { ...compression, codec: 'dct-sign' } }))).toBe('codec-mismatch');
    expect(codeOf(decode(mutate((b) => (b[10] = 0xff))))).toBe('bad-string');
    expect(codeOf(decode(good, { window: 78 }))).toBe('header-mismatch');
    expect(codeOf(decode(good, { runId: 'run-β' }))).toBe('header-mismatch');
    expect(codeOf(decode(good, { layout: [layout[1]!, layout[0]!, layout[2]!] }))).toBe('layout-mismatch');
    expect(codeOf(decode(concat(good, new Uint8Array([0]))))).toBe('trailing-bytes');
    // The first tensor's record: name, ndim, dims, then k, shift, scale, lookup.
    const kAt = headerBytes + 2 + 'blocks.0.w'.length + 1 + 8;
    expect(codeOf(decode(mutate((b) => (b[kAt] = 6))))).toBe('k-mismatch');
    expect(codeOf(decode(mutate((b) => new DataView(b.buffer).setUint32(kAt - 4, 9, true))))).toBe('shape-mismatch');
    expect(codeOf(decode(mutate((b) => new DataView(b.buffer).setFloat32(kAt + 2, NaN, true))))).toBe('non-finite');
    expect(codeOf(decode(mutate((b) => new DataView(b.buffer).setFloat32(kAt + 6, Infinity, true))))).toBe('non-finite');
    expect(codeOf(decode(mutate((b) => new DataView(b.buffer).setFloat32(kAt + 6, 1e5, true))))).toBe('scale-out-of-range');
    expect(codeOf(decode(mutate((b) => new DataView(b.buffer).setFloat32(kAt + 6, 0, true))))).toBe('scale-out-of-range');
    expect(codeOf(decode(mutate((b) => new DataView(b.buffer).setFloat32(kAt + 10, -Infinity, true))))).toBe('non-finite');
    // Last tensor: 2 codes of 2 bits use 4 bits of the last byte; the high bits must be zero.
    expect(codeOf(decode(mutate((b) => (b[b.length - 1] = b[b.length - 1]! | 0x40))))).toBe('bad-padding');
  });

  it('refuses indices outside the chunk and duplicates inside one', () => {
    const tensors = makeSubmission().tensors.slice();
    const head = tensors[2]!;
    const withIndices = (indices: number[]) => {
      tensors[2] = { ...head, indices: Uint16Array.from(indices) };
      return encodeSubmission(makeSubmission(tensors), compression);
    };
    expect(chunkLayout([4, 6], compression).totalk).toBe(24);
    expect(codeOf(() => decodeSubmission(withIndices([0, 24]), expectation))).toBe('index-out-of-range');
    expect(codeOf(() => decodeSubmission(withIndices([4095, 1]), expectation))).toBe('index-out-of-range');
    expect(codeOf(() => decodeSubmission(withIndices([3, 3]), expectation))).toBe('duplicate-index');
    expect(codeOf(() => decodeSubmission(withIndices([3, 23]), expectation))).toBe('no error');
  });

  it('refuses fields the encoder cannot hold', () => {
    expect(codeOf(() => encodeSubmission({ ...makeSubmission(), hotkey: new Uint8Array(31) }, compression))).toBe('bad-field');
    expect(codeOf(() => encodeSubmission({ ...makeSubmission(), uid: 70_000 }, compression))).toBe('bad-field');
    expect(codeOf(() => encodeSubmission({ ...makeSubmission(), runId: 'x'.repeat(300) }, compression))).toBe('bad-field');
  });

  it('throws only WireFormatErrors for 10,000 random and mutated inputs', () => {
    const good = encodeSubmission(makeSubmission(), compression);
    const rng = new Xoshiro128(2026);
    const counts = new Map<string, number>();
    for (let trial = 0; trial < 10_000; trial++) {
      let input: Uint8Array;
      const kind = trial % 6;
      if (kind === 0) {
        input = Uint8Array.from({ length: rng.nextInt(good.length + 50) }, () => rng.nextInt(256));
      } else if (kind === 1) {
        input = good.slice(0, rng.nextInt(good.length + 1));
      } else if (kind === 2) {
        input = good.slice();
        const flips = 1 + rng.nextInt(4);
        for (let f = 0; f < flips; f++) input[rng.nextInt(input.length)] = rng.nextInt(256);
      } else if (kind === 3) {
        const at = rng.nextInt(good.length);
        input = concat(good.subarray(0, at), Uint8Array.from({ length: 1 + rng.nextInt(8) }, () => rng.nextInt(256)), good.subarray(at));
      } else if (kind === 4) {
        input = concat(good, Uint8Array.from({ length: 1 + rng.nextInt(8) }, () => rng.nextInt(256)));
      } else {
        // Keep the header intact so the mutation reaches the tensor records.
        input = good.slice();
        const at = headerBytes + rng.nextInt(good.length - headerBytes);
        input[at] = input[at]! ^ (1 << rng.nextInt(8));
      }
      const code = codeOf(() => decodeSubmission(input, expectation));
      counts.set(code, (counts.get(code) ?? 0) + 1);
    }
    expect(counts.get('other error')).toBeUndefined();
    // The mutations reach deep checks, not only the magic.
    for (const code of ['truncated', 'bad-magic', 'trailing-bytes', 'layout-mismatch', 'shape-mismatch', 'index-out-of-range'] as const) {
      expect(counts.get(code), code).toBeGreaterThan(0);
    }
  });
});

describe('bounds at the door (issue #14)', () => {
  const withQuant = (t: number, quant: Partial<EncodedTensor['quant']>): Uint8Array => {
    const tensors = makeSubmission().tensors.slice();
    tensors[t] = { ...tensors[t]!, quant: { ...tensors[t]!.quant, ...quant } };
    return encodeSubmission(makeSubmission(tensors), compression);
  };

  it('refuses finite quantisation parameters whose float32 sum overflows', () => {
    // Each part is a finite float32 (3e38 < 3.4028e38), their sum is not: the attack of issue #14.
    expect(Number.isFinite(Math.fround(3e38))).toBe(true);
    const lookup = Float32Array.from([3e38, 0, 0, 0]);
    expect(codeOf(() => decodeSubmission(withQuant(0, { lookup, shift: 3e38 }), expectation))).toBe('value-overflow');
    expect(codeOf(() => decodeSubmission(withQuant(0, { lookup: Float32Array.from([-3e38, 0, 0, 0]), shift: -3e38 }), expectation))).toBe('value-overflow');
  });

  it('refuses a value or a tensor norm beyond the run bounds, and accepts one at the bounds', () => {
    const submission = makeSubmission();
    const bytes = encodeSubmission(submission, compression);
    // The oracle: dequantised values as the aggregation reads them, their largest |v| and largest tensor norm.
    const values = submission.tensors.map((t) => Array.from(t.codes, (q) => Math.fround(t.quant.lookup[q]! + t.quant.shift)));
    // Every bin counts for the value bound (an unused bin still holds lookup + shift).
    const maxValue = Math.max(...submission.tensors.flatMap((t) => Array.from(t.quant.lookup, (l) => Math.abs(Math.fround(l + t.quant.shift)))));
    const maxNorm = Math.max(...values.map((v) => Math.sqrt(v.reduce((a, x) => a + x * x, 0))));
    const decode = (maxSubmissionValue: number, maxTensorNorm: number) => () => decodeSubmission(bytes, { ...expectation, bounds: { maxSubmissionValue, maxTensorNorm } });
    expect(codeOf(decode(maxValue, maxNorm))).toBe('no error');
    expect(codeOf(decode(maxValue * 0.999, maxNorm))).toBe('value-out-of-bounds');
    expect(codeOf(decode(maxValue, maxNorm * 0.999))).toBe('norm-out-of-bounds');
  });

  it('bounds the tiny and small presets far above what honest training sends', () => {
    for (const preset of [tinyRunConfig(), smallRunConfig()]) {
      const { lr, innerSteps } = preset.inner;
      // |e| ≤ H·lr/(1 − β) (the analytic ceiling in run-config.ts): the value bound sits ≥ 10× above it.
      const ceiling = (innerSteps * lr) / (1 - preset.compression.errorFeedbackDecay);
      expect(preset.bounds.maxSubmissionValue).toBeGreaterThanOrEqual(10 * ceiling);
      // Far from float32 overflow even when thousands of bounded values are summed.
      expect(preset.bounds.maxOuterStepNorm * 1e6).toBeLessThan(3.4e38);
    }
  });
});

describe('byte writer and reader', () => {
  it('keeps every field when the writer grows past its initial buffer', () => {
    const writer = new ByteWriter();
    const expected: number[] = [];
    for (let i = 0; i < 700; i++) {
      writer.u8(i % 251);
      writer.u16((i * 7) % 65536);
      writer.u32(i * 100_003);
      writer.f32(i / 8);
      writer.bytes(Uint8Array.of(i & 0xff, 0xa5));
      expected.push(i);
    }
    const bytes = writer.finish();
    expect(bytes.length).toBe(700 * 13);
    const reader = new ByteReader(bytes);
    for (const i of expected) {
      expect([reader.u8('a'), reader.u16('b'), reader.u32('c'), reader.f32('d'), ...reader.bytes(2, 'e')]).toEqual([i % 251, (i * 7) % 65536, i * 100_003, i / 8, i & 0xff, 0xa5]);
    }
    expect(reader.remaining).toBe(0);
  });
});

describe('hashes and the signing message', () => {
  it('hashes names and shapes in the documented serialisation', () => {
    const manual = concat(
      new Uint8Array([2, 0, 0, 0]),
      new Uint8Array([1, 0]), new TextEncoder().encode('a'), new Uint8Array([2, 3, 0, 0, 0, 4, 0, 0, 0]),
      new Uint8Array([2, 0]), new TextEncoder().encode('bc'), new Uint8Array([1, 0, 1, 0, 0]),
    );
    const specs = [{ name: 'a', shape: [3, 4] }, { name: 'bc', shape: [256] }];
    expect(layoutHash(specs)).toEqual(sha256(manual));
    expect(layoutHash([specs[1]!, specs[0]!])).not.toEqual(layoutHash(specs));
    expect(layoutHash([{ name: 'a', shape: [4, 3] }, specs[1]!])).not.toEqual(layoutHash(specs));
  });

  it('content hash is sha256 of the bytes', () => {
    const bytes = encodeSubmission(makeSubmission(), compression);
    expect(contentHash(bytes)).toEqual(sha256(bytes));
  });

  it('signs blake2b-256 of domain, run, run hash, netuid, window, uid and content hash', () => {
    const hash = sha256(new Uint8Array([1, 2, 3]));
    const runConfigHash = sha256(new Uint8Array([7]));
    const context = { runId: 'r1', runConfigHash, netuid: 268, window: 0x01020304, uid: 9, contentHash: hash };
    const tag = new TextEncoder().encode(SUBMISSION_SIGNING_DOMAIN);
    const manual = concat(new Uint8Array([tag.length, 0]), tag, new Uint8Array([2, 0, 0x72, 0x31]), runConfigHash, new Uint8Array([12, 1, 4, 3, 2, 1, 9, 0]), hash);
    expect(signingMessage(context)).toEqual(blake2b(manual, { dkLen: 32 }));
    const variants = [
      { ...context, runId: 'r2' },
      { ...context, runConfigHash: sha256(new Uint8Array([8])) },
      { ...context, netuid: 269 },
      { ...context, window: context.window + 1 },
      { ...context, uid: 10 },
      { ...context, contentHash: sha256(new Uint8Array([1, 2, 4])) },
    ];
    const hex = new Set([context, ...variants].map((c) => Array.from(signingMessage(c)).join(',')));
    expect(hex.size).toBe(7);
    // Without the domain tag the same fields give another message: no cross-protocol replay.
    expect(signingMessage(context)).not.toEqual(blake2b(manual.subarray(2 + tag.length), { dkLen: 32 }));
  });
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
