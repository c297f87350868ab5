/**
 * The tests' whole subnet in one process: the shared `SimulatedSubnet` (src/peer/simulated-subnet.ts,
 * which the Demo's worker drives too) on wasm engines in Node, with the run's tokens from the data
 * shards. It adds only what Node tests need: the engines, their disposal, and the simulation's run
 * config.
 */
import * as ort from 'onnxruntime-web';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import type { Hyperparams, Storage } from '../../src/net/types.ts';
import type { Behaviour } from '../../src/peer/behaviours.ts';

import { SimulatedSubnet } from '../../src/peer/simulated-subnet.ts';

export { FIRST_MINER_UID, OWNER_UID, VALIDATOR_UID, type SimulatedPeer } from '../../src/peer/simulated-subnet.ts';

/**
 * The tiny preset with the simulation's documented overrides (none touches a scoring formula):
 * - `data.poolSequences` = H·batch (16): the whole assigned pool is trained, as Templar's miner
 *   trains its window's samples, so the own-data check samples trained sequences;
 * - `gatherPeers` 6, `reservePeers` 2: room for all six honest peers in the paid ranks;
 * - `uidsPerWindow` 5: each of 13 peers is evaluated ≈ 11 times in 30 windows;
 * - `evalSequences` 8 (two batches): less noise per evaluation;
 * - `overlapGraceSteps` 5: copy detection starts within a 30-window run (v2.1.3 waits 20 steps).
 */
export function simulationConfig(): RunConfig {
  const base = tinyRunConfig();
  return {
    ...base,
    runId: 'tiny-simulation',
    data: { ...base.data, poolSequences: base.inner.innerSteps * base.inner.batchSize },
    scoring: { ...base.scoring, gatherPeers: 6, reservePeers: 2, uidsPerWindow: 5, evalSequences: 16, overlapGraceSteps: 5 },
  };
}

export class Simulation extends SimulatedSubnet {
  private readonly engines: WasmTrainerEngine[] = [];

  private constructor(config: RunConfig, tokens: Uint8Array, behaviours: readonly Behaviour[], storageOf: ((storage: Storage, uid: number) => Storage) | undefined, hyperparams: Partial<Hyperparams>) {
    super({ config, tokens, behaviours, hyperparams, ...(storageOf === undefined ? {} : { storageOf }) });
  }

  protected override newEngine(): Promise<WasmTrainerEngine> {
    return this.engine();
  }

  /**
   * `storageOf` wraps a miner's storage (e.g. a storage that fails on purpose); the default is the
   * network's own. `hyperparams` overrides the chain's (commit-reveal, tempo, its block time).
   */
  static async create(config: RunConfig, behaviours: readonly Behaviour[], storageOf?: (storage: Storage, uid: number) => Storage, hyperparams: Partial<Hyperparams> = {}): Promise<Simulation> {
    ort.env.wasm.numThreads = 1;
    const sim = new Simulation(config, loadAllTokens().tokens, behaviours, storageOf, hyperparams);
    await sim.populate();
    return sim;
  }

  /** A wasm engine on the run's initial θ, disposed with the simulation. */
  async engine(): Promise<WasmTrainerEngine> {
    const engine = new WasmTrainerEngine(ort);
    await engine.init(this.config);
    this.engines.push(engine);
    return engine;
  }

  async dispose(): Promise<void> {
    for (const engine of this.engines) await engine.dispose();
  }
}
