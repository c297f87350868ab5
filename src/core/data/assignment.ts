/**
 * Deterministic data assignment (gauntlet-spec §4.1, Templar v2.1.3 `src/tplr/sharded_sampler.py`):
 * every peer and every validator derives, from `(uid, window)` alone, which sequences the peer trains
 * on, so the validator can score the peer on its *own* data and on *random* data.
 *
 * Sequences. The token stream is the concatenation of all shards in manifest order. Sequence `id`
 * is the `seqLen + 1` tokens starting at `id · seqLen`: inputs are its first `seqLen` tokens and
 * targets the last `seqLen` (next-token prediction). Consecutive sequences overlap by one token, so
 * every token but the first is a target of exactly one sequence. A sequence may straddle two shards.
 * The tail of the stream too short for a whole sequence (fewer than `seqLen + 1` tokens left) is not
 * used: `sequenceCount = floor((totalTokens − 1) / seqLen)`.
 *
 * Deviation from Templar: the pool is drawn with our `Xoshiro128` (identical in Node and browsers)
 * instead of `numpy.random.default_rng(seed).choice(N, size, replace=False)` (PCG64), which a
 * browser cannot reproduce cheaply. The seed formula is Templar's.
 */

import type { RunConfig } from '../config.ts';
import { Xoshiro128 } from '../prng.ts';
import { GauntletError } from '../errors.ts';

/** An assignment argument out of range: the message names it and what was expected. */
export class AssignmentError extends GauntletError {
  readonly code: string = 'assignment';
  override readonly name = 'AssignmentError';
  constructor(message: string) {
    super(message);
  }
}

function requireCount(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new AssignmentError(`${name} (${value}) must be an integer in [${min}, ${max}]`);
  }
}

/** Whole sequences of `seqLen + 1` tokens (stride `seqLen`) in a stream of `totalTokens` tokens. */
export function sequenceCount(totalTokens: number, seqLen: number): number {
  requireCount('totalTokens', totalTokens, 0);
  requireCount('seqLen', seqLen, 1);
  return totalTokens < 1 ? 0 : Math.floor((totalTokens - 1) / seqLen);
}

/** A contiguous run of one sequence's tokens inside one shard. */
export interface ShardSpan {
  readonly shard: number;
  /** Token offset inside the shard. */
  readonly offset: number;
  readonly length: number;
}

/**
 * Where sequence `id` lives: one span, or two when it straddles a shard boundary (shards hold
 * `shardTokens` tokens each, the last one possibly fewer). Lets a browser fetch only the shards a
 * pool needs.
 */
export function sequenceSpans(id: number, seqLen: number, shardTokens: number, totalTokens: number): ShardSpan[] {
  requireCount('shardTokens', shardTokens, 1);
  const count = sequenceCount(totalTokens, seqLen);
  requireCount('sequence id', id, 0, count - 1);
  const spans: ShardSpan[] = [];
  let start = id * seqLen;
  let remaining = seqLen + 1;
  while (remaining > 0) {
    const shard = Math.floor(start / shardTokens);
    const offset = start - shard * shardTokens;
    const length = Math.min(remaining, shardTokens - offset);
    spans.push({ shard, offset, length });
    start += length;
    remaining -= length;
  }
  return spans;
}

/**
 * Seed of a peer's assignment: `(uid · 1_000_003 XOR window) mod 2^32`, as
 * `sharded_sampler.py::_window_seed` (`(uid * 1_000_003 ^ window) & 0xFFFFFFFF`). Python multiplies
 * exactly and masks afterwards; the low 32 bits of a product and of a XOR depend only on the low 32
 * bits of their operands, so `Math.imul` (the product mod 2^32) followed by `^` and `>>> 0` gives the
 * same value for every non-negative integer uid and window up to 2^53.
 */
export function windowSeed(uid: number, window: number): number {
  requireCount('uid', uid, 0);
  requireCount('window', window, 0);
  return (Math.imul(uid, 1_000_003) ^ window) >>> 0;
}

/**
 * `poolSize` distinct sequence ids in `[0, totalSequences)`, in a uniformly random order that depends
 * only on `seed`. Algorithm: the first `poolSize` steps of a Fisher–Yates shuffle of the identity
 * array `[0, totalSequences)`, kept sparse (a Map holds only the displaced entries): step `i` draws
 * `j = i + Xoshiro128(seed).nextInt(totalSequences − i)`, swaps entries `i` and `j` and emits entry
 * `i`. Time and memory are O(poolSize), every ordered sample is equally likely, and the draws are
 * 32-bit integer arithmetic only, so Node and browsers agree bit for bit.
 */
export function assignPool(seed: number, totalSequences: number, poolSize: number): number[] {
  requireCount('seed', seed, 0, 0xffffffff);
  requireCount('totalSequences', totalSequences, 1, 0x100000000);
  requireCount('poolSize', poolSize, 0, totalSequences);
  const rng = new Xoshiro128(seed);
  const displaced = new Map<number, number>();
  const at = (k: number): number => displaced.get(k) ?? k;
  const pool: number[] = new Array<number>(poolSize);
  for (let i = 0; i < poolSize; i++) {
    const j = i + rng.nextInt(totalSequences - i);
    const picked = at(j);
    displaced.set(j, at(i));
    pool[i] = picked;
  }
  return pool;
}

/**
 * A miner's training pool for a window: `data.poolSequences` ids drawn with `windowSeed(uid, window)`
 * (`sharded_sampler.py::MinerSampler`; Templar's pool is `inner_steps × target_batch_size`, of which
 * the first `inner_steps × batch_size` are trained; ours is `data.poolSequences`, consumed in order by
 * `batchesForPool`).
 */
export function minerPool(uid: number, window: number, cfg: Pick<RunConfig, 'data'>, totalSequences: number): number[] {
  return assignPool(windowSeed(uid, window), totalSequences, Math.min(cfg.data.poolSequences, totalSequences));
}

/**
 * The ids each inner step trains on: step `s` takes `pool[s·batchSize … (s+1)·batchSize)`, as
 * Templar consumes the pool in order, `batch_size` sequences per inner step (gauntlet-spec §4.1).
 */
export function batchesForPool(pool: readonly number[], innerSteps: number, batchSize: number): number[][] {
  requireCount('innerSteps', innerSteps, 1);
  requireCount('batchSize', batchSize, 1);
  const needed = innerSteps * batchSize;
  if (pool.length < needed) {
    throw new AssignmentError(`the pool holds ${pool.length} sequences but ${innerSteps} inner steps × ${batchSize} need ${needed}; raise data.poolSequences`);
  }
  return Array.from({ length: innerSteps }, (_, s) => pool.slice(s * batchSize, (s + 1) * batchSize));
}

/**
 * `count` distinct items of `pool` chosen by `seed` (the first `count` picks of a seeded partial
 * shuffle, as `assignPool`). Mirrors `sharded_sampler.py::EvalSampler`, which draws the validator's
 * 8 own-data sequences from the rebuilt pool; Templar seeds it with the wall clock, so pass a seed the
 * validator does not announce before the upload deadline.
 */
export function evalSample(pool: readonly number[], count: number, seed: number): number[] {
  requireCount('count', count, 0, pool.length);
  if (count === 0) return [];
  return assignPool(seed, pool.length, count).map((k) => pool[k] as number);
}

/**
 * Seed of the validator's own-data sample for `(uid, window)`: `(uid · 0x9E3779B1 XOR window XOR nonce)
 * mod 2^32`, as `sharded_sampler.py::EvalSampler` with `nonce = time_ns` (same 32-bit arithmetic
 * argument as `windowSeed`). The validator supplies a nonce peers cannot predict (its clock or a
 * random draw), so a miner cannot train only the sequences that will be checked.
 */
export function evalSampleSeed(uid: number, window: number, nonce: number): number {
  requireCount('uid', uid, 0);
  requireCount('window', window, 0);
  requireCount('nonce', nonce, 0);
  return (Math.imul(uid, 0x9e3779b1) ^ window ^ nonce) >>> 0;
}

/** Templar draws the random control uid with `random.randint(1000, 10_000_000)` (both ends included). */
export const RANDOM_EVAL_UID_MIN = 1000;
export const RANDOM_EVAL_UID_MAX = 10_000_000;

/** A uid in `[1000, 10_000_000]` derived from `seed`; far above any real uid (≤ 65535). */
export function randomEvalUid(seed: number): number {
  requireCount('seed', seed, 0, 0xffffffff);
  return RANDOM_EVAL_UID_MIN + new Xoshiro128(seed).nextInt(RANDOM_EVAL_UID_MAX - RANDOM_EVAL_UID_MIN + 1);
}

/** The validator's random control set for a window. */
export interface RandomEvalPool {
  /** The synthetic uid whose pool the control set is drawn from. */
  readonly uid: number;
  /** `scoring.evalSequences` sequence ids. */
  readonly ids: number[];
}

/**
 * Random data for stage-2 scoring (gauntlet-spec §4.1, §7.2): the pool of a synthetic uid
 * (`randomEvalUid(seed)`) for `window`, then `scoring.evalSequences` of it via `evalSample`, as
 * Templar runs the same sampler with `uid := randint(1000, 10_000_000)` each window. The validator
 * chooses `seed` fresh per window.
 */
export function randomEvalPool(
  seed: number,
  window: number,
  cfg: Pick<RunConfig, 'data' | 'scoring'>,
  totalSequences: number,
): RandomEvalPool {
  const uid = randomEvalUid(seed);
  const pool = minerPool(uid, window, cfg, totalSequences);
  return { uid, ids: evalSample(pool, Math.min(cfg.scoring.evalSequences, pool.length), seed) };
}

/** One training example: inputs and next-token targets, `seqLen` each. */
export interface SequenceExample {
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
}

/**
 * The tokens of sequence `id` in the concatenated stream `tokens`: inputs `tokens[s … s+T)` and
 * targets `tokens[s+1 … s+T+1)` with `s = id · T`, `T = seqLen`. Templar builds labels the same way
 * (`labels[:, :-1] = ids[:, 1:]`), but from `T` tokens with a padded last label; here each sequence
 * carries `T + 1` tokens so all `T` positions have a real target.
 */
export function sequenceTokens(tokens: Uint8Array, id: number, seqLen: number): SequenceExample {
  requireCount('sequence id', id, 0, sequenceCount(tokens.length, seqLen) - 1);
  const start = id * seqLen;
  return {
    inputs: Int32Array.from(tokens.subarray(start, start + seqLen)),
    targets: Int32Array.from(tokens.subarray(start + 1, start + seqLen + 1)),
  };
}

/** A batch as two row-major `[ids.length, seqLen]` arrays, the layout the model's graph takes. */
export function batchTokens(tokens: Uint8Array, ids: readonly number[], seqLen: number): SequenceExample {
  const inputs = new Int32Array(ids.length * seqLen);
  const targets = new Int32Array(ids.length * seqLen);
  ids.forEach((id, row) => {
    const example = sequenceTokens(tokens, id, seqLen);
    inputs.set(example.inputs, row * seqLen);
    targets.set(example.targets, row * seqLen);
  });
  return { inputs, targets };
}
