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
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { open, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { WebSocketServer, type WebSocket } from 'ws';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aToHex } from '@polkadot/util';
import type { WindowConfig } from '../core/config.ts';
import { putWindowAnchorBlock, putWindowBounds } from '../core/clock.ts';
import { BadRequestError, NotFoundError, NotRegisteredError, ReplayedError, TooEarlyError, UnauthorizedError } from '../net/errors.ts';
import {
  HEADER_HOTKEY, HEADER_LAST_MODIFIED_MS, HEADER_NONCE, HEADER_SHA256, HEADER_SIGNATURE, parseDevnetObjectKey,
  type DevnetHead, type DevnetValidatorsBody,
} from '../net/devnet-protocol.ts';
import type { Hyperparams, ObjectInfo } from '../net/types.ts';
import { SlowVerifyBudget, assertBodyHash, parseSs58, signedHeaders, verifySigned } from './auth.ts';
import { DEFAULT_MAX_STAKE, DevnetChainModel } from './chain.ts';
import { CROSS_ORIGIN_ISOLATION, busy, declaredLength, readSmallBody, send, sendError, sendJson } from './http.ts';
import { ObjectStore } from './objects.ts';
import { DevnetState } from './state.ts';
import { GauntletError } from '../core/errors.ts';

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
  /** The run's netuid: only hotkeys registered on it may write objects. Default 3 (the tiny preset's). */
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
/** Clients send nothing meaningful over the block stream: anything larger than this closes it. */
const MAX_WEBSOCKET_PAYLOAD = 1024;
/** A block-stream client that stops reading is dropped once this much waits for it. */
const MAX_WEBSOCKET_BUFFERED = 64 * 1024;
/** Chain calls carry small JSON or a ≤ 128-byte commitment. */
const MAX_CHAIN_BODY_BYTES = 64 * 1024;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.bin': 'application/octet-stream', '.onnx': 'application/octet-stream', '.wgsl': 'text/plain', '.txt': 'text/plain',
};

/**
 * The API may be called from another origin (the Vite dev server, another devnet's app): reads are
 * public and every write is signed, so CORS is open. CORS-mode requests are not subject to CORP.
 */
const API_CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, PUT, POST, OPTIONS',
  'Access-Control-Allow-Headers': `content-type, ${HEADER_HOTKEY}, ${HEADER_NONCE}, ${HEADER_SIGNATURE}, ${HEADER_SHA256}`,
  'Access-Control-Expose-Headers': `content-length, last-modified, ${HEADER_LAST_MODIFIED_MS}, ${HEADER_SHA256}`,
  'Access-Control-Max-Age': '600',
} as const;

function parseNetuid(text: string): number {
  const n = Number(text);
  if (!/^[0-9]{1,5}$/.test(text) || n > 65_535) throw new BadRequestError(`netuid '${text.slice(0, 20)}' is not a u16.`);
  return n;
}

function parseJsonObject(body: Uint8Array, what: string): Record<string, unknown> {
  const value: unknown = JSON.parse(new TextDecoder().decode(body));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequestError(`${what} must be a JSON object.`);
  return value as Record<string, unknown>;
}

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
  const state = new DevnetState(options.dir, options.blockTimeMs ?? 1000);
  const { genesisMs, blockTimeMs } = state.state;
  const runNetuid = options.runNetuid ?? DEFAULT_RUN_NETUID;
  if (!Number.isInteger(runNetuid) || runNetuid < 0 || runNetuid > 65_535) throw new RangeError(`runNetuid ${runNetuid} is not a u16.`);
  if (options.window !== undefined && (!Number.isSafeInteger(options.window.blocksPerWindow) || options.window.blocksPerWindow < 1 || !(options.window.putWindowMs > 0))) {
    throw new RangeError(`window needs a positive integer blocksPerWindow and a positive putWindowMs (got ${options.window.blocksPerWindow}, ${options.window.putWindowMs}).`);
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
    if (options.window === undefined) return Number.NEGATIVE_INFINITY;
    const anchor = (w + 1) * options.window.blocksPerWindow;
    // A window number no run reaches (a hostile key): never open, rather than overflow the clock.
    if (!Number.isSafeInteger(anchor) || !Number.isSafeInteger(genesisMs + anchor * blockTimeMs)) return Number.POSITIVE_INFINITY;
    return putWindowBounds(genesisMs + putWindowAnchorBlock(w, options.window.blocksPerWindow) * blockTimeMs, options.window.putWindowMs).timeMaxMs + 1;
  };

  const hyperparams = (): Omit<Hyperparams, 'weightsVersionKey'> & { weightsVersionKey: string } => ({
    tempo, commitRevealEnabled: false, revealPeriodEpochs: 0, weightsRateLimit, weightsVersionKey: '0', minAllowedWeights: 0, blockTimeMs,
  });

  const handleChainPost = async (req: IncomingMessage, res: ServerResponse, path: string, netuid: number, call: string): Promise<void> => {
    if (call === 'stake' && !faucet) throw new UnauthorizedError('The stake faucet is off on this devnet: the operator turns it on with --faucet (startDevnet({ faucet: true })).');
    const signed = signedHeaders(req);
    // Refused before the body and before any cryptography: only a registration may come from a stranger.
    if (call !== 'register' && state.neuron(netuid, signed.hotkey) === undefined) throw NotRegisteredError.of(signed.hotkey, netuid);
    verifySigned('POST', path, signed, state.lastNonce(signed.hotkey), Date.now(), slowVerify);
    const body = await readSmallBody(req, MAX_CHAIN_BODY_BYTES, `POST ${path}`);
    assertBodyHash(signed, body, `POST ${path}`);
    // The same request may have raced in twice while its body arrived: the nonce decides again, synchronously.
    if (signed.nonce <= state.lastNonce(signed.hotkey)) throw new ReplayedError(`Nonce ${signed.nonce} of ${signed.hotkey} was just accepted: the request was replayed.`);
    const { hotkey } = signed;
    const block = head().number;
    let answer: unknown;
    let changed = true;
    if (call === 'register') {
      const registered = chain.register(netuid, hotkey, block);
      changed = registered.changed;
      answer = { uid: registered.uid, block: registered.block };
    } else if (call === 'stake') {
      answer = { stake: chain.addStake(netuid, hotkey, parseJsonObject(body, 'A stake body').amount), block };
    } else if (call === 'commitment') {
      chain.setCommitment(netuid, hotkey, body, u8aToHex(body), block);
      answer = { block };
    } else {
      chain.setWeights(netuid, hotkey, parseJsonObject(body, 'A weights body'), block);
      answer = { block };
    }
    // Accepted: the hotkey is registered now, so its nonce is kept (and saved with the change).
    state.recordNonce(hotkey, signed.nonce);
    if (changed) state.save();
    sendJson(res, 200, answer);
  };

  let bytesInFlight = 0;
  const uploadsByBucket = new Map<string, number>();

  const handlePut = async (req: IncomingMessage, res: ServerResponse, path: string, bucket: string, key: string): Promise<void> => {
    // Everything that can refuse the upload runs on the headers, before one byte of the body is read.
    const signed = signedHeaders(req);
    if (signed.hotkey !== bucket) throw new UnauthorizedError(`Hotkey ${signed.hotkey} may not write into bucket ${bucket}: only the bucket's own hotkey may.`);
    if (state.neuron(runNetuid, signed.hotkey) === undefined) {
      throw new NotRegisteredError(`Hotkey ${signed.hotkey} is not registered on netuid ${runNetuid}, the run's subnet; register there before writing.`);
    }
    const size = declaredLength(req, objects.limits.maxObjectBytes, `Object ${key}`);
    verifySigned('PUT', path, signed, state.lastNonce(signed.hotkey), Date.now(), slowVerify);
    objects.plan(bucket, key, size);
    if (bytesInFlight + size > maxBytesInFlight) throw busy(`The devnet is receiving ${bytesInFlight} bytes of uploads (at most ${maxBytesInFlight} at once); retry in a second.`);
    const open = uploadsByBucket.get(bucket) ?? 0;
    if (open >= maxUploadsPerBucket) throw busy(`Bucket ${bucket} has ${open} uploads in progress (at most ${maxUploadsPerBucket}); retry when one has finished.`);
    // Accepted for streaming: the nonce is spent now, so a copy of this request racing in is a replay.
    state.recordNonce(signed.hotkey, signed.nonce);
    bytesInFlight += size;
    uploadsByBucket.set(bucket, open + 1);
    let info: ObjectInfo;
    try {
      info = await objects.write(bucket, key, req, size, signed.bodySha256, () => {
        if (state.neuron(runNetuid, bucket) === undefined) throw NotRegisteredError.of(bucket, runNetuid);
      });
    } finally {
      bytesInFlight -= size;
      const left = (uploadsByBucket.get(bucket) ?? 1) - 1;
      if (left > 0) uploadsByBucket.set(bucket, left);
      else uploadsByBucket.delete(bucket);
    }
    state.save();
    sendJson(res, 200, info);
  };

  const handleRead = async (res: ServerResponse, method: 'GET' | 'HEAD', bucket: string, key: string): Promise<void> => {
    const parsed = parseDevnetObjectKey(key);
    if (parsed === undefined) throw new BadRequestError(`Object key '${key.slice(0, 200)}' is not one the devnet stores.`);
    const info = objects.info(bucket, key);
    if (info === undefined) throw NotFoundError.of(`Object ${bucket}/${key}`);
    if (method === 'GET' && parsed.name.gatedUntilPutWindowCloses === true && parsed.number !== undefined) {
      const opensAt = readsOpenAtMs(parsed.number);
      const now = Date.now();
      if (now < opensAt) {
        throw new TooEarlyError(
          `Object ${bucket}/${key} is not served before the put window of window ${parsed.number} closes` +
            `${Number.isFinite(opensAt) ? ` (${new Date(opensAt).toISOString()}, in ${opensAt - now} ms)` : ''}: no peer may read another's submission while uploads still count. HEAD answers meanwhile.`,
        );
      }
    }
    const headers = {
      ...CROSS_ORIGIN_ISOLATION, 'Cache-Control': 'no-store',
      'Content-Type': 'application/octet-stream', 'Content-Length': String(info.size),
      'Last-Modified': new Date(info.lastModifiedMs).toUTCString(), [HEADER_LAST_MODIFIED_MS]: String(info.lastModifiedMs), [HEADER_SHA256]: info.sha256 ?? '',
    };
    if (method === 'HEAD') {
      res.writeHead(200, headers);
      res.end();
      return;
    }
    const object = await objects.open(bucket, key);
    res.writeHead(200, headers);
    // A client that goes away mid-download ends the pipeline; nothing to answer then.
    await pipeline(object.body, res).catch(() => res.destroy());
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const segments = url.pathname.split('/');
    const area = segments[2];
    // decodeURIComponent throws URIError on a malformed escape: answered 400 by sendError.
    const parts = segments.slice(3).map((p) => decodeURIComponent(p)); // after /api/<area>
    const method = req.method ?? 'GET';
    if (area === 'chain') {
      const [first, second, third] = parts;
      if (parts.length === 1 && method === 'GET' && first === 'head') return sendJson(res, 200, head());
      if (parts.length === 3 && method === 'GET' && first === 'blocks' && second !== undefined && third === 'timestamp') {
        const n = Number(second);
        if (!/^[0-9]{1,15}$/.test(second)) throw new BadRequestError(`Block '${second.slice(0, 20)}' is not a block number.`);
        if (n > head().number) throw NotFoundError.of(`Block ${n} (head is ${head().number})`);
        return sendJson(res, 200, { number: n, timestampMs: genesisMs + n * blockTimeMs });
      }
      if (first === undefined || second === undefined || parts.length !== 2) throw NotFoundError.of(`API route ${method} ${url.pathname.slice(0, 200)}`);
      const netuid = parseNetuid(first);
      if (method === 'GET' && second === 'metagraph') return sendJson(res, 200, chain.metagraph(netuid, head().number));
      if (method === 'GET' && second === 'hyperparams') return sendJson(res, 200, hyperparams());
      if (method === 'GET' && second === 'commitments') return sendJson(res, 200, state.subnet(netuid).commitments);
      if (method === 'GET' && second === 'validators') return sendJson(res, 200, { hotkeys: netuid === runNetuid ? runValidators : [] } satisfies DevnetValidatorsBody);
      if (method === 'POST' && (second === 'register' || second === 'commitment' || second === 'weights' || second === 'stake')) {
        return handleChainPost(req, res, url.pathname, netuid, second);
      }
      throw NotFoundError.of(`API route ${method} ${url.pathname.slice(0, 200)}`);
    }
    if (area === 'storage') {
      const [bucketText, ...keyParts] = parts;
      if (bucketText === undefined || bucketText === '') throw NotFoundError.of(`API route ${url.pathname.slice(0, 200)}`);
      const bucket = parseSs58(bucketText, 'Bucket');
      const key = keyParts.join('/');
      if (key === '' && method === 'GET') return sendJson(res, 200, objects.list(bucket, (url.searchParams.get('prefix') ?? '').slice(0, 200)));
      if (method === 'PUT') return handlePut(req, res, url.pathname, bucket, key);
      if (method === 'GET' || method === 'HEAD') return handleRead(res, method, bucket, key);
    }
    throw NotFoundError.of(`API route ${method} ${url.pathname.slice(0, 200)}`);
  };

  const serveApp = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw NotFoundError.of(`${req.method ?? ''} ${url.pathname.slice(0, 200)} (the app is read-only)`);
    if (appDir === undefined) return send(res, 404, 'This devnet serves no app (start it with an app directory).', { 'Content-Type': 'text/plain' });
    const relative = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    let path = join(appDir, relative);
    if (path !== appDir && !path.startsWith(appDir + sep)) return send(res, 403, 'Forbidden', { 'Content-Type': 'text/plain' });
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || info.isDirectory()) path = info?.isDirectory() === true ? join(path, 'index.html') : join(appDir, 'index.html');
    const handle = await open(path, 'r').catch(() => undefined);
    if (handle === undefined) return send(res, 404, 'Not found: run `npm run build` first.', { 'Content-Type': 'text/plain' });
    const size = (await handle.stat()).size;
    res.writeHead(200, { ...CROSS_ORIGIN_ISOLATION, 'Cache-Control': 'no-store', 'Content-Type': MIME[extname(path)] ?? 'application/octet-stream', 'Content-Length': String(size) });
    if (req.method === 'HEAD') {
      await handle.close();
      res.end();
      return;
    }
    await pipeline(handle.createReadStream({ autoClose: true }), res).catch(() => res.destroy());
  };

  const server: Server = createServer({
    headersTimeout: options.headersTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 120_000,
    keepAliveTimeout: 5_000,
    // How often the timeouts above are checked (Node's default is 30 s): idle sockets go quickly.
    connectionsCheckingInterval: 1_000,
  }, (req, res) => {
    const work = (async () => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://devnet.local');
      } catch {
        throw new BadRequestError('The request target is not a valid URL path.');
      }
      const isApi = url.pathname.startsWith('/api/');
      if (!isApi) return serveApp(req, res, url);
      for (const [name, value] of Object.entries(API_CORS)) res.setHeader(name, value);
      if (req.method === 'OPTIONS') return send(res, 204, '');
      return handleApi(req, res, url);
    })();
    work.catch((error: unknown) => sendError(req, res, error));
  });
  server.maxConnections = options.maxConnections ?? 512;

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WEBSOCKET_PAYLOAD });
  let upgrading = 0;
  server.on('upgrade', (req: IncomingMessage, socket, upgradeHead: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (req.url !== '/api/chain/ws') {
      socket.destroy();
      return;
    }
    if (wss.clients.size + upgrading >= maxWebSockets) {
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    // Counted from the handshake's start, so a burst of upgrades cannot overshoot the cap.
    upgrading++;
    let pending = true;
    const settled = (): void => {
      if (pending) upgrading--;
      pending = false;
    };
    socket.once('close', settled);
    wss.handleUpgrade(req, socket, upgradeHead, (ws: WebSocket) => {
      settled();
      const alive = ws as WebSocket & { alive?: boolean };
      alive.alive = true;
      // An oversized or malformed frame closes this socket (ws answers 1009/1002); it must not reach the process.
      ws.on('error', () => ws.terminate());
      ws.on('pong', () => (alive.alive = true));
      // Clients have nothing to say on the block stream; whatever they send is ignored.
      ws.on('message', () => {});
      ws.send(JSON.stringify({ type: 'block', ...head() }));
    });
  });
  let lastBroadcast = head().number;
  const ticker = setInterval(() => {
    const h = head();
    if (h.number === lastBroadcast) return;
    lastBroadcast = h.number;
    const message = JSON.stringify({ type: 'block', ...h });
    for (const client of wss.clients) {
      if (client.bufferedAmount > MAX_WEBSOCKET_BUFFERED) client.terminate();
      else client.send(message);
    }
  }, Math.max(20, Math.floor(blockTimeMs / 10)));
  // Sockets whose peer vanished without closing answer no ping: dropped at the next round.
  const heartbeat = setInterval(() => {
    for (const client of wss.clients) {
      const c = client as WebSocket & { alive?: boolean };
      if (c.alive === false) {
        c.terminate();
        continue;
      }
      c.alive = false;
      c.ping();
    }
  }, 30_000);
  heartbeat.unref();

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
      clearInterval(ticker);
      clearInterval(heartbeat);
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
