/**
 * A whole subnet in one process (issue #16: the one simulated network): an in-memory network with a
 * manual clock (src/net/memory-network.ts), one validator and a set of miners, each on its own
 * trainer engine, running the real miner and validator loops window by window. The Demo's worker
 * (src/workers/demo.worker.ts) and the tests' simulation (test/unit/sim-harness.ts) both drive it;
 * it only decides *when* things happen (blocks, the put window, who uploads when), and every number
 * comes from the loops themselves.
 *
 * uid 0 is the validator (stake and a permit; the miners follow its peer lists), uid 1 the subnet owner (the
 * tiny preset's burn uid), the miners follow from uid 2 in the order given.
 */
import { firstBlockOfWindow, isNullRoundOf, putWindowAnchorBlock, putWindowBounds } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import type { TrainerEngine } from '../model/engine.ts';
import { parameterLayout } from '../model/params.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import { MemoryNetwork } from '../net/memory-network.ts';
import type { Hyperparams, Storage, TimeGate } from '../net/types.ts';
import type { Behaviour } from './behaviours.ts';
import type { WindowEvent } from './events.ts';
import { Miner } from './miner.ts';
import { MemoryPersistence, Validator, type ValidatorWindowReport } from './validator.ts';

export const VALIDATOR_UID = 0;
export const OWNER_UID = 1;
export const FIRST_MINER_UID = 2;

export interface SimulatedPeer {
  readonly uid: number;
  readonly behaviour: Behaviour;
  readonly miner: Miner;
  /** The miner's engine: θ after its outer steps (benchmarks measure loss on it). */
  readonly engine: TrainerEngine;
}

export interface SimulatedSubnetOptions {
  readonly config: RunConfig;
  /** The run's token stream. */
  readonly tokens: Uint8Array;
  /** One behaviour per miner. */
  readonly behaviours: readonly Behaviour[];
  /**
   * Makes each peer's engine, initialised on the run's θ; the subnet disposes none of them (the
   * caller owns them). A subclass may override `newEngine` instead.
   */
  readonly engine?: () => Promise<TrainerEngine>;
  /** The validator's per-window randomness (evaluation choice, control set): fixed, so runs are reproducible. */
  readonly randomness?: (window: number) => number;
  /** Wraps a miner's storage (e.g. one that fails on purpose). */
  readonly storageOf?: (storage: Storage, uid: number) => Storage;
  /** The chain's hyperparameters beyond the run's defaults (commit-reveal, tempo, its block time). */
  readonly hyperparams?: Partial<Hyperparams>;
  /** Distinguishes the keys of two subnets in one process (`//{prefix}Miner0`, …). */
  readonly keyPrefix?: string;
  readonly onEvent?: (event: WindowEvent) => void;
}

/** The simulation's per-window randomness by default: a fixed hash of the window. */
export function fixedRandomness(window: number): number {
  return (Math.imul(window + 1, 0x9e3779b1) ^ 0x51a7) >>> 0;
}

export class SimulatedSubnet {
  nowMs = Date.UTC(2026, 0, 1);
  readonly network: MemoryNetwork;
  readonly events: WindowEvent[] = [];
  /** `performance.now()` when each entry of `events` arrived (benchmarks time stages from the stream). */
  readonly eventTimesMs: number[] = [];
  readonly reports: ValidatorWindowReport[] = [];
  readonly peers: SimulatedPeer[] = [];
  validator!: Validator;
  validatorEngine!: TrainerEngine;
  /** Holds every key of the subnet; the validator signs its publications with its own. */
  signer!: KeyringSigner;
  readonly persistence = new MemoryPersistence();
  /** The uids the miners gather (the miners created with the subnet). */
  private minerUids: readonly number[] = [];

  protected constructor(private readonly setup: SimulatedSubnetOptions) {
    this.network = new MemoryNetwork({
      netuid: setup.config.netuid,
      clock: () => this.nowMs,
      hyperparams: {
        tempo: 360,
        commitRevealEnabled: false,
        revealPeriodEpochs: 1,
        weightsRateLimit: 0,
        weightsVersionKey: 0n,
        minAllowedWeights: 1,
        blockTimeMs: setup.config.window.blockTimeMs,
        ...setup.hyperparams,
      },
    });
  }

  /** A subnet whose peers' engines come from `options.engine`, populated and ready to run. */
  static async build(options: SimulatedSubnetOptions): Promise<SimulatedSubnet> {
    const subnet = new SimulatedSubnet(options);
    await subnet.populate();
    return subnet;
  }

  get config(): RunConfig {
    return this.setup.config;
  }

  get tokens(): Uint8Array {
    return this.setup.tokens;
  }

  /** A fresh engine on the run's initial θ for a peer (`options.engine` unless a subclass makes its own). */
  protected newEngine(): Promise<TrainerEngine> {
    if (this.setup.engine === undefined) throw new Error('SimulatedSubnet needs options.engine (or a subclass that overrides newEngine).');
    return this.setup.engine();
  }

  /** Registers the validator, the owner and the miners, and builds every loop on a fresh engine. */
  protected async populate(): Promise<void> {
    const prefix = this.setup.keyPrefix ?? 'Sim';
    const uris = [`//${prefix}Validator`, `//${prefix}Owner`, ...this.setup.behaviours.map((_, i) => `//${prefix}Miner${i}`)];
    this.signer = await KeyringSigner.fromUris(uris);
    const addresses = (await this.signer.accounts()).map((a) => a.address);
    const validatorHotkey = addresses[0]!;
    this.network.register({ hotkey: validatorHotkey, stake: 1000 });
    this.network.register({ hotkey: addresses[1]! });
    this.minerUids = this.setup.behaviours.map((_, i) => FIRST_MINER_UID + i);
    for (const [i, behaviour] of this.setup.behaviours.entries()) {
      const hotkey = addresses[2 + i]!;
      const uid = this.network.register({ hotkey });
      const storage = this.network.storage(hotkey);
      this.peers.push(this.newMiner(this.signer, hotkey, uid, behaviour, this.setup.storageOf?.(storage, uid) ?? storage, await this.newEngine()));
    }
    this.validator = this.newValidator(await this.newEngine());
  }

  /**
   * A peer that joins now on the run's initial θ (a new hotkey, registered, not among `peers`):
   * the windows before now are its to replay or catch up.
   */
  async joiningPeer(uri: string, behaviour: Behaviour): Promise<SimulatedPeer> {
    const signer = await KeyringSigner.fromUris([uri]);
    const hotkey = (await signer.accounts())[0]!.address;
    const uid = this.network.register({ hotkey });
    return this.newMiner(signer, hotkey, uid, behaviour, this.network.storage(hotkey), await this.newEngine());
  }

  /**
   * Gives miner `uid` another behaviour from the next window on, keeping its engine (θ), its storage
   * and its error-feedback buffer, which moves to where the new behaviour keeps it.
   */
  async setBehaviour(uid: number, behaviour: Behaviour): Promise<void> {
    const index = this.peers.findIndex((p) => p.uid === uid);
    const peer = this.peers[index];
    if (peer === undefined) throw new Error(`uid ${uid} is not a miner of this subnet.`);
    const hotkey = this.network.hotkeyOf(uid)!;
    const errorFeedback = await peer.miner.exportErrorFeedback();
    const next = this.newMiner(this.signer, hotkey, uid, behaviour, this.setup.storageOf?.(this.network.storage(hotkey), uid) ?? this.network.storage(hotkey), peer.engine);
    await next.miner.restoreErrorFeedback(errorFeedback);
    this.peers[index] = next;
  }

  private newMiner(signer: KeyringSigner, hotkey: string, uid: number, behaviour: Behaviour, storage: Storage, engine: TrainerEngine): SimulatedPeer {
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
  newValidator(engine: TrainerEngine = this.validatorEngine): Validator {
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
      randomness: this.setup.randomness ?? fixedRandomness,
      onEvent: (e) => this.record(e),
    });
  }

  record(event: WindowEvent): void {
    this.events.push(event);
    this.eventTimesMs.push(performance.now());
    this.setup.onEvent?.(event);
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
   * One window: train, upload in the put window (each peer at its behaviour's delay), validate,
   * outer steps. Only `participants` take part (the others are stopped, asleep or offline for this
   * window). `beforeUpload` runs between training and the put window (the Demo's baseline trains there).
   */
  async runWindow(window: number, validate = true, participants: readonly SimulatedPeer[] = this.peers, beforeUpload?: () => Promise<void>): Promise<ValidatorWindowReport | null> {
    const { blocksPerWindow, putWindowMs } = this.config.window;
    this.advanceToBlock(firstBlockOfWindow(window, blocksPerWindow));
    if (isNullRoundOf(window, this.config.window)) {
      // A null round (Templar's `null_round`): nobody trains, sends, gathers, scores or steps.
      for (const peer of participants) await peer.miner.nullRound(window);
      if (validate) await this.validator.nullRoundWindow(window);
      this.advanceToBlock(firstBlockOfWindow(window + 1, blocksPerWindow));
      return null;
    }
    for (const peer of participants) await peer.miner.prepare(window);
    await beforeUpload?.();
    this.advanceToBlock(putWindowAnchorBlock(window, blocksPerWindow));
    const gate = this.gateOf(window);
    const opened = gate.timeMinMs;
    const order = [...participants].sort((a, b) => a.behaviour.uploadDelayMs(putWindowMs) - b.behaviour.uploadDelayMs(putWindowMs) || a.uid - b.uid);
    for (const peer of order) {
      this.nowMs = Math.max(this.nowMs, opened + peer.behaviour.uploadDelayMs(putWindowMs));
      await peer.miner.upload(window, gate);
    }
    this.nowMs = Math.max(this.nowMs, gate.timeMaxMs + 1);
    let report: ValidatorWindowReport | null = null;
    if (validate) {
      report = await this.validator.runWindow(window);
      this.reports.push(report);
    }
    for (const peer of participants) await peer.miner.finishWindow(window, gate);
    return report;
  }
}
