/**
 * Signature verification for submissions and devnet requests (chain.md §5). Extensions sign the
 * message wrapped as `<Bytes>‖message‖</Bytes>`; `signatureVerify` from @polkadot/util-crypto
 * tries the bare message and then the wrapped form, so both a keyring signature and an extension
 * signature over the same message verify. The message itself must be domain-separated and bind
 * run, netuid, window, uid and content hash (the wire format's `signingMessage`), so a valid
 * signature cannot be replayed into another window.
 */
import { decodeAddress, signatureVerify } from '@polkadot/util-crypto';
import { BadSignatureError } from './errors.ts';
import type { HexString } from './types.ts';

/** True when `signature` is `address`'s sr25519/ed25519/ecdsa signature of `message` (bare or `<Bytes>`-wrapped). */
export function isValidSignature(message: Uint8Array, signature: HexString | Uint8Array, address: string): boolean {
  try {
    decodeAddress(address);
  } catch {
    return false;
  }
  try {
    return signatureVerify(message, signature, address).isValid;
  } catch {
    // Malformed signature bytes (wrong length, not hex): not a valid signature.
    return false;
  }
}

/** Throws `BadSignatureError` unless the signature is valid; `what` names the signed thing in the message. */
export function assertValidSignature(message: Uint8Array, signature: HexString | Uint8Array, address: string, what: string): void {
  if (!isValidSignature(message, signature, address)) {
    throw new BadSignatureError(`The signature on ${what} does not verify for hotkey ${address}: it was made by another key, over other data (tampered, or for another window), or is malformed. The ${what} is rejected.`);
  }
}
