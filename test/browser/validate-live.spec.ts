import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bittensorTestWallet, injectTestWallet } from '../extension/inject.ts';
import { buildAppInto } from './private-build.ts';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import { DevnetMiners } from '../../src/cli/devnet-miners.ts';
import { hotkeyOfUri } from '../../src/cli/evaluate-wallet.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { createRunDocument } from '../../src/core/run-document.ts';
import { startDevnet, type RunningDevnet } from '../../src/devnet/server.ts';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import type { ValidateStatus } from '../../src/ui/validate/session.ts';

/**
 * Issue #8 "Validate", end to end: the built app served by a devnet whose validator permits are
 * real (one permit at most, and only with stake: `maxAllowedValidators` 1, `minValidatorStake` 1),
 * two honest Node miners in this test process (src/cli/devnet-miners.ts, wasm engines), and the
 * Validate view's live validator in headless Chromium with the test-injected wallet. Without stake
 * the validator scores windows (finite stage-2 losses in the UI) but sets no weights; once the test
 * stakes its hotkey the metagraph grants the permit and the next weight window sets weights on the
 * devnet.
 */
test.setTimeout(600_000);
const config = tinyRunConfig();
const VALIDATOR_URI = '//LiveValidator//hotkey';
let devnet: RunningDevnet;
let dir: string;
let miners: DevnetMiners | undefined;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'validate-live-'));
  const appDir = buildAppInto(join(dir, 'app'));
  // The page's validator is the run's (the owner names it): the miners follow its peer lists and aggregates.
  devnet = await startDevnet({ dir: join(dir, 'state'), appDir, run: createRunDocument(config), maxAllowedValidators: 1, minValidatorStake: 1, faucet: true, runValidators: [await hotkeyOfUri(VALIDATOR_URI)] });
  // uid 0 and 2: the miners; uid 1: the subnet owner (the tiny preset's burn uid); the validator registers next, in the page.
  await DevnetMiners.register(devnet.url, config, ['//LiveMiner0']);
  await DevnetMiners.register(devnet.url, config, ['//LiveOwner']);
  await DevnetMiners.register(devnet.url, config, ['//LiveMiner1']);
});

test.afterAll(async () => {
  await miners?.stop();
  await devnet.close();
  rmSync(dir, { recursive: true, force: true });
});

const status = (page: Page): Promise<ValidateStatus> => page.evaluate(() => window.gauntlet!.ui.validate().session.status());

test('the in-browser validator scores Node miners, and sets weights only once its hotkey holds a validator permit', async ({ page }, testInfo) => {
  const keys = await KeyringSigner.fromUris([VALIDATOR_URI]);
  const hotkey = (await keys.accounts())[0]!.address;
  await injectTestWallet(page, bittensorTestWallet([{ uri: VALIDATOR_URI, name: 'validator' }]));

  await page.goto(devnet.url + '/#/validate');
  const view = page.locator('[data-view="validate"]');
  await view.locator('[data-action="connect-extension"]').click();
  await expect(view.locator('[data-role="accounts"] option')).toHaveCount(2);
  await view.locator('[data-role="accounts"]').selectOption(hotkey);
  await expect.poll(async () => (await status(page)).hotkey).toBe(hotkey);
  expect((await status(page)).uid).toBeNull();
  await view.locator('[data-action="register"]').click();
  await expect.poll(async () => (await status(page)).uid).toBe(3);
  expect((await status(page)).validatorPermit).toBe(false);
  await expect(view.locator('[data-role="registration"]')).toContainText('no validator permit');
  await view.locator('[data-role="backend"]').selectOption('wasm');
  await view.locator('[data-action="start"]').click();
  await expect.poll(async () => (await status(page)).engine?.backend, { timeout: 120_000 }).toBe('wasm');

  // The miners start on the validator's θ (the run's init) once it runs, so their outer steps track its own.
  miners = await DevnetMiners.start({ devnetUrl: devnet.url, config, uris: ['//LiveMiner0', '//LiveMiner1'], tokens: loadAllTokens().tokens });
  expect(miners.uids).toEqual([0, 2]);

  // ≥ 2 scored windows with finite stage-2 losses, and a weight window passed without a permit.
  const okEvaluations = async (): Promise<number> => (await status(page)).windows.flatMap((w) => Object.values(w.evaluations)).filter((e) => e.status === 'ok').length;
  await expect.poll(okEvaluations, { timeout: 240_000 }).toBeGreaterThanOrEqual(2);
  // (A window's weights-skipped event comes before its report: wait for the report of that window too.)
  const skippedAndReported = async (): Promise<boolean> => {
    const s = await status(page);
    return s.windows.length >= 2 && s.weightsSkipped.some((k) => s.windows.some((w) => w.window === k.window));
  };
  await expect.poll(skippedAndReported, { timeout: 120_000 }).toBe(true);
  const withoutPermit = await status(page);
  expect(withoutPermit.weightsSet).toEqual([]);
  expect(devnet.state.subnet(config.netuid).weights['3']).toBeUndefined();
  for (const w of withoutPermit.windows) {
    for (const [uid, e] of Object.entries(w.evaluations)) {
      expect([0, 2]).toContain(Number(uid));
      if (e.status !== 'ok') continue;
      for (const loss of [e.lossOwnBefore, e.lossOwnAfter, e.lossRandomAfter]) expect(Number.isFinite(loss) && loss > 0).toBe(true);
    }
  }
  // The UI lists the evaluations with their numbers (not only the status object).
  const okRow = view.locator('[data-role="evaluations"] tbody tr').filter({ has: page.locator('td:nth-child(3)', { hasText: /^ok$/ }) }).first();
  await expect(okRow).toBeVisible({ timeout: 60_000 });
  const cells = (await okRow.locator('td').allTextContents()).map((t) => t.trim());
  for (const cell of cells.slice(3, 7)) expect(Number.isFinite(Number(cell)) && Number(cell) > 0).toBe(true);

  // Stake the hotkey: the devnet grants it the only permit, and the next weight window sets weights.
  await new DevnetChain(devnet.url, keys).addStake(hotkey, config.netuid, 10);
  await expect.poll(async () => (await status(page)).weightsSet.length, { timeout: 120_000 }).toBeGreaterThanOrEqual(1);
  const onChain = devnet.state.subnet(config.netuid).weights['3'];
  expect(onChain).toBeDefined();
  const withPermit = await status(page);
  expect(withPermit.validatorPermit).toBe(true);
  expect(onChain!.uids).toEqual(withPermit.weightsSet[0]!.uids);
  expect(onChain!.uids.some((uid) => uid === 0 || uid === 2)).toBe(true);
  await expect(view.locator('[data-role="weights"] td').first()).toBeVisible();

  // The dashboard shows OpenSkill ratings once a window has had two valid evaluations (a match, §7.3).
  const rated = async (): Promise<boolean> => page.evaluate(() => window.gauntlet!.ui.flush()['validate-live']?.scores.peers.some((p) => p.mu !== null) ?? false);
  await expect.poll(rated, { timeout: 120_000 }).toBe(true);
  await page.screenshot({ path: testInfo.outputPath('validate-live.png'), fullPage: true });
  await testInfo.attach('validate-live', { path: testInfo.outputPath('validate-live.png'), contentType: 'image/png' });
  await page.evaluate(() => window.gauntlet!.ui.validate().session.stop());

  // Start again in the same tab: the scoring state comes back from IndexedDB and the loop goes on
  // after the last scored window instead of scoring it again.
  const lastScored = (await status(page)).windows.at(-1)!.window;
  await view.locator('[data-action="start"]').click();
  await expect.poll(async () => (await status(page)).log.some((m) => m.startsWith(`Resumed this browser's validator state after window ${lastScored}`)), { timeout: 120_000 }).toBe(true);
  await expect.poll(async () => (await status(page)).windows.at(-1)!.window, { timeout: 120_000 }).toBeGreaterThan(lastScored);
  const windows = (await status(page)).windows.map((w) => w.window);
  expect(new Set(windows).size).toBe(windows.length);
  await page.evaluate(() => window.gauntlet!.ui.validate().session.stop());
});
