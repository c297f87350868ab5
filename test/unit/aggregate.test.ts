import { describe, expect, it } from 'vitest';
import {
  AggregationError,
  clippedPeerUpdate,
  clipToMedian,
  lowerMedian,
  medianNorms,
  outerStep,
  referenceCaps,
  type PeerSubmission,
} from '../../src/core/aggregate.ts';
import { FINITE_ONLY, accumulateErrorFeedback, compressErrorFeedback, encodeTensor, type EncodedTensor } from '../../src/core/compress/index.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { gaussianArray, Xoshiro128 } from '../../src/core/prng.ts';
import { decodeSubmission, encodeSubmission } from '../../src/core/wire/index.ts';

const config: CompressionConfig = {
  codec: 'sparseloco',
  targetChunk: 4,
  topk: 4,
  quantizationBins: 4,
  quantizationRange: 6,
  errorFeedbackDecay: 0.95,
  outerLr: 0.5,
};
// 'w' [2][4]: one 2×4 chunk (totalk 8), k = round(4·8/16) = 2. 'b' [4]: one 1-D chunk, dense k = 4.
const layout = [
  { name: 'w', shape: [2, 4], offset: 0 },
  { name: 'b', shape: [4], offset: 8 },
];

/** A hand-made encoded tensor whose dequantised values are `lookup[codes[i]] + shift`. */
function tensor(name: string, shape: number[], k: number, indices: number[], codes: number[], lookup: number[], shift = 0): EncodedTensor {
  return { name, shape, k, indices: Uint16Array.from(indices), codes: Uint8Array.from(codes), quant: { shift, scale: 1, lookup: Float32Array.from(lookup) } };
}

// Dequantised values: A.w = [−1, 2] at [0, 3]; B.w = [1.5, 1.5] at [3, 6]; C.w = [4, −4] at [1, 0].
// A.b = [1, 2, 3, 4]; B.b = [−2, −2, −2, −2]; C.b = [0.5, 0.5, 0.5, 0.5].
const peerA: PeerSubmission = { uid: 5, tensors: [tensor('w', [2, 4], 2, [0, 3], [0, 3], [-1, 0, 0, 2]), tensor('b', [4], 4, [0, 1, 2, 3], [0, 1, 2, 3], [1, 2, 3, 4])] };
const peerB: PeerSubmission = { uid: 2, tensors: [tensor('w', [2, 4], 2, [3, 6], [3, 3], [0, 0, 0, 1], 0.5), tensor('b', [4], 4, [0, 1, 2, 3], [3, 3, 3, 3], [0, 0, 0, -2])] };
const peerC: PeerSubmission = { uid: 9, tensors: [tensor('w', [2, 4], 2, [1, 0], [1, 2], [0, 4, -4, 0]), tensor('b', [4], 4, [3, 2, 1, 0], [0, 0, 0, 0], [0.5, 0, 0, 0])] };

const initialParams = () => Float32Array.from({ length: 12 }, (_, i) => (i + 1) / 10);

describe('median-norm clipping (gauntlet-spec §6)', () => {
  it('takes the lower middle value like torch.median', () => {
    expect(lowerMedian([3, 1, 2])).toBe(2);
    expect(lowerMedian([4, 1, 3, 2])).toBe(2);
    expect(lowerMedian([])).toBeNaN();
  });

  it('scales a vector above the median norm down to it and leaves smaller ones', () => {
    const clipped = clipToMedian(new Float32Array([3, 4]), 2.5); // norm 5
    expect(clipped[0]).toBeCloseTo(1.5, 6);
    expect(clipped[1]).toBeCloseTo(2, 6);
    expect(Array.from(clipToMedian(new Float32Array([0.3, 0.4]), 2.5))).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it('reports per-tensor median norms and a peer’s clipped dense update', () => {
    const norms = medianNorms([peerA, peerB, peerC]);
    expect(norms[0]).toBeCloseTo(Math.sqrt(5), 12); // norms √5, √4.5, √32
    expect(norms[1]).toBeCloseTo(4, 12); // norms √30, 4, 1
    const update = clippedPeerUpdate(peerC.tensors[0]!, Math.sqrt(5), config);
    const f = Math.sqrt(5) / (Math.sqrt(32) + 1e-8);
    const expected = [-4 * f, 4 * f, 0, 0, 0, 0, 0, 0];
    update.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });
});

describe('outer step, sparseloco (tplr.neurons.outer_step)', () => {
  it('clips to the median norm, averages over contributors only, and steps by α', () => {
    const params = initialParams();
    const result = outerStep(params, layout, [peerC, peerA, peerB], config);
    expect(result.uids).toEqual([2, 5, 9]);
    expect(result.skippedTensors).toEqual([]);

    const clip = (norm: number, med: number) => Math.min(1, med / (norm + 1e-8));
    const [fA, fB, fC] = [clip(Math.sqrt(5), Math.sqrt(5)), clip(Math.sqrt(4.5), Math.sqrt(5)), clip(Math.sqrt(32), Math.sqrt(5))];
    const aggW = [(-1 * fA + -4 * fC) / 2, 4 * fC, 0, (2 * fA + 1.5 * fB) / 2, 0, 0, 1.5 * fB, 0];
    const [gA, gB, gC] = [clip(Math.sqrt(30), 4), clip(4, 4), clip(1, 4)];
    const aggB = [1, 2, 3, 4].map((a) => (a * gA - 2 * gB + 0.5 * gC) / 3);
    const expected = [...aggW, ...aggB].map((g, i) => (i + 1) / 10 - 0.5 * g);
    params.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-6));
  });

  it('gives the same bytes whatever order the submissions arrive in', () => {
    const compression: CompressionConfig = { ...config, targetChunk: 8, topk: 8, outerLr: 1 };
    const flat = [
      { name: 'a', shape: [16, 24], offset: 0 },
      { name: 'n', shape: [24], offset: 384 },
    ];
    const peers: PeerSubmission[] = [3, 11, 4, 17, 8, 1].map((uid) => ({
      uid,
      tensors: flat.map((spec, t) => encodeTensor(spec, gaussianArray(spec.shape.reduce((x, y) => x * y), uid * 10 + t, 0.01 * (1 + (uid % 3))), compression)),
    }));
    const base = gaussianArray(408, 1);
    const reference = base.slice();
    outerStep(reference, flat, peers, compression);
    expect(reference).not.toEqual(base);
    const rng = new Xoshiro128(4);
    for (let trial = 0; trial < 10; trial++) {
      const shuffled = peers.slice();
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = rng.nextInt(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const params = base.slice();
      outerStep(params, flat, shuffled, compression);
      expect(new Uint8Array(params.buffer)).toEqual(new Uint8Array(reference.buffer));
    }
  });

  it('drops only the peer whose values overflow, and steps the others as if it never sent (issue #14)', () => {
    // Peer D's parts are finite float32, but lookup[0] + shift = 3e38 + 3e38 overflows to +Inf.
    const peerD: PeerSubmission = { uid: 12, tensors: [tensor('w', [2, 4], 2, [0, 1], [0, 0], [3e38, 0, 0, 0], 3e38), peerC.tensors[1]!] };
    const params = initialParams();
    const result = outerStep(params, layout, [peerA, peerD], config);
    expect(result.uids).toEqual([5]);
    expect(result.dropped.map((d) => d.uid)).toEqual([12]);
    expect(result.dropped[0]!.reason).toMatch(/value-overflow/);
    expect(result.skippedTensors).toEqual([]);
    const alone = initialParams();
    outerStep(alone, layout, [peerA], config);
    expect(Array.from(params)).toEqual(Array.from(alone));
    expect(params.every(Number.isFinite)).toBe(true);
  });

  it('drops peers beyond the run bounds and refuses a step beyond the per-window bound', () => {
    // Norms of w: A √5, B √4.5, C √32 (5.66); of b: A √30 (5.48), B 4, C 1; |values| ≤ 4. A bound of 5.6 drops C only.
    const bounded = { maxSubmissionValue: 10, maxTensorNorm: 5.6, maxOuterStepNorm: Number.POSITIVE_INFINITY };
    const params = initialParams();
    const result = outerStep(params, layout, [peerA, peerB, peerC], config, bounded);
    expect(result.uids).toEqual([2, 5]);
    expect(result.dropped.map((d) => d.uid)).toEqual([9]);
    expect(result.dropped[0]!.reason).toMatch(/norm-out-of-bounds/);
    const twoPeers = initialParams();
    outerStep(twoPeers, layout, [peerA, peerB], config);
    expect(Array.from(params)).toEqual(Array.from(twoPeers));
    // The step's norm, from the θ it moved: ‖θ_before − θ_after‖ (float64 on the float32 differences).
    const moved = Math.sqrt(Array.from(initialParams()).reduce((acc, v, i) => acc + (v - twoPeers[i]!) ** 2, 0));
    expect(result.updateNorm).toBeCloseTo(moved, 5);
    // A per-window bound below that norm: no peer applies the step, θ is untouched.
    const refusedParams = initialParams();
    const refused = outerStep(refusedParams, layout, [peerA, peerB], config, { ...bounded, maxOuterStepNorm: moved * 0.99 });
    expect(refused.refused).toMatch(/maxOuterStepNorm/);
    expect(Array.from(refusedParams)).toEqual(Array.from(initialParams()));
  });

  it('drops a peer whose tensors do not match the layout instead of failing the step', () => {
    const wrongShape: PeerSubmission = { uid: 3, tensors: [tensor('w', [4, 2], 2, [0, 1], [0, 0], [1, 0, 0, 0]), peerA.tensors[1]!] };
    const wrongCount: PeerSubmission = { uid: 4, tensors: [peerA.tensors[0]!] };
    const outside: PeerSubmission = { uid: 6, tensors: [tensor('w', [2, 4], 2, [0, 8], [0, 0], [1, 0, 0, 0]), peerA.tensors[1]!] };
    const result = outerStep(initialParams(), layout, [wrongShape, wrongCount, outside, peerB], config);
    expect(result.uids).toEqual([2]);
    expect(result.dropped.map((d) => d.uid)).toEqual([3, 4, 6]);
  });

  it('changes nothing without peers and refuses a uid twice', () => {
    const params = initialParams();
    outerStep(params, layout, [], config);
    expect(params).toEqual(initialParams());
    expect(() => outerStep(params, layout, [peerA, { ...peerB, uid: 5 }], config)).toThrow(AggregationError);
  });
});

describe('miner → wire → gather → outer step', () => {
  it('aggregates decoded wire submissions to the same bytes as the in-memory encodings', () => {
    const compression: CompressionConfig = { ...config, targetChunk: 8, topk: 8, outerLr: 1 };
    const flat = [
      { name: 'a', shape: [16, 24], offset: 0 },
      { name: 'n', shape: [24], offset: 384 },
    ];
    const inMemory: PeerSubmission[] = [];
    const gathered: PeerSubmission[] = [];
    for (const uid of [6, 3, 8]) {
      const errorFeedback = new Float32Array(408);
      accumulateErrorFeedback(errorFeedback, gaussianArray(408, uid, 0.01), compression.errorFeedbackDecay);
      const tensors = compressErrorFeedback(errorFeedback, flat, compression);
      const header = { runId: 'r', netuid: 1, window: 4, uid, hotkey: new Uint8Array(32), sampleDigest: new Uint8Array(16), sampleCount: 1 };
      const bytes = encodeSubmission({ ...header, tensors }, compression);
      inMemory.push({ uid, tensors });
      gathered.push(decodeSubmission(bytes, { layout: flat, compression, bounds: FINITE_ONLY, maxBytes: 1 << 16, window: 4, uid }));
    }
    const a = gaussianArray(408, 99);
    const b = a.slice();
    outerStep(a, flat, inMemory, compression);
    outerStep(b, flat, gathered, compression);
    expect(new Uint8Array(b.buffer)).toEqual(new Uint8Array(a.buffer));
    expect(a).not.toEqual(gaussianArray(408, 99));
  });
});

describe('outer step, dct-sign (paper era)', () => {
  it('normalises each chunk, scatter-means, inverts the DCT and steps by α·sign', () => {
    const compression: CompressionConfig = { ...config, codec: 'dct-sign', outerLr: 0.25 };
    const flat = [{ name: 'v', shape: [4], offset: 0 }];
    // P = [3, 0, 4, 0] (norm 5); Q puts 1 at [2, 0, 1, 3] (norm 2).
    const p: PeerSubmission = { uid: 1, tensors: [tensor('v', [4], 4, [0, 1, 2, 3], [0, 1, 2, 1], [3, 0, 4, 0])] };
    const q: PeerSubmission = { uid: 2, tensors: [tensor('v', [4], 4, [2, 0, 1, 3], [0, 0, 0, 0], [1, 0, 0, 0])] };
    const params = new Float32Array([1, 1, 1, 1]);
    outerStep(params, flat, [q, p], compression);
    const [np, nq] = [5 + 1e-8, 2 + 1e-8];
    const dense = [(3 / np + 1 / nq) / 2, (0 + 1 / nq) / 2, (4 / np + 1 / nq) / 2, (0 + 1 / nq) / 2];
    // Inverse orthonormal DCT-II: y[i] = Σ_k c_k cos(π(2i+1)k/8) X[k].
    const y = [0, 1, 2, 3].map((i) => dense.reduce((s, x, k) => s + (k === 0 ? 0.5 : Math.SQRT1_2) * Math.cos((Math.PI * (2 * i + 1) * k) / 8) * x, 0));
    expect(y.some((v) => v < 0) && y.some((v) => v > 0)).toBe(true);
    expect(Array.from(params)).toEqual(y.map((v) => Math.fround(1 - 0.25 * Math.sign(v))));
  });
});

describe('outer step without the run bounds (finiteness only)', () => {
  it('refuses a step whose α·agg overflows float32 instead of writing ±∞ into θ', () => {
    // Three admitted peers at float32 max (finite) on the same coordinates, α = 1.5: α·mean overflows.
    const big = (uid: number): PeerSubmission => ({ uid, tensors: [tensor('w', [2, 4], 2, [0, 1], [0, 0], [3.4e38, 0, 0, 0]), tensor('b', [4], 4, [0, 1, 2, 3], [0, 0, 0, 0], [3.4e38, 0, 0, 0])] });
    const params = initialParams();
    const result = outerStep(params, layout, [big(1), big(2), big(3)], { ...config, outerLr: 1.5 });
    expect(result.uids).toEqual([1, 2, 3]);
    expect(result.refused).not.toBeNull();
    expect(Array.from(params)).toEqual(Array.from(initialParams()));
  });
});

describe('the carried cap on the clip reference (issue #14)', () => {
  it('caps the median by clipGrowth × the peer list reference, and changes nothing while the median stays below', () => {
    // Norms of w: A √5, B √4.5, C √32 → lower median √5 (A); of b: √30, 4, 1 → 4.
    const peers = [peerA, peerB, peerC];
    const uncapped = initialParams();
    const free = outerStep(uncapped, layout, peers, config);
    expect(free.medianNorms[0]).toBeCloseTo(Math.sqrt(5), 12);
    // A reference of 0.5 and growth 2 cap w's reference at 1; b's cap (100) lies above its median.
    const caps = referenceCaps([0.5, 50], { clipGrowth: 2 })!;
    expect(caps).toEqual([1, 100]);
    const capped = initialParams();
    const result = outerStep(capped, layout, peers, config, undefined, caps);
    expect(result.medianNorms[0]).toBe(1);
    expect(result.medianNorms[1]).toBe(free.medianNorms[1]);
    // w: every peer scaled to norm 1 (all three norms exceed it), so the step on w is smaller; b unchanged.
    const movedW = (p: Float32Array): number => Math.hypot(...Array.from(p.subarray(0, 8), (v, i) => v - initialParams()[i]!));
    expect(movedW(capped)).toBeLessThan(movedW(uncapped));
    expect(Array.from(capped.subarray(8))).toEqual(Array.from(uncapped.subarray(8)));
    // A cap above every median gives Templar's step bit for bit.
    const high = initialParams();
    outerStep(high, layout, peers, config, undefined, [1e9, 1e9]);
    expect(Array.from(high)).toEqual(Array.from(uncapped));
    expect(referenceCaps(undefined, { clipGrowth: 2 })).toBeUndefined();
  });
});
