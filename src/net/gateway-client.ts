/**
 * The client side of a subnet's storage gateway (`npm run gateway`, src/gateway, issue #21). The
 * gateway speaks the devnet's storage protocol (`devnet-protocol.ts`: `PUT /api/storage/<hotkey>/<key>`
 * signed by the hotkey, reads and listings unsigned), so `DevnetStorage` is its storage client; this
 * module adds what only a gateway answers: `GET /api/gateway`, the document that says which subnet
 * it serves, which S3 endpoint the subnet's own buckets live on (where a volunteer without a bucket
 * still reads the peers that have one, the lead validator first), and its limits.
 */
import { BadRequestError, UnavailableError } from './errors.ts';

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
