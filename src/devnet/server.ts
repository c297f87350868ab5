/**
 * The devnet coordinator: an embedded stand-in for the chain and for object storage, so the app
 * runs with `npm start` and no wallet funding, bucket or node (chain.md §8.5). It is **not a
 * chain**: one process keeps the state, orders requests and is trusted for its clock.
 *
 * - Block clock: block `n` starts at `genesisMs + n · blockTimeMs`, derived from the wall clock, so a
 *   restart continues the same numbering.
 * - Permissionless registration of hotkeys to uids (signed by the hotkey), rate-limited per
 *   interval like subtensor's registrations per interval; weights and commitments per subnet.
 * - Subnet owners: as subtensor's `register_network` puts the owner's hotkey on the new subnet, a
 *   configured owner holds its uid from the start, so the run's burn uid (Templar burns to uid 1,
 *   the owner's; gauntlet-spec §7.4) is never handed to a volunteer. New hotkeys get the lowest
 *   free uid.
 * - Object storage: one bucket per hotkey; only that hotkey may write (every write signed, see
 *   `devnet-protocol.ts`); the server stamps `Last-Modified` (gauntlet-spec §3.2, §12.1).
 * - Serves the built app (`dist/`) with COOP/COEP/CORP on every response.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { cryptoWaitReady, decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { isHex, u8aToHex } from '@polkadot/util';
import { BadRequestError, NetError, NotFoundError, NotRegisteredError, OversizedError, RateLimitedError, ReplayedError, UnauthorizedError } from '../net/errors.ts';
import { assertValidSignature } from '../net/verify.ts';
import { BITTENSOR_SS58_PREFIX } from '../net/keyring-signer.ts';
import {
  HEADER_HOTKEY, HEADER_LAST_MODIFIED_MS, HEADER_NONCE, HEADER_SHA256, HEADER_SIGNATURE, MAX_CLOCK_SKEW_MS, OBJECT_KEY_PATTERN,
  devnetRequestMessage, sha256Hex, type DevnetHead, type DevnetWeightsBody,
} from '../net/devnet-protocol.ts';
import type { Hyperparams, Metagraph, ObjectInfo } from '../net/types.ts';
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
  readonly maxObjectBytes?: number;
  /** At most this many registrations per subnet within `registrationIntervalBlocks`. */
  readonly maxRegistrationsPerInterval?: number;
  readonly registrationIntervalBlocks?: number;
  readonly maxUidsPerSubnet?: number;
  readonly weightsRateLimitBlocks?: number;
  readonly tempo?: number;
  /** Owner hotkeys registered at their uid when the devnet starts (the uid the run burns to). */
  readonly subnetOwners?: readonly SubnetOwner[];
}

/** A subnet's owner: its hotkey holds `uid` (the run's burn uid) from the subnet's creation. */
export interface SubnetOwner {
  readonly netuid: number;
  readonly hotkey: string;
  readonly uid: number;
}

/** The saved state gives a subnet owner's uid to another hotkey (a state from before owners were reserved). */
export class DevnetOwnerError extends Error {
  override readonly name = 'DevnetOwnerError';
}

export interface RunningDevnet {
  readonly url: string;
  readonly port: number;
  readonly state: DevnetState;
  close(): Promise<void>;
}

const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.bin': 'application/octet-stream', '.onnx': 'application/octet-stream', '.wgsl': 'text/plain', '.txt': 'text/plain',
};

const STATUS: Record<string, number> = {
  'bad-request': 400, 'bad-signature': 401, unauthorized: 403, 'not-registered': 403, 'not-found': 404,
  replayed: 409, oversized: 413, 'rate-limited': 429,
};

/**
 * The API may be called from another origin (the Vite dev server, another devnet's app): reads are
 * public and every write is signed, so CORS is open. CORS-mode requests are not subject to CORP.
 */
const API_CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, PUT, POST, OPTIONS',
  'Access-Control-Allow-Headers': `content-type, ${HEADER_HOTKEY}, ${HEADER_NONCE}, ${HEADER_SIGNATURE}`,
  'Access-Control-Expose-Headers': `content-length, last-modified, ${HEADER_LAST_MODIFIED_MS}, ${HEADER_SHA256}`,
  'Access-Control-Max-Age': '600',
} as const;

function send(res: ServerResponse, status: number, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...CROSS_ORIGIN_ISOLATION, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json' });
}

async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw OversizedError.of(declared, limit, 'The request body');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limit) throw OversizedError.of(total, limit, 'The request body');
    chunks.push(buf);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function parseSs58(address: string, what: string): string {
  try {
    return encodeAddress(decodeAddress(address), BITTENSOR_SS58_PREFIX);
  } catch {
    throw new BadRequestError(`${what} '${address}' is not a valid SS58 address.`);
  }
}

function parseNetuid(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new BadRequestError(`netuid '${text}' is not a u16.`);
  return n;
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
  subnet.neurons.push({ uid: owner.uid, hotkey, registeredAtBlock: 0 });
  state.save();
}

export async function startDevnet(options: DevnetOptions): Promise<RunningDevnet> {
  await cryptoWaitReady();
  const state = new DevnetState(options.dir, options.blockTimeMs ?? 1000);
  const { genesisMs, blockTimeMs } = state.state;
  const maxObjectBytes = options.maxObjectBytes ?? 64 * 1024 * 1024;
  const maxRegistrations = options.maxRegistrationsPerInterval ?? 8;
  const registrationInterval = options.registrationIntervalBlocks ?? 10;
  const maxUids = options.maxUidsPerSubnet ?? 256;
  const weightsRateLimit = options.weightsRateLimitBlocks ?? 0;
  const tempo = options.tempo ?? 10;
  const appDir = options.appDir === undefined ? undefined : resolve(options.appDir);
  for (const owner of options.subnetOwners ?? []) reserveOwner(state, owner);

  const blockAt = (ms: number): number => Math.max(0, Math.floor((ms - genesisMs) / blockTimeMs));
  const head = (): DevnetHead => {
    const number = blockAt(Date.now());
    return { number, timestampMs: genesisMs + number * blockTimeMs, blockTimeMs };
  };

  /** Verifies the signature and the nonce of a write; returns the signer's canonical SS58 hotkey. */
  const authenticate = (req: IncomingMessage, path: string, body: Uint8Array): string => {
    const hotkeyHeader = req.headers[HEADER_HOTKEY];
    const nonceHeader = req.headers[HEADER_NONCE];
    const signature = req.headers[HEADER_SIGNATURE];
    if (typeof hotkeyHeader !== 'string' || typeof nonceHeader !== 'string' || typeof signature !== 'string' || !isHex(signature)) {
      throw new UnauthorizedError(`Writes must carry ${HEADER_HOTKEY}, ${HEADER_NONCE} and a hex ${HEADER_SIGNATURE}; this one is unsigned and was rejected.`);
    }
    const hotkey = parseSs58(hotkeyHeader, 'Hotkey');
    const nonce = Number(nonceHeader);
    const message = devnetRequestMessage({ method: req.method ?? '', path, hotkey, body, nonce });
    assertValidSignature(message, signature, hotkey, `${req.method ?? ''} ${path}`);
    const now = Date.now();
    if (Math.abs(now - nonce) > MAX_CLOCK_SKEW_MS) {
      throw new ReplayedError(`The request nonce (${nonce} ms) is more than ${MAX_CLOCK_SKEW_MS / 1000} s from the coordinator clock (${now} ms): a stale or replayed request, or a wrong local clock.`);
    }
    const last = state.state.lastNonce[hotkey] ?? 0;
    if (nonce <= last) throw new ReplayedError(`Nonce ${nonce} is not above the last one accepted from ${hotkey} (${last}): the request was replayed.`);
    state.state.lastNonce[hotkey] = nonce;
    return hotkey;
  };

  const metagraph = (netuid: number): Metagraph => {
    const subnet = state.subnet(netuid);
    const neurons = [...subnet.neurons].sort((a, b) => a.uid - b.uid);
    // Devnet approximation of incentive (not Yuma consensus): each setter's weights normalised to
    // sum 1, summed per target uid, normalised again.
    const received = new Map<number, number>();
    for (const w of Object.values(subnet.weights)) {
      const sum = w.weights.reduce((a, b) => a + b, 0);
      if (sum > 0) w.uids.forEach((uid, i) => received.set(uid, (received.get(uid) ?? 0) + (w.weights[i] ?? 0) / sum));
    }
    const total = [...received.values()].reduce((a, b) => a + b, 0);
    return {
      netuid,
      block: head().number,
      uids: neurons.map((n) => n.uid),
      hotkeys: neurons.map((n) => n.hotkey),
      coldkeys: neurons.map((n) => n.hotkey),
      stake: neurons.map(() => 0),
      validatorPermit: neurons.map(() => true),
      incentive: neurons.map((n) => (total > 0 ? (received.get(n.uid) ?? 0) / total : 0)),
      lastUpdate: neurons.map((n) => subnet.weights[String(n.uid)]?.block ?? 0),
      active: neurons.map(() => true),
    };
  };

  const hyperparams = (): Omit<Hyperparams, 'weightsVersionKey'> & { weightsVersionKey: string } => ({
    tempo, commitRevealEnabled: false, revealPeriodEpochs: 0, weightsRateLimit, weightsVersionKey: '0', minAllowedWeights: 0, blockTimeMs,
  });

  const uidOf = (netuid: number, hotkey: string): number => {
    const neuron = state.subnet(netuid).neurons.find((n) => n.hotkey === hotkey);
    if (neuron === undefined) throw NotRegisteredError.of(hotkey, netuid);
    return neuron.uid;
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const parts = url.pathname.split('/').slice(3).map(decodeURIComponent); // after /api/<area>
    const area = url.pathname.split('/')[2];
    const method = req.method ?? 'GET';
    if (area === 'chain') {
      const [first, second, third] = parts;
      if (method === 'GET' && first === 'head') return sendJson(res, 200, head());
      if (method === 'GET' && first === 'blocks' && second !== undefined && third === 'timestamp') {
        const n = Number(second);
        if (!Number.isInteger(n) || n < 0) throw new BadRequestError(`Block '${second}' is not a block number.`);
        if (n > head().number) throw NotFoundError.of(`Block ${n} (head is ${head().number})`);
        return sendJson(res, 200, { number: n, timestampMs: genesisMs + n * blockTimeMs });
      }
      if (first === undefined) throw NotFoundError.of(`API route ${url.pathname}`);
      const netuid = parseNetuid(first);
      if (method === 'GET' && second === 'metagraph') return sendJson(res, 200, metagraph(netuid));
      if (method === 'GET' && second === 'hyperparams') return sendJson(res, 200, hyperparams());
      if (method === 'GET' && second === 'commitments') return sendJson(res, 200, state.subnet(netuid).commitments);
      if (method === 'POST' && (second === 'register' || second === 'commitment' || second === 'weights')) {
        const body = await readBody(req, 64 * 1024);
        const hotkey = authenticate(req, url.pathname, body);
        const subnet = state.subnet(netuid);
        const block = head().number;
        if (second === 'register') {
          const existing = subnet.neurons.find((n) => n.hotkey === hotkey);
          if (existing !== undefined) {
            state.save();
            return sendJson(res, 200, { uid: existing.uid, block: existing.registeredAtBlock });
          }
          const recent = subnet.neurons.filter((n) => n.registeredAtBlock > block - registrationInterval).length;
          if (recent >= maxRegistrations) {
            state.save();
            throw new RateLimitedError(`Subnet ${netuid} accepted ${recent} registrations in the last ${registrationInterval} blocks (limit ${maxRegistrations}); retry in a few blocks.`);
          }
          if (subnet.neurons.length >= maxUids) throw new RateLimitedError(`Subnet ${netuid} is full (${maxUids} uids).`);
          const taken = new Set(subnet.neurons.map((n) => n.uid));
          let uid = 0;
          while (taken.has(uid)) uid++;
          const neuron = { uid, hotkey, registeredAtBlock: block };
          subnet.neurons.push(neuron);
          state.save();
          return sendJson(res, 200, { uid: neuron.uid, block });
        }
        const uid = uidOf(netuid, hotkey);
        if (second === 'commitment') {
          if (body.length > 128) throw OversizedError.of(body.length, 128, 'A commitment');
          subnet.commitments[hotkey] = { block, dataHex: u8aToHex(body) };
          state.save();
          return sendJson(res, 200, { block });
        }
        const parsed = JSON.parse(new TextDecoder().decode(body)) as Partial<DevnetWeightsBody>;
        const { uids, weights, versionKey } = parsed;
        if (!Array.isArray(uids) || !Array.isArray(weights) || uids.length !== weights.length || typeof versionKey !== 'string'
          || !uids.every((u) => subnet.neurons.some((n) => n.uid === u))
          || !weights.every((w) => Number.isInteger(w) && w >= 0 && w <= 65_535) || new Set(uids).size !== uids.length) {
          throw new BadRequestError('Weights need {uids, weights, versionKey}: equal lengths, distinct registered uids, u16 weights.');
        }
        const last = subnet.weights[String(uid)];
        if (last !== undefined && block - last.block < weightsRateLimit) throw new RateLimitedError(`uid ${uid} set weights at block ${last.block}; the limit is one per ${weightsRateLimit} blocks.`);
        subnet.weights[String(uid)] = { block, uids, weights, versionKey };
        state.save();
        return sendJson(res, 200, { block });
      }
      throw NotFoundError.of(`API route ${method} ${url.pathname}`);
    }
    if (area === 'storage') {
      const [bucketText, ...keyParts] = parts;
      if (bucketText === undefined) throw NotFoundError.of(`API route ${url.pathname}`);
      const bucket = parseSs58(bucketText, 'Bucket');
      const key = keyParts.join('/');
      if (key === '' && method === 'GET') return sendJson(res, 200, state.listObjects(bucket, url.searchParams.get('prefix') ?? ''));
      if (!OBJECT_KEY_PATTERN.test(key) || key.includes('..')) throw new BadRequestError(`Object key '${key}' is not allowed: use letters, digits, '.', '_', '-', '/' (at most 200).`);
      if (method === 'PUT') {
        const body = await readBody(req, maxObjectBytes);
        const hotkey = authenticate(req, url.pathname, body);
        if (hotkey !== bucket) throw new UnauthorizedError(`Hotkey ${hotkey} may not write into bucket ${bucket}: only the bucket's own hotkey may.`);
        if (!state.isRegisteredAnywhere(hotkey)) throw new UnauthorizedError(`Hotkey ${hotkey} is not registered on any subnet; register before writing.`);
        const info: ObjectInfo = { bucket, key, size: body.length, lastModifiedMs: Date.now(), sha256: sha256Hex(body) };
        state.putObject(bucket, key, body, info);
        state.save();
        return sendJson(res, 200, info);
      }
      if (method === 'GET' || method === 'HEAD') {
        const info = state.objectInfo(bucket, key);
        if (info === undefined) throw NotFoundError.of(`Object ${bucket}/${key}`);
        const headers = {
          'Content-Type': 'application/octet-stream', 'Content-Length': String(info.size),
          'Last-Modified': new Date(info.lastModifiedMs).toUTCString(), [HEADER_LAST_MODIFIED_MS]: String(info.lastModifiedMs), [HEADER_SHA256]: info.sha256 ?? '',
        };
        if (method === 'HEAD') {
          res.writeHead(200, { ...CROSS_ORIGIN_ISOLATION, ...headers });
          res.end();
          return;
        }
        return send(res, 200, state.objectData(bucket, key), headers);
      }
    }
    throw NotFoundError.of(`API route ${method} ${url.pathname}`);
  };

  const serveApp = async (res: ServerResponse, url: URL): Promise<void> => {
    if (appDir === undefined) return send(res, 404, 'This devnet serves no app (start it with an app directory).', { 'Content-Type': 'text/plain' });
    const relative = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    let path = join(appDir, relative);
    if (!path.startsWith(appDir)) return send(res, 403, 'Forbidden', { 'Content-Type': 'text/plain' });
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || info.isDirectory()) path = info?.isDirectory() === true ? join(path, 'index.html') : join(appDir, 'index.html');
    const data = await readFile(path).catch(() => undefined);
    if (data === undefined) return send(res, 404, 'Not found: run `npm run build` first.', { 'Content-Type': 'text/plain' });
    return send(res, 200, data, { 'Content-Type': MIME[extname(path)] ?? 'application/octet-stream' });
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://devnet.local');
    const isApi = url.pathname.startsWith('/api/');
    if (isApi) {
      for (const [name, value] of Object.entries(API_CORS)) res.setHeader(name, value);
      if (req.method === 'OPTIONS') {
        send(res, 204, '');
        return;
      }
    }
    const work = isApi ? handleApi(req, res, url) : serveApp(res, url);
    work.catch((error: unknown) => {
      const netError = error instanceof NetError ? error
        : error instanceof SyntaxError ? new BadRequestError(`Malformed JSON body: ${error.message}`)
        : undefined;
      if (netError === undefined) console.error('devnet: internal error', error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = netError === undefined ? 500 : (STATUS[netError.code] ?? 500);
      sendJson(res, status, { code: netError?.code ?? 'unavailable', message: netError?.message ?? 'Internal error in the devnet coordinator.' });
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, upgradeHead) => {
    if (req.url !== '/api/chain/ws') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, upgradeHead, (ws: WebSocket) => {
      ws.send(JSON.stringify({ type: 'block', ...head() }));
    });
  });
  let lastBroadcast = head().number;
  const ticker = setInterval(() => {
    const h = head();
    if (h.number === lastBroadcast) return;
    lastBroadcast = h.number;
    const message = JSON.stringify({ type: 'block', ...h });
    for (const client of wss.clients) client.send(message);
  }, Math.max(20, Math.floor(blockTimeMs / 10)));

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    state,
    close: async () => {
      clearInterval(ticker);
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

