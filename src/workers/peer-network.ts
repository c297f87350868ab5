/**
 * The chain and storage a worker (the miner in peer.worker.ts, the validator in validator.worker.ts)
 * runs on: the devnet at the page's origin, or a subtensor
 * network with the volunteer's S3-compatible bucket (src/net/subtensor-chain.ts,
 * src/net/hotkey-buckets.ts), behind the same `Chain` / `Storage` interfaces. The subtensor client
 * is loaded only when a real network is chosen.
 */
import type { RunConfig } from '../core/config.ts';
import { DevnetChain, DevnetStorage } from '../net/devnet-client.ts';
import type { Chain, Signer, Storage } from '../net/types.ts';
import type { PeerStartOptions } from './peer-api.ts';

/** What opening a network needs: the devnet URL, the peer's hotkey (its own bucket), and the real network if one was chosen. */
export type PeerNetworkOptions = Pick<PeerStartOptions, 'devnetUrl' | 'hotkey' | 'network'>;

export async function openPeerNetwork(options: PeerNetworkOptions, signer: Signer, config: RunConfig): Promise<{ chain: Chain; storage: Storage }> {
  const maxObjectBytes = config.window.maxSubmissionBytes * 4;
  const real = options.network;
  if (real === undefined) {
    return { chain: new DevnetChain(options.devnetUrl, signer), storage: new DevnetStorage(options.devnetUrl, signer, options.hotkey, maxObjectBytes) };
  }
  const [{ SubtensorChain }, { HotkeyBucketStorage }] = await Promise.all([import('../net/subtensor-chain.ts'), import('../net/hotkey-buckets.ts')]);
  // Reads only: no extrinsic is signed in a worker (keys stay with the page's wallet, chain.md §5); the
  // bucket commitment is made from the wallet, and a validator's `setWeights` is refused as read-only.
  const chain = await SubtensorChain.connect(real.endpoint);
  const storage = new HotkeyBucketStorage({
    endpoint: real.storage.endpoint,
    region: real.storage.region,
    ownHotkey: options.hotkey,
    ownBucket: real.storage.bucket,
    writeCredentials: { accessKeyId: real.storage.accessKeyId, secretAccessKey: real.storage.secretAccessKey },
    commitments: () => chain.commitments(real.netuid),
    maxObjectBytes,
  });
  return { chain, storage };
}
