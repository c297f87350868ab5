/**
 * A peer's bucket commitment (gauntlet-spec §5.5, chain.md §3.5 and §9): Templar's 128-character
 * layout `account id ‖ read key id ‖ read secret` in `commitments.setCommitment`, from which every
 * other peer learns where this hotkey's objects are and how to read them (`bucketDirectory`). Like
 * Templar's miner (`ChainManager.try_commit`), it is written only when the chain holds something
 * else, so starting again costs no transaction. Only read credentials go here: commitments are public.
 */
import { bytesEqual } from '../core/wire/bytes.ts';
import { BadRequestError } from './errors.ts';
import { bucketNameProblem, encodeBucketCommitment, type BucketReadCredentials } from './subtensor-encoding.ts';
import type { Chain, TxResult } from './types.ts';

export type BucketCommitmentResult =
  /** The chain already holds these bytes for the hotkey (since `block`). */
  | { readonly kind: 'unchanged'; readonly block: number }
  | { readonly kind: 'published'; readonly tx: TxResult };

/**
 * The read credentials a bucket commitment carries. Templar names a bucket after its R2 account id,
 * so the bucket name is the commitment's 32-character account id. The name must also be one every
 * reader accepts (S3 bucket-name rules, `decodeBucketCommitment`), or no peer could read the bucket.
 */
export function bucketReadCredentials(bucket: string, readKeyId: string, readSecret: string): BucketReadCredentials {
  if (bucket.length !== 32) throw new BadRequestError(`A bucket commitment names the bucket by its 32-character account id (Templar's R2 layout); "${bucket}" has ${bucket.length} characters.`);
  const problem = bucketNameProblem(bucket);
  if (problem !== undefined) throw new BadRequestError(`Peers could not read bucket "${bucket}" from a commitment: its ${problem}.`);
  return { accountId: bucket, readKeyId, readSecret };
}

/**
 * Commits `credentials` for `hotkey` on `netuid`, with `moreFields` after them, unless the chain
 * already holds exactly these fields. `moreFields` undefined keeps the fields the commitment holds
 * after the bucket (a validator restarted without `--publish-run` must not drop the run hash it
 * committed: every joining peer reads it there).
 */
export async function publishBucketCommitment(chain: Chain, hotkey: string, netuid: number, credentials: BucketReadCredentials, moreFields?: readonly Uint8Array[]): Promise<BucketCommitmentResult> {
  const wanted = encodeBucketCommitment(credentials);
  const current = (await chain.commitments(netuid)).get(hotkey);
  const more = moreFields ?? current?.moreFields ?? [];
  if (current !== undefined && bytesEqual(current.data, wanted) && current.moreFields.length === more.length && current.moreFields.every((field, i) => bytesEqual(field, more[i]!))) {
    return { kind: 'unchanged', block: current.block };
  }
  return { kind: 'published', tx: await chain.setCommitment(hotkey, netuid, wanted, more) };
}
