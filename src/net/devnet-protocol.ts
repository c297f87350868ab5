/**
 * The devnet coordinator's HTTP protocol, shared by its server (src/devnet) and its clients
 * (browser and Node). Every write is signed by the writer's hotkey over a domain-separated message
 * that binds the HTTP method and path (so the object key or the chain call), the public key, the
 * sha256 of the body and a nonce. The nonce is the writer's clock in ms: the server accepts it only
 * up to `MAX_CLOCK_SKEW_MS` behind and `MAX_FUTURE_SKEW_MS` ahead of its own clock, and only above
 * the last nonce it accepted from that hotkey, so a captured request can be replayed neither later
 * nor into another path.
 *
 * The writer also sends the body's sha256 in `HEADER_SHA256`. The signature covers that hash, so
 * the server checks the signature *before* it reads a byte of the body, then streams the body
 * to disk while hashing it and keeps it only if the hash matches: an unsigned or forged request
 * costs the server its headers, never its body.
 *
 * Object keys are not free-form: `DEVNET_OBJECT_NAMES` lists the names the protocol uses
 * (src/peer/gather.ts) and how long the devnet keeps each family.
 */
import { blake2b } from '@noble/hashes/blake2b';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import { decodeAddress } from '@polkadot/util-crypto';
import { BadRequestError } from './errors.ts';

export const DEVNET_REQUEST_DOMAIN = 'gauntlet-devnet/request/v1';
/** How far behind the coordinator's clock a nonce may be: a request in transit, a slow signer. */
export const MAX_CLOCK_SKEW_MS = 60_000;
/**
 * How far ahead of the coordinator's clock a nonce may be. Small: a nonce far in the future would
 * let a request be signed now and replayed much later, and would lock the signer out of its own
 * next requests (each must carry a higher nonce) until the clock caught up.
 */
export const MAX_FUTURE_SKEW_MS = 5_000;

export const HEADER_HOTKEY = 'x-gauntlet-hotkey';
export const HEADER_NONCE = 'x-gauntlet-nonce';
export const HEADER_SIGNATURE = 'x-gauntlet-signature';
/** Server-side write time in ms; `Last-Modified` carries the same instant at HTTP's 1 s precision. */
export const HEADER_LAST_MODIFIED_MS = 'x-gauntlet-last-modified-ms';
/**
 * Hex sha256 of a body: sent by a signed request (the hash its signature covers, checked against
 * the body as it streams in) and answered with every stored object.
 */
export const HEADER_SHA256 = 'x-gauntlet-sha256';

export interface SignedRequestFields {
  readonly method: string;
  /** URL path without query, e.g. `/api/storage/<hotkey>/gradient-7-3`. */
  readonly path: string;
  readonly hotkey: string;
  readonly body: Uint8Array;
  readonly nonce: number;
}

function u64le(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new BadRequestError(`Nonce ${value} must be a non-negative safe integer (ms).`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return out;
}

/**
 * `blake2b-256(domain ‖ 0 ‖ method ‖ 0 ‖ path ‖ 0 ‖ publicKey(32) ‖ sha256(body) ‖ u64le(nonce))`.
 * Throws `BadRequestError` for an address that does not decode.
 */
export function devnetRequestMessage(r: SignedRequestFields): Uint8Array {
  const { body, ...rest } = r;
  return devnetRequestMessageOfHash({ ...rest, bodySha256: sha256(body) });
}

/** The same message from the body's hash alone: what the server checks before the body arrives. */
export function devnetRequestMessageOfHash(r: Omit<SignedRequestFields, 'body'> & { readonly bodySha256: Uint8Array }): Uint8Array {
  if (r.bodySha256.length !== 32) throw new BadRequestError(`A body hash must be 32 bytes (sha256), not ${r.bodySha256.length}.`);
  let publicKey: Uint8Array;
  try {
    publicKey = decodeAddress(r.hotkey);
  } catch {
    throw new BadRequestError(`Hotkey '${r.hotkey}' is not a valid SS58 address.`);
  }
  const text = new TextEncoder();
  const parts = [text.encode(DEVNET_REQUEST_DOMAIN), Uint8Array.of(0), text.encode(r.method.toUpperCase()), Uint8Array.of(0), text.encode(r.path), Uint8Array.of(0), publicKey, r.bodySha256, u64le(r.nonce)];
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.length;
  }
  return blake2b(all, { dkLen: 32 });
}

export function sha256Hex(data: Uint8Array): string {
  return bytesToHex(sha256(data));
}

/** The headers of a signed request: who signs, its nonce, the signature and the body hash it covers. */
export function devnetSignedHeaders(hotkey: string, nonce: number, signature: string, body: Uint8Array): Record<string, string> {
  return { [HEADER_HOTKEY]: hotkey, [HEADER_NONCE]: String(nonce), [HEADER_SIGNATURE]: signature, [HEADER_SHA256]: sha256Hex(body) };
}

/** Object keys: printable, no path tricks; the server stores them hex-encoded on disk anyway. */
export const OBJECT_KEY_PATTERN = /^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,199}$/;

/** A number inside a key: decimal without leading zeros, at most a safe integer's 15 digits. */
const N = '(0|[1-9][0-9]{0,14})';

/**
 * One family of object names the devnet stores. `<name>.sig` (a detached signature of `<name>`)
 * is accepted for every name and shares its family's retention and read gate.
 */
export interface DevnetObjectName {
  readonly family: string;
  /** The whole key (without `.sig`); capture group 1, where there is one, is the family's number (a window, a step). */
  readonly pattern: RegExp;
  /**
   * The devnet keeps a bucket's objects of this family for its newest `keepNewest` numbers:
   * storing a newer number deletes the oldest, so an honest peer never runs into its quota.
   * Omitted: kept until overwritten, counted by the bucket's quota.
   */
  readonly keepNewest?: number;
  /**
   * Reads (GET) of window `n`'s object open only once that window's put window has closed, so no
   * peer can copy another's submission while uploads still count (HEAD and listings still answer).
   */
  readonly gatedUntilPutWindowCloses?: boolean;
}

/**
 * Every object name the devnet accepts (src/peer/gather.ts names them): one entry per family, so
 * a new publication is one more line. Retention, in numbers per bucket: gradients and debug slices
 * for 16 windows (a validator reads window s and s−1; a late joiner gathers live only the windows
 * after the newest aggregate); peer lists 16; aggregated updates 32 and checkpoints 4 (a joining
 * peer starts from the newest checkpoint and replays the aggregates after it, one checkpoint every
 * `checkpointFrequency` = 10 windows); score documents 64 (the page's history); θ hashes 16 (another
 * validator compares the window it scores).
 */
export const DEVNET_OBJECT_NAMES: readonly DevnetObjectName[] = [
  { family: 'gradient', pattern: new RegExp(`^gradient-${N}-${N}$`), keepNewest: 16, gatedUntilPutWindowCloses: true },
  { family: 'debug', pattern: new RegExp(`^debug-${N}-${N}$`), keepNewest: 16 },
  { family: 'peers', pattern: new RegExp(`^peers-${N}$`), keepNewest: 16 },
  { family: 'aggregate', pattern: new RegExp(`^aggregate-${N}$`), keepNewest: 32 },
  { family: 'checkpoint', pattern: new RegExp(`^checkpoint-${N}$`), keepNewest: 4 },
  { family: 'scores', pattern: new RegExp(`^scores-${N}$`), keepNewest: 64 },
  { family: 'theta', pattern: new RegExp(`^theta-${N}$`), keepNewest: 16 },
  { family: 'run', pattern: /^run$/ },
];

/** What a key is: its family entry, its number (when the family has one) and whether it is the `.sig` of the name. */
export interface ParsedObjectKey {
  readonly name: DevnetObjectName;
  readonly number?: number;
  readonly signature: boolean;
}

/** Parses `key` against `DEVNET_OBJECT_NAMES`; undefined when the devnet does not store such a key. */
export function parseDevnetObjectKey(key: string): ParsedObjectKey | undefined {
  const signature = key.endsWith('.sig');
  const base = signature ? key.slice(0, -'.sig'.length) : key;
  for (const name of DEVNET_OBJECT_NAMES) {
    const match = name.pattern.exec(base);
    if (match === null) continue;
    const number = match[1] === undefined ? undefined : Number(match[1]);
    return number === undefined ? { name, signature } : { name, number, signature };
  }
  return undefined;
}

export interface DevnetHead {
  readonly number: number;
  readonly timestampMs: number;
  readonly blockTimeMs: number;
}

/** Error bodies: `{ code, message }` with the `NetErrorCode`. */
export interface DevnetErrorBody {
  readonly code: string;
  readonly message: string;
}

export interface DevnetWeightsBody {
  readonly uids: number[];
  readonly weights: number[];
  readonly versionKey: string;
}

/** Body of the devnet's `POST /api/chain/{netuid}/stake`: stake added to the signing hotkey. */
export interface DevnetStakeBody {
  readonly amount: number;
}

/** Body of the devnet's `GET /api/chain/{netuid}/validators`: the hotkeys the subnet owner named as the run's validators. */
export interface DevnetValidatorsBody {
  readonly hotkeys: readonly string[];
}
