import { test } from '@playwright/test';
import { adamwStepReference, adamwStepScalars } from '../../src/core/adamw.ts';
import { gaussianArray } from '../../src/core/prng.ts';
import { medianMs, printBench } from './report.ts';

/** AdamW throughput: our WGSL kernel in the worker against the CPU reference, on the same tensor. */
test('adamw: GPU kernel vs CPU reference', async ({ page }) => {
  await page.goto('/');
  const cap = await page.evaluate(() => window.gauntlet!.capability);
  const n = 1 << 20;
  const steps = 10;
  const hyper = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

  const gpuMs: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    gpuMs.push(
      await page.evaluate(
        async ({ n, steps, hyper }) => {
          const z = () => new Float32Array(n);
          const grads = Array.from({ length: steps }, () => new Float32Array(n).fill(0.01));
          const t0 = performance.now();
          await window.gauntlet!.kernels!.adamw({ param: z(), expAvg: z(), expAvgSq: z(), grads, hyper, firstStep: 1, clipScale: 1 });
          return performance.now() - t0;
        },
        { n, steps, hyper },
      ),
    );
  }
  const param = gaussianArray(n, 1);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const grad = gaussianArray(n, 2);
  const cpuMs: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let s = 1; s <= steps; s++) adamwStepReference(param, grad, m, v, adamwStepScalars(hyper, s));
    cpuMs.push(performance.now() - t0);
  }
  const perSecond = (ms: number) => (n * steps) / (ms / 1000);
  printBench('adamw', `${cap.architecture || cap.description || 'webgpu'}${cap.isFallbackAdapter ? ' (software adapter)' : ''}`, [
    {
      name: 'AdamW, WGSL in worker (incl. upload/readback)',
      unit: 'params/s',
      value: perSecond(medianMs(gpuMs)),
      baselineName: 'CPU reference (Node, f32)',
      baseline: perSecond(medianMs(cpuMs)),
      better: 'higher',
    },
  ]);
});
