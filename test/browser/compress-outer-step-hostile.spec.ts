import { expect, test, type Page } from '@playwright/test';
import { lowerMedian, outerStep, referenceCaps, type OuterStepBounds, type PeerSubmission } from '../../src/core/aggregate.ts';
import { chunkLayout, encodeTensor, type EncodedTensor, type FlatTensorSpec, type QuantParams } from '../../src/core/compress/index.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { gaussianArray } from '../../src/core/prng.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { parameterLayout } from '../../src/model/params.ts';
import { gpuOuterStep, layoutSize } from './compress-helpers.ts';

/**
 * Issue #14, "must show": the overflow and sybil inputs through the GPU outer step in Chromium
 * (src/gpu/outer-step.ts `GpuOuterStep.apply`, via `window.gauntlet.kernels.outerStep`) give the CPU
 * result (src/core/aggregate.ts `outerStep`) bit for bit: the same admitted and dropped uids, the same
 * refusal, the same θ bits, and θ finite. Each case puts hostile peers beside three honest peers
 * encoded with `encodeTensor` from gaussian vectors, on tiny-preset shapes (attention 64×64, norm 64,
 * MLP 64×256: 20 544 parameters, short under SwiftShader), once with the outer step's default bounds
 * (finiteness only) and once with the tiny run's bounds (`tinyRunConfig().bounds`: value 1, tensor norm 8, step norm 8).
 *
 * What each case expects is derived here from how its inputs were built (which uids are hostile, what
 * their values are), never from the code's output:
 * - a value whose float32 dequantisation fround(lookup[b] + shift) overflows is dropped under any bounds;
 * - finite values beyond the run's bounds (norm 1e30, float32 max) are dropped under the run's bounds
 *   and admitted under finiteness only, where Templar's median clip is all that stands: it tames a lone
 *   hostile peer, and a sybil majority owns the median (θ moves by ~1e29, or by float32 max, but stays
 *   finite and identical on both paths: binary64 sums beyond float32's range included);
 * - sybils exactly at the run's bounds are admitted; whether the step is refused follows from a lower or
 *   upper bound on ‖α·agg‖₂ computed here from their values and indices.
 */
const TINY_SUBSET = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.input_layernorm.weight', 'model.layers.0.mlp.gate_proj.weight'] as const;

function tinyLayout(names: readonly string[]): FlatTensorSpec[] {
  const all = parameterLayout(tinyRunConfig().model);
  let offset = 0;
  return names.map((name) => {
    const spec = all.find((s) => s.name === name);
    if (!spec) throw new Error(`the tiny preset has no tensor ${name}`);
    const out = { name, shape: [...spec.shape], offset };
    offset += spec.shape.reduce((a, b) => a * b, 1);
    return out;
  });
}

const layout = tinyLayout(TINY_SUBSET);
const n = layoutSize(layout);
const run = tinyRunConfig();
/** The tiny run's compression with α = 0.7 (not a float32, so fround(α·agg) double-rounds, as in compress-outer-step.spec.ts). */
const compression: CompressionConfig = { ...run.compression, outerLr: 0.7 };
const RUN_BOUNDS: OuterStepBounds = run.bounds;
const HONEST = [1, 4, 6] as const;
const F32_MAX_ISH = 3.4e38;

/** A gaussian vector with spikes at the same places for every uid, so that top-k choices overlap across peers. */
function peerVector(uid: number, std: number): Float32Array {
  const x = gaussianArray(n, 900 + uid, std);
  for (let i = 0; i < n; i += 97) x[i] = x[i]! + (i % 194 === 0 ? 5 : -5) * std;
  return x;
}

function encodedPeer(uid: number, std = 0.01): PeerSubmission {
  const x = peerVector(uid, std);
  return { uid, tensors: layout.map((s) => encodeTensor(s, x.subarray(s.offset, s.offset + chunkLayout(s.shape, compression).size), compression)) };
}

const honestPeers = (): PeerSubmission[] => HONEST.map((uid) => encodedPeer(uid));

/** The peer's own encoding with each tensor's quantisation (and optionally codes) replaced. */
function withTensors(peer: PeerSubmission, change: (t: EncodedTensor, index: number) => Partial<Pick<EncodedTensor, 'codes' | 'quant'>>): PeerSubmission {
  return { uid: peer.uid, tensors: peer.tensors.map((t, i) => ({ ...t, ...change(t, i) })) };
}

/** float32 dequantised value of every bin, as the decoder and the GPU value tables compute it. */
const binValues = (q: QuantParams): number[] => Array.from(q.lookup, (l) => Math.fround(l + q.shift));

function tensorNorm(t: EncodedTensor): number {
  const v = binValues(t.quant);
  let s = 0;
  for (const c of t.codes) s += v[c]! * v[c]!;
  return Math.sqrt(s);
}

/** Case 1: lookup[0] = 3e38 and shift = 3e38, both finite float32s, whose sum overflows float32; bin 0 is used. */
function overflowPeer(uid: number): PeerSubmission {
  return withTensors(encodedPeer(uid), (t, i) => {
    if (i !== 0) return {};
    const lookup = t.quant.lookup.slice();
    lookup[0] = 3e38;
    return { quant: { ...t.quant, shift: 3e38, lookup }, codes: t.codes.map((c, j) => (j % 4 === 0 ? 0 : c)) };
  });
}

/** Cases 2–3: every tensor's values scaled (shift folded into the lookup) so that its L2 norm is `norm`. */
function scaledPeer(uid: number, norm: number): PeerSubmission {
  return withTensors(encodedPeer(uid), (t) => {
    const s = norm / tensorNorm(t);
    return { quant: { ...t.quant, shift: 0, lookup: Float32Array.from(binValues(t.quant), (v) => v * s) } };
  });
}

/** Case 3: every lookup value 3.4e38 (a finite float32 just below float32 max), shift 0. */
function float32MaxPeer(uid: number): PeerSubmission {
  return withTensors(encodedPeer(uid), (t) => ({ quant: { ...t.quant, shift: 0, lookup: new Float32Array(t.quant.lookup.length).fill(F32_MAX_ISH) } }));
}

/**
 * Case 4: a sybil at the run's bounds: every tensor's entries (bin 0) all equal v = norm/√entries,
 * so ‖values‖₂ = norm exactly (`norm` defaults to maxTensorNorm; v is then ≤ maxSubmissionValue, and
 * equal to it for the 64-entry tensors), the other bins 0. Within a chunk, entry i sits at index
 * (offset + i) mod totalk.
 */
function boundarySybil(uid: number, offset: (spec: FlatTensorSpec) => number, norm: (spec: FlatTensorSpec) => number = () => RUN_BOUNDS.maxTensorNorm): PeerSubmission {
  return {
    uid,
    tensors: layout.map((spec) => {
      const chunks = chunkLayout(spec.shape, compression);
      const entries = chunks.chunkCount * chunks.k;
      const v = norm(spec) / Math.sqrt(entries);
      const lookup = new Float32Array(compression.quantizationBins);
      lookup[0] = v;
      const at = offset(spec);
      return {
        name: spec.name,
        shape: [...spec.shape],
        k: chunks.k,
        indices: Uint16Array.from({ length: entries }, (_, i) => (at + (i % chunks.k)) % chunks.totalk),
        codes: new Uint8Array(entries),
        quant: { shift: 0, scale: 1, lookup },
      };
    }),
  };
}

/** Per tensor, for each chunked coordinate, the uids that chose it. */
function choosers(peers: readonly PeerSubmission[]): Map<number, number[]>[] {
  return layout.map((spec, t) => {
    const chunks = chunkLayout(spec.shape, compression);
    const at = new Map<number, number[]>();
    for (const p of peers) {
      p.tensors[t]!.indices.forEach((j, i) => {
        const c = Math.floor(i / chunks.k) * chunks.totalk + j;
        at.set(c, [...(at.get(c) ?? []), p.uid]);
      });
    }
    return at;
  });
}

/** Value of every entry of a peer's tensor t, keyed by chunked coordinate. */
function valuesAt(peer: PeerSubmission, t: number): Map<number, number> {
  const tensor = peer.tensors[t]!;
  const chunks = chunkLayout(layout[t]!.shape, compression);
  const v = binValues(tensor.quant);
  const out = new Map<number, number>();
  tensor.indices.forEach((j, i) => out.set(Math.floor(i / chunks.k) * chunks.totalk + j, v[tensor.codes[i]!]!));
  return out;
}

/**
 * Upper bound on ‖α·agg‖₂ from the inputs alone: clipping only shrinks a value and a mean lies within
 * its values, so |agg_c| ≤ max over the peers that chose c of |value|.
 */
function stepNormUpperBound(peers: readonly PeerSubmission[]): number {
  let s = 0;
  layout.forEach((_, t) => {
    const best = new Map<number, number>();
    for (const p of peers) for (const [c, v] of valuesAt(p, t)) best.set(c, Math.max(best.get(c) ?? 0, Math.abs(v)));
    for (const v of best.values()) s += v * v;
  });
  return compression.outerLr * Math.sqrt(s) * (1 + 1e-6);
}

/**
 * Lower bound on ‖α·agg‖₂ when the sybils hold the median (so their clip factor is 8/(8 + 1e-8)):
 * a coordinate only sybils chose, all with value v, has agg = v up to rounding.
 */
function sybilOnlyStepNormLowerBound(peers: readonly PeerSubmission[], sybils: readonly number[]): number {
  const who = choosers(peers);
  let s = 0;
  layout.forEach((_, t) => {
    const values = new Map(sybils.map((uid) => [uid, valuesAt(peers.find((p) => p.uid === uid)!, t)]));
    for (const [c, uids] of who[t]!) {
      if (uids.every((u) => sybils.includes(u))) s += Math.min(...uids.map((u) => Math.abs(values.get(u)!.get(c)!))) ** 2;
    }
  });
  return compression.outerLr * Math.sqrt(s) * 0.999;
}

async function openPage(page: Page): Promise<void> {
  await page.goto('/');
  const capability = await page.evaluate(() => window.gauntlet!.capability);
  expect(capability.available, `WebGPU unavailable: ${capability.reason}`).toBe(true);
}

const bitsOf = (x: Float32Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, x.length);

function firstDifference(a: Float32Array, b: Float32Array): string {
  const ab = bitsOf(a);
  const bb = bitsOf(b);
  let count = 0;
  let first = -1;
  for (let i = 0; i < ab.length; i++) {
    if (ab[i] !== bb[i]) {
      count++;
      if (first < 0) first = i;
    }
  }
  return count === 0 ? 'none' : `${count} of ${ab.length} differ; first at ${first}: ${a[first]} vs ${b[first]}`;
}

interface Expected {
  /** The hostile uids the step must leave out. */
  readonly dropped: readonly number[];
  /** Whether the whole step must be refused (θ unchanged). */
  readonly refused: boolean;
}

/**
 * The same θ and peers through the CPU and the GPU outer step under `bounds` (undefined: the default,
 * finiteness only, on both). Asserts the expectations and CPU = GPU; returns θ after the step.
 */
async function bothSteps(page: Page, label: string, theta: Float32Array, peers: readonly PeerSubmission[], bounds: OuterStepBounds | undefined, expected: Expected, caps?: readonly number[]): Promise<Float32Array> {
  const cpu = theta.slice();
  const reference = outerStep(cpu, layout, peers, compression, bounds, caps);
  const gpu = await gpuOuterStep(page, layout, compression, theta, peers, bounds, caps);
  const all = peers.map((p) => p.uid).sort((a, b) => a - b);
  const admitted = all.filter((u) => !expected.dropped.includes(u));

  expect(gpu.liveBuffers, label).toBe(0);
  // Expectations from the inputs, on the CPU reference and on the GPU.
  expect(reference.dropped.map((d) => d.uid), `${label}: CPU dropped (${reference.dropped.map((d) => d.reason).join('; ')})`).toEqual([...expected.dropped].sort((a, b) => a - b));
  expect([...reference.uids], `${label}: CPU uids`).toEqual(admitted);
  expect(reference.refused !== null, `${label}: CPU refused (${reference.refused})`).toBe(expected.refused);
  expect(reference.skippedTensors, `${label}: CPU skipped tensors`).toEqual([]);
  // GPU = CPU.
  expect(gpu.uids, `${label}: GPU uids`).toEqual([...reference.uids]);
  expect(gpu.dropped, `${label}: GPU dropped`).toEqual(reference.dropped.map((d) => ({ uid: d.uid, reason: d.reason })));
  expect(gpu.refused, `${label}: GPU refused`).toBe(reference.refused);
  expect(gpu.updateNorm, `${label}: GPU update norm`).toBe(reference.updateNorm);
  expect(gpu.medianNorms, `${label}: GPU clip references`).toEqual([...reference.medianNorms]);
  expect(firstDifference(gpu.params, cpu), `${label}: GPU θ bits against the CPU's`).toBe('none');
  expect(cpu.every(Number.isFinite), `${label}: θ finite`).toBe(true);
  if (expected.refused) expect(firstDifference(cpu, theta), `${label}: a refused step leaves θ`).toBe('none');
  else expect(firstDifference(cpu, theta), `${label}: the step moved θ`).not.toBe('none');
  console.log(`${label}: uids [${reference.uids.join(', ')}], dropped [${reference.dropped.map((d) => d.uid).join(', ')}], ‖α·agg‖ ${reference.updateNorm.toExponential(3)}, refused ${reference.refused !== null}`);
  return cpu;
}

const maxMove = (after: Float32Array, before: Float32Array): number => after.reduce((m, v, i) => Math.max(m, Math.abs(v - before[i]!)), 0);

test('overflow submission: fround(3e38 + 3e38) = ∞ drops that peer alone; GPU θ = CPU θ, finite', async ({ page }) => {
  await openPage(page);
  const theta = gaussianArray(n, 71, 0.02);
  const hostile = overflowPeer(2);
  const q = hostile.tensors[0]!.quant;
  expect(Number.isFinite(q.lookup[0]!) && Number.isFinite(q.shift)).toBe(true);
  expect(Math.fround(q.lookup[0]! + q.shift)).toBe(Number.POSITIVE_INFINITY);
  expect(hostile.tensors[0]!.codes.includes(0)).toBe(true);
  const peers = [...honestPeers(), hostile];
  expect(stepNormUpperBound(peers.filter((p) => p.uid !== 2))).toBeLessThan(RUN_BOUNDS.maxOuterStepNorm);

  const open = await bothSteps(page, 'overflow, finite only', theta, peers, undefined, { dropped: [2], refused: false });
  const bounded = await bothSteps(page, 'overflow, run bounds', theta, peers, RUN_BOUNDS, { dropped: [2], refused: false });
  // The honest step is the same whichever bounds: nothing else was dropped and nothing clipped by the cap.
  expect(firstDifference(open, bounded)).toBe('none');
});

test('one peer at norm 1e30 and one at float32 max: dropped under the run bounds, median-clipped under finiteness only; GPU = CPU', async ({ page }) => {
  await openPage(page);
  const theta = gaussianArray(n, 72, 0.02);
  for (const [name, hostile] of [
    ['norm 1e30', scaledPeer(2, 1e30)],
    ['float32 max', float32MaxPeer(2)],
  ] as const) {
    for (const t of hostile.tensors) {
      expect(binValues(t.quant).every(Number.isFinite)).toBe(true);
      if (name === 'norm 1e30') expect(Math.abs(tensorNorm(t) / 1e30 - 1)).toBeLessThan(1e-6);
    }
    const peers = [...honestPeers(), hostile];
    expect(stepNormUpperBound(peers.filter((p) => p.uid !== 2))).toBeLessThan(RUN_BOUNDS.maxOuterStepNorm);
    // Finite values pass finiteness; one hostile peer of four is below the lower median, so clipped to an honest norm.
    const open = await bothSteps(page, `one peer at ${name}, finite only`, theta, peers, undefined, { dropped: [], refused: false });
    expect(maxMove(open, theta)).toBeLessThan(1);
    const bounded = await bothSteps(page, `one peer at ${name}, run bounds`, theta, peers, RUN_BOUNDS, { dropped: [2], refused: false });
    expect(maxMove(bounded, theta)).toBeLessThan(1);
  }
});

test('a sybil majority (5 against 3) at norm 1e30 or at float32 max: dropped under the run bounds; GPU = CPU, θ finite', async ({ page }) => {
  await openPage(page);
  const theta = gaussianArray(n, 73, 0.02);
  const sybils = [2, 3, 5, 7, 8];
  for (const [name, make] of [
    ['norm 1e30', (uid: number) => scaledPeer(uid, 1e30)],
    ['float32 max', float32MaxPeer],
  ] as const) {
    const peers = [...honestPeers(), ...sybils.map(make)];
    // The sybils' top-k choices overlap (shared spikes): some coordinates sum several of their values,
    // beyond float32's range for float32 max (the GPU's binary64 accumulator must hold 5 × 3.4e38).
    const overlap = choosers(peers).reduce((s, m) => s + [...m.values()].filter((u) => u.filter((x) => sybils.includes(x)).length >= 2).length, 0);
    expect(overlap).toBeGreaterThan(100);
    expect(stepNormUpperBound(honestPeers())).toBeLessThan(RUN_BOUNDS.maxOuterStepNorm);
    // Finiteness only: admitted, and the sybils own the lower median (index 3 of 8 norms), so θ moves by their scale.
    const open = await bothSteps(page, `5 sybils at ${name}, finite only`, theta, peers, undefined, { dropped: [], refused: false });
    expect(maxMove(open, theta)).toBeGreaterThan(1e20);
    const bounded = await bothSteps(page, `5 sybils at ${name}, run bounds`, theta, peers, RUN_BOUNDS, { dropped: sybils, refused: false });
    expect(maxMove(bounded, theta)).toBeLessThan(1);
  }
});

test('sybils exactly at the run bounds are admitted: refused beyond maxOuterStepNorm (θ unchanged), applied inside it; GPU = CPU', async ({ page }) => {
  await openPage(page);
  const theta = gaussianArray(n, 74, 0.02);
  const sybils = [2, 3, 5, 7, 8];
  const honest = honestPeers();

  // Disjoint choices: each sybil's k entries per chunk at its own offset, so their values do not average away.
  const spread = sybils.map((uid, s) => boundarySybil(uid, (spec) => (s + 1) * chunkLayout(spec.shape, compression).k));
  for (const p of spread) {
    for (const [t, tensor] of p.tensors.entries()) {
      expect(tensorNorm(tensor), layout[t]!.name).toBe(RUN_BOUNDS.maxTensorNorm);
      expect(Math.max(...binValues(tensor.quant).map(Math.abs))).toBeLessThanOrEqual(RUN_BOUNDS.maxSubmissionValue);
    }
  }
  const beyond = [...honest, ...spread];
  expect(sybilOnlyStepNormLowerBound(beyond, sybils)).toBeGreaterThan(RUN_BOUNDS.maxOuterStepNorm);
  await bothSteps(page, 'boundary sybils, step beyond the bound', theta, beyond, RUN_BOUNDS, { dropped: [], refused: true });

  // Identical choices, so the five sybils' values average to one value per coordinate: q_proj exactly at
  // both bounds (values 1, norm 8), the other tensors at norm 1; the step stays inside the bound.
  const stacked = sybils.map((uid) => boundarySybil(uid, () => 1000, (spec) => (spec.name === TINY_SUBSET[0] ? RUN_BOUNDS.maxTensorNorm : 1)));
  const q = stacked[0]!.tensors[0]!;
  expect(tensorNorm(q)).toBe(RUN_BOUNDS.maxTensorNorm);
  expect(Math.max(...binValues(q.quant))).toBe(RUN_BOUNDS.maxSubmissionValue);
  const inside = [...honest, ...stacked];
  expect(stepNormUpperBound(inside)).toBeLessThan(RUN_BOUNDS.maxOuterStepNorm);
  const after = await bothSteps(page, 'boundary sybils, step inside the bound', theta, inside, RUN_BOUNDS, { dropped: [], refused: false });
  // The sybils did move θ: at their q_proj coordinates by about α·1.
  expect(maxMove(after, theta)).toBeGreaterThan(0.5);
});

test('a peer list\'s carried cap clips boundary sybils to a multiple of the honest median: the step that was refused is applied; GPU = CPU', async ({ page }) => {
  await openPage(page);
  const theta = gaussianArray(n, 75, 0.02);
  const sybils = [2, 3, 5, 7, 8];
  const honest = honestPeers();
  const spread = sybils.map((uid, s) => boundarySybil(uid, (spec) => (s + 1) * chunkLayout(spec.shape, compression).k));
  const peers = [...honest, ...spread];
  // The cap a peer list would carry: clipGrowth × the lower median of the honest (positively scored) peers'
  // norms. These gaussian peers are far larger than trained ones, so a growth of 2 keeps the step inside the bound.
  const honestMedian = layout.map((_, t) => lowerMedian(honest.map((p) => tensorNorm(p.tensors[t]!))));
  const caps = referenceCaps(honestMedian, { clipGrowth: 2 })!;
  for (const [t, cap] of caps.entries()) expect(cap, layout[t]!.name).toBeLessThan(RUN_BOUNDS.maxTensorNorm);
  // Without the cap the five sybils set the median (8, the bound) and the step is refused; with it each is clipped to the cap.
  await bothSteps(page, 'boundary sybils, no carried cap', theta, peers, RUN_BOUNDS, { dropped: [], refused: true });
  const cpu = theta.slice();
  const capped = outerStep(cpu, layout, peers, compression, RUN_BOUNDS, caps);
  expect(capped.medianNorms).toEqual(caps);
  await bothSteps(page, 'boundary sybils under the carried cap', theta, peers, RUN_BOUNDS, { dropped: [], refused: false }, caps);
});
