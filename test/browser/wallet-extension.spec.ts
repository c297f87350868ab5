import { expect, test, type Page } from '@playwright/test';
import { bundleIife } from '../extension/build.ts';
import { injectTestWallet } from '../extension/inject.ts';
import type { TestWalletConfig } from '../extension/test-wallet.ts';
import { BITTENSOR_WALLET_NAME } from '../../src/net/wallets.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { verifySubmission, type SubmissionContext } from '../../src/net/submission.ts';
import { BadSignatureError } from '../../src/net/errors.ts';

/**
 * The real wallet flow with no real extension (chain.md §6): a test-only extension built from
 * @polkadot/extension-inject + a keyring is injected before any page script; the page runs the
 * app's `ExtensionSigner` (web3Enable → web3Accounts → web3FromAddress → signRaw) and Node checks
 * the signature with the app's verifier. The page is a blank document served by `page.route`, so
 * nothing of the UI is involved.
 */
const PAGE_URL = 'http://wallet.test/';

let harnessCode = '';

test.beforeAll(async () => {
  harnessCode = await bundleIife('./dapp-harness.ts', 'GauntletWalletHarness');
});

async function openWithWallet(page: Page, config: TestWalletConfig): Promise<void> {
  await page.route(`${PAGE_URL}**`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>wallet test</title>' }));
  await injectTestWallet(page, config);
  await page.goto(PAGE_URL);
  await page.addScriptTag({ content: harnessCode });
}

interface HarnessWindow {
  gauntletWalletHarness: {
    connect(app: string): Promise<string[]>;
    accounts(): Promise<{ address: string; name?: string }[]>;
    signSubmission(hotkey: string, context: SubmissionContext, bytes: number[]): Promise<{ signature?: `0x${string}`; error?: { name: string; message: string } }>;
  };
  __gauntletTestWalletLog: { kind: string; address: string }[];
}

const context: SubmissionContext = { runId: 'wallet-test-run', runHash: 'cd'.repeat(32), netuid: 3, window: 42, uid: 1 };
const submission = Array.from({ length: 777 }, (_, i) => (i * 97 + 5) & 0xff);

test('a submission signed through the injected Bittensor-named extension verifies; tampering and replays do not', async ({ page }) => {
  const keys = await KeyringSigner.fromUris([]);
  const hotkey = keys.add('//Alice//hotkey');
  const other = keys.add('//Bob');
  await openWithWallet(page, { name: BITTENSOR_WALLET_NAME, version: '0.0.1-test', accounts: [{ uri: '//Alice//hotkey', name: 'hotkey' }, { uri: '//Bob', name: 'bob' }] });

  const names = await page.evaluate((app) => (window as unknown as HarnessWindow).gauntletWalletHarness.connect(app), 'gauntlet-test');
  expect(names).toEqual([BITTENSOR_WALLET_NAME]);
  const accounts = await page.evaluate(() => (window as unknown as HarnessWindow).gauntletWalletHarness.accounts());
  expect(accounts.map((a) => a.address).sort()).toEqual([hotkey, other].sort());

  const signed = await page.evaluate(
    ({ hotkey, context, submission }) => (window as unknown as HarnessWindow).gauntletWalletHarness.signSubmission(hotkey, context, submission),
    { hotkey, context, submission },
  );
  const signature = signed.signature;
  if (signature === undefined) throw new Error(`wallet did not sign: ${JSON.stringify(signed.error)}`);
  const log = await page.evaluate(() => (window as unknown as HarnessWindow).__gauntletTestWalletLog);
  expect(log).toEqual([{ kind: 'raw', address: hotkey }]);

  const bytes = Uint8Array.from(submission);
  expect(() => verifySubmission(context, bytes, signature, hotkey)).not.toThrow();

  const tampered = bytes.slice();
  tampered[100] = (tampered[100] ?? 0) ^ 0x01;
  expect(() => verifySubmission(context, tampered, signature, hotkey)).toThrow(BadSignatureError);
  expect(() => verifySubmission({ ...context, window: context.window + 1 }, bytes, signature, hotkey)).toThrow(BadSignatureError);
  expect(() => verifySubmission({ ...context, uid: 2 }, bytes, signature, hotkey)).toThrow(BadSignatureError);
  expect(() => verifySubmission({ ...context, runId: 'another-run' }, bytes, signature, hotkey)).toThrow(BadSignatureError);
  // The same run id under another run config (another run hash) does not verify either.
  expect(() => verifySubmission({ ...context, runHash: 'ce'.repeat(32) }, bytes, signature, hotkey)).toThrow(BadSignatureError);
  expect(() => verifySubmission(context, bytes, signature, other)).toThrow(BadSignatureError);
});

test('a refused signature surfaces as a WalletError', async ({ page }) => {
  const keys = await KeyringSigner.fromUris([]);
  const hotkey = keys.add('//Alice//hotkey');
  await openWithWallet(page, { name: BITTENSOR_WALLET_NAME, version: '0.0.1-test', accounts: [{ uri: '//Alice//hotkey', name: 'hotkey' }], reject: true });
  await page.evaluate((app) => (window as unknown as HarnessWindow).gauntletWalletHarness.connect(app), 'gauntlet-test');
  const result = await page.evaluate(
    ({ hotkey, context, submission }) => (window as unknown as HarnessWindow).gauntletWalletHarness.signSubmission(hotkey, context, submission),
    { hotkey, context, submission },
  );
  expect(result.signature).toBeUndefined();
  expect(result.error?.name).toBe('WalletError');
});
