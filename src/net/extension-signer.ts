/**
 * A `Signer` over the browser wallet extensions that follow `@polkadot/extension-inject`
 * (chain.md §5): Bittensor Wallet (`@opentensor/bittensor-extension`), polkadot{.js}, Talisman,
 * SubWallet, Nova. Flow: `web3Enable(app)` (retried, because content scripts inject late), then
 * `web3Accounts`, `web3FromAddress(address).signer.signRaw({ type: 'bytes' })`. Extensions sign the
 * `<Bytes>`-wrapped data; the verifier accepts that form.
 */
import type { InjectedExtension } from '@polkadot/extension-inject/types';
import type { Signer as PolkadotSigner } from '@polkadot/types/types';
import { isHex, u8aToHex } from '@polkadot/util';
import { WalletError } from './errors.ts';
import { BITTENSOR_SS58_PREFIX } from './keyring-signer.ts';
import type { HexString, Signer, SignerAccount } from './types.ts';
import { BITTENSOR_WALLET_NAME } from './wallets.ts';
import { errorMessage } from '../core/errors.ts';

/** extension-dapp reads `window` when loaded: load it only when a page connects, never in Node or a Worker. */
async function extensionDapp(): Promise<typeof import('@polkadot/extension-dapp')> {
  if (typeof window === 'undefined') throw new WalletError('Wallet extensions exist only in a browser page; use a KeyringSigner in Node or pass signatures in from the page.');
  return import('@polkadot/extension-dapp');
}

export interface ExtensionConnectOptions {
  /** Tries of `web3Enable` before giving up (extensions may inject after the page loads). */
  readonly attempts?: number;
  readonly retryDelayMs?: number;
}

export class ExtensionSigner implements Signer {
  private constructor(readonly extensions: readonly InjectedExtension[]) {}

  /** Asks every installed wallet for access on behalf of `appName`; throws `WalletError` if none answers. */
  static async connect(appName: string, options: ExtensionConnectOptions = {}): Promise<ExtensionSigner> {
    const attempts = options.attempts ?? 5;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const extensions = await (await extensionDapp()).web3Enable(appName);
      if (extensions.length > 0) return new ExtensionSigner(extensions);
      await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 300));
    }
    throw new WalletError(`No wallet extension answered: install the Bittensor Wallet (${BITTENSOR_WALLET_NAME}), polkadot{.js}, Talisman or SubWallet, and allow this site when it asks.`);
  }

  /** Names of the enabled extensions, e.g. `['@opentensor/bittensor-extension']`. */
  get names(): string[] {
    return this.extensions.map((e) => e.name);
  }

  async accounts(): Promise<SignerAccount[]> {
    const accounts = await (await extensionDapp()).web3Accounts({ ss58Format: BITTENSOR_SS58_PREFIX });
    return accounts.map((a) => ({ address: a.address, ...(a.meta.name === undefined ? {} : { name: a.meta.name }), ...(a.type === undefined ? {} : { type: a.type }) }));
  }

  /** The extension's signer for `address`, to pass to `api.tx.….signAndSend(address, { signer })`. */
  async polkadotSigner(address: string): Promise<PolkadotSigner> {
    try {
      return (await (await extensionDapp()).web3FromAddress(address)).signer;
    } catch (error) {
      throw new WalletError(`No enabled wallet holds ${address} (${String(error)}); import that hotkey into the wallet.`);
    }
  }

  async signRaw(address: string, data: Uint8Array): Promise<HexString> {
    const signer = await this.polkadotSigner(address);
    if (signer.signRaw === undefined) throw new WalletError('This wallet cannot sign raw data; use the Bittensor Wallet, polkadot{.js}, Talisman or SubWallet.');
    let signature: string;
    try {
      signature = (await signer.signRaw({ address, data: u8aToHex(data), type: 'bytes' })).signature;
    } catch (error) {
      throw new WalletError(`The wallet did not sign (${errorMessage(error)}); approve the request in the wallet to submit.`);
    }
    if (!isHex(signature)) throw new WalletError('The wallet returned a signature that is not hex.');
    return signature;
  }
}
