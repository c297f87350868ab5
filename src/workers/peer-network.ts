/**
 * The chain and storage a worker (the miner in peer.worker.ts, the validator in validator.worker.ts)
 * runs on: the devnet at the page's origin, or a subtensor
 * network with the volunteer's S3-compatible bucket or the subnet's storage gateway
 * (src/net/subtensor-chain.ts, src/net/hotkey-buckets.ts), behind the same `Chain` / `Storage` interfaces. The subtensor client
 * is loaded only when a real network is chosen.
 */
import type { RunConfig } from '../core/config.ts';
import { runConfigHash, validateRunConfig } from '../core/run-config.ts';
import { MAX_RUN_DOCUMENT_BYTES } from '../core/run-document.ts';
import { readPublishedRun } from '../peer/published-run.ts';
import type { RunJoinedEvent } from '../peer/events.ts';
import { DevnetChain, DevnetStorage } from '../net/devnet-client.ts';
import { fetchRunDocument } from '../net/run-document-client.ts';
import type { Chain, Signer, Storage } from '../net/types.ts';
import { pageExtrinsicAuthority, type PageSignPayload } from './page-signer.ts';
import type { PeerStartOptions } from './peer-api.ts';

/**
 * The run a worker joins (issue #17), checked, and refused with `RunHashMismatchError` when the page
 * brought another run (`runConfig`: on the devnet the one the page was served with). On the devnet:
 * the run document it publishes. On subtensor: the run the subnet's run validator published
 * (`readPublishedRun`: its committed hash, then `run.json` from its bucket), read over a connection
 * of its own that reads only (no signer: the run document is read, nothing is written).
 */
export async function runToJoin(options: Pick<PeerStartOptions, 'devnetUrl' | 'network' | 'runConfig' | 'hotkey'>): Promise<RunConfig> {
  const given = options.runConfig === undefined ? undefined : validateRunConfig(options.runConfig);
  const pin = given === undefined ? {} : { expectedHash: runConfigHash(given) };
  const real = options.network;
  if (real === undefined) return (await fetchRunDocument(options.devnetUrl, pin)).config;
  const [{ SubtensorChain }, { subnetBucketStorage }] = await Promise.all([import('../net/subtensor-chain.ts'), import('../net/hotkey-buckets.ts')]);
  const chain = await SubtensorChain.connect(real.endpoint);
  try {
    const storage = subnetBucketStorage(real, options.hotkey, chain, MAX_RUN_DOCUMENT_BYTES);
    return (await readPublishedRun(chain, storage, real.netuid, pin)).document.config;
  } finally {
    await chain.close();
  }
}

/** The event that says which run a worker joined (`runToJoin`'s), for the page. */
export function runJoinedEvent(config: RunConfig, options: Pick<PeerStartOptions, 'network'>): RunJoinedEvent {
  const runHash = runConfigHash(config);
  const source = options.network === undefined ? 'devnet' : 'chain';
  return {
    kind: 'run-joined', runHash, config, source,
    message: `Joined run ${config.runId} (the ${config.preset} preset, run hash ${runHash.slice(0, 16)}…), as ${source === 'devnet' ? 'the devnet publishes it' : `netuid ${config.netuid}'s run validator publishes it on chain`}.`,
  };
}

/** What opening a network needs: the devnet URL, the peer's hotkey (its own bucket, or its objects at the gateway), and the real network if one was chosen. */
export type PeerNetworkOptions = Pick<PeerStartOptions, 'devnetUrl' | 'hotkey' | 'network'>;

/**
 * `signer`: the page's wallet for storage writes (the devnet's and the subnet gateway's, each signed
 * by the hotkey; a bucket of the peer's own takes its write key instead). `signPayload`: the page's
 * wallet for extrinsics on a real network (a validator's weights); without it the subtensor client reads only.
 */
export async function openPeerNetwork(options: PeerNetworkOptions, signer: Signer, config: RunConfig, signPayload?: PageSignPayload): Promise<{ chain: Chain; storage: Storage }> {
  const maxObjectBytes = config.window.maxSubmissionBytes * 4;
  const real = options.network;
  if (real === undefined) {
    return { chain: new DevnetChain(options.devnetUrl, signer), storage: new DevnetStorage(options.devnetUrl, signer, options.hotkey, maxObjectBytes) };
  }
  const [{ SubtensorChain }, { subnetBucketStorage }] = await Promise.all([import('../net/subtensor-chain.ts'), import('../net/hotkey-buckets.ts')]);
  // Keys stay with the page's wallet (chain.md §5): a validator's extrinsics are signed there, payload by
  // payload; a miner signs none (its bucket commitment is published from the page).
  const chain = await SubtensorChain.connect(real.endpoint, signPayload === undefined ? undefined : pageExtrinsicAuthority(signPayload));
  return { chain, storage: subnetBucketStorage(real, options.hotkey, chain, maxObjectBytes, signer) };
}
