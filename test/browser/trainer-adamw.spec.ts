import { expect, test } from '@playwright/test';
import * as ort from 'onnxruntime-web';
import { clipScaleForNorm } from '../../src/core/adamw.ts';
import { globalGradNorm } from '../../src/core/grad-norm.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import { microRunConfig, randomBatches } from './engine-helpers.ts';

/**
 * The GPU-resident inner loop (θ, moments and gradients in our GPUBuffers; clipping and AdamW in
 * WGSL) against the CPU path (wasm EP gradients, src/core/adamw.ts, src/core/grad-norm.ts) run here
 * in Node on the same batches; and the live GPU-buffer count over 20 simulated windows.
 */
const toBatch = (b: { inputs: number[]; targets: number[] }) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) });

test('20 GPU-resident AdamW steps equal the CPU reference path', async ({ page }) => {
  await page.goto('/');
  const config = microRunConfig();
  const batches = randomBatches(config, 20, 21);
  const gpu = await page.evaluate(
    async ({ config, batches }) => {
      const trainer = window.gauntlet!.trainer!;
      await trainer.init(config, undefined, { backend: 'webgpu' });
      const result = await trainer.trainInner(
        batches.map((b) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) })),
        20,
      );
      const theta = await trainer.exportParams();
      await trainer.dispose();
      return { losses: result.losses, theta: Array.from(theta) };
    },
    { config, batches },
  );

  ort.env.wasm.numThreads = 1;
  const cpu = new WasmTrainerEngine(ort);
  const theta0 = (await cpu.init(config), await cpu.exportParams());
  const cpuResult = await cpu.trainInner(batches.map(toBatch), 20);
  const cpuTheta = await cpu.exportParams();
  await cpu.dispose();

  // The loss curves agree step by step, and the run really trains (hand bound: it must fall).
  gpu.losses.forEach((loss, i) => expect(Math.abs(loss - cpuResult.losses[i]!) / cpuResult.losses[i]!, `step ${i}`).toBeLessThan(1e-5));
  expect(cpuResult.losses[19]!).toBeLessThan(cpuResult.losses[0]! - 0.1);
  let diff2 = 0;
  let norm2 = 0;
  let moved2 = 0;
  cpuTheta.forEach((x, i) => {
    diff2 += (gpu.theta[i]! - x) ** 2;
    norm2 += x ** 2;
    moved2 += (x - theta0[i]!) ** 2;
  });
  const relative = Math.sqrt(diff2 / norm2);
  test.info().annotations.push({ type: 'final-params-relative-diff', description: relative.toExponential(2) });
  expect(Math.sqrt(moved2 / norm2)).toBeGreaterThan(1e-2);
  expect(relative).toBeLessThan(1e-5);
});

test('live GPU buffers stay flat over 20 simulated windows', async ({ page }) => {
  await page.goto('/');
  const config = microRunConfig();
  const batches = randomBatches(config, 2, 31);
  const counts = await page.evaluate(
    async ({ config, batches }) => {
      const trainer = window.gauntlet!.trainer!;
      await trainer.init(config, undefined, { backend: 'webgpu' });
      const typed = batches.map((b) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) }));
      const live: number[] = [await trainer.liveBuffers()];
      for (let window = 0; window < 20; window++) {
        await trainer.trainInner(typed, 1);
        const delta = await trainer.pseudoGradient();
        await trainer.evalLoss(typed.slice(0, 1), delta.map((x) => 0.2 * x));
        await trainer.applyOuter(delta.map((x) => 0.5 * x));
        live.push(await trainer.liveBuffers());
      }
      await trainer.dispose();
      live.push(await trainer.liveBuffers());
      return live;
    },
    { config, batches },
  );
  expect(counts[0]).toBeGreaterThan(0);
  expect(new Set(counts.slice(0, 21))).toEqual(new Set([counts[0]]));
  expect(counts[21]).toBe(0);
});

test('grad-norm.wgsl: global norm and clip factor equal the CPU twins', async ({ page }) => {
  await page.goto('/');
  // Clip at 0.5 so the factor is below 1 and the clipping path is exercised.
  const base = microRunConfig();
  const config = { ...base, inner: { ...base.inner, gradClipNorm: 0.5 } };
  const [batch] = randomBatches(config, 1, 51);
  const out = await page.evaluate(
    async ({ config, batch }) => {
      const trainer = window.gauntlet!.trainer!;
      await trainer.init(config, undefined, { backend: 'webgpu' });
      const typed = { inputs: Int32Array.from(batch.inputs), targets: Int32Array.from(batch.targets) };
      // The same θ and batch give the same gradients that the inner step then clips on the GPU.
      const { grads } = await trainer.lossAndGradients(typed);
      await trainer.trainInner([typed], 1);
      const clip = await trainer.lastClip();
      await trainer.dispose();
      return { grads: Array.from(grads), clip };
    },
    { config, batch: batch! },
  );
  const norm = globalGradNorm([Float32Array.from(out.grads)]);
  expect(norm).toBeGreaterThan(0.5);
  expect(Math.abs(out.clip!.norm - norm) / norm).toBeLessThan(1e-5);
  expect(Math.abs(out.clip!.scale - clipScaleForNorm(norm, 0.5))).toBeLessThan(1e-6);
});

test('WebGPU window lifecycle: Δ = θ0 − θ_H, θ restored, trial and outer updates apply θ − update', async ({ page }) => {
  await page.goto('/');
  const config = microRunConfig();
  const batches = randomBatches(config, 2, 61);
  const out = await page.evaluate(
    async ({ config, batches }) => {
      const trainer = window.gauntlet!.trainer!;
      await trainer.init(config, undefined, { backend: 'webgpu' });
      const typed = batches.map((b) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) }));
      const theta0 = await trainer.exportParams();
      await trainer.trainInner(typed, 2);
      const thetaH = await trainer.exportParams();
      const [lossAtH] = await trainer.evalLoss(typed.slice(0, 1));
      const delta = await trainer.pseudoGradient();
      const restored = await trainer.exportParams();
      const [trialLoss] = await trainer.evalLoss(typed.slice(0, 1), delta.slice());
      const afterTrial = await trainer.exportParams();
      await trainer.applyOuter(delta);
      const afterOuter = await trainer.exportParams();
      await trainer.dispose();
      const list = (a: Float32Array) => Array.from(a);
      return { theta0: list(theta0), thetaH: list(thetaH), delta: list(delta), restored: list(restored), afterTrial: list(afterTrial), afterOuter: list(afterOuter), lossAtH, trialLoss };
    },
    { config, batches },
  );
  expect(out.restored).toEqual(out.theta0);
  expect(out.afterTrial).toEqual(out.theta0);
  expect(out.thetaH).not.toEqual(out.theta0);
  // One assertion per array (Playwright's expect is too slow to call per element).
  expect(out.delta.findIndex((d, i) => d !== Math.fround(out.theta0[i]! - out.thetaH[i]!))).toBe(-1);
  expect(Math.abs(out.trialLoss! - out.lossAtH!)).toBeLessThan(1e-4);
  expect(Math.max(...out.afterOuter.map((x, i) => Math.abs(x - out.thetaH[i]!)))).toBeLessThan(1e-6);
});
