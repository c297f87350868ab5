/**
 * The one miner loop (src/peer/miner-loop.ts), the loop the browser tab and the Node miners run, on
 * a virtual clock (`Simulation.sleep`: time passes only when a loop sleeps, and the chain's blocks
 * come with it) over the in-memory network, with real wasm engines and real signatures: every upload
 * lands inside its put window by the store's clock; miners that gathered the same windows hold the
 * same θ bit for bit; a miner stopped for windows catches up from its snapshot onto the others' θ; a
 * lost device is recovered from the last snapshot; uploads that fail are retried inside the put
 * window, and a window that cannot be uploaded costs that window only; a stop mid-window ends the
 * loop; a run whose put window cannot fit the chain is refused at start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { classifyUploadTime, putWindowAnchorBlock, putWindowBounds, WindowTimingError, windowOfBlock } from '../../src/core/clock.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import type { TrainerEngine } from '../../src/model/engine.ts';
import { UnavailableError } from '../../src/net/errors.ts';
import { HotkeyBucketStorage } from '../../src/net/hotkey-buckets.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import type { Storage } from '../../src/net/types.ts';
import { honest } from '../../src/peer/behaviours.ts';
import type { PeerEvent } from '../../src/peer/events.ts';
import { MinerLoop, windowPace, type EngineProvider, type LoopClock } from '../../src/peer/miner-loop.ts';
import { MemoryPeerPersistence, SnapshotVersionError, type PeerSnapshot } from '../../src/peer/snapshots.ts';
import { FIRST_MINER_UID, Simulation, simulationConfig, VALIDATOR_UID } from './sim-harness.ts';
import { bucketName, S3_WRITE, startS3rver } from './s3rver.ts';
import { bitsOf } from './float-bits.ts';

const simulations: Simulation[] = [];
const loops: MinerLoop[] = [];
afterEach(async () => {
  for (const loop of loops.splice(0)) await loop.stop();
  for (const sim of simulations.splice(0)) await sim.dispose();
});

/**
 * A wasm engine whose "device" can be lost, as a GPU device is by a driver reset: after `lose()`
 * every call fails, and `lossReason` names the loss (a WebGPU engine reads it from `device.lost`).
 * The engine underneath is real, and is disposed at the loss, as a lost device's buffers are gone.
 */
class LosableDevice {
  readonly engines: TrainerEngine[] = [];
  private lost: { engine: TrainerEngine; reason: string } | undefined;

  provider(): EngineProvider {
    return {
      create: async (config, params, { optimizerState }) => {
        const inner = new WasmTrainerEngine(ort);
        const info = await inner.init(config, params, { optimizerState });
        const engine = new Proxy(inner, {
          get: (target, property): unknown => {
            if (property === 'lossReason') return (error: unknown) => Promise.resolve(this.lost?.engine === engine && error instanceof Error && error.message.includes('device lost') ? this.lost.reason : undefined);
            const value: unknown = Reflect.get(target, property, target);
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              if (this.lost?.engine === engine && property !== 'dispose') return Promise.reject(new Error(`device lost: ${this.lost.reason}`));
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
        this.engines.push(engine);
        return { engine, info: { ...info, reason: 'a wasm engine behind a device that can be lost' } };
      },
    };
  }

  lose(engine: TrainerEngine, reason: string): void {
    this.lost = { engine, reason };
  }
}

interface LoopMiner {
  readonly uid: number;
  readonly hotkey: string;
  readonly events: PeerEvent[];
  readonly persistence: MemoryPeerPersistence;
  readonly loop: MinerLoop;
  /** `loop.run()`, once `go` started it. */
  running: Promise<void>;
}

/** Starts the loops of `miners` together (so no one mines windows alone before the others have synced). */
function go(...miners: LoopMiner[]): void {
  for (const m of miners) m.running = m.loop.run();
}

/** Snapshots in memory, each θ also kept by window so that miners can be compared at a window they both finished. */
class RecordingPersistence extends MemoryPeerPersistence {
  override save(snapshot: PeerSnapshot): Promise<void> {
    const byWindow = savedParams.get(snapshot.hotkey) ?? new Map<number, Float32Array>();
    byWindow.set(snapshot.window, snapshot.params.slice());
    savedParams.set(snapshot.hotkey, byWindow);
    return super.save(snapshot);
  }
}

async function simulation(): Promise<Simulation> {
  const sim = await Simulation.create(simulationConfig(), []);
  simulations.push(sim);
  return sim;
}

/**
 * The simulation's virtual clock, yielding to the event loop on every sleep: a loop whose waits
 * never left the microtask queue would run window after window alone, and neither the other loops
 * nor the test would get a turn.
 */
function clockOf(sim: Simulation): LoopClock {
  return {
    sleep: async (ms) => {
      await sim.sleep(ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
    nowMs: () => sim.nowMs,
  };
}

/** Registers `uri` and starts its loop (with `persistence`, to resume a stopped miner). */
async function startMiner(sim: Simulation, uri: string, options: { persistence?: MemoryPeerPersistence; engines?: EngineProvider; storage?: (storage: Storage) => Storage } = {}): Promise<LoopMiner> {
  const signer = await KeyringSigner.fromUris([uri]);
  const hotkey = (await signer.accounts())[0]!.address;
  const uid = sim.network.register({ hotkey });
  const events: PeerEvent[] = [];
  const persistence = options.persistence ?? new RecordingPersistence();
  const storage = sim.network.storage(hotkey);
  const loop = await MinerLoop.start({
    config: sim.config, hotkey, uid, behaviour: honest(), chain: sim.network.chain(), storage: options.storage?.(storage) ?? storage, signer,
    tokens: sim.tokens, persistence, clock: clockOf(sim), onEvent: (event) => events.push(event),
    engines: options.engines ?? {
      create: async (config, params, { optimizerState }) => {
        const engine = new WasmTrainerEngine(ort);
        return { engine, info: await engine.init(config, params, { optimizerState }) };
      },
    },
  });
  loops.push(loop);
  return { uid, hotkey, events, persistence, loop, running: Promise.resolve() };
}

/** Waits (the loops running on) until each of `miners` has persisted window `last`; a loop that ends first fails the test. */
async function untilPersisted(miners: readonly LoopMiner[], last: number): Promise<void> {
  const done = (m: LoopMiner): boolean => m.events.some((e) => e.kind === 'peer-persisted' && e.window >= last);
  let ended: unknown;
  for (const m of miners) void m.running.then(() => (ended ??= new Error(`the loop of uid ${m.uid} ended`)), (error: unknown) => (ended ??= error));
  while (!miners.every(done)) {
    if (ended !== undefined) throw ended instanceof Error ? ended : new Error('a loop ended on a non-Error');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function lastPersisted(miner: LoopMiner): number {
  return Math.max(-1, ...miner.events.flatMap((e) => (e.kind === 'peer-persisted' ? [e.window] : [])));
}

function uploads(events: readonly PeerEvent[]): { window: number; serverTimeMs: number }[] {
  return events.flatMap((e) => (e.kind === 'miner-uploaded' ? [{ window: e.window, serverTimeMs: e.serverTimeMs }] : []));
}

describe('the miner loop on a virtual clock', () => {
  it('uploads every window inside its put window, once, and miners that gathered the same windows end on the same θ', async () => {
    const sim = await simulation();
    const a = await startMiner(sim, '//LoopA');
    const b = await startMiner(sim, '//LoopB');
    go(a, b);
    await untilPersisted([a, b], 4);
    await a.loop.stop();
    await b.loop.stop();
    const { blocksPerWindow, putWindowMs } = sim.config.window;
    for (const m of [a, b]) {
      const sent = uploads(m.events);
      expect(sent.length).toBeGreaterThanOrEqual(4);
      expect(new Set(sent.map((u) => u.window)).size).toBe(sent.length);
      for (const { window, serverTimeMs } of sent) {
        const gate = putWindowBounds(sim.network.blockTimestamp(putWindowAnchorBlock(window, blocksPerWindow)), putWindowMs);
        expect(classifyUploadTime(serverTimeMs, gate), `uid ${m.uid} window ${window}`).toBe('on-time');
      }
      // Each window's outer step took both peers' submissions.
      for (const e of m.events) if (e.kind === 'miner-outer-step' && e.window >= 1) expect(e.peers).toBe(2);
    }
    const common = Math.min(lastPersisted(a), lastPersisted(b));
    expect(uploads(a.events).filter((u) => u.window <= common).map((u) => u.window)).toEqual(uploads(b.events).filter((u) => u.window <= common).map((u) => u.window));
    expect(bitsOf(snapshotOf(a, common))).toEqual(bitsOf(snapshotOf(b, common)));
    // Before its first window each said how fast it trains against the window, measured on its engine.
    const pace = a.events.find((e) => e.kind === 'peer-pace');
    expect(pace).toMatchObject({ fits: true, windowMs: blocksPerWindow * sim.network.hyperparams.blockTimeMs });
    expect(a.events.findIndex((e) => e.kind === 'peer-pace')).toBeLessThan(a.events.findIndex((e) => e.kind === 'miner-uploaded'));
  }, 240_000);

  it('in a run with a start window, trains and sends nothing in its null rounds and mines from the first window after them', async () => {
    const base = simulationConfig();
    // Windows 0 and 1 are null rounds (validatorOffset 1 + peerListWindowMargin 1 from start window 0).
    const sim = await Simulation.create({ ...base, window: { ...base.window, startWindow: 0 } }, []);
    simulations.push(sim);
    const a = await startMiner(sim, '//NullRoundLoop');
    go(a);
    await untilPersisted([a], 3);
    await a.loop.stop();
    expect(a.events.filter((e) => e.kind === 'miner-null-round').map((e) => (e.kind === 'miner-null-round' ? [e.window, e.trainsFrom] : []))).toEqual([[0, 2], [1, 2]]);
    expect(a.events.some((e) => (e.kind === 'miner-trained' || e.kind === 'miner-gathered' || e.kind === 'peer-persisted') && e.window < 2)).toBe(false);
    expect(uploads(a.events).map((u) => u.window).slice(0, 2)).toEqual([2, 3]);
  }, 240_000);

  it('a saved snapshot of an older layout is refused with the reason, and the peer syncs from the network and mines', async () => {
    const sim = await simulation();
    // As an IndexedDB record written by an older version of the app: it does not load.
    class OldLayout extends RecordingPersistence {
      override load(): Promise<PeerSnapshot | undefined> {
        return Promise.reject(new SnapshotVersionError(1));
      }
    }
    const a = await startMiner(sim, '//OldLayoutA', { persistence: new OldLayout() });
    go(a);
    await untilPersisted([a], 2);
    await a.loop.stop();
    const refused = a.events.find((e) => e.kind === 'peer-persist-failed');
    expect(refused?.kind === 'peer-persist-failed' ? refused.message : '').toContain('layout version 1');
    expect(a.events.find((e) => e.kind === 'peer-synced')).toMatchObject({ source: 'init' });
    expect(a.events.some((e) => e.kind === 'peer-resumed')).toBe(false);
    expect(uploads(a.events).length).toBeGreaterThanOrEqual(2);
  }, 240_000);

  it('says with the numbers whether a device finishes a window\'s inner steps within a window', () => {
    const config = simulationConfig();
    const { innerSteps, batchSize } = config.inner;
    const tokens = innerSteps * batchSize * config.model.seqLen;
    // Exactly one window's tokens per window: fits; one token/s less: does not.
    const windowMs = config.window.blocksPerWindow * 1000;
    const exact = windowPace(config, (1000 * tokens) / windowMs, 1000, 'wasm');
    expect(exact).toMatchObject({ fits: true, windowMs });
    expect(exact.windowTrainMs).toBeCloseTo(windowMs, 6);
    const slow = windowPace(config, (1000 * tokens) / windowMs - 1, 1000, 'webgpu');
    expect(slow.fits).toBe(false);
    expect(slow.message).toContain('cannot finish a window in time');
    expect(slow.message).toContain(`a window's ${innerSteps} inner steps take about`);
  });

  it('a miner stopped for windows resumes from its snapshot, catches up, and ends on the other miner\'s θ', async () => {
    const sim = await simulation();
    const a = await startMiner(sim, '//CatchA');
    const b = await startMiner(sim, '//CatchB');
    go(a, b);
    await untilPersisted([a, b], 2);
    // b is stopped (its tab closed); a mines on alone for three more windows.
    await b.loop.stop();
    const stoppedAfter = lastPersisted(b);
    await untilPersisted([a], stoppedAfter + 4);
    // b comes back with its saved state: it resumes after `stoppedAfter` and catches the gap up.
    const back = await startMiner(sim, '//CatchB', { persistence: b.persistence });
    go(back);
    await untilPersisted([back], lastPersisted(a) + 1);
    await untilPersisted([a], lastPersisted(back));
    await a.loop.stop();
    await back.loop.stop();
    const resumed = back.events.find((e) => e.kind === 'peer-resumed');
    expect(resumed?.kind === 'peer-resumed' ? resumed.window : null).toBe(stoppedAfter);
    const missed = back.events.find((e) => e.kind === 'peer-missed');
    expect(missed?.kind === 'peer-missed' ? missed.from : null).toBe(stoppedAfter + 1);
    const common = Math.min(lastPersisted(a), lastPersisted(back));
    expect(bitsOf(snapshotOf(back, common))).toEqual(bitsOf(snapshotOf(a, common)));
  }, 240_000);

  it('recovers a lost device from the last snapshot and keeps uploading', async () => {
    const sim = await simulation();
    const device = new LosableDevice();
    const a = await startMiner(sim, '//LoseA');
    const b = await startMiner(sim, '//LoseB', { engines: device.provider() });
    go(a, b);
    await untilPersisted([a, b], 1);
    device.lose(b.loop.engine, 'the driver was reset');
    const lostAfter = lastPersisted(b);
    await untilPersisted([a, b], lostAfter + 4);
    await a.loop.stop();
    await b.loop.stop();
    const kinds = b.events.map((e) => e.kind);
    expect(kinds).toContain('peer-device-lost');
    expect(kinds).toContain('peer-recovered');
    expect(device.engines.length).toBe(2);
    const lostAt = b.events.findIndex((e) => e.kind === 'peer-device-lost');
    expect(uploads(b.events.slice(lostAt)).length).toBeGreaterThan(0);
    const common = Math.min(lastPersisted(a), lastPersisted(b));
    expect(bitsOf(snapshotOf(b, common))).toEqual(bitsOf(snapshotOf(a, common)));
  }, 240_000);

  it('retries a failing upload inside the put window; an upload that cannot land costs that window only', async () => {
    const sim = await simulation();
    let failures = 0;
    let refuseWindow: number | null = null;
    const flaky = (storage: Storage): Storage => ({
      ...storage,
      head: (bucket, key) => storage.head(bucket, key),
      get: (bucket, key, options) => storage.get(bucket, key, options),
      list: (bucket, prefix) => storage.list(bucket, prefix),
      put: (key, data) => {
        const window = Number(/^gradient-(\d+)-/.exec(key)?.[1] ?? -1);
        // Window 1: two transient failures, then it lands; window `refuseWindow`: it never lands.
        if (window === 1 && failures < 2) {
          failures += 1;
          return Promise.reject(new UnavailableError('the storage endpoint is busy'));
        }
        if (window === refuseWindow) return Promise.reject(new UnavailableError('the storage endpoint is down'));
        return storage.put(key, data);
      },
    });
    refuseWindow = 3;
    const miner = await startMiner(sim, '//Flaky', { storage: flaky });
    go(miner);
    await untilPersisted([miner], 5);
    await miner.loop.stop();
    const retries = miner.events.filter((e) => e.kind === 'peer-upload-retry');
    expect(retries.filter((e) => e.kind === 'peer-upload-retry' && e.window === 1).length).toBe(2);
    const sent = uploads(miner.events).map((u) => u.window);
    expect(sent).toContain(1);
    expect(sent).not.toContain(3);
    expect(sent).toContain(4);
    expect(miner.events.some((e) => e.kind === 'peer-window-failed' && e.window === 3)).toBe(true);
  }, 240_000);

  it('a stop while the window trains ends the loop without uploading it', async () => {
    const sim = await simulation();
    const miner = await startMiner(sim, '//Stopper');
    go(miner);
    while (!miner.events.some((e) => e.kind === 'peer-inner-step')) await new Promise((resolve) => setImmediate(resolve));
    const window = windowOfBlock(sim.network.head, sim.config.window.blocksPerWindow);
    await miner.loop.stop();
    await miner.running;
    expect(uploads(miner.events).filter((u) => u.window >= window)).toEqual([]);
  }, 120_000);

  it('starts from the run\'s initial θ when the lead validator has committed no bucket yet (S3 mode), instead of failing', async () => {
    const sim = await simulation();
    const s3 = await startS3rver(2);
    try {
      const validatorHotkey = sim.network.hotkeyOf(VALIDATOR_UID)!;
      sim.network.setRunValidators([validatorHotkey]);
      const miner = await startMiner(sim, '//NoValidatorBucket', {
        storage: () => new HotkeyBucketStorage({
          endpoint: s3.endpoint, ownHotkey: sim.network.hotkeyOf(FIRST_MINER_UID)!, ownBucket: bucketName(1), writeCredentials: S3_WRITE,
          commitments: () => sim.network.chain().commitments(sim.config.netuid),
        }),
      });
      const synced = miner.events.find((e) => e.kind === 'peer-synced');
      expect(synced?.kind === 'peer-synced' ? synced.source : null).toBe('init');
    } finally {
      await s3.close();
    }
  });

  it('refuses at start a run whose put window cannot fit the chain\'s windows', async () => {
    const sim = await Simulation.create(simulationConfig(), [], undefined, { blockTimeMs: 500 });
    simulations.push(sim);
    await expect(startMiner(sim, '//TooFast')).rejects.toThrow(WindowTimingError);
  });
});


/**
 * θ that a miner saved after `window` (its snapshot store keeps the newest only, so the events'
 * digests cannot be compared across windows): read from the snapshot when it is that window.
 */
function snapshotOf(miner: LoopMiner, window: number): Float32Array {
  const saved = savedParams.get(miner.hotkey)?.get(window);
  if (saved === undefined) throw new Error(`uid ${miner.uid} saved no θ for window ${window}`);
  return saved;
}

/** Every θ each miner saved, by window (recorded by `RecordingPersistence`). */
const savedParams = new Map<string, Map<number, Float32Array>>();
