/**
 * The volunteer's miner loop in a module Worker (issue #8): GPU and training work never touch the
 * page. The loop is clock-driven by the devnet's blocks (gauntlet-spec §3, Templar v2.1.3
 * `neurons/miner.py::Miner.run`):
 *
 *  sync: the tab's IndexedDB snapshot if there is one (θ, e and the inner AdamW state), else the
 *  validator's latest checkpoint, else the run's initial θ (`initSeed`), the last two with the inner
 *  scheduler at outer steps × H; then the windows θ lacks are caught up (`Miner.catchUp`: the
 *  validator's published aggregates replayed, unpublished windows gathered live;
 *  `tplr.neurons.catchup_with_aggregation_server`);
 *  per window w (while the chain is in w): assignment and shard tokens (hash-verified by
 *  `loadTokenStream`) → H inner steps with progress → compress with error feedback → wait for the
 *  first block of w+1 (its timestamp opens the put window, §3.2) → sign through the page's wallet →
 *  upload with retry/backoff while the put window is open → wait until it closes → gather → outer
 *  step → debug slice → persist (θ, e, AdamW state, w) → read the chain's weights for the dashboard.
 *
 * The loop tracks the last window θ includes: any gap (the tab was throttled, training was slow, the
 * peer was stopped) is caught up before it contributes again. A lost GPU device recreates the engine
 * (a new device, else wasm) from the last snapshot; an unreachable network pauses the loop.
 */
import { bytesToHex } from '@noble/hashes/utils';
import { sha256 } from '@noble/hashes/sha256';
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { checkWindowTiming, firstBlockOfWindow, putWindowAnchorBlock, putWindowBounds, windowOfBlock } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import { tinyRunConfig, validateRunConfig } from '../core/run-config.ts';
import { DeviceLostError, WebGPUUnavailableError } from '../gpu/errors.ts';
import { createTrainerEngine, type AnyEngine } from '../gpu/select-engine.ts';
import { WebGpuTrainerEngine } from '../gpu/webgpu-engine.ts';
import { parameterCount as parameterCountOf, parameterLayout } from '../model/params.ts';
import { NetError } from '../net/errors.ts';
import type { BlockHeader, Chain, Metagraph, Signer, Storage, TimeGate } from '../net/types.ts';
import { behaviourByName, CHEATER_BEHAVIOURS } from '../peer/behaviours.ts';
import { BrowserPeerPersistence, PersistenceError, SNAPSHOT_VERSION, type PeerSnapshot } from '../peer/browser-persistence.ts';
import { leadValidator } from '../peer/lead-validator.ts';
import { AggregateFormatError, numberedObjects, publishedAggregates, readCheckpoint, replayAggregates, type AggregateReplay } from '../peer/gather.ts';
import type { PublicationContext } from '../peer/publications.ts';
import { Miner, MinerStateError } from '../peer/miner.ts';
import { WindowScoresFollower } from '../peer/published-scores.ts';
import { UploadWindowClosedError, uploadWithRetry } from '../peer/upload-retry.ts';
import { openPeerNetwork } from './peer-network.ts';
import { errorText, loadDevnetTokens, PageSigner } from './page-signer.ts';
import type { InnerOptimizerState, TrainerEngine, TrainerInfo } from './trainer-api.ts';
import { PeerStateError, type PeerEvent, type PeerStartOptions, type PeerWorkerApi } from './peer-api.ts';

ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency)) : 1;

/** First retry delay of an upload; doubles per attempt while the put window is open. */
const UPLOAD_BACKOFF_MS = 250;
/** How long a failed GPU call waits for `device.lost` to settle before it is judged a plain error. */
const DEVICE_LOST_SETTLE_MS = 200;

interface Peer {
  readonly config: RunConfig;
  readonly options: PeerStartOptions;
  readonly chain: Chain;
  readonly storage: Storage;
  readonly signer: Signer;
  readonly persistence: BrowserPeerPersistence;
  readonly tokens: Uint8Array;
  readonly parameterCount: number;
  /**
   * The chain's own block time (`Hyperparams.blockTimeMs`: Aura's slot on subtensor), read once at
   * start; it paces every poll, whatever block time the run config was written for.
   */
  readonly blockTimeMs: number;
  readonly emit: (event: PeerEvent) => void;
  /** The lead validator's `scores-{window}` documents not yet shown. */
  readonly scores: WindowScoresFollower;
  engine: AnyEngine;
  miner: Miner;
  metagraph: Metagraph;
  /** The hotkeys the subnet owner names as the run's validators (`Chain.runValidators`), read with the metagraph. */
  runValidators: readonly string[];
  /** The window whose inner steps run now (for progress events). */
  trainingWindow: number;
  /** True while the chain cannot be reached (reported once per outage). */
  outage: boolean;
}

let peer: Peer | null = null;
let loop: Promise<void> | null = null;
let stopping = false;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));


function digestOf(values: Float32Array): string {
  return bytesToHex(sha256(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)));
}

/**
 * The same engine, with the inner-step progress forwarded to the page. A Proxy, so every other
 * method of the engine (whatever the interface grows) passes through unchanged.
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

/**
 * The optimiser state of a peer that joins from the network rather than its own snapshot: fresh
 * moments, but the inner scheduler at `outerSteps × H` (Templar v2.1.3 restores weights only and
 * replays the inner scheduler `global_step × inner_steps` times, gauntlet-spec §3.5), so the joining
 * peer trains at the run's current learning rate instead of warming up from zero.
 */
function networkOptimizerState(config: RunConfig, parameterCount: number, outerSteps: number): InnerOptimizerState {
  return { schedulerSteps: outerSteps * config.inner.innerSteps, expAvg: new Float32Array(parameterCount), expAvgSq: new Float32Array(parameterCount) };
}

/**
 * θ to start from: the snapshot, else the validator's newest checkpoint that opens as its signed
 * publication within the run's bounds (issue #14: a forged or poisoned checkpoint is skipped for the
 * one before it), else undefined (the run's init).
 */
async function startingPoint(
  storage: Storage,
  validatorHotkey: string | undefined,
  snapshot: PeerSnapshot | undefined,
  context: PublicationContext,
): Promise<{ params: Float32Array | undefined; source: 'init' | 'checkpoint' | 'snapshot'; after: (window: number, at: number) => boolean; window: number | null; globalStep: number }> {
  // From a snapshot the loop's catch-up (`Miner.catchUp`) brings θ from `snapshot.window + 1` to the head.
  if (snapshot !== undefined) return { params: snapshot.params, source: 'snapshot', after: () => false, window: snapshot.window, globalStep: 0 };
  if (validatorHotkey === undefined) return { params: undefined, source: 'init', after: () => false, window: null, globalStep: 0 };
  for (const latest of (await numberedObjects(storage, validatorHotkey, 'checkpoint-')).reverse()) {
    const params = await readCheckpoint(storage, validatorHotkey, latest.n, context).catch((error: unknown) => {
      if (error instanceof AggregateFormatError) return undefined;
      throw error;
    });
    // Aggregates stored after the checkpoint are the windows it does not include yet.
    if (params !== undefined) return { params, source: 'checkpoint', after: (_w, at) => at > latest.info.lastModifiedMs, window: null, globalStep: latest.n };
  }
  return { params: undefined, source: 'init', after: () => true, window: null, globalStep: 0 };
}

function buildMiner(p: Omit<Peer, 'miner'>, engine: AnyEngine): Miner {
  const { config, options } = p;
  const hotkeyOf = (uid: number): string | undefined => {
    const i = p.metagraph.uids.indexOf(uid);
    return i < 0 ? undefined : p.metagraph.hotkeys[i];
  };
  const lead = (): string | undefined => leadValidator(p.metagraph, p.runValidators, config, options.hotkey);
  // Without a validator yet there is no peer list in anyone's bucket: reading our own finds none, so every miner (us included) is gathered.
  const validatorHotkey = (): string => lead() ?? options.hotkey;
  return new Miner({
    config,
    layout: parameterLayout(config.model),
    engine: withProgress(engine, (step, of, loss) => p.emit({ kind: 'peer-inner-step', window: p.trainingWindow, step, of, loss })),
    storage: p.storage,
    signer: p.signer,
    hotkey: options.hotkey,
    uid: options.uid,
    tokens: p.tokens,
    behaviour: behaviourByName(options.adversary?.behaviour ?? 'honest', options.adversary?.copyFrom ?? -1),
    get validatorHotkey() {
      return validatorHotkey();
    },
    hotkeyOf,
    minerUids: () => p.metagraph.uids.filter((uid) => uid !== config.scoring.burnUid && hotkeyOf(uid) !== lead()),
    onEvent: p.emit,
  });
}

/**
 * The chain head, or undefined while the chain cannot be reached: a network outage pauses the loop
 * (it polls again) instead of ending it. The first failure of an outage is reported once.
 */
async function headOrUndefined(p: Peer): Promise<BlockHeader | undefined> {
  try {
    const head = await p.chain.currentBlock();
    if (p.outage) p.emit({ kind: 'peer-network', reachable: true, message: 'The network is reachable again; the loop goes on (missed windows are caught up).' });
    p.outage = false;
    return head;
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    if (!p.outage) p.emit({ kind: 'peer-network', reachable: false, message: `The network cannot be reached (${error.message}); retrying every ${p.blockTimeMs} ms.` });
    p.outage = true;
    await sleep(p.blockTimeMs);
    return undefined;
  }
}

/** Polls the head until `done(head)`; resolves false when the loop is stopping. */
async function waitForHead(p: Peer, done: (head: BlockHeader) => boolean): Promise<boolean> {
  for (;;) {
    if (stopping) return false;
    const head = await headOrUndefined(p);
    if (head !== undefined && done(head)) return true;
    await sleep(p.blockTimeMs / 4);
  }
}

/**
 * The chain's clock: the head's timestamp (the put window is judged on it, §3.2). Only while the
 * chain cannot be reached does this machine's clock stand in, so an upload retry still knows when
 * to give up.
 */
async function chainNowMs(p: Peer): Promise<number> {
  try {
    return (await p.chain.currentBlock()).timestampMs;
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    return Date.now();
  }
}

/** Signs and uploads, retrying transient failures with exponential backoff while the put window is open (§3.2). */
async function uploadInPutWindow(p: Peer, window: number, gate: TimeGate): Promise<boolean> {
  try {
    await uploadWithRetry({
      attempt: () => p.miner.upload(window, gate),
      window,
      gate,
      nowMs: () => chainNowMs(p),
      sleep,
      baseDelayMs: UPLOAD_BACKOFF_MS,
      cancelled: () => stopping,
      onRetry: ({ attempt, delayMs, error }) =>
        p.emit({ kind: 'peer-upload-retry', window, attempt, message: `Upload of window ${window} failed (${error.message}); retrying in ${delayMs} ms inside the put window.` }),
    });
    return true;
  } catch (error) {
    // A copier (swarm testing only) whose victim has not uploaded has nothing to send this window.
    if (error instanceof MinerStateError && p.options.adversary !== undefined) {
      p.emit({ kind: 'peer-window-failed', window, message: `Adversary ${p.options.adversary.behaviour}: nothing to upload for window ${window} (${error.message}).` });
      return false;
    }
    if (!(error instanceof UploadWindowClosedError) && !(error instanceof NetError)) throw error;
    p.emit({ kind: 'peer-window-failed', window, message: error instanceof UploadWindowClosedError ? error.message : `Upload of window ${window} was refused (${error.message}); this window earns nothing.` });
    return false;
  }
}

/** Saves the snapshot of `window`: `params` is θ after its outer step (the caller's readback). */
async function persist(p: Peer, window: number, params: Float32Array): Promise<void> {
  const errorFeedback = await p.miner.exportErrorFeedback();
  try {
    const optimizer = await p.engine.exportOptimizerState();
    await p.persistence.save({ version: SNAPSHOT_VERSION, runId: p.config.runId, hotkey: p.options.hotkey, window, params, errorFeedback, optimizer, savedAtMs: Date.now() });
    p.emit({ kind: 'peer-persisted', window, errorFeedbackDigest: digestOf(errorFeedback), message: `Saved θ, the error-feedback buffer, the optimiser state (inner step ${optimizer.schedulerSteps}) and window ${window} in this browser; a reload resumes from here.` });
  } catch (error) {
    if (!(error instanceof PersistenceError)) throw error;
    p.emit({ kind: 'peer-persist-failed', window, message: error.message });
  }
}

function publishChainScores(p: Peer, window: number): void {
  const m = p.metagraph;
  p.emit({
    kind: 'peer-chain-scores',
    window,
    block: m.block,
    validatorHotkey: leadValidator(m, p.runValidators, p.config, p.options.hotkey) ?? '',
    rows: m.uids.map((uid, i) => ({ uid, hotkey: m.hotkeys[i]!, incentive: m.incentive[i] ?? 0, lastUpdate: m.lastUpdate[i] ?? 0 })),
  });
}

/** Forwards the lead validator's newly published window scores; a read failure is reported, not fatal. */
async function forwardWindowScores(p: Peer, window: number): Promise<void> {
  const validatorHotkey = leadValidator(p.metagraph, p.runValidators, p.config, p.options.hotkey);
  if (validatorHotkey === undefined) return;
  try {
    for (const read of await p.scores.poll(validatorHotkey)) {
      p.emit(read.ok ? { kind: 'peer-window-scores', validatorHotkey, document: read.document } : { kind: 'peer-scores-unreadable', window: read.window, message: read.message });
    }
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    p.emit({ kind: 'peer-scores-unreadable', window, message: `Could not list the validator's window scores (${error.message}); trying again next window.` });
  }
}

/** The metagraph and the run's validators, read again (every window, and before a catch-up). */
async function refreshNetwork(p: Pick<Peer, 'chain' | 'config' | 'metagraph' | 'runValidators'>): Promise<void> {
  p.metagraph = await p.chain.metagraph(p.config.netuid);
  p.runValidators = await p.chain.runValidators(p.config.netuid, p.metagraph);
}

/** One window, from training to persistence (see the module comment); true once θ includes its outer step. */
async function runWindow(p: Peer, window: number): Promise<boolean> {
  const { config } = p;
  await refreshNetwork(p);
  p.trainingWindow = window;
  await p.miner.prepare(window);
  if (!(await waitForHead(p, (head) => head.number >= firstBlockOfWindow(window + 1, config.window.blocksPerWindow)))) return false;
  const gate = putWindowBounds(await p.chain.blockTimestamp(putWindowAnchorBlock(window, config.window.blocksPerWindow)), config.window.putWindowMs);
  // Only an adversarial behaviour (swarm testing) waits: a copier for its victim, a late uploader past time_max.
  const delay = p.options.adversary === undefined ? 0 : p.miner.behaviour.uploadDelayMs(config.window.putWindowMs);
  if (delay > 0 && !(await waitForHead(p, (head) => head.timestampMs >= gate.timeMinMs + delay))) return false;
  p.emit({ kind: 'peer-stage-start', window, stage: 'upload' });
  const uploaded = await uploadInPutWindow(p, window, gate);
  // Everyone's uploads are readable once the put window has closed on the chain's clock.
  if (!(await waitForHead(p, (head) => head.timestampMs > gate.timeMaxMs))) return false;
  p.emit({ kind: 'peer-stage-start', window, stage: 'gather' });
  // Without our upload the outer step still runs, so θ stays in sync with the network.
  if (!uploaded) p.emit({ kind: 'peer-window-failed', window, message: `Window ${window} was not submitted; gathering the others' updates to stay in sync.` });
  await persist(p, window, await p.miner.finishWindow(window, gate));
  await refreshNetwork(p);
  publishChainScores(p, window);
  await forwardWindowScores(p, window);
  return true;
}

/** Window `w`'s put-window bounds, once that window has closed on the chain's clock (for a live gather). */
async function closedGate(p: Peer, window: number): Promise<TimeGate> {
  const { blocksPerWindow, putWindowMs } = p.config.window;
  const gate = putWindowBounds(await p.chain.blockTimestamp(putWindowAnchorBlock(window, blocksPerWindow)), putWindowMs);
  await waitForHead(p, (head) => head.timestampMs > gate.timeMaxMs);
  return gate;
}

/** Brings θ through the windows `from … to` this peer did not finish, before it contributes again. */
async function catchUp(p: Peer, from: number, to: number): Promise<void> {
  await refreshNetwork(p);
  p.emit({ kind: 'peer-catching-up', from, to, message: `Windows ${from}–${to} passed without this peer (stopped, asleep or recovering): catching up before contributing again.` });
  const done = await p.miner.catchUp(from, to, (w) => closedGate(p, w));
  const parts = [`replayed ${done.replayed.length} aggregated update(s) published by the validator`];
  if (done.gatheredLive.length > 0) parts.push(`gathered ${done.gatheredLive.length} not yet published window(s) from the peers directly`);
  if (done.skipped.length > 0) parts.push(`${done.skipped.length} window(s) had no outer step`);
  p.emit({
    kind: 'peer-missed', from, to, replayed: done.replayed,
    message: `Caught up windows ${from}–${to}: ${parts.join(', ')}. θ matches the network again; keep the tab visible to contribute every window.`,
  });
}

/**
 * Why the GPU device was lost when `error` came from a lost device, else undefined. A destroyed
 * device can fail the call in flight with some other error before `device.lost` settles, so that
 * promise is given a moment to settle.
 */
async function deviceLossReason(p: Peer, error: unknown): Promise<string | undefined> {
  if (error instanceof DeviceLostError) return error.reason;
  const engine = p.engine;
  if (!(engine instanceof WebGpuTrainerEngine)) return undefined;
  await Promise.race([engine.device.lost, sleep(DEVICE_LOST_SETTLE_MS)]);
  return engine.deviceLostReason;
}

/**
 * After a lost device: a fresh engine (a new device, or the wasm EP when none can be had) synced as
 * at start (the last snapshot with its optimiser state and e, else the network). Returns the last
 * window θ includes (the loop catches up from there), or null when θ is synced to the head.
 */
async function recoverEngine(p: Peer): Promise<number | null> {
  await p.engine.dispose().catch(() => undefined);
  let synced: Synced;
  try {
    synced = await syncEngine(p, p.metagraph, p.options.backend);
  } catch (error) {
    if (!(error instanceof WebGPUUnavailableError)) throw error;
    const onWasm = await syncEngine(p, p.metagraph, 'wasm');
    synced = { ...onWasm, info: { ...onWasm.info, reason: `no GPU device could be created after the loss (${error.reason}), so training runs on the CPU (wasm EP)` } };
  }
  p.engine = synced.engine;
  p.miner = buildMiner(p, synced.engine);
  if (synced.snapshot !== undefined) await p.miner.restoreErrorFeedback(synced.snapshot.errorFeedback);
  p.emit({ kind: 'peer-engine', backend: synced.info.backend, reason: synced.info.reason, parameterCount: synced.info.parameterCount });
  const from = synced.snapshot === undefined ? `${synced.sourceText} (no window was saved yet)` : `the state saved after window ${synced.snapshot.window}`;
  p.emit({ kind: 'peer-recovered', backend: synced.info.backend, window: synced.snapshot?.window ?? null, message: `Recovered from the lost GPU device: training again on ${synced.info.backend}, resumed from ${from}.` });
  return synced.resumeAfter;
}

/** `recoverEngine`, retried while the network cannot be reached (the sync reads the snapshot's successors from it). */
async function recoverEngineWhenReachable(p: Peer): Promise<number | null> {
  for (;;) {
    try {
      return await recoverEngine(p);
    } catch (error) {
      if (!(error instanceof NetError) || stopping) throw error;
      p.emit({ kind: 'peer-network', reachable: false, message: `Recreating the engine needs the network, which failed (${error.message}); retrying.` });
      await sleep(p.blockTimeMs);
    }
  }
}

/**
 * The window loop. `synced` is the last window whose outer step θ includes (null: θ is synced to the
 * head); any gap between it and the chain's window is caught up before the next contribution.
 */
async function runLoop(p: Peer, resumeAfter: number | null): Promise<void> {
  const { config } = p;
  let synced = resumeAfter;
  while (!stopping) {
    const head = await headOrUndefined(p);
    if (head === undefined) continue;
    const current = windowOfBlock(head.number, config.window.blocksPerWindow);
    if (synced !== null && current <= synced) {
      await sleep(p.blockTimeMs / 4);
      continue;
    }
    try {
      if (synced !== null && current > synced + 1) {
        await catchUp(p, synced + 1, current - 1);
        synced = current - 1;
      }
      if (await runWindow(p, current)) synced = current;
    } catch (error) {
      const lostReason = await deviceLossReason(p, error);
      if (lostReason !== undefined) {
        p.emit({ kind: 'peer-device-lost', window: current, message: `The GPU device was lost in window ${current} (${lostReason}); recreating it and resuming from the last saved window.` });
        synced = await recoverEngineWhenReachable(p);
        continue;
      }
      if (!(error instanceof NetError)) throw error;
      p.emit({ kind: 'miner-error', window: current, uid: p.options.uid, stage: 'network', message: error.message });
      p.emit({ kind: 'peer-window-failed', window: current, message: `Window ${current} failed on the network (${error.message}); the loop goes on, and catches up on this window once the next one starts.` });
      // Never train the same window twice: wait for the next one; the catch-up then covers this one.
      await waitForHead(p, (h) => windowOfBlock(h.number, config.window.blocksPerWindow) > current);
      synced ??= current - 1;
    }
  }
}

interface Synced {
  readonly engine: AnyEngine;
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

/**
 * An engine on the best θ this peer can get (gauntlet-spec §3.5): the tab's snapshot (θ, with its
 * optimiser state; e is restored on the miner), else the validator's latest checkpoint, else the
 * run's initial θ, then the validator's aggregates after a checkpoint or init replayed.
 */
async function syncEngine(
  p: Pick<Peer, 'config' | 'options' | 'storage' | 'persistence' | 'parameterCount' | 'emit' | 'runValidators'>,
  metagraph: Metagraph,
  backend: PeerStartOptions['backend'],
): Promise<Synced> {
  const { config, options, storage, persistence, parameterCount } = p;
  const snapshot = await persistence.load(config.runId, options.hotkey).catch((error: unknown) => {
    p.emit({ kind: 'peer-persist-failed', window: -1, message: errorText(error) });
    return undefined;
  });
  const validatorHotkey = leadValidator(metagraph, p.runValidators, config, options.hotkey);
  const context: PublicationContext = { config, layout: parameterLayout(config.model) };
  const start = await startingPoint(storage, validatorHotkey, snapshot, context);
  // A snapshot replays nothing here (its later windows are caught up by the loop): no listing needed.
  const toReplay = validatorHotkey === undefined || start.source === 'snapshot' ? [] : (await publishedAggregates(storage, validatorHotkey)).filter((a) => start.after(a.window, a.lastModifiedMs)).map((a) => a.window);
  // Each published aggregate is one outer step (the validator publishes one exactly when it steps).
  const optimizerState = snapshot?.optimizer ?? networkOptimizerState(config, parameterCount, start.globalStep + toReplay.length);
  const { engine, info } = await createTrainerEngine(ort, config, start.params, { backend, optimizerState });
  const { replayed, malformed } = validatorHotkey === undefined ? { replayed: [], malformed: undefined } : await replayAggregates(engine, storage, validatorHotkey, toReplay, context).catch(async (error: unknown) => {
    await engine.dispose().catch(() => undefined);
    throw error;
  });
  const sourceText = { init: `the run's initial parameters (seed ${config.initSeed})`, checkpoint: "the validator's latest checkpoint", snapshot: "this browser's saved state" }[start.source];
  // From a malformed aggregate on, the loop's catch-up takes over: it replays what it can and gathers the rest live.
  const resumeAfter = snapshot?.window ?? (malformed === undefined ? null : malformed.window - 1);
  return { engine, info, snapshot, source: start.source, sourceText, window: start.window, replayed, malformed, resumeAfter, schedulerSteps: optimizerState.schedulerSteps };
}

/**
 * The chain's block time, read once (`Hyperparams.blockTimeMs`), and the run checked against it: a
 * run whose put window cannot fit the chain's windows is refused with the numbers
 * (`WindowTimingError`, the start's failure message); one written for another block time is said.
 */
async function chainBlockTime(chain: Chain, config: RunConfig, emit: (event: PeerEvent) => void): Promise<number> {
  const { blockTimeMs } = await chain.hyperparams(config.netuid);
  const warnings = checkWindowTiming(config.window, blockTimeMs);
  const { blocksPerWindow, putWindowMs } = config.window;
  emit({
    kind: 'peer-clock', blockTimeMs,
    message: [`The chain makes a block every ${blockTimeMs} ms: a window of ${blocksPerWindow} blocks lasts ${blocksPerWindow * blockTimeMs} ms, and its put window ${putWindowMs} ms.`, ...warnings].join(' '),
  });
  return blockTimeMs;
}

/** Everything after the network is open: the run checked against the chain, θ synced, the window loop started. */
async function startLoop(options: PeerStartOptions, config: RunConfig, chain: Chain, storage: Storage, signer: Signer, onEvent: (event: PeerEvent) => void): Promise<void> {
  const persistence = new BrowserPeerPersistence();
  const parameterCount = parameterCountOf(config.model);
  const emit = (event: PeerEvent): void => onEvent(event);
  const blockTimeMs = await chainBlockTime(chain, config, emit);

  const [tokens, metagraph] = await Promise.all([loadDevnetTokens(options.devnetUrl), chain.metagraph(config.netuid)]);
  const runValidators = await chain.runValidators(config.netuid, metagraph);
  const base = { config, options, chain, storage, signer, persistence, tokens, parameterCount, blockTimeMs, emit, metagraph, runValidators, trainingWindow: -1, outage: false };
  const synced = await syncEngine(base, metagraph, options.backend);
  const { engine, info, snapshot } = synced;
  emit({ kind: 'peer-engine', backend: info.backend, reason: info.reason, parameterCount: info.parameterCount });
  const scores = new WindowScoresFollower(storage, { runId: config.runId, netuid: config.netuid });
  const building: Omit<Peer, 'miner'> & { miner?: Miner } = { ...base, scores, engine };
  // The miner's closures read `building.metagraph`, refreshed every window: one object throughout.
  building.miner = buildMiner(building, engine);
  peer = building as Peer;
  if (snapshot !== undefined) {
    await peer.miner.restoreErrorFeedback(snapshot.errorFeedback);
    emit({
      kind: 'peer-resumed', window: snapshot.window, errorFeedbackDigest: digestOf(snapshot.errorFeedback),
      message: `Resumed from this browser's saved state after window ${snapshot.window} (θ, the error-feedback buffer and the optimiser state at inner step ${snapshot.optimizer.schedulerSteps}); later windows are caught up next.`,
    });
  }
  const stoppedAt = synced.malformed === undefined ? '' : ` The replay stopped at window ${synced.malformed.window} (${synced.malformed.message}); the loop gathers that window from the peers directly and catches up from there.`;
  emit({ kind: 'peer-synced', source: synced.source, window: synced.window, replayed: synced.replayed, message: `Synced from ${synced.sourceText}, then ${synced.replayed.length} aggregated update(s) replayed; the inner optimiser continues at step ${synced.schedulerSteps}.${stoppedAt}` });
  loop = runLoop(peer, synced.resumeAfter).then(
    () => emit({ kind: 'peer-stopped', message: 'The miner loop stopped.' }),
    (error: unknown) => emit({ kind: 'peer-stopped', message: `The miner loop stopped on an error: ${errorText(error)}. Reload the page to resume from the last saved window.` }),
  );
}

const api: PeerWorkerApi = {
  async start(options, signRaw, onEvent) {
    if (loop !== null) throw new PeerStateError('The miner loop already runs in this tab; stop it first.');
    if (!(options.uid >= 0)) throw new PeerStateError('Register the hotkey before starting the miner loop.');
    const adversary = options.adversary?.behaviour;
    if (adversary !== undefined && !(CHEATER_BEHAVIOURS as readonly string[]).includes(adversary)) {
      throw new PeerStateError(`Unknown adversarial behaviour '${String(adversary)}'; use one of ${CHEATER_BEHAVIOURS.join(', ')}.`);
    }
    stopping = false;
    const preset = options.runConfig === undefined ? tinyRunConfig() : validateRunConfig(options.runConfig);
    const config = options.network === undefined ? preset : { ...preset, netuid: options.network.netuid };
    if (options.uid === config.scoring.burnUid) throw new PeerStateError(`uid ${options.uid} is the run's burn uid (the subnet owner's); its weight is burned, so it cannot mine.`);
    const signer = new PageSigner(options.hotkey, signRaw);
    const { chain, storage } = await openPeerNetwork(options, signer, config);
    try {
      await startLoop(options, config, chain, storage, signer, onEvent);
    } catch (error) {
      // Nothing runs on this connection: close it, so a refused start leaves no socket open.
      await chain.close().catch(() => undefined);
      throw error;
    }
  },
  async stop() {
    stopping = true;
    await loop;
    loop = null;
    await peer?.engine.dispose();
    await peer?.chain.close().catch(() => undefined);
    peer = null;
  },
  async errorFeedbackDigest() {
    return peer === null ? null : digestOf(await peer.miner.exportErrorFeedback());
  },
  testOnlyLoseDevice(options) {
    const engine = peer?.engine;
    if (!(engine instanceof WebGpuTrainerEngine)) return Promise.resolve(false);
    if (options?.withoutGpuAfterwards === true) {
      // As a browser whose GPU process gave up: this worker's `requestAdapter` finds no adapter from now on.
      const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
      if (gpu !== undefined) Object.defineProperty(gpu, 'requestAdapter', { value: () => Promise.resolve(null), configurable: true });
    }
    engine.device.destroy();
    return Promise.resolve(true);
  },
};

Comlink.expose(api);
