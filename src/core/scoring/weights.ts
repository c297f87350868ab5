/**
 * Final scores to weights (gauntlet-spec §7.4, `Validator.update_weights`).
 * `ScoringConfig.weighting` picks the paper-era power normalisation or the v2.1.3 rank-based
 * weights with burn; `toChainWeights` turns either into the u16 vector `set_weights` takes.
 */

import type { ScoringConfig } from '../config.ts';
import { portablePow } from './portable-math.ts';
import type { ChainWeights, Uid } from './types.ts';

/** `final = ordinal × max(0, B) × sync` (§7.4). */
export function finalScore(ordinalValue: number, binaryMovingAverage: number, syncScore: number): number {
  return ordinalValue * Math.max(0, binaryMovingAverage) * syncScore;
}

/**
 * Paper-era `min_power_normalization`: `w_i = final_i^p / Σ final^p` over `final > 0`;
 * all zero when the sum is below 1e-8. No burn.
 */
export function powerWeights(finals: ReadonlyMap<Uid, number>, power: number): Map<Uid, number> {
  const powered = new Map<Uid, number>();
  let sum = 0;
  for (const [uid, score] of finals) {
    if (score <= 0) continue;
    const value = portablePow(score, power);
    powered.set(uid, value);
    sum += value;
  }
  const out = new Map<Uid, number>();
  if (sum < 1e-8) return out;
  for (const [uid, value] of powered) out.set(uid, value / sum);
  return out;
}

/** `numpy.linspace(start, stop, n)`. */
function linspace(start: number, stop: number, n: number): number[] {
  if (n === 1) return [start];
  return Array.from({ length: n }, (_, i) => start + ((stop - start) * i) / (n - 1));
}

/**
 * v2.1.3 rank-based weights: uids with `final > 0` sorted descending (ties by ascending uid);
 * the top `gatherPeers` share `gatherShare` linearly from 2 to 1, the next `reservePeers` share
 * the rest geometrically (ratio 0.5), capped so no reserve outweighs the lowest gather peer; the
 * miners' total is `1 − burnRate` and `burnUid` receives `burnRate`. With no positive score
 * everything is burned. The burn uid itself is never ranked.
 */
export function rankWeights(
  finals: ReadonlyMap<Uid, number>,
  config: Pick<ScoringConfig, 'gatherPeers' | 'reservePeers' | 'gatherShare' | 'burnRate' | 'burnUid'>,
): Map<Uid, number> {
  const ranked = [...finals.entries()]
    .filter(([uid, score]) => score > 0 && uid !== config.burnUid)
    .sort((a, b) => (b[1] !== a[1] ? b[1] - a[1] : a[0] - b[0]))
    .map(([uid]) => uid);
  const out = new Map<Uid, number>();
  const gather = ranked.slice(0, config.gatherPeers);
  const reserve = ranked.slice(config.gatherPeers, config.gatherPeers + config.reservePeers);
  if (gather.length === 0 || config.burnRate >= 1) {
    out.set(config.burnUid, 1);
    return out;
  }
  const gatherRaw = linspace(2, 1, gather.length);
  const gatherSum = gatherRaw.reduce((a, b) => a + b, 0);
  const gatherWeights = gatherRaw.map((v) => (config.gatherShare * v) / gatherSum);
  const reserveRaw = reserve.map((_, k) => portablePow(0.5, k));
  const reserveSum = reserveRaw.reduce((a, b) => a + b, 0);
  let reserveWeights = reserveRaw.map((v) => ((1 - config.gatherShare) * v) / reserveSum);
  const minGather = Math.min(...gatherWeights);
  const maxReserve = reserveWeights.length === 0 ? 0 : Math.max(...reserveWeights);
  if (maxReserve > minGather) reserveWeights = reserveWeights.map((v) => (v * 0.5 * minGather) / maxReserve);
  const total = [...gatherWeights, ...reserveWeights].reduce((a, b) => a + b, 0);
  const minerShare = 1 - config.burnRate;
  gather.forEach((uid, i) => out.set(uid, (gatherWeights[i]! / total) * minerShare));
  reserve.forEach((uid, i) => out.set(uid, (reserveWeights[i]! / total) * minerShare));
  if (config.burnRate > 0) out.set(config.burnUid, config.burnRate);
  return out;
}

/** Weights by `config.weighting` from the final scores of the weight-eligible uids. */
export function computeWeights(finals: ReadonlyMap<Uid, number>, config: ScoringConfig): Map<Uid, number> {
  return config.weighting === 'power' ? powerWeights(finals, config.powerNormalisation) : rankWeights(finals, config);
}

/**
 * u16 weights for the chain (`set_weights`): `round(w / max(w) · 65535)`, ascending uid, zeros
 * dropped (a weight that rounds to 0 is dropped too).
 */
export function toChainWeights(weights: ReadonlyMap<Uid, number>): ChainWeights {
  const max = Math.max(0, ...weights.values());
  const uids: Uid[] = [];
  const values: number[] = [];
  if (max <= 0) return { uids, values };
  for (const uid of [...weights.keys()].sort((a, b) => a - b)) {
    const value = Math.round((weights.get(uid)! / max) * 65535);
    if (value === 0) continue;
    uids.push(uid);
    values.push(value);
  }
  return { uids, values };
}
