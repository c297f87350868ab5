import { expect, test } from '@playwright/test';
import { microRunConfig, randomBatches } from './engine-helpers.ts';

/**
 * The inner AdamW state on the WebGPU engine (gauntlet-spec §5.1: Templar keeps one optimiser across
 * windows): the moments read back from our GPU buffers plus the scheduler step, given to a fresh
 * engine's `init`, make its next window's pseudo-gradient bit-identical to the engine that never
 * stopped; the same θ without the state gives a different one. The wasm twin: test/unit/optimizer-state.test.ts.
 */
test('WebGPU engine: a resumed optimiser state gives the uninterrupted next window bit for bit', async ({ page }) => {
  await page.goto('/');
  const capability = await page.evaluate(() => window.gauntlet!.capability);
  expect(capability.available, `WebGPU unavailable: ${capability.reason}`).toBe(true);
  const config = microRunConfig();
  const h = config.inner.innerSteps;
  const batches = randomBatches(config, 3 * h, 11);

  const result = await page.evaluate(
    async ({ config, batches, h }) => {
      const trainer = window.gauntlet!.trainer!;
      const asBatch = (b: { inputs: number[]; targets: number[] }) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) });
      /** One window: H inner steps on the window's batches, Δ (θ restored to θ0), an outer step of −½Δ. */
      const runWindow = async (w: number): Promise<Float32Array> => {
        await trainer.trainInner(batches.slice(w * h, (w + 1) * h).map(asBatch), h);
        const delta = await trainer.pseudoGradient();
        await trainer.applyOuter(delta.map((d) => d / 2));
        return delta;
      };
      const bits = (values: Float32Array): number[] => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
      const info = await trainer.init(config, undefined, { backend: 'webgpu' });
      await runWindow(0);
      await runWindow(1);
      const params = await trainer.exportParams();
      const saved = await trainer.exportOptimizerState();
      const uninterrupted = bits(await runWindow(2));

      await trainer.init(config, params, { backend: 'webgpu', optimizerState: saved });
      const resumed = bits(await runWindow(2));
      const resumedSteps = (await trainer.exportOptimizerState()).schedulerSteps;
      await trainer.init(config, params, { backend: 'webgpu' });
      const fresh = bits(await runWindow(2));
      await trainer.dispose();
      return {
        backend: info.backend, uninterrupted, resumed, fresh, resumedSteps,
        savedSteps: saved.schedulerSteps, positiveSecondMoments: Array.from(saved.expAvgSq).filter((v) => v > 0).length,
      };
    },
    { config, batches, h },
  );
  expect(result.backend).toBe('webgpu');
  expect(result.savedSteps).toBe(2 * h);
  expect(result.resumedSteps).toBe(3 * h);
  expect(result.positiveSecondMoments).toBeGreaterThan(result.uninterrupted.length / 2);
  expect(result.resumed).toEqual(result.uninterrupted);
  const differing = result.fresh.filter((v, i) => v !== result.uninterrupted[i]).length;
  expect(differing).toBeGreaterThan(result.fresh.length / 2);
});
