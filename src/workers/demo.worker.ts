/**
 * The Demo's whole subnet in one module Worker (issue #9): N virtual miners and one validator
 * running the real loops (src/peer/miner.ts, src/peer/validator.ts) over the in-memory Chain and
 * Storage (src/net/memory-network.ts), with keyring signatures and the real trainer engines (tiny
 * preset; src/gpu/select-engine.ts decides WebGPU or wasm once, and every engine uses that
 * backend; on WebGPU all engines share one GPUDevice and run one after another). The worker only decides *when* things happen, on a manual clock: blocks, the put
 * window, each behaviour's upload time. Every loss, score and weight comes from the loops.
 *
 * A centralised baseline engine trains, each window, on exactly the tokens the honest miners were
 * assigned (their H batches one after another), so the chart compares the network with a single
 * machine that saw the same data; both are measured on the same held-out sequences.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { firstBlockOfWindow, putWindowAnchorBlock, putWindowBounds } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import { batchesForPool, batchTokens, minerPool, sequenceCount, type SequenceExample } from '../core/data/assignment.ts';
import { parseShardManifest } from '../core/data/manifest.ts';
import { loadTokenStream } from '../core/data/shard-loader.ts';
import { tinyRunConfig } from '../core/run-config.ts';
import { createTrainerEngine, type AnyEngine } from '../gpu/select-engine.ts';
import { WasmTrainerEngine } from '../gpu/wasm-engine.ts';
import { WebGpuTrainerEngine } from '../gpu/webgpu-engine.ts';
import { parameterLayout } from '../model/params.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import { MemoryNetwork } from '../net/memory-network.ts';
import type { TimeGate } from '../net/types.ts';
import { behaviourByName } from '../peer/behaviours.ts';
import type { WindowEvent } from '../peer/events.ts';
import { Miner } from '../peer/miner.ts';
import { MemoryPersistence, Validator } from '../peer/validator.ts';
import { DemoNotStartedError, type DemoNetworkOptions, type DemoStartInfo, type DemoWindowReport, type DemoWorkerApi } from './demo-api.ts';

ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency)) : 1;

const VALIDATOR_URI = '//DemoValidator';
const OWNER_URI = '//DemoOwner';
const FIRST_WINDOW = 2;
/** Held-out sequences (the last ones of the stream) on which network and baseline are measured. */
const HELD_OUT_BATCHES = 2;

/**
 * The tiny preset with the demo's documented overrides (the same as the adversarial simulation's,
 * test/unit/sim-harness.ts; none changes a scoring formula): the whole assigned pool is trained
 * (`poolSequences` = H·batch, so the own-data check samples trained sequences), 6 gather peers and
 * 2 reserves, 5 evaluations per window of 16 sequences, copy detection after 5 outer steps; plus
 * the user's key parameters.
 */
function demoConfig(options: DemoNetworkOptions): RunConfig {
  const base = tinyRunConfig();
  const poolSequences = options.innerSteps * base.inner.batchSize;
  return {
    ...base,
    runId: 'tiny-demo',
    inner: { ...base.inner, innerSteps: options.innerSteps },
    compression: { ...base.compression, topk: options.topk, errorFeedbackDecay: options.errorFeedbackDecay },
    data: { ...base.data, poolSequences },
    scoring: {
      ...base.scoring,
      gatherPeers: 6,
      reservePeers: 2,
      uidsPerWindow: 5,
      // With fewer inner steps than 4 the pool holds fewer than 16 sequences; the evaluation then
      // uses the whole (trained) pool rather than sequences the peer never trained on.
      evalSequences: Math.min(16, poolSequences),
      overlapGraceSteps: 5,
      evalLrFactor: options.evalLrFactor,
    },
  };
}

async function loadTokens(): Promise<Uint8Array> {
  const base = new URL('/data/', self.location.origin);
  const manifest = parseShardManifest(await (await fetch(new URL('manifest.json', base))).json());
  return loadTokenStream(manifest, async (file) => new Uint8Array(await (await fetch(new URL(file, base))).arrayBuffer()));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

interface Run {
  readonly config: RunConfig;
  readonly network: MemoryNetwork;
  readonly miners: Miner[];
  readonly validator: Validator;
  readonly validatorEngine: AnyEngine;
  readonly baseline: AnyEngine;
  readonly engines: AnyEngine[];
  readonly tokens: Uint8Array;
  readonly heldOut: SequenceExample[];
  readonly parameterCount: number;
  readonly clock: { now: number };
  window: number;
}

let tokenStream: Promise<Uint8Array> | null = null;
let run: Run | null = null;
/** Events of the window being run (every miner's and the validator's `onEvent` appends here). */
let windowEvents: WindowEvent[] = [];
let forward: ((event: WindowEvent) => void) | undefined;
const collect = (event: WindowEvent): void => {
  windowEvents.push(event);
  forward?.(event);
};

async function disposeRun(): Promise<void> {
  const previous = run;
  run = null;
  // Newest first: the first engine owns the shared GPUDevice (if any) and destroys it on dispose.
  for (const engine of [...(previous?.engines ?? [])].reverse()) await engine.dispose();
}

function advanceToBlock(r: Run, block: number): void {
  while (r.network.head < block) {
    r.clock.now = Math.max(r.clock.now, r.network.blockTimestamp(r.network.head) + r.config.window.blockTimeMs);
    r.network.produceBlock();
  }
}

const api: DemoWorkerApi = {
  async start(options) {
    const started = performance.now();
    await disposeRun();
    const config = demoConfig(options);
    tokenStream ??= loadTokens();
    const tokens = await tokenStream;
    const clock = { now: Date.UTC(2026, 0, 1) };
    const network = new MemoryNetwork({
      netuid: config.netuid,
      clock: () => clock.now,
      hyperparams: { tempo: 360, commitRevealEnabled: false, revealPeriodEpochs: 1, weightsRateLimit: 0, weightsVersionKey: 0n, minAllowedWeights: 1, blockTimeMs: config.window.blockTimeMs },
    });
    const signer = await KeyringSigner.fromUris([VALIDATOR_URI, OWNER_URI, ...options.behaviours.map((_, i) => `//DemoMiner${i}`)]);
    const addresses = (await signer.accounts()).map((a) => a.address);
    const validatorHotkey = addresses[0]!;
    network.register({ hotkey: validatorHotkey, stake: 1000, validatorPermit: true });
    network.register({ hotkey: addresses[1]! }); // uid 1: the burn uid of the tiny preset

    // One backend decision for the whole network. On WebGPU every further engine (miners,
    // validator, baseline) gets the first engine's GPUDevice: one device, time-multiplexed, since
    // the loops below await each engine call before the next peer's (issue #9). On wasm the
    // engines share the worker's CPU threads the same way.
    const engines: AnyEngine[] = [];
    const first = await createTrainerEngine(ort, config, undefined, { backend: options.backend });
    engines.push(first.engine);
    const backend = first.info.backend;
    const sharedDevice = first.engine instanceof WebGpuTrainerEngine ? first.engine.device : null;
    const engine = async (): Promise<AnyEngine> => {
      let created: AnyEngine;
      if (sharedDevice === null) {
        created = new WasmTrainerEngine(ort);
        await created.init(config);
      } else {
        // Not the device's owner: only the first engine destroys it, last, in disposeRun.
        created = new WebGpuTrainerEngine(ort, sharedDevice, false);
        await created.init(config);
      }
      engines.push(created);
      return created;
    };

    const layout = parameterLayout(config.model);
    const minerUids = options.behaviours.map((_, i) => i + 2);
    const victim = minerUids[options.behaviours.indexOf('honest')] ?? minerUids[0]!;
    const miners: Miner[] = [];
    for (const [i, name] of options.behaviours.entries()) {
      const hotkey = addresses[2 + i]!;
      const uid = network.register({ hotkey });
      miners.push(
        new Miner({
          config, layout, signer, hotkey, uid, tokens, validatorHotkey,
          engine: i === 0 ? first.engine : await engine(),
          behaviour: behaviourByName(name, victim),
          storage: network.storage(hotkey),
          hotkeyOf: (u) => network.hotkeyOf(u),
          minerUids: () => minerUids,
          onEvent: collect,
        }),
      );
    }
    const validatorEngine = await engine();
    const baseline = await engine();
    const total = sequenceCount(tokens.length, config.model.seqLen);
    const batch = config.inner.batchSize;
    const heldOut = Array.from({ length: HELD_OUT_BATCHES }, (_, b) =>
      batchTokens(tokens, Array.from({ length: batch }, (_, j) => total - 1 - (b * batch + j)), config.model.seqLen),
    );
    const validator = new Validator({
      config, layout, tokens, signer,
      engine: validatorEngine,
      storage: network.storage(validatorHotkey),
      chain: network.chain(),
      hotkey: validatorHotkey,
      persistence: new MemoryPersistence(),
      randomness: (window) => (Math.imul(window + 1, 0x9e3779b1) ^ options.seed) >>> 0,
      onEvent: collect,
    });
    run = { config, network, miners, validator, validatorEngine, baseline, engines, tokens, heldOut, parameterCount: first.info.parameterCount, clock, window: FIRST_WINDOW };
    return { backend, reason: first.info.reason, engines: engines.length, sharedDevice: sharedDevice !== null, parameterCount: first.info.parameterCount, minerUids, firstWindow: FIRST_WINDOW, elapsedMs: performance.now() - started };
  },

  async runWindow(onEvent) {
    const r = run;
    if (r === null) throw new DemoNotStartedError();
    const started = performance.now();
    const window = r.window;
    const events: WindowEvent[] = [];
    windowEvents = events;
    forward = onEvent;
    const { blocksPerWindow, putWindowMs } = r.config.window;

    advanceToBlock(r, firstBlockOfWindow(window, blocksPerWindow));
    const trainStarted = performance.now();
    for (const miner of r.miners) await miner.prepare(window);
    const trainMs = performance.now() - trainStarted;

    // The baseline trains on the honest miners' assigned batches of this window, one after another.
    const total = sequenceCount(r.tokens.length, r.config.model.seqLen);
    const honestBatches = r.miners
      .filter((m) => m.behaviour.name === 'honest')
      .flatMap((m) => batchesForPool(minerPool(m.uid, window, r.config, total), r.config.inner.innerSteps, r.config.inner.batchSize))
      .map((ids) => batchTokens(r.tokens, ids, r.config.model.seqLen));
    if (honestBatches.length > 0) {
      await r.baseline.trainInner(honestBatches, honestBatches.length);
      // Keep the trained weights: pseudoGradient restores θ0, so apply Δ back as an outer step of 1.
      const delta = await r.baseline.pseudoGradient();
      await r.baseline.applyOuter(delta);
    }

    advanceToBlock(r, putWindowAnchorBlock(window, blocksPerWindow));
    const opened = r.network.blockTimestamp(putWindowAnchorBlock(window, blocksPerWindow));
    const gate: TimeGate = putWindowBounds(opened, putWindowMs);
    const order = [...r.miners].sort((a, b) => a.behaviour.uploadDelayMs(putWindowMs) - b.behaviour.uploadDelayMs(putWindowMs) || a.uid - b.uid);
    for (const miner of order) {
      r.clock.now = Math.max(r.clock.now, opened + miner.behaviour.uploadDelayMs(putWindowMs));
      await miner.upload(window, gate);
    }
    r.clock.now = Math.max(r.clock.now, gate.timeMaxMs + 1);
    const report = await r.validator.runWindow(window);
    for (const miner of r.miners) await miner.finishWindow(window, gate);
    r.window += 1;

    const networkLoss = mean(await r.validatorEngine.evalLoss(r.heldOut));
    const baselineLoss = mean(await r.baseline.evalLoss(r.heldOut));
    const trained = events.flatMap((e) => (e.kind === 'miner-trained' ? [e.meanLoss] : []));
    const sent = events.flatMap((e) => (e.kind === 'miner-compressed' ? [e.bytes] : []));
    const steps = events.flatMap((e) => (e.kind === 'miner-trained' ? [e.steps] : [])).reduce((a, b) => a + b, 0);
    return {
      window,
      events,
      result: report.result,
      networkLoss,
      baselineLoss,
      meanInnerLoss: trained.length === 0 ? null : mean(trained),
      tokens: steps * r.config.inner.batchSize * r.config.model.seqLen,
      trainMs,
      meanBytesSent: sent.length === 0 ? null : mean(sent),
      denseBytes: r.parameterCount * 4,
      elapsedMs: performance.now() - started,
    } satisfies DemoWindowReport;
  },

  async dispose() {
    await disposeRun();
  },
};

Comlink.expose(api);
export type { DemoStartInfo };
