import { expect, test } from '@playwright/test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { chainSpec } from '@substrate/connect-known-chains/rococo_v2_2_asset_hub';
import { bundleIife } from '../extension/build.ts';
import { bittensorTestWallet, injectTestWallet } from '../extension/inject.ts';
import { SubtensorChain } from '../../src/net/subtensor-chain.ts';

/**
 * The chain client in a real page against a real Substrate runtime: Rococo Asset Hub booted offline
 * by chopsticks (in memory, one block per transaction). The page runs `SubtensorChain` (@polkadot/api
 * over the browser's WebSocket) and signs through the injected test wallet's `signPayload` via
 * `ExtensionSigner`; Node checks the outcome in chain storage. Not subtensor pallets (chain.md §7).
 */
process.env.LOG_LEVEL ??= 'error';
const { setupWithServer, BuildBlockMode } = await import('@acala-network/chopsticks');

let server: Awaited<ReturnType<typeof setupWithServer>>;
let rpc: WsProvider;
let harnessCode = '';
/**
 * The page comes from a real loopback HTTP server: Chromium's local-network-access checks block a
 * loopback WebSocket from any page not actually served from a local address (a `page.route`
 * answer included: net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS).
 */
let pageServer: Server;
const pageUrl = (): string => `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`;

test.beforeAll(async () => {
  server = await setupWithServer({ genesis: JSON.parse(chainSpec) as never, port: 0, host: '127.0.0.1', 'build-block-mode': BuildBlockMode.Instant });
  rpc = new WsProvider(`ws://${server.addr}`);
  await rpc.isReady;
  pageServer = createServer((_, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>chain test</title>'));
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', () => resolve()));
  harnessCode = await bundleIife('./dapp-harness.ts', 'GauntletWalletHarness');
});
test.afterAll(async () => {
  await rpc.disconnect();
  await server.close();
  await new Promise((resolve) => pageServer.close(resolve));
});

interface Harness {
  connect(app: string): Promise<string[]>;
  substrateTransfer(wsUrl: string, from: string, to: string, amount: string, count: number): Promise<{ specName: string; heads: number[]; block: number; timestampMs: number }>;
}

async function freeBalance(address: string): Promise<bigint> {
  const chain = await SubtensorChain.connect(`ws://${server.addr}`);
  try {
    const account = (await chain.api.query.system?.account?.(address))?.toJSON() as { data: { free: string | number } } | undefined;
    return BigInt(account?.data.free ?? 0);
  } finally {
    await chain.close();
  }
}

test('the page signs a transfer with the injected wallet and the runtime includes it', async ({ page }) => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const alice = keyring.addFromUri('//Alice').address;
  const charlie = keyring.addFromUri('//Charlie').address;
  const funds = 10n ** 18n;
  await rpc.send('dev_setStorage', [{ System: { Account: [[[alice], { providers: 1, data: { free: funds.toString() } }]] } }]);

  await injectTestWallet(page, bittensorTestWallet([{ uri: '//Alice', name: 'alice' }]));
  await page.goto(pageUrl());
  await page.addScriptTag({ content: harnessCode });
  await page.evaluate((app) => (window as unknown as { gauntletWalletHarness: Harness }).gauntletWalletHarness.connect(app), 'gauntlet-chain-test');

  const amount = 10n ** 13n;
  const seen = await page.evaluate(
    ({ url, alice, charlie, amount }) => (window as unknown as { gauntletWalletHarness: Harness }).gauntletWalletHarness.substrateTransfer(url, alice, charlie, amount, 1),
    { url: `ws://${server.addr}`, alice, charlie, amount: amount.toString() },
  );
  expect(seen.specName).toBe('statemine');
  expect(seen.heads).toContain(seen.block);
  expect(seen.timestampMs).toBeGreaterThan(0);
  const log = await page.evaluate(() => (window as unknown as { __gauntletTestWalletLog: { kind: string }[] }).__gauntletTestWalletLog);
  expect(log.map((e) => e.kind)).toEqual(['payload']);
  expect(await freeBalance(charlie)).toBe(amount);
});
