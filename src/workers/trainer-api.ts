/**
 * The one trainer interface (style.md lesson 2, as WebLLM's `MLCEngineInterface`): the in-process
 * engines (`src/gpu/webgpu-engine.ts` on WebGPU, `src/gpu/wasm-engine.ts` on the wasm EP, also in
 * Node) and the comlink proxy of `trainer.worker.ts` all implement it, so the miner loop, the
 * validator, the CLI and the tests cannot tell which transport they use.
 *
 * Window lifecycle (gauntlet-spec §2, v2.1.3 miner): `trainInner` keeps θ0 and runs H AdamW steps;
 * `pseudoGradient` returns Δ = θ0 − θ_H and restores θ ← θ0 (`restore_offloaded_params`); the caller
 * compresses Δ and later calls `applyOuter` with the already-scaled outer update.
 */
import type { RunConfig } from '../core/config.ts';
import type { SequenceExample } from '../core/data/assignment.ts';
import type { PlacementReport } from '../gpu/placement.ts';

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

export interface TrainerEngine {
  /** Builds the graphs and sessions and loads θ (`params`, or the run's deterministic init). */
  init(config: RunConfig, params?: Float32Array, options?: InitOptions): Promise<TrainerInfo>;
  /** θ0 ← θ, then H AdamW steps on `batches[0 … H−1]`. Only loss scalars come back per step. */
  trainInner(batches: readonly TokenBatch[], h: number, onProgress?: TrainerProgress): Promise<InnerResult>;
  /** Δ = θ0 − θ_H (flat, layout order); restores θ ← θ0. */
  pseudoGradient(): Promise<Float32Array>;
  /** θ ← θ − update (the caller has applied the outer lr: `outer_step`, gauntlet-spec §6). */
  applyOuter(update: Float32Array): Promise<void>;
  /** Mean token loss per batch on θ, or on θ − trialUpdate when given (θ is left unchanged; §7.2). */
  evalLoss(batches: readonly TokenBatch[], trialUpdate?: Float32Array): Promise<number[]>;
  /** A copy of θ (flat, layout order). */
  exportParams(): Promise<Float32Array>;
  /** Frees every session and GPU buffer; the engine is unusable afterwards. */
  dispose(): Promise<void>;
}

/** What the trainer worker offers beyond the engine: read-outs for tests, benchmarks and the UI. */
export interface TrainerDiagnostics {
  /** GPU buffers of ours alive now (0 on the wasm backend). */
  liveBuffers(): Promise<number>;
  /** ORT's node placement of the training session (WebGPU, with `capturePlacement`). */
  placement(): Promise<PlacementReport | undefined>;
  /** Loss and all gradients (flat, layout order) of one batch on θ, without an update. */
  lossAndGradients(batch: TokenBatch): Promise<{ loss: number; grads: Float32Array }>;
  /** Tokens per second of `steps` fwd+bwd runs (after one warm-up run), without an update. */
  calibrate(steps: number): Promise<number>;
  /** [clip scale, global gradient norm] of the last inner step as the GPU computed them (WebGPU only). */
  lastClip(): Promise<{ scale: number; norm: number } | undefined>;
  /** Node placement of any ONNX model on the WebGPU EP (ground truth for the graph lint). */
  placementOf(modelBytes: Uint8Array): Promise<PlacementReport>;
}

/** The comlink surface of `trainer.worker.ts`: the engine (with the worker's init options) plus diagnostics. */
export type TrainerWorkerApi = Omit<TrainerEngine, 'init'> &
  TrainerDiagnostics & {
    init(config: RunConfig, params?: Float32Array, options?: WorkerInitOptions): Promise<TrainerInfo>;
  };

/** Options of the worker's `init` beyond the engine's. */
export interface WorkerInitOptions extends InitOptions {
  readonly capturePlacement?: boolean;
  /** Inner steps of the calibration that decides 'auto' (default 2). */
  readonly calibrationSteps?: number;
}

/** A call made before `init` finished, or after `dispose`. */
export class TrainerNotReadyError extends Error {
  constructor(method: string) {
    super(`TrainerEngine.${method} was called before init() finished or after dispose(); await init() first.`);
    this.name = 'TrainerNotReadyError';
  }
}

/** Batches or arrays whose sizes do not match the run config. */
export class TrainerInputError extends Error {
  constructor(message: string) {
    super(`Trainer input rejected: ${message}`);
    this.name = 'TrainerInputError';
  }
}

/** A non-finite loss: the step's update was skipped so θ stays usable. */
export class NonFiniteLossError extends Error {
  constructor(readonly step: number) {
    super(`Inner step ${step} produced a non-finite loss; training stopped before applying it. Lower the inner lr or check the data.`);
    this.name = 'NonFiniteLossError';
  }
}
