/**
 * Pieces both devnet workers (the miner in `peer.worker.ts`, the validator in
 * `validator.worker.ts`) need: the page's wallet as a `Signer` (keys never enter a worker,
 * chain.md §5), and the run's token stream fetched from the devnet's `data/` and hash-verified.
 */
import { parseShardManifest } from '../core/data/manifest.ts';
import { loadTokenStream } from '../core/data/shard-loader.ts';
import type { SignerPayloadJSON, SignerResult } from '@polkadot/types/types';
import type { AuthorityFor } from '../net/subtensor-chain.ts';
import type { HexString, Signer, SignerAccount } from '../net/types.ts';

/** The page's wallet, called by a worker for each signature (raw bytes, `<Bytes>`-wrapped by the wallet). */
export type PageSignRaw = (address: string, data: Uint8Array) => Promise<HexString>;

/** The page's wallet signing an extrinsic payload (the extension's `signPayload`, which shows the call to the user). */
export type PageSignPayload = (payload: SignerPayloadJSON) => Promise<SignerResult>;

/**
 * Who signs a worker's own extrinsics on a real network (a validator's `setWeights`, its CR-v2
 * commit and reveal): every payload makes a round trip to the page's wallet, so the keys never enter
 * the worker (chain.md §5), exactly as for raw signatures.
 */
export function pageExtrinsicAuthority(signPayload: PageSignPayload): AuthorityFor {
  return (address) => Promise.resolve({ kind: 'injected', address, signer: { signPayload } });
}

/** The page's wallet as a `Signer`: every signature is a round trip to the page. */
export class PageSigner implements Signer {
  constructor(
    private readonly hotkey: string,
    private readonly sign: PageSignRaw,
  ) {}
  accounts(): Promise<SignerAccount[]> {
    return Promise.resolve([{ address: this.hotkey }]);
  }
  signRaw(address: string, data: Uint8Array): Promise<HexString> {
    return this.sign(address, data);
  }
}

/** The run's token stream from `<devnetUrl>/data/` (manifest + shards, each checked against its hash). */
export async function loadDevnetTokens(devnetUrl: string): Promise<Uint8Array> {
  const base = new URL('data/', devnetUrl.endsWith('/') ? devnetUrl : devnetUrl + '/');
  const manifest = parseShardManifest(await (await fetch(new URL('manifest.json', base))).json());
  return loadTokenStream(manifest, async (file) => new Uint8Array(await (await fetch(new URL(file, base))).arrayBuffer()));
}
