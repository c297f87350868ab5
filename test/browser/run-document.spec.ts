import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runConfigHash, smallRunConfig, tinyRunConfig } from '../../src/core/run-config.ts';
import { createRunDocument } from '../../src/core/run-document.ts';
import { startDevnet, type RunningDevnet } from '../../src/devnet/server.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { parameterCount } from '../../src/model/params.ts';
import type { ContributeStatus } from '../../src/ui/contribute/session.ts';
import type { ValidateStatus } from '../../src/ui/validate/session.ts';

/**
 * The network defines the run (issue #17), in the browser: the page reads the run document it was
 * served with and shows which run it joined; the miner and validator workers fetch the network's
 * document themselves and refuse to start on another run, with both hashes in the message; and a
 * page served by a devnet of the small preset trains the small model (the parameter count read back
 * from the engine the worker built). No test here waits for a window.
 */
const tiny = tinyRunConfig();
const small = smallRunConfig();

async function devnetWith(config: ReturnType<typeof tinyRunConfig>, purpose: string): Promise<{ devnet: RunningDevnet; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `run-document-${purpose}-`));
  // The owner holds the run's burn uid, so the development keys register as ordinary peers.
  const owner = (await (await KeyringSigner.fromUris(['//Owner'])).accounts())[0]!.address;
  const devnet = await startDevnet({ dir, appDir: resolve('dist'), run: createRunDocument(config), subnetOwners: [{ netuid: config.netuid, hotkey: owner, uid: config.scoring.burnUid }] });
  return { devnet, close: async () => { await devnet.close(); rmSync(dir, { recursive: true, force: true }); } };
}

const contributeStatus = (page: Page): Promise<ContributeStatus> => page.evaluate(() => window.gauntlet!.ui.contribute().session.status());
const validateStatus = (page: Page): Promise<ValidateStatus> => page.evaluate(() => window.gauntlet!.ui.validate().session.status());

test('the page shows the run it serves and refuses a pinned other run; the miner and the validator refuse to start on another run', async ({ page }) => {
  const { devnet, close } = await devnetWith(tiny, 'tiny');
  try {
    await page.goto(`${devnet.url}/#/contribute`);
    await expect(page.locator('#run-summary')).toHaveAttribute('data-run-hash', runConfigHash(tiny));
    await expect(page.locator('#run-summary')).toContainText(`Run ${tiny.runId}: the tiny preset, ${parameterCount(tiny.model).toLocaleString('en')} parameters`);

    // Pinned to the small run, the same page refuses the tiny document it was served with.
    await page.goto(`${devnet.url}/?run-hash=${runConfigHash(small)}#/contribute`);
    await expect(page.locator('#run-summary')).toContainText(`expected run hash ${runConfigHash(small)}, got ${runConfigHash(tiny)}`);

    // The miner: a Start that brings another run (as a headless driver could) is refused by the worker, which read the devnet's document.
    await page.goto(`${devnet.url}/#/contribute`);
    await page.click('[data-action="development-key"]');
    await page.click('[data-action="register"]');
    await expect.poll(async () => (await contributeStatus(page)).uid).not.toBeNull();
    const mined = await page.evaluate((runConfig) => window.gauntlet!.ui.contribute().session.start('wasm', { runConfig }).then(() => 'started', (error: unknown) => String(error)), small);
    expect(mined).toContain('RunHashMismatchError');
    expect(mined).toContain(`expected run hash ${runConfigHash(small)}, got ${runConfigHash(tiny)}`);
    await expect(page.locator('[data-view="contribute"] [data-role="message"]')).toContainText('Could not start: The run document from');
    expect((await contributeStatus(page)).running).toBe(false);

    // The validator, the same.
    await page.goto(`${devnet.url}/#/validate`);
    const view = page.locator('[data-view="validate"]');
    await view.locator('[data-action="development-key"]').click();
    await view.locator('[data-action="register"]').click();
    await expect.poll(async () => (await validateStatus(page)).uid).not.toBeNull();
    const validated = await page.evaluate((runConfig) => window.gauntlet!.ui.validate().session.start('wasm', { runConfig }).then(() => 'started', (error: unknown) => String(error)), small);
    expect(validated).toContain(`expected run hash ${runConfigHash(small)}, got ${runConfigHash(tiny)}`);
    expect((await validateStatus(page)).running).toBe(false);
  } finally {
    await close();
  }
});

test('a browser peer on a devnet of the small preset trains the small model', async ({ page }) => {
  test.setTimeout(300_000);
  const { devnet, close } = await devnetWith(small, 'small');
  try {
    await page.goto(`${devnet.url}/#/contribute`);
    await expect(page.locator('#run-summary')).toContainText('the small preset');
    await page.click('[data-action="development-key"]');
    await page.click('[data-action="register"]');
    await expect.poll(async () => (await contributeStatus(page)).uid).not.toBeNull();
    await page.selectOption('[data-role="backend"]', 'wasm');
    await page.click('[data-action="start"]');
    // The count the engine reports for the model it built, not the page's own arithmetic.
    await expect.poll(async () => (await contributeStatus(page)).engine?.parameterCount ?? null, { timeout: 240_000 }).toBe(parameterCount(small.model));
    expect(parameterCount(small.model)).toBeGreaterThan(parameterCount(tiny.model));
    await page.evaluate(() => window.gauntlet!.ui.contribute().session.stop());
  } finally {
    await close();
  }
});
