/**
 * CR-v2 weight commits (chain.md §3.4): what a validator must remember between `commitWeights` and
 * `revealWeights`, and when the chain accepts the reveal. Pure and free of any connection, so the
 * subtensor client, the in-memory network and the validator's persisted state share one rule.
 *
 * Subtensor (spec 293, `pallets/subtensor/src/subnets/weights.rs`): the epoch of block b is
 * `(b + netuid + 1) div (tempo + 1)` (`get_epoch_index`); a commit made in epoch e is revealed only
 * in epoch `e + RevealPeriodEpochs` (`is_reveal_block_range`), i.e. in blocks
 * `[(e + p)·(tempo + 1) − (netuid + 1), that + tempo]` (`get_reveal_blocks`); after that it has
 * expired (`is_commit_expired`). A reveal also drops every older commit of the same hotkey (step 10
 * of `do_reveal_weights`), so reveals go out oldest first.
 */
import { BadRequestError } from './errors.ts';
import { U16_MAX } from './subnet-rules.ts';

/** A committed weight vector waiting for its reveal. Plain data: it is persisted with the validator state. */
export interface WeightCommit {
  readonly hotkey: string;
  readonly netuid: number;
  readonly uids: readonly number[];
  /** u16 values as committed (already max-upscaled). */
  readonly values: readonly number[];
  readonly salt: readonly number[];
  readonly versionKey: bigint;
  readonly commitBlock: number;
  /** The first and last block in which the chain accepts the reveal (inclusive). */
  readonly firstRevealBlock: number;
  readonly lastRevealBlock: number;
}

/** Where a commit's reveal stands for a transaction that lands in `block`. */
export type RevealTiming = 'early' | 'due' | 'expired';

/** The epoch index of `block` (subtensor `get_epoch_index`); tempo 0 runs no epochs. */
export function epochIndex(netuid: number, tempo: number, block: number): number {
  return Math.floor((block + netuid + 1) / (tempo + 1));
}

/** `[first, last]` reveal block of a commit made in `commitBlock` (subtensor `get_reveal_blocks`). */
export function crV2RevealBlocks(netuid: number, tempo: number, revealPeriodEpochs: number, commitBlock: number): { firstRevealBlock: number; lastRevealBlock: number } {
  const revealEpoch = epochIndex(netuid, tempo, commitBlock) + revealPeriodEpochs;
  const firstRevealBlock = Math.max(0, revealEpoch * (tempo + 1) - (netuid + 1));
  return { firstRevealBlock, lastRevealBlock: firstRevealBlock + tempo };
}

/** Whether a reveal included in `block` would be too early, accepted, or refused as expired. */
export function revealTiming(commit: Pick<WeightCommit, 'firstRevealBlock' | 'lastRevealBlock'>, block: number): RevealTiming {
  if (block < commit.firstRevealBlock) return 'early';
  return block <= commit.lastRevealBlock ? 'due' : 'expired';
}

/** A weight commit as JSON (`versionKey` as a decimal string). */
export interface SerializedWeightCommit {
  readonly hotkey: string;
  readonly netuid: number;
  readonly uids: readonly number[];
  readonly values: readonly number[];
  readonly salt: readonly number[];
  readonly versionKey: string;
  readonly commitBlock: number;
  readonly firstRevealBlock: number;
  readonly lastRevealBlock: number;
}

export function serializeWeightCommit(commit: WeightCommit): SerializedWeightCommit {
  return { ...commit, uids: [...commit.uids], values: [...commit.values], salt: [...commit.salt], versionKey: commit.versionKey.toString() };
}

/** The most commits a validator keeps pending (subtensor refuses more than 10 unrevealed per hotkey). */
export const MAX_PENDING_REVEALS = 16;
const MAX_WEIGHT_ENTRIES = 65_536;
const U64_MAX = (1n << 64n) - 1n;

/** Parses one persisted weight commit; a malformed one is a `BadRequestError` naming the field. */
export function parseWeightCommit(value: unknown, field = 'weightCommit'): WeightCommit {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequestError(`${field} must be an object.`);
  const r = value as Record<string, unknown>;
  const integer = (name: string, max = Number.MAX_SAFE_INTEGER): number => {
    const v = r[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw new BadRequestError(`${field}.${name} must be an integer in [0, ${max}].`);
    return v;
  };
  const u16s = (name: string): number[] => {
    const v = r[name];
    if (!Array.isArray(v) || v.length > MAX_WEIGHT_ENTRIES || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= U16_MAX)) {
      throw new BadRequestError(`${field}.${name} must be a list of at most ${MAX_WEIGHT_ENTRIES} u16 values.`);
    }
    return v as number[];
  };
  if (typeof r.hotkey !== 'string' || r.hotkey.length === 0 || r.hotkey.length > 64) throw new BadRequestError(`${field}.hotkey must be an SS58 address.`);
  if (typeof r.versionKey !== 'string' || !/^\d{1,20}$/.test(r.versionKey) || BigInt(r.versionKey) > U64_MAX) throw new BadRequestError(`${field}.versionKey must be a u64 in decimal.`);
  const uids = u16s('uids');
  const values = u16s('values');
  if (uids.length !== values.length) throw new BadRequestError(`${field}: ${uids.length} uids but ${values.length} values.`);
  const firstRevealBlock = integer('firstRevealBlock');
  const lastRevealBlock = integer('lastRevealBlock');
  if (lastRevealBlock < firstRevealBlock) throw new BadRequestError(`${field}.lastRevealBlock (${lastRevealBlock}) is before firstRevealBlock (${firstRevealBlock}).`);
  return {
    hotkey: r.hotkey, netuid: integer('netuid', U16_MAX), uids, values, salt: u16s('salt'),
    versionKey: BigInt(r.versionKey), commitBlock: integer('commitBlock'), firstRevealBlock, lastRevealBlock,
  };
}
