/**
 * The engine a tab builds for its miner, kept across Stop and Start (issue #16): building one takes
 * seconds, and on 'auto' both backends are built and calibrated (14–27 s on a 2-core machine), so a
 * second Start on the same run config and backend re-initialises the kept engine instead. After a
 * lost device a new one is built: a new device, else the wasm EP with the reason.
 */
import type * as OrtModule from 'onnxruntime-web/webgpu';
import type { RunConfig } from '../core/config.ts';
import { WebGPUUnavailableError } from '../gpu/errors.ts';
import { createTrainerEngine } from '../gpu/select-engine.ts';
import type { InnerOptimizerState, TrainerBackend, TrainerEngine, TrainerInfo } from '../model/engine.ts';
import type { EngineProvider } from '../peer/miner-loop.ts';
import { errorMessage } from '../core/errors.ts';

type Backend = TrainerBackend | 'auto';

/** The kept engine and what it was built for: the run config and backend choice (`key`), and why that backend. */
interface Kept {
  readonly key: string;
  readonly engine: TrainerEngine;
  readonly info: TrainerInfo;
}

/**
 * `engine` as lent to one loop: every call passes through except `dispose`, since the tab owns the
 * engine and keeps it for the next Start (a new engine replaces it when the config or backend
 * changes or the device is lost; `release` frees it when the page goes away).
 */
function lentEngine(engine: TrainerEngine): TrainerEngine {
  return new Proxy(engine, {
    get(target, property): unknown {
      if (property === 'dispose') return () => Promise.resolve();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export class KeptEngines {
  private kept: Kept | null = null;

  constructor(private readonly ort: typeof OrtModule) {}

  /** Frees the kept engine (the page is going away, or it is replaced). */
  async release(): Promise<void> {
    const previous = this.kept;
    this.kept = null;
    await previous?.engine.dispose().catch(() => undefined);
  }

  /**
   * Engines for `backend`: the kept engine when it was built for this run config and backend, its
   * state re-initialised through `TrainerEngine.init` to the synced θ and optimiser state (no new
   * calibration); else (the first Start, another config or backend, a lost device, or a kept engine
   * that cannot be re-initialised) a new one, kept in its place.
   */
  provider(backend: Backend): EngineProvider {
    return {
      create: async (config, params, { optimizerState, afterLoss }) => {
        const key = JSON.stringify({ backend, config });
        let notReused = '';
        const reusable = this.kept;
        if (!afterLoss && reusable?.key === key) {
          try {
            // A device lost while the loop was stopped: the engine cannot train again, so a new one is built.
            const lost = await reusable.engine.lossReason(undefined);
            if (lost !== undefined) throw new Error(`its GPU device was lost (${lost})`);
            const info = await reusable.engine.init(config, params, { optimizerState });
            const reason = `the engine built earlier in this tab is reused, re-initialised to the synced θ and optimiser state without a new calibration (it was chosen because ${reusable.info.reason})`;
            return { engine: lentEngine(reusable.engine), info: { ...reusable.info, parameterCount: info.parameterCount, trainingGraphNodes: info.trainingGraphNodes, reason } };
          } catch (error) {
            notReused = ` (the engine kept from the last Start could not be re-initialised: ${errorMessage(error)})`;
          }
        }
        await this.release();
        const built = await this.build(config, params, backend, optimizerState, afterLoss);
        this.kept = { key, engine: built.engine, info: built.info };
        return { engine: lentEngine(built.engine), info: { ...built.info, reason: built.info.reason + notReused } };
      },
    };
  }

  /** A new engine for `backend`; after a lost device, a new device, else the wasm EP with the reason. */
  private async build(config: RunConfig, params: Float32Array | undefined, backend: Backend, optimizerState: InnerOptimizerState, afterLoss: boolean): Promise<{ engine: TrainerEngine; info: TrainerInfo }> {
    try {
      return await createTrainerEngine(this.ort, config, params, { backend, optimizerState });
    } catch (error) {
      if (!afterLoss || !(error instanceof WebGPUUnavailableError)) throw error;
      const onWasm = await createTrainerEngine(this.ort, config, params, { backend: 'wasm', optimizerState });
      return { ...onWasm, info: { ...onWasm.info, reason: `no GPU device could be created after the loss (${error.reason}), so training runs on the CPU (wasm EP)` } };
    }
  }
}
