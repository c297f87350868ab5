import { expect, test } from '@playwright/test';
import { adamwStepReference, adamwStepScalars, type AdamWHyperparameters } from '../../src/core/adamw.ts';
import { gaussianArray } from '../../src/core/prng.ts';

/**
 * The first vertical slice: page → comlink → module Worker → WebGPU → shaders/adamw.wgsl → transferables
 * back, compared in Node with the CPU reference on the same random inputs.
 */
test('adamw.wgsl in the kernels worker matches the CPU reference', async ({ page }) => {
  await page.goto('/');
  const capability = await page.evaluate(() => window.gauntlet!.capability);
  expect(capability.available, `WebGPU unavailable: ${capability.reason}`).toBe(true);
  await expect(page.locator('#gpu-summary')).toContainText('WebGPU works');

  const n = 5000; // not a multiple of the workgroup size, to cover the tail
  const hyper: AdamWHyperparameters = { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
  const clipScale = 0.6;
  const initialParam = gaussianArray(n, 11, 0.2);
  const param = initialParam.slice();
  const expAvg = gaussianArray(n, 12, 0.01);
  const expAvgSq = gaussianArray(n, 13, 0.01).map(Math.abs);
  const grads = Array.from({ length: 4 }, (_, s) => gaussianArray(n, 20 + s, 0.05));

  const gpu = await page.evaluate(
    async (args) => {
      const f32 = (a: number[]) => new Float32Array(a);
      const out = await window.gauntlet!.kernels!.adamw({
        param: f32(args.param),
        expAvg: f32(args.expAvg),
        expAvgSq: f32(args.expAvgSq),
        grads: args.grads.map(f32),
        hyper: args.hyper,
        firstStep: 3,
        clipScale: args.clipScale,
      });
      return {
        param: Array.from(out.param),
        expAvg: Array.from(out.expAvg),
        expAvgSq: Array.from(out.expAvgSq),
        liveBuffers: out.liveBuffers,
        transferred: out.param instanceof Float32Array,
      };
    },
    { param: Array.from(param), expAvg: Array.from(expAvg), expAvgSq: Array.from(expAvgSq), grads: grads.map((g) => Array.from(g)), hyper, clipScale },
  );

  grads.forEach((g, i) => adamwStepReference(param, g, expAvg, expAvgSq, adamwStepScalars(hyper, 3 + i), clipScale));
  const maxRelError = (a: number[], b: Float32Array) =>
    a.reduce((worst, x, i) => Math.max(worst, Math.abs(x - b[i]!) / Math.max(1e-6, Math.abs(b[i]!))), 0);
  expect(gpu.transferred).toBe(true);
  expect(gpu.liveBuffers).toBe(0);
  expect(maxRelError(gpu.param, param)).toBeLessThan(1e-5);
  expect(maxRelError(gpu.expAvg, expAvg)).toBeLessThan(1e-5);
  expect(maxRelError(gpu.expAvgSq, expAvgSq)).toBeLessThan(1e-5);
  // The update must actually move the parameters (a kernel that does nothing must fail this test).
  expect(gpu.param.some((x, i) => x !== initialParam[i])).toBe(true);
});

test('the page says so in plain words when WebGPU is missing', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });
  });
  await page.goto('/');
  await expect(page.locator('#gpu-summary')).toContainText('WebGPU is not available here');
});
