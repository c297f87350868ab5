import { test } from '@playwright/test';
import { outerStep, type PeerSubmission } from '../../src/core/aggregate.ts';
import { accumulateErrorFeedback, chunkLayout, compressErrorFeedback, encodeTensor, pseudoGradient } from '../../src/core/compress/index.ts';
import { gaussianArray } from '../../src/core/prng.ts';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { gpuCompress, gpuOuterStep, layoutSize, smallPresetLayout } from '../browser/compress-helpers.ts';
import { medianMs, printBench } from './report.ts';

/**
 * Compression and outer-step throughput on the small preset's five distinct tensor shapes (758 080
 * parameters): the GPU pipeline in the kernels worker (timed in the page, upload and readback
 * included) against the CPU reference in Node, on the same inputs. Parameters per second.
 */
test('compression and outer step: GPU vs CPU reference', async ({ page }) => {
  await page.goto('/');
  const cap = await page.evaluate(() => window.gauntlet!.capability);
  const compression = smallRunConfig().compression;
  const layout = smallPresetLayout();
  const n = layoutSize(layout);
  const reps = 3;
  const theta0 = gaussianArray(n, 1, 0.05);
  const theta = gaussianArray(n, 2, 0.05);
  const ef = gaussianArray(n, 3, 0.01);

  const gpuEncodeMs: number[] = [];
  for (let r = 0; r < reps; r++) gpuEncodeMs.push((await gpuCompress(page, layout, compression, theta0, theta, ef)).ms);
  const cpuEncodeMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const e = ef.slice();
    const t0 = performance.now();
    accumulateErrorFeedback(e, pseudoGradient(theta0, theta), compression.errorFeedbackDecay);
    compressErrorFeedback(e, layout, compression);
    cpuEncodeMs.push(performance.now() - t0);
  }

  const peers: PeerSubmission[] = Array.from({ length: 8 }, (_, uid) => {
    const x = gaussianArray(n, 100 + uid, 0.01);
    return { uid, tensors: layout.map((s) => encodeTensor(s, x.subarray(s.offset, s.offset + chunkLayout(s.shape, compression).size), compression)) };
  });
  const gpuApplyMs: number[] = [];
  for (let r = 0; r < reps; r++) gpuApplyMs.push((await gpuOuterStep(page, layout, compression, theta, peers)).ms);
  const cpuApplyMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const p = theta.slice();
    const t0 = performance.now();
    outerStep(p, layout, peers, compression);
    cpuApplyMs.push(performance.now() - t0);
  }

  const perSecond = (ms: number) => n / (ms / 1000);
  printBench('compress', `${cap.architecture || cap.description || 'webgpu'}${cap.isFallbackAdapter ? ' (software adapter)' : ''}`, [
    {
      name: 'encode (Δ, EF, top-k, quantise, pack), GPU',
      unit: 'params/s',
      value: perSecond(medianMs(gpuEncodeMs)),
      baselineName: 'CPU reference (Node)',
      baseline: perSecond(medianMs(cpuEncodeMs)),
      better: 'higher',
    },
    {
      name: 'decode + aggregate + apply, 8 peers, GPU',
      unit: 'params/s',
      value: perSecond(medianMs(gpuApplyMs)),
      baselineName: 'CPU outerStep (Node)',
      baseline: perSecond(medianMs(cpuApplyMs)),
      better: 'higher',
    },
  ]);
});
