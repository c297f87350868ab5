/**
 * TEST-ONLY wallet extension (chain.md §6), never imported by app code. Bundled as an IIFE by
 * `build.ts` and injected with `page.addInitScript` after a config script that sets
 * `window.__gauntletTestWallet`. It registers under the configured `injectedWeb3` name through
 * `@polkadot/extension-inject` and signs with a @polkadot/keyring the way `extension-base` does:
 * `signRaw` signs `<Bytes>‖data‖</Bytes>`; `signPayload` builds an `ExtrinsicPayload` in a fresh
 * TypeRegistry with the payload's signed extensions (the path of a wallet without stored metadata).
 */
import { injectExtension } from '@polkadot/extension-inject';
import type { Injected, InjectedAccount } from '@polkadot/extension-inject/types';
import { Keyring } from '@polkadot/keyring';
import { TypeRegistry } from '@polkadot/types';
import type { SignerPayloadJSON, SignerPayloadRaw, SignerResult } from '@polkadot/types/types';
import { hexToU8a, isHex, stringToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';

export interface TestWalletConfig {
  readonly name: string;
  readonly version: string;
  readonly accounts: readonly { uri: string; name: string }[];
  /** When true the wallet refuses every signature, as a user pressing "Cancel". */
  readonly reject?: boolean;
}

interface TestWalletWindow {
  __gauntletTestWallet?: TestWalletConfig;
  __gauntletTestWalletLog?: { kind: 'raw' | 'payload'; address: string }[];
}

const global = window as unknown as TestWalletWindow;
const config = global.__gauntletTestWallet;
if (config === undefined) throw new Error('test wallet: set window.__gauntletTestWallet before injecting the bundle');
const log: { kind: 'raw' | 'payload'; address: string }[] = [];
global.__gauntletTestWalletLog = log;

const ready = cryptoWaitReady().then(() => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  for (const account of config.accounts) keyring.addFromUri(account.uri, { name: account.name });
  return keyring;
});

let nextId = 1;

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
    signer: {
      signRaw: (raw: SignerPayloadRaw): Promise<SignerResult> => {
        log.push({ kind: 'raw', address: raw.address });
        if (config?.reject === true) return Promise.reject(new Error('Cancelled'));
        const data = isHex(raw.data) ? hexToU8a(raw.data) : stringToU8a(raw.data);
        return Promise.resolve({ id: nextId++, signature: u8aToHex(keyring.getPair(raw.address).sign(u8aWrapBytes(data))) });
      },
      signPayload: (payload: SignerPayloadJSON): Promise<SignerResult> => {
        log.push({ kind: 'payload', address: payload.address });
        if (config?.reject === true) return Promise.reject(new Error('Cancelled'));
        const registry = new TypeRegistry();
        registry.setSignedExtensions(payload.signedExtensions);
        const extrinsicPayload = registry.createType('ExtrinsicPayload', payload, { version: payload.version });
        const { signature } = extrinsicPayload.sign(keyring.getPair(payload.address));
        return Promise.resolve({ id: nextId++, signature });
      },
    },
  };
}

injectExtension(enable, { name: config.name, version: config.version });
