import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EVALUATE_WALLET_NAME, installCliWallet } from '../../src/cli/evaluate-wallet.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { createRunDocument } from '../../src/core/run-document.ts';
import { startDevnet } from '../../src/devnet/server.ts';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import type { ValidateStatus } from '../../src/ui/validate/session.ts';
import { startNonSubtensorNode } from './network-helpers.ts';

/**
 * The Validate view's network choice (the Contribute view's form, shared): a reachable Substrate
 * node that is not subtensor (Rococo Asset Hub under chopsticks, a real runtime in memory) is
 * connected to for real by the page's SubtensorChain and refused with the reason; the storage secret
 * never shows; the page stays on the devnet and its wallet steps still work.
 */
const SECRET = 'never-show-this-validator-secret-4207';

const status = (page: Page): Promise<ValidateStatus> => page.evaluate(() => window.gauntlet!.ui.validate().session.status());

test('the validator dials a non-subtensor runtime for real, is refused with the reason, and the page stays usable', async ({ page }) => {
  test.setTimeout(180_000);
  const node = await startNonSubtensorNode();
  try {
    await page.goto('/#/validate');
    const view = page.locator('[data-view="validate"]');
    const form = view.locator('[data-role="real-network"]');
    await expect(form).toBeHidden();
    await view.locator('[data-role="network"]').selectOption('real');
    await expect(form).toBeVisible();
    // The shared form names the bad field before anything is dialled.
    await view.locator('[data-action="connect-network"]').click();
    await expect(view.locator('[data-role="network-error"]')).toContainText('is not a URL');

    await view.locator('[data-field="endpoint"]').fill(`ws://${node.addr}`);
    await view.locator('[data-role="own-bucket"] summary').click();
    await view.locator('[data-field="storageEndpoint"]').fill('http://127.0.0.1:9');
    await view.locator('[data-field="bucket"]').fill('0123456789abcdef0123456789abcdef');
    await view.locator('[data-field="accessKeyId"]').fill('AKIDEXAMPLE');
    await view.locator('[data-field="secretAccessKey"]').fill(SECRET);
    await view.locator('[data-action="connect-network"]').click();
    // Connected (the page read the head and the runtime's metadata), then the metagraph read names what is missing.
    const problem = view.locator('[data-role="network-error"]');
    await expect(problem).toContainText('no storage subtensorModule', { timeout: 120_000 });
    await expect(problem).toContainText('not a subtensor runtime');
    await expect(problem).toContainText('still runs on the previous network');
    const after = await status(page);
    expect(after.network).toEqual({ kind: 'devnet', url: after.devnetUrl });
    expect(after.log.some((m) => m.startsWith(`Connecting to ws://${node.addr}`))).toBe(true);
    expect(JSON.stringify(after)).not.toContain(SECRET);

    // Back on the devnet the wallet step works as before.
    await view.locator('[data-role="network"]').selectOption('devnet');
    await expect(form).toBeHidden();
    await view.locator('[data-action="development-key"]').click();
    await expect.poll(async () => (await status(page)).log.some((m) => m.startsWith('Using the devnet development key'))).toBe(true);
    expect((await status(page)).log.join('\n')).not.toContain(SECRET);
  } finally {
    await node.close();
  }
});

test("npm run evaluate's wallet: the page sees only the hotkey, every signature is made in Node and the devnet accepts it", async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'validate-cli-wallet-'));
  const devnet = await startDevnet({ dir, appDir: resolve('dist'), run: createRunDocument(tinyRunConfig()) });
  try {
    const hotkey = await installCliWallet(page, '//EvaluateWalletTest//validator');
    await page.goto(devnet.url + '/#/validate');
    const view = page.locator('[data-view="validate"]');
    await view.locator('[data-action="connect-extension"]').click();
    await expect.poll(async () => (await status(page)).accounts.map((a) => a.address)).toEqual([hotkey]);
    expect((await status(page)).walletNames).toEqual([EVALUATE_WALLET_NAME]);
    await view.locator('[data-role="accounts"]').selectOption(hotkey);
    await expect.poll(async () => (await status(page)).hotkey).toBe(hotkey);
    // Registration is a devnet request signed through the wallet: the devnet verifies the signature made in Node.
    await view.locator('[data-action="register"]').click();
    await expect.poll(async () => (await status(page)).uid, { timeout: 60_000 }).not.toBeNull();
    const registered = await new DevnetChain(devnet.url).metagraph(tinyRunConfig().netuid);
    expect(registered.hotkeys).toContain(hotkey);
    // The secret URI never reaches the page.
    expect(await page.content()).not.toContain('//EvaluateWalletTest');
    expect(JSON.stringify(await status(page))).not.toContain('//EvaluateWalletTest');
  } finally {
    await devnet.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
