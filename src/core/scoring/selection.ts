/**
 * Which peers stage 2 evaluates this window (gauntlet-spec §7.2, `Validator.bin_evaluation_peers`,
 * `select_next_bin_for_evaluation`, `select_evaluation_uids_from_bin`): peers are binned by OpenSkill
 * ordinal so that a match pits similar-rated peers against each other, then sampled without
 * replacement with weight = windows since their last evaluation, so nobody is starved.
 * Deterministic for a given seed (Xoshiro128), so any validator or auditor can re-derive the choice.
 */

import type { ScoringConfig } from '../config.ts';
import { Xoshiro128 } from '../prng.ts';
import { ordinal } from './openskill.ts';
import { profileRules } from './profiles.ts';
import type { Uid, ValidatorScoringState } from './types.ts';

/**
 * Peers that may be evaluated: active (a submission within the last `recentWindows` windows, §5.6)
 * and not banned for copying. `activeUids` is the caller's activity view (e.g. `activeUids(state, …)`).
 */
export function evaluationCandidates(state: ValidatorScoringState, activeUidList: readonly Uid[]): Uid[] {
  return [...activeUidList]
    .filter((uid) => (state.peers[String(uid)]?.naughtyWindowsLeft ?? 0) === 0)
    .sort((a, b) => a - b);
}

/**
 * Splits candidates into `numEvaluationBins` contiguous bins by ordinal, descending (unrated = 0,
 * ties by ascending uid); the first `n mod bins` bins get one extra peer. With fewer than
 * `bins × uidsPerWindow` candidates there is one bin.
 */
export function binEvaluationPeers(
  state: ValidatorScoringState,
  candidates: readonly Uid[],
  config: Pick<ScoringConfig, 'numEvaluationBins' | 'uidsPerWindow'>,
): Uid[][] {
  const sorted = [...candidates].sort((a, b) => {
    const diff = ordinal(state.peers[String(b)]?.rating ?? null) - ordinal(state.peers[String(a)]?.rating ?? null);
    return diff !== 0 ? diff : a - b;
  });
  const bins = config.numEvaluationBins;
  if (bins <= 1 || sorted.length < bins * config.uidsPerWindow) return sorted.length === 0 ? [] : [sorted];
  const base = Math.floor(sorted.length / bins);
  const extra = sorted.length % bins;
  const out: Uid[][] = [];
  let start = 0;
  for (let b = 0; b < bins; b++) {
    const size = base + (b < extra ? 1 : 0);
    out.push(sorted.slice(start, start + size));
    start += size;
  }
  return out;
}

/**
 * Picks a bin uniformly, then `uidsPerWindow` uids from it by weighted sampling without
 * replacement, weight = `windowsSinceEval` (1 for a peer never seen). Returns the chosen uids in
 * draw order.
 */
export function selectEvaluationUids(
  state: ValidatorScoringState,
  candidates: readonly Uid[],
  config: Pick<ScoringConfig, 'numEvaluationBins' | 'uidsPerWindow'>,
  seed: number,
): Uid[] {
  const bins = binEvaluationPeers(state, candidates, config);
  if (bins.length === 0) return [];
  const rng = new Xoshiro128(seed);
  const pool = [...bins[rng.nextInt(bins.length)]!];
  const weights = pool.map((uid) => state.peers[String(uid)]?.windowsSinceEval ?? 1);
  const chosen: Uid[] = [];
  while (chosen.length < config.uidsPerWindow && pool.length > 0) {
    const total = weights.reduce((a, b) => a + b, 0);
    let target = rng.nextFloat() * total;
    let pick = pool.length - 1;
    for (let i = 0; i < pool.length; i++) {
      target -= weights[i]!;
      if (target < 0) {
        pick = i;
        break;
      }
    }
    chosen.push(pool[pick]!);
    pool.splice(pick, 1);
    weights.splice(pick, 1);
  }
  return chosen;
}

/** The peer list a validator posts (§5.7 `peers_{E}`): who everyone gathers, and the reserves. */
export interface GatherPeerList {
  readonly peers: Uid[];
  readonly reservePeers: Uid[];
}

/**
 * Gather-peer selection (§5.7, v2.1.3 `Validator.select_initial_peers` / `select_next_peers`):
 * active, non-banned uids ranked by the validator's current weight (descending, ties by uid),
 * excluding the burn uid; the first `gatherPeers` gather and the next `reservePeers` are reserves.
 * While fewer uids have a positive weight (a young run), the list is padded with the other
 * candidates in a seeded random order (Templar pads the initial list randomly; it ranks the
 * initial list by on-chain incentive, which the driver may pass as `weightOverride`).
 * The driver posts a new list every `peerReplacementFrequency` windows. Under `templar-2026` a peer
 * whose last evaluations were negative `streakExcludesFromGather` times in a row is left out until
 * a positive one (src/core/scoring/profiles.ts).
 */
export function selectGatherPeers(
  state: ValidatorScoringState,
  activeUidList: readonly Uid[],
  config: Pick<ScoringConfig, 'gatherPeers' | 'reservePeers' | 'burnUid' | 'profile'>,
  seed: number,
  weightOverride?: Readonly<Record<string, number>>,
): GatherPeerList {
  const streakLimit = profileRules(config.profile).negativeEvaluations?.streakExcludesFromGather ?? Infinity;
  const candidates = evaluationCandidates(state, activeUidList).filter((uid) => uid !== config.burnUid && (state.peers[String(uid)]?.negativeStreak ?? 0) < streakLimit);
  const weightOf = (uid: Uid): number => weightOverride?.[String(uid)] ?? state.peers[String(uid)]?.weight ?? 0;
  const ranked = candidates.filter((uid) => weightOf(uid) > 0).sort((a, b) => weightOf(b) - weightOf(a) || a - b);
  const rest = candidates.filter((uid) => !(weightOf(uid) > 0));
  const rng = new Xoshiro128(seed);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  const ordered = [...ranked, ...rest];
  return {
    peers: ordered.slice(0, config.gatherPeers),
    reservePeers: ordered.slice(config.gatherPeers, config.gatherPeers + config.reservePeers),
  };
}
