/**
 * Backend choice (issue #4 "WASM fallback"; style.md §1.3 and §1.5): WebGPU when it is present and
 * not slower than the wasm EP on this machine in a short calibration, else the wasm EP, which runs
 * the very same graph. The reason is reported to the user (TrainerInfo.reason), because a software
 * WebGPU adapter (SwiftShader) is ≈50× slower than wasm on the same CPU (browser-testing.md §2).
 */
import type { RunConfig } from '../core/config.ts';
import type { InitOptions, TrainerBackend, TrainerInfo } from '../model/engine.ts';
import { acquireGpuDevice } from './device.ts';
import type { Ort } from './engine-common.ts';
import { WebGPUUnavailableError } from './errors.ts';
import { WasmTrainerEngine } from './wasm-engine.ts';
import { WebGpuTrainerEngine } from './webgpu-engine.ts';
import { errorMessage } from '../core/errors.ts';

export type AnyEngine = WasmTrainerEngine | WebGpuTrainerEngine;

/** How `createTrainerEngine` builds an engine: the engine's own init options, and the choice of backend. */
export interface EngineCreateOptions extends InitOptions {
  readonly capturePlacement?: boolean;
  /** Inner steps of the calibration that decides 'auto' (default 2). */
  readonly calibrationSteps?: number;
}

async function tryDevice(): Promise<{ device?: GPUDevice; reason?: string }> {
  try {
    return { device: await acquireGpuDevice('trainer') };
  } catch (error) {
    return { reason: errorMessage(error) };
  }
}

/**
 * Creates and initialises the engine for `options.backend` ('auto' by default). On 'auto' both
 * engines are initialised, each runs `calibrationSteps` fwd+bwd passes, and the slower one is disposed.
 */
export async function createTrainerEngine(
  ort: Ort,
  config: RunConfig,
  params: Float32Array | undefined,
  options: EngineCreateOptions = {},
): Promise<{ engine: AnyEngine; info: TrainerInfo }> {
  const wanted = options.backend ?? 'auto';
  const init = options.optimizerState === undefined ? {} : { optimizerState: options.optimizerState };
  if (wanted === 'wasm') {
    const engine = new WasmTrainerEngine(ort);
    const info = await engine.init(config, params, init);
    return { engine, info: { ...info, reason: 'the wasm EP was requested' } };
  }
  const { device, reason } = await tryDevice();
  if (!device) {
    if (wanted === 'webgpu') throw new WebGPUUnavailableError(reason ?? 'no device');
    const engine = new WasmTrainerEngine(ort);
    const info = await engine.init(config, params, init);
    return { engine, info: { ...info, reason: `WebGPU is unavailable (${reason ?? 'no device'}), so training runs on the CPU (wasm EP)` } };
  }
  const gpu = new WebGpuTrainerEngine(ort, device, true);
  const gpuInfo = await gpu.init(config, params, { ...init, capturePlacement: options.capturePlacement ?? false });
  if (wanted === 'webgpu') return { engine: gpu, info: { ...gpuInfo, reason: 'WebGPU was requested' } };

  const steps = options.calibrationSteps ?? 2;
  const wasm = new WasmTrainerEngine(ort);
  const wasmInfo = await wasm.init(config, params, init);
  const calibration: Record<TrainerBackend, number> = { webgpu: await gpu.calibrate(steps), wasm: await wasm.calibrate(steps) };
  const figures = `WebGPU ${calibration.webgpu.toFixed(0)} tokens/s vs wasm ${calibration.wasm.toFixed(0)} tokens/s in a ${steps}-step calibration`;
  if (calibration.webgpu >= calibration.wasm) {
    await wasm.dispose();
    return { engine: gpu, info: { ...gpuInfo, reason: `WebGPU is faster here (${figures})`, calibration } };
  }
  await gpu.dispose();
  return { engine: wasm, info: { ...wasmInfo, reason: `the CPU (wasm EP) is faster here than this WebGPU adapter (${figures})`, calibration } };
}

/**
 * Several engines on one backend decision, as one process that runs a whole subnet needs them (the
 * Demo: every miner, the validator and a baseline). The first engine is chosen by
 * `createTrainerEngine`; each further one uses the same backend, and on WebGPU the first engine's
 * GPUDevice: one device, time-multiplexed, since the loops await each engine call before the next
 * peer's (issue #9). On wasm the engines share the CPU threads the same way.
 */
export class EngineFamily {
  private readonly members: AnyEngine[];
  private firstHandedOut = false;

  private constructor(
    private readonly ort: Ort,
    private readonly config: RunConfig,
    readonly first: { readonly engine: AnyEngine; readonly info: TrainerInfo },
  ) {
    this.members = [first.engine];
  }

  static async create(ort: Ort, config: RunConfig, options: EngineCreateOptions = {}): Promise<EngineFamily> {
    return new EngineFamily(ort, config, await createTrainerEngine(ort, config, undefined, options));
  }

  /** The GPUDevice every member shares, or null on wasm. */
  get sharedDevice(): GPUDevice | null {
    return this.first.engine instanceof WebGpuTrainerEngine ? this.first.engine.device : null;
  }

  get size(): number {
    return this.members.length;
  }

  /** The first engine on the first call, then a new one on the run's initial θ. */
  async next(): Promise<AnyEngine> {
    if (!this.firstHandedOut) {
      this.firstHandedOut = true;
      return this.first.engine;
    }
    return this.another(this.config);
  }

  /**
   * A new member on the same backend (and device) under another config of the same model, e.g. a
   * larger batch (the Demo's data-parallel baseline), from `params` and `options` when given.
   */
  async another(config: RunConfig, params?: Float32Array, options?: InitOptions): Promise<AnyEngine> {
    const device = this.sharedDevice;
    // Not the device's owner: only the first engine destroys the device, last, in dispose.
    const engine = device === null ? new WasmTrainerEngine(this.ort) : new WebGpuTrainerEngine(this.ort, device, false);
    try {
      await engine.init(config, params, options);
    } catch (error) {
      await engine.dispose();
      throw error;
    }
    this.members.push(engine);
    return engine;
  }

  /** Disposes one member before the others (one that `another` replaced); never the first, which owns the device. */
  async retire(engine: AnyEngine): Promise<void> {
    const at = this.members.indexOf(engine);
    if (at <= 0) return;
    this.members.splice(at, 1);
    await engine.dispose();
  }

  /** Disposes every member, newest first: the first engine owns the shared GPUDevice (if any) and destroys it. */
  async dispose(): Promise<void> {
    for (const engine of this.members.splice(0).reverse()) await engine.dispose();
  }
}
