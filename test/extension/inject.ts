/**
 * Puts the test wallet (test-wallet.ts, an injected extension whose keys live in the page) into a
 * Playwright page the way a real extension arrives: before any script of the app runs.
 */
import type { Page } from '@playwright/test';
import { BITTENSOR_WALLET_NAME } from '../../src/net/wallets.ts';
import { bundleIife } from './build.ts';
import type { TestWalletConfig } from './test-wallet.ts';

let walletBundle: Promise<string> | undefined;

/** The wallet's IIFE bundle, built once per test worker. */
export function testWalletCode(): Promise<string> {
  walletBundle ??= bundleIife('./test-wallet.ts', 'GauntletTestWallet');
  return walletBundle;
}

/** A wallet named like the Bittensor extension holding `accounts` (secret URIs, test keys only). */
export function bittensorTestWallet(accounts: TestWalletConfig['accounts']): TestWalletConfig {
  return { name: BITTENSOR_WALLET_NAME, version: '0.0.1-test', accounts };
}

/** Injects the wallet configured by `config` into every page of `page`'s context, before the app loads. */
export async function injectTestWallet(page: Page, config: TestWalletConfig): Promise<void> {
  await page.addInitScript((c) => {
    (window as unknown as { __gauntletTestWallet: unknown }).__gauntletTestWallet = c;
  }, config);
  await page.addInitScript(await testWalletCode());
}
