/**
 * The volunteer's miner loop in a module Worker (issue #8): GPU and training work never touch the
 * page. The loop is clock-driven by the devnet's blocks (gauntlet-spec §3, Templar v2.1.3
 * `neurons/miner.py::Miner.run`):
 *
 *  sync: the tab's IndexedDB snapshot if there is one, else the validator's latest checkpoint, else
 *  the run's initial θ (`initSeed`); then the validator's published aggregated updates of the later
 *  windows are replayed (`tplr.neurons.catchup_with_aggregation_server`);
 *  per window w (while the chain is in w): assignment and shard tokens (hash-verified by
 *  `loadTokenStream`) → H inner steps with progress → compress with error feedback → wait for the
 *  first block of w+1 (its timestamp opens the put window, §3.2) → sign through the page's wallet →
 *  upload with retry/backoff while the put window is open → wait until it closes → gather → outer
 *  step → debug slice → persist (θ, e, w) → read the chain's weights for the dashboard.
 *
 * A missed window (the tab was throttled, training was slow) is caught up by replaying the
 * validator's aggregates; a lost GPU device recreates the engine from the last snapshot.
 */
import { bytesToHex } from '@noble/hashes/utils';
import { sha256 } from '@noble/hashes/sha256';
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { firstBlockOfWindow, putWindowAnchorBlock, putWindowBounds, windowOfBlock } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import { parseShardManifest } from '../core/data/manifest.ts';
import { loadTokenStream } from '../core/data/shard-loader.ts';
import { tinyRunConfig, validateRunConfig } from '../core/run-config.ts';
import { DeviceLostError } from '../gpu/errors.ts';
import { createTrainerEngine, type AnyEngine } from '../gpu/select-engine.ts';
import { parameterLayout } from '../model/params.ts';
import { NetError } from '../net/errors.ts';
import type { Chain, HexString, Metagraph, Signer, SignerAccount, Storage, TimeGate } from '../net/types.ts';
import { behaviourByName, CHEATER_BEHAVIOURS } from '../peer/behaviours.ts';
import { BrowserPeerPersistence, PersistenceError, type PeerSnapshot } from '../peer/browser-persistence.ts';
import { aggregateKey } from '../peer/gather.ts';
import { Miner, MinerStateError } from '../peer/miner.ts';
import { WindowScoresFollower } from '../peer/published-scores.ts';
import { openPeerNetwork } from './peer-network.ts';
import type { TrainerEngine } from './trainer-api.ts';
import { PeerStateError, type PageSignRaw, type PeerEvent, type PeerStartOptions, type PeerWorkerApi } from './peer-api.ts';

ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency)) : 1;

/** First retry delay of an upload; doubles per attempt while the put window is open. */
const UPLOAD_BACKOFF_MS = 250;

/** The page's wallet as a `Signer`: every signature is a round trip to the page. */
class PageSigner implements Signer {
  constructor(
    private readonly hotkey: string,
    private readonly sign: PageSignRaw,
  ) {}
  accounts(): Promise<SignerAccount[]> {
    return Promise.resolve([{ address: this.hotkey }]);
  }
  signRaw(address: string, data: Uint8Array): Promise<HexString> {
    return this.sign(address, data);
  }
}

interface Peer {
  readonly config: RunConfig;
  readonly options: PeerStartOptions;
  readonly chain: Chain;
  readonly storage: Storage;
  readonly signer: Signer;
  readonly persistence: BrowserPeerPersistence;
  readonly tokens: Uint8Array;
  readonly parameterCount: number;
  readonly emit: (event: PeerEvent) => void;
  /** The lead validator's `scores-{window}` documents not yet shown. */
  readonly scores: WindowScoresFollower;
  engine: AnyEngine;
  miner: Miner;
  metagraph: Metagraph;
  /** The window whose inner steps run now (for progress events). */
  trainingWindow: number;
}

let peer: Peer | null = null;
let loop: Promise<void> | null = null;
let stopping = false;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function digestOf(values: Float32Array): string {
  return bytesToHex(sha256(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)));
}

function float32Of(data: Uint8Array, length: number, what: string): Float32Array {
  if (data.length !== length * 4) throw new PeerStateError(`${what} has ${data.length} bytes, expected ${length * 4}: it belongs to another model shape.`);
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(data);
  return out;
}

async function loadTokens(devnetUrl: string): Promise<Uint8Array> {
  const base = new URL('data/', devnetUrl.endsWith('/') ? devnetUrl : devnetUrl + '/');
  const manifest = parseShardManifest(await (await fetch(new URL('manifest.json', base))).json());
  return loadTokenStream(manifest, async (file) => new Uint8Array(await (await fetch(new URL(file, base))).arrayBuffer()));
}

/**
 * The validator whose peer lists and aggregates this miner follows: the permitted uid with the most
 * stake (lowest uid on ties), never our own or the burn uid (Templar miners follow the highest-stake
 * validator's `peers_{E}` and aggregation).
 */
function leadValidator(metagraph: Metagraph, config: RunConfig, ownHotkey: string): string | undefined {
  let best: { uid: number; stake: number; hotkey: string } | undefined;
  metagraph.uids.forEach((uid, i) => {
    const hotkey = metagraph.hotkeys[i]!;
    if (uid === config.scoring.burnUid || hotkey === ownHotkey || metagraph.validatorPermit[i] !== true) return;
    const stake = metagraph.stake[i] ?? 0;
    if (best === undefined || stake > best.stake) best = { uid, stake, hotkey };
  });
  return best?.hotkey;
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

/** The validator's aggregated updates of windows accepted by `include`, in window order. */
async function aggregatesAfter(storage: Storage, validatorHotkey: string, include: (window: number, lastModifiedMs: number) => boolean): Promise<number[]> {
  return (await storage.list(validatorHotkey, 'aggregate-'))
    .map((info) => ({ window: Number(info.key.slice('aggregate-'.length)), at: info.lastModifiedMs }))
    .filter((a) => Number.isInteger(a.window) && include(a.window, a.at))
    .map((a) => a.window)
    .sort((a, b) => a - b);
}

async function replayAggregates(p: Pick<Peer, 'storage' | 'parameterCount'>, engine: TrainerEngine, validatorHotkey: string, windows: readonly number[]): Promise<void> {
  for (const w of windows) {
    const { data } = await p.storage.get(validatorHotkey, aggregateKey(w), { maxBytes: p.parameterCount * 4 });
    await engine.applyOuter(float32Of(data, p.parameterCount, `aggregate-${w}`));
  }
}

/** θ to start from: the snapshot, else the validator's latest checkpoint, else undefined (the run's init). */
async function startingPoint(
  storage: Storage,
  validatorHotkey: string | undefined,
  snapshot: PeerSnapshot | undefined,
  parameterCount: number,
): Promise<{ params: Float32Array | undefined; source: 'init' | 'checkpoint' | 'snapshot'; after: (window: number, at: number) => boolean; window: number | null }> {
  if (snapshot !== undefined) return { params: snapshot.params, source: 'snapshot', after: (w) => w > snapshot.window, window: snapshot.window };
  if (validatorHotkey === undefined) return { params: undefined, source: 'init', after: () => false, window: null };
  const checkpoints = (await storage.list(validatorHotkey, 'checkpoint-'))
    .map((info) => ({ step: Number(info.key.slice('checkpoint-'.length)), info }))
    .filter((c) => Number.isInteger(c.step))
    .sort((a, b) => b.step - a.step);
  const latest = checkpoints[0];
  if (latest === undefined) return { params: undefined, source: 'init', after: () => true, window: null };
  const { data } = await storage.get(validatorHotkey, latest.info.key, { maxBytes: parameterCount * 4 });
  // Aggregates stored after the checkpoint are the windows it does not include yet.
  return { params: float32Of(data, parameterCount, latest.info.key), source: 'checkpoint', after: (_w, at) => at > latest.info.lastModifiedMs, window: null };
}

function buildMiner(p: Omit<Peer, 'miner'>, engine: AnyEngine): Miner {
  const { config, options } = p;
  const hotkeyOf = (uid: number): string | undefined => {
    const i = p.metagraph.uids.indexOf(uid);
    return i < 0 ? undefined : p.metagraph.hotkeys[i];
  };
  const lead = (): string | undefined => leadValidator(p.metagraph, config, options.hotkey);
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

/** Polls the head until `done(head)`; resolves false when the loop is stopping. */
async function waitForHead(p: Peer, done: (head: { number: number; timestampMs?: number }) => boolean): Promise<boolean> {
  for (;;) {
    if (stopping) return false;
    if (done(await p.chain.currentBlock())) return true;
    await sleep(p.config.window.blockTimeMs / 4);
  }
}

/** Signs and uploads, retrying with exponential backoff while the put window is open (§3.2). */
async function uploadWithRetry(p: Peer, window: number, gate: TimeGate): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await p.miner.upload(window, gate);
      return true;
    } catch (error) {
      // A copier (swarm testing only) whose victim has not uploaded has nothing to send this window.
      if (error instanceof MinerStateError && p.options.adversary !== undefined) {
        p.emit({ kind: 'peer-window-failed', window, message: `Adversary ${p.options.adversary.behaviour}: nothing to upload for window ${window} (${error.message}).` });
        return false;
      }
      if (!(error instanceof NetError)) throw error;
      const head = await p.chain.currentBlock().catch(() => undefined);
      const delay = UPLOAD_BACKOFF_MS * 2 ** (attempt - 1);
      if (head?.timestampMs !== undefined && head.timestampMs + delay > gate.timeMaxMs) {
        p.emit({ kind: 'peer-window-failed', window, message: `Upload of window ${window} failed and the put window has closed (${error.message}); this window earns nothing, the next one is unaffected.` });
        return false;
      }
      p.emit({ kind: 'peer-upload-retry', window, attempt, message: `Upload of window ${window} failed (${error.message}); retrying in ${delay} ms inside the put window.` });
      await sleep(delay);
    }
  }
}

async function persist(p: Peer, window: number): Promise<void> {
  const errorFeedback = p.miner.exportErrorFeedback();
  try {
    await p.persistence.save({ runId: p.config.runId, hotkey: p.options.hotkey, window, params: await p.engine.exportParams(), errorFeedback, savedAtMs: Date.now() });
    p.emit({ kind: 'peer-persisted', window, errorFeedbackDigest: digestOf(errorFeedback), message: `Saved θ, the error-feedback buffer and window ${window} in this browser; a reload resumes from here.` });
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
    validatorHotkey: leadValidator(m, p.config, p.options.hotkey) ?? '',
    rows: m.uids.map((uid, i) => ({ uid, hotkey: m.hotkeys[i]!, incentive: m.incentive[i] ?? 0, lastUpdate: m.lastUpdate[i] ?? 0 })),
  });
}

/** Forwards the lead validator's newly published window scores; a read failure is reported, not fatal. */
async function forwardWindowScores(p: Peer, window: number): Promise<void> {
  const validatorHotkey = leadValidator(p.metagraph, p.config, p.options.hotkey);
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

/** One window, from training to persistence (see the module comment). */
async function runWindow(p: Peer, window: number): Promise<void> {
  const { config } = p;
  p.metagraph = await p.chain.metagraph(config.netuid);
  p.trainingWindow = window;
  await p.miner.prepare(window);
  if (!(await waitForHead(p, (head) => head.number >= firstBlockOfWindow(window + 1, config.window.blocksPerWindow)))) return;
  const gate = putWindowBounds(await p.chain.blockTimestamp(putWindowAnchorBlock(window, config.window.blocksPerWindow)), config.window.putWindowMs);
  // Only an adversarial behaviour (swarm testing) waits: a copier for its victim, a late uploader past time_max.
  const delay = p.options.adversary === undefined ? 0 : p.miner.behaviour.uploadDelayMs(config.window.putWindowMs);
  if (delay > 0 && !(await waitForHead(p, (head) => (head.timestampMs ?? 0) >= gate.timeMinMs + delay))) return;
  p.emit({ kind: 'peer-stage-start', window, stage: 'upload' });
  const uploaded = await uploadWithRetry(p, window, gate);
  // Everyone's uploads are readable once the put window has closed on the chain's clock.
  if (!(await waitForHead(p, (head) => (head.timestampMs ?? 0) > gate.timeMaxMs))) return;
  p.emit({ kind: 'peer-stage-start', window, stage: 'gather' });
  // Without our upload the outer step still runs, so θ stays in sync with the network.
  if (!uploaded) p.emit({ kind: 'peer-window-failed', window, message: `Window ${window} was not submitted; gathering the others' updates to stay in sync.` });
  await p.miner.finishWindow(window, gate);
  await persist(p, window);
  p.metagraph = await p.chain.metagraph(config.netuid);
  publishChainScores(p, window);
  await forwardWindowScores(p, window);
}

/** After a lost device: a fresh engine (and miner) from the last snapshot, or from the current θ source. */
async function recreateEngine(p: Peer): Promise<void> {
  await p.engine.dispose().catch(() => undefined);
  const snapshot = await p.persistence.load(p.config.runId, p.options.hotkey).catch(() => undefined);
  const { engine } = await createTrainerEngine(ort, p.config, snapshot?.params, { backend: p.options.backend });
  p.engine = engine;
  p.miner = buildMiner(p, engine);
  if (snapshot !== undefined) p.miner.restoreErrorFeedback(snapshot.errorFeedback);
}

async function runLoop(p: Peer): Promise<void> {
  const { config } = p;
  let next: number | null = null;
  while (!stopping) {
    const head = await p.chain.currentBlock();
    const current = windowOfBlock(head.number, config.window.blocksPerWindow);
    if (next !== null && current < next) {
      await sleep(config.window.blockTimeMs / 4);
      continue;
    }
    if (next !== null && current > next) {
      const validatorHotkey = leadValidator(p.metagraph, config, p.options.hotkey);
      const from = next;
      const missed = validatorHotkey === undefined ? [] : await aggregatesAfter(p.storage, validatorHotkey, (w) => w >= from && w < current);
      if (validatorHotkey !== undefined) await replayAggregates(p, p.engine, validatorHotkey, missed);
      p.emit({
        kind: 'peer-missed', from, to: current - 1, replayed: missed,
        message: `Windows ${from}–${current - 1} passed while this tab was busy or throttled; caught up by replaying ${missed.length} aggregated update(s) from the validator. Keep the tab visible to contribute every window.`,
      });
    }
    try {
      await runWindow(p, current);
    } catch (error) {
      if (error instanceof DeviceLostError) {
        p.emit({ kind: 'peer-device-lost', window: current, message: `The GPU device was lost (${error.message}); recreating it and resuming from the last saved window.` });
        await recreateEngine(p);
      } else if (error instanceof NetError) {
        p.emit({ kind: 'miner-error', window: current, uid: p.options.uid, stage: 'network', message: error.message });
        p.emit({ kind: 'peer-window-failed', window: current, message: `Window ${current} failed on the network (${error.message}); the loop goes on with the next window.` });
      } else {
        throw error;
      }
    }
    next = current + 1;
  }
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
    const persistence = new BrowserPeerPersistence();
    const layout = parameterLayout(config.model);
    const lastSpec = layout[layout.length - 1];
    const parameterCount = lastSpec === undefined ? 0 : lastSpec.offset + lastSpec.shape.reduce((a, b) => a * b, 1);
    const emit = (event: PeerEvent): void => onEvent(event);

    const [tokens, metagraph] = await Promise.all([loadTokens(options.devnetUrl), chain.metagraph(config.netuid)]);
    const snapshot = await persistence.load(config.runId, options.hotkey).catch((error: unknown) => {
      emit({ kind: 'peer-persist-failed', window: -1, message: errorText(error) });
      return undefined;
    });
    const validatorHotkey = leadValidator(metagraph, config, options.hotkey);
    const start = await startingPoint(storage, validatorHotkey, snapshot, parameterCount);
    const { engine, info } = await createTrainerEngine(ort, config, start.params, { backend: options.backend });
    emit({ kind: 'peer-engine', backend: info.backend, reason: info.reason, parameterCount: info.parameterCount });
    const replay = validatorHotkey === undefined ? [] : await aggregatesAfter(storage, validatorHotkey, start.after);
    if (validatorHotkey !== undefined) await replayAggregates({ storage, parameterCount }, engine, validatorHotkey, replay);
    const scores = new WindowScoresFollower(storage, { runId: config.runId, netuid: config.netuid });
    const building: Omit<Peer, 'miner'> & { miner?: Miner } = { config, options, chain, storage, signer, persistence, tokens, parameterCount, emit, scores, engine, metagraph, trainingWindow: -1 };
    // The miner's closures read `building.metagraph`, refreshed every window: one object throughout.
    building.miner = buildMiner(building, engine);
    peer = building as Peer;
    if (snapshot !== undefined) {
      peer.miner.restoreErrorFeedback(snapshot.errorFeedback);
      emit({
        kind: 'peer-resumed', window: snapshot.window, errorFeedbackDigest: digestOf(peer.miner.exportErrorFeedback()),
        message: `Resumed from this browser's saved state after window ${snapshot.window} (θ and the error-feedback buffer); replayed ${replay.length} later aggregated update(s).`,
      });
    }
    const sourceText = { init: `the run's initial parameters (seed ${config.initSeed})`, checkpoint: "the validator's latest checkpoint", snapshot: "this browser's saved state" }[start.source];
    emit({ kind: 'peer-synced', source: start.source, window: start.window, replayed: replay, message: `Synced from ${sourceText}, then ${replay.length} aggregated update(s) replayed.` });
    loop = runLoop(peer).then(
      () => emit({ kind: 'peer-stopped', message: 'The miner loop stopped.' }),
      (error: unknown) => emit({ kind: 'peer-stopped', message: `The miner loop stopped on an error: ${errorText(error)}. Reload the page to resume from the last saved window.` }),
    );
  },
  async stop() {
    stopping = true;
    await loop;
    loop = null;
    await peer?.engine.dispose();
    peer = null;
  },
  errorFeedbackDigest() {
    return Promise.resolve(peer === null ? null : digestOf(peer.miner.exportErrorFeedback()));
  },
};

Comlink.expose(api);
