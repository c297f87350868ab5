import { expect, test } from '@playwright/test';
import type { RunConfig } from '../../src/core/config.ts';
import { smallRunConfig, tinyRunConfig } from '../../src/core/run-config.ts';
import { trainingMemoryEstimate } from '../../src/model/memory.ts';
import { randomBatches } from './engine-helpers.ts';

/**
 * The training-memory estimate the capability gate shows (src/model/memory.ts) against what the
 * WebGPU engine really allocates: every GPU buffer created in the trainer worker, ours and
 * onnxruntime's (the test build wraps `GPUDevice.createBuffer`), at its peak over init, two inner
 * steps, compression and an evaluation. Two runs: tiny, and the small preset's widths at one layer
 * and a shorter sequence (the full small run takes minutes on SwiftShader; its figures are in the
 * README). The estimate must be within a factor of two of the peak either way, and the gate's budget
 * (the estimate with its headroom) must cover the peak.
 */
const smallWidths: RunConfig = (() => {
  const small = smallRunConfig();
  return { ...small, model: { ...small.model, nLayers: 1, seqLen: 128 }, inner: { ...small.inner, batchSize: 4 } };
})();

for (const [name, config] of [['tiny', tinyRunConfig()], ['small widths, 1 layer', smallWidths]] as const) {
  test(`memory estimate against the engine's GPU allocations: ${name}`, async ({ page }) => {
    test.setTimeout(300_000);
    await page.goto('/');
    const capability = await page.evaluate(() => window.gauntlet!.capability);
    expect(capability.available, `WebGPU unavailable: ${capability.reason}`).toBe(true);
    const batches = randomBatches(config, 2, 3);
    const peakBytes = await page.evaluate(async ({ config, batches }) => {
      const trainer = window.gauntlet!.trainer!;
      await trainer.dispose();
      await trainer.resetGpuAllocation();
      await trainer.init(config, undefined, { backend: 'webgpu' });
      const typed = batches.map((b) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) }));
      await trainer.trainInner(typed, 2);
      await trainer.compressPseudoGradient();
      await trainer.evalLoss(typed.slice(0, 1));
      const { peakBytes } = await trainer.gpuAllocation();
      await trainer.dispose();
      return peakBytes;
    }, { config, batches });
    const estimate = trainingMemoryEstimate(config);
    const figures = `${name}: estimate ${estimate.totalBytes} B, measured peak ${peakBytes} B (${(peakBytes / estimate.totalBytes).toFixed(2)}×), budget ${estimate.budgetBytes} B`;
    test.info().annotations.push({ type: 'memory', description: figures });
    console.log(`memory estimate, ${figures}`);
    expect(peakBytes).toBeGreaterThan(estimate.totalBytes / 2);
    expect(peakBytes).toBeLessThan(estimate.totalBytes * 2);
    expect(peakBytes).toBeLessThanOrEqual(estimate.budgetBytes);
  });
}
