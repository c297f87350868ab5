/**
 * Data types of the Gauntlet scoring module: what one validator window measured
 * (`WindowScoringInputs`), the persistent per-uid validator state, and the reason records that
 * explain every score change. All of it is plain JSON (numbers, strings, arrays, records keyed by
 * decimal uid strings) so a state or a recorded window can be stored, shipped to a browser tab and
 * replayed with `npm run score`.
 */

/** A uid on the subnet: an integer in [0, 65535] (Bittensor uids are u16). */
export type Uid = number;

/**
 * Per-chunk top-k index sets of one tensor of one peer, for copy detection (gauntlet-spec §7.5,
 * `tplr.neurons.check_uid_index_overlap`). Entry `c` holds the indices (into the chunk's `totalk`
 * flattened positions) that the peer selected in chunk `c`. Order inside a chunk does not matter.
 *
 * Mapping from the compression module: a decoded submission holds, per tensor, an index array of
 * shape `[numChunks, k]` (row-major, 12-bit values < totalk). Chunk `c` is the slice
 * `idx.subarray(c·k, (c+1)·k)`; pass those slices (a `Uint16Array` each, or plain number arrays when
 * the inputs travel as JSON).
 */
export type ChunkIndexSets = readonly ArrayLike<number>[];

/** The validator's view of the gather of window `s` (gauntlet-spec §5.7, `comms.gather_with_reserve`). */
export interface GatherOutcome {
  /** Uids whose submission was gathered, validated and aggregated (gather peers and the reserves that replaced failed ones). */
  readonly gatheredUids: readonly Uid[];
  /** Gather peers of the peer list in force that were asked for but missing, late, early or invalid (reserves are not). */
  readonly skippedUids: readonly Uid[];
  /** gathered / gather peers, in [0, 1] (Templar `gather_with_reserve`'s success rate: reserves fill in, the denominator stays). */
  readonly successRate: number;
  /**
   * The gather peers of the peer list in force (reserves excluded): the uids the sync slash applies
   * to (Templar slashes its gather list). Absent in older recorded inputs: the gathered and skipped uids.
   */
  readonly gatherList?: readonly Uid[];
}

/**
 * Stage-2 measurement of one evaluated peer (gauntlet-spec §7.2, the evaluation block of v2.1.3 `Validator.run`, trial step `Validator.update_model_with_gradient`): the
 * summed losses before and after the 0.2× trial step on the peer's own data. The random-data loss
 * before the step is measured once per window (`WindowScoringInputs.lossRandomBefore`).
 */
export type EvaluationOutcome =
  | {
      readonly status: 'ok';
      readonly lossOwnBefore: number;
      readonly lossOwnAfter: number;
      readonly lossRandomAfter: number;
    }
  /** The gradient was absent, too early or too late (`slash_for_missing_gradient`). */
  | { readonly status: 'missing' }
  /** The gradient failed validation (bad indices, NaN/Inf after decode…) (`slash_for_invalid_gradient`). */
  | { readonly status: 'invalid'; readonly detail: string };

/** Everything the validator measured in one window; `scoreWindow` turns it into scores. */
export interface WindowScoringInputs {
  /** The sync window `s` being scored. */
  readonly window: number;
  /** Uids whose `gradient-{window}` object exists (a HEAD succeeded): feeds the activity check (§5.6). */
  readonly submittedUids: readonly Uid[];
  /** The gather of this window; `null` when nothing was gathered (the validator skips the window, §7.8). */
  readonly gather: GatherOutcome | null;
  /**
   * The validator's own parameters after the outer step of window s−1 at the flat positions the
   * miners publish (`[10:12]`), keyed by tensor name (§5.9). Used to compare and to update the EMA
   * of per-step change.
   */
  readonly validatorSlices: Readonly<Record<string, readonly number[]>>;
  /** Each peer's `debug-{s−1}` slices (same tensors and positions); `null` when the debug object is missing. */
  readonly peerSlices: Readonly<Record<string, Readonly<Record<string, readonly number[]>> | null>>;
  /** Uids chosen for stage 2 this window (by `selectEvaluationUids`), in the order they were evaluated. */
  readonly evalUids: readonly Uid[];
  /** Σ loss(θ, random sequences) before any trial step, once per window; `null` if no peer was evaluated. */
  readonly lossRandomBefore: number | null;
  /** Outcome per evaluated uid (keys: decimal uid strings, a subset of `evalUids`). */
  readonly evaluations: Readonly<Record<string, EvaluationOutcome>>;
  /** Per gathered uid, per tensor, the chunk index sets (copy detection, §7.5); empty to skip. */
  readonly indexSets: Readonly<Record<string, Readonly<Record<string, ChunkIndexSets>>>>;
  /** Per gathered uid, the storage server's upload time in ms (the later uploader of a copied pair is the offender). */
  readonly uploadTimes: Readonly<Record<string, number>>;
  /**
   * Each registered uid's hotkey in this window's metagraph. A uid whose hotkey changed has a new
   * owner, which starts from a fresh record (`new-hotkey`); absent in older recorded inputs.
   */
  readonly hotkeys?: Readonly<Record<string, string>>;
}

/** OpenSkill rating of one uid (Weng–Lin, gauntlet-spec §7.3). */
export interface SkillRating {
  readonly mu: number;
  readonly sigma: number;
}

/** Everything the validator remembers about one uid (gauntlet-spec §7.7). */
export interface PeerScoreState {
  /** Last LossScore (`gradient_scores`). */
  gradientScore: number;
  /** Last binary indicator, ±1, 0 before the first evaluation (`binary_indicator_scores`). */
  binaryIndicator: number;
  /** B: EMA of the binary indicator (`binary_moving_averages`). */
  binaryMovingAverage: number;
  /** Last sync score in [0, 1] (`sync_scores`). */
  syncScore: number;
  /** OpenSkill rating; `null` while unrated (ordinal counts as 0 for binning). */
  rating: SkillRating | null;
  /** `final_scores`. */
  finalScore: number;
  /** Normalised weight from the last `scoreWindow` (`weights`). */
  weight: number;
  /** Sampling weight for evaluation: 1 after an evaluation attempt, +1 per window otherwise (`eval_peers`). */
  windowsSinceEval: number;
  /** Window of the last evaluation attempt (`peers_last_eval_window`). */
  lastEvalWindow: number | null;
  /** Latest window in which a submission was seen. */
  lastSubmittedWindow: number | null;
  /** Window at which the uid left the active set; `null` while active (`inactive_scores`). */
  inactiveSince: number | null;
  /** Windows left in a copy ban; 0 when not banned (`naughty_peers`). */
  naughtyWindowsLeft: number;
  /** The hotkey that held the uid when it was last seen (absent in states saved before it was kept). */
  hotkey?: string;
  // The fields below feed the `templar-2026` profile's rules (src/core/scoring/profiles.ts); absent
  // in states saved before they were kept, which reads as "no history yet".
  /** Gather skips in a row (the escalating skip slash). */
  consecutiveSkips?: number;
  /** Windows, ascending, in which the peer was asked for a submission and had nothing valid (the missing-submission ban's look-back). */
  missedWindows?: number[];
  /** The peer's evaluations in the negative-evaluation look-back, oldest first: window and binary indicator. */
  recentEvaluations?: { window: number; indicator: number }[];
  /** Negative evaluations in a row (three keep the peer out of the gather list). */
  negativeStreak?: number;
  /** Window of the peer's first evaluation (B below the floor counts as 0 some windows after it). */
  firstEvalWindow?: number;
}

/** Bump when the layout or meaning of `ValidatorScoringState` changes. */
export const SCORING_STATE_VERSION = 1;

/** The whole scoring state of one validator (gauntlet-spec §7.7, `Validator._state_dict`). */
export interface ValidatorScoringState {
  readonly version: typeof SCORING_STATE_VERSION;
  /** Last window scored; `null` before the first. */
  lastWindow: number | null;
  /** Outer steps applied (`global_step`): windows with a non-empty gather. */
  globalStep: number;
  /** Per uid (decimal string key). */
  peers: Record<string, PeerScoreState>;
  /** EMA of |Δθ| per published element, per tensor (`param_avg_change`). */
  paramAvgChange: Record<string, number[]>;
  /** The validator's slices of the previous window, to compute the next |Δθ|. */
  previousSlices: Record<string, number[]>;
  /** Every uid ever evaluated or slashed, sorted (`evaluated_uids`): eligible for weights while final > 0. */
  evaluatedUids: Uid[];
  /** LossScores waiting for a match of ≥ 2 peers (`current_window_scores`). */
  pendingScores: Record<string, number>;
}

/** The rule that changed a value; names follow the Templar function or hparam. */
export type ScoreRule =
  | 'activity'
  | 'inactivity-slash'
  | 'inactivity-reset'
  | 'naughty-countdown'
  | 'new-hotkey'
  | 'overlap-slash'
  | 'sync-score'
  | 'sync-slash'
  | 'gather-skip-slash'
  | 'score-zero-threshold'
  | 'missing-gradient-slash'
  | 'invalid-gradient-slash'
  | 'loss-score'
  | 'binary-indicator'
  | 'openskill-pending'
  | 'openskill'
  | 'final-score'
  | 'weight'
  // `templar-2026` rules (src/core/scoring/profiles.ts)
  | 'miss-ban'
  | 'negative-evaluations-slash'
  | 'gather-exclusion';

/**
 * Rules that lower (or reset) a peer's scores as a penalty (gauntlet-spec §7.1, §7.4–§7.6): the
 * page's "why" panel and `npm run evaluate`'s report list the same set.
 */
export const PENALTY_RULES: ReadonlySet<ScoreRule> = new Set<ScoreRule>([
  'inactivity-slash',
  'inactivity-reset',
  'overlap-slash',
  'sync-slash',
  'gather-skip-slash',
  'score-zero-threshold',
  'missing-gradient-slash',
  'invalid-gradient-slash',
  'miss-ban',
  'negative-evaluations-slash',
]);

/** One explained score change: a peer can check every number that went into its reward. */
export interface ScoreReason {
  readonly window: number;
  readonly uid: Uid;
  readonly rule: ScoreRule;
  /** The measured values and constants the rule used. */
  readonly inputs: Readonly<Record<string, number | string | boolean | null>>;
  /** Affected fields before the rule. */
  readonly before: Readonly<Record<string, number | null>>;
  /** Affected fields after the rule. */
  readonly after: Readonly<Record<string, number | null>>;
}

/** Weights ready for `set_weights`: u16 values, max-upscaled, zeros dropped (uids ascending). */
export interface ChainWeights {
  readonly uids: Uid[];
  readonly values: number[];
}

/** Result of one `scoreWindow` call. */
export interface WindowScoringResult {
  readonly state: ValidatorScoringState;
  /** Normalised weight per uid with weight > 0 (sums to 1 when any uid is positive). */
  readonly weights: Record<string, number>;
  readonly chainWeights: ChainWeights;
  /** True when this window is a `set_weights` window (`window % windowsPerWeights === 0`). */
  readonly setWeightsDue: boolean;
  readonly reasons: ScoreReason[];
}
