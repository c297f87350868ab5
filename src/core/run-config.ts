/**
 * Run-config presets, validation and a stable hash (gauntlet-spec §8.2, §12.2), the counterpart of
 * Templar's `hparams/hparams.json` + `src/tplr/hparams.py::load_hparams`.
 *
 * Three presets:
 * - `tiny`: CI and the CPU demo (≈0.15M parameters, 5-second devnet windows);
 * - `small`: a GPU tab (≈5.2M parameters, 2-minute windows), the shape §12.2 suggests;
 * - `medium`: a real GPU tab (≈19.4M parameters within 1 GiB of GPU memory, 2-minute windows).
 *
 * Constants are v2.1.3's (SparseLoCo) except where §12.2 scales them for a few-million-parameter
 * model in a browser; each deviation is noted next to its value.
 */

import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { chunkSize } from './compress/chunking.ts';
import {
  RUN_CONFIG_VERSION,
  SCORING_PROFILES,
  type ScoringProfile,
  type CompressionConfig,
  type DataConfig,
  type InnerOptimizerConfig,
  type ModelShape,
  type BoundsConfig,
  type RunConfig,
  type ScoringConfig,
  type WindowConfig,
} from './config.ts';
import { GauntletError } from './errors.ts';
import { DEFAULT_SCORING_PROFILE, PROFILE_CONFIG_CONSTANTS } from './scoring/profiles.ts';

// ---------------------------------------------------------------------------------------------
// Presets
// ---------------------------------------------------------------------------------------------

/** v2.1.3 compression (gauntlet-spec §5.3, §8.2): 64×64 chunks, top-64, 2-bit, range 6σ, EF β 0.95, α 1.0. */
function sparseLoCoCompression(): CompressionConfig {
  return {
    codec: 'sparseloco',
    targetChunk: 64,
    topk: 64,
    quantizationBins: 4,
    quantizationRange: 6,
    errorFeedbackDecay: 0.95,
    outerLr: 1.0,
  };
}

/**
 * Inner AdamW (gauntlet-spec §5.1, §12.2): CCLoco-like lr 1e-3 for small models instead of v2.1.3's
 * 1.3e-4; betas, eps, weight decay and clipping as `Trainer.get_inner_optimizer`.
 */
function innerAdamW(innerSteps: number, batchSize: number, warmupSteps: number, cosineSteps: number): InnerOptimizerConfig {
  return {
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0.1,
    gradClipNorm: 1.0,
    warmupSteps,
    cosineSteps,
    minLrRatio: 0.1,
    // No restart of the moments: it trains better, but see docs/convergence.md for what it did to scoring.
    resetMomentsAtStep: null,
    innerSteps,
    batchSize,
  };
}

/**
 * Validator scoring constants (gauntlet-spec §7, §8.2, v2.1.3 `Validator.__init__` and hparams), with
 * the peer counts scaled to a handful of browser peers (§12.2).
 */
function scoring(overrides: Pick<ScoringConfig, 'gatherPeers' | 'reservePeers' | 'uidsPerWindow' | 'numEvaluationBins' | 'evalSequences' | 'binaryScoreInitial'>, profile: ScoringProfile = DEFAULT_SCORING_PROFILE): ScoringConfig {
  return {
    profile,
    ...overrides,
    peerReplacementFrequency: 5,
    evalLrFactor: 0.2,
    binaryScoreMaAlpha: 0.05,
    openskillBeta: 7,
    openskillTau: 0.1,
    ...PROFILE_CONFIG_CONSTANTS[profile],
    syncExponent: 2.5,
    syncAvgChangeAlpha: 0.2,
    recentWindows: 2,
    resetInactivityWindows: 3,
    inactivitySlashRate: 0.75,
    missingGradientSlashRate: 0.75,
    syncScoreSlashRate: 0.75,
    gatherPeersSlashThreshold: 0.4,
    scoreZeroThreshold: 1e-4,
    idxOverlapThreshold: 0.4,
    overlapGraceSteps: 20,
    weighting: 'rank',
    powerNormalisation: 2.0,
    burnRate: 0.5,
    burnUid: 1,
    gatherShare: 0.75,
    windowsPerWeights: 2,
    checkpointFrequency: 10,
  };
}

/** `scoring` under another profile, with the run-config constants that profile fixes (src/core/scoring/profiles.ts). */
export function withScoringProfile(scoring: ScoringConfig, profile: ScoringProfile): ScoringConfig {
  return { ...scoring, profile, ...PROFILE_CONFIG_CONSTANTS[profile] };
}

/**
 * Absolute bounds on published values (issue #14, docs/hostile-peers.md). The analytic ceiling of an
 * honest value: AdamW moves a coordinate by at most about lr per inner step (|m̂/√v̂| ≤ 1 for
 * β1² < β2, plus weight decay), so |Δ| ≤ H·lr, and error feedback with decay β < 1 sums at most
 * 1/(1 − β) of those: |e| ≤ H·lr/(1 − β) (tiny: 0.08, small: 0.4). A quantised value is a bin mean of
 * selected entries of e, so it obeys the same bound. Each bound below is ≥ 10× what honest peers
 * were measured to send (docs/hostile-peers.md has the figures), so they never clip honest work and
 * still keep every number that reaches θ many orders of magnitude from float32 overflow.
 */
function bounds(maxSubmissionValue: number, maxTensorNorm: number, maxOuterStepNorm: number): BoundsConfig {
  // clipGrowth 8: a list carries the norms of its posting window and stays in force up to 6 windows
  // later; in the measured tiny run honest norms grew 4.5× over that span at most (window 5 → 11, in
  // the warm-up), less than 2× afterwards (docs/hostile-peers.md), so the cap never clips honest work.
  return { maxSubmissionValue, maxTensorNorm, maxOuterStepNorm, maxParameterValue: 1e3, clipGrowth: 8 };
}

/** 256 KiB of uint8 tokens per shard file (`npm run data`). */
const SHARD_TOKENS = 256 * 1024;

/**
 * CI and demo preset: every dimension is one 64-wide chunk, H = 4 inner steps of 4 × 64 tokens, and
 * devnet timing (5 blocks of 1 s per window, a 3 s put window). Warm-up is 20 inner steps (5 windows)
 * instead of ≈200 so a demo reaches the full lr quickly. B starts at 0.5 (§12.2's onboarding
 * suggestion) so demo peers earn visibly within a few windows; `small` keeps v2.1.3's 0.
 */
export function tinyRunConfig(): RunConfig {
  return {
    version: RUN_CONFIG_VERSION,
    runId: 'tiny-devnet',
    netuid: 3,
    preset: 'tiny',
    initSeed: 1234,
    model: {
      vocabSize: 256,
      dModel: 64,
      nLayers: 2,
      nHeads: 4,
      dFF: 256,
      seqLen: 64,
      activation: 'swiglu',
      positional: 'rope',
      tiedEmbeddings: true,
      normEps: 1e-5,
      initStd: 0.02,
    },
    inner: innerAdamW(4, 4, 20, 2000),
    compression: sparseLoCoCompression(),
    window: {
      blocksPerWindow: 5,
      blockTimeMs: 1000,
      putWindowMs: 3000,
      validatorOffset: 1,
      peerListWindowMargin: 1,
      maxSubmissionBytes: 1 << 20,
      startWindow: null,
    },
    scoring: scoring({
      gatherPeers: 4,
      reservePeers: 2,
      uidsPerWindow: 3,
      numEvaluationBins: 2,
      evalSequences: 4,
      binaryScoreInitial: 0.5,
    }),
    data: { shardTokens: SHARD_TOKENS, poolSequences: 64 },
    bounds: bounds(1, 8, 8),
  };
}

/**
 * GPU-tab preset (≈5.2M parameters, gauntlet-spec §12.2): d 320 = 5·64, 5 heads of 64, SwiGLU 896 =
 * 14·64, seq 256; H = 20 inner steps of 8 sequences; 10 blocks of 12 s = 120 s windows with a 15 s
 * put window. Warm-up 200 inner steps (10 windows), cosine over 20 000 inner steps (1000 windows).
 */
export function smallRunConfig(): RunConfig {
  return {
    version: RUN_CONFIG_VERSION,
    runId: 'small-v1',
    netuid: 3,
    preset: 'small',
    initSeed: 1234,
    model: {
      vocabSize: 256,
      dModel: 320,
      nLayers: 4,
      nHeads: 5,
      dFF: 896,
      seqLen: 256,
      activation: 'swiglu',
      positional: 'rope',
      tiedEmbeddings: true,
      normEps: 1e-5,
      initStd: 0.02,
    },
    inner: innerAdamW(20, 8, 200, 20_000),
    compression: sparseLoCoCompression(),
    window: {
      blocksPerWindow: 10,
      blockTimeMs: 12_000,
      putWindowMs: 15_000,
      validatorOffset: 1,
      peerListWindowMargin: 1,
      maxSubmissionBytes: 4 << 20,
      startWindow: null,
    },
    scoring: scoring({
      gatherPeers: 8,
      reservePeers: 4,
      uidsPerWindow: 4,
      numEvaluationBins: 5,
      evalSequences: 8,
      binaryScoreInitial: 0,
    }),
    data: { shardTokens: SHARD_TOKENS, poolSequences: 640 },
    bounds: bounds(4, 32, 64),
  };
}

/**
 * Preset for real GPU tabs (issue #17; ≈19.4M parameters): d 512 = 8·64, 8 heads of 64, SwiGLU 1408
 * = 22·64, 6 layers, seq 256; H = 20 inner steps of 2 sequences; windows as small's (10 blocks of 12 s,
 * a 15 s put window). Sized so that training fits in 1 GiB of GPU memory: the estimate of
 * src/model/memory.ts is 880 MiB (state and onnxruntime's copies of θ 9 · 77.6 MB, the activations of
 * a batch of 2 × 256 the rest), and the largest buffer, the flat θ, is 74 MiB, under a 256 MiB
 * binding limit. Two sequences per step keep the activations small; the window still trains
 * 20 · 2 · 256 = 10 240 tokens per peer.
 */
export function mediumRunConfig(): RunConfig {
  const small = smallRunConfig();
  return {
    ...small,
    runId: 'medium-v1',
    preset: 'medium',
    model: { ...small.model, dModel: 512, nLayers: 6, nHeads: 8, dFF: 1408 },
    inner: innerAdamW(20, 2, 200, 20_000),
    window: { ...small.window, maxSubmissionBytes: 8 << 20 },
    data: { shardTokens: SHARD_TOKENS, poolSequences: 160 },
  };
}

/** Named presets, for CLIs and the UI's preset picker. */
export const RUN_CONFIG_PRESETS = { tiny: tinyRunConfig, small: smallRunConfig, medium: mediumRunConfig } as const;

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/** One problem found in a run config: a dotted path (`model.dModel`) and what is wrong with it. */
export interface RunConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** A run config that cannot be used; lists every problem, not only the first. */
export class RunConfigError extends GauntletError {
  readonly code: string = 'run-config';
  override readonly name = 'RunConfigError';
  constructor(readonly issues: readonly RunConfigIssue[]) {
    super(
      `Invalid run config (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((issue) => `  - ${issue.message}`).join('\n') +
        '\nFix these fields, or start from tinyRunConfig() / smallRunConfig() and change one field at a time.',
    );
  }
}

/** How one scalar field is checked. Bounds are inclusive unless marked exclusive. */
type FieldRule =
  | { readonly kind: 'int'; readonly min?: number; readonly max?: number; readonly nullable?: boolean }
  | {
      readonly kind: 'number';
      readonly min?: number;
      readonly max?: number;
      readonly minExclusive?: boolean;
      readonly maxExclusive?: boolean;
    }
  | { readonly kind: 'enum'; readonly values: readonly (string | number)[] }
  | { readonly kind: 'bool' }
  | { readonly kind: 'string'; readonly pattern: RegExp; readonly hint: string };

/** A rule for every field of a section; the mapped type makes a forgotten field a compile error. */
type SectionRules<T> = { readonly [K in keyof T]-?: FieldRule };

const positiveInt: FieldRule = { kind: 'int', min: 1 };
const nonNegativeInt: FieldRule = { kind: 'int', min: 0 };
const positive: FieldRule = { kind: 'number', min: 0, minExclusive: true };
const unitClosed: FieldRule = { kind: 'number', min: 0, max: 1 };
const unitOpenTop: FieldRule = { kind: 'number', min: 0, max: 1, maxExclusive: true };
const uint32: FieldRule = { kind: 'int', min: 0, max: 0xffffffff };

const MODEL_RULES: SectionRules<ModelShape> = {
  vocabSize: { kind: 'int', min: 256 },
  dModel: positiveInt,
  nLayers: positiveInt,
  nHeads: positiveInt,
  dFF: positiveInt,
  seqLen: { kind: 'int', min: 2 },
  activation: { kind: 'enum', values: ['gelu', 'swiglu'] },
  positional: { kind: 'enum', values: ['learned', 'rope'] },
  tiedEmbeddings: { kind: 'bool' },
  normEps: positive,
  initStd: positive,
};

const INNER_RULES: SectionRules<InnerOptimizerConfig> = {
  lr: positive,
  beta1: unitOpenTop,
  beta2: unitOpenTop,
  eps: positive,
  weightDecay: { kind: 'number', min: 0 },
  gradClipNorm: { kind: 'number' },
  warmupSteps: nonNegativeInt,
  cosineSteps: nonNegativeInt,
  minLrRatio: unitClosed,
  // null: never. A scheduler step, so at most a u32 like every counter the chain bounds.
  resetMomentsAtStep: { kind: 'int', min: 0, max: 2 ** 32 - 1, nullable: true },
  innerSteps: positiveInt,
  batchSize: positiveInt,
};

const COMPRESSION_RULES: SectionRules<CompressionConfig> = {
  codec: { kind: 'enum', values: ['sparseloco', 'dct-sign'] },
  // 12-bit indices address at most 4096 entries per chunk (gauntlet-spec §5.3): chunk side ≤ 64.
  targetChunk: { kind: 'int', min: 2, max: 64 },
  topk: { kind: 'int', min: 2 },
  quantizationBins: { kind: 'enum', values: [2, 4, 16, 256] },
  quantizationRange: positive,
  errorFeedbackDecay: unitClosed,
  outerLr: positive,
};

const WINDOW_RULES: SectionRules<WindowConfig> = {
  blocksPerWindow: positiveInt,
  blockTimeMs: positive,
  putWindowMs: positive,
  validatorOffset: positiveInt,
  peerListWindowMargin: nonNegativeInt,
  maxSubmissionBytes: positiveInt,
  // null: no null rounds. Block numbers are u32 on a Substrate chain, so no window is beyond 2^32 − 1.
  startWindow: { kind: 'int', min: 0, max: 2 ** 32 - 1, nullable: true },
};

const SCORING_RULES: SectionRules<ScoringConfig> = {
  profile: { kind: 'enum', values: SCORING_PROFILES },
  gatherPeers: positiveInt,
  reservePeers: nonNegativeInt,
  peerReplacementFrequency: positiveInt,
  uidsPerWindow: positiveInt,
  numEvaluationBins: positiveInt,
  evalSequences: positiveInt,
  evalLrFactor: positive,
  binaryScoreMaAlpha: { kind: 'number', min: 0, max: 1, minExclusive: true },
  binaryScoreInitial: { kind: 'number', min: -1, max: 1 },
  openskillBeta: positive,
  openskillTau: { kind: 'number', min: 0 },
  syncMaxStepsBehind: { kind: 'number', min: 0 },
  syncWindowSteps: positive,
  syncExponent: positive,
  syncAvgChangeAlpha: { kind: 'number', min: 0, max: 1, minExclusive: true },
  recentWindows: nonNegativeInt,
  resetInactivityWindows: positiveInt,
  inactivitySlashRate: unitClosed,
  missingGradientSlashRate: unitClosed,
  syncScoreSlashRate: unitClosed,
  gatherPeersSlashThreshold: unitClosed,
  scoreZeroThreshold: { kind: 'number', min: 0 },
  idxOverlapThreshold: unitClosed,
  overlapGraceSteps: nonNegativeInt,
  naughtyPeerTimeout: nonNegativeInt,
  weighting: { kind: 'enum', values: ['power', 'rank'] },
  powerNormalisation: positive,
  burnRate: unitClosed,
  burnUid: { kind: 'int', min: 0, max: 65535 },
  gatherShare: unitClosed,
  windowsPerWeights: positiveInt,
  checkpointFrequency: positiveInt,
};

const DATA_RULES: SectionRules<DataConfig> = {
  shardTokens: positiveInt,
  poolSequences: positiveInt,
};

// Bounds must be finite and far below float32's 3.4e38, so that nothing a bounded peer sends can
// overflow a float32 sum of a few thousand of them.
const boundRule: FieldRule = { kind: 'number', min: 0, max: 1e12, minExclusive: true };
const BOUNDS_RULES: SectionRules<BoundsConfig> = {
  maxSubmissionValue: boundRule,
  maxTensorNorm: boundRule,
  maxOuterStepNorm: boundRule,
  maxParameterValue: boundRule,
  clipGrowth: { kind: 'number', min: 1, max: 1e6 },
};

type TopLevelScalars = Pick<RunConfig, 'version' | 'runId' | 'netuid' | 'preset' | 'initSeed'>;

const TOP_RULES: SectionRules<TopLevelScalars> = {
  version: { kind: 'enum', values: [RUN_CONFIG_VERSION] },
  // The run id is bound into signatures and storage keys: keep it to a URL- and key-safe alphabet.
  runId: { kind: 'string', pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, hint: '1–64 characters of [A-Za-z0-9._-], not starting with . _ or -' },
  netuid: { kind: 'int', min: 0, max: 65535 },
  preset: { kind: 'enum', values: ['tiny', 'small', 'medium', 'custom'] },
  initSeed: uint32,
};

const SECTION_RULES = {
  model: MODEL_RULES,
  inner: INNER_RULES,
  compression: COMPRESSION_RULES,
  window: WINDOW_RULES,
  scoring: SCORING_RULES,
  data: DATA_RULES,
  bounds: BOUNDS_RULES,
} as const satisfies { readonly [K in Exclude<keyof RunConfig, keyof TopLevelScalars>]: SectionRules<RunConfig[K]> };

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'missing';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** Checks one scalar against its rule; returns the problem in words, or null. */
function checkField(path: string, value: unknown, rule: FieldRule): string | null {
  if (value === undefined) return `${path} is missing`;
  switch (rule.kind) {
    case 'bool':
      return typeof value === 'boolean' ? null : `${path} (${describe(value)}) must be true or false`;
    case 'string':
      return typeof value === 'string' && rule.pattern.test(value)
        ? null
        : `${path} (${describe(value)}) must be ${rule.hint}`;
    case 'enum':
      return rule.values.includes(value as string | number)
        ? null
        : `${path} (${describe(value)}) must be one of ${rule.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'int':
    case 'number': {
      if (value === null && rule.kind === 'int' && rule.nullable === true) return null;
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${path} (${describe(value)}) must be a finite number${rule.kind === 'int' && rule.nullable === true ? ' or null' : ''}`;
      if (rule.kind === 'int' && !Number.isInteger(value)) return `${path} (${value}) must be an integer`;
      if (rule.min !== undefined) {
        const exclusive = rule.kind === 'number' && rule.minExclusive === true;
        if (exclusive ? value <= rule.min : value < rule.min) return `${path} (${value}) must be ${exclusive ? '>' : '≥'} ${rule.min}`;
      }
      if (rule.max !== undefined) {
        const exclusive = rule.kind === 'number' && rule.maxExclusive === true;
        if (exclusive ? value >= rule.max : value > rule.max) return `${path} (${value}) must be ${exclusive ? '<' : '≤'} ${rule.max}`;
      }
      return null;
    }
  }
}

/** Checks every field of `section` against `rules`, reporting missing and unknown fields too. */
function checkSection(
  prefix: string,
  section: Record<string, unknown>,
  rules: Readonly<Record<string, FieldRule>>,
  issues: RunConfigIssue[],
): void {
  for (const [key, rule] of Object.entries(rules)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const problem = checkField(path, section[key], rule);
    if (problem !== null) issues.push({ path, message: problem });
  }
}

function checkUnknownKeys(prefix: string, section: Record<string, unknown>, known: readonly string[], issues: RunConfigIssue[]): void {
  for (const key of Object.keys(section)) {
    if (!known.includes(key)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      issues.push({ path, message: `${path} is not a run-config field (misspelt? the config is versioned, so unknown fields are rejected)` });
    }
  }
}

/**
 * Cross-field rules that need the whole config. Only run when the fields they read are valid, so the
 * messages never compare garbage.
 */
function checkRelations(cfg: RunConfig, issues: RunConfigIssue[]): void {
  const { model, inner, compression, window, scoring, data } = cfg;
  const push = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  const chunk = compression.targetChunk;

  // Every dimension of a 2-D parameter (embedding [vocab, d], attention [d, d], MLP [d, dFF] and
  // [dFF, d], learned positions [seqLen, d]) must split into chunks of side ≥ 2, or v2.1.3's top-k
  // breaks (gauntlet-spec §5.3, §12.3). 1-D tensors (norms) are sent densely and need nothing.
  const dims: [string, number][] = [
    ['model.vocabSize', model.vocabSize],
    ['model.dModel', model.dModel],
    ['model.dFF', model.dFF],
  ];
  if (model.positional === 'learned') dims.push(['model.seqLen', model.seqLen]);
  for (const [path, n] of dims) {
    if (n % chunk !== 0 && chunkSize(n, chunk) < 2) {
      push(
        path,
        `${path} (${n}) is not a multiple of compression.targetChunk ${chunk} and has no divisor in [2, ${chunk}], ` +
          `so its chunks would be 1 wide (gauntlet-spec §5.3); use a multiple of ${chunk}`,
      );
    }
  }
  // Chunks of a dimension that is not a multiple hold fewer entries; there Templar clamps k to the
  // chunk (`min(topk, totalk)`), so only the full chunk bounds top-k.
  if (compression.topk > chunk * chunk) {
    push('compression.topk', `compression.topk (${compression.topk}) exceeds the ${chunk}×${chunk} = ${chunk * chunk} entries of a chunk`);
  }
  // Indices travel as pairs of 12-bit values (`pack_12bit_indices`), so k must be even.
  if (compression.topk % 2 !== 0) push('compression.topk', `compression.topk (${compression.topk}) must be even: 12-bit indices are packed in pairs`);

  if (model.dModel % model.nHeads !== 0) {
    push('model.nHeads', `model.dModel (${model.dModel}) is not divisible by model.nHeads (${model.nHeads})`);
  } else if (model.positional === 'rope' && (model.dModel / model.nHeads) % 2 !== 0) {
    push('model.nHeads', `model.dModel / model.nHeads = ${model.dModel / model.nHeads} must be even for rotary positions (rope rotates pairs)`);
  }
  const perWindow = inner.innerSteps * inner.batchSize;
  if (data.poolSequences < perWindow) {
    push(
      'data.poolSequences',
      `data.poolSequences (${data.poolSequences}) is smaller than inner.innerSteps × inner.batchSize = ${perWindow}, the sequences a peer trains on per window`,
    );
  }
  if (data.poolSequences < scoring.evalSequences) {
    push('data.poolSequences', `data.poolSequences (${data.poolSequences}) is smaller than scoring.evalSequences (${scoring.evalSequences})`);
  }
  if (data.shardTokens < model.seqLen + 1) {
    push('data.shardTokens', `data.shardTokens (${data.shardTokens}) is smaller than one sequence of model.seqLen + 1 = ${model.seqLen + 1} tokens`);
  }

  const windowMs = window.blocksPerWindow * window.blockTimeMs;
  if (window.putWindowMs >= windowMs) {
    push(
      'window.putWindowMs',
      `window.putWindowMs (${window.putWindowMs}) must be shorter than a window (window.blocksPerWindow × window.blockTimeMs = ${windowMs} ms), or uploads of consecutive windows overlap`,
    );
  }
}

/**
 * Checks an untrusted value (parsed JSON, a URL parameter, a peer's announcement) and returns it as a
 * deeply frozen `RunConfig`, or throws `RunConfigError` listing every problem with its path.
 */
export function validateRunConfig(x: unknown): RunConfig {
  const issues: RunConfigIssue[] = [];
  if (!isRecord(x)) throw new RunConfigError([{ path: '', message: `the run config must be an object, got ${describe(x)}` }]);

  checkSection('', x, TOP_RULES, issues);
  const sectionNames = Object.keys(SECTION_RULES) as (keyof typeof SECTION_RULES)[];
  checkUnknownKeys('', x, [...Object.keys(TOP_RULES), ...sectionNames], issues);
  for (const name of sectionNames) {
    const section = x[name];
    const rules: Readonly<Record<string, FieldRule>> = SECTION_RULES[name];
    if (!isRecord(section)) {
      issues.push({ path: name, message: `${name} (${describe(section)}) must be an object` });
      continue;
    }
    checkSection(name, section, rules, issues);
    checkUnknownKeys(name, section, Object.keys(rules), issues);
  }
  // Cross-field rules still run when the only bad fields are ones they do not read, so one call
  // lists every problem; they are skipped when their inputs are themselves invalid.
  const relationInputsValid = issues.every(
    (issue) => !(sectionNames as string[]).includes(issue.path) && !RELATION_INPUTS.has(issue.path) && !issue.path.startsWith('model.'),
  );
  if (relationInputsValid) checkRelations(x as unknown as RunConfig, issues);
  if (issues.length > 0) throw new RunConfigError(issues);
  return deepFreeze(JSON.parse(canonicalJson(x)) as RunConfig);
}

/** The fields outside `model` that `checkRelations` reads (it reads every `model` field). */
const RELATION_INPUTS: ReadonlySet<string> = new Set([
  'compression.targetChunk',
  'compression.topk',
  'inner.innerSteps',
  'inner.batchSize',
  'data.poolSequences',
  'data.shardTokens',
  'scoring.evalSequences',
  'window.putWindowMs',
  'window.blocksPerWindow',
  'window.blockTimeMs',
]);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Canonical form and hash
// ---------------------------------------------------------------------------------------------

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit at every level, no whitespace, numbers in
 * ECMAScript's shortest round-trip form (`JSON.stringify`), which is identical in every engine. Two
 * configs with the same content give the same string whatever their key order.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`canonicalJson: ${value} has no JSON form; use a finite number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
}

const runHashes = new WeakMap<RunConfig, string>();

/**
 * sha256 (hex) of the canonical JSON: the run's identity, shown in the UI and bound into signatures.
 * Memoised per config object (configs are read-only), since every submission's signature is checked against it.
 */
export function runConfigHash(cfg: RunConfig): string {
  let hash = runHashes.get(cfg);
  if (hash === undefined) {
    hash = bytesToHex(sha256(utf8ToBytes(canonicalJson(cfg))));
    runHashes.set(cfg, hash);
  }
  return hash;
}
