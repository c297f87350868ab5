import { expect, test } from '@playwright/test';

/**
 * The Demo view. Real mode: the Run control runs the real miner and validator loops in
 * demo.worker.ts (trainer engines, keyring signatures, in-memory network, scoring) for at least 5
 * windows and the dashboard shows their scores. Simulated mode (SYNTHETIC measurements from
 * src/ui/demo/synthetic-network.ts, real scoring): with a fixed seed over 60 windows, every
 * adversary ends with less weight than every honest peer. WebGPU (where the browser has an adapter,
 * SwiftShader on CI): every engine of the network shares one GPUDevice and a window completes.
 */
test('the real demo runs on its own for 5 windows and shows the scores', async ({ page }, testInfo) => {
  test.setTimeout(600_000);
  await page.goto('/#/demo');
  await expect(page.locator('[data-mode="real"]')).toBeVisible();
  await page.getByRole('button', { name: 'Run' }).click();
  await expect
    .poll(() => page.evaluate(() => window.gauntlet!.ui.dashboards.demo?.scores.window ?? 0), { timeout: 540_000, intervals: [2000] })
    .toBeGreaterThanOrEqual(6);
  await page.getByRole('button', { name: 'Pause' }).click();
  // A window in flight when Pause is pressed still finishes; wait for it.
  await expect
    .poll(() => page.evaluate(() => { const m = window.gauntlet!.ui.flush().demo!; return m.timeline.window === m.scores.window; }), { timeout: 120_000 })
    .toBe(true);
  const model = await page.evaluate(() => window.gauntlet!.ui.flush().demo!);
  expect(model.scores.peers.length).toBe(8);
  const info = await page.evaluate(() => window.gauntlet!.ui.demo().backendInfo());
  testInfo.annotations.push({ type: 'demo backend', description: `${info?.backend}: ${info?.reason}` });
  expect(model.timeline.phases.find((p) => p.phase === 'train')?.status).toBe('done');
  expect(model.timeline.phases.find((p) => p.phase === 'rate')?.status).toBe('done');
  // Windows start at 2: every scored window has a network and a baseline loss measured by the engines.
  expect(model.loss.length).toBe(model.scores.window! - 1);
  for (const point of model.loss) {
    expect(point.network).toBeGreaterThan(0);
    expect(point.baseline).toBeGreaterThan(0);
  }
  // Compression: every window sent fewer bytes than the dense float32 pseudo-gradient.
  for (const point of model.traffic) expect(point.compressionRatio).toBeGreaterThan(1);
  // Someone was evaluated and rated: the scorer ran, and its numbers are in the table.
  const rated = model.scores.peers.filter((p) => p.mu !== null);
  expect(rated.length).toBeGreaterThan(1);
  const rows = page.locator('[data-dashboard="demo"] table.scores tbody tr');
  await expect(rows).toHaveCount(8);
  const shot = testInfo.outputPath('demo-running.png');
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('demo-running', { path: shot, contentType: 'image/png' });
});

test('with a fixed seed, every adversary ends with less weight than every honest peer', async ({ page }, testInfo) => {
  await page.goto('/#/demo');
  // A fixed seed, not a claim about every seed: with this line-up the synthetic model ranks every
  // adversary below every honest peer after 60 windows for 39 of the seeds 1–40; on seed 11 the
  // data-lazy peer (whose own-data margin is small by design) ends above one honest peer.
  const { model, behaviours } = await page.evaluate(async () => {
    const demo = window.gauntlet!.ui.demo();
    await demo.restart({ mode: 'simulated', seed: 12, topk: 16, behaviours: ['honest', 'free-rider', 'honest', 'copier', 'noise', 'honest', 'late', 'data-lazy', 'honest', 'poisoner', 'stale'] });
    return { model: await demo.step(60), behaviours: demo.behaviourByUid() };
  });
  expect(model.scores.window).toBe(60);
  const weightOf = (uid: string): number => model.scores.peers.find((p) => String(p.uid) === uid)?.weight ?? 0;
  const honest = Object.keys(behaviours).filter((uid) => behaviours[uid] === 'honest').map(weightOf);
  const adversaries = Object.keys(behaviours).filter((uid) => behaviours[uid] !== 'honest');
  expect(honest.length).toBe(4);
  expect(adversaries.length).toBe(7);
  for (const uid of adversaries) {
    expect(weightOf(uid), `uid ${uid} (${behaviours[uid]})`).toBeLessThan(Math.min(...honest));
  }
  // The copier's update was not trained on its own data: its binary-indicator average B ends below every honest peer's.
  const bOf = (uid: string): number => model.scores.peers.find((p) => String(p.uid) === uid)!.binaryMovingAverage;
  const copierUid = Object.keys(behaviours).find((uid) => behaviours[uid] === 'copier')!;
  const honestB = Object.keys(behaviours).filter((uid) => behaviours[uid] === 'honest').map(bOf);
  expect(bOf(copierUid)).toBeLessThan(Math.min(...honestB));
  const shot = testInfo.outputPath('demo-after-60-windows.png');
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('demo-after-60-windows', { path: shot, contentType: 'image/png' });
});

test('without WebGPU the real demo trains on the CPU (WASM) path', async ({ page }) => {
  test.setTimeout(300_000);
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });
  });
  await page.goto('/#/demo');
  expect((await page.evaluate(() => window.gauntlet!.gate)).kind).toBe('wasm');
  const { model, info } = await page.evaluate(async () => {
    const demo = window.gauntlet!.ui.demo();
    await demo.restart({ behaviours: ['honest', 'honest', 'free-rider'] });
    const scored = await demo.step(2);
    return { model: scored, info: demo.backendInfo() };
  });
  expect(info?.backend).toBe('wasm');
  expect(model.scores.window).toBe(3);
  expect(model.loss.every((p) => p.network !== null && p.network > 0)).toBe(true);
  expect(model.scores.peers.map((p) => p.uid)).toEqual([2, 3, 4]);
});

test('on WebGPU every engine of the real demo shares one device and a window completes', async ({ page }, testInfo) => {
  test.setTimeout(420_000);
  await page.goto('/#/demo');
  test.skip((await page.evaluate(() => window.gauntlet!.gate)).kind === 'wasm', 'this browser has no usable WebGPU adapter');
  const { model, info, baselineAfter } = await page.evaluate(async () => {
    const demo = window.gauntlet!.ui.demo();
    // The smallest network that still scores: two honest peers (one match), one inner step.
    await demo.restart({ mode: 'real', engine: 'webgpu', behaviours: ['honest', 'honest'], innerSteps: 1 });
    const scored = structuredClone(await demo.step(1));
    // One honest peer turns free-rider: the data-parallel baseline's θ and AdamW state move to an engine with one peer's batch.
    await demo.changeBehaviour(Number(Object.keys(demo.behaviourByUid())[1]), 'free-rider');
    const after = await demo.step(1);
    return { model: scored, info: demo.backendInfo(), baselineAfter: after.loss.map((p) => p.baseline) };
  });
  testInfo.annotations.push({ type: 'demo backend', description: `${info?.backend} (${info?.engines} engines): ${info?.reason}` });
  expect(info?.backend).toBe('webgpu');
  expect(info?.sharedDevice).toBe(true);
  // Two miners, the validator and the baseline.
  expect(info?.engines).toBe(4);
  expect(model.scores.window).toBe(2);
  expect(model.loss).toHaveLength(1);
  expect(model.loss[0]!.network).toBeGreaterThan(0);
  expect(model.loss[0]!.baseline).toBeGreaterThan(0);
  // The baseline resized to the one honest peer left and trained on: its loss went on falling from where it was.
  expect(baselineAfter).toHaveLength(2);
  expect(baselineAfter[1]).toBeGreaterThan(0);
  expect(baselineAfter[1]).toBeLessThan(baselineAfter[0]!);
  for (const point of model.traffic) expect(point.compressionRatio).toBeGreaterThan(1);
  await expect(page.locator('[data-demo-status]')).toContainText('share one WebGPU device');
});
