/**
 * Scoring profiles: which of Templar's rule sets a run plays by (issue #18). A run states its profile
 * in `scoring.profile`, so every validator of the run applies the same rules and every reason record
 * names the profile it was applied under.
 *
 * - `templar-v2.1.3`: the rules of Templar v2.1.3 (commit `c2397ac5`, 2025-09-19), which
 *   gauntlet-spec.md follows and docs/templar-mapping.md maps function by function.
 * - `templar-2026`: v2.1.3 plus the anti-exploit rules Templar's production validator adopted after
 *   it, in answer to exploits seen live (Templar `main` at `142666f0`, 2026-03-31). Our stored Templar
 *   snapshot ends at v2.1.3, so these rules follow the audit in issue #18, which states each rule and
 *   its constants; where that statement leaves a detail open, the choice is ours and is said below
 *   beside the constant.
 *
 * The constants of a profile that are run-config fields (the sync curve, the copy-ban length) are set
 * by the presets from `PROFILE_CONFIG_CONSTANTS`; the rules that are not plain constants live here.
 */

import { SCORING_PROFILES, type ScoringProfile } from '../config.ts';

export { SCORING_PROFILES, type ScoringProfile };
/** The presets' profile: the newest. */
export const DEFAULT_SCORING_PROFILE: ScoringProfile = 'templar-2026';

/** The rules of a profile that are not run-config constants. */
export interface ProfileRules {
  /**
   * LossScore with which a missing, invalid or skipped gather peer enters the OpenSkill match, so
   * that not submitting always rates lower than any submission (2026); `null`: such peers are not
   * in the match (v2.1.3), so skipping a window dodges a bad rating.
   */
  readonly matchFloorScore: number | null;
  /**
   * Multiplier of the n-th consecutive gather skip (index n − 1; the last entry repeats). v2.1.3:
   * always `missingGradientSlashRate`; 2026: × 0.75, × 0.5, then × 0.
   */
  readonly gatherSkipEscalation: readonly number[] | null;
  /**
   * Missing-submission ban: a peer missing (asked for by the gather or chosen for evaluation, with
   * nothing valid to read) in at least `fraction` of the last `windows` windows is reset and banned
   * for `banWindows` (2026: ≥ 50 % of 8). The ban length is our choice (the audit names none): the
   * look-back itself, so a banned peer comes back with a clean look-back.
   */
  readonly missBan: { readonly windows: number; readonly fraction: number; readonly banWindows: number } | null;
  /**
   * Negative-evaluation rules over a peer's evaluations in the last `windows` windows (2026: 8): more
   * than half negative (binary indicator −1) slashes final score and B × `slashRate` (0.25), judged
   * only from `minEvaluations` evaluations in the look-back on (ours: 8, an evaluation in each of its
   * windows); `streakExcludesFromGather` negative evaluations in a row (3) keep the peer out of the
   * gather list until a positive one. Why 8: on the tiny preset an honest peer's indicator is +1 in
   * only about 74 % of its evaluations, so a majority of 4 is negative for an honest peer about once
   * in 18 checks; with 4 the Demo's real mode (4 honest peers evaluated every other window) slashed
   * honest peers until two of them held no weight after 24 windows. With 8, an honest peer at 74 %
   * has a negative majority about once in 30 checks and is rarely evaluated in 8 windows running.
   */
  readonly negativeEvaluations: {
    readonly windows: number;
    readonly slashRate: number;
    readonly minEvaluations: number;
    readonly streakExcludesFromGather: number;
  } | null;
  /**
   * B below `threshold` counts as 0 in the final score once `afterWindows` windows have passed since
   * the peer's first evaluation (2026: 0.10 after 10), so a peer whose evaluations are about as often
   * negative as positive earns nothing instead of a small share for ever.
   */
  readonly binaryFloor: { readonly threshold: number; readonly afterWindows: number } | null;
  /**
   * How the per-element steps behind are summarised into one figure: torch's lower median (v2.1.3,
   * `compare_model_with_debug_dict`) or the interquartile mean (2026), which one outlying element
   * cannot move and which, unlike the median, still sees a shift of a quarter of the elements.
   */
  readonly syncStatistic: 'lower-median' | 'interquartile-mean';
  /**
   * Ours, beyond Templar (in the 2026 profile only, so that `templar-v2.1.3` stays Templar's): a pair
   * overlapping at least this much more than either peer shares with any third peer is a copy
   * on Templar's tier ladder counted from there, even under `idxOverlapThreshold` (`findOverlaps` says why). `null`: the fixed
   * threshold only.
   */
  readonly relativeOverlapMargin: number | null;
}

export const PROFILE_RULES: Readonly<Record<ScoringProfile, ProfileRules>> = {
  'templar-v2.1.3': {
    matchFloorScore: null,
    gatherSkipEscalation: null,
    missBan: null,
    negativeEvaluations: null,
    binaryFloor: null,
    syncStatistic: 'lower-median',
    relativeOverlapMargin: null,
  },
  'templar-2026': {
    matchFloorScore: -99,
    gatherSkipEscalation: [0.75, 0.5, 0],
    missBan: { windows: 8, fraction: 0.5, banWindows: 8 },
    negativeEvaluations: { windows: 8, slashRate: 0.25, minEvaluations: 8, streakExcludesFromGather: 3 },
    binaryFloor: { threshold: 0.1, afterWindows: 10 },
    syncStatistic: 'interquartile-mean',
    relativeOverlapMargin: 0.15,
  },
};

/**
 * Run-config constants that a profile fixes (the presets take them from here): the sync curve's
 * window and the steps behind that are slashed (v2.1.3: 5 and 3; 2026: 3 and 2), and the length of a
 * copy ban in windows (v2.1.3 `naughty_peer_timeout` 200; 2026: 20).
 */
export const PROFILE_CONFIG_CONSTANTS: Readonly<Record<ScoringProfile, { readonly syncWindowSteps: number; readonly syncMaxStepsBehind: number; readonly naughtyPeerTimeout: number }>> = {
  'templar-v2.1.3': { syncWindowSteps: 5, syncMaxStepsBehind: 3, naughtyPeerTimeout: 200 },
  'templar-2026': { syncWindowSteps: 3, syncMaxStepsBehind: 2, naughtyPeerTimeout: 20 },
};

export function profileRules(profile: ScoringProfile): ProfileRules {
  return PROFILE_RULES[profile];
}
