/**
 * TEST-ONLY wallet extension (chain.md §6), never imported by app code. Bundled as an IIFE by
 * `build.ts` and injected with `page.addInitScript` after a config script that sets
 * `window.__gauntletTestWallet`. It registers under the configured `injectedWeb3` name through
 * `@polkadot/extension-inject` and signs with a @polkadot/keyring through `injectedKeyringSigner`.
 */
import { injectExtension } from '@polkadot/extension-inject';
import type { Injected, InjectedAccount } from '@polkadot/extension-inject/types';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { injectedKeyringSigner, type SignLogEntry } from './injected-keyring-signer.ts';

export interface TestWalletConfig {
  readonly name: string;
  readonly version: string;
  readonly accounts: readonly { uri: string; name: string }[];
  /** When true the wallet refuses every signature, as a user pressing "Cancel". */
  readonly reject?: boolean;
}

interface TestWalletWindow {
  __gauntletTestWallet?: TestWalletConfig;
  __gauntletTestWalletLog?: SignLogEntry[];
}

const global = window as unknown as TestWalletWindow;
const config = global.__gauntletTestWallet;
if (config === undefined) throw new Error('test wallet: set window.__gauntletTestWallet before injecting the bundle');
const log: SignLogEntry[] = [];
global.__gauntletTestWalletLog = log;

const ready = cryptoWaitReady().then(() => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  for (const account of config.accounts) keyring.addFromUri(account.uri, { name: account.name });
  return keyring;
});

async function enable(_origin: string): Promise<Injected> {
  const keyring = await ready;
  const accounts: InjectedAccount[] = keyring.getPairs().map((p) => ({ address: p.address, name: String(p.meta.name), type: 'sr25519' }));
  return {
    accounts: {
      get: () => Promise.resolve(accounts),
      subscribe: (cb) => {
        void cb(accounts);
        return () => undefined;
      },
    },
    signer: injectedKeyringSigner(keyring, log, config?.reject === true),
  };
}

injectExtension(enable, { name: config.name, version: config.version });
