/**
 * Authentication of the devnet's signed requests, done from the headers alone: the signature
 * covers the body's sha256, which the request declares in `HEADER_SHA256`, so a request is proven
 * to come from its hotkey before the server reads its body. The body is then checked against the
 * declared hash as it streams in (objects.ts, `readSmallBody`).
 *
 * Verification is the one cost a forger can impose (every cheaper check passes when it claims a
 * registered hotkey), so it is kept cheap: the `<Bytes>`-wrapped sr25519 signature that every
 * signer of this project makes (keyring and extensions alike; Bittensor hotkeys are sr25519) is
 * checked first with the wasm verifier (≈0.35 ms on a 2-core machine; @polkadot/util-crypto's own
 * sr25519Verify is pure JS, ≈3.5 ms). Anything else (a bare message, ed25519, ecdsa) goes through
 * the general `signatureVerify` (≈5–7 ms in JS), at most `SlowVerifyBudget` times per second; past
 * that the request is answered 429 and retried, so forged signatures cannot eat the CPU.
 */
import type { IncomingMessage } from 'node:http';
import { sr25519Verify as sr25519VerifyWasm } from '@polkadot/wasm-crypto';
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { hexToU8a, u8aWrapBytes } from '@polkadot/util';
import { BadRequestError, BadSignatureError, RateLimitedError, ReplayedError, UnauthorizedError } from '../net/errors.ts';
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
 * A token bucket for the slow verification path: `perSecond` verifications a second, bursts up to
 * the same number.
 */
export class SlowVerifyBudget {
  private tokens: number;
  private lastMs = Date.now();

  constructor(readonly perSecond: number) {
    this.tokens = perSecond;
  }

  take(nowMs: number): boolean {
    this.tokens = Math.min(this.perSecond, this.tokens + ((nowMs - this.lastMs) / 1000) * this.perSecond);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The fast path: a 64-byte sr25519 signature over the `<Bytes>`-wrapped message, by the wasm verifier. */
function isWrappedSr25519(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return sr25519VerifyWasm(signature, u8aWrapBytes(message), publicKey);
  } catch {
    return false;
  }
}

/**
 * Checks the signature over method, path, hotkey, declared body hash and nonce, then the nonce
 * against the clock and against `lastNonce` (the last one accepted from this hotkey). Changes
 * nothing but `budget`: the caller records the nonce once it accepts the request.
 */
export function verifySigned(method: string, path: string, h: SignedHeaders, lastNonce: number, nowMs: number, budget: SlowVerifyBudget): void {
  const message = devnetRequestMessageOfHash({ method, path, hotkey: h.hotkey, nonce: h.nonce, bodySha256: hexToU8a(`0x${h.bodySha256}`) });
  if (!isWrappedSr25519(message, hexToU8a(h.signature), decodeAddress(h.hotkey))) {
    if (!budget.take(nowMs)) {
      throw new RateLimitedError(`The devnet verifies at most ${budget.perSecond} signatures a second that are not <Bytes>-wrapped sr25519 (ed25519, ecdsa, bare messages, or forged ones); retry in a second.`);
    }
    assertValidSignature(message, h.signature, h.hotkey, `${method} ${path}`);
  }
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
