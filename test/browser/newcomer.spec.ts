import { expect, test, type Locator, type Page } from '@playwright/test';
import { bittensorTestWallet, injectTestWallet } from '../extension/inject.ts';
import { startLocalNetwork, type LocalNetwork } from './local-network.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';

/**
 * What a newcomer sees (issue #16), driven only as a person would: clicks, selects and typing on
 * controls the page shows, and the page's visible text; never `window.gauntlet`. The network is
 * `npm start`'s own (scripts/start-network.mjs, serving a private build; tiny preset: 1 s blocks,
 * 5-block windows): a Node validator scoring it and two honest Node miners beside the newcomer, so
 * the Contribute stages can end with the validator's published scores and the newcomer is rated
 * (issue #17: a volunteer alone on `npm start` was never rated).
 *
 * Contribute: the engine line says which engine trains (not what the capability check expected),
 * a Stop before any window finished says nothing was saved, the second Start reuses the engine the
 * first one built (the page says so; both times to the first inner step are recorded, not
 * asserted), the step count never passes H, a scored window's Gather/Evaluate/Rate/Weights stages
 * read done with what the validator published, the newcomer has an OpenSkill rating (μ on its row)
 * within 10 windows of its Start, and exactly the controls that can act are enabled.
 * Demo: a behaviour change applies from the next window without a new run, and a clamped field says
 * what it changed. Validate: no empty second dashboard.
 */
const config = tinyRunConfig();
const H = config.inner.innerSteps;
const VOLUNTEER_URI = '//Newcomer//hotkey';
let network: LocalNetwork;
let devnet: { readonly url: string };

test.beforeAll(async () => {
  network = await startLocalNetwork('newcomer-e2e');
  devnet = network;
});

test.afterAll(() => network.close());

// eslint-disable-next-line no-empty-pattern -- Playwright reads fixtures from a destructuring pattern; this hook needs none.
test.afterEach(({}, testInfo) => network.attachLog(testInfo));

/** One "inner step k of n" the page drew, and when (this machine's clock, in ms). */
interface DrawnStep {
  readonly step: number;
  readonly of: number;
  readonly atMs: number;
}

/**
 * Every "inner step k of n" the page draws from now on: a MutationObserver reads the timeline as it
 * is drawn, since a step is on screen for a few frames only (a poll of the page would miss most).
 */
async function watchInnerSteps(page: Page): Promise<() => Promise<DrawnStep[]>> {
  await page.evaluate(() => {
    const seen: { text: string; atMs: number }[] = [];
    (window as unknown as { drawnInnerSteps: typeof seen }).drawnInnerSteps = seen;
    new MutationObserver(() => {
      for (const detail of document.querySelectorAll('[data-view="contribute"] .phase-detail')) {
        const text = detail.textContent ?? '';
        if (/^inner step/.test(text) && seen.at(-1)?.text !== text) seen.push({ text, atMs: Date.now() });
      }
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  return async () =>
    (await page.evaluate(() => (window as unknown as { drawnInnerSteps: { text: string; atMs: number }[] }).drawnInnerSteps)).map(({ text, atMs }) => {
      const [, step, of] = /^inner step (\d+) of (\d+)/.exec(text) ?? [];
      return { step: Number(step), of: Number(of), atMs };
    });
}

/** Clicks Start and returns the milliseconds until the page draws a first inner step. */
async function startAndTimeFirstStep(view: Locator, drawnSteps: () => Promise<DrawnStep[]>): Promise<number> {
  const clickedAtMs = Date.now();
  await view.getByRole('button', { name: 'Start contributing' }).click();
  let firstAtMs = Number.NaN;
  await expect
    .poll(async () => {
      firstAtMs = (await drawnSteps()).find((s) => s.atMs >= clickedAtMs)?.atMs ?? Number.NaN;
      return Number.isFinite(firstAtMs);
    }, { timeout: 240_000, intervals: [100] })
    .toBe(true);
  return firstAtMs - clickedAtMs;
}

test('Contribute: the engine that really trains, Stop and the saved state, the engine reused on the second Start, step counts and scored stages', async ({ page }, testInfo) => {
  test.setTimeout(540_000);
  const keys = await KeyringSigner.fromUris([VOLUNTEER_URI]);
  const hotkey = (await keys.accounts())[0]!.address;
  await injectTestWallet(page, bittensorTestWallet([{ uri: VOLUNTEER_URI, name: 'newcomer' }]));
  await page.goto(devnet.url + '/#/contribute');
  const view = page.locator('[data-view="contribute"]');
  const gate = view.locator('.gate');
  const engineLine = gate.locator('[data-role="engine-line"]');
  const message = view.locator('[data-role="message"]');
  const registration = view.locator('[data-role="registration"]');
  const start = view.getByRole('button', { name: 'Start contributing' });
  const stop = view.getByRole('button', { name: 'Stop', exact: true });
  const forget = view.getByRole('button', { name: 'Forget saved state' });
  await expect(engineLine).toContainText('No engine built yet');

  await view.getByRole('button', { name: 'Connect wallet extension' }).click();
  await view.locator('[data-role="accounts"]').selectOption(hotkey);
  await expect(registration).toContainText(`not registered on netuid ${config.netuid}`);
  await view.getByRole('button', { name: 'Register' }).click();
  await expect(registration).toContainText(new RegExp(`uid \\d+ on netuid ${config.netuid}`));
  const uid = Number(/uid (\d+)/.exec((await registration.textContent()) ?? '')?.[1]);
  // Another network chosen and the devnet again: the registration is read again there, not shown as "not registered".
  const networkChoice = view.locator('[data-role="network"]');
  await networkChoice.selectOption('real');
  await networkChoice.selectOption('devnet');
  await expect(message).toContainText(`is uid ${uid} on netuid ${config.netuid}`);
  await expect(registration).toContainText(`uid ${uid} on netuid ${config.netuid}`);
  await expect(stop).toBeDisabled();
  await expect(start).toBeEnabled();

  // First Start on "auto" (the default): the engine is built (and calibrated); the page then says which one trains.
  const drawnSteps = await watchInnerSteps(page);
  const firstStartMs = await startAndTimeFirstStep(view, drawnSteps);
  await expect(engineLine).toContainText(/^Trains on (WebGPU|the CPU \(wasm\)): /);
  const firstEngine = (await engineLine.textContent()) ?? '';
  // The capability check's finding stays, but nothing on the page claims an engine other than the one that trains.
  if (firstEngine.startsWith('Trains on the CPU')) await expect(gate).not.toContainText('Trains on WebGPU');
  await expect(start).toBeDisabled();
  await expect(stop).toBeEnabled();

  // Stopped in its first window, before it finished one: the page says nothing was saved, and only Start (not Stop, not Forget) can act.
  await stop.click();
  await expect(message).toContainText('Stopped. Nothing is saved in this browser yet');
  await expect(stop).toBeDisabled();
  await expect(start).toBeEnabled();
  await expect(forget).toBeDisabled();

  // The second Start reuses the engine the first one built.
  const secondStartMs = await startAndTimeFirstStep(view, drawnSteps);
  // The window the second Start trains first: the newest on the timeline once its first inner step is drawn.
  const windowsShown = async (): Promise<number[]> => (await view.locator('.timeline-block[data-window]').evaluateAll((blocks) => blocks.map((b) => Number(b.getAttribute('data-window'))))).filter(Number.isFinite);
  const startWindow = Math.max(...(await windowsShown()));
  await expect(engineLine).toContainText('the engine built earlier in this tab is reused');
  await expect(engineLine).toContainText('without a new calibration');
  testInfo.annotations.push({ type: 'time to the first inner step', description: `first Start ${firstStartMs} ms (${firstEngine}); second Start ${secondStartMs} ms (engine reused)` });

  // A window the validator scored: its Gather, Evaluate, Rate and Weights stages read done, with what its scores document says of this uid.
  const scored = view.locator('.timeline-block').filter({ has: page.locator('[data-phase="rate"] .phase-status', { hasText: 'done' }) }).first();
  await expect(scored).toBeVisible({ timeout: 240_000 });
  for (const phase of ['gather', 'evaluate', 'rate', 'weights']) await expect(scored.locator(`[data-phase="${phase}"] .phase-status`)).toHaveText('done');
  await expect(scored.locator('[data-phase="evaluate"] .phase-detail')).toContainText(/evaluated|not picked for evaluation|is not in the validator's scores/);
  await expect(scored.locator('[data-phase="rate"] .phase-detail')).toContainText(/final score|is not in the validator's scores/);
  await expect(scored.locator('[data-phase="weights"] .phase-detail')).toContainText(/of this validator's weights|is not in the validator's scores/);
  const scoredWindow = Number(/Window (\d+)/.exec((await scored.textContent()) ?? '')?.[1]);

  // Rated beside npm start's miners within 10 windows of the second Start: μ on this uid's row of the breakdown, counted in
  // the windows the page names (the scores' window against the window that Start trained first), not in wall-clock time.
  const ownRow = view.locator('.breakdown tr', { has: page.locator(`button[data-uid="${uid}"]`) });
  await expect(ownRow.locator('td').nth(5)).not.toHaveText('—', { timeout: 240_000 });
  const ratedWindow = Number(/after window (\d+)/.exec((await view.locator('.breakdown h3').first().textContent()) ?? '')?.[1]);
  expect(Number.isInteger(startWindow)).toBe(true);
  expect(ratedWindow - startWindow).toBeLessThanOrEqual(10);
  testInfo.annotations.push({ type: 'rated', description: `μ shown with the scores after window ${ratedWindow}; the second Start trained window ${startWindow} first` });

  // Stopped after finished windows: the page names the window saved, and only Start and Forget can act.
  await stop.click();
  await expect(message).toContainText(/^Stopped\. Saved after window \d+: the next Start resumes from it\.$/);
  const savedWindow = Number(/Saved after window (\d+)/.exec((await message.textContent()) ?? '')?.[1]);
  expect(savedWindow).toBeGreaterThanOrEqual(scoredWindow);
  await expect(stop).toBeDisabled();
  await expect(start).toBeEnabled();
  await expect(forget).toBeEnabled();

  // Every inner step drawn, over both runs, counts from 1 to H at most.
  const steps = await drawnSteps();
  testInfo.annotations.push({ type: 'inner steps drawn', description: steps.map((s) => `${s.step}/${s.of}`).join(' ') });
  expect(steps.length).toBeGreaterThan(0);
  for (const { step, of } of steps) {
    expect(of).toBe(H);
    expect(step).toBeGreaterThanOrEqual(1);
    expect(step).toBeLessThanOrEqual(H);
  }
  const shot = testInfo.outputPath('newcomer-contribute.png');
  await page.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('newcomer-contribute', { path: shot, contentType: 'image/png' });
});

test('Demo: a behaviour change applies from the next window without a new run; a clamped field says what it changed', async ({ page }) => {
  await page.goto(devnet.url + '/#/demo');
  const view = page.locator('[data-view="demo"]');
  const status = view.locator('[data-demo-status]');
  const change = view.locator('[data-demo-change]');
  const stepButton = view.getByRole('button', { name: 'Step one window' });
  await view.getByLabel('Mode', { exact: true }).selectOption('simulated');
  for (let i = 0; i < 3; i++) await stepButton.click();
  await expect(status).toContainText('window 3 scored');

  // Run and Pause: a single step cannot act while the network runs on its own.
  await view.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(stepButton).toBeDisabled();
  await view.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(stepButton).toBeEnabled();
  const before = Number(/window (\d+) scored/.exec((await status.textContent()) ?? '')?.[1]);
  expect(before).toBeGreaterThanOrEqual(3);

  const selects = view.locator('select[id^="demo-behaviour-"]');
  const behaviours = async (): Promise<string[]> => selects.evaluateAll((list) => list.map((s) => (s as HTMLSelectElement).value));
  const lineUp = await behaviours();
  await view.getByLabel('uid 3', { exact: true }).selectOption('copier');
  await expect(change).toContainText(`uid 3 is copier from window ${before + 1} on; the run goes on`);
  await stepButton.click();
  // The window count goes on (no new run), and every other peer kept its behaviour.
  await expect(status).toContainText(`window ${before + 1} scored`);
  expect(await behaviours()).toEqual(lineUp.map((b, i) => (i === 1 ? 'copier' : b)));

  // A value the demo cannot use is changed to the nearest one it can, and the field says so.
  const peers = view.getByLabel('Number of peers');
  await peers.fill('40');
  await peers.press('Enter');
  await expect(view.locator('#demo-peers-note')).toHaveText('The number of peers must be a whole number from 2 to 16: 40 was changed to 16.');
  await expect(peers).toHaveValue('16');
  await expect(change).toContainText('A new run with 16 peers');
  // The peer count starts a new run (it is fixed for one), keeping the behaviours chosen.
  expect((await behaviours()).slice(0, lineUp.length)).toEqual(lineUp.map((b, i) => (i === 1 ? 'copier' : b)));
  const topk = view.getByLabel('top-k per chunk');
  await topk.fill('3');
  await topk.press('Enter');
  await expect(view.locator('#demo-topk-note')).toHaveText('top-k per chunk must be an even number from 2 to 4096: 3 was changed to 4.');
  await expect(topk).toHaveValue('4');
});

test('Demo, real training: a behaviour change applies from the next window of the running network', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(devnet.url + '/#/demo');
  const view = page.locator('[data-view="demo"]');
  const status = view.locator('[data-demo-status]');
  const stepButton = view.getByRole('button', { name: 'Step one window' });
  await expect(view.getByLabel('Mode', { exact: true })).toHaveValue('real');
  // The smallest real network that still scores, on the CPU (WASM): three peers.
  await view.getByLabel('Engines (real mode)').selectOption('wasm');
  const peers = view.getByLabel('Number of peers');
  await peers.fill('3');
  await peers.press('Enter');
  await expect(view.locator('select[id^="demo-behaviour-"]')).toHaveCount(3);
  await stepButton.click();
  await expect(status).toContainText('window 2 scored', { timeout: 240_000 });
  await expect(stepButton).toBeEnabled();

  await view.getByLabel('uid 4', { exact: true }).selectOption('free-rider');
  await expect(view.locator('[data-demo-change]')).toContainText('uid 4 is free-rider from window 3 on; the run goes on');
  await stepButton.click();
  // The same network's next window (a new run would start again at window 2), with the other peers as they were.
  await expect(status).toContainText('window 3 scored', { timeout: 120_000 });
  expect(await view.locator('select[id^="demo-behaviour-"]').evaluateAll((list) => list.map((s) => (s as HTMLSelectElement).value))).toEqual(['honest', 'honest', 'free-rider']);
});

test('Validate: one dashboard at most, the replay scores only once a file is loaded', async ({ page }) => {
  await page.goto(devnet.url + '/#/validate');
  const view = page.locator('[data-view="validate"]');
  await expect(view.getByRole('heading', { name: 'Replay recorded windows' })).toBeVisible();
  // Nothing scored, nothing started: no dashboard shows (the live one appears with the validator's first run).
  await expect(view.locator('.dashboard:visible')).toHaveCount(0);
  await expect(view.getByRole('button', { name: 'Stop', exact: true })).toBeDisabled();
  await expect(view.getByRole('button', { name: 'Start validating' })).toBeDisabled();
});
