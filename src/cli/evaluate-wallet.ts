/**
 * The validator's wallet for `npm run evaluate` on a real network. The page's development key is
 * public and refused there, so the CLI holds the hotkey (from its secret URI) in this Node process
 * and gives the page a wallet extension (the `@polkadot/extension-inject` contract the page already
 * speaks, src/net/extension-signer.ts) whose every signature is a call back into Node through
 * Playwright's `exposeFunction`. The secret never enters the page, its workers or the report.
 */
import type { Page } from '@playwright/test';
import { TypeRegistry } from '@polkadot/types';
import type { SignerPayloadJSON, SignerResult } from '@polkadot/types/types';
import { hexToU8a, isHex, stringToU8a } from '@polkadot/util';
import { KeyringSigner } from '../net/keyring-signer.ts';
import { SUBTENSOR_SIGNED_EXTENSIONS } from '../net/subtensor-encoding.ts';

/** The `injectedWeb3` name the page shows for this wallet. */
export const EVALUATE_WALLET_NAME = 'gauntlet-evaluate-cli';
const SIGN_FUNCTION = '__gauntletEvaluateSignRaw';
const SIGN_PAYLOAD_FUNCTION = '__gauntletEvaluateSignPayload';
/** The name the wallet gives its one account. */
const ACCOUNT_NAME = 'evaluate validator';

/** What the page side of the wallet needs to know: all of it public (the secret stays in Node). */
interface WalletInitArgs {
  /** The `injectedWeb3` key. */
  readonly name: string;
  /** The hotkey's SS58 address, the wallet's only account. */
  readonly address: string;
  readonly accountName: string;
  /** The `window` names of the exposed Node callbacks that sign raw bytes and extrinsic payloads. */
  readonly sign: string;
  readonly signPayload: string;
}

/**
 * The page side of the wallet as plain JavaScript source, its arguments JSON-encoded into it. A
 * string, not a function for Playwright to serialise: a function's source is whatever the calling
 * module was transpiled to, and under tsx (how `npm run evaluate` runs) esbuild wraps named
 * functions in `__name(...)`, a helper that does not exist in the page, so the script threw
 * `__name is not defined` and the wallet never appeared. It injects an `@polkadot/extension-inject`
 * extension with one account whose `signRaw` and `signPayload` call back into Node.
 */
function walletInitScript(args: WalletInitArgs): string {
  return `(() => {
  const { name, address, accountName, sign, signPayload } = ${JSON.stringify(args)};
  const accounts = [{ address, name: accountName, type: 'sr25519' }];
  let nextId = 1;
  const injected = {
    accounts: {
      get: () => Promise.resolve(accounts),
      subscribe: (callback) => {
        callback(accounts);
        return () => undefined;
      },
    },
    signer: {
      signRaw: async (raw) => ({ id: nextId++, signature: await window[sign](raw.address, raw.data) }),
      signPayload: (payload) => window[signPayload](payload),
    },
  };
  window.injectedWeb3 = { ...window.injectedWeb3, [name]: { version: '1', enable: () => Promise.resolve(injected) } };
})();
`;
}

/**
 * Signs an extrinsic payload as a wallet extension without stored metadata does (`extension-base`):
 * the payload is rebuilt in a fresh registry that knows its signed extensions, subtensor's own
 * included (chain.md §4), and signed with the hotkey's pair. The validator's weights on a real network.
 */
export function signPayloadWithKeys(keys: KeyringSigner, payload: SignerPayloadJSON, id: number): SignerResult {
  const registry = new TypeRegistry();
  registry.setSignedExtensions(payload.signedExtensions, SUBTENSOR_SIGNED_EXTENSIONS);
  const { signature } = registry.createType('ExtrinsicPayload', payload, { version: payload.version }).sign(keys.pair(payload.address));
  return { id, signature };
}

/** The hotkey (SS58 address) of a secret URI, derived in this process. */
export async function hotkeyOfUri(uri: string): Promise<string> {
  return (await KeyringSigner.fromUris([])).add(uri);
}

/** Derives the hotkey from `uri`, installs the wallet in `page` (before its first navigation) and returns the hotkey's address. */
export async function installCliWallet(page: Page, uri: string): Promise<string> {
  const keys = await KeyringSigner.fromUris([]);
  const hotkey = keys.add(uri, ACCOUNT_NAME);
  await page.exposeFunction(SIGN_FUNCTION, async (address: string, data: string): Promise<string> => {
    if (address !== hotkey) throw new Error(`The evaluate wallet holds only ${hotkey}, not ${address}.`);
    // What an extension does with `signRaw({ type: 'bytes' })`: the data as hex (or text), <Bytes>-wrapped by the signer.
    return keys.signRaw(address, isHex(data) ? hexToU8a(data) : stringToU8a(data));
  });
  let payloads = 0;
  await page.exposeFunction(SIGN_PAYLOAD_FUNCTION, (payload: SignerPayloadJSON): SignerResult => {
    if (keys.pair(payload.address).address !== hotkey) throw new Error(`The evaluate wallet holds only ${hotkey}, not ${payload.address}.`);
    return signPayloadWithKeys(keys, payload, ++payloads);
  });
  await page.addInitScript({ content: walletInitScript({ name: EVALUATE_WALLET_NAME, address: hotkey, accountName: ACCOUNT_NAME, sign: SIGN_FUNCTION, signPayload: SIGN_PAYLOAD_FUNCTION }) });
  return hotkey;
}
