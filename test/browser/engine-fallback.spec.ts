import { expect, test } from '@playwright/test';
import { microRunConfig, randomBatches } from './engine-helpers.ts';

/**
 * 'auto' backend choice in the browser: both engines run a short calibration and the faster one is
 * kept (on SwiftShader that is usually the wasm EP); whichever it is must train.
 */
test("'auto' keeps the backend its calibration found faster, reports why, and trains", async ({ page }) => {
  await page.goto('/');
  const config = microRunConfig();
  const batches = randomBatches(config, 2, 41);
  const out = await page.evaluate(
    async ({ config, batches }) => {
      const trainer = window.gauntlet!.trainer!;
      const info = await trainer.init(config, undefined, { backend: 'auto', calibrationSteps: 1 });
      const typed = batches.map((b) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) }));
      const result = await trainer.trainInner(typed, 2);
      await trainer.dispose();
      return { info, losses: result.losses };
    },
    { config, batches },
  );
  const { calibration } = out.info;
  expect(calibration?.webgpu).toBeGreaterThan(0);
  expect(calibration?.wasm).toBeGreaterThan(0);
  expect(out.info.backend).toBe(calibration!.webgpu! >= calibration!.wasm! ? 'webgpu' : 'wasm');
  expect(out.info.reason).toMatch(/tokens\/s/);
  test.info().annotations.push({ type: 'choice', description: `${out.info.backend}: ${out.info.reason}` });
  expect(out.losses.every(Number.isFinite)).toBe(true);
});
