/**
 * Sync score (gauntlet-spec §7.1, `Validator.evaluate_miner_sync`,
 * `tplr.neurons.compare_model_with_debug_dict`): how many outer steps a peer's published
 * parameters lag behind the validator's, measured in units of the typical per-step change.
 */

import type { ScoringConfig } from '../config.ts';
import { portablePow } from './portable-math.ts';
import type { ProfileRules } from './profiles.ts';

/** Outcome of comparing one peer's debug slices with the validator's. */
export type SyncCheck =
  | { readonly ok: true; readonly stepsBehind: number; readonly compared: number }
  /** No reference step size yet (first outer steps): nothing can be compared, the peer is not judged. */
  | { readonly ok: true; readonly stepsBehind: null; readonly compared: 0 }
  | { readonly ok: false; readonly detail: string };

/**
 * v2.1.3's EMA of |Δθ| per published element: `avg ← (1 − α)·avg + α·|θ(t) − θ(t−1)|`, initialised
 * with the first observed change (v2.1.3 computes it inline in `Validator.run` after the outer step, `self.param_avg_change`). Returns the new map;
 * tensors whose slice length changed restart from their first change.
 */
export function updateParamAvgChange(
  avgChange: Readonly<Record<string, readonly number[]>>,
  previousSlices: Readonly<Record<string, readonly number[]>>,
  currentSlices: Readonly<Record<string, readonly number[]>>,
  alpha: number,
): Record<string, number[]> {
  const next: Record<string, number[]> = {};
  for (const [name, avg] of Object.entries(avgChange)) next[name] = [...avg];
  for (const [name, current] of Object.entries(currentSlices)) {
    const previous = previousSlices[name];
    if (previous === undefined || previous.length !== current.length) continue;
    const change = current.map((value, i) => Math.abs(value - previous[i]!));
    const old = next[name];
    next[name] =
      old === undefined || old.length !== change.length
        ? change
        : old.map((value, i) => (1 - alpha) * value + alpha * change[i]!);
  }
  return next;
}

/** The lower median, as `torch.median` takes it (of an even count, the smaller middle value, not their mean). */
function lowerMedianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1]!;
}

/**
 * The interquartile mean: the mean of the middle half of the sorted values (of n values, those of
 * rank ⌊n/4⌋ to n − 1 − ⌊n/4⌋), the `templar-2026` profile's summary of the per-element steps behind.
 */
export function interquartileMean(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length / 4);
  const middle = sorted.slice(cut, sorted.length - cut);
  return middle.reduce((a, b) => a + b, 0) / middle.length;
}

/**
 * `stepsBehind = median over compared elements of |θ_peer − θ_validator| / max(avgChange, 1e-9)`
 * (v2.1.3 `tplr.neurons.compare_model_with_debug_dict`, median since Aug 2025: `torch.median`,
 * the lower median; the interquartile mean under the `templar-2026` profile). Only tensors that already have an `avgChange` are compared; a
 * missing tensor, a length mismatch or a non-finite published value fails the check (the peer's
 * data is malformed), it never throws: one bad peer must not stop the window.
 */
export function compareWithDebugSlices(
  peerSlices: Readonly<Record<string, readonly number[]>> | null | undefined,
  validatorSlices: Readonly<Record<string, readonly number[]>>,
  avgChange: Readonly<Record<string, readonly number[]>>,
  statistic: ProfileRules['syncStatistic'] = 'lower-median',
): SyncCheck {
  if (peerSlices === null || peerSlices === undefined) return { ok: false, detail: 'debug slices missing' };
  const ratios: number[] = [];
  for (const [name, mine] of Object.entries(validatorSlices)) {
    const avg = avgChange[name];
    if (avg === undefined || avg.length !== mine.length) continue;
    const theirs = peerSlices[name];
    if (theirs === undefined) return { ok: false, detail: `tensor ${name} missing from debug slices` };
    if (theirs.length !== mine.length) {
      return { ok: false, detail: `tensor ${name}: ${theirs.length} values published, ${mine.length} expected` };
    }
    for (let i = 0; i < mine.length; i++) {
      const value = theirs[i]!;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return { ok: false, detail: `tensor ${name}: non-finite published value` };
      }
      ratios.push(Math.abs(value - mine[i]!) / Math.max(avg[i]!, 1e-9));
    }
  }
  if (ratios.length === 0) return { ok: true, stepsBehind: null, compared: 0 };
  return { ok: true, stepsBehind: statistic === 'lower-median' ? lowerMedianOf(ratios) : interquartileMean(ratios), compared: ratios.length };
}

/** `sync = max(0, 1 − min(stepsBehind, W)/W)^exponent` (§7.1; W = 5, exponent 2.5 in v2.1.3; W = 3 in the 2026 profile). */
export function syncScoreFromSteps(stepsBehind: number, config: ScoringConfig): number {
  const w = config.syncWindowSteps;
  return portablePow(Math.max(0, 1 - Math.min(stepsBehind, w) / w), config.syncExponent);
}
