/**
 * The subnet's storage gateway (`npm run gateway`, issue #21): a Node service an operator runs in
 * front of one S3-compatible bucket it owns, so that a volunteer with only a wallet can contribute
 * on a real subnet. It speaks the devnet's storage protocol (src/net/devnet-protocol.ts), so the
 * peers' `DevnetStorage` client is its client, and applies the devnet's rules for hostile peers:
 *
 * - Writes: `PUT /api/storage/<hotkey>/<key>`, signed by `<hotkey>` over method, path, body hash and
 *   a nonce (its clock in ms). Everything that can refuse a write is decided on its headers, before
 *   a byte of its body is read: signed (401), by the path's hotkey (401), an allowed object name
 *   (400), a hotkey registered on the run's subnet now (403, `RegisteredHotkeys`), a declared size
 *   under the object cap (413), a valid signature with a fresh nonce (401 / 409), the hotkey's write
 *   rate (429) and quota (413), the bytes in flight across all uploads and per hotkey (503). Only
 *   then is the body read, into memory (bounded by the bytes in flight), and kept only when its
 *   sha256 is the one the signature covers.
 * - Storage: the object goes to `<bucket>/<hotkey>/<key>`, with the gateway's receipt time, the
 *   writer's nonce and signature and the body's sha256 as S3 metadata, so the gateway's timestamp is
 *   what validators judge the put window by, and anyone reading the bucket directly can check that
 *   the hotkey authorised the write. The gateway never holds a peer's secret.
 * - Replicas: several gateways may share one bucket. A request replayed into another replica (whose
 *   memory holds no nonce of that hotkey) is refused when the stored object carries the same or a
 *   newer nonce (a HEAD before the write), so a captured upload cannot be re-sent later to move its
 *   timestamp out of the put window. Quotas are counted per replica from a listing refreshed every
 *   minute, so N replicas admit at most N times a hotkey's quota between two refreshes.
 * - Reads: `GET`/`HEAD /api/storage/<hotkey>/<key>` and `GET /api/storage/<hotkey>/?prefix=` are open
 *   to anyone, but a GET of window w's gradient (`gatedUntilPutWindowCloses`) is answered 425 until
 *   window w's put window has closed by the chain's block timestamps, so nobody copies a submission
 *   through the gateway while uploads still count.
 * - Departures: a hotkey missing from the metagraph for `departedAfterMs` loses what it stored (the
 *   devnet does the same when it prunes a uid), so churning registrations cannot fill the bucket.
 * - `GET /api/gateway`: what this gateway serves (`GatewayInfo`).
 *
 * What a dishonest or failing gateway can do: refuse, delay or drop uploads, and serve reads late or
 * not at all (availability); stamp a wrong time on an upload. What it cannot: forge or alter a
 * submission, whose bytes every reader checks against the hotkey's own signature (`gradient-*.sig`,
 * src/peer/gather.ts), or serve a hotkey's objects under another hotkey. A peer notices a dropped
 * upload because the gateway answers a write only once S3 has stored it (a refusal or a timeout is
 * retried by the miner, src/peer/upload-retry.ts), and anyone can `HEAD` an object afterwards; a
 * gateway that censors a hotkey shows as that hotkey missing from the validators' gathers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { WindowConfig } from '../core/config.ts';
import { putWindowAnchorBlock, putWindowBounds } from '../core/clock.ts';
import { BadRequestError, NetError, NotFoundError, NotRegisteredError, RateLimitedError, ReplayedError, TooEarlyError, UnauthorizedError } from '../net/errors.ts';
import {
  HEADER_LAST_MODIFIED_MS, HEADER_SHA256, parseDevnetObjectKey,
} from '../net/devnet-protocol.ts';
import { GATEWAY_INFO_PATH, type GatewayInfo } from '../net/gateway-client.ts';
import { S3Endpoint, type S3Credentials } from '../net/s3-storage.ts';
import type { Chain, ObjectInfo } from '../net/types.ts';
import { SlowVerifyBudget, assertBodyHash, parseSs58, signedHeaders, verifySigned } from '../devnet/auth.ts';
import { apiCorsHeaders, busy, declaredLength, readSmallBody, send, sendError, sendJson } from '../devnet/http.ts';
import { parsedStoredKey, planObjectWrite, type ObjectStoreLimits } from '../devnet/objects.ts';
import { RegisteredHotkeys } from './registered-hotkeys.ts';

export interface GatewayOptions {
  /** The chain of the run's subnet (subtensor, or a devnet): registrations and block timestamps. */
  readonly chain: Pick<Chain, 'metagraph' | 'currentBlock' | 'blockTimestamp'>;
  readonly netuid: number;
  /** The operator's bucket and its write credentials (they stay in this process). */
  readonly s3: { readonly endpoint: string; readonly region?: string; readonly bucket: string; readonly credentials: S3Credentials };
  /** The S3 endpoint the subnet's own buckets are read at, announced to peers (default `s3.endpoint`). */
  readonly publicS3Endpoint?: string;
  /** The run's window timing: reads of window w's gradients open when its put window closes. Omitted: no read gate. */
  readonly window?: Pick<WindowConfig, 'blocksPerWindow' | 'putWindowMs'>;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** Largest object (default 64 MiB). */
  readonly maxObjectBytes?: number;
  /** Per hotkey: bytes (default 1 GiB) and objects (default 1024) it may hold. */
  readonly quotaBytes?: number;
  readonly quotaObjects?: number;
  /** Writes one hotkey may make per minute, in bursts of up to a quarter of it (default 240). */
  readonly writesPerMinute?: number;
  /** Bytes of uploads held at once across all requests (default 256 MiB); beyond it 503 with Retry-After. */
  readonly maxBytesInFlight?: number;
  /** Uploads one hotkey may have open at once (default 4). */
  readonly maxUploadsPerHotkey?: number;
  /** Concurrent HTTP connections (default 512). */
  readonly maxConnections?: number;
  /** Signatures per second that take the slow verification path (default 10; see src/devnet/auth.ts). */
  readonly slowVerificationsPerSecond?: number;
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** How often the metagraph is re-read (default 12 s) and the least time between two reads (default 2 s). */
  readonly registrationRefreshMs?: number;
  readonly registrationMinRefreshMs?: number;
  /**
   * Block timestamps the read gate looks up a minute (default 1200), beyond those it has cached:
   * unauthenticated reads may name any window, so this is all they can cost the chain.
   */
  readonly chainLookupsPerMinute?: number;
  /**
   * How long a hotkey must be missing from the metagraph before its objects are deleted (default 60 s):
   * a deregistered or pruned hotkey may no longer write, and what it stored goes with it, so churning
   * registrations cannot fill the bucket.
   */
  readonly departedAfterMs?: number;
  /** One line per stored object and per refused request, reads of missing objects aside (the operator's `--verbose`). */
  readonly log?: (line: string) => void;
}

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly info: GatewayInfo;
  /** Bytes of upload bodies held in memory now (for the load test and the operator's log). */
  bytesInFlight(): number;
  /** Writes stored, and refusals by error code (reads of missing objects aside), since the start. */
  stats(): { readonly stored: number; readonly storedBytes: number; readonly refused: Readonly<Record<string, number>> };
  close(): Promise<void>;
}

/** S3 metadata names the gateway stores with each object. */
const META_RECEIVED_MS = 'gauntlet-received-ms';
const META_NONCE = 'gauntlet-nonce';
const META_SHA256 = 'gauntlet-sha256';
const META_SIGNATURE = 'gauntlet-signature';

/** How many anchors' block timestamps the read gate remembers. */
const MAX_CACHED_ANCHORS = 1024;
/** The head the read gate compares with is at most this old: one chain query a second, however many reads. */
const HEAD_CACHE_MS = 1000;

/** A hotkey's listing is re-read after this, so the quota follows what other replicas stored. */
const INDEX_REFRESH_MS = 60_000;

const API_CORS = apiCorsHeaders('GET, HEAD, PUT, OPTIONS');

/** Token buckets by key (a hotkey's writes, the gateway's chain lookups): `perMinute` a minute, in bursts of a quarter of that. */
class KeyedRate {
  private readonly tokens = new Map<string, { tokens: number; atMs: number }>();
  constructor(readonly perMinute: number) {}

  take(hotkey: string, nowMs: number): boolean {
    const burst = Math.max(1, Math.ceil(this.perMinute / 4));
    const entry = this.tokens.get(hotkey) ?? { tokens: burst, atMs: nowMs };
    entry.tokens = Math.min(burst, entry.tokens + ((nowMs - entry.atMs) / 60_000) * this.perMinute);
    entry.atMs = nowMs;
    this.tokens.set(hotkey, entry);
    if (entry.tokens < 1) return false;
    entry.tokens -= 1;
    return true;
  }
}

/** One hotkey's objects as this replica knows them: from a listing of its prefix, updated by its own writes. */
interface HotkeyIndex {
  readonly objects: Map<string, ObjectInfo>;
  bytes: number;
  listedAtMs: number;
}

function metadataNumber(metadata: ReadonlyMap<string, string>, name: string): number | undefined {
  const text = metadata.get(name);
  return text !== undefined && /^[0-9]{1,16}$/.test(text) ? Number(text) : undefined;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  await cryptoWaitReady();
  const { chain, netuid } = options;
  const bucket = options.s3.bucket;
  const writeCredentials = options.s3.credentials;
  const maxObjectBytes = options.maxObjectBytes ?? 64 * 1024 * 1024;
  const limits: ObjectStoreLimits = {
    maxObjectBytes, maxBucketBytes: options.quotaBytes ?? 1024 ** 3, maxBucketObjects: options.quotaObjects ?? 1024, maxStoredBytes: Number.MAX_SAFE_INTEGER,
  };
  const s3 = new S3Endpoint({ endpoint: options.s3.endpoint, region: options.s3.region, maxObjectBytes, maxListKeys: limits.maxBucketObjects + 64, maxListPages: 8 });
  const registered = new RegisteredHotkeys({
    chain, netuid, refreshMs: options.registrationRefreshMs, minRefreshMs: options.registrationMinRefreshMs, departedAfterMs: options.departedAfterMs,
    onDeparted: (hotkeys) => {
      void sweep(hotkeys);
    },
  });
  await registered.refresh();
  // Re-read the metagraph on the clock too, so departed hotkeys are swept while nobody writes.
  const refreshTimer = setInterval(() => void registered.refresh(), options.registrationRefreshMs ?? 12_000);
  refreshTimer.unref();
  const slowVerify = new SlowVerifyBudget(options.slowVerificationsPerSecond ?? 10);
  const rate = new KeyedRate(options.writesPerMinute ?? 240);
  const timestampLookups = new KeyedRate(options.chainLookupsPerMinute ?? 1200);
  const maxBytesInFlight = options.maxBytesInFlight ?? 256 * 1024 * 1024;
  const maxUploadsPerHotkey = options.maxUploadsPerHotkey ?? 4;
  const lastNonce = new Map<string, number>();
  const indexes = new Map<string, HotkeyIndex>();
  const uploadsByHotkey = new Map<string, number>();
  let bytesInFlight = 0;
  let storedCount = 0;
  let storedBytes = 0;
  const refused: Record<string, number> = {};

  const info: GatewayInfo = {
    kind: 'gauntlet-gateway', netuid, s3Endpoint: (options.publicS3Endpoint ?? options.s3.endpoint).replace(/\/+$/, ''), region: options.s3.region ?? 'us-east-1',
    maxObjectBytes, quotaBytes: limits.maxBucketBytes, quotaObjects: limits.maxBucketObjects, writesPerMinute: rate.perMinute,
  };

  /** Deletes the objects of hotkeys that left the subnet, and forgets them. A failure leaves objects the next departure of that hotkey (or the operator) removes. */
  const sweep = async (hotkeys: readonly string[]): Promise<void> => {
    for (const hotkey of hotkeys) {
      indexes.delete(hotkey);
      lastNonce.delete(hotkey);
      try {
        const listed = await s3.list(bucket, `${hotkey}/`, { credentials: writeCredentials });
        for (const object of listed) await s3.delete(bucket, object.key, writeCredentials);
        options.log?.(`swept ${listed.length} objects of ${hotkey}, no longer registered on netuid ${netuid}`);
      } catch (error) {
        options.log?.(`could not sweep the objects of ${hotkey}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };

  /** The object's key in the operator's bucket. */
  const storedKey = (hotkey: string, key: string): string => `${hotkey}/${key}`;

  /** The hotkey's index, listed from the bucket when this replica has none or an old one. */
  const indexOf = async (hotkey: string): Promise<HotkeyIndex> => {
    const known = indexes.get(hotkey);
    if (known !== undefined && Date.now() - known.listedAtMs < INDEX_REFRESH_MS) return known;
    const listed = await s3.list(bucket, `${hotkey}/`, { credentials: writeCredentials });
    const objects = new Map<string, ObjectInfo>();
    for (const entry of listed) {
      const key = entry.key.slice(hotkey.length + 1);
      objects.set(key, { ...entry, bucket: hotkey, key, ...(known?.objects.get(key)?.size === entry.size ? { lastModifiedMs: known.objects.get(key)!.lastModifiedMs } : {}) });
    }
    const index: HotkeyIndex = { objects, bytes: [...objects.values()].reduce((n, o) => n + o.size, 0), listedAtMs: Date.now() };
    indexes.set(hotkey, index);
    return index;
  };

  /** The chain's head number, read at most once per `HEAD_CACHE_MS` (concurrent readers share the query). */
  let head: { readonly atMs: number; readonly number: Promise<number> } | undefined;
  const headNumber = (): Promise<number> => {
    if (head === undefined || Date.now() - head.atMs >= HEAD_CACHE_MS) head = { atMs: Date.now(), number: chain.currentBlock().then((h) => h.number) };
    return head.number;
  };

  /** When reads of window w's gradients open: just after its put window's `time_max`, by the chain's block timestamps. */
  const anchorTimestamps = new Map<number, number>();
  const readsOpenAtMs = async (w: number): Promise<number> => {
    const window = options.window;
    if (window === undefined) return Number.NEGATIVE_INFINITY;
    const anchor = putWindowAnchorBlock(w, window.blocksPerWindow);
    if (!Number.isSafeInteger(anchor)) return Number.POSITIVE_INFINITY;
    let timestampMs = anchorTimestamps.get(anchor);
    if (timestampMs === undefined) {
      // The anchor block does not exist yet: the put window has not even begun.
      if ((await headNumber()) < anchor) return Number.POSITIVE_INFINITY;
      if (!timestampLookups.take('chain', Date.now())) throw busy(`The gateway looks up at most ${timestampLookups.perMinute} block timestamps a minute for its read gate; retry in a second.`);
      timestampMs = await chain.blockTimestamp(anchor);
      // The oldest anchor goes first (a Map keeps insertion order), so a sweep over old windows cannot push out the live ones for long.
      if (anchorTimestamps.size >= MAX_CACHED_ANCHORS) anchorTimestamps.delete(anchorTimestamps.keys().next().value!);
      anchorTimestamps.set(anchor, timestampMs);
    }
    return putWindowBounds(timestampMs, window.putWindowMs).timeMaxMs + 1;
  };

  const put = async (req: IncomingMessage, res: ServerResponse, path: string, owner: string, key: string): Promise<void> => {
    const signed = signedHeaders(req);
    if (signed.hotkey !== owner) throw new UnauthorizedError(`Hotkey ${signed.hotkey} may not write under ${owner}: only that hotkey may.`);
    parsedStoredKey(key, 'The gateway');
    if (!(await registered.has(signed.hotkey))) throw new NotRegisteredError(`Hotkey ${signed.hotkey} is not registered on netuid ${netuid}, the run's subnet; register there (the page's Register button) before uploading.`);
    const size = declaredLength(req, maxObjectBytes, `Object ${key}`);
    verifySigned('PUT', path, signed, lastNonce.get(signed.hotkey) ?? 0, Date.now(), slowVerify);
    if (!rate.take(signed.hotkey, Date.now())) throw new RateLimitedError(`Hotkey ${signed.hotkey} writes more than ${rate.perMinute} objects a minute through this gateway; retry shortly.`);
    const index = await indexOf(owner);
    const evict = planObjectWrite(index.objects, { bucket: index.bytes, total: 0 }, owner, key, size, limits, 'The gateway');
    if (bytesInFlight + size > maxBytesInFlight) throw busy(`The gateway is receiving ${bytesInFlight} bytes of uploads (at most ${maxBytesInFlight} at once); retry in a second.`);
    const open = uploadsByHotkey.get(owner) ?? 0;
    if (open >= maxUploadsPerHotkey) throw busy(`Hotkey ${owner} has ${open} uploads in progress here (at most ${maxUploadsPerHotkey}); retry when one has finished.`);
    // Accepted for reading: the nonce is spent now, so a copy of this request racing in is a replay.
    if (signed.nonce <= (lastNonce.get(owner) ?? 0)) throw new ReplayedError(`Nonce ${signed.nonce} of ${owner} was just accepted: the request was replayed.`);
    lastNonce.set(owner, signed.nonce);
    bytesInFlight += size;
    uploadsByHotkey.set(owner, open + 1);
    let stored: ObjectInfo;
    try {
      // Another replica may have taken this request already: the stored object's nonce says so.
      const existing = await s3.headWithMetadata(bucket, storedKey(owner, key), { credentials: writeCredentials });
      const storedNonce = existing === undefined ? undefined : metadataNumber(existing.metadata, META_NONCE);
      if (storedNonce !== undefined && storedNonce >= signed.nonce) {
        throw new ReplayedError(`Object ${key} of ${owner} was stored with nonce ${storedNonce}, not below this request's ${signed.nonce}: the request was replayed (into another replica).`);
      }
      const body = await readSmallBody(req, size, `PUT ${key}`);
      assertBodyHash(signed, body, `PUT ${key}`);
      const receivedMs = Date.now();
      await s3.put(bucket, storedKey(owner, key), body, writeCredentials, {
        [META_RECEIVED_MS]: String(receivedMs), [META_NONCE]: String(signed.nonce), [META_SHA256]: signed.bodySha256, [META_SIGNATURE]: signed.signature,
      });
      stored = { bucket: owner, key, size, lastModifiedMs: receivedMs, sha256: signed.bodySha256 };
    } finally {
      bytesInFlight -= size;
      const left = (uploadsByHotkey.get(owner) ?? 1) - 1;
      if (left > 0) uploadsByHotkey.set(owner, left);
      else uploadsByHotkey.delete(owner);
    }
    index.bytes += size - (index.objects.get(key)?.size ?? 0);
    index.objects.set(key, stored);
    for (const old of evict) {
      const gone = index.objects.get(old);
      index.objects.delete(old);
      index.bytes -= gone?.size ?? 0;
      // A delete that fails leaves an object the next listing counts again; the write stands.
      await s3.delete(bucket, storedKey(owner, old), writeCredentials).catch(() => undefined);
    }
    storedCount += 1;
    storedBytes += size;
    options.log?.(`stored ${owner}/${key} (${size} bytes)`);
    sendJson(res, 200, stored);
  };

  const read = async (req: IncomingMessage, res: ServerResponse, method: 'GET' | 'HEAD', owner: string, key: string): Promise<void> => {
    const parsed = parseDevnetObjectKey(key);
    if (parsed === undefined) throw new BadRequestError(`Object key '${key.slice(0, 200)}' is not one the gateway stores.`);
    if (method === 'GET' && parsed.name.gatedUntilPutWindowCloses === true && parsed.number !== undefined) {
      const opensAt = await readsOpenAtMs(parsed.number);
      const now = Date.now();
      if (now < opensAt) {
        throw new TooEarlyError(
          `Object ${owner}/${key} is not served before the put window of window ${parsed.number} closes` +
            `${Number.isFinite(opensAt) ? ` (in ${opensAt - now} ms)` : ''}: no peer may read another's submission while uploads still count. HEAD answers meanwhile.`,
        );
      }
    }
    const headersOf = (size: number, lastModifiedMs: number, metadata: ReadonlyMap<string, string>): Record<string, string> => {
      const receivedMs = metadataNumber(metadata, META_RECEIVED_MS) ?? lastModifiedMs;
      return {
        'Cache-Control': 'no-store', 'Content-Type': 'application/octet-stream', 'Content-Length': String(size),
        'Last-Modified': new Date(receivedMs).toUTCString(), [HEADER_LAST_MODIFIED_MS]: String(receivedMs), [HEADER_SHA256]: metadata.get(META_SHA256) ?? '',
      };
    };
    const read = { credentials: writeCredentials };
    if (method === 'HEAD') {
      const found = await s3.headWithMetadata(bucket, storedKey(owner, key), read);
      if (found === undefined) throw NotFoundError.of(`Object ${owner}/${key}`);
      res.writeHead(200, headersOf(found.info.size, found.info.lastModifiedMs, found.metadata));
      res.end();
      return;
    }
    const object = await s3.open(bucket, storedKey(owner, key), read);
    res.writeHead(200, headersOf(object.info.size, object.info.lastModifiedMs, object.metadata));
    const body = object.response.body;
    if (body === null) {
      res.end();
      return;
    }
    // Streamed through with backpressure: a download holds a few chunks of memory, not the object.
    await pipeline(Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>), res).catch(() => {
      res.destroy();
      req.destroy();
    });
  };

  const list = async (res: ServerResponse, owner: string, prefix: string): Promise<void> => {
    const index = await indexOf(owner);
    const listed = await s3.list(bucket, `${owner}/${prefix}`, { credentials: writeCredentials });
    sendJson(res, 200, listed.map((entry) => {
      const key = entry.key.slice(owner.length + 1);
      const known = index.objects.get(key);
      return { bucket: owner, key, size: entry.size, lastModifiedMs: known?.size === entry.size ? known.lastModifiedMs : entry.lastModifiedMs };
    }));
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? 'GET';
    if (url.pathname === GATEWAY_INFO_PATH && (method === 'GET' || method === 'HEAD')) return sendJson(res, 200, info);
    const segments = url.pathname.split('/');
    if (segments[2] !== 'storage') throw NotFoundError.of(`API route ${method} ${url.pathname.slice(0, 200)}`);
    // decodeURIComponent throws URIError on a malformed escape: answered 400 by sendError.
    const [ownerText, ...keyParts] = segments.slice(3).map((p) => decodeURIComponent(p));
    if (ownerText === undefined || ownerText === '') throw NotFoundError.of(`API route ${url.pathname.slice(0, 200)}`);
    const owner = parseSs58(ownerText, 'Hotkey');
    const key = keyParts.join('/');
    if (key === '' && method === 'GET') return list(res, owner, (url.searchParams.get('prefix') ?? '').slice(0, 200));
    if (method === 'PUT') return put(req, res, url.pathname, owner, key);
    if (method === 'GET' || method === 'HEAD') return read(req, res, method, owner, key);
    throw NotFoundError.of(`API route ${method} ${url.pathname.slice(0, 200)}`);
  };

  const server: Server = createServer({
    headersTimeout: options.headersTimeoutMs ?? 10_000,
    requestTimeout: options.requestTimeoutMs ?? 120_000,
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: 1_000,
  }, (req, res) => {
    const work = (async () => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://gateway.local');
      } catch {
        throw new BadRequestError('The request target is not a valid URL path.');
      }
      for (const [name, value] of Object.entries(API_CORS)) res.setHeader(name, value);
      if (req.method === 'OPTIONS') return send(res, 204, '');
      if (!url.pathname.startsWith('/api/')) throw NotFoundError.of(`${url.pathname.slice(0, 200)} (a gateway serves /api/storage and ${GATEWAY_INFO_PATH} only)`);
      return api(req, res, url);
    })();
    work.catch((error: unknown) => {
      const code = error instanceof NetError ? error.code : 'internal';
      // A read of an object that does not exist (yet) is an answer, not a refusal.
      if (code !== 'not-found') refused[code] = (refused[code] ?? 0) + 1;
      if (code !== 'not-found') options.log?.(`refused ${req.method ?? '?'} ${(req.url ?? '').slice(0, 120)}: ${code}: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}`);
      sendError(req, res, error);
    });
  });
  server.maxConnections = options.maxConnections ?? 512;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    info,
    bytesInFlight: () => bytesInFlight,
    stats: () => ({ stored: storedCount, storedBytes, refused: { ...refused } }),
    close: async () => {
      clearInterval(refreshTimer);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
