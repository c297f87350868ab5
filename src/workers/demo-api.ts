/**
 * The contract of `demo.worker.ts` (issue #9): a whole subnet in one Worker, the real miner and
 * validator loops (src/peer) over the in-memory network (src/net/memory-network.ts), keyring
 * signatures and the real trainer engines, stepped one window per call.
 */
import type { WindowScoringResult } from '../core/scoring/index.ts';
import type { BehaviourName } from '../peer/behaviours.ts';
import type { WindowEvent } from '../peer/events.ts';
import type { TrainerBackend } from '../model/engine.ts';
import { GauntletError } from '../core/errors.ts';

export interface DemoNetworkOptions {
  /** One behaviour per virtual miner (uids 2, 3, …). A copier copies the first honest peer. */
  readonly behaviours: readonly BehaviourName[];
  /**
   * 'auto': select-engine decides once (WebGPU unless missing or slower than wasm); 'wasm' forces
   * the CPU path; 'webgpu' forces WebGPU (fails with WebGPUUnavailableError without it).
   */
  readonly backend: 'auto' | 'wasm' | 'webgpu';
  readonly evalLrFactor: number;
  readonly topk: number;
  readonly errorFeedbackDecay: number;
  readonly innerSteps: number;
  /** Seeds the validator's per-window randomness, so a run can be repeated. */
  readonly seed: number;
}

export interface DemoStartInfo {
  readonly backend: TrainerBackend;
  /** Why that backend (select-engine's reason, shown to the user). */
  readonly reason: string;
  /** Trainer engines built: one per miner, the validator's and the centralised baseline's. */
  readonly engines: number;
  /**
   * True when the backend is WebGPU and all those engines share one GPUDevice (issue #9: "one shared
   * GPU device, time-multiplexed in the worker"); on wasm they share the worker's CPU threads.
   */
  readonly sharedDevice: boolean;
  readonly parameterCount: number;
  readonly minerUids: readonly number[];
  readonly firstWindow: number;
  readonly elapsedMs: number;
}

export interface DemoWindowReport {
  readonly window: number;
  /** Everything the loops emitted this window, in order. */
  readonly events: readonly WindowEvent[];
  /** The validator's `scoreWindow` result. */
  readonly result: WindowScoringResult;
  /** Mean token loss of the validator's θ (the network model) on the shared evaluation set after the window. */
  readonly networkLoss: number;
  /** The same for the centralised baseline trained on the honest peers' tokens of every window. */
  readonly baselineLoss: number;
  /** Mean inner-step loss over the miners that trained. */
  readonly meanInnerLoss: number | null;
  /** Tokens trained by all miners this window and the wall time of their inner steps. */
  readonly tokens: number;
  readonly trainMs: number;
  /** Mean wire bytes per submission and the dense float32 size of one pseudo-gradient. */
  readonly meanBytesSent: number | null;
  readonly denseBytes: number;
  readonly elapsedMs: number;
}

export interface DemoWorkerApi {
  /** Builds the network, the keys, the engines and the loops (replacing any previous run). */
  start(options: DemoNetworkOptions): Promise<DemoStartInfo>;
  /**
   * Runs the next window end to end: train, compress, sign, upload, validate, gather, outer steps.
   * `onEvent` (a `Comlink.proxy`) hears each event as it happens, for the timeline.
   */
  runWindow(onEvent?: (event: WindowEvent) => void): Promise<DemoWindowReport>;
  /**
   * Gives miner `uid` another behaviour from the next window on, without restarting the run: the
   * miner keeps its θ and its error-feedback buffer; every other peer is untouched.
   */
  setBehaviour(uid: number, behaviour: BehaviourName): Promise<void>;
  dispose(): Promise<void>;
}

/** `runWindow` before `start`, or after `dispose`. */
export class DemoNotStartedError extends GauntletError {
  readonly code: string = 'demo-not-started';
  override readonly name = 'DemoNotStartedError';
  constructor() {
    super('The demo network is not running; call start() first (or start again after dispose()).');
  }
}
