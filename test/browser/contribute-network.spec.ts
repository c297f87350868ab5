import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { createRunDocument } from '../../src/core/run-document.ts';
import { startDevnet } from '../../src/devnet/server.ts';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { DEV_ACCOUNT_URI, type ContributeStatus } from '../../src/ui/contribute/session.ts';
import { closedPort, startNonSubtensorNode } from './network-helpers.ts';

/**
 * The Contribute page's network choice (issue #8): the subtensor form names each bad field, a
 * well-formed but unreachable endpoint is really dialled (the page's SubtensorChain over the
 * browser's WebSocket) and fails with a clear error, the storage secret never shows in the status
 * or the log, and the page stays usable on the devnet. The bucket commitment's read-only token is
 * checked with the form, and publishing it is refused off a subtensor network. And a hotkey at the
 * run's burn uid never mines.
 */
const config = tinyRunConfig();
const SECRET = 'never-show-this-secret-4201';

test('subtensor settings: typed field errors, a clear error for an unreachable endpoint, the secret kept out of sight, the page still usable', async ({ page }) => {
  const status = (): Promise<ContributeStatus> => page.evaluate(() => window.gauntlet!.ui.contribute().session.status());
  await page.goto('/#/contribute');
  const problem = page.locator('[data-role="network-error"]');
  const form = page.locator('[data-role="real-network"]');
  await expect(form).toBeHidden();
  await page.selectOption('[data-role="network"]', 'real');
  await expect(form).toBeVisible();

  await page.click('[data-action="connect-network"]');
  await expect(problem).toContainText('is not a URL');
  await expect(page.locator('[data-field="endpoint"]')).toHaveAttribute('aria-invalid', 'true');
  await page.fill('[data-field="endpoint"]', 'https://127.0.0.1:9944');
  await page.click('[data-action="connect-network"]');
  await expect(problem).toContainText('use ws:// or wss://');

  const port = await closedPort();
  await page.fill('[data-field="endpoint"]', `ws://127.0.0.1:${port}`);
  await page.fill('[data-field="netuid"]', '70000');
  await page.click('[data-action="connect-network"]');
  await expect(problem).toContainText('enter an integer from 0 to 65535');
  await expect(page.locator('[data-field="netuid"]')).toHaveAttribute('aria-invalid', 'true');
  await page.fill('[data-field="netuid"]', '3');
  await page.click('[data-role="own-bucket"] summary');
  await page.fill('[data-field="storageEndpoint"]', `http://127.0.0.1:${port}`);
  await page.fill('[data-field="bucket"]', 'Not_A_Bucket');
  await page.click('[data-action="connect-network"]');
  await expect(problem).toContainText('is not an S3 bucket name');
  await page.fill('[data-field="bucket"]', '0123456789abcdef0123456789abcdef');
  await page.fill('[data-field="accessKeyId"]', 'AKIDEXAMPLE');
  await page.click('[data-action="connect-network"]');
  await expect(problem).toContainText('secret access key');
  await page.fill('[data-field="secretAccessKey"]', SECRET);

  // Well-formed: the page dials the endpoint for real and reports that nothing answers.
  await page.click('[data-action="connect-network"]');
  await expect(problem).toContainText(`Cannot connect to the chain at ws://127.0.0.1:${port}`, { timeout: 60_000 });
  await expect(problem).toContainText('still runs on the previous network');
  const after = await status();
  expect(after.network).toEqual({ kind: 'devnet', url: after.devnetUrl });
  expect(JSON.stringify(after)).not.toContain(SECRET);
  expect(await page.locator('[data-role="message"]').textContent()).toContain(`ws://127.0.0.1:${port}`);
  await expect(page.locator('[data-action="connect-network"]')).toBeEnabled();

  // The bucket commitment needs a subtensor network in use; the page is still on the devnet and says so.
  await page.click('[data-action="publish-commitment"]');
  await expect(page.locator('[data-role="message"]')).toContainText('a bucket commitment is published on a subtensor network');
  // Its read-only token is checked with the rest of the form, and must not be the write key.
  await page.fill('[data-field="readKeyId"]', 'short');
  await page.click('[data-action="connect-network"]');
  await expect(problem).toContainText('The read key id must be 32 printable characters');
  await expect(page.locator('[data-field="readKeyId"]')).toHaveAttribute('aria-invalid', 'true');
  await page.fill('[data-field="readKeyId"]', 'AKIDEXAMPLE'.padEnd(32, 'X'));
  await page.fill('[data-field="accessKeyId"]', 'AKIDEXAMPLE'.padEnd(32, 'X'));
  await page.fill('[data-field="readSecret"]', 'r'.repeat(64));
  await page.click('[data-action="connect-network"]');
  await expect(problem).toContainText('never the write credentials');

  // Back to the devnet: the form hides and the wallet step works as before.
  await page.selectOption('[data-role="network"]', 'devnet');
  await expect(form).toBeHidden();
  await page.click('[data-action="development-key"]');
  await expect.poll(async () => (await status()).log.some((m) => m.startsWith('Using the devnet development key'))).toBe(true);
  expect((await status()).log.join('\n')).not.toContain(SECRET);
  // The devnet's registration costs nothing: no payer to choose there.
  await expect(page.locator('[data-role="pay-with"]')).toBeHidden();
});

test('a reachable Substrate node that is not subtensor (Rococo Asset Hub under chopsticks) is connected to for real, and refused with the reason', async ({ page }) => {
  const node = await startNonSubtensorNode();
  try {
    await page.goto('/#/contribute');
    await page.selectOption('[data-role="network"]', 'real');
    await page.fill('[data-field="endpoint"]', `ws://${node.addr}`);
    await page.click('[data-role="own-bucket"] summary');
    await page.fill('[data-field="storageEndpoint"]', 'http://127.0.0.1:9');
    await page.fill('[data-field="bucket"]', '0123456789abcdef0123456789abcdef');
    await page.fill('[data-field="accessKeyId"]', 'AKIDEXAMPLE');
    await page.fill('[data-field="secretAccessKey"]', SECRET);
    await page.click('[data-action="connect-network"]');
    // Connected (the page read the head and the runtime's metadata), then the metagraph read names what is missing.
    await expect(page.locator('[data-role="network-error"]')).toContainText('no storage subtensorModule', { timeout: 90_000 });
    const after = await page.evaluate(() => window.gauntlet!.ui.contribute().session.status());
    expect(after.network.kind).toBe('devnet');
    expect(after.log.some((m) => m.startsWith(`Connecting to ws://${node.addr}`))).toBe(true);
    expect(JSON.stringify(after)).not.toContain(SECRET);
  } finally {
    await node.close();
  }
});

test('a hotkey holding the burn uid is told why and cannot start mining', async ({ page }) => {
  // A devnet with no reserved owner (as a state from before reservation, or another network): the development key ends up at uid 1, the burn uid.
  const dir = mkdtempSync(join(tmpdir(), 'contribute-burn-'));
  const devnet = await startDevnet({ dir, appDir: resolve('dist'), run: createRunDocument(config) });
  try {
    const keys = await KeyringSigner.fromUris(['//Alice', DEV_ACCOUNT_URI]);
    const [alice, volunteer] = (await keys.accounts()).map((a) => a.address) as [string, string];
    const chain = new DevnetChain(devnet.url, keys);
    expect(await chain.register(alice, config.netuid)).toMatchObject({ uid: 0 });
    expect(await chain.register(volunteer, config.netuid)).toMatchObject({ uid: config.scoring.burnUid });

    await page.goto(devnet.url + '/#/contribute');
    const status = (): Promise<ContributeStatus> => page.evaluate(() => window.gauntlet!.ui.contribute().session.status());
    await page.click('[data-action="development-key"]');
    await expect.poll(async () => (await status()).uid).toBe(config.scoring.burnUid);
    await expect(page.locator('[data-role="message"]')).toContainText("this run's burn uid");
    await page.click('[data-action="start"]');
    await expect(page.locator('[data-role="message"]')).toContainText('cannot mine here');
    expect((await status()).running).toBe(false);
  } finally {
    await devnet.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a run whose put window cannot fit the chain's windows is refused at Start, with the numbers", async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'contribute-timing-'));
  // 5 blocks of 1 s: a 4.5 s put window plus one block does not fit a 5 s window. The network publishes this run.
  const unfit = { ...config, window: { ...config.window, putWindowMs: 4500 } };
  const devnet = await startDevnet({ dir, appDir: resolve('dist'), blockTimeMs: 1000, run: createRunDocument(unfit) });
  try {
    // The burn uid (1) is taken first, so the volunteer's development key is an ordinary miner.
    const keys = await KeyringSigner.fromUris(['//Alice', '//Owner']);
    const chain = new DevnetChain(devnet.url, keys);
    for (const account of await keys.accounts()) await chain.register(account.address, config.netuid);

    await page.goto(devnet.url + '/#/contribute');
    const status = (): Promise<ContributeStatus> => page.evaluate(() => window.gauntlet!.ui.contribute().session.status());
    await page.click('[data-action="development-key"]');
    await expect(page.locator('[data-role="message"]')).toContainText('press Register.');
    await page.click('[data-action="register"]');
    await expect.poll(async () => (await status()).uid).toBe(2);
    const started = await page.evaluate((runConfig) => window.gauntlet!.ui.contribute().session.start('wasm', { runConfig }).then(() => 'started', (error: unknown) => String(error)), unfit);
    expect(started).toContain('This run cannot work on this chain');
    await expect(page.locator('[data-role="message"]')).toContainText('Could not start: This run cannot work on this chain: a window is 5 blocks × 1000 ms = 5000 ms, but its put window (4500 ms)');
    expect((await status()).running).toBe(false);
  } finally {
    await devnet.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
