import { expect, test } from '@playwright/test';

/**
 * The Demo view: the Run control scores windows on its own and the dashboard shows them; with a
 * fixed seed and enough windows, every adversary ends with less weight than every honest peer.
 * The validator's measurements in the Demo are SYNTHETIC for now (src/ui/demo/synthetic-network.ts);
 * selection, stage 1 and 2, OpenSkill, copy detection and weights are the real scoring module.
 */
test('the demo runs on its own for 5 windows and shows the scores', async ({ page }, testInfo) => {
  await page.goto('/#/demo');
  await expect(page.locator('[data-mode="synthetic"]')).toBeVisible();
  await page.getByRole('button', { name: 'Run' }).click();
  await expect
    .poll(() => page.evaluate(() => window.gauntlet!.ui.dashboards.demo?.scores.window ?? 0), { timeout: 60_000 })
    .toBeGreaterThanOrEqual(5);
  await page.getByRole('button', { name: 'Pause' }).click();
  const model = await page.evaluate(() => window.gauntlet!.ui.flush().demo!);
  expect(model.scores.peers.length).toBe(8);
  expect(model.timeline.window).toBe(model.scores.window);
  expect(model.timeline.phases.find((p) => p.phase === 'rate')?.status).toBe('done');
  expect(model.loss.length).toBe(model.scores.window);
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
  const { model, behaviours } = await page.evaluate(() => {
    const demo = window.gauntlet!.ui.demo();
    demo.restart({ seed: 11, behaviours: ['honest', 'free-rider', 'honest', 'copier', 'noise', 'honest', 'late', 'data-lazy', 'honest', 'poisoner', 'stale'] });
    return { model: demo.step(60), behaviours: demo.behaviourByUid() };
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
