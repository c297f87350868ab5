/**
 * The wallet steps both the Contribute and the Validate view take: connect an extension (or use a
 * devnet development key). The keys stay in the wallet; the views hold only a `Signer`.
 */
import { ExtensionSigner } from '../../net/extension-signer.ts';
import { KeyringSigner } from '../../net/keyring-signer.ts';
import type { Signer, SignerAccount } from '../../net/types.ts';

/** The name this app asks wallets for access under. */
export const APP_NAME = 'Gauntlet peer';

export type WalletSource = 'extension' | 'development-key';

/** A wallet or loop action that needs an earlier step (a wallet, an account, a registration, another network). */
export class ContributeStepError extends Error {
  override readonly name = 'ContributeStepError';
}

export interface ConnectedWallet {
  readonly signer: Signer;
  readonly source: WalletSource;
  /** The extensions that answered (empty for a development key). */
  readonly names: readonly string[];
  readonly accounts: readonly SignerAccount[];
}

/** Asks the installed wallet extensions for access and lists their accounts. */
export async function connectExtensionWallet(): Promise<ConnectedWallet> {
  const signer = await ExtensionSigner.connect(APP_NAME);
  return { signer, source: 'extension', names: signer.names, accounts: await signer.accounts() };
}

/** A well-known development key (devnet only): anyone can derive it, so it must never hold value. */
export async function developmentKeyWallet(uri: string): Promise<ConnectedWallet> {
  const signer = await KeyringSigner.fromUris([uri]);
  return { signer, source: 'development-key', names: [], accounts: await signer.accounts() };
}
