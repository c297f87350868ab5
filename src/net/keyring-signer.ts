/**
 * A `Signer` backed by an in-memory @polkadot/keyring, for the devnet, headless validators and
 * tests. It signs the `<Bytes>`-wrapped message exactly as browser extensions do (chain.md §5,
 * `extension-base` `RequestBytesSign`), so a verifier sees the same thing from either signer.
 */
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { WalletError } from './errors.ts';
import type { HexString, Signer, SignerAccount } from './types.ts';

/** SS58 prefix of Bittensor (chain.md §2). */
export const BITTENSOR_SS58_PREFIX = 42;

export class KeyringSigner implements Signer {
  private readonly pairs = new Map<string, KeyringPair>();

  private constructor(private readonly keyring: Keyring) {}

  /** Waits for the sr25519 wasm, then builds a signer holding the accounts of the given secret URIs (e.g. `//Alice`). */
  static async fromUris(uris: readonly string[]): Promise<KeyringSigner> {
    await cryptoWaitReady();
    const signer = new KeyringSigner(new Keyring({ type: 'sr25519', ss58Format: BITTENSOR_SS58_PREFIX }));
    for (const uri of uris) signer.add(uri);
    return signer;
  }

  /** Adds an account from a secret URI (mnemonic, hex seed or `//Dev` path); returns its SS58 address. */
  add(uri: string, name?: string): string {
    const pair = this.keyring.addFromUri(uri, name === undefined ? {} : { name });
    this.pairs.set(pair.address, pair);
    return pair.address;
  }

  accounts(): Promise<SignerAccount[]> {
    return Promise.resolve([...this.pairs.values()].map((p) => ({ address: p.address, type: p.type, ...(typeof p.meta.name === 'string' ? { name: p.meta.name } : {}) })));
  }

  /** The key pair of `address`, for signing extrinsics with @polkadot/api. */
  pair(address: string): KeyringPair {
    const pair = this.pairs.get(this.keyring.encodeAddress(address));
    if (pair === undefined) throw new WalletError(`No key for ${address} in this keyring signer; add its secret URI first.`);
    return pair;
  }

  signRaw(address: string, data: Uint8Array): Promise<HexString> {
    try {
      return Promise.resolve(u8aToHex(this.pair(address).sign(u8aWrapBytes(data))));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new WalletError(String(error)));
    }
  }
}
