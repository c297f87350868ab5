import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleIife } from '../extension/build.ts';
import { bittensorTestWallet, injectTestWallet } from '../extension/inject.ts';
import { BITTENSOR_WALLET_NAME } from '../../src/net/wallets.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { verifySubmission, type SubmissionContext } from '../../src/net/submission.ts';
import { startDevnet, type RunningDevnet } from '../../src/devnet/server.ts';
import { DevnetChain, DevnetStorage } from '../../src/net/devnet-client.ts';
import { BadSignatureError, TooLateError } from '../../src/net/errors.ts';

/**
 * The devnet clients in a real page (fetch + the browser's WebSocket, cross-origin isolated by the
 * devnet's headers) with the injected test wallet: a browser miner registers, signs and uploads;
 * Node reads the object back under the put-window gate and verifies the signature.
 */
let devnet: RunningDevnet;
let dir: string;
let harnessCode = '';

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'devnet-browser-'));
  const appDir = join(dir, 'app');
  mkdirSync(appDir);
  writeFileSync(join(appDir, 'index.html'), '<!doctype html><title>devnet wallet test</title>');
  // The harness registers on the context's netuid (5): the run's subnet here, the only one whose hotkeys may write.
  devnet = await startDevnet({ dir: join(dir, 'state'), appDir, blockTimeMs: 200, runNetuid: 5 });
  harnessCode = await bundleIife('./dapp-harness.ts', 'GauntletWalletHarness');
});
test.afterAll(async () => {
  await devnet.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Harness {
  connect(app: string): Promise<string[]>;
  watchBlocks(baseUrl: string, count: number): Promise<number[]>;
  registerAndSubmit(baseUrl: string, hotkey: string, context: SubmissionContext, key: string, bytes: number[]): Promise<{ uid: number; lastModifiedMs: number }>;
}

test('a browser miner registers, signs and uploads through the wallet; Node verifies under the time gate', async ({ page }) => {
  const keys = await KeyringSigner.fromUris([]);
  const hotkey = keys.add('//Miner//hotkey');
  await injectTestWallet(page, bittensorTestWallet([{ uri: '//Miner//hotkey', name: 'miner' }]));
  const response = await page.goto(devnet.url + '/');
  expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
  await page.addScriptTag({ content: harnessCode });
  const names = await page.evaluate((app) => (window as unknown as { gauntletWalletHarness: Harness }).gauntletWalletHarness.connect(app), 'gauntlet-devnet-test');
  expect(names).toEqual([BITTENSOR_WALLET_NAME]);

  const blocks = await page.evaluate(({ url }) => (window as unknown as { gauntletWalletHarness: Harness }).gauntletWalletHarness.watchBlocks(url, 3), { url: devnet.url });
  expect(blocks[1]).toBeGreaterThan(blocks[0] ?? Infinity);
  expect(blocks[2]).toBeGreaterThan(blocks[1] ?? Infinity);

  const context: SubmissionContext = { runId: 'devnet-browser', runHash: 'ab'.repeat(32), netuid: 5, window: 9, uid: -1 };
  const bytes = Array.from({ length: 2048 }, (_, i) => (i * 131 + 7) & 0xff);
  const before = Date.now();
  const submitted = await page.evaluate(
    ({ url, hotkey, context, bytes }) => (window as unknown as { gauntletWalletHarness: Harness }).gauntletWalletHarness.registerAndSubmit(url, hotkey, context, 'gradient-9-0', bytes),
    { url: devnet.url, hotkey, context, bytes },
  );
  const after = Date.now();

  const chain = new DevnetChain(devnet.url);
  expect((await chain.metagraph(5)).hotkeys[submitted.uid]).toBe(hotkey);
  const reader = new DevnetStorage(devnet.url, undefined, undefined);
  const gate = { timeMinMs: before - 500, timeMaxMs: after + 500 };
  const object = await reader.get(hotkey, 'gradient-9-0', { gate });
  const signature = new TextDecoder().decode((await reader.get(hotkey, 'gradient-9-0.sig')).data) as `0x${string}`;
  const signed = { ...context, uid: submitted.uid };
  expect(() => verifySubmission(signed, object.data, signature, hotkey)).not.toThrow();
  expect(() => verifySubmission({ ...signed, window: 10 }, object.data, signature, hotkey)).toThrow(BadSignatureError);
  await expect(reader.get(hotkey, 'gradient-9-0', { gate: { timeMinMs: before - 60_000, timeMaxMs: object.info.lastModifiedMs - 1 } })).rejects.toThrow(TooLateError);
});
