/**
 * `npm run validator -- --devnet http://127.0.0.1:4173 [--uri //Alice | --uri-file PATH] [--preset tiny]
 *   [--state .validator/state.json] [--windows N]`
 * `npm run validator -- --network ws://… --netuid N --s3-endpoint URL --bucket B --access-key-id ID
 *   [--region R] [--read-key-id ID] [--run-config FILE] [--uri-file PATH] …` (a subtensor subnet)
 *
 * The hotkey's secret URI comes from `--uri-file PATH` (its first line), `--uri`, or the environment
 * (`GAUNTLET_VALIDATOR_URI`, as `npm run evaluate`), else the devnet development key `//Alice`. A flag
 * shows in the process list (`ps`), so `--uri` is meant for development keys: any other secret there
 * draws a warning.
 *
 * A Node validator (gauntlet-spec §3.4, §7.8) on the devnet (it registers its hotkey there) or on a
 * subtensor subnet (the hotkey must be registered already; its S3 bucket holds the validator's
 * aggregates, checkpoints, peer lists and scores, and with `--read-key-id` its bucket commitment is
 * published on chain). For each window whose put window has closed (the chain is in
 * s + validatorOffset and the head's timestamp is past `time_max` of s) it runs
 * `Validator.runWindow(s)` with losses on the wasm EP, prints one line per event, sets weights (on a
 * commit-reveal subnet: commits, then reveals in the reveal blocks) and persists its scoring state
 * and pending reveals after every window, so a restart resumes from it: θ comes back from the
 * validator's own last checkpoint and the aggregated updates it published after it
 * (`Validator.restore`), windows missed while it was down are caught up without weights, and a
 * commit made before the restart is still revealed.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import WebSocket from 'ws';
import type { RunConfig } from '../core/config.ts';
import { RUN_CONFIG_PRESETS, runConfigHash } from '../core/run-config.ts';
import { createRunDocument, MAX_RUN_DOCUMENT_BYTES, requireSameRun, RunHashMismatchError, type RunDocument } from '../core/run-document.ts';
import { checkGatewayUrl, publishRun, readPublishedGateway, readPublishedRun, RUN_DOCUMENT_KEY } from '../peer/published-run.ts';
import { pinnedRunHash, RUN_FLAG_OPTIONS, RUN_FLAGS_USAGE, runConfigFromFlags, RunFlagError, type RunFlags } from '../devnet/run-flags.ts';
import { fetchRunDocument } from '../net/run-document-client.ts';
import { relaunchWithDawnEnvironment } from './dawn.ts';
import { BackendFlagError, nodeEngines, parseBackend, type NodeBackend } from './node-engines.ts';
import { parameterLayout } from '../model/params.ts';
import { bucketReadCredentials, publishBucketCommitment } from '../net/bucket-commitment.ts';
import { DevnetChain, DevnetStorage, type WebSocketConstructor } from '../net/devnet-client.ts';
import { subnetBucketStorage, type HotkeyBucketStorage } from '../net/hotkey-buckets.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import { registrationIn } from '../net/metagraph.ts';
import { keyringAuthority, SubtensorChain } from '../net/subtensor-chain.ts';
import type { Chain, Storage } from '../net/types.ts';
import type { WindowEvent } from '../peer/events.ts';
import { eventLine, progressLine } from './validator-progress.ts';
import { HotkeyUriError, resolveHotkeyUri, type HotkeyUri } from './hotkey-uri.ts';
import { Validator, type StatePersistence } from '../peer/validator.ts';
import { runValidatorSchedule } from '../peer/validator-schedule.ts';
import { ensureShards, loadAllTokens } from './data-files.ts';
import { NetworkFlagError, S3_READ_SECRET_ENV, S3_SECRET_ENV, SUBTENSOR_NETWORK_OPTIONS, subtensorSettingsFromFlags, type SubtensorSettings } from './network-flags.ts';
import { errorMessage, GauntletError } from '../core/errors.ts';
import { NetError } from '../net/errors.ts';

/** Keeps the state in a JSON file, written atomically (temp file + rename). */
class FilePersistence implements StatePersistence {
  constructor(private readonly path: string) {}
  load(): Promise<string | undefined> {
    return Promise.resolve(existsSync(this.path) ? readFileSync(this.path, 'utf8') : undefined);
  }
  save(text: string): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, text);
    renameSync(`${this.path}.tmp`, this.path);
    return Promise.resolve();
  }
}


/** Where the hotkey's secret URI may come from when no flag names it (the name `npm run evaluate` reads too). */
export const VALIDATOR_URI_ENV = 'GAUNTLET_VALIDATOR_URI';
/** The devnet's development key: public by design, the default for `npm start`'s validator. */
export const DEFAULT_VALIDATOR_URI = '//Alice';

export class ValidatorUsageError extends GauntletError {
  readonly code: string = 'validator-usage';
  override readonly name = 'ValidatorUsageError';
}

export interface ValidatorUri extends HotkeyUri {
  readonly source: '--uri' | '--uri-file' | typeof VALIDATOR_URI_ENV | 'default';
}

/**
 * Picks the secret URI (`resolveHotkeyUri`, src/cli/hotkey-uri.ts): a flag, else
 * GAUNTLET_VALIDATOR_URI, else the devnet development key. Throws ValidatorUsageError for an
 * unusable choice, with what to do instead.
 */
export function resolveValidatorUri(flags: { readonly uri?: string; readonly uriFile?: string }, env: NodeJS.ProcessEnv): ValidatorUri {
  try {
    return resolveHotkeyUri(flags, env, VALIDATOR_URI_ENV, DEFAULT_VALIDATOR_URI) as ValidatorUri;
  } catch (error) {
    throw error instanceof HotkeyUriError ? new ValidatorUsageError(error.message) : error;
  }
}

/** Where the gateway's read key's secret comes from (never a flag). */
export const GATEWAY_READ_SECRET_ENV = 'GAUNTLET_GATEWAY_READ_SECRET';

export const VALIDATOR_USAGE = `npm run validator -- [--devnet http://127.0.0.1:4173] [--preset tiny|small|medium | --run-config FILE] [--state PATH] [--windows N]
       npm run validator -- --network ws://… --netuid N --s3-endpoint URL --bucket B --access-key-id ID [--region R]
                            [--read-key-id ID] [--preset tiny|small|medium | --run-config FILE] [--state PATH] [--windows N]

  The hotkey's secret URI: GAUNTLET_VALIDATOR_URI, or --uri-file PATH (its first line), or --uri (development keys
  only: a flag shows in the process list). The devnet default is //Alice; a subtensor network needs your own.

  --devnet URL          a devnet (npm start); the validator registers its hotkey there
  --network ws(s)://…   a subtensor node; the hotkey must be registered on --netuid already
  --s3-endpoint URL     (subtensor) the validator's S3-compatible storage
  --bucket NAME         (subtensor) the validator's own bucket; its write secret comes from ${S3_SECRET_ENV}
  --access-key-id ID    (subtensor) the bucket's write key id
  --region R            (subtensor) the bucket's region (default auto, as R2)
  --read-key-id ID      (subtensor, optional) a read-only token id to publish as the bucket commitment;
                        its secret comes from ${S3_READ_SECRET_ENV}
  --publish-run         (subtensor, the subnet operator's validator) publish the run of --preset/--run-config
                        (default tiny, with --netuid as its netuid): run.json in this validator's bucket and its
                        hash beside the bucket commitment (needs --read-key-id). Every peer of the subnet reads it there.
  --gateway-url URL     (subtensor) the subnet's storage gateway (npm run gateway): peers without a bucket are read
                        there; with --publish-run its URL is published beside the run hash, where the page finds it.
                        Without it, the gateway the subnet's run validator published (if any) is used.
  --gateway-bucket B    (subtensor, optional) read the peers without a bucket straight from the gateway's bucket B
  --gateway-read-key-id ID  (at the --s3-endpoint) with a read key its operator handed you; its secret comes from
                        ${GATEWAY_READ_SECRET_ENV}. Submissions are checked against their hotkeys' signatures either way.
${RUN_FLAGS_USAGE}
                        (devnet: the run is the one the devnet publishes; subtensor without --publish-run: the one
                        the subnet's run validator published. There these flags only check it.)
  --state PATH          the persisted scoring state (default .validator/state.json)
  --backend B           wasm (default) or webgpu: the tab's WebGPU engine on Dawn (npm package webgpu); on a
                        machine without a Vulkan driver, Chromium's SwiftShader (a CPU emulation)
  --windows N           stop after N windows (default: run until interrupted)
  --verbose             print every event of a window as JSON, not one line per window`;

/** `--gateway-bucket` with `--gateway-read-key-id` (and its secret from the environment), or neither. */
export function gatewayBucketFlags(values: Readonly<Record<string, string | boolean | undefined>>, env: NodeJS.ProcessEnv): { bucket: string; credentials: { accessKeyId: string; secretAccessKey: string } } | undefined {
  const bucket = values['gateway-bucket'];
  const keyId = values['gateway-read-key-id'];
  if (bucket === undefined && keyId === undefined) return undefined;
  if (typeof bucket !== 'string' || typeof keyId !== 'string' || bucket === '' || keyId === '') throw new ValidatorUsageError('--gateway-bucket and --gateway-read-key-id go together: the gateway\'s bucket and the read key its operator handed you.');
  const secret = env[GATEWAY_READ_SECRET_ENV];
  if (secret === undefined || secret === '') throw new ValidatorUsageError(`--gateway-read-key-id needs its secret in ${GATEWAY_READ_SECRET_ENV} (never a flag: the process list shows flags).`);
  return { bucket, credentials: { accessKeyId: keyId, secretAccessKey: secret } };
}

/**
 * The run this validator scores (issue #17). On a devnet: the run document the devnet publishes,
 * checked, and refused when `--preset`/`--run-config` or `--run-hash` name another run. On subtensor:
 * with `published`, the run the subnet's run validator published (`readPublishedRun`), refused in
 * the same way; without (the operator's `--publish-run`), the run the flags name (default tiny) with
 * the subnet's netuid, refused when `--run-hash` pins another.
 */
export async function chooseRunConfig(flags: RunFlags & { readonly netuid?: number | undefined; readonly devnet?: string | undefined; readonly published?: (expectedHash: string | undefined) => Promise<RunDocument> }): Promise<RunConfig> {
  let local: RunConfig | undefined;
  let pinned: string | undefined;
  try {
    local = runConfigFromFlags(flags);
    pinned = pinnedRunHash(flags);
  } catch (error) {
    if (error instanceof RunFlagError) throw new ValidatorUsageError(error.message);
    throw error;
  }
  if (flags.devnet !== undefined) {
    const document = await fetchRunDocument(flags.devnet, pinned === undefined ? {} : { expectedHash: pinned });
    if (local !== undefined) requireSameRun(document, local, `--preset/--run-config is not the run the devnet at ${flags.devnet} publishes`);
    if (flags.netuid !== undefined && flags.netuid !== document.config.netuid) throw new ValidatorUsageError(`--netuid ${flags.netuid}: the devnet's run is on netuid ${document.config.netuid}.`);
    return document.config;
  }
  const withNetuid = (config: RunConfig): RunConfig => (flags.netuid === undefined ? config : { ...config, netuid: flags.netuid });
  if (flags.published !== undefined) {
    const document = await flags.published(pinned);
    if (local !== undefined) requireSameRun(document, withNetuid(local), `--preset/--run-config is not the run netuid ${document.config.netuid} publishes`);
    return document.config;
  }
  const config = withNetuid(local ?? RUN_CONFIG_PRESETS.tiny());
  const hash = runConfigHash(config);
  if (pinned !== undefined && hash !== pinned) throw new RunHashMismatchError(pinned, hash, 'The run given by --preset/--run-config and --netuid is not the pinned run');
  return config;
}

interface OpenedNetwork {
  readonly chain: Chain;
  readonly storage: Storage;
  /** Subtensor: weights only with a permit, and the loop says why it skips them. */
  readonly requirePermit: boolean;
  readonly describe: string;
}

async function openDevnet(url: string, signer: KeyringSigner, hotkey: string, config: RunConfig): Promise<OpenedNetwork> {
  const chain = new DevnetChain(url, signer, WebSocket as unknown as WebSocketConstructor);
  const storage = new DevnetStorage(url, signer, hotkey, config.window.maxSubmissionBytes * 4);
  const { uid } = await chain.register(hotkey, config.netuid);
  return { chain, storage, requirePermit: false, describe: `uid ${uid} on netuid ${config.netuid} (devnet ${url})` };
}

/**
 * The validator on a subtensor subnet: its registration checked, the run chosen (`chooseRunConfig`:
 * the published one, or with `--publish-run` the flags' one, which it then publishes), its storage,
 * and its bucket commitment (with the run hash when it publishes the run).
 */
async function openSubtensor(values: Record<string, string | boolean | undefined>, signer: KeyringSigner, hotkey: string, netuid: number): Promise<OpenedNetwork & { readonly config: RunConfig }> {
  let settings: SubtensorSettings;
  try {
    settings = subtensorSettingsFromFlags(values, process.env, netuid);
  } catch (error) {
    if (error instanceof NetworkFlagError) throw new ValidatorUsageError(error.message);
    throw error;
  }
  const publish = values['publish-run'] === true;
  if (publish && settings.storage.read === undefined) throw new ValidatorUsageError('--publish-run needs --read-key-id: peers read the run document from this bucket with the read token committed beside the run hash.');
  const chain = await SubtensorChain.connect(settings.endpoint, keyringAuthority(signer));
  try {
    const own = registrationIn(await chain.metagraph(settings.netuid), hotkey);
    if (own.uid === null) throw new ValidatorUsageError(`Hotkey ${hotkey} is not registered on netuid ${settings.netuid} at ${settings.endpoint}: register it first (btcli subnet register, or the page's Register), then start again.`);
    let gatewayUrl = typeof values['gateway-url'] === 'string' ? checkGatewayUrl(values['gateway-url'], '--gateway-url') : undefined;
    const gatewayBucket = gatewayBucketFlags(values, process.env);
    const storageFor = (maxObjectBytes: number): HotkeyBucketStorage => subnetBucketStorage({ ...settings, ...(gatewayUrl === undefined ? {} : { gatewayUrl }), ...(gatewayBucket === undefined ? {} : { gatewayBucket }) }, hotkey, chain, maxObjectBytes);
    const config = await chooseRunConfig({
      ...values, netuid: settings.netuid, devnet: undefined,
      ...(publish ? {} : { published: async (expectedHash: string | undefined) => (await readPublishedRun(chain, storageFor(MAX_RUN_DOCUMENT_BYTES), settings.netuid, expectedHash === undefined ? {} : { expectedHash })).document }),
    });
    if (gatewayUrl === undefined && !publish) {
      gatewayUrl = await readPublishedGateway(chain, settings.netuid).catch((error: unknown) => {
        console.warn(`the subnet's gateway could not be read (${errorMessage(error)}); peers without a bucket will not be read`);
        return undefined;
      });
    }
    if (gatewayBucket !== undefined) console.log(`peers without a bucket are read straight from the gateway's bucket ${gatewayBucket.bucket}`);
    else if (gatewayUrl !== undefined) console.log(`peers without a bucket are read through the subnet's gateway at ${gatewayUrl}`);
    const storage = storageFor(config.window.maxSubmissionBytes * 4);
    const read = settings.storage.read === undefined ? undefined : bucketReadCredentials(settings.storage.bucket, settings.storage.read.keyId, settings.storage.read.secret);
    if (publish && read !== undefined) {
      const run = await publishRun(chain, storage, hotkey, createRunDocument(config), read, gatewayUrl);
      console.log(`run ${run.document.runHash} published: ${RUN_DOCUMENT_KEY} in bucket ${settings.storage.bucket}, its hash${gatewayUrl === undefined ? '' : ' and the gateway URL'} beside the bucket commitment (${run.commitment.kind === 'published' ? `block ${run.commitment.tx.block}` : `already on chain since block ${run.commitment.block}`})`);
    } else if (read !== undefined) {
      const published = await publishBucketCommitment(chain, hotkey, settings.netuid, read);
      console.log(published.kind === 'published' ? `bucket commitment published in block ${published.tx.block}` : `bucket commitment already on chain (block ${published.block})`);
    }
    return { config, chain, storage, requirePermit: true, describe: `uid ${own.uid} on netuid ${settings.netuid} (subtensor ${settings.endpoint}, bucket ${settings.storage.bucket}), ${own.validatorPermit ? 'with' : 'without'} a validator permit` };
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
      uri: { type: 'string' },
      'uri-file': { type: 'string' },
      ...RUN_FLAG_OPTIONS,
      'publish-run': { type: 'boolean', default: false },
      'gateway-url': { type: 'string' },
      'gateway-bucket': { type: 'string' },
      'gateway-read-key-id': { type: 'string' },
      state: { type: 'string', default: '.validator/state.json' },
      backend: { type: 'string', default: 'wasm' },
      windows: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(VALIDATOR_USAGE);
    return;
  }
  let backend: NodeBackend;
  try {
    backend = parseBackend(values.backend);
  } catch (error) {
    throw error instanceof BackendFlagError ? new ValidatorUsageError(error.message) : error;
  }
  // Before anything registers or publishes: Dawn may need the command restarted with its environment.
  if (backend === 'webgpu') relaunchWithDawnEnvironment();
  const subtensor = values.network !== undefined;
  const secret = resolveValidatorUri({ uri: values.uri, uriFile: values['uri-file'] }, process.env);
  if (subtensor && secret.source === 'default') throw new ValidatorUsageError(`On a subtensor network the validator needs its own hotkey: set ${VALIDATOR_URI_ENV} or pass --uri-file PATH (the devnet default ${DEFAULT_VALIDATOR_URI} is a public key).`);
  for (const warning of secret.warnings) console.warn(warning);
  const netuid = values.netuid === undefined ? undefined : Number(values.netuid);
  if (netuid !== undefined && !(Number.isInteger(netuid) && netuid >= 0 && netuid <= 65_535)) throw new ValidatorUsageError(`--netuid must be a subnet id from 0 to 65535, got '${values.netuid}'.`);
  if (subtensor && netuid === undefined) throw new ValidatorUsageError('--network needs --netuid: the subnet to validate.');
  // The devnet's run is checked before anything registers; on subtensor the run is read (or published) once the chain is open.
  const devnetConfig = subtensor ? undefined : await chooseRunConfig({ ...values, netuid, devnet: values.devnet });
  if (subtensor && values['publish-run'] !== true && values.preset === undefined && values['run-config'] === undefined && values['run-hash'] === undefined) {
    console.log(`the run: the one netuid ${netuid} publishes (its run validator's run.json and committed hash)`);
  }
  const maxWindows = values.windows === undefined ? Number.POSITIVE_INFINITY : Number(values.windows);
  if (!(maxWindows > 0)) throw new ValidatorUsageError(`--windows must be a positive number, got '${values.windows}'.`);

  ort.env.wasm.numThreads = 1;
  ensureShards();
  const { tokens } = loadAllTokens();
  const signer = await KeyringSigner.fromUris([secret.uri]);
  const hotkey = (await signer.accounts())[0]!.address;
  const network = devnetConfig === undefined ? await openSubtensor(values, signer, hotkey, netuid!) : { ...(await openDevnet(values.devnet, signer, hotkey, devnetConfig)), config: devnetConfig };
  const { config } = network;
  console.log(`validator ${hotkey} (key from ${secret.source}) is ${network.describe}; run ${config.runId} (preset ${config.preset}, run hash ${runConfigHash(config)})`);

  const engines = await nodeEngines(backend, 'The validator scores');
  const { engine, info } = await engines.create(config);
  console.log(`engine: ${info.backend} (${engines.describe}), ${info.parameterCount} parameters`);
  /** The events of the window in progress, for its one progress line. */
  let windowEvents: WindowEvent[] = [];
  const validator = new Validator({
    config,
    layout: parameterLayout(config.model),
    engine,
    signer,
    storage: network.storage,
    chain: network.chain,
    hotkey,
    tokens,
    persistence: new FilePersistence(values.state),
    requireValidatorPermit: network.requirePermit,
    onEvent: (event) => {
      if (values.verbose) console.log(eventLine(event));
      else if (event.kind === 'validator-error') console.error(`window ${event.window}: ${event.stage} failed: ${event.message}`);
      else if (event.kind === 'validator-synced' || event.kind === 'validator-theta-differs') console.log(event.message);
      windowEvents.push(event);
    },
  });
  // Its own saved state, else θ from the network before the first scored window (the lead validator's checkpoint and aggregates).
  let joinedAt: number | null = null;
  if (await validator.restore()) {
    const pending = validator.pendingReveals.length;
    console.log(`resumed scoring state from ${values.state} (last window ${validator.scoringState.lastWindow}${pending > 0 ? `, ${pending} weight commit(s) to reveal` : ''})`);
  } else {
    joinedAt = await joinWhenReachable(() => validator.joinNetwork());
  }

  let stopping = false;
  process.once('SIGINT', () => {
    stopping = true;
    console.log('stopping after the window in progress: the scoring state is saved then (Ctrl-C again to quit at once)');
    process.once('SIGINT', () => process.exit(130));
  });
  const nextWindow = validator.scoringState.lastWindow === null ? joinedAt : validator.scoringState.lastWindow + 1;
  await runValidatorSchedule({
    config, chain: network.chain, validator, firstWindow: nextWindow, maxWindows,
    stop: () => stopping,
    onTiming: ({ chainBlockTimeMs, warnings }) => {
      console.log(`chain block time ${chainBlockTimeMs} ms: a window is ${config.window.blocksPerWindow * chainBlockTimeMs} ms, the put window ${config.window.putWindowMs} ms`);
      for (const warning of warnings) console.warn(`warning: ${warning}`);
    },
    onScored: (report) => {
      if (!values.verbose) console.log(progressLine(report, windowEvents, config));
      windowEvents = [];
    },
    onNullRound: (report) => console.log(`[window ${report.window}] null round of the run: nothing gathered or scored (the first outer step is in window ${report.trainsFrom})`),
    onCaughtUp: (report, lag) => console.log(`[window ${report.window}] caught up (${lag} windows behind the chain): ${report.gathered.length} gathered, not scored, no weights`),
    onSkipped: (window, error) => console.error(`[window ${window}] skipped: ${error.message}`),
    // The chain did not answer (a restart, an overloaded machine): the schedule waits a block and asks again.
    onPollFailed: (error) => console.error(`waiting for the chain: ${error.message}`),
  });
  await engine.dispose();
  await network.chain.close();
}

/** How long the validator waits before it tries again to join a network whose storage it cannot reach. */
const JOIN_RETRY_MS = 12_000;

/**
 * Joins (`Validator.joinNetwork`), waiting while the network's storage cannot be reached at all (every
 * miner's bucket, or the subnet's gateway, down or not started yet: an operator may start its gateway
 * after its validator), saying so each time. Anything else a join meets is its answer.
 */
async function joinWhenReachable(join: () => Promise<{ readonly nextWindow: number | null }>): Promise<number | null> {
  for (;;) {
    try {
      return (await join()).nextWindow;
    } catch (error) {
      if (!(error instanceof NetError && error.code === 'unavailable')) throw error;
      console.error(`joining: the network's storage cannot be reached (${error.message}); trying again in ${JOIN_RETRY_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, JOIN_RETRY_MS));
    }
  }
}

// Runs only as a command, so tests can import the URI rules without starting a validator.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    if (error instanceof ValidatorUsageError) console.error(`\n${VALIDATOR_USAGE}`);
    // Exit now: an open chain connection would otherwise keep a failed validator alive, doing nothing.
    process.exit(error instanceof ValidatorUsageError ? 2 : 1);
  });
}
