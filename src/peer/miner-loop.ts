/**
 * The miner's window loop, clock-driven by the chain's blocks (gauntlet-spec §3, Templar v2.1.3
 * `neurons/miner.py::Miner.run`): the one loop the browser tab (src/workers/peer.worker.ts), the Node
 * miners (src/cli/devnet-miners.ts) and the tests drive, the twin of the validator's
 * `runValidatorSchedule`. Everything it waits on comes through its seams: the chain and storage,
 * the engine provider, the snapshot store, and a clock it only sleeps on, so it runs on a virtual
 * clock in tests.
 *
 *  sync: the peer's snapshot if there is one (θ, e and the inner AdamW state), else the validator's
 *  newest checkpoint that opens as its signed publication, else the run's initial θ (`initSeed`),
 *  the last two with the inner scheduler at outer steps × H; then the validator's aggregates are
 *  replayed (`tplr.neurons.catchup_with_aggregation_server`);
 *  per window w (while the chain is in w): assignment → H inner steps with progress → compress with
 *  error feedback → wait for the first block of w+1 (its timestamp opens the put window, §3.2) →
 *  sign → upload with retry while the put window is open → wait until it closes → gather → outer
 *  step → debug slice → persist (θ, e, AdamW state, w) → the chain's weights and the lead
 *  validator's published scores, for the dashboard.
 *
 * The loop tracks the last window θ includes: any gap (throttled, slow, stopped) is caught up
 * (`Miner.catchUp`) before it contributes again. A lost device recreates the engine from the last
 * snapshot (the provider picks the device, or the CPU when none is left); an unreachable network
 * pauses the loop. The chain's block time (read once) paces every wait, whatever block time the run
 * config was written for, and a run that cannot fit the chain's windows is refused at start.
 */
import { bytesToHex } from '@noble/hashes/utils';
import { sha256 } from '@noble/hashes/sha256';
import { checkWindowTiming, firstBlockOfWindow, isNullRoundOf, putWindowAnchorBlock, putWindowBounds, windowOfBlock } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import type { InnerOptimizerState, TrainerEngine, TrainerInfo } from '../model/engine.ts';
import { parameterCount as parameterCountOf, parameterLayout } from '../model/params.ts';
import { NetError } from '../net/errors.ts';
import type { BlockHeader, Chain, Metagraph, Signer, Storage, TimeGate } from '../net/types.ts';
import type { Behaviour } from './behaviours.ts';
import type { PeerEvent } from './events.ts';
import { aggregatesToReplay, latestCheckpoint, replayAggregates, type AggregateReplay, type NetworkCheckpoint } from './gather.ts';
import { leadValidator } from './lead-validator.ts';
import { Miner, MinerStateError } from './miner.ts';
import type { PublicationContext } from './publications.ts';
import { WindowScoresFollower } from './published-scores.ts';
import { PersistenceError, SNAPSHOT_VERSION, type PeerPersistence, type PeerSnapshot } from './snapshots.ts';
import { UploadWindowClosedError, uploadWithRetry } from './upload-retry.ts';
import { errorMessage } from '../core/errors.ts';

/** What the loop sleeps on: real timers in a tab or a process, a virtual clock in tests. */
export interface LoopClock {
  sleep(ms: number): Promise<void>;
  /** This machine's time, used only while the chain cannot be reached (an upload retry still knows when to give up). */
  nowMs(): number;
}

export const REAL_CLOCK: LoopClock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  nowMs: () => Date.now(),
};

/**
 * Where the loop's engines come from. `afterLoss`: the previous engine's device was lost; a provider
 * with a GPU then tries a new device and falls back to the CPU when none can be had, saying why in
 * `info.reason`.
 */
export interface EngineProvider {
  create(config: RunConfig, params: Float32Array | undefined, options: { readonly optimizerState: InnerOptimizerState; readonly afterLoss: boolean }): Promise<{ engine: TrainerEngine; info: TrainerInfo }>;
}

export interface MinerLoopOptions {
  readonly config: RunConfig;
  readonly hotkey: string;
  readonly uid: number;
  /** `honest()` for every real miner; a cheating one only in adversarial tests (the swarm). */
  readonly behaviour: Behaviour;
  readonly chain: Chain;
  /** Writes into this miner's bucket; reads the others'. */
  readonly storage: Storage;
  /** Signs the miner's submissions (the page's wallet, or a keyring). */
  readonly signer: Signer;
  /** The run's token stream. */
  readonly tokens: Uint8Array;
  readonly persistence: PeerPersistence;
  readonly engines: EngineProvider;
  readonly clock?: LoopClock;
  readonly onEvent: (event: PeerEvent) => void;
  /** First retry pause of an upload; doubles per attempt while the put window is open (default 250 ms). */
  readonly uploadBackoffMs?: number;
}

/** Where θ started from, and what the loop must catch up first. */
interface Synced {
  readonly engine: TrainerEngine;
  readonly info: TrainerInfo;
  readonly snapshot: PeerSnapshot | undefined;
  readonly source: 'init' | 'checkpoint' | 'snapshot';
  readonly sourceText: string;
  readonly window: number | null;
  readonly replayed: readonly number[];
  /** The published aggregate the replay stopped at, when one did not fit the model. */
  readonly malformed: AggregateReplay['malformed'];
  /** The last window whose outer step θ includes, when the loop must catch up from there; null when θ is at the head. */
  readonly resumeAfter: number | null;
  /** The inner scheduler step the engine starts at. */
  readonly schedulerSteps: number;
}

/** sha256 (hex) of a float32 buffer's bytes: how the page and the tests compare error-feedback buffers. */
export function digestOf(values: Float32Array): string {
  return bytesToHex(sha256(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)));
}

/**
 * Whether a device that trains `tokensPerSecond` (forward + backward) finishes a window's H inner
 * steps of `batchSize × seqLen` tokens within a window of `blocksPerWindow` blocks of `blockTimeMs`,
 * with the numbers in words.
 */
export function windowPace(config: RunConfig, tokensPerSecond: number, blockTimeMs: number, backend: string): Extract<PeerEvent, { kind: 'peer-pace' }> {
  const { innerSteps, batchSize } = config.inner;
  const windowTrainMs = (1000 * innerSteps * batchSize * config.model.seqLen) / tokensPerSecond;
  const windowMs = config.window.blocksPerWindow * blockTimeMs;
  const fits = windowTrainMs <= windowMs;
  const pace = `This device trains about ${tokensPerSecond.toFixed(0)} tokens/s on ${backend}: a window's ${innerSteps} inner steps take about ${(windowTrainMs / 1000).toFixed(1)} s, and a window lasts ${(windowMs / 1000).toFixed(1)} s.`;
  return {
    kind: 'peer-pace', tokensPerSecond, windowTrainMs, windowMs, fits,
    message: fits ? pace : `${pace} It cannot finish a window in time, so its uploads would come after the put window and be refused: use a faster engine or device for this run.`,
  };
}

/**
 * The optimiser state of a peer that joins from the network rather than its own snapshot: fresh
 * moments, but the inner scheduler at `outerSteps × H` (Templar v2.1.3 restores weights only and
 * replays the inner scheduler `global_step × inner_steps` times, gauntlet-spec §3.5), so the joining
 * peer trains at the run's current learning rate instead of warming up from zero; Adam's own step
 * count starts at 0 with the fresh moments, so its first steps are bias-corrected as a new AdamW's are.
 */
function networkOptimizerState(config: RunConfig, parameterCount: number, outerSteps: number): InnerOptimizerState {
  return { schedulerSteps: outerSteps * config.inner.innerSteps, adamSteps: 0, expAvg: new Float32Array(parameterCount), expAvgSq: new Float32Array(parameterCount) };
}

/**
 * The same engine, with the inner-step progress forwarded. A Proxy, so every other method of the
 * engine (whatever the interface grows) passes through unchanged.
 */
function withProgress(engine: TrainerEngine, onStep: (step: number, of: number, loss: number) => void): TrainerEngine {
  const trainInner: TrainerEngine['trainInner'] = (batches, h) =>
    engine.trainInner(batches, h, (event) => {
      if (event.kind === 'inner-step') onStep(event.step, event.of, event.loss);
    });
  return new Proxy(engine, {
    get(target, property): unknown {
      if (property === 'trainInner') return trainInner;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export class MinerLoop {
  private readonly clock: LoopClock;
  private readonly parameterCount: number;
  private readonly context: PublicationContext;
  private readonly scores: WindowScoresFollower;
  private engineInUse!: TrainerEngine;
  private miner!: Miner;
  private metagraph!: Metagraph;
  /** The hotkeys the subnet owner names as the run's validators (`Chain.runValidators`), read with the metagraph. */
  private runValidators: readonly string[] = [];
  /** The chain's own block time (`Hyperparams.blockTimeMs`), read at start. */
  private blockTimeMs: number;
  /** The window whose inner steps run now (for progress events). */
  private trainingWindow = -1;
  /** True while the chain cannot be reached (reported once per outage). */
  private outage = false;
  private stopping = false;
  private running: Promise<void> | null = null;
  private resumeAfter: number | null = null;

  private constructor(private readonly options: MinerLoopOptions) {
    this.clock = options.clock ?? REAL_CLOCK;
    this.parameterCount = parameterCountOf(options.config.model);
    this.context = { config: options.config, layout: parameterLayout(options.config.model) };
    this.scores = new WindowScoresFollower(options.storage, { runId: options.config.runId, netuid: options.config.netuid });
    this.blockTimeMs = options.config.window.blockTimeMs;
  }

  /**
   * Checks the run against the chain's block time (a run that cannot fit is refused with
   * `WindowTimingError`), syncs θ and returns the loop, ready to `run`.
   */
  static async start(options: MinerLoopOptions): Promise<MinerLoop> {
    const loop = new MinerLoop(options);
    await loop.begin();
    return loop;
  }

  /** The engine in use (a new one after a lost device). */
  get engine(): TrainerEngine {
    return this.engineInUse;
  }

  /** sha256 (hex) of the error-feedback buffer as float32 bytes, for tests and the page. */
  async errorFeedbackDigest(): Promise<string> {
    return digestOf(await this.miner.exportErrorFeedback());
  }

  /** Runs windows until `stop`; resolves when the loop has ended (rejects on a failure that is not the network's). */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Ends the loop after the step in progress and releases the engine. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running?.catch(() => undefined);
    await this.engineInUse.dispose().catch(() => undefined);
  }

  private emit(event: PeerEvent): void {
    this.options.onEvent(event);
  }

  private async begin(): Promise<void> {
    const { chain, config } = this.options;
    const { blockTimeMs } = await chain.hyperparams(config.netuid);
    const warnings = checkWindowTiming(config.window, blockTimeMs);
    this.blockTimeMs = blockTimeMs;
    const { blocksPerWindow, putWindowMs } = config.window;
    this.emit({
      kind: 'peer-clock', blockTimeMs,
      message: [`The chain makes a block every ${blockTimeMs} ms: a window of ${blocksPerWindow} blocks lasts ${blocksPerWindow * blockTimeMs} ms, and its put window ${putWindowMs} ms.`, ...warnings].join(' '),
    });
    await this.refreshNetwork();
    const synced = await this.syncEngine(false);
    this.install(synced);
    this.emit({ kind: 'peer-engine', backend: synced.info.backend, reason: synced.info.reason, parameterCount: synced.info.parameterCount });
    await this.checkPace(synced);
    const { snapshot } = synced;
    if (snapshot !== undefined) {
      await this.miner.restoreErrorFeedback(snapshot.errorFeedback);
      this.emit({
        kind: 'peer-resumed', window: snapshot.window, errorFeedbackDigest: digestOf(snapshot.errorFeedback),
        message: `Resumed from the saved state after window ${snapshot.window} (θ, the error-feedback buffer and the optimiser state at inner step ${snapshot.optimizer.schedulerSteps}); later windows are caught up next.`,
      });
    }
    const stoppedAt = synced.malformed === undefined ? '' : ` The replay stopped at window ${synced.malformed.window} (${synced.malformed.message}); the loop gathers that window from the peers directly and catches up from there.`;
    this.emit({ kind: 'peer-synced', source: synced.source, window: synced.window, replayed: synced.replayed, message: `Synced from ${synced.sourceText}, then ${synced.replayed.length} aggregated update(s) replayed; the inner optimiser continues at step ${synced.schedulerSteps}.${stoppedAt}` });
    this.resumeAfter = synced.resumeAfter;
  }

  /**
   * Can this device finish a window's H inner steps within a window? Measured before the first window
   * (the engine's own calibration when it ran one, else two forward + backward passes), and said with
   * the numbers either way; a device that cannot is told so, and its late uploads will be refused.
   */
  private async checkPace(synced: Synced): Promise<void> {
    const tokensPerSecond = synced.info.calibration?.[synced.info.backend] ?? await synced.engine.calibrate(2);
    if (tokensPerSecond > 0) this.emit(windowPace(this.options.config, tokensPerSecond, this.blockTimeMs, synced.info.backend));
  }

  /** Uses `synced.engine` from now on, with a miner built on it. */
  private install(synced: Synced): void {
    this.engineInUse = synced.engine;
    this.miner = this.buildMiner(synced.engine);
  }

  private buildMiner(engine: TrainerEngine): Miner {
    const { config, hotkey, uid } = this.options;
    const hotkeyOf = (u: number): string | undefined => {
      const i = this.metagraph.uids.indexOf(u);
      return i < 0 ? undefined : this.metagraph.hotkeys[i];
    };
    const lead = (): string | undefined => leadValidator(this.metagraph, this.runValidators, config, hotkey);
    // Without a validator yet there is no peer list in anyone's bucket: reading our own finds none, so every miner (us included) is gathered.
    const validatorHotkey = (): string => lead() ?? hotkey;
    return new Miner({
      config,
      layout: this.context.layout,
      engine: withProgress(engine, (step, of, loss) => this.emit({ kind: 'peer-inner-step', window: this.trainingWindow, step, of, loss })),
      storage: this.options.storage,
      signer: this.options.signer,
      hotkey,
      uid,
      tokens: this.options.tokens,
      behaviour: this.options.behaviour,
      get validatorHotkey() {
        return validatorHotkey();
      },
      hotkeyOf,
      minerUids: () => this.metagraph.uids.filter((u) => u !== config.scoring.burnUid && hotkeyOf(u) !== lead()),
      onEvent: (event) => this.emit(event),
    });
  }

  /** The metagraph and the run's validators, read again (every window, and before a catch-up). */
  private async refreshNetwork(): Promise<void> {
    this.metagraph = await this.options.chain.metagraph(this.options.config.netuid);
    this.runValidators = await this.options.chain.runValidators(this.options.config.netuid, this.metagraph);
  }

  /**
   * θ to start from: the snapshot, else the validator's newest checkpoint that opens as its signed
   * publication within the run's bounds (issue #14: a forged or poisoned checkpoint is skipped for the
   * one before it), else undefined (the run's init).
   */
  private async startingPoint(validatorHotkey: string | undefined, snapshot: PeerSnapshot | undefined): Promise<{ params: Float32Array | undefined; source: Synced['source']; checkpoint: NetworkCheckpoint | undefined; window: number | null; globalStep: number }> {
    // From a snapshot the loop's catch-up (`Miner.catchUp`) brings θ from `snapshot.window + 1` to the head.
    if (snapshot !== undefined) return { params: snapshot.params, source: 'snapshot', checkpoint: undefined, window: snapshot.window, globalStep: 0 };
    const checkpoint = validatorHotkey === undefined ? undefined : await latestCheckpoint(this.options.storage, validatorHotkey, this.context);
    if (checkpoint !== undefined) return { params: checkpoint.params, source: 'checkpoint', checkpoint, window: null, globalStep: checkpoint.globalStep };
    return { params: undefined, source: 'init', checkpoint: undefined, window: null, globalStep: 0 };
  }

  /**
   * An engine on the best θ this peer can get (gauntlet-spec §3.5): the snapshot (θ, with its
   * optimiser state; e is restored on the miner), else the validator's latest checkpoint, else the
   * run's initial θ, then the validator's aggregates after a checkpoint or init replayed.
   */
  private async syncEngine(afterLoss: boolean): Promise<Synced> {
    const { config, hotkey, storage, persistence } = this.options;
    const snapshot = await persistence.load(config.runId, hotkey).catch((error: unknown) => {
      this.emit({ kind: 'peer-persist-failed', window: -1, message: errorMessage(error) });
      return undefined;
    });
    const validatorHotkey = leadValidator(this.metagraph, this.runValidators, config, hotkey);
    const start = await this.startingPoint(validatorHotkey, snapshot);
    // A snapshot replays nothing here (its later windows are caught up by the loop): no listing needed.
    const toReplay = validatorHotkey === undefined || start.source === 'snapshot' ? [] : await aggregatesToReplay(storage, validatorHotkey, start.checkpoint);
    // Each published aggregate is one outer step (the validator publishes one exactly when it steps).
    const optimizerState = snapshot?.optimizer ?? networkOptimizerState(config, this.parameterCount, start.globalStep + toReplay.length);
    const { engine, info } = await this.options.engines.create(config, start.params, { optimizerState, afterLoss });
    const { replayed, malformed } = validatorHotkey === undefined ? { replayed: [], malformed: undefined } : await replayAggregates(engine, storage, validatorHotkey, toReplay, this.context).catch(async (error: unknown) => {
      await engine.dispose().catch(() => undefined);
      throw error;
    });
    const sourceText = { init: `the run's initial parameters (seed ${config.initSeed})`, checkpoint: "the validator's latest checkpoint", snapshot: 'the saved state' }[start.source];
    // From a malformed aggregate on, the loop's catch-up takes over: it replays what it can and gathers the rest live.
    const resumeAfter = snapshot?.window ?? (malformed === undefined ? null : malformed.window - 1);
    return { engine, info, snapshot, source: start.source, sourceText, window: start.window, replayed, malformed, resumeAfter, schedulerSteps: optimizerState.schedulerSteps };
  }

  /**
   * The chain head, or undefined while the chain cannot be reached: a network outage pauses the loop
   * (it polls again) instead of ending it. The first failure of an outage is reported once.
   */
  private async headOrUndefined(): Promise<BlockHeader | undefined> {
    try {
      const head = await this.options.chain.currentBlock();
      if (this.outage) this.emit({ kind: 'peer-network', reachable: true, message: 'The network is reachable again; the loop goes on (missed windows are caught up).' });
      this.outage = false;
      return head;
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      if (!this.outage) this.emit({ kind: 'peer-network', reachable: false, message: `The network cannot be reached (${error.message}); retrying every ${this.blockTimeMs} ms.` });
      this.outage = true;
      await this.clock.sleep(this.blockTimeMs);
      return undefined;
    }
  }

  /** Polls the head until `done(head)`; resolves false when the loop is stopping. */
  private async waitForHead(done: (head: BlockHeader) => boolean): Promise<boolean> {
    for (;;) {
      if (this.stopping) return false;
      const head = await this.headOrUndefined();
      if (head !== undefined && done(head)) return true;
      await this.clock.sleep(this.blockTimeMs / 4);
    }
  }

  /**
   * The chain's clock: the head's timestamp (the put window is judged on it, §3.2). Only while the
   * chain cannot be reached does this machine's clock stand in, so an upload retry still knows when
   * to give up.
   */
  private async chainNowMs(): Promise<number> {
    try {
      return (await this.options.chain.currentBlock()).timestampMs;
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      return this.clock.nowMs();
    }
  }

  /** Signs and uploads, retrying transient failures with exponential backoff while the put window is open (§3.2). */
  private async uploadInPutWindow(window: number, gate: TimeGate): Promise<boolean> {
    try {
      await uploadWithRetry({
        attempt: () => this.miner.upload(window, gate),
        window,
        gate,
        nowMs: () => this.chainNowMs(),
        sleep: (ms) => this.clock.sleep(ms),
        baseDelayMs: this.options.uploadBackoffMs ?? 250,
        cancelled: () => this.stopping,
        onRetry: ({ attempt, delayMs, error }) =>
          this.emit({ kind: 'peer-upload-retry', window, attempt, message: `Upload of window ${window} failed (${error.message}); retrying in ${delayMs} ms inside the put window.` }),
      });
      return true;
    } catch (error) {
      // A copier (adversarial tests only) whose victim has not uploaded has nothing to send this window.
      if (error instanceof MinerStateError && this.options.behaviour.copyFrom !== undefined) {
        this.emit({ kind: 'peer-window-failed', window, message: `Adversary ${this.options.behaviour.name}: nothing to upload for window ${window} (${error.message}).` });
        return false;
      }
      if (!(error instanceof UploadWindowClosedError) && !(error instanceof NetError)) throw error;
      this.emit({ kind: 'peer-window-failed', window, message: error instanceof UploadWindowClosedError ? error.message : `Upload of window ${window} was refused (${error.message}); this window earns nothing.` });
      return false;
    }
  }

  /** Saves the snapshot of `window`: `params` is θ after its outer step (the caller's readback). */
  private async persist(window: number, params: Float32Array): Promise<void> {
    const { config, hotkey, persistence } = this.options;
    const errorFeedback = await this.miner.exportErrorFeedback();
    try {
      const optimizer = await this.engineInUse.exportOptimizerState();
      await persistence.save({ version: SNAPSHOT_VERSION, runId: config.runId, hotkey, window, params, errorFeedback, optimizer, savedAtMs: this.clock.nowMs() });
      this.emit({ kind: 'peer-persisted', window, errorFeedbackDigest: digestOf(errorFeedback), message: `Saved θ, the error-feedback buffer, the optimiser state (inner step ${optimizer.schedulerSteps}) and window ${window}; a restart resumes from here.` });
    } catch (error) {
      if (!(error instanceof PersistenceError)) throw error;
      this.emit({ kind: 'peer-persist-failed', window, message: error.message });
    }
  }

  private publishChainScores(window: number): void {
    const m = this.metagraph;
    this.emit({
      kind: 'peer-chain-scores',
      window,
      block: m.block,
      validatorHotkey: leadValidator(m, this.runValidators, this.options.config, this.options.hotkey) ?? '',
      rows: m.uids.map((uid, i) => ({ uid, hotkey: m.hotkeys[i]!, incentive: m.incentive[i] ?? 0, lastUpdate: m.lastUpdate[i] ?? 0 })),
    });
  }

  /** Forwards the lead validator's newly published window scores; a read failure is reported, not fatal. */
  private async forwardWindowScores(window: number): Promise<void> {
    const validatorHotkey = leadValidator(this.metagraph, this.runValidators, this.options.config, this.options.hotkey);
    if (validatorHotkey === undefined) return;
    try {
      for (const read of await this.scores.poll(validatorHotkey)) {
        this.emit(read.ok ? { kind: 'peer-window-scores', validatorHotkey, document: read.document } : { kind: 'peer-scores-unreadable', window: read.window, message: read.message });
      }
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      this.emit({ kind: 'peer-scores-unreadable', window, message: `Could not list the validator's window scores (${error.message}); trying again next window.` });
    }
  }

  /** One window, from training to persistence (see the module comment); true once θ includes its outer step. */
  private async runWindow(window: number): Promise<boolean> {
    const { config, chain, behaviour } = this.options;
    await this.refreshNetwork();
    this.trainingWindow = window;
    if (isNullRoundOf(window, config.window)) {
      // Nothing to train, send or gather: θ is still the run's initial θ when the window ends.
      await this.miner.nullRound(window);
      return this.waitForHead((head) => head.number >= firstBlockOfWindow(window + 1, config.window.blocksPerWindow));
    }
    await this.miner.prepare(window);
    if (!(await this.waitForHead((head) => head.number >= firstBlockOfWindow(window + 1, config.window.blocksPerWindow)))) return false;
    const gate = putWindowBounds(await chain.blockTimestamp(putWindowAnchorBlock(window, config.window.blocksPerWindow)), config.window.putWindowMs);
    // Only an adversarial behaviour (swarm testing) waits: a copier for its victim, a late uploader past time_max.
    const delay = behaviour.name === 'honest' ? 0 : behaviour.uploadDelayMs(config.window.putWindowMs);
    if (delay > 0 && !(await this.waitForHead((head) => head.timestampMs >= gate.timeMinMs + delay))) return false;
    this.emit({ kind: 'peer-stage-start', window, stage: 'upload' });
    const uploaded = await this.uploadInPutWindow(window, gate);
    // Everyone's uploads are readable once the put window has closed on the chain's clock.
    if (!(await this.waitForHead((head) => head.timestampMs > gate.timeMaxMs))) return false;
    this.emit({ kind: 'peer-stage-start', window, stage: 'gather' });
    // Without our upload the outer step still runs, so θ stays in sync with the network.
    if (!uploaded) this.emit({ kind: 'peer-window-failed', window, message: `Window ${window} was not submitted; gathering the others' updates to stay in sync.` });
    await this.persist(window, await this.miner.finishWindow(window, gate));
    await this.refreshNetwork();
    this.publishChainScores(window);
    await this.forwardWindowScores(window);
    return true;
  }

  /** Window `w`'s put-window bounds, once that window has closed on the chain's clock (for a live gather). */
  private async closedGate(window: number): Promise<TimeGate> {
    const { blocksPerWindow, putWindowMs } = this.options.config.window;
    const gate = putWindowBounds(await this.options.chain.blockTimestamp(putWindowAnchorBlock(window, blocksPerWindow)), putWindowMs);
    await this.waitForHead((head) => head.timestampMs > gate.timeMaxMs);
    return gate;
  }

  /** Brings θ through the windows `from … to` this peer did not finish, before it contributes again. */
  private async catchUp(from: number, to: number): Promise<void> {
    await this.refreshNetwork();
    this.emit({ kind: 'peer-catching-up', from, to, message: `Windows ${from}–${to} passed without this peer (stopped, asleep or recovering): catching up before contributing again.` });
    const done = await this.miner.catchUp(from, to, (w) => this.closedGate(w));
    const parts = [`replayed ${done.replayed.length} aggregated update(s) published by the validator`];
    if (done.gatheredLive.length > 0) parts.push(`gathered ${done.gatheredLive.length} not yet published window(s) from the peers directly`);
    if (done.skipped.length > 0) parts.push(`${done.skipped.length} window(s) had no outer step`);
    this.emit({
      kind: 'peer-missed', from, to, replayed: done.replayed,
      message: `Caught up windows ${from}–${to}: ${parts.join(', ')}. θ matches the network again; keep the peer running to contribute every window.`,
    });
  }

  /**
   * After a lost device: a fresh engine from the provider (a new device, or the CPU when none can be
   * had) synced as at start (the last snapshot with its optimiser state and e, else the network),
   * retried while the network cannot be reached. Returns the last window θ includes (the loop
   * catches up from there), or null when θ is synced to the head.
   */
  private async recoverEngine(): Promise<number | null> {
    await this.engineInUse.dispose().catch(() => undefined);
    for (;;) {
      try {
        const synced = await this.syncEngine(true);
        this.install(synced);
        if (synced.snapshot !== undefined) await this.miner.restoreErrorFeedback(synced.snapshot.errorFeedback);
        this.emit({ kind: 'peer-engine', backend: synced.info.backend, reason: synced.info.reason, parameterCount: synced.info.parameterCount });
    await this.checkPace(synced);
        const from = synced.snapshot === undefined ? `${synced.sourceText} (no window was saved yet)` : `the state saved after window ${synced.snapshot.window}`;
        this.emit({ kind: 'peer-recovered', backend: synced.info.backend, window: synced.snapshot?.window ?? null, message: `Recovered from the lost GPU device: training again on ${synced.info.backend}, resumed from ${from}.` });
        return synced.resumeAfter;
      } catch (error) {
        if (!(error instanceof NetError) || this.stopping) throw error;
        this.emit({ kind: 'peer-network', reachable: false, message: `Recreating the engine needs the network, which failed (${error.message}); retrying.` });
        await this.clock.sleep(this.blockTimeMs);
      }
    }
  }

  /**
   * The window loop. `synced` is the last window whose outer step θ includes (null: θ is synced to the
   * head); any gap between it and the chain's window is caught up before the next contribution.
   */
  private async loop(): Promise<void> {
    const { blocksPerWindow } = this.options.config.window;
    let synced = this.resumeAfter;
    while (!this.stopping) {
      const head = await this.headOrUndefined();
      if (head === undefined) continue;
      const current = windowOfBlock(head.number, blocksPerWindow);
      if (synced !== null && current <= synced) {
        await this.clock.sleep(this.blockTimeMs / 4);
        continue;
      }
      try {
        if (synced !== null && current > synced + 1) {
          await this.catchUp(synced + 1, current - 1);
          synced = current - 1;
        }
        if (await this.runWindow(current)) synced = current;
      } catch (error) {
        const lostReason = await this.engineInUse.lossReason(error);
        if (lostReason !== undefined) {
          this.emit({ kind: 'peer-device-lost', window: current, message: `The GPU device was lost in window ${current} (${lostReason}); recreating it and resuming from the last saved window.` });
          synced = await this.recoverEngine();
          continue;
        }
        if (!(error instanceof NetError)) throw error;
        this.emit({ kind: 'miner-error', window: current, uid: this.options.uid, stage: 'network', message: error.message });
        this.emit({ kind: 'peer-window-failed', window: current, message: `Window ${current} failed on the network (${error.message}); the loop goes on, and catches up on this window once the next one starts.` });
        // Never train the same window twice: wait for the next one; the catch-up then covers this one.
        await this.waitForHead((h) => windowOfBlock(h.number, blocksPerWindow) > current);
        synced ??= current - 1;
      }
    }
  }
}
