/**
 * The chain and storage the peer worker mines on: the devnet at the page's origin, or a subtensor
 * network with the volunteer's S3-compatible bucket (src/net/subtensor-chain.ts,
 * src/net/hotkey-buckets.ts), behind the same `Chain` / `Storage` interfaces. The subtensor client
 * is loaded only when a real network is chosen.
 */
import type { RunConfig } from '../core/config.ts';
import { DevnetChain, DevnetStorage } from '../net/devnet-client.ts';
import type { Chain, Signer, Storage } from '../net/types.ts';
import type { PeerStartOptions } from './peer-api.ts';

export async function openPeerNetwork(options: PeerStartOptions, signer: Signer, config: RunConfig): Promise<{ chain: Chain; storage: Storage }> {
  const maxObjectBytes = config.window.maxSubmissionBytes * 4;
  const real = options.network;
  if (real === undefined) {
    return { chain: new DevnetChain(options.devnetUrl, signer), storage: new DevnetStorage(options.devnetUrl, signer, options.hotkey, maxObjectBytes) };
  }
  const [{ SubtensorChain }, { HotkeyBucketStorage }] = await Promise.all([import('../net/subtensor-chain.ts'), import('../net/hotkey-buckets.ts')]);
  // Reads only: the miner submits no extrinsic (its bucket commitment is made from the page's wallet).
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
