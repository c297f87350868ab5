/**
 * Test-side driver of a whole subnet in one process: an in-memory network with a manual clock,
 * one validator and a set of miners, each on its own wasm `TrainerEngine`, running the real miner
 * and validator loops window by window. The driver only decides *when* things happen (blocks, the
 * put window, who uploads when); every number comes from the loops themselves.
 */
import * as ort from 'onnxruntime-web';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import { firstBlockOfWindow, putWindowAnchorBlock, putWindowBounds } from '../../src/core/clock.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import { parameterLayout } from '../../src/model/params.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { MemoryNetwork } from '../../src/net/memory-network.ts';
import type { Hyperparams, Storage, TimeGate } from '../../src/net/types.ts';
import type { Behaviour } from '../../src/peer/behaviours.ts';
import type { WindowEvent } from '../../src/peer/events.ts';
import { Miner } from '../../src/peer/miner.ts';
import { MemoryPersistence, Validator, type ValidatorWindowReport } from '../../src/peer/validator.ts';

export const VALIDATOR_UID = 0;
export const OWNER_UID = 1; // the burn uid of the tiny preset
export const FIRST_MINER_UID = 2;

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

export interface SimulatedPeer {
  readonly uid: number;
  readonly behaviour: Behaviour;
  readonly miner: Miner;
  /** The miner's engine: θ after its outer steps (benchmarks measure loss on it). */
  readonly engine: WasmTrainerEngine;
}

export class Simulation {
  nowMs = Date.UTC(2026, 0, 1);
  readonly network: MemoryNetwork;
  readonly events: WindowEvent[] = [];
  /** `performance.now()` when each entry of `events` arrived (benchmarks time stages from the stream). */
  readonly eventTimesMs: number[] = [];
  readonly reports: ValidatorWindowReport[] = [];
  readonly peers: SimulatedPeer[] = [];
  validator!: Validator;
  validatorEngine!: WasmTrainerEngine;
  /** Holds every key of the simulation; the validator signs its publications with its own. */
  signer!: KeyringSigner;
  readonly persistence = new MemoryPersistence();
  private readonly engines: WasmTrainerEngine[] = [];
  /** The uids the miners gather (the miners created with the simulation). */
  private minerUids: readonly number[] = [];

  constructor(readonly config: RunConfig, readonly tokens: Uint8Array, hyperparams: Partial<Hyperparams> = {}) {
    this.network = new MemoryNetwork({
      netuid: config.netuid,
      clock: () => this.nowMs,
      hyperparams: {
        tempo: 360,
        commitRevealEnabled: false,
        revealPeriodEpochs: 1,
        weightsRateLimit: 0,
        weightsVersionKey: 0n,
        minAllowedWeights: 1,
        blockTimeMs: config.window.blockTimeMs,
        ...hyperparams,
      },
    });
  }

  /**
   * `storageOf` wraps a miner's storage (e.g. a storage that fails on purpose); the default is the
   * network's own. `hyperparams` overrides the chain's (commit-reveal, tempo, its block time).
   */
  static async create(config: RunConfig, behaviours: readonly Behaviour[], storageOf: (storage: Storage, uid: number) => Storage = (storage) => storage, hyperparams: Partial<Hyperparams> = {}): Promise<Simulation> {
    ort.env.wasm.numThreads = 1;
    const sim = new Simulation(config, loadAllTokens().tokens, hyperparams);
    const uris = ['//SimValidator', '//SimOwner', ...behaviours.map((_, i) => `//SimMiner${i}`)];
    const signer = await KeyringSigner.fromUris(uris);
    sim.signer = signer;
    const addresses = (await signer.accounts()).map((a) => a.address);
    const validatorHotkey = addresses[0]!;
    sim.network.register({ hotkey: validatorHotkey, stake: 1000, validatorPermit: true });
    sim.network.register({ hotkey: addresses[1]! });
    sim.minerUids = behaviours.map((_, i) => FIRST_MINER_UID + i);
    for (const [i, behaviour] of behaviours.entries()) {
      const hotkey = addresses[2 + i]!;
      const uid = sim.network.register({ hotkey });
      sim.peers.push(await sim.newMiner(signer, hotkey, uid, behaviour, storageOf(sim.network.storage(hotkey), uid)));
    }
    sim.validator = sim.newValidator(await sim.engine());
    return sim;
  }

  /**
   * A peer that joins now on the run's initial θ (a new hotkey, registered, not among `peers`):
   * the windows before now are its to replay or catch up.
   */
  async joiningPeer(uri: string, behaviour: Behaviour): Promise<SimulatedPeer> {
    const signer = await KeyringSigner.fromUris([uri]);
    const hotkey = (await signer.accounts())[0]!.address;
    const uid = this.network.register({ hotkey });
    return this.newMiner(signer, hotkey, uid, behaviour, this.network.storage(hotkey));
  }

  private async newMiner(signer: KeyringSigner, hotkey: string, uid: number, behaviour: Behaviour, storage: Storage): Promise<SimulatedPeer> {
    const engine = await this.engine();
    const miner = new Miner({
      config: this.config, layout: parameterLayout(this.config.model), engine, signer, hotkey, uid, behaviour,
      validatorHotkey: this.network.hotkeyOf(VALIDATOR_UID)!,
      storage,
      tokens: this.tokens,
      hotkeyOf: (u) => this.network.hotkeyOf(u),
      minerUids: () => this.minerUids,
      onEvent: (e) => this.record(e),
    });
    return { uid, behaviour, miner, engine };
  }

  /** A validator over the shared persistence; a restart passes a fresh engine (θ must then come back from storage). */
  newValidator(engine: WasmTrainerEngine = this.validatorEngine): Validator {
    const hotkey = this.network.hotkeyOf(VALIDATOR_UID)!;
    this.validatorEngine = engine;
    return new Validator({
      config: this.config,
      layout: parameterLayout(this.config.model),
      engine,
      storage: this.network.storage(hotkey),
      chain: this.network.chain(),
      signer: this.signer,
      hotkey,
      tokens: this.tokens,
      persistence: this.persistence,
      randomness: (window) => (Math.imul(window + 1, 0x9e3779b1) ^ 0x51a7) >>> 0,
      onEvent: (e) => this.record(e),
    });
  }

  record(event: WindowEvent): void {
    this.events.push(event);
    this.eventTimesMs.push(performance.now());
  }

  /** A wasm engine on the run's initial θ, disposed with the simulation. */
  async engine(): Promise<WasmTrainerEngine> {
    const engine = new WasmTrainerEngine(ort);
    await engine.init(this.config);
    this.engines.push(engine);
    return engine;
  }

  /** Produces blocks up to `block`, each one chain block time (`hyperparams.blockTimeMs`) after its parent at the earliest. */
  advanceToBlock(block: number): void {
    while (this.network.head < block) {
      this.nowMs = Math.max(this.nowMs, this.network.blockTimestamp(this.network.head) + this.network.hyperparams.blockTimeMs);
      this.network.produceBlock();
    }
  }

  /**
   * The virtual clock a loop under test sleeps on: `ms` pass, and every block whose time comes in
   * them is produced at exactly its parent's timestamp plus the chain's block time.
   */
  readonly sleep = (ms: number): Promise<void> => {
    const target = this.nowMs + ms;
    const blockTimeMs = this.network.hyperparams.blockTimeMs;
    while (this.network.blockTimestamp(this.network.head) + blockTimeMs <= target) {
      this.nowMs = this.network.blockTimestamp(this.network.head) + blockTimeMs;
      this.network.produceBlock();
    }
    this.nowMs = target;
    return Promise.resolve();
  };

  /** Window `w`'s put-window bounds (the anchor block must exist). */
  gateOf(window: number): TimeGate {
    return putWindowBounds(this.network.blockTimestamp(putWindowAnchorBlock(window, this.config.window.blocksPerWindow)), this.config.window.putWindowMs);
  }

  /**
   * One window: train, upload in the put window (each peer at its behaviour's delay), validate, outer
   * steps. Only `participants` take part (the others are stopped, asleep or offline for this window).
   */
  async runWindow(window: number, validate = true, participants: readonly SimulatedPeer[] = this.peers): Promise<void> {
    const { blocksPerWindow, putWindowMs } = this.config.window;
    this.advanceToBlock(firstBlockOfWindow(window, blocksPerWindow));
    for (const peer of participants) await peer.miner.prepare(window);
    this.advanceToBlock(putWindowAnchorBlock(window, blocksPerWindow));
    const gate = this.gateOf(window);
    const opened = gate.timeMinMs;
    const order = [...participants].sort((a, b) => a.behaviour.uploadDelayMs(putWindowMs) - b.behaviour.uploadDelayMs(putWindowMs) || a.uid - b.uid);
    for (const peer of order) {
      this.nowMs = Math.max(this.nowMs, opened + peer.behaviour.uploadDelayMs(putWindowMs));
      await peer.miner.upload(window, gate);
    }
    this.nowMs = Math.max(this.nowMs, gate.timeMaxMs + 1);
    if (validate) this.reports.push(await this.validator.runWindow(window));
    for (const peer of participants) await peer.miner.finishWindow(window, gate);
  }

  async dispose(): Promise<void> {
    for (const engine of this.engines) await engine.dispose();
  }
}
