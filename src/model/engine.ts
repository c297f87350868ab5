/**
 * The one trainer interface (style.md lesson 2, as WebLLM's `MLCEngineInterface`): the in-process
 * engines (`src/gpu/webgpu-engine.ts` on WebGPU, `src/gpu/wasm-engine.ts` on the wasm EP, also in
 * Node) and the comlink proxy of `trainer.worker.ts` all implement it, so the miner loop, the
 * validator, the CLI and the tests cannot tell which transport they use. It lives here, below
 * `src/gpu` (which implements it) and `src/peer` (which drives it), so neither imports upward.
 *
 * Window lifecycle (gauntlet-spec §2, v2.1.3 miner): `trainInner` keeps θ0 and runs H AdamW steps;
 * `pseudoGradient` returns Δ = θ0 − θ_H and restores θ ← θ0 (`restore_offloaded_params`); the caller
 * compresses Δ and later calls `applyOuter` with the already-scaled outer update.
 *
 * Or, keeping the pseudo-gradient inside the engine (issue #5: on WebGPU only the packed bytes come
 * back): `compressPseudoGradient` does Δ, `e ← βe + Δ`, the compression and `e ← e − decode(sent)` on
 * the engine's own error-feedback buffer and restores θ ← θ0; `applyAggregate` runs the outer step
 * (`tplr.neurons.outer_step`) on the gathered submissions on θ in place. Both engines give the CPU
 * reference's bits (src/core/compress, src/core/aggregate.ts), so callers need not care which runs.
 */
import type { OuterStepResult, PeerSubmission } from '../core/aggregate.ts';
import type { EncodedTensor } from '../core/compress/codec.ts';
import type { RunConfig } from '../core/config.ts';
import type { SequenceExample } from '../core/data/assignment.ts';
import { GauntletError } from '../core/errors.ts';

/** One inner-step batch: row-major `[batchSize, seqLen]` int32 inputs and targets. */
export type TokenBatch = SequenceExample;

export type TrainerBackend = 'webgpu' | 'wasm';

/** What `init` chose and why (reported to the user; style.md §1.5 "honest performance"). */
export interface TrainerInfo {
  readonly backend: TrainerBackend;
  readonly reason: string;
  readonly parameterCount: number;
  readonly trainingGraphNodes: number;
  /** Tokens per second measured by the calibration, per backend, when one ran. */
  readonly calibration?: Readonly<Partial<Record<TrainerBackend, number>>>;
}

export interface InitOptions {
  /** 'auto' (default): WebGPU unless missing or slower than wasm in a short calibration. */
  readonly backend?: TrainerBackend | 'auto';
  /**
   * The inner AdamW state to continue from (a resume after a reload or a lost device); absent:
   * zero moments at scheduler step 0, a fresh optimiser.
   */
  readonly optimizerState?: InnerOptimizerState;
}

/**
 * The inner AdamW state (gauntlet-spec §5.1). Templar v2.1.3 keeps one optimiser and scheduler for
 * the whole run: `Trainer.inner_steps` steps the same AdamW across windows, and the state is only
 * offloaded to the CPU between windows (never reset per window, never transmitted). So a peer that
 * resumes must bring the moments and the scheduler position back, or its next window takes a
 * different (bias-corrected, re-warmed-up) step from the one it would have taken without the reload.
 */
export interface InnerOptimizerState {
  /** Inner scheduler steps taken so far: the lr schedule's position. */
  readonly schedulerSteps: number;
  /**
   * Adam steps the moments have accumulated (the bias-correction count t). A peer that took θ from
   * the network starts with zero moments at the network's schedule position, as a Templar miner
   * does with a fresh AdamW and a fast-forwarded scheduler: t starts again at 0 (issue #18: it used
   * the schedule position, so the first steps after a sync were not bias-corrected). Absent (a state
   * saved before it existed): the moments have run as long as the schedule, `schedulerSteps`.
   */
  readonly adamSteps?: number;
  /** First moments m (flat, layout order). */
  readonly expAvg: Float32Array;
  /** Second moments v (flat, layout order). */
  readonly expAvgSq: Float32Array;
}

/** Progress events, a typed stream (style.md lesson 7). */
export type TrainerEvent =
  | { readonly kind: 'inner-step'; readonly step: number; readonly of: number; readonly loss: number; readonly lr: number; readonly globalStep: number }
  | { readonly kind: 'inner-done'; readonly steps: number; readonly meanLoss: number; readonly tokens: number; readonly elapsedMs: number };

export type TrainerProgress = (event: TrainerEvent) => void;

export interface InnerResult {
  /** Loss of each inner step, before its update. */
  readonly losses: readonly number[];
  readonly tokens: number;
  readonly elapsedMs: number;
}

/** What `compressPseudoGradient` returns: the tensors for `encodeSubmission`, and what it cost. */
export interface CompressedPseudoGradient {
  /** One per parameter tensor, in layout order, ready for src/core/wire `encodeSubmission`. */
  readonly tensors: EncodedTensor[];
  /** Bytes copied from the GPU to the CPU for this call (0 on the wasm engine): the packed blocks only. */
  readonly readbackBytes: number;
  /** True when the dense pseudo-gradient crossed to the CPU (the wasm engine, or a codec the GPU does not encode). */
  readonly denseOnCpu: boolean;
}

export interface TrainerEngine {
  /** Builds the graphs and sessions and loads θ (`params`, or the run's deterministic init). */
  init(config: RunConfig, params?: Float32Array, options?: InitOptions): Promise<TrainerInfo>;
  /** θ0 ← θ, then H AdamW steps on `batches[0 … H−1]`. Only loss scalars come back per step. */
  trainInner(batches: readonly TokenBatch[], h: number, onProgress?: TrainerProgress): Promise<InnerResult>;
  /** Δ = θ0 − θ_H (flat, layout order); restores θ ← θ0. */
  pseudoGradient(): Promise<Float32Array>;
  /** θ ← θ − update (the caller has applied the outer lr: `outer_step`, gauntlet-spec §6). */
  applyOuter(update: Float32Array): Promise<void>;
  /**
   * After `trainInner`: Δ = θ0 − θ_H, `e ← βe + Δ`, compress e and subtract the dequantised
   * reconstruction from e (gauntlet-spec §5.2–5.4, `prepare_gradient_dict`); restores θ ← θ0.
   * Throws `CompressionError` ('non-finite') when e holds a NaN or ±Infinity.
   */
  compressPseudoGradient(): Promise<CompressedPseudoGradient>;
  /** e ← 0: a null round (no outer step taken, gauntlet-spec §5.2). */
  resetErrorFeedback(): Promise<void>;
  /** A copy of e (flat, layout order): what a peer persists between windows (a dense readback on WebGPU). */
  exportErrorFeedback(): Promise<Float32Array>;
  /** e ← `errorFeedback` (a resume after a reload or a lost device); the length must match and every value be finite. */
  importErrorFeedback(errorFeedback: Float32Array): Promise<void>;
  /**
   * The outer step on θ in place from gathered submissions (gauntlet-spec §6, `tplr.neurons.outer_step`),
   * with the run's bounds; `referenceCaps`: per tensor, the cap on the clip reference carried by the
   * peer list in force (`referenceCaps` of src/core/aggregate.ts), none when omitted.
   */
  applyAggregate(peers: readonly PeerSubmission[], referenceCaps?: readonly number[]): Promise<OuterStepResult>;
  /** Mean token loss per batch on θ, or on θ − trialUpdate when given (θ is left unchanged; §7.2). */
  evalLoss(batches: readonly TokenBatch[], trialUpdate?: Float32Array): Promise<number[]>;
  /** A copy of θ (flat, layout order). */
  exportParams(): Promise<Float32Array>;
  /** A copy of the inner AdamW state (moments and scheduler position), for `init`'s `optimizerState`. */
  exportOptimizerState(): Promise<InnerOptimizerState>;
  /**
   * Why the engine's device was lost, when `error` (thrown by one of its calls) came from that loss;
   * undefined for any other error, and always on an engine without a device (wasm). A caller recovers
   * from a loss with a new engine (src/peer/miner-loop.ts) without knowing which engine it held.
   */
  lossReason(error: unknown): Promise<string | undefined>;
  /** Tokens per second of `steps` forward + backward passes on a fixed batch, θ unchanged (how fast this device trains the run). */
  calibrate(steps: number): Promise<number>;
  /** Frees every session and GPU buffer; the engine is unusable afterwards. */
  dispose(): Promise<void>;
}

/** A call made before `init` finished, or after `dispose`. */
export class TrainerNotReadyError extends GauntletError {
  readonly code: string = 'trainer-not-ready';
  constructor(method: string) {
    super(`TrainerEngine.${method} was called before init() finished or after dispose(); await init() first.`);
    this.name = 'TrainerNotReadyError';
  }
}

/** Batches or arrays whose sizes do not match the run config. */
export class TrainerInputError extends GauntletError {
  readonly code: string = 'trainer-input';
  constructor(message: string) {
    super(`Trainer input rejected: ${message}`);
    this.name = 'TrainerInputError';
  }
}

/** A non-finite loss: the step's update was skipped so θ stays usable. */
export class NonFiniteLossError extends GauntletError {
  readonly code: string = 'non-finite-loss';
  constructor(readonly step: number) {
    super(`Inner step ${step} produced a non-finite loss; training stopped before applying it. Lower the inner lr or check the data.`);
    this.name = 'NonFiniteLossError';
  }
}
