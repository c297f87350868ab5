/**
 * The devnet coordinator: an embedded stand-in for the chain and for object storage, so the app
 * runs with `npm start` and no wallet funding, bucket or node (chain.md §8.5). It is **not a
 * chain**: one process keeps the state, orders requests and is trusted for its clock. It listens
 * where anyone may reach it, so it treats every request as possibly hostile (issue #14).
 *
 * - Block clock: block `n` starts at `genesisMs + n · blockTimeMs`, derived from the wall clock, so a
 *   restart continues the same numbering.
 * - Chain (chain.ts): permissionless registration of hotkeys to uids (signed by the hotkey), limited
 *   per subnet and across subnets per interval, a bounded number of subnets, and pruning of the
 *   lowest-incentive uid past its immunity period when a subnet is full; weights (only from a uid
 *   holding a validator permit) and commitments per subnet. Reads never create a subnet.
 * - Subnet owners: as subtensor's `register_network` puts the owner's hotkey on the new subnet, a
 *   configured owner holds its uid from the start, so the run's burn uid (Templar burns to uid 1,
 *   the owner's; gauntlet-spec §7.4) is never handed to a volunteer, and is never pruned. The
 *   operator names the run's validators (`runValidators`, `GET /api/chain/{netuid}/validators`).
 * - Validator permits: every uid by default; with `maxAllowedValidators` / `minValidatorStake`,
 *   the top uids by stake. Stake comes only from the faucet (`addStake`), off unless `faucet`, and
 *   is clamped to a finite maximum.
 * - Object storage (objects.ts): one bucket per hotkey; only that hotkey may write, and only while
 *   it is registered on the run's netuid (`runNetuid`). A write is authenticated from its headers
 *   before its body is read (the signature covers the declared body hash, see
 *   `devnet-protocol.ts`), its size is checked against the object cap, the bucket's quota and the
 *   bytes in flight across all uploads, and only then is the body streamed to disk and hashed.
 *   Only the protocol's object names are stored, each family for its newest few windows; the
 *   server stamps `Last-Modified` (gauntlet-spec §3.2, §12.1); downloads are streamed.
 * - Reads open when the put window closes: with `window`, a GET of `gradient-{w}-*` (and its .sig)
 *   is answered 425 `too-early` until window w's put window has closed, so nobody can copy a
 *   submission while uploads still count; HEAD and listings answer meanwhile (metadata only).
 * - Hostile traffic: anything a client sends is answered 4xx (never 5xx, never a stack trace);
 *   HTTP connections, header and request times, WebSocket connections and message sizes are
 *   capped; refused bodies are never buffered; signatures other than wrapped sr25519 (the costly
 *   verification path, which forgeries take) are verified at most `slowVerificationsPerSecond`.
 *   Measured by test/unit/devnet-load.test.ts and `npm run bench` (devnet-load).
 * - Serves the built app (`dist/`) with COOP/COEP/CORP on every response.
 */
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { WindowConfig } from '../core/config.ts';
import { putWindowAnchorBlock, putWindowBounds } from '../core/clock.ts';
import { GauntletError } from '../core/errors.ts';
import { encodeRunDocument, type RunDocument } from '../core/run-document.ts';
import type { DevnetHead } from '../net/devnet-protocol.ts';
import type { Hyperparams } from '../net/types.ts';
import { SlowVerifyBudget, parseSs58 } from './auth.ts';
import { DEFAULT_MAX_STAKE, DevnetChainModel } from './chain.ts';
import { ObjectStore } from './objects.ts';
import { serveBlockStream } from './block-stream.ts';
import { DevnetRoutes } from './routes.ts';
import { DevnetState } from './state.ts';

export interface DevnetOptions {
  /** State directory (objects and state.json). */
  readonly dir: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Used only when the state directory is new; an existing state keeps its block time. */
  readonly blockTimeMs?: number;
  /** Built app to serve at `/`; omitted or missing → only the API. */
  readonly appDir?: string;
  /**
   * The run this devnet publishes at `GET /api/run` (issue #17); its netuid and window timing are
   * the defaults of `runNetuid` and `window`. Omitted: no run document (embedded devnets of tests).
   */
  readonly run?: RunDocument;
  /** The run's netuid: only hotkeys registered on it may write objects. Default: the run's, else 3 (the tiny preset's). */
  readonly runNetuid?: number;
  /**
   * The run's window timing. When given, GETs of `gradient-{w}-*` answer 425 until window w's put
   * window has closed. Omitted: no read gate (embedded devnets of tests that read at once).
   */
  readonly window?: Pick<WindowConfig, 'blocksPerWindow' | 'putWindowMs'>;
  /** The run's validators as named by the subnet owner (SS58); served at `GET /api/chain/{runNetuid}/validators`. */
  readonly runValidators?: readonly string[];
  /** Turns on the stake faucet (`POST /api/chain/{netuid}/stake`); off by default: stake out of thin air is an operator's choice. */
  readonly faucet?: boolean;
  /** Largest object, default 64 MiB. */
  readonly maxObjectBytes?: number;
  /** Per-bucket quota: bytes (default 2 GiB) and objects (default 1024). */
  readonly maxBucketBytes?: number;
  readonly maxBucketObjects?: number;
  /** All buckets together, default 16 GiB. */
  readonly maxStoredBytes?: number;
  /** Bytes of uploads being received at once, across all requests (default 256 MiB); beyond it, 503 with Retry-After. */
  readonly maxBytesInFlight?: number;
  /** Uploads one bucket may have open at once (default 4). */
  readonly maxUploadsPerBucket?: number;
  /** At most this many registrations per subnet within `registrationIntervalBlocks`. */
  readonly maxRegistrationsPerInterval?: number;
  /** …and across all subnets (default 32). */
  readonly maxRegistrationsPerIntervalTotal?: number;
  readonly registrationIntervalBlocks?: number;
  readonly maxUidsPerSubnet?: number;
  /** Subnets the devnet holds at most (default 16); registration on a new netuid creates one. */
  readonly maxSubnets?: number;
  /** Blocks after its registration during which a uid is not pruned (subtensor's `immunity_period`); default 300. */
  readonly immunityPeriodBlocks?: number;
  readonly weightsRateLimitBlocks?: number;
  readonly tempo?: number;
  /**
   * Validator permits go to at most this many uids, the top by stake (ties: lower uid), like
   * subtensor's `max_allowed_validators`. Omitted: every uid holds a permit (the default devnet,
   * where anyone may validate).
   */
  readonly maxAllowedValidators?: number;
  /** A permit also needs at least this much stake (subtensor's validator stake threshold); default 0. */
  readonly minValidatorStake?: number;
  /** Owner hotkeys registered at their uid when the devnet starts (the uid the run burns to). */
  readonly subnetOwners?: readonly SubnetOwner[];
  /** Concurrent HTTP connections (default 512) and WebSocket connections (default 256). */
  readonly maxConnections?: number;
  readonly maxWebSockets?: number;
  /**
   * Signatures verified per second that are not `<Bytes>`-wrapped sr25519 (what every signer of
   * this project makes): ed25519, ecdsa, bare messages and forgeries take the slow path (default 10/s, ≈5–7 ms each).
   */
  readonly slowVerificationsPerSecond?: number;
  /** A connection must send its headers within this (default 10 s) and its whole request within `requestTimeoutMs` (default 120 s). */
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/** A subnet's owner: its hotkey holds `uid` (the run's burn uid) from the subnet's creation. */
export interface SubnetOwner {
  readonly netuid: number;
  readonly hotkey: string;
  readonly uid: number;
}

/** The saved state gives a subnet owner's uid to another hotkey (a state from before owners were reserved). */
export class DevnetOwnerError extends GauntletError {
  readonly code: string = 'devnet-owner';
  override readonly name = 'DevnetOwnerError';
}

export interface RunningDevnet {
  readonly url: string;
  readonly port: number;
  readonly state: DevnetState;
  readonly objects: ObjectStore;
  close(): Promise<void>;
}

/** The tiny preset's netuid, which `npm run devnet` serves. */
export const DEFAULT_RUN_NETUID = 3;
/** Puts `owner.hotkey` at `owner.uid` of its subnet (once; a restart finds it there). */
function reserveOwner(state: DevnetState, owner: SubnetOwner): void {
  const hotkey = parseSs58(owner.hotkey, 'Owner hotkey');
  const subnet = state.subnet(owner.netuid);
  const atUid = subnet.neurons.find((n) => n.uid === owner.uid);
  const ownNeuron = subnet.neurons.find((n) => n.hotkey === hotkey);
  if (atUid !== undefined && atUid.hotkey === hotkey) return;
  if (atUid !== undefined || ownNeuron !== undefined) {
    throw new DevnetOwnerError(
      `The devnet state in ${state.dir} gives uid ${owner.uid} of netuid ${owner.netuid} to ${atUid?.hotkey ?? 'nobody'} and the owner ${hotkey} ` +
        `${ownNeuron === undefined ? 'no uid' : `uid ${ownNeuron.uid}`}; the owner must hold uid ${owner.uid} (the run's burn uid). Start with a fresh --dir.`,
    );
  }
  state.subnetForWrite(owner.netuid).neurons.push({ uid: owner.uid, hotkey, registeredAtBlock: 0 });
  state.save();
}

export async function startDevnet(options: DevnetOptions): Promise<RunningDevnet> {
  await cryptoWaitReady();
  const state = new DevnetState(options.dir, options.blockTimeMs ?? options.run?.config.window.blockTimeMs ?? 1000);
  const { genesisMs, blockTimeMs } = state.state;
  const runNetuid = options.runNetuid ?? options.run?.config.netuid ?? DEFAULT_RUN_NETUID;
  const window = options.window ?? options.run?.config.window;
  if (!Number.isInteger(runNetuid) || runNetuid < 0 || runNetuid > 65_535) throw new RangeError(`runNetuid ${runNetuid} is not a u16.`);
  if (window !== undefined && (!Number.isSafeInteger(window.blocksPerWindow) || window.blocksPerWindow < 1 || !(window.putWindowMs > 0))) {
    throw new RangeError(`window needs a positive integer blocksPerWindow and a positive putWindowMs (got ${window.blocksPerWindow}, ${window.putWindowMs}).`);
  }
  const faucet = options.faucet ?? false;
  const tempo = options.tempo ?? 10;
  const weightsRateLimit = options.weightsRateLimitBlocks ?? 0;
  const appDir = options.appDir === undefined ? undefined : resolve(options.appDir);
  const maxBytesInFlight = options.maxBytesInFlight ?? 256 * 1024 * 1024;
  const maxUploadsPerBucket = options.maxUploadsPerBucket ?? 4;
  const maxWebSockets = options.maxWebSockets ?? 256;
  const slowVerify = new SlowVerifyBudget(options.slowVerificationsPerSecond ?? 10);
  const runValidators = (options.runValidators ?? []).map((h) => parseSs58(h, 'Run validator'));
  const owners = options.subnetOwners ?? [];
  for (const owner of owners) reserveOwner(state, owner);
  const objects = new ObjectStore(join(options.dir, 'objects'), {
    maxObjectBytes: options.maxObjectBytes ?? 64 * 1024 * 1024,
    maxBucketBytes: options.maxBucketBytes ?? 2 * 1024 ** 3,
    maxBucketObjects: options.maxBucketObjects ?? 1024,
    maxStoredBytes: options.maxStoredBytes ?? 16 * 1024 ** 3,
  });

  const protectedByNetuid = new Map<number, Set<string>>();
  for (const owner of owners) {
    const set = protectedByNetuid.get(owner.netuid) ?? new Set<string>();
    set.add(parseSs58(owner.hotkey, 'Owner hotkey'));
    protectedByNetuid.set(owner.netuid, set);
  }
  protectedByNetuid.set(runNetuid, new Set([...(protectedByNetuid.get(runNetuid) ?? []), ...runValidators]));
  const chain = new DevnetChainModel(state, {
    maxRegistrationsPerInterval: options.maxRegistrationsPerInterval ?? 8,
    maxRegistrationsPerIntervalTotal: options.maxRegistrationsPerIntervalTotal ?? 32,
    registrationIntervalBlocks: options.registrationIntervalBlocks ?? 10,
    maxUidsPerSubnet: options.maxUidsPerSubnet ?? 256,
    maxSubnets: options.maxSubnets ?? 16,
    immunityPeriodBlocks: options.immunityPeriodBlocks ?? 300,
    weightsRateLimitBlocks: weightsRateLimit,
    maxAllowedValidators: options.maxAllowedValidators ?? Number.POSITIVE_INFINITY,
    minValidatorStake: options.minValidatorStake ?? 0,
    maxStake: DEFAULT_MAX_STAKE,
  }, (netuid) => protectedByNetuid.get(netuid) ?? new Set(), (netuid, neuron) => {
    // A pruned hotkey may no longer write; what it stored goes with it, so churning sybils cannot fill the disk.
    if (netuid === runNetuid) objects.removeBucket(neuron.hotkey);
  });

  const blockAt = (ms: number): number => Math.max(0, Math.floor((ms - genesisMs) / blockTimeMs));
  const head = (): DevnetHead => {
    const number = blockAt(Date.now());
    return { number, timestampMs: genesisMs + number * blockTimeMs, blockTimeMs };
  };

  /** When reads of window `w`'s gradients open: just after `time_max` of its put window (inclusive bound). */
  const readsOpenAtMs = (w: number): number => {
    if (window === undefined) return Number.NEGATIVE_INFINITY;
    const anchor = (w + 1) * window.blocksPerWindow;
    // A window number no run reaches (a hostile key): never open, rather than overflow the clock.
    if (!Number.isSafeInteger(anchor) || !Number.isSafeInteger(genesisMs + anchor * blockTimeMs)) return Number.POSITIVE_INFINITY;
    return putWindowBounds(genesisMs + putWindowAnchorBlock(w, window.blocksPerWindow) * blockTimeMs, window.putWindowMs).timeMaxMs + 1;
  };

  const hyperparams = (): Omit<Hyperparams, 'weightsVersionKey'> & { weightsVersionKey: string } => ({
    tempo, commitRevealEnabled: false, revealPeriodEpochs: 0, weightsRateLimit, weightsVersionKey: '0', minAllowedWeights: 0, blockTimeMs,
  });

  const routes = new DevnetRoutes({
    state, chain, objects, slowVerify, runNetuid, runValidators, faucet, genesisMs, blockTimeMs, maxBytesInFlight, maxUploadsPerBucket, appDir,
    runDocument: options.run === undefined ? undefined : encodeRunDocument(options.run),
    head, readsOpenAtMs, hyperparams,
  });
  const server: Server = createServer({
    headersTimeout: options.headersTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 120_000,
    keepAliveTimeout: 5_000,
    // How often the timeouts above are checked (Node's default is 30 s): idle sockets go quickly.
    connectionsCheckingInterval: 1_000,
  }, (req, res) => routes.handle(req, res));
  server.maxConnections = options.maxConnections ?? 512;

  const blocks = serveBlockStream(server, head, blockTimeMs, maxWebSockets);

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    state,
    objects,
    close: async () => {
      blocks.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
