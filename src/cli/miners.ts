/**
 * `npm run miners -- --devnet http://127.0.0.1:4173 [--count 2] [--verbose]`: honest miners in one
 * Node process on a devnet (issue #17), so that a local network is worth joining: `npm start` runs
 * them beside its validator, and a volunteer who opens the page alone still has peers to be rated
 * against (an OpenSkill match needs at least two evaluated peers). Each is the tab's miner loop on a
 * wasm engine (src/cli/devnet-miners.ts), with a public development key `//LocalMiner{i}` unless a
 * hotkey is given. The run is the one the devnet publishes (its run document, checked; `--run-hash`
 * pins it).
 *
 * `npm run miner -- --network ws://… --netuid N --s3-endpoint URL --bucket B --access-key-id ID …`
 * (issue #20): one miner with its own hotkey on a subtensor subnet, with the validator's network
 * flags (src/cli/network-flags.ts) and its rules for secrets (src/cli/hotkey-uri.ts: the hotkey from
 * GAUNTLET_MINER_URI or `--uri-file`, the bucket's secrets from the environment). The hotkey must be
 * registered; the run is the one the subnet publishes (`readPublishedRun`); the bucket commitment is
 * published with `--read-key-id`, and without it the one on chain must name this bucket, or no
 * validator could read what the miner uploads.
 *
 * It prints one line per window once every miner has uploaded it (`--verbose`: every event as JSON),
 * and every error at once. Ctrl-C stops the miners after their step in progress.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { errorMessage, GauntletError } from '../core/errors.ts';
import type { RunConfig } from '../core/config.ts';
import { MAX_RUN_DOCUMENT_BYTES } from '../core/run-document.ts';
import { runConfigHash } from '../core/run-config.ts';
import { pinnedRunHash, RUN_FLAG_OPTIONS, RunFlagError } from '../devnet/run-flags.ts';
import { bucketReadCredentials, publishBucketCommitment } from '../net/bucket-commitment.ts';
import { subnetBucketStorage, type SubnetBucket } from '../net/hotkey-buckets.ts';
import type { SubtensorNetworkSettings } from '../net/network-settings.ts';
import { findSubnetGateway } from '../peer/subnet-gateway.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import { registrationIn } from '../net/metagraph.ts';
import { bucketDirectory } from '../net/s3-storage.ts';
import { keyringAuthority, SubtensorChain } from '../net/subtensor-chain.ts';
import type { PeerEvent } from '../peer/events.ts';
import { readPublishedRun } from '../peer/published-run.ts';
import { fetchRunDocument } from '../net/run-document-client.ts';
import { ensureShards, loadAllTokens } from './data-files.ts';
import { relaunchWithDawnEnvironment } from './dawn.ts';
import { DevnetMiners, NodeMiners } from './devnet-miners.ts';
import { HotkeyUriError, resolveHotkeyUri } from './hotkey-uri.ts';
import { NetworkFlagError, S3_READ_SECRET_ENV, S3_SECRET_ENV, SUBTENSOR_NETWORK_OPTIONS, subtensorSettingsOrGatewayFromFlags, type SubtensorSettings } from './network-flags.ts';
import { BackendFlagError, nodeEngines, parseBackend, type NodeBackend } from './node-engines.ts';

/** Where the miner's hotkey secret URI comes from when no flag names it. */
export const MINER_URI_ENV = 'GAUNTLET_MINER_URI';

const USAGE = `npm run miners -- [--devnet URL] [--count N] [--backend wasm|webgpu] [--run-hash HASH] [--verbose]
npm run miner -- --network ws://… --netuid N [--s3-endpoint URL --bucket B --access-key-id ID [--region R]
                 [--read-key-id ID]] [--backend wasm|webgpu] [--run-hash HASH] [--verbose]
  On a devnet: honest miners in this process (public development keys //LocalMiner0, //LocalMiner1, …,
  or one miner with the hotkey given as below). On a subtensor subnet: one miner with its own hotkey.

  The hotkey's secret URI: ${MINER_URI_ENV}, or --uri-file PATH (its first line), or --uri (development
  keys only: a flag shows in the process list).

  --devnet URL          the devnet (default http://127.0.0.1:4173)
  --count N             (devnet) how many miners (default 2, at most 16; 1 with a hotkey of your own)
  --network ws(s)://…   a subtensor node; the hotkey must be registered on --netuid already
  (subtensor) Without any bucket flag the miner uploads through the subnet's storage gateway, which the
  subnet's run validator publishes on chain (npm run gateway): each upload signed by the hotkey.
  --s3-endpoint URL     (subtensor) the miner's S3-compatible storage
  --bucket NAME         (subtensor) the miner's own bucket; its write secret comes from ${S3_SECRET_ENV}
  --access-key-id ID    (subtensor) the bucket's write key id
  --region R            (subtensor) the bucket's region (default auto, as R2)
  --read-key-id ID      (subtensor) a read-only token id to publish as the bucket commitment, through which
                        validators read the uploads; its secret comes from ${S3_READ_SECRET_ENV}. Needed
                        once, until the chain holds a commitment for this bucket.
  --backend B           wasm (default) or webgpu: the tab's WebGPU engine on Dawn (npm package webgpu); on a
                        machine without a Vulkan driver it uses Chromium's SwiftShader (a CPU emulation)
  --run-hash HASH       refuse the network's run unless its hash is HASH
  --verbose             print every event as JSON, not one line per window`;

export class MinersUsageError extends GauntletError {
  readonly code: string = 'miners-usage';
  override readonly name = 'MinersUsageError';
}

/** Counts the miners' uploads per window and says when all of them uploaded one. */
export class UploadTally {
  private readonly uploads = new Map<number, number[]>();
  constructor(private readonly miners: number) {}

  /** The window's line once the last miner uploaded it, else null. */
  record(event: PeerEvent): string | null {
    if (event.kind !== 'miner-uploaded') return null;
    const uids = [...(this.uploads.get(event.window) ?? []), event.uid];
    this.uploads.set(event.window, uids);
    for (const window of [...this.uploads.keys()]) if (window < event.window - 4) this.uploads.delete(window);
    if (uids.length < this.miners) return null;
    this.uploads.delete(event.window);
    return `window ${event.window}: miners uid ${uids.sort((a, b) => a - b).join(', ')} uploaded`;
  }
}

/** The miner's place on a subtensor subnet: its uid, the subnet's published run, and its bucket or the subnet's gateway. */
interface SubtensorMiner {
  readonly chain: SubtensorChain;
  readonly config: RunConfig;
  readonly uid: number;
  readonly settings: SubnetBucket & { readonly endpoint: string };
  /** Where uploads go, in words. */
  readonly storageDetail: string;
}

/**
 * Opens the subnet for `hotkey`: checks its registration, reads the run the subnet publishes (pinned
 * by `pinned`), and makes sure validators can read its bucket (publishes the commitment with
 * `--read-key-id`; without, refuses unless the chain's commitment names this bucket already).
 */
async function openSubtensorMiner(values: Record<string, string | boolean | undefined>, signer: KeyringSigner, hotkey: string, pinned: string | undefined): Promise<SubtensorMiner> {
  let flags: SubtensorNetworkSettings;
  try {
    flags = subtensorSettingsOrGatewayFromFlags(values, process.env);
  } catch (error) {
    throw error instanceof NetworkFlagError ? new MinersUsageError(error.message) : error;
  }
  const chain = await SubtensorChain.connect(flags.endpoint, keyringAuthority(signer));
  try {
    const { uid } = registrationIn(await chain.metagraph(flags.netuid), hotkey);
    if (uid === null) throw new MinersUsageError(`Hotkey ${hotkey} is not registered on netuid ${flags.netuid} at ${flags.endpoint}: register it first (btcli subnet register, or the page's Register), then start again.`);
    const pin = pinned === undefined ? {} : { expectedHash: pinned };
    if (flags.storage.kind === 'gateway') {
      // No bucket of its own: the gateway the subnet publishes, which validators read (no commitment needed).
      const { storage, info } = await findSubnetGateway(chain, flags.netuid);
      const gatewaySettings = { endpoint: flags.endpoint, netuid: flags.netuid, storage };
      const { document } = await readPublishedRun(chain, subnetBucketStorage(gatewaySettings, hotkey, chain, MAX_RUN_DOCUMENT_BYTES, signer), flags.netuid, pin);
      const storageDetail = `the subnet's gateway ${storage.url} (up to ${info.quotaObjects} objects, ${info.quotaBytes} bytes and ${info.writesPerMinute} writes a minute per hotkey)`;
      return { chain, config: document.config, uid, settings: gatewaySettings, storageDetail };
    }
    const settings: SubtensorSettings = { ...flags, storage: flags.storage };
    const { document } = await readPublishedRun(chain, subnetBucketStorage(settings, hotkey, chain, MAX_RUN_DOCUMENT_BYTES), settings.netuid, pin);
    const read = settings.storage.read;
    if (read !== undefined) {
      const published = await publishBucketCommitment(chain, hotkey, settings.netuid, bucketReadCredentials(settings.storage.bucket, read.keyId, read.secret));
      console.log(published.kind === 'published' ? `bucket commitment published in block ${published.tx.block}` : `bucket commitment already on chain (block ${published.block})`);
    } else {
      const directory = bucketDirectory(await chain.commitments(settings.netuid));
      const committed = directory.get(hotkey)?.bucket;
      if (committed !== settings.storage.bucket) {
        const onChain = committed === undefined ? (directory.invalid.has(hotkey) ? `an unreadable one (${directory.invalid.get(hotkey)})` : 'none') : `bucket ${committed}`;
        throw new MinersUsageError(`Validators read a miner's uploads through its bucket commitment, and the chain holds ${onChain} for hotkey ${hotkey}, not bucket ${settings.storage.bucket}: pass --read-key-id ID (its secret in ${S3_READ_SECRET_ENV}) to publish it.`);
      }
    }
    return { chain, config: document.config, uid, settings, storageDetail: `bucket ${settings.storage.bucket}` };
  } catch (error) {
    await chain.close();
    throw error;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...SUBTENSOR_NETWORK_OPTIONS,
      devnet: { type: 'string', default: 'http://127.0.0.1:4173' },
      count: { type: 'string' },
      uri: { type: 'string' },
      'uri-file': { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      'run-hash': RUN_FLAG_OPTIONS['run-hash'],
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  let backend: NodeBackend;
  try {
    backend = parseBackend(values.backend);
  } catch (error) {
    throw error instanceof BackendFlagError ? new MinersUsageError(error.message) : error;
  }
  // Before anything publishes: Dawn may need the command restarted with its environment.
  if (backend === 'webgpu') relaunchWithDawnEnvironment();
  const subtensor = values.network !== undefined;
  const ownKey = subtensor || values.uri !== undefined || values['uri-file'] !== undefined || (process.env[MINER_URI_ENV] ?? '').trim() !== '';
  const count = Number(values.count ?? (ownKey ? '1' : '2'));
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new MinersUsageError(`--count must be a whole number from 1 to 16, got '${values.count}'.`);
  if (ownKey && count !== 1) throw new MinersUsageError(`--count ${count}: a hotkey of your own mines as one miner${subtensor ? ' (one hotkey, one bucket)' : ''}; run one command per hotkey.`);
  let pinned: string | undefined;
  let uris: string[];
  try {
    pinned = pinnedRunHash(values);
    if (ownKey) {
      const secret = resolveHotkeyUri({ uri: values.uri, uriFile: values['uri-file'] }, process.env, MINER_URI_ENV);
      for (const warning of secret.warnings) console.warn(warning);
      uris = [secret.uri];
    } else {
      uris = Array.from({ length: count }, (_, i) => `//LocalMiner${i}`);
    }
  } catch (error) {
    throw error instanceof RunFlagError || error instanceof HotkeyUriError ? new MinersUsageError(error.message) : error;
  }
  ensureShards();
  const { tokens } = loadAllTokens();
  const tally = new UploadTally(count);
  const nullRoundsSaid = new Set<number>();
  const onEvent = (event: PeerEvent): void => {
    if (values.verbose) {
      console.log(JSON.stringify(event));
      return;
    }
    if (event.kind === 'miner-null-round' && !nullRoundsSaid.has(event.window)) {
      nullRoundsSaid.add(event.window);
      console.log(`window ${event.window}: a null round of the run, nothing to train (training starts in window ${event.trainsFrom})`);
    }
    if (event.kind === 'miner-error' || event.kind === 'peer-window-failed' || event.kind === 'peer-stopped' || (event.kind === 'peer-pace' && !event.fits)) console.error(`miners: ${event.message}`);
    const line = tally.record(event);
    if (line !== null) console.log(line);
  };
  let miners: { readonly uids: readonly number[]; stop(): Promise<void> };
  let config: RunConfig;
  let where: string;
  let close = (): Promise<void> => Promise.resolve();
  if (subtensor) {
    const signer = await KeyringSigner.fromUris(uris);
    const hotkey = (await signer.accounts())[0]!.address;
    const opened = await openSubtensorMiner(values, signer, hotkey, pinned);
    config = opened.config;
    where = `netuid ${opened.settings.netuid} (subtensor ${opened.settings.endpoint}, ${opened.storageDetail}), hotkey ${hotkey}`;
    close = () => opened.chain.close();
    try {
      const engines = await nodeEngines(backend, 'The miner trains');
      const storage = subnetBucketStorage(opened.settings, hotkey, opened.chain, config.window.maxSubmissionBytes * 4, signer);
      miners = await NodeMiners.start({ chain: opened.chain, config, signer, hotkeys: [hotkey], uids: [opened.uid], storageOf: () => storage, tokens, onEvent, engines: engines.provider });
      where += `, training on ${engines.describe}`;
    } catch (error) {
      await close();
      throw error;
    }
  } else {
    config = (await fetchRunDocument(values.devnet, pinned === undefined ? {} : { expectedHash: pinned })).config;
    const engines = await nodeEngines(backend, 'Node miners train');
    miners = await DevnetMiners.start({ devnetUrl: values.devnet, config, uris, tokens, onEvent, engines: engines.provider });
    where = `${values.devnet}, training on ${engines.describe}`;
  }
  console.log(`${count} honest miner${count === 1 ? '' : 's'} (uid${count === 1 ? '' : 's'} ${miners.uids.join(', ')}) on ${where}; run ${config.runId} (run hash ${runConfigHash(config)})`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('stopping the miners after their step in progress…');
  await miners.stop();
  await close();
  console.log('miners stopped');
}

// Runs only as a command, so tests can import the tally without starting miners.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`miners: ${errorMessage(error)}`);
    if (error instanceof GauntletError && error.action !== undefined) console.error(error.action);
    if (error instanceof MinersUsageError) console.error(`\n${USAGE}`);
    process.exitCode = error instanceof MinersUsageError ? 2 : 1;
  });
}
