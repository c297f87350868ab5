/**
 * Clients of the devnet coordinator (src/devnet/server.ts) implementing `Chain` and `Storage`
 * with fetch and WebSocket only, so the same code runs in the page, in a Worker and in Node
 * (Node 20 has no global WebSocket: pass `ws`'s class as `webSocket`).
 */
import { hexToU8a } from '@polkadot/util';
import { BadRequestError, ChainError, NotFoundError, OversizedError, UnavailableError, netErrorFromWire } from './errors.ts';
import {
  HEADER_LAST_MODIFIED_MS, HEADER_SHA256,
  devnetRequestMessage, devnetSignedHeaders, type DevnetErrorBody, type DevnetHead, type DevnetStakeBody, type DevnetValidatorsBody,
} from './devnet-protocol.ts';
import { normalizeMaxWeight } from './subnet-rules.ts';
import { readGatedObject } from './time-gate.ts';
import type { BlockHeader, Chain, Commitment, GetOptions, Hyperparams, Metagraph, ObjectInfo, Signer, Storage, TxResult, Unsubscribe, WeightsResult } from './types.ts';
import type { WeightCommit } from './weight-commits.ts';

/** The part of the WebSocket API the clients use; satisfied by the browser's and by `ws`. */
export interface WebSocketLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const lastNonceByHotkey = new Map<string, number>();
function nextNonce(hotkey: string): number {
  const nonce = Math.max(Date.now(), (lastNonceByHotkey.get(hotkey) ?? 0) + 1);
  lastNonceByHotkey.set(hotkey, nonce);
  return nonce;
}

async function failure(response: Response, what: string): Promise<Error> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<DevnetErrorBody>;
    if (typeof body.code === 'string' && typeof body.message === 'string') return netErrorFromWire(body.code, body.message);
  } catch {
    // not JSON: fall through
  }
  // HEAD answers carry no body, so a missing object arrives as a bare 404.
  if (response.status === 404) return NotFoundError.of(what);
  return new UnavailableError(`${what} failed with HTTP ${response.status}: ${text.slice(0, 200)}`);
}

class DevnetHttp {
  readonly baseUrl: string;
  constructor(baseUrl: string, readonly signer?: Signer) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async request(method: string, path: string, init: { body?: Uint8Array; signAs?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const body = init.body ?? new Uint8Array(0);
    const headers: Record<string, string> = { ...init.headers };
    if (init.signAs !== undefined) {
      if (this.signer === undefined) throw new BadRequestError(`${method} ${path} must be signed, but this client has no signer.`);
      const nonce = nextNonce(init.signAs);
      const signature = await this.signer.signRaw(init.signAs, devnetRequestMessage({ method, path, hotkey: init.signAs, body, nonce }));
      // The body's hash travels beside the signature: the server checks both before the body.
      Object.assign(headers, devnetSignedHeaders(init.signAs, nonce, signature, body));
    }
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, { method, headers, ...(init.body === undefined ? {} : { body: new Blob([new Uint8Array(body)]) }) });
    } catch (error) {
      throw new UnavailableError(`The devnet at ${this.baseUrl} cannot be reached (${String(error)}); is it running (npm start)?`);
    }
    if (!response.ok) throw await failure(response, `${method} ${path}`);
    return response;
  }

  async json<T>(method: string, path: string, init: { body?: Uint8Array; signAs?: string } = {}): Promise<T> {
    return (await (await this.request(method, path, init)).json()) as T;
  }
}

export class DevnetChain implements Chain {
  private readonly http: DevnetHttp;

  constructor(baseUrl: string, signer?: Signer, private readonly webSocket?: WebSocketConstructor) {
    this.http = new DevnetHttp(baseUrl, signer);
  }

  async subscribeBlocks(onBlock: (header: BlockHeader) => void): Promise<Unsubscribe> {
    const Ctor = this.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Ctor === undefined) throw new UnavailableError('No WebSocket implementation: pass one (e.g. the `ws` package in Node 20).');
    const socket = new Ctor(this.http.baseUrl.replace(/^http/, 'ws') + '/api/chain/ws');
    let lastNumber = -1;
    await new Promise<void>((resolve, reject) => {
      socket.onerror = (event) => reject(new UnavailableError(`Block subscription to ${this.http.baseUrl} failed: ${String(event)}`));
      socket.onmessage = (event) => {
        if (typeof event.data !== 'string' && !(event.data instanceof Uint8Array)) return;
        const text = typeof event.data === 'string' ? event.data : new TextDecoder().decode(event.data);
        const message = JSON.parse(text) as DevnetHead & { type: string };
        resolve();
        // The greeting and the first tick can repeat a head: report each block once, in order.
        if (message.type === 'block' && message.number > lastNumber) {
          lastNumber = message.number;
          onBlock({ number: message.number, timestampMs: message.timestampMs });
        }
      };
    });
    return () => socket.close();
  }

  async currentBlock(): Promise<BlockHeader> {
    const head = await this.http.json<DevnetHead>('GET', '/api/chain/head');
    return { number: head.number, timestampMs: head.timestampMs };
  }

  async blockTimestamp(n: number): Promise<number> {
    return (await this.http.json<{ timestampMs: number }>('GET', `/api/chain/blocks/${n}/timestamp`)).timestampMs;
  }

  metagraph(netuid: number): Promise<Metagraph> {
    return this.http.json<Metagraph>('GET', `/api/chain/${netuid}/metagraph`);
  }

  async hyperparams(netuid: number): Promise<Hyperparams> {
    const h = await this.http.json<Omit<Hyperparams, 'weightsVersionKey'> & { weightsVersionKey: string }>('GET', `/api/chain/${netuid}/hyperparams`);
    return { ...h, weightsVersionKey: BigInt(h.weightsVersionKey) };
  }

  /** The hotkeys the subnet owner named as the run's validators (`npm run devnet -- --validators`); empty when none are named. */
  async runValidators(netuid: number): Promise<readonly string[]> {
    return (await this.http.json<DevnetValidatorsBody>('GET', `/api/chain/${netuid}/validators`)).hotkeys;
  }

  async commitments(netuid: number): Promise<Map<string, Commitment>> {
    const raw = await this.http.json<Record<string, { block: number; dataHex: string }>>('GET', `/api/chain/${netuid}/commitments`);
    return new Map(Object.entries(raw).map(([hotkey, c]) => [hotkey, { block: c.block, data: hexToU8a(c.dataHex), moreFields: [] }]));
  }

  /** Registers `hotkey` (signed by it) and returns its uid; registering again returns the same uid. */
  async register(hotkey: string, netuid: number): Promise<{ uid: number; block: number }> {
    return this.http.json('POST', `/api/chain/${netuid}/register`, { signAs: hotkey, body: new Uint8Array(0) });
  }

  /**
   * Devnet only (no subtensor counterpart with this shape): adds `amount` stake to `hotkey`, signed
   * by it, out of thin air, so a test or a local operator can earn a validator permit when the
   * devnet limits permits (`maxAllowedValidators`, `minValidatorStake`). Returns the total stake.
   * The faucet is off unless the operator started the devnet with it (`--faucet`, `faucet: true`).
   */
  async addStake(hotkey: string, netuid: number, amount: number): Promise<{ stake: number; block: number }> {
    const body = new TextEncoder().encode(JSON.stringify({ amount } satisfies DevnetStakeBody));
    return this.http.json('POST', `/api/chain/${netuid}/stake`, { signAs: hotkey, body });
  }

  /** The devnet keeps one field per commitment: its run document is served at `/api/run`, not committed. */
  setCommitment(hotkey: string, netuid: number, data: Uint8Array, moreFields: readonly Uint8Array[] = []): Promise<TxResult> {
    if (moreFields.length > 0) return Promise.reject(new BadRequestError('The devnet keeps one field per commitment; it publishes its run at /api/run, not in a commitment.'));
    return this.http.json<TxResult>('POST', `/api/chain/${netuid}/commitment`, { signAs: hotkey, body: data });
  }

  /** The devnet has commit-reveal off: plain `setWeights` with SDK-style u16 max-upscaling. */
  async setWeights(hotkey: string, netuid: number, uids: readonly number[], weights: readonly number[], versionKey: bigint): Promise<WeightsResult> {
    const u16 = normalizeMaxWeight(uids, weights);
    const body = new TextEncoder().encode(JSON.stringify({ ...u16, versionKey: versionKey.toString() }));
    const result = await this.http.json<{ block: number }>('POST', `/api/chain/${netuid}/weights`, { signAs: hotkey, body });
    return { block: result.block, method: 'setWeights' };
  }

  /** The devnet never commits weights, so there is nothing to reveal. */
  revealWeights(commit: WeightCommit): Promise<TxResult> {
    return Promise.reject(new ChainError(`The devnet has commit-reveal off: it holds no weight commit of ${commit.hotkey} to reveal.`));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function infoFromHeaders(bucket: string, key: string, headers: Headers): ObjectInfo {
  const ms = Number(headers.get(HEADER_LAST_MODIFIED_MS));
  const lastModifiedMs = Number.isFinite(ms) && ms > 0 ? ms : Date.parse(headers.get('last-modified') ?? '');
  const sha = headers.get(HEADER_SHA256);
  return { bucket, key, size: Number(headers.get('content-length') ?? '0'), lastModifiedMs, ...(sha === null || sha === '' ? {} : { sha256: sha }) };
}

function objectPath(bucket: string, key: string): string {
  return `/api/storage/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Storage on the devnet: the writer's bucket is its hotkey; every put is signed by it. */
export class DevnetStorage implements Storage {
  private readonly http: DevnetHttp;

  constructor(baseUrl: string, signer: Signer | undefined, private readonly hotkey: string | undefined, private readonly maxObjectBytes = 64 * 1024 * 1024) {
    this.http = new DevnetHttp(baseUrl, signer);
  }

  async put(key: string, data: Uint8Array): Promise<ObjectInfo> {
    if (this.hotkey === undefined) throw new BadRequestError('This storage client is read-only (no hotkey).');
    if (data.length > this.maxObjectBytes) throw OversizedError.of(data.length, this.maxObjectBytes, `Object ${key}`);
    return this.http.json<ObjectInfo>('PUT', objectPath(this.hotkey, key), { signAs: this.hotkey, body: data });
  }

  async get(bucket: string, key: string, options: GetOptions = {}): Promise<{ info: ObjectInfo; data: Uint8Array }> {
    const response = await this.http.request('GET', objectPath(bucket, key));
    const info = infoFromHeaders(bucket, key, response.headers);
    return readGatedObject(response, info, options, this.maxObjectBytes);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      return infoFromHeaders(bucket, key, (await this.http.request('HEAD', objectPath(bucket, key))).headers);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  list(bucket: string, prefix = ''): Promise<ObjectInfo[]> {
    return this.http.json<ObjectInfo[]>('GET', `/api/storage/${encodeURIComponent(bucket)}/?prefix=${encodeURIComponent(prefix)}`);
  }
}

