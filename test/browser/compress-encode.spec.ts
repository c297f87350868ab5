import { expect, test } from '@playwright/test';
import { FINITE_ONLY, chunkLayout, compressErrorFeedback, decodeTensor, accumulateErrorFeedback, pseudoGradient, type EncodedTensor } from '../../src/core/compress/index.ts';
import { decodeSubmission, encodeSubmission } from '../../src/core/wire/index.ts';
import { gaussianArray } from '../../src/core/prng.ts';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { gpuCompress, layoutSize, smallPresetLayout, SMALL_PRESET_SUBSET } from './compress-helpers.ts';

/**
 * GPU compression (src/gpu/compress.ts and its kernels) against the CPU reference (src/core/compress)
 * on random θ0, θH and error feedback, on the small preset's shapes: the five tensors of
 * SMALL_PRESET_SUBSET cover every distinct shape of that preset (256×320, 320, 320×320, 320×896,
 * 896×320); the other 33 repeat them.
 */
const compression = smallRunConfig().compression;
const layout = smallPresetLayout();
const n = layoutSize(layout);

/** Distance of c/scale + bins/2 from the nearest bin edge (a half-integer), relative to its size. */
function binEdgeDistance(value: number, tensor: EncodedTensor, bins: number): number {
  const x = (value - tensor.quant.shift) / tensor.quant.scale + bins / 2;
  const edge = Math.floor(x) + 0.5;
  return Math.abs(x - edge) / Math.max(1, Math.abs(x));
}

test('GPU encode matches the CPU reference on the small preset shapes, and its wire bytes decode on the CPU', async ({ page }) => {
  await page.goto('/');
  const capability = await page.evaluate(() => window.gauntlet!.capability);
  expect(capability.available, `WebGPU unavailable: ${capability.reason}`).toBe(true);

  const theta0 = gaussianArray(n, 101, 0.05);
  const theta = theta0.map((x, i) => x - 0.001 * gaussianArray(1, 1000 + (i % 97))[0]! - 1e-4 * Math.sin(i));
  const ef0 = gaussianArray(n, 103, 0.002);
  // Exact ties: a block of equal magnitudes (both signs) in the first chunk of q_proj, so the
  // "larger |x|, then lower index" rule decides the selection.
  const qOffset = layout[2]!.offset;
  for (let r = 0; r < 8; r++) for (let c = 0; c < 20; c++) theta[qOffset + r * 320 + c] = theta0[qOffset + r * 320 + c]! + ((r + c) % 2 ? 0.5 : -0.5);

  const gpu = await gpuCompress(page, layout, compression, theta0, theta, ef0);

  const efCpu = ef0.slice();
  accumulateErrorFeedback(efCpu, pseudoGradient(theta0, theta), compression.errorFeedbackDecay);
  const cpu = compressErrorFeedback(efCpu, layout, compression);
  // compressErrorFeedback subtracted in place; recompute the pre-subtraction buffer for edge distances.
  const efBefore = ef0.slice();
  accumulateErrorFeedback(efBefore, pseudoGradient(theta0, theta), compression.errorFeedbackDecay);

  expect(gpu.liveBuffers).toBe(0);
  expect(gpu.tensors.map((t) => t.name)).toEqual([...SMALL_PRESET_SUBSET]);
  let edgeCodes = 0;
  let totalCodes = 0;
  layout.forEach((spec, t) => {
    const g = gpu.tensors[t]!;
    const c = cpu[t]!;
    const chunks = chunkLayout(spec.shape, compression);
    expect(g.k, spec.name).toBe(c.k);
    expect(Array.from(g.indices), `${spec.name} indices`).toEqual(Array.from(c.indices));
    expect(g.quant.shift, `${spec.name} shift`).toBe(c.quant.shift);
    expect(Math.abs(g.quant.scale - c.quant.scale) / c.quant.scale, `${spec.name} scale`).toBeLessThan(1e-6);
    // Codes: identical except where the value sits within 1e-6 (relative) of a bin edge.
    const flipped = new Set<number>();
    for (let i = 0; i < c.codes.length; i++) {
      totalCodes++;
      if (g.codes[i] === c.codes[i]) continue;
      const chunk = Math.floor(i / c.k);
      const j = c.indices[i]!;
      const r = Math.floor(j / chunks.w);
      const col = j % chunks.w;
      const cy = Math.floor(chunk / chunks.chunkCols);
      const cx = chunk % chunks.chunkCols;
      const value = efBefore[spec.offset + (cy * chunks.h + r) * chunks.cols + cx * chunks.w + col]!;
      expect(binEdgeDistance(value, c, compression.quantizationBins), `${spec.name} code ${i} differs away from a bin edge`).toBeLessThan(1e-6);
      flipped.add(i);
      edgeCodes++;
    }
    if (flipped.size === 0) expect(Array.from(g.quant.lookup), `${spec.name} lookup`).toEqual(Array.from(c.quant.lookup));
    // Decoded tensors agree within 1e-6 wherever no code flipped at an edge.
    const dg = decodeTensor(g, compression);
    const dc = decodeTensor(c, compression);
    const scaleOf = dc.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    let worst = 0;
    for (let i = 0; i < dg.length; i++) worst = Math.max(worst, Math.abs(dg[i]! - dc[i]!));
    if (flipped.size === 0) expect(worst / scaleOf, `${spec.name} decoded`).toBeLessThan(1e-6);
  });
  console.log(`codes compared: ${totalCodes}; differing at a bin edge (within 1e-6 relative): ${edgeCodes}`);
  test.info().annotations.push({ type: 'bin-edge codes', description: `${edgeCodes} of ${totalCodes}` });

  // Error feedback after e ← βe + Δ − decode(sent): the CPU's bits wherever codes agreed.
  const efGpu = new Uint32Array(gpu.errorFeedback.buffer);
  const efRef = new Uint32Array(efCpu.buffer);
  let efDiffer = 0;
  for (let i = 0; i < n; i++) if (efGpu[i] !== efRef[i]) efDiffer++;
  if (edgeCodes === 0) expect(efDiffer).toBe(0);
  expect(gpu.errorFeedback.some((x, i) => x !== ef0[i])).toBe(true);

  // GPU encode → wire bytes → CPU decode.
  const header = { runId: 'gpu-encode', netuid: 3, window: 7, uid: 5, hotkey: new Uint8Array(32).fill(1), sampleDigest: new Uint8Array(16).fill(2), sampleCount: 4 };
  const bytes = encodeSubmission({ ...header, tensors: gpu.tensors }, compression);
  const decoded = decodeSubmission(bytes, { layout, compression, bounds: FINITE_ONLY, maxBytes: 1 << 24 });
  decoded.tensors.forEach((t, i) => {
    expect(Array.from(t.indices)).toEqual(Array.from(cpu[i]!.indices));
    const fromWire = decodeTensor(t, compression);
    const fromGpu = decodeTensor(gpu.tensors[i]!, compression);
    expect(Array.from(fromWire)).toEqual(Array.from(fromGpu));
  });
});

test('a non-finite error feedback is refused with a typed error', async ({ page }) => {
  await page.goto('/');
  const tiny = [{ name: 'w', shape: [8, 8], offset: 0 }];
  const ef = Array.from({ length: 64 }, (_, i) => (i === 5 ? NaN : 0.01 * i));
  const message = await page.evaluate(
    async (a) => {
      try {
        await window.gauntlet!.kernels!.compress({ layout: a.layout, compression: a.compression, theta0: new Float32Array(64), theta: new Float32Array(64), errorFeedback: new Float32Array(a.ef) });
        return 'no error';
      } catch (error) {
        return String(error);
      }
    },
    { layout: tiny, compression, ef },
  );
  expect(message).toContain('NaN or ±Infinity');
});
