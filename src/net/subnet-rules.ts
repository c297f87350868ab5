/**
 * The subnet rules both simulated chains apply, the in-memory network (`memory-network.ts`: the
 * Demo, the simulations, the unit tests) and the devnet (`src/devnet/chain.ts`: `npm start`), so a
 * peer sees the same permits, incentive and weight rows on either. Pure: no state, no I/O.
 *
 * - Weights are stored as subtensor stores them: u16, max-upscaled, zeros dropped
 *   (`normalizeMaxWeight`, as the SDK's `convert_weights_and_uids_for_emit` sends them).
 * - Validator permits go to the top `maxAllowedValidators` uids by stake that hold at least
 *   `minValidatorStake` (subtensor's `max_allowed_validators` and stake threshold; subtensor
 *   recomputes permits each epoch, the simulated chains at every read).
 * - Incentive is a simplification of Yuma consensus, stated as such: each setter's row normalised to
 *   sum 1, weighted by the setter's stake (every setter counts the same while none holds stake),
 *   summed per uid and normalised to sum 1. No clipping to the consensus weight, no bonds.
 * - One weight row per hotkey per `weightsRateLimit` blocks (subtensor's `WeightsSetRateLimit`).
 */
import { roundHalfEven } from '../core/compress/quantize.ts';
import { BadRequestError, RateLimitedError } from './errors.ts';

export const U16_MAX = 65_535;

/**
 * Float weights → u16 by max-upscaling, zeros dropped: `round(w_i / max(w) · 65535)`; mirrors the
 * SDK's `bittensor.utils.weight_utils.convert_weights_and_uids_for_emit` (chain.md §3.4). The chain
 * max-upscales again before storing, so only ratios matter. Rounding is Python's `round`, half to
 * even, as the SDK rounds.
 */
export function normalizeMaxWeight(uids: readonly number[], weights: readonly number[]): { uids: number[]; weights: number[] } {
  if (uids.length !== weights.length) throw new BadRequestError(`Weights need one value per uid: got ${uids.length} uids and ${weights.length} weights.`);
  for (const [i, uid] of uids.entries()) {
    if (!Number.isInteger(uid) || uid < 0 || uid > U16_MAX) throw new BadRequestError(`uid ${uid} at position ${i} is not a u16.`);
  }
  for (const [i, w] of weights.entries()) {
    if (!Number.isFinite(w) || w < 0) throw new BadRequestError(`Weight ${w} at position ${i} is negative or not finite; weights must be ≥ 0.`);
  }
  const max = weights.reduce((m, w) => Math.max(m, w), 0);
  const out = { uids: [] as number[], weights: [] as number[] };
  if (max === 0) return out;
  for (const [i, w] of weights.entries()) {
    const scaled = roundHalfEven((w / max) * U16_MAX);
    if (scaled !== 0) {
      out.uids.push(uids[i] ?? 0);
      out.weights.push(scaled);
    }
  }
  return out;
}

/** What the rules need to know of a registered uid. */
export interface StakedUid {
  readonly uid: number;
  readonly stake: number;
}

export interface PermitRule {
  /** At most this many uids hold a permit (`Infinity`: no limit). */
  readonly maxAllowedValidators: number;
  /** A permit needs at least this much stake. */
  readonly minValidatorStake: number;
}

/** The uids holding a validator permit: the top `maxAllowedValidators` by stake (ties: lower uid) with at least `minValidatorStake`. */
export function validatorPermits(neurons: readonly StakedUid[], rule: PermitRule): Set<number> {
  const byStake = [...neurons].sort((a, b) => b.stake - a.stake || a.uid - b.uid);
  return new Set(byStake.slice(0, Math.min(byStake.length, rule.maxAllowedValidators)).filter((n) => n.stake >= rule.minValidatorStake).map((n) => n.uid));
}

/** One validator's stored weights: u16 values per uid. */
export interface StoredWeightRow {
  readonly setterUid: number;
  readonly uids: readonly number[];
  readonly values: readonly number[];
}

/** Incentive per uid (sums to 1 when any weight is set; uids nobody weighted are absent). */
export function incentiveShares(neurons: readonly StakedUid[], rows: readonly StoredWeightRow[]): Map<number, number> {
  const stakeOf = new Map(neurons.map((n) => [n.uid, n.stake]));
  const setterStake = rows.reduce((sum, row) => sum + (stakeOf.get(row.setterUid) ?? 0), 0);
  const received = new Map<number, number>();
  for (const row of rows) {
    const rowSum = row.values.reduce((a, b) => a + b, 0);
    if (rowSum <= 0) continue;
    const influence = setterStake > 0 ? (stakeOf.get(row.setterUid) ?? 0) : 1;
    row.uids.forEach((uid, i) => received.set(uid, (received.get(uid) ?? 0) + (influence * (row.values[i] ?? 0)) / rowSum));
  }
  const total = [...received.values()].reduce((a, b) => a + b, 0);
  return new Map([...received].map(([uid, r]) => [uid, total > 0 ? r / total : 0]));
}

/** Refuses a weight row from `uid` inside `weightsRateLimit` blocks of its last one. */
export function checkWeightsRateLimit(uid: number, lastSetBlock: number | undefined, block: number, weightsRateLimit: number): void {
  if (lastSetBlock !== undefined && block - lastSetBlock < weightsRateLimit) {
    throw new RateLimitedError(`uid ${uid} set weights at block ${lastSetBlock}; the limit is one per ${weightsRateLimit} blocks (WeightsSetRateLimit).`);
  }
}
