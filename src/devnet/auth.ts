/**
 * Authentication of the devnet's signed requests, done from the headers alone: the signature
 * covers the body's sha256, which the request declares in `HEADER_SHA256`, so a request is proven
 * to come from its hotkey before the server reads its body. The body is then checked against the
 * declared hash as it streams in (objects.ts, `readSmallBody`).
 */
import type { IncomingMessage } from 'node:http';
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { hexToU8a } from '@polkadot/util';
import { BadRequestError, BadSignatureError, ReplayedError, UnauthorizedError } from '../net/errors.ts';
import { assertValidSignature } from '../net/verify.ts';
import { BITTENSOR_SS58_PREFIX } from '../net/keyring-signer.ts';
import {
  HEADER_HOTKEY, HEADER_NONCE, HEADER_SHA256, HEADER_SIGNATURE, MAX_CLOCK_SKEW_MS, MAX_FUTURE_SKEW_MS, devnetRequestMessageOfHash, sha256Hex,
} from '../net/devnet-protocol.ts';
import type { HexString } from '../net/types.ts';

/** The canonical (prefix 42) form of an SS58 address; `BadRequestError` for one that does not decode. */
export function parseSs58(address: string, what: string): string {
  if (address.length > 64) throw new BadRequestError(`${what} is not a valid SS58 address (too long).`);
  try {
    return encodeAddress(decodeAddress(address), BITTENSOR_SS58_PREFIX);
  } catch {
    throw new BadRequestError(`${what} '${address}' is not a valid SS58 address.`);
  }
}

/** The signature headers of a request, well-formed but not yet verified. */
export interface SignedHeaders {
  /** Canonical SS58. */
  readonly hotkey: string;
  readonly nonce: number;
  readonly signature: HexString;
  /** Lower-case hex sha256 of the body, as declared. */
  readonly bodySha256: string;
}

/** sr25519 and ed25519 signatures are 64 bytes, ecdsa 65. */
const SIGNATURE_PATTERN = /^0x[0-9a-fA-F]{128,130}$/;
const SHA256_PATTERN = /^[0-9a-fA-F]{64}$/;

/**
 * Parses the signature headers: present, well-formed, hotkey decodable. `UnauthorizedError` for an
 * unsigned request, `BadRequestError` for malformed headers. Costs no cryptography.
 */
export function signedHeaders(req: IncomingMessage): SignedHeaders {
  const hotkey = req.headers[HEADER_HOTKEY];
  const nonceText = req.headers[HEADER_NONCE];
  const signature = req.headers[HEADER_SIGNATURE];
  const bodySha256 = req.headers[HEADER_SHA256];
  if (typeof hotkey !== 'string' || typeof nonceText !== 'string' || typeof signature !== 'string') {
    throw new UnauthorizedError(`Writes must carry ${HEADER_HOTKEY}, ${HEADER_NONCE}, ${HEADER_SIGNATURE} and ${HEADER_SHA256}; this one is unsigned and was rejected.`);
  }
  if (!SIGNATURE_PATTERN.test(signature)) throw new BadSignatureError(`${HEADER_SIGNATURE} must be a 0x-hex signature of 64 or 65 bytes.`);
  if (typeof bodySha256 !== 'string' || !SHA256_PATTERN.test(bodySha256)) {
    throw new BadRequestError(`A signed request must carry ${HEADER_SHA256}: the hex sha256 of its body, which its signature covers (update the client).`);
  }
  if (!/^[0-9]{1,16}$/.test(nonceText) || !Number.isSafeInteger(Number(nonceText))) throw new BadRequestError(`${HEADER_NONCE} '${nonceText.slice(0, 40)}' is not a time in ms.`);
  return { hotkey: parseSs58(hotkey, 'Hotkey'), nonce: Number(nonceText), signature: signature as HexString, bodySha256: bodySha256.toLowerCase() };
}

/**
 * Checks the signature over method, path, hotkey, declared body hash and nonce, then the nonce
 * against the clock and against `lastNonce` (the last one accepted from this hotkey). Changes
 * nothing: the caller records the nonce once it accepts the request.
 */
export function verifySigned(method: string, path: string, h: SignedHeaders, lastNonce: number, nowMs: number): void {
  const message = devnetRequestMessageOfHash({ method, path, hotkey: h.hotkey, nonce: h.nonce, bodySha256: hexToU8a(`0x${h.bodySha256}`) });
  assertValidSignature(message, h.signature, h.hotkey, `${method} ${path}`);
  if (h.nonce < nowMs - MAX_CLOCK_SKEW_MS || h.nonce > nowMs + MAX_FUTURE_SKEW_MS) {
    throw new ReplayedError(
      `The request nonce (${h.nonce} ms) is outside [${MAX_CLOCK_SKEW_MS / 1000} s before, ${MAX_FUTURE_SKEW_MS / 1000} s after] the coordinator clock (${nowMs} ms): a stale or replayed request, or a wrong local clock.`,
    );
  }
  if (h.nonce <= lastNonce) throw new ReplayedError(`Nonce ${h.nonce} is not above the last one accepted from ${h.hotkey} (${lastNonce}): the request was replayed.`);
}

/** `BadSignatureError` unless `body` hashes to the declared sha256 the signature covered. */
export function assertBodyHash(h: SignedHeaders, body: Uint8Array, what: string): void {
  const actual = sha256Hex(body);
  if (actual !== h.bodySha256) throw new BadSignatureError(`The body of ${what} has sha256 ${actual}, not the ${h.bodySha256} its signature covers: it was altered in transit or forged.`);
}
