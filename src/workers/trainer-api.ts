/**
 * The comlink surface of `trainer.worker.ts`: the trainer engine (src/model/engine.ts) with the
 * worker's init options, plus read-outs for tests, benchmarks and the UI.
 */
import type { RunConfig } from '../core/config.ts';
import type { EngineCreateOptions } from '../gpu/select-engine.ts';
import type { PlacementReport } from '../gpu/placement.ts';
import type { TokenBatch, TrainerEngine, TrainerInfo } from '../model/engine.ts';

/** What the trainer worker offers beyond the engine: read-outs for tests, benchmarks and the UI. */
export interface TrainerDiagnostics {
  /** GPU buffers of ours alive now (0 on the wasm backend). */
  liveBuffers(): Promise<number>;
  /**
   * Every GPU buffer created in this worker (ours and onnxruntime's) since `resetGpuAllocation`: the
   * bytes live now and the most that were live at once. Measured by wrapping `GPUDevice.createBuffer`
   * and `GPUBuffer.destroy` in this (test-only) worker.
   */
  gpuAllocation(): Promise<{ readonly liveBytes: number; readonly peakBytes: number; readonly buffers: number }>;
  resetGpuAllocation(): Promise<void>;
  /**
   * The peer's engine recovery after a lost GPU device (src/workers/kept-engine.ts), with no network
   * and no clock: an engine on WebGPU, its device destroyed (as a driver reset would), a new engine
   * after the loss, then that device lost too with no adapter left. Says which backend each engine
   * ran on, why, and the loss the first engine reported.
   */
  keptEngineLossDrill(config: RunConfig): Promise<{
    readonly first: { readonly backend: string; readonly reason: string };
    readonly lostReason: string | undefined;
    readonly afterLoss: { readonly backend: string; readonly reason: string };
    readonly afterLossWithoutGpu: { readonly backend: string; readonly reason: string };
    /** θ of the last engine equals the θ the recovery was given. */
    readonly paramsKept: boolean;
  }>;
  /** ORT's node placement of the training session (WebGPU, with `capturePlacement`). */
  placement(): Promise<PlacementReport | undefined>;
  /** Loss and all gradients (flat, layout order) of one batch on θ, without an update. */
  lossAndGradients(batch: TokenBatch): Promise<{ loss: number; grads: Float32Array }>;
  /** Tokens per second of `steps` fwd+bwd runs (after one warm-up run), without an update. */
  calibrate(steps: number): Promise<number>;
  /** [clip scale, global gradient norm] of the last inner step as the GPU computed them (WebGPU only). */
  lastClip(): Promise<{ scale: number; norm: number } | undefined>;
  /** Bytes the engine has copied from the GPU to the CPU since init (0 on the wasm backend). */
  readbackBytes(): Promise<number>;
  /** Node placement of any ONNX model on the WebGPU EP (ground truth for the graph lint). */
  placementOf(modelBytes: Uint8Array): Promise<PlacementReport>;
}

/** The comlink surface of `trainer.worker.ts`: the engine (with the worker's init options) plus diagnostics. */
export type TrainerWorkerApi = Omit<TrainerEngine, 'init'> &
  TrainerDiagnostics & {
    init(config: RunConfig, params?: Float32Array, options?: WorkerInitOptions): Promise<TrainerInfo>;
  };

/** Options of the worker's `init` beyond the engine's. */
export type WorkerInitOptions = EngineCreateOptions;

