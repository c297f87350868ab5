/**
 * The devnet coordinator's HTTP routes (src/devnet/server.ts): the chain API, object storage and
 * the built app. Everything a request may be refused for is checked on its headers before its body
 * is read (issue #14); the server module wires these routes, the block stream and the timers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { open, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { u8aToHex } from '@polkadot/util';
import { BadRequestError, NotFoundError, NotRegisteredError, ReplayedError, TooEarlyError, UnauthorizedError } from '../net/errors.ts';
import {
  HEADER_LAST_MODIFIED_MS, HEADER_SHA256, parseDevnetObjectKey,
  type DevnetHead, type DevnetValidatorsBody,
} from '../net/devnet-protocol.ts';
import type { Hyperparams, ObjectInfo } from '../net/types.ts';
import { RUN_DOCUMENT_ELEMENT_ID } from '../net/run-document-client.ts';
import { type SlowVerifyBudget, assertBodyHash, parseSs58, signedHeaders, verifySigned } from './auth.ts';
import type { DevnetChainModel } from './chain.ts';
import { CROSS_ORIGIN_ISOLATION, apiCorsHeaders, busy, declaredLength, readSmallBody, send, sendError, sendJson } from './http.ts';
import type { ObjectStore } from './objects.ts';
import type { DevnetState } from './state.ts';

/** What the routes serve from: the coordinator's state, its chain model and objects, and its settings. */
export interface RouteContext {
  readonly state: DevnetState;
  readonly chain: DevnetChainModel;
  readonly objects: ObjectStore;
  readonly slowVerify: SlowVerifyBudget;
  readonly runNetuid: number;
  readonly runValidators: readonly string[];
  readonly faucet: boolean;
  readonly genesisMs: number;
  readonly blockTimeMs: number;
  readonly maxBytesInFlight: number;
  readonly maxUploadsPerBucket: number;
  readonly appDir: string | undefined;
  /** The run document's wire form (`GET /api/run`), or undefined when this devnet publishes none. */
  readonly runDocument: string | undefined;
  head(): DevnetHead;
  /** When reads of window `w`'s gradients open. */
  readsOpenAtMs(window: number): number;
  hyperparams(): Omit<Hyperparams, 'weightsVersionKey'> & { weightsVersionKey: string };
}

/** Chain calls carry small JSON or a ≤ 128-byte commitment. */
const MAX_CHAIN_BODY_BYTES = 64 * 1024;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.bin': 'application/octet-stream', '.onnx': 'application/octet-stream', '.wgsl': 'text/plain', '.txt': 'text/plain',
};

/** The API may be called from another origin (the Vite dev server, another devnet's app): reads are public and every write is signed. */
const API_CORS = apiCorsHeaders('GET, HEAD, PUT, POST, OPTIONS');

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

/**
 * The run document as the page's `<script type="application/json" id="run-document">`. `<` is
 * written as its JSON escape, so no string in it can close the script element.
 */
export function runDocumentScript(document: string): string {
  return `<script type="application/json" id="${RUN_DOCUMENT_ELEMENT_ID}">${document.replaceAll('<', '\\u003c')}</script>`;
}

export class DevnetRoutes {
  private bytesInFlight = 0;
  private readonly uploadsByBucket = new Map<string, number>();

  constructor(private readonly c: RouteContext) {}

  /** One HTTP request: the API (CORS open, every write signed) or the app; any refusal is a 4xx with the reason. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const work = (async () => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://devnet.local');
      } catch {
        throw new BadRequestError('The request target is not a valid URL path.');
      }
      const isApi = url.pathname.startsWith('/api/');
      if (!isApi) return this.serveApp(req, res, url);
      for (const [name, value] of Object.entries(API_CORS)) res.setHeader(name, value);
      if (req.method === 'OPTIONS') return send(res, 204, '');
      return this.api(req, res, url);
    })();
    work.catch((error: unknown) => sendError(req, res, error));
  }

  /** A signed chain call (register, stake, commitment, weights), authenticated before its body is read. */
  private async chainPost(req: IncomingMessage, res: ServerResponse, path: string, netuid: number, call: string): Promise<void> {
    if (call === 'stake' && !this.c.faucet) throw new UnauthorizedError('The stake faucet is off on this devnet: the operator turns it on with --faucet (startDevnet({ faucet: true })).');
    const signed = signedHeaders(req);
    // Refused before the body and before any cryptography: only a registration may come from a stranger.
    if (call !== 'register' && this.c.state.neuron(netuid, signed.hotkey) === undefined) throw NotRegisteredError.of(signed.hotkey, netuid);
    verifySigned('POST', path, signed, this.c.state.lastNonce(signed.hotkey), Date.now(), this.c.slowVerify);
    const body = await readSmallBody(req, MAX_CHAIN_BODY_BYTES, `POST ${path}`);
    assertBodyHash(signed, body, `POST ${path}`);
    // The same request may have raced in twice while its body arrived: the nonce decides again, synchronously.
    if (signed.nonce <= this.c.state.lastNonce(signed.hotkey)) throw new ReplayedError(`Nonce ${signed.nonce} of ${signed.hotkey} was just accepted: the request was replayed.`);
    const { hotkey } = signed;
    const block = this.c.head().number;
    let answer: unknown;
    let changed = true;
    if (call === 'register') {
      const registered = this.c.chain.register(netuid, hotkey, block);
      changed = registered.changed;
      answer = { uid: registered.uid, block: registered.block };
    } else if (call === 'stake') {
      answer = { stake: this.c.chain.addStake(netuid, hotkey, parseJsonObject(body, 'A stake body').amount), block };
    } else if (call === 'commitment') {
      this.c.chain.setCommitment(netuid, hotkey, body, u8aToHex(body), block);
      answer = { block };
    } else {
      this.c.chain.setWeights(netuid, hotkey, parseJsonObject(body, 'A weights body'), block);
      answer = { block };
    }
    // Accepted: the hotkey is registered now, so its nonce is kept (and saved with the change).
    this.c.state.recordNonce(hotkey, signed.nonce);
    if (changed) this.c.state.save();
    sendJson(res, 200, answer);
  }
  /** A write into a bucket: refused from its headers, or streamed to disk under the caps. */
  private async put(req: IncomingMessage, res: ServerResponse, path: string, bucket: string, key: string): Promise<void> {
    // Everything that can refuse the upload runs on the headers, before one byte of the body is read.
    const signed = signedHeaders(req);
    if (signed.hotkey !== bucket) throw new UnauthorizedError(`Hotkey ${signed.hotkey} may not write into bucket ${bucket}: only the bucket's own hotkey may.`);
    if (this.c.state.neuron(this.c.runNetuid, signed.hotkey) === undefined) {
      throw new NotRegisteredError(`Hotkey ${signed.hotkey} is not registered on netuid ${this.c.runNetuid}, the run's subnet; register there before writing.`);
    }
    const size = declaredLength(req, this.c.objects.limits.maxObjectBytes, `Object ${key}`);
    verifySigned('PUT', path, signed, this.c.state.lastNonce(signed.hotkey), Date.now(), this.c.slowVerify);
    this.c.objects.plan(bucket, key, size);
    if (this.bytesInFlight + size > this.c.maxBytesInFlight) throw busy(`The devnet is receiving ${this.bytesInFlight} bytes of uploads (at most ${this.c.maxBytesInFlight} at once); retry in a second.`);
    const open = this.uploadsByBucket.get(bucket) ?? 0;
    if (open >= this.c.maxUploadsPerBucket) throw busy(`Bucket ${bucket} has ${open} uploads in progress (at most ${this.c.maxUploadsPerBucket}); retry when one has finished.`);
    // Accepted for streaming: the nonce is spent now, so a copy of this request racing in is a replay.
    this.c.state.recordNonce(signed.hotkey, signed.nonce);
    this.bytesInFlight += size;
    this.uploadsByBucket.set(bucket, open + 1);
    let info: ObjectInfo;
    try {
      info = await this.c.objects.write(bucket, key, req, size, signed.bodySha256, () => {
        if (this.c.state.neuron(this.c.runNetuid, bucket) === undefined) throw NotRegisteredError.of(bucket, this.c.runNetuid);
      });
    } finally {
      this.bytesInFlight -= size;
      const left = (this.uploadsByBucket.get(bucket) ?? 1) - 1;
      if (left > 0) this.uploadsByBucket.set(bucket, left);
      else this.uploadsByBucket.delete(bucket);
    }
    this.c.state.save();
    sendJson(res, 200, info);
  }
  /** A GET or HEAD of an object; a window's gradients only once its put window has closed. */
  private async read(res: ServerResponse, method: 'GET' | 'HEAD', bucket: string, key: string): Promise<void> {
    const parsed = parseDevnetObjectKey(key);
    if (parsed === undefined) throw new BadRequestError(`Object key '${key.slice(0, 200)}' is not one the devnet stores.`);
    const info = this.c.objects.info(bucket, key);
    if (info === undefined) throw NotFoundError.of(`Object ${bucket}/${key}`);
    if (method === 'GET' && parsed.name.gatedUntilPutWindowCloses === true && parsed.number !== undefined) {
      const opensAt = this.c.readsOpenAtMs(parsed.number);
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
    const object = await this.c.objects.open(bucket, key);
    res.writeHead(200, headers);
    // A client that goes away mid-download ends the pipeline; nothing to answer then.
    await pipeline(object.body, res).catch(() => res.destroy());
  }
  /** `/api/chain/…` and `/api/storage/…`; anything else is a 404 that names the route. */
  private async api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const segments = url.pathname.split('/');
    const area = segments[2];
    // decodeURIComponent throws URIError on a malformed escape: answered 400 by sendError.
    const parts = segments.slice(3).map((p) => decodeURIComponent(p)); // after /api/<area>
    const method = req.method ?? 'GET';
    if (area === 'run' && parts.length === 0 && (method === 'GET' || method === 'HEAD')) return this.run(res, method);
    if (area === 'chain') return this.chainApi(req, res, url, parts, method);
    if (area === 'storage') return this.storageApi(req, res, url, parts, method);
    throw NotFoundError.of(`API route ${method} ${url.pathname.slice(0, 200)}`);
  }

  /** The run document the subnet owner's side publishes (issue #17): every peer fetches and checks it before it joins. */
  private run(res: ServerResponse, method: string): void {
    const document = this.c.runDocument;
    if (document === undefined) throw NotFoundError.of('The run document (this devnet was started without one: give it --preset or --run-config)');
    const body = method === 'HEAD' ? '' : document;
    send(res, 200, body, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': String(Buffer.byteLength(document)) });
  }

  /** The head, block timestamps, a subnet's reads, and the signed chain calls. */
  private async chainApi(req: IncomingMessage, res: ServerResponse, url: URL, parts: readonly string[], method: string): Promise<void> {
    const [first, second, third] = parts;
    if (parts.length === 1 && method === 'GET' && first === 'head') return sendJson(res, 200, this.c.head());
    if (parts.length === 3 && method === 'GET' && first === 'blocks' && second !== undefined && third === 'timestamp') {
      const n = Number(second);
      if (!/^[0-9]{1,15}$/.test(second)) throw new BadRequestError(`Block '${second.slice(0, 20)}' is not a block number.`);
      if (n > this.c.head().number) throw NotFoundError.of(`Block ${n} (head is ${this.c.head().number})`);
      return sendJson(res, 200, { number: n, timestampMs: this.c.genesisMs + n * this.c.blockTimeMs });
    }
    if (first === undefined || second === undefined || parts.length !== 2) throw NotFoundError.of(`API route ${method} ${url.pathname.slice(0, 200)}`);
    const netuid = parseNetuid(first);
    if (method === 'GET' && second === 'metagraph') return sendJson(res, 200, this.c.chain.metagraph(netuid, this.c.head().number));
    if (method === 'GET' && second === 'hyperparams') return sendJson(res, 200, this.c.hyperparams());
    if (method === 'GET' && second === 'commitments') return sendJson(res, 200, this.c.state.subnet(netuid).commitments);
    if (method === 'GET' && second === 'validators') return sendJson(res, 200, { hotkeys: netuid === this.c.runNetuid ? this.c.runValidators : [] } satisfies DevnetValidatorsBody);
    if (method === 'POST' && (second === 'register' || second === 'commitment' || second === 'weights' || second === 'stake')) {
      return this.chainPost(req, res, url.pathname, netuid, second);
    }
    throw NotFoundError.of(`API route ${method} ${url.pathname.slice(0, 200)}`);
  }

  /** A bucket's listing, and its objects' writes and reads. */
  private async storageApi(req: IncomingMessage, res: ServerResponse, url: URL, parts: readonly string[], method: string): Promise<void> {
    const [bucketText, ...keyParts] = parts;
    if (bucketText === undefined || bucketText === '') throw NotFoundError.of(`API route ${url.pathname.slice(0, 200)}`);
    const bucket = parseSs58(bucketText, 'Bucket');
    const key = keyParts.join('/');
    if (key === '' && method === 'GET') return sendJson(res, 200, this.c.objects.list(bucket, (url.searchParams.get('prefix') ?? '').slice(0, 200)));
    if (method === 'PUT') return this.put(req, res, url.pathname, bucket, key);
    if (method === 'GET' || method === 'HEAD') return this.read(res, method, bucket, key);
    throw NotFoundError.of(`API route ${method} ${url.pathname.slice(0, 200)}`);
  }

  /** The built app, read-only, with the isolation headers. */
  private async serveApp(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw NotFoundError.of(`${req.method ?? ''} ${url.pathname.slice(0, 200)} (the app is read-only)`);
    if (this.c.appDir === undefined) return send(res, 404, 'This devnet serves no app (start it with an app directory).', { 'Content-Type': 'text/plain' });
    const relative = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    let path = join(this.c.appDir, relative);
    if (path !== this.c.appDir && !path.startsWith(this.c.appDir + sep)) return send(res, 403, 'Forbidden', { 'Content-Type': 'text/plain' });
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || info.isDirectory()) path = info?.isDirectory() === true ? join(path, 'index.html') : join(this.c.appDir, 'index.html');
    const handle = await open(path, 'r').catch(() => undefined);
    if (handle === undefined) return send(res, 404, 'Not found: run `npm run build` first.', { 'Content-Type': 'text/plain' });
    if (extname(path) === '.html' && this.c.runDocument !== undefined) {
      // The page reads the run it serves from itself, synchronously, and checks it (src/ui/run-source.ts).
      const html = (await handle.readFile({ encoding: 'utf8' }).finally(() => handle.close())).replace('</head>', `${runDocumentScript(this.c.runDocument)}\n  </head>`);
      return send(res, 200, req.method === 'HEAD' ? '' : html, { 'Content-Type': MIME['.html']!, 'Content-Length': String(Buffer.byteLength(html)) });
    }
    const size = (await handle.stat()).size;
    res.writeHead(200, { ...CROSS_ORIGIN_ISOLATION, 'Cache-Control': 'no-store', 'Content-Type': MIME[extname(path)] ?? 'application/octet-stream', 'Content-Length': String(size) });
    if (req.method === 'HEAD') {
      await handle.close();
      res.end();
      return;
    }
    await pipeline(handle.createReadStream({ autoClose: true }), res).catch(() => res.destroy());
  }
}
