/**
 * Content digests used by the data pipeline: sha256 for shard integrity (as WebLLM's `integrity.ts`
 * checks artifacts, style.md lesson 10) and Templar's blake2b-128 training-pool receipt.
 */

import { blake2b } from '@noble/hashes/blake2';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { GauntletError } from '../errors.ts';

/** sha256 of `bytes`, lower-case hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** A sequence id that cannot be written as an unsigned 64-bit integer exactly. */
export class SampleIdError extends GauntletError {
  readonly code: string = 'sample-id';
  override readonly name = 'SampleIdError';
  constructor(readonly id: number) {
    super(`Sample id ${id} is not a non-negative safe integer; pool ids come from assignPool and must be whole numbers.`);
  }
}

/**
 * The training-pool receipt: blake2b with a 16-byte digest over the pool's ids sorted ascending, each
 * written as a little-endian uint64; hex. Mirrors `neurons/validator.py::Validator._training_pool_digest`
 * and the miner's `sample_digest` metadata (gauntlet-spec §4.1). Order-independent by construction.
 */
export function sampleDigest(ids: ArrayLike<number>): string {
  const sorted = Array.from(ids).sort((a, b) => a - b);
  const bytes = new Uint8Array(sorted.length * 8);
  const view = new DataView(bytes.buffer);
  sorted.forEach((id, i) => {
    if (!Number.isSafeInteger(id) || id < 0) throw new SampleIdError(id);
    view.setUint32(i * 8, id % 0x100000000, true);
    view.setUint32(i * 8 + 4, Math.floor(id / 0x100000000), true);
  });
  return bytesToHex(blake2b(bytes, { dkLen: 16 }));
}
