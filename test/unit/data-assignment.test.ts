import { describe, expect, it } from 'vitest';
import {
  AssignmentError,
  RANDOM_EVAL_UID_MAX,
  RANDOM_EVAL_UID_MIN,
  SampleIdError,
  assignPool,
  batchTokens,
  batchesForPool,
  evalSample,
  evalSampleSeed,
  minerPool,
  randomEvalPool,
  randomEvalUid,
  sampleDigest,
  sequenceCount,
  sequenceSpans,
  sequenceTokens,
  windowSeed,
} from '../../src/core/data/index.ts';
import { Xoshiro128 } from '../../src/core/prng.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';

/** Tokens 0, 1, 2, … (mod 256), so a sequence's tokens reveal its position. */
const ramp = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 256);

describe('sequences over the concatenated stream (gauntlet-spec §4.1)', () => {
  it('counts whole sequences of seqLen + 1 tokens at stride seqLen, by hand', () => {
    // 10 tokens, T = 3: [0..3], [3..6], [6..9]; the tail is empty.
    expect(sequenceCount(10, 3)).toBe(3);
    // 9 tokens: [0..3], [3..6]; tokens 6..8 are 3 < 4 tokens, dropped.
    expect(sequenceCount(9, 3)).toBe(2);
    expect(sequenceCount(4, 3)).toBe(1);
    expect(sequenceCount(3, 3)).toBe(0);
    expect(sequenceCount(0, 3)).toBe(0);
  });

  it('inputs are tokens [s, s+T) and targets [s+1, s+T+1)', () => {
    const tokens = ramp(10);
    const one = sequenceTokens(tokens, 1, 3);
    expect(Array.from(one.inputs)).toEqual([3, 4, 5]);
    expect(Array.from(one.targets)).toEqual([4, 5, 6]);
    const last = sequenceTokens(tokens, 2, 3);
    expect(Array.from(last.inputs)).toEqual([6, 7, 8]);
    expect(Array.from(last.targets)).toEqual([7, 8, 9]);
    expect(one.inputs).toBeInstanceOf(Int32Array);
    expect(() => sequenceTokens(tokens, 3, 3)).toThrow(AssignmentError);
    expect(() => sequenceTokens(tokens, -1, 3)).toThrow(AssignmentError);
  });

  it('batches are row-major [B, T]', () => {
    const batch = batchTokens(ramp(20), [2, 0], 4);
    expect(Array.from(batch.inputs)).toEqual([8, 9, 10, 11, 0, 1, 2, 3]);
    expect(Array.from(batch.targets)).toEqual([9, 10, 11, 12, 1, 2, 3, 4]);
  });

  it('locates sequences in shards, splitting at shard boundaries, by hand', () => {
    // Shards of 4 tokens: [0..3] [4..7] [8..9]; T = 3.
    expect(sequenceSpans(0, 3, 4, 10)).toEqual([{ shard: 0, offset: 0, length: 4 }]);
    expect(sequenceSpans(1, 3, 4, 10)).toEqual([
      { shard: 0, offset: 3, length: 1 },
      { shard: 1, offset: 0, length: 3 },
    ]);
    expect(sequenceSpans(2, 3, 4, 10)).toEqual([
      { shard: 1, offset: 2, length: 2 },
      { shard: 2, offset: 0, length: 2 },
    ]);
    expect(() => sequenceSpans(3, 3, 4, 10)).toThrow(AssignmentError);
  });

  it('spans reassemble exactly the sequence tokens', () => {
    const total = 1000;
    const tokens = ramp(total);
    const shardTokens = 37;
    const shards = Array.from({ length: Math.ceil(total / shardTokens) }, (_, s) => tokens.subarray(s * shardTokens, (s + 1) * shardTokens));
    const seqLen = 16;
    for (let id = 0; id < sequenceCount(total, seqLen); id++) {
      const pieces = sequenceSpans(id, seqLen, shardTokens, total).flatMap((span) => Array.from((shards[span.shard] as Uint8Array).subarray(span.offset, span.offset + span.length)));
      const { inputs, targets } = sequenceTokens(tokens, id, seqLen);
      expect(pieces).toEqual([...Array.from(inputs), targets[seqLen - 1]]);
    }
  });
});

describe('windowSeed (sharded_sampler._window_seed)', () => {
  it('matches hand values and an exact BigInt computation', () => {
    expect(windowSeed(0, 123)).toBe(123);
    expect(windowSeed(1, 0)).toBe(1_000_003);
    // 5000 · 1 000 003 = 5 000 015 000; − 2^32 = 705 047 704 (divisible by 8); XOR 7 = 705 047 711.
    expect(windowSeed(5000, 7)).toBe(705_047_711);
    const exact = (uid: number, window: number): number => Number(((BigInt(uid) * 1_000_003n) ^ BigInt(window)) & 0xffffffffn);
    const rng = new Xoshiro128(99);
    for (let i = 0; i < 500; i++) {
      const uid = rng.nextInt(70_000);
      const window = rng.nextU32() * 4096 + rng.nextInt(4096); // up to 2^44: beyond 32 bits
      expect(windowSeed(uid, window)).toBe(exact(uid, window));
    }
    expect(windowSeed(65_535, 2 ** 40 + 3)).toBe(exact(65_535, 2 ** 40 + 3));
  });

  it('rejects negative or fractional inputs', () => {
    expect(() => windowSeed(-1, 0)).toThrow(AssignmentError);
    expect(() => windowSeed(1, 0.5)).toThrow(AssignmentError);
  });
});

/** Independent implementation of the documented algorithm: a dense Fisher–Yates prefix over [0, n). */
function denseShufflePrefix(seed: number, n: number, k: number): number[] {
  const rng = new Xoshiro128(seed);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.nextInt(n - i);
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a.slice(0, k);
}

/** Pearson chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: readonly number[]): number {
  const expected = counts.reduce((s, c) => s + c, 0) / counts.length;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

describe('assignPool', () => {
  it('equals a dense Fisher–Yates prefix driven by the same generator', () => {
    for (const [seed, n, k] of [[1, 10, 10], [42, 1000, 64], [0xdeadbeef, 5, 3], [7, 100_000, 200]] as const) {
      expect(assignPool(seed, n, k)).toEqual(denseShufflePrefix(seed, n, k));
    }
  });

  it('is deterministic, distinct and in range; different seeds give different pools', () => {
    const a = assignPool(1234, 10_000, 640);
    expect(assignPool(1234, 10_000, 640)).toEqual(a);
    expect(new Set(a).size).toBe(640);
    expect(a.every((id) => Number.isInteger(id) && id >= 0 && id < 10_000)).toBe(true);
    expect(assignPool(1235, 10_000, 640)).not.toEqual(a);
    expect(assignPool(5, 7, 7).slice().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(assignPool(5, 7, 0)).toEqual([]);
  });

  it('is uniform over ids and over first positions (chi-square, real window seeds)', () => {
    const n = 50;
    const hits = new Array<number>(n).fill(0);
    const firsts = new Array<number>(n).fill(0);
    for (let uid = 0; uid < 40; uid++) {
      for (let window = 0; window < 50; window++) {
        const pool = assignPool(windowSeed(uid, window), n, 10);
        for (const id of pool) hits[id] = (hits[id] as number) + 1;
        firsts[pool[0] as number] = (firsts[pool[0] as number] as number) + 1;
      }
    }
    // 49 degrees of freedom: the 0.1 % critical value is 85.35.
    expect(chiSquare(hits)).toBeLessThan(85.35);
    expect(chiSquare(firsts)).toBeLessThan(85.35);
    // And the test has power: a pool that always favours low ids fails it.
    const biased = hits.map((c, i) => (i < 10 ? c + 60 : c));
    expect(chiSquare(biased)).toBeGreaterThan(85.35);
  });

  it('rejects impossible requests with AssignmentError', () => {
    expect(() => assignPool(1, 10, 11)).toThrow(/poolSize \(11\) must be an integer in \[0, 10\]/);
    expect(() => assignPool(1, 0, 0)).toThrow(AssignmentError);
    expect(() => assignPool(-1, 10, 1)).toThrow(AssignmentError);
    expect(() => assignPool(1, 10, 1.5)).toThrow(AssignmentError);
  });
});

describe('miner pool, batches and evaluation samples', () => {
  const cfg = tinyRunConfig();

  it('the miner pool is assignPool at the window seed, clamped to the data', () => {
    expect(minerPool(3, 17, cfg, 5000)).toEqual(assignPool(windowSeed(3, 17), 5000, cfg.data.poolSequences));
    expect(minerPool(3, 17, cfg, 5000)).toHaveLength(64);
    expect(minerPool(3, 18, cfg, 5000)).not.toEqual(minerPool(3, 17, cfg, 5000));
    expect(minerPool(4, 17, cfg, 5000)).not.toEqual(minerPool(3, 17, cfg, 5000));
    expect(minerPool(3, 17, cfg, 20)).toHaveLength(20);
  });

  it('inner step s trains pool[s·B, (s+1)·B)', () => {
    const pool = Array.from({ length: 18 }, (_, i) => 100 + i);
    expect(batchesForPool(pool, 4, 4)).toEqual([
      [100, 101, 102, 103],
      [104, 105, 106, 107],
      [108, 109, 110, 111],
      [112, 113, 114, 115],
    ]);
    expect(() => batchesForPool(pool, 5, 4)).toThrow(/holds 18 sequences but 5 inner steps × 4 need 20/);
  });

  it('evaluation samples are distinct members of the pool, fixed by the seed', () => {
    const pool = minerPool(9, 3, cfg, 5000);
    const sample = evalSample(pool, 8, 77);
    expect(new Set(sample).size).toBe(8);
    expect(sample.every((id) => pool.includes(id))).toBe(true);
    expect(evalSample(pool, 8, 77)).toEqual(sample);
    expect(evalSample(pool, 8, 78)).not.toEqual(sample);
    expect(evalSample(pool, 0, 1)).toEqual([]);
    expect(() => evalSample(pool, 65, 1)).toThrow(AssignmentError);
  });

  it('the own-data sample seed is (uid · 0x9E3779B1 ^ window ^ nonce) mod 2^32, as an exact BigInt computation', () => {
    const exact = (uid: number, window: number, nonce: number): number =>
      Number(((BigInt(uid) * 0x9e3779b1n) ^ BigInt(window) ^ BigInt(nonce)) & 0xffffffffn);
    expect(evalSampleSeed(0, 5, 0)).toBe(5);
    expect(evalSampleSeed(1, 0, 0)).toBe(0x9e3779b1);
    for (const [uid, window, nonce] of [[7, 51_802, 1_763_769_600_123_456], [65_535, 2 ** 35, 2 ** 52 + 1], [3, 3, 3]] as const) {
      expect(evalSampleSeed(uid, window, nonce)).toBe(exact(uid, window, nonce));
    }
  });

  it('the random control set comes from a synthetic uid in [1000, 10 000 000]', () => {
    for (let seed = 0; seed < 200; seed++) {
      const uid = randomEvalUid(seed);
      expect(uid).toBeGreaterThanOrEqual(RANDOM_EVAL_UID_MIN);
      expect(uid).toBeLessThanOrEqual(RANDOM_EVAL_UID_MAX);
    }
    const control = randomEvalPool(31337, 12, cfg, 5000);
    expect(control.uid).toBe(randomEvalUid(31337));
    expect(control.ids).toHaveLength(cfg.scoring.evalSequences);
    const pool = minerPool(control.uid, 12, cfg, 5000);
    expect(control.ids.every((id) => pool.includes(id))).toBe(true);
    expect(randomEvalPool(31338, 12, cfg, 5000).uid).not.toBe(control.uid);
  });
});

// ---------------------------------------------------------------------------------------------
// An independent BLAKE2b (RFC 7693, BigInt words) to check sampleDigest against.
// ---------------------------------------------------------------------------------------------
const MASK = (1n << 64n) - 1n;
const IV = [
  0x6a09e667f3bcc908n, 0xbb67ae8584caa73bn, 0x3c6ef372fe94f82bn, 0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n, 0x9b05688c2b3e6c1fn, 0x1f83d9abfb41bd6bn, 0x5be0cd19137e2179n,
];
const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];
const rotr = (x: bigint, n: bigint): bigint => ((x >> n) | (x << (64n - n))) & MASK;

function blake2bReference(data: Uint8Array, outLen: number): string {
  const h = [...IV];
  h[0] = (h[0] as bigint) ^ 0x01010000n ^ BigInt(outLen);
  const blocks = Math.max(1, Math.ceil(data.length / 128));
  for (let b = 0; b < blocks; b++) {
    const block = new Uint8Array(128);
    block.set(data.subarray(b * 128, (b + 1) * 128));
    const m = Array.from({ length: 16 }, (_, i) => new DataView(block.buffer).getBigUint64(i * 8, true));
    const last = b === blocks - 1;
    const t = BigInt(last ? data.length : (b + 1) * 128);
    const v = [...h, ...IV];
    v[12] = (v[12] as bigint) ^ (t & MASK);
    if (last) v[14] = (v[14] as bigint) ^ MASK;
    const g = (a: number, bb: number, c: number, d: number, x: bigint, y: bigint): void => {
      v[a] = ((v[a] as bigint) + (v[bb] as bigint) + x) & MASK;
      v[d] = rotr((v[d] as bigint) ^ (v[a]), 32n);
      v[c] = ((v[c] as bigint) + (v[d])) & MASK;
      v[bb] = rotr((v[bb] as bigint) ^ (v[c]), 24n);
      v[a] = ((v[a]) + (v[bb]) + y) & MASK;
      v[d] = rotr((v[d]) ^ (v[a]), 16n);
      v[c] = ((v[c]) + (v[d])) & MASK;
      v[bb] = rotr((v[bb]) ^ (v[c]), 63n);
    };
    for (let r = 0; r < 12; r++) {
      const s = SIGMA[r % 10] as number[];
      const w = (i: number): bigint => m[s[i] as number] as bigint;
      g(0, 4, 8, 12, w(0), w(1));
      g(1, 5, 9, 13, w(2), w(3));
      g(2, 6, 10, 14, w(4), w(5));
      g(3, 7, 11, 15, w(6), w(7));
      g(0, 5, 10, 15, w(8), w(9));
      g(1, 6, 11, 12, w(10), w(11));
      g(2, 7, 8, 13, w(12), w(13));
      g(3, 4, 9, 14, w(14), w(15));
    }
    for (let i = 0; i < 8; i++) h[i] = (h[i] as bigint) ^ (v[i] as bigint) ^ (v[i + 8] as bigint);
  }
  const out = new Uint8Array(64);
  h.forEach((word, i) => new DataView(out.buffer).setBigUint64(i * 8, word, true));
  return Array.from(out.subarray(0, outLen), (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Templar's `_training_pool_digest` input: sorted ids as little-endian uint64, built with BigInt. */
function poolBytes(ids: readonly number[]): Uint8Array {
  const sorted = [...ids].sort((a, b) => a - b);
  const out = new Uint8Array(sorted.length * 8);
  sorted.forEach((id, i) => new DataView(out.buffer).setBigUint64(i * 8, BigInt(id), true));
  return out;
}

describe('sampleDigest (Validator._training_pool_digest)', () => {
  it('the reference BLAKE2b reproduces Python hashlib.blake2b(digest_size=16)', () => {
    // Known answers from CPython's hashlib (the implementation Templar calls), not from our code.
    expect(blake2bReference(new Uint8Array(0), 16)).toBe('cae66941d9efbd404e4d88758ea67670');
    expect(blake2bReference(poolBytes([3, 1, 2]), 16)).toBe('abccad42d03c940bc2b249bf5a4e1e3d');
  });

  it('matches hashlib known answers and the reference over sorted little-endian uint64 ids', () => {
    expect(sampleDigest([])).toBe('cae66941d9efbd404e4d88758ea67670');
    expect(sampleDigest([0])).toBe('c804ce198ec337e3dc762bdd1a09aece');
    expect(sampleDigest([3, 1, 2])).toBe('abccad42d03c940bc2b249bf5a4e1e3d');
    expect(sampleDigest([2 ** 40 + 5, 7, 123_456_789])).toBe('a591bbe99f1ad4e7de5303ca20f3081c');
    // 640 ids = 5120 bytes = 40 BLAKE2b blocks: exercises the multi-block path.
    const pool = minerPool(11, 5, { data: { shardTokens: 1, poolSequences: 640 } }, 100_000);
    expect(sampleDigest(pool)).toBe(blake2bReference(poolBytes(pool), 16));
  });

  it('does not depend on order and rejects ids that are not uint64-safe integers', () => {
    expect(sampleDigest([5, 9, 1])).toBe(sampleDigest([1, 5, 9]));
    expect(sampleDigest([1, 5, 9])).not.toBe(sampleDigest([1, 5, 10]));
    expect(() => sampleDigest([1.5])).toThrow(SampleIdError);
    expect(() => sampleDigest([-1])).toThrow(SampleIdError);
  });
});
