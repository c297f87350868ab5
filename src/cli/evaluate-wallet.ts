/**
 * The validator's wallet for `npm run evaluate` on a real network. The page's development key is
 * public and refused there, so the CLI holds the hotkey (from its secret URI) in this Node process
 * and gives the page a wallet extension (the `@polkadot/extension-inject` contract the page already
 * speaks, src/net/extension-signer.ts) whose every signature is a call back into Node through
 * Playwright's `exposeFunction`. The secret never enters the page, its workers or the report.
 */
import type { Page } from '@playwright/test';
import { hexToU8a, isHex, stringToU8a } from '@polkadot/util';
import { KeyringSigner } from '../net/keyring-signer.ts';

/** The `injectedWeb3` name the page shows for this wallet. */
export const EVALUATE_WALLET_NAME = 'gauntlet-evaluate-cli';
const SIGN_FUNCTION = '__gauntletEvaluateSignRaw';

/** The hotkey (SS58 address) of a secret URI, derived in this process. */
export async function hotkeyOfUri(uri: string): Promise<string> {
  return (await KeyringSigner.fromUris([])).add(uri);
}

/** Derives the hotkey from `uri`, installs the wallet in `page` (before its first navigation) and returns the hotkey's address. */
export async function installCliWallet(page: Page, uri: string): Promise<string> {
  const keys = await KeyringSigner.fromUris([]);
  const hotkey = keys.add(uri, 'evaluate validator');
  await page.exposeFunction(SIGN_FUNCTION, async (address: string, data: string): Promise<string> => {
    if (address !== hotkey) throw new Error(`The evaluate wallet holds only ${hotkey}, not ${address}.`);
    // What an extension does with `signRaw({ type: 'bytes' })`: the data as hex (or text), <Bytes>-wrapped by the signer.
    return keys.signRaw(address, isHex(data) ? hexToU8a(data) : stringToU8a(data));
  });
  await page.addInitScript(
    ({ name, address, sign }) => {
      type SignRaw = (address: string, data: string) => Promise<string>;
      const scope = window as unknown as { injectedWeb3?: Record<string, unknown> } & Record<string, SignRaw | undefined>;
      const accounts = [{ address, name: 'evaluate validator', type: 'sr25519' }];
      let nextId = 1;
      const injected = {
        accounts: {
          get: () => Promise.resolve(accounts),
          subscribe: (callback: (list: typeof accounts) => void) => {
            callback(accounts);
            return () => undefined;
          },
        },
        signer: {
          signRaw: async (raw: { address: string; data: string }) => ({ id: nextId++, signature: await scope[sign]!(raw.address, raw.data) }),
        },
      };
      scope.injectedWeb3 = { ...scope.injectedWeb3, [name]: { version: '1', enable: () => Promise.resolve(injected) } };
    },
    { name: EVALUATE_WALLET_NAME, address: hotkey, sign: SIGN_FUNCTION },
  );
  return hotkey;
}
