/**
 * The engines a Node command trains and scores on (issue #20): the wasm EP, as before, or the tab's
 * `WebGpuTrainerEngine` on Dawn (src/cli/dawn.ts) with `--backend webgpu`. The WebGPU modules are
 * loaded only when asked for: they need Dawn, and their kernels' `?raw` imports need the hook the
 * npm scripts pass to tsx (scripts/raw-imports.mjs).
 */
import * as wasmOrt from 'onnxruntime-web';
import type { RunConfig } from '../core/config.ts';
import { GauntletError } from '../core/errors.ts';
import { WasmTrainerEngine } from '../gpu/wasm-engine.ts';
import type { InitOptions, TrainerEngine, TrainerInfo } from '../model/engine.ts';
import type { EngineProvider } from '../peer/miner-loop.ts';
import { installDawnGpu, relaunchWithDawnEnvironment } from './dawn.ts';

export const NODE_BACKENDS = ['wasm', 'webgpu'] as const;
export type NodeBackend = (typeof NODE_BACKENDS)[number];

/** A `--backend` value that is neither. */
export class BackendFlagError extends GauntletError {
  readonly code: string = 'backend-flag';
  override readonly name = 'BackendFlagError';
}

export function parseBackend(value: string | undefined): NodeBackend {
  const backend = value ?? 'wasm';
  if (!(NODE_BACKENDS as readonly string[]).includes(backend)) throw new BackendFlagError(`--backend must be ${NODE_BACKENDS.join(' or ')}, got '${backend}'.`);
  return backend as NodeBackend;
}

/** Builds engines on one backend; `describe` says which adapter (Dawn's) or the wasm EP. */
export interface NodeEngines {
  readonly backend: NodeBackend;
  readonly describe: string;
  create(config: RunConfig, params?: Float32Array, options?: InitOptions): Promise<{ engine: TrainerEngine; info: TrainerInfo }>;
  /** The same, as a miner loop's provider (a new device per engine on WebGPU, as after a lost device). */
  readonly provider: EngineProvider;
}

type CreateEngine = NodeEngines['create'];

/** A miner loop's provider over `create` (the loop passes the optimiser state to resume from, if any). */
function providerOf(create: CreateEngine): EngineProvider {
  return { create: (config, params, { optimizerState }) => create(config, params, optimizerState === undefined ? {} : { optimizerState }) };
}

/** Engines on the wasm EP (one thread each: the loops take turns), as every Node command used before `--backend`. */
export function wasmEngines(who: string): NodeEngines {
  wasmOrt.env.wasm.numThreads = 1;
  const create: CreateEngine = async (config, params, options = {}) => {
    const engine = new WasmTrainerEngine(wasmOrt);
    return { engine, info: { ...(await engine.init(config, params, options)), reason: `${who} on the wasm EP` } };
  };
  return { backend: 'wasm', describe: 'the wasm EP', create, provider: providerOf(create) };
}

/**
 * Engines on `backend`. For webgpu this first restarts the command with what Dawn needs from the
 * environment (once; `relaunchWithDawnEnvironment`), then finds Dawn's adapter or throws
 * `DawnUnavailableError` with what to install or set.
 */
export async function nodeEngines(backend: NodeBackend, who: string): Promise<NodeEngines> {
  if (backend === 'wasm') return wasmEngines(who);
  relaunchWithDawnEnvironment();
  const { adapter } = await installDawnGpu();
  const gpuOrt = await import('onnxruntime-web/webgpu');
  gpuOrt.env.wasm.numThreads = 1;
  const { WebGpuTrainerEngine } = await import('../gpu/webgpu-engine.ts');
  const { acquireGpuDevice } = await import('../gpu/device.ts');
  const create: CreateEngine = async (config, params, options = {}) => {
    const engine = new WebGpuTrainerEngine(gpuOrt, await acquireGpuDevice('trainer'), true);
    try {
      return { engine, info: { ...(await engine.init(config, params, options)), reason: `${who} on WebGPU through Dawn (${adapter})` } };
    } catch (error) {
      await engine.dispose();
      throw error;
    }
  };
  return { backend, describe: `WebGPU through Dawn (${adapter})`, create, provider: providerOf(create) };
}
