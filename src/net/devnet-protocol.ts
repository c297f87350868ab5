/**
 * The devnet coordinator's HTTP protocol, shared by its server (src/devnet) and its clients
 * (browser and Node). Every write is signed by the writer's hotkey over a domain-separated message
 * that binds the HTTP method and path (so the object key or the chain call), the public key, the
 * sha256 of the body and a nonce. The nonce is the writer's clock in ms: the server accepts it only
 * within `MAX_CLOCK_SKEW_MS` of its own clock and only above the last nonce it accepted from that
 * hotkey, so a captured request can be replayed neither later nor into another path.
 */
import { blake2b } from '@noble/hashes/blake2b';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import { decodeAddress } from '@polkadot/util-crypto';
import { BadRequestError } from './errors.ts';

export const DEVNET_REQUEST_DOMAIN = 'gauntlet-devnet/request/v1';
export const MAX_CLOCK_SKEW_MS = 60_000;

export const HEADER_HOTKEY = 'x-gauntlet-hotkey';
export const HEADER_NONCE = 'x-gauntlet-nonce';
export const HEADER_SIGNATURE = 'x-gauntlet-signature';
/** Server-side write time in ms; `Last-Modified` carries the same instant at HTTP's 1 s precision. */
export const HEADER_LAST_MODIFIED_MS = 'x-gauntlet-last-modified-ms';
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
  let publicKey: Uint8Array;
  try {
    publicKey = decodeAddress(r.hotkey);
  } catch {
    throw new BadRequestError(`Hotkey '${r.hotkey}' is not a valid SS58 address.`);
  }
  const text = new TextEncoder();
  const parts = [text.encode(DEVNET_REQUEST_DOMAIN), Uint8Array.of(0), text.encode(r.method.toUpperCase()), Uint8Array.of(0), text.encode(r.path), Uint8Array.of(0), publicKey, sha256(r.body), u64le(r.nonce)];
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

/** Object keys: printable, no path tricks; the server stores them hex-encoded on disk anyway. */
export const OBJECT_KEY_PATTERN = /^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,199}$/;

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
