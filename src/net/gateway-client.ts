/**
 * The client side of a subnet's storage gateway (`npm run gateway`, src/gateway, issue #21). The
 * gateway speaks the devnet's storage protocol (`devnet-protocol.ts`: `PUT /api/storage/<hotkey>/<key>`
 * signed by the hotkey, reads and listings unsigned), so `DevnetStorage` is its storage client; this
 * module adds what only a gateway answers: `GET /api/gateway`, the document that says which subnet
 * it serves, which S3 endpoint the subnet's own buckets live on (where a volunteer without a bucket
 * still reads the peers that have one, the lead validator first), and its limits.
 */
import { BadRequestError, UnavailableError } from './errors.ts';
import { S3Endpoint, type S3Credentials, type S3Read } from './s3-storage.ts';
import type { GetOptions, ObjectInfo, Storage } from './types.ts';

export const GATEWAY_INFO_PATH = '/api/gateway';
/** The info document is a few hundred bytes; anything far larger is not one. */
const MAX_GATEWAY_INFO_BYTES = 16 * 1024;

/** What a gateway says about itself (`GET /api/gateway`). */
export interface GatewayInfo {
  readonly kind: 'gauntlet-gateway';
  readonly netuid: number;
  /** The S3-compatible endpoint of the subnet's buckets (path-style) and its region. */
  readonly s3Endpoint: string;
  readonly region: string;
  readonly maxObjectBytes: number;
  /** Per hotkey: bytes and objects it may hold, writes per minute. */
  readonly quotaBytes: number;
  readonly quotaObjects: number;
  readonly writesPerMinute: number;
}

function positiveInteger(value: unknown, name: string, source: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new BadRequestError(`The gateway info from ${source} has no valid ${name}.`);
  return value;
}

/** Checks an untrusted info document. */
export function parseGatewayInfo(text: string, source: string): GatewayInfo {
  if (text.length > MAX_GATEWAY_INFO_BYTES) throw new BadRequestError(`The gateway info from ${source} is ${text.length} characters, more than ${MAX_GATEWAY_INFO_BYTES}.`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BadRequestError(`The gateway info from ${source} is not JSON: is ${source} a Gauntlet gateway?`);
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (o.kind !== 'gauntlet-gateway') throw new BadRequestError(`${source} does not answer as a Gauntlet gateway.`);
  const netuid = positiveInteger(o.netuid, 'netuid', source);
  if (netuid > 65_535) throw new BadRequestError(`The gateway info from ${source} names netuid ${netuid}, not a u16.`);
  if (typeof o.s3Endpoint !== 'string' || !/^https?:\/\/[^\s]{1,200}$/.test(o.s3Endpoint)) throw new BadRequestError(`The gateway info from ${source} has no valid s3Endpoint.`);
  if (typeof o.region !== 'string' || !/^[A-Za-z0-9-]{1,40}$/.test(o.region)) throw new BadRequestError(`The gateway info from ${source} has no valid region.`);
  return {
    kind: 'gauntlet-gateway', netuid, s3Endpoint: o.s3Endpoint.replace(/\/+$/, ''), region: o.region,
    maxObjectBytes: positiveInteger(o.maxObjectBytes, 'maxObjectBytes', source),
    quotaBytes: positiveInteger(o.quotaBytes, 'quotaBytes', source),
    quotaObjects: positiveInteger(o.quotaObjects, 'quotaObjects', source),
    writesPerMinute: positiveInteger(o.writesPerMinute, 'writesPerMinute', source),
  };
}

/** Fetches and checks the gateway's info; `expectedNetuid` refuses a gateway of another subnet. */
export async function fetchGatewayInfo(url: string, expectedNetuid?: number): Promise<GatewayInfo> {
  const base = url.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(base + GATEWAY_INFO_PATH, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new UnavailableError(`The gateway at ${base} cannot be reached (${String(error)}).`);
  }
  if (!response.ok) throw new UnavailableError(`The gateway at ${base} answered HTTP ${response.status} for ${GATEWAY_INFO_PATH}.`);
  const info = parseGatewayInfo(await response.text(), base);
  if (expectedNetuid !== undefined && info.netuid !== expectedNetuid) throw new BadRequestError(`The gateway at ${base} serves netuid ${info.netuid}, not ${expectedNetuid}.`);
  return info;
}

/**
 * Reads of the gateway's bucket itself, with a read key its operator hands to validators: the
 * objects a gateway stored for `hotkey` are `<hotkey>/<key>` there. A validator reads this way when
 * the gateway is down or slow (it is trusted for availability only, and the submissions carry
 * their hotkeys' signatures either way). Timestamps are the bucket's `Last-Modified` (1 s, as
 * Templar's reads). The key bypasses the gateway's read gate, so it is handed to validators, never
 * published: a key on chain would let any miner copy a submission while uploads still count.
 */
export class GatewayBucketReader implements Storage {
  private readonly s3: S3Endpoint;

  constructor(options: { readonly endpoint: string; readonly region?: string; readonly bucket: string; readonly credentials: S3Credentials; readonly maxObjectBytes?: number }) {
    this.s3 = new S3Endpoint({ endpoint: options.endpoint, region: options.region, maxObjectBytes: options.maxObjectBytes });
    this.bucket = options.bucket;
    this.read = { credentials: options.credentials, owner: `the gateway's bucket ${options.bucket}` };
  }

  private readonly bucket: string;
  private readonly read: S3Read;

  put(key: string): Promise<ObjectInfo> {
    return Promise.reject(new BadRequestError(`A reader of the gateway's bucket writes nothing (${key}): uploads go through the gateway.`));
  }

  async get(hotkey: string, key: string, options: GetOptions = {}): Promise<{ info: ObjectInfo; data: Uint8Array }> {
    const { info, data } = await this.s3.get(this.bucket, `${hotkey}/${key}`, options, this.read);
    return { info: { ...info, bucket: hotkey, key }, data };
  }

  async head(hotkey: string, key: string): Promise<ObjectInfo | undefined> {
    const info = await this.s3.head(this.bucket, `${hotkey}/${key}`, this.read);
    return info === undefined ? undefined : { ...info, bucket: hotkey, key };
  }

  async list(hotkey: string, prefix = ''): Promise<ObjectInfo[]> {
    return (await this.s3.list(this.bucket, `${hotkey}/${prefix}`, this.read)).map((o) => ({ ...o, bucket: hotkey, key: o.key.slice(hotkey.length + 1) }));
  }
}
