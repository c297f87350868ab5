import { blake2b } from '@noble/hashes/blake2';
import { sha256 } from '@noble/hashes/sha2';
import type { TensorSpec } from '../compress/chunking.ts';
import { ByteWriter } from './bytes.ts';

/**
 * Hashes that bind a submission to its model, its content and its context (gauntlet-spec §5.4–5.5;
 * style.md lesson 10). Templar does not sign payloads (bucket ownership is its authentication); we sign
 * `signingMessage`, so a signature is only valid for one run, netuid, window, uid and content.
 */

/** Domain tag of the signing message: a signature for anything else (another protocol, a later format) never verifies. */
export const SUBMISSION_SIGNING_DOMAIN = 'gauntlet-webgpu/submission/v1';

/**
 * sha256 over the names and shapes of the tensors, in order: `u32 count`, then per tensor
 * `u16 nameLength, name (UTF-8), u8 ndim, u32 dims…` (little-endian). Two peers agree on it exactly
 * when they would decode each other's tensors the same way.
 */
export function layoutHash(layout: readonly TensorSpec[]): Uint8Array {
  const writer = new ByteWriter();
  writer.u32(layout.length);
  for (const spec of layout) {
    writer.string(spec.name);
    writer.u8(spec.shape.length);
    for (const d of spec.shape) writer.u32(d);
  }
  return sha256(writer.finish());
}

/**
 * sha256 of θ's float32 values, little-endian, in layout order: equal exactly when two peers hold
 * bit-identical parameters (the protocol's deterministic outer step makes that the honest case).
 */
export function parameterHash(theta: Float32Array): Uint8Array {
  const bytes = new Uint8Array(theta.buffer, theta.byteOffset, theta.byteLength);
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] === 1) return sha256(bytes);
  // A big-endian host: hash the little-endian bytes every other peer hashes.
  const view = new DataView(new ArrayBuffer(theta.byteLength));
  theta.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return sha256(new Uint8Array(view.buffer));
}

/** sha256 of the submission bytes exactly as uploaded. */
export function contentHash(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

export interface SigningContext {
  readonly runId: string;
  /** sha256 of the run config's canonical JSON (the run hash, 32 bytes): the run document this submission is for. */
  readonly runConfigHash: Uint8Array;
  readonly netuid: number;
  readonly window: number;
  readonly uid: number;
  /** `contentHash` of the submission bytes (32 bytes). */
  readonly contentHash: Uint8Array;
}

/**
 * The 32 bytes the wallet signs: blake2b-256 over `u16 len + domain tag, u16 len + runId (UTF-8),
 * runConfigHash(32), u16 netuid, u32 window, u16 uid, contentHash(32)` (little-endian). Every variable
 * field is length-prefixed, so no two contexts serialise to the same bytes: a signature cannot be
 * replayed in another window, run, subnet, slot or protocol, nor under another run config that keeps
 * the run id (issue #17: the run hash is bound into every signed submission).
 */
export function signingMessage(context: SigningContext): Uint8Array {
  const writer = new ByteWriter();
  writer.string(SUBMISSION_SIGNING_DOMAIN);
  writer.string(context.runId);
  writer.fixedBytes(context.runConfigHash, 32, 'runConfigHash');
  writer.u16(context.netuid);
  writer.u32(context.window);
  writer.u16(context.uid);
  writer.fixedBytes(context.contentHash, 32, 'contentHash');
  return blake2b(writer.finish(), { dkLen: 32 });
}

/** Lower-case hex of bytes (for logs, storage keys and tests). */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
