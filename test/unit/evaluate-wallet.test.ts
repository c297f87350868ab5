import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hexToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { describe, expect, it } from 'vitest';
import { EVALUATE_WALLET_NAME, hotkeyOfUri } from '../../src/cli/evaluate-wallet.ts';
import { REPO_ROOT } from '../../src/cli/headless-app.ts';
import type { WalletPageReport } from '../fixtures/evaluate-wallet-page.ts';

const run = promisify(execFile);

/**
 * Issue #15: `npm run evaluate -- --network ws://…` never saw its wallet, because under tsx the
 * init script `installCliWallet` handed Playwright was a function wrapped in esbuild's `__name`
 * helpers, which do not exist in the page. The Playwright browser tests load the module through
 * Playwright's own transform, which adds no `__name`, so they could not see it. Here the real
 * `installCliWallet` runs in a process started by the repo's `tsx` (as `npm run evaluate` is),
 * against a headless Chromium page, and the page must find the wallet, its one account and a
 * signature that verifies in this process.
 */
describe('evaluate CLI wallet under tsx', () => {
  it('the page sees the wallet, its hotkey, and signRaw returns a signature by that hotkey', async () => {
    const uri = '//EvaluateWalletTest';
    const data = u8aToHex(new TextEncoder().encode('gauntlet evaluate wallet: a payload hash to sign'));
    const { stdout, stderr } = await run(join(REPO_ROOT, 'node_modules/.bin/tsx'), ['test/fixtures/evaluate-wallet-page.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, EVALUATE_WALLET_URI: uri, EVALUATE_WALLET_DATA: data },
      timeout: 50_000,
    });
    const lines = stdout.trim().split('\n');
    const report = JSON.parse(lines[lines.length - 1] ?? '') as WalletPageReport;
    const hotkey = await hotkeyOfUri(uri);

    expect(report.pageErrors, `the page threw (stderr: ${stderr})`).toEqual([]);
    expect(report.installedHotkey).toBe(hotkey);
    expect(report.injectedNames).toContain(EVALUATE_WALLET_NAME);
    expect(report.wallet, 'window.injectedWeb3 has no evaluate wallet').not.toBeNull();
    expect(report.wallet!.accounts.map((a) => a.address)).toEqual([hotkey]);

    // Extensions sign the <Bytes>-wrapped data (src/net/extension-signer.ts); the hotkey's public key must verify it.
    await cryptoWaitReady();
    const verified = signatureVerify(u8aWrapBytes(hexToU8a(data)), report.wallet!.signature, hotkey);
    expect(verified.isValid).toBe(true);
    expect(verified.crypto).toBe('sr25519');
  });
});
