import { expect, test, type Browser, type Page } from '@playwright/test';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import { bittensorTestWallet, injectTestWallet } from '../extension/inject.ts';
import { startScoredDevnet, type ScoredDevnet } from './scored-devnet.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { DevnetStorage } from '../../src/net/devnet-client.ts';
import { deserializeWindowScores, MAX_WINDOW_SCORES_BYTES } from '../../src/core/scoring/index.ts';
import { scoresKey } from '../../src/peer/gather.ts';
import { formatNumber } from '../../src/ui/dom.ts';
import type { RunningDevnet } from '../../src/devnet/server.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { parameterCount } from '../../src/model/params.ts';
import type { ContributeStatus } from '../../src/ui/contribute/session.ts';
import type { DashboardModel } from '../../src/ui/dashboard/model.ts';

/**
 * Issue #8 end to end: the built app served by a devnet (tiny preset timing: 1 s blocks, 5-block
 * windows, a 3 s put window), a headless Node validator (`npm run validator`) as a child process,
 * and a volunteer in headless Chromium with the test-injected wallet. The volunteer registers and
 * contributes; the page is reloaded in the middle and must resume with the same error-feedback
 * buffer; after at least 3 contributed windows the validator has gathered and scored the
 * submissions, set weights, and the page shows the volunteer's share of them and its per-window
 * score breakdown exactly as the validator published it (`scores-{window}`).
 */
const config = tinyRunConfig();
const VOLUNTEER_URI = '//Volunteer//hotkey';
/** A second volunteer in its own browser context: OpenSkill ranks ≥ 2 peers (§7.3), so one alone never earns weight. */
const SECOND_URI = '//Volunteer2//hotkey';
let network: ScoredDevnet;
let devnet: RunningDevnet;
let validatorHotkey = '';

test.beforeAll(async () => {
  network = await startScoredDevnet('contribute-e2e');
  devnet = network.devnet;
  validatorHotkey = network.validatorHotkey;
});

test.afterAll(() => network.close());

// The validator's own account of every window, kept beside the screenshot.
// eslint-disable-next-line no-empty-pattern -- Playwright reads fixtures from a destructuring pattern; this hook needs none.
test.afterEach(({}, testInfo) => network.attachValidatorLog(testInfo));

const status = (page: Page): Promise<ContributeStatus> => page.evaluate(() => window.gauntlet!.ui.contribute().session.status());

/** Opens Contribute, connects the injected wallet, picks the volunteer's hotkey, registers if needed and starts (on wasm unless told). */
async function joinAndStart(page: Page, hotkey: string, backend: 'wasm' | 'webgpu' = 'wasm'): Promise<void> {
  await page.goto(devnet.url + '/#/contribute');
  await page.click('[data-action="connect-extension"]');
  await expect(page.locator('[data-role="accounts"] option')).toHaveCount(2);
  await page.selectOption('[data-role="accounts"]', hotkey);
  await expect.poll(async () => (await status(page)).hotkey).toBe(hotkey);
  if ((await status(page)).uid === null) {
    await page.click('[data-action="register"]');
    await expect.poll(async () => (await status(page)).uid).not.toBeNull();
  }
  await page.selectOption('[data-role="backend"]', backend);
  await page.click('[data-action="start"]');
}

/** The validator's events for `kind`, parsed from its `[window N] kind {json}` lines. */
function validatorEvents(kind: string): { window: number; body: Record<string, unknown> }[] {
  const out: { window: number; body: Record<string, unknown> }[] = [];
  for (const line of network.validatorLog().split('\n')) {
    const match = /^\[window (\d+)\] (\S+) (.*)$/.exec(line);
    if (match?.[2] === kind) out.push({ window: Number(match[1]), body: JSON.parse(match[3]!) as Record<string, unknown> });
  }
  return out;
}

/** Injects the test wallet holding `uri` into every page of `page`'s context, before the app loads. */
async function withWallet(page: Page, uri: string): Promise<string> {
  const keys = await KeyringSigner.fromUris([uri]);
  await injectTestWallet(page, bittensorTestWallet([{ uri, name: 'volunteer' }]));
  return (await keys.accounts())[0]!.address;
}

async function secondVolunteer(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await joinAndStart(page, await withWallet(page, SECOND_URI));
  return page;
}

test('a volunteer contributes ≥ 3 windows on the devnet, survives a reload with its error feedback, and sees its scores', async ({ page, browser }, testInfo) => {
  const hotkey = await withWallet(page, VOLUNTEER_URI);
  // This volunteer joins first, so it is active when the validator posts its first gather-peer list (§5.7); one that becomes
  // active only after a list was posted is gathered from the next list on, which a loaded machine can push past the test.
  await joinAndStart(page, hotkey);
  const second = await secondVolunteer(browser);
  const uid = (await status(page)).uid!;
  const secondUid = (await status(second)).uid!;
  expect(new Set([0, config.scoring.burnUid, uid, secondUid]).size).toBe(4);
  await expect.poll(async () => (await status(page)).persisted.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  const before = await status(page);
  const saved = before.persisted[before.persisted.length - 1]!;
  expect(before.engine?.backend).toBe('wasm');

  // Reload in the middle of the run: the worker must come back with the saved θ and error feedback.
  await page.reload();
  await joinAndStart(page, hotkey);
  expect((await status(page)).log.some((m) => m.includes(`holds its state after window`))).toBe(true);
  await expect.poll(async () => (await status(page)).resumed, { timeout: 60_000 }).not.toBeNull();
  const resumed = (await status(page)).resumed!;
  const zeroDigest = bytesToHex(sha256(new Uint8Array(parameterCount(config.model) * 4)));
  expect(resumed.window).toBeGreaterThanOrEqual(saved.window);
  const savedAtResumedWindow = before.persisted.find((p) => p.window === resumed.window);
  // A save that finished between reading the status and the reload would be newer than `saved`: then compare with the digest the page could not see.
  if (savedAtResumedWindow !== undefined) expect(resumed.errorFeedbackDigest).toBe(savedAtResumedWindow.errorFeedbackDigest);
  else expect(resumed.window).toBe(saved.window + 1);
  expect(resumed.errorFeedbackDigest).not.toBe(zeroDigest);
  // The inner optimiser state came back too: the resumed step is the one saved with that window.
  const savedStep = before.log.map((m) => /^Saved θ.*\(inner step (\d+)\) and window (\d+) /.exec(m)).find((m) => Number(m?.[2]) === resumed.window)?.[1];
  const resumedStep = (await status(page)).log.map((m) => /optimiser state at inner step (\d+)/.exec(m)?.[1]).find((step) => step !== undefined);
  expect(Number(resumedStep)).toBeGreaterThan(0);
  if (savedStep !== undefined) expect(resumedStep).toBe(savedStep);

  // ≥ 3 windows stored in total, and the validator's weights reach this uid on the chain.
  await expect.poll(async () => before.uploadedWindows.length + (await status(page)).uploadedWindows.length, { timeout: 60_000 }).toBeGreaterThanOrEqual(3);
  // The validator's weights reach the volunteers on the chain, and this tab shows them.
  const minersIncentive = async (): Promise<number> => (await status(page)).chainScores?.rows.filter((r) => r.uid === uid || r.uid === secondUid).reduce((a, r) => a + r.incentive, 0) ?? 0;
  await expect.poll(minersIncentive, { timeout: 90_000 }).toBeGreaterThan(0);

  const contributed = [...before.uploadedWindows, ...(await status(page)).uploadedWindows];
  const gathered = validatorEvents('validator-gathered').filter((e) => (e.body.gathered as number[]).includes(uid)).map((e) => e.window);
  expect(gathered.filter((w) => contributed.includes(w)).length).toBeGreaterThanOrEqual(2);
  for (const u of [uid, secondUid]) expect(validatorEvents('validator-evaluated').some((e) => e.body.uid === u && e.body.status === 'ok')).toBe(true);
  const scored = validatorEvents('validator-scored').filter((e) => [uid, secondUid].some((u) => ((e.body.weights as Record<string, number>)[String(u)] ?? 0) > 0));
  expect(scored.length).toBeGreaterThan(0);

  const models = await page.evaluate(() => window.gauntlet!.ui.flush());
  const dashboard = models.contribute as DashboardModel;
  expect(dashboard.loss.filter((p) => p.local !== null && Number.isFinite(p.local)).length).toBeGreaterThanOrEqual(1);
  const traffic = dashboard.traffic.filter((t) => t.compressionRatio !== null);
  expect(traffic.length).toBeGreaterThanOrEqual(1);
  for (const t of traffic) expect(t.compressionRatio!).toBeGreaterThan(1);
  await expect(page.locator('[data-role="chain-scores"] td', { hasText: 'you' })).toHaveCount(1);

  // The per-window breakdown: the page reads the validator's `scores-{window}` and shows this uid once it is rated.
  const ownBreakdown = async (): Promise<DashboardModel['scores']['peers'][number] | undefined> =>
    ((await page.evaluate(() => window.gauntlet!.ui.flush())).contribute as DashboardModel).scores.peers.find((p) => p.uid === uid);
  await expect.poll(async () => (await ownBreakdown())?.mu ?? null, { timeout: 90_000 }).not.toBeNull();
  // Stopped, so no newer window's scores arrive while the page is compared with the published document.
  for (const p of [page, second]) await p.evaluate(() => window.gauntlet!.ui.contribute().session.stop());
  const shown = (await page.evaluate(() => window.gauntlet!.ui.flush())).contribute as DashboardModel;
  const scoredWindow = shown.scores.window!;
  const mine = shown.scores.peers.find((p) => p.uid === uid)!;
  const { data } = await new DevnetStorage(devnet.url, undefined, undefined).get(validatorHotkey, scoresKey(scoredWindow), { maxBytes: MAX_WINDOW_SCORES_BYTES });
  const published = deserializeWindowScores(new TextDecoder().decode(data), { runId: config.runId, netuid: config.netuid, window: scoredWindow });
  const theirs = published.peers.find((p) => p.uid === uid)!;
  for (const field of ['lossScore', 'binaryIndicator', 'binaryMovingAverage', 'syncScore', 'mu', 'sigma', 'ordinal', 'finalScore', 'weight'] as const) expect(mine[field], field).toBe(theirs[field]);
  // The same weight the validator logged for that window.
  const logged = validatorEvents('validator-scored').find((e) => e.window === scoredWindow);
  expect(logged, `validator-scored of window ${scoredWindow}`).toBeDefined();
  expect(mine.weight).toBe((logged!.body.weights as Record<string, number>)[String(uid)] ?? 0);
  // Every slash of this uid in the published window is listed with its reason.
  for (const reason of published.reasons.filter((r) => r.uid === uid && (r.rule.endsWith('slash') || r.rule.endsWith('reset')))) {
    expect(mine.slashes.some((s) => s.window === scoredWindow && s.rule === reason.rule), reason.rule).toBe(true);
  }
  // Drawn on the page: the volunteer's row with its μ and final score, and the "why" panel on its uid.
  const row = page.locator('.breakdown tr', { has: page.locator(`button[data-uid="${uid}"]`) });
  await expect(row).toContainText(formatNumber(mine.mu));
  await expect(row).toContainText(formatNumber(mine.finalScore));
  await expect(page.locator('.why h3')).toHaveText(`Why uid ${uid} has this score`);
  await expect(page.locator('.leaderboard td', { hasText: `uid ${uid}` })).toHaveCount(1);

  await page.screenshot({ path: testInfo.outputPath('contribute-dashboard.png'), fullPage: true });
  await testInfo.attach('contribute-dashboard', { path: testInfo.outputPath('contribute-dashboard.png'), contentType: 'image/png' });
  await second.context().close();

  // Stopped, the volunteer can forget what this browser saved; selecting the hotkey again finds nothing to resume.
  const stopped = await status(page);
  const lastSaved = stopped.persisted.at(-1)?.window ?? resumed.window;
  expect(stopped.saved).toEqual({ window: lastSaved });
  await page.click('[data-action="forget-saved"]');
  await expect.poll(async () => (await status(page)).saved).toBeNull();
  expect((await status(page)).message).toContain(`(after window ${lastSaved}): the next Start syncs from the network`);
  await page.evaluate((k) => window.gauntlet!.ui.contribute().session.selectAccount(k), hotkey);
  expect((await status(page)).saved).toBeNull();
  await expect(page.locator('[data-action="forget-saved"]')).toBeDisabled();
});
