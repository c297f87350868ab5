import { expect, test } from '@playwright/test';
import { createScoringState, scoreWindow, type ValidatorScoringState } from '../../src/core/scoring/index.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { simulateRun, testScoringConfig } from '../unit/scoring-helpers.ts';

/**
 * The rewards dashboard renders real scoring output: SYNTHETIC window inputs (test/unit/scoring-helpers.ts)
 * are scored in the page by src/core/scoring through the Validate view's replay, and what the page
 * publishes and draws is checked against the same windows scored in Node, and against the formula
 * final = ordinal × max(0, B) × sync computed here.
 */
test('the score breakdown and the "why" panel show the scorer\'s numbers', async ({ page }, testInfo) => {
  const config = testScoringConfig();
  const run = simulateRun(30, 4242, config);
  // Reference: the same windows scored in Node.
  let reference: ValidatorScoringState = createScoringState();
  for (const inputs of run.inputs) reference = scoreWindow(reference, inputs, config).state;

  await page.goto('/#/validate');
  const model = await page.evaluate((file) => window.gauntlet!.ui.scoreReplay(file), { config, windows: run.inputs });

  expect(model.scores.window).toBe(reference.lastWindow);
  const referenceUids = Object.keys(reference.peers).map(Number).filter((uid) => uid !== config.burnUid).sort((a, b) => a - b);
  expect(model.scores.peers.map((p) => p.uid)).toEqual(referenceUids);
  // Within 1e-12 relative, not bit-equal: OpenSkill's exp/sqrt may differ in the last bit between Node's V8 and Chromium's.
  const close = (shown: number | null, expected: number | null): void => {
    if (expected === null) return expect(shown).toBeNull();
    expect(shown).not.toBeNull();
    expect(Math.abs(shown! - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
  };
  for (const peer of model.scores.peers) {
    const ref = reference.peers[String(peer.uid)]!;
    close(peer.lossScore, ref.gradientScore);
    close(peer.binaryMovingAverage, ref.binaryMovingAverage);
    close(peer.syncScore, ref.syncScore);
    close(peer.finalScore, ref.finalScore);
    close(peer.weight, ref.weight);
    close(peer.mu, ref.rating?.mu ?? null);
    close(peer.sigma, ref.rating?.sigma ?? null);
    close(peer.ordinal, ref.rating === null ? null : ref.rating.mu - 3 * ref.rating.sigma);
  }
  // The network loss is plotted as θ's mean token loss, on the miners' scale: the recorded sum over the
  // control batches divided by their count (evalSequences / the page run's inner batch size).
  const controlBatches = Math.ceil(config.evalSequences / tinyRunConfig().inner.batchSize);
  const recorded = run.inputs.filter((i) => i.lossRandomBefore !== null && i.evalUids.length > 0);
  expect(recorded.length).toBeGreaterThan(0);
  expect(model.loss.map((p) => ({ window: p.window, network: p.network }))).toEqual(recorded.map((i) => ({ window: i.window, network: i.lossRandomBefore! / controlBatches })));
  // Every slash the scorer logged is listed for its uid (the SYNTHETIC run has copiers, lazy and lagging peers).
  const slashCount = model.scores.peers.reduce((n, p) => n + p.slashes.length, 0);
  expect(slashCount).toBeGreaterThan(0);
  const weightSum = model.scores.peers.reduce((s, p) => s + p.weight, 0) + model.scores.burnShare;
  expect(weightSum).toBeCloseTo(1, 12);

  // The "why" panel for every rated peer: the product of its shown inputs is the final score the scorer stored.
  let explained = 0;
  for (const peer of model.scores.peers) {
    await page.locator(`button[data-uid="${peer.uid}"]`).click();
    const why = await page.evaluate(() => window.gauntlet!.ui.flush().validate!.scores.why!);
    expect(why.uid).toBe(peer.uid);
    if (why.product === null) continue;
    explained += 1;
    const byHand = why.ordinal! * Math.max(0, why.binaryMovingAverage!) * why.syncScore!;
    expect(why.product).toBe(byHand);
    expect(why.finalAtComputation).toBe(byHand);
    // The ordinal used is the peer's current μ − 3σ (ratings change only in matches, which recompute final),
    // unless a reset has since wiped the rating, which the panel then lists.
    if (peer.ordinal !== null) expect(why.ordinal).toBe(peer.ordinal);
    else expect(why.laterChanges.some((c) => c.rule === 'inactivity-reset' || c.rule === 'overlap-slash')).toBe(true);
    // Without later penalties the current final is that product; with them, the last change ends at the current value.
    if (why.laterChanges.length === 0) expect(why.currentFinal).toBe(byHand);
    else expect(why.laterChanges[why.laterChanges.length - 1]!.finalAfter).toBe(why.currentFinal);
    // The drawn numbers are those of the model.
    const panel = page.locator('.why');
    for (const [term, value] of [['final', why.product], ['ordinal', why.ordinal], ['B', why.binaryMovingAverage], ['sync', why.syncScore]] as const) {
      const shown = Number((await panel.locator(`[data-term="${term}"]`).textContent()) ?? 'NaN');
      expect(shown).toBeCloseTo(value!, Math.max(0, 5 - Math.ceil(Math.log10(Math.abs(value!) + 1e-12))));
    }
  }
  expect(explained).toBeGreaterThan(2);

  const shot = testInfo.outputPath('validate-dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('validate-dashboard', { path: shot, contentType: 'image/png' });
});

test('a malformed replay is refused with a message that names the field', async ({ page }) => {
  await page.goto('/#/validate');
  const message = await page.evaluate(() => {
    try {
      window.gauntlet!.ui.scoreReplay({ windows: [{ window: 'soon' }] });
      return 'accepted';
    } catch (error) {
      return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  });
  expect(message).toMatch(/^ScoringInputError/);
  expect(message).toContain('windows.0.');
});
