/**
 * The Demo's whole subnet in one module Worker (issue #9): N virtual miners and one validator
 * running the real loops (src/peer/miner.ts, src/peer/validator.ts) over the in-memory Chain and
 * Storage (src/net/memory-network.ts), with keyring signatures and the real trainer engines (tiny
 * preset; src/gpu/select-engine.ts decides WebGPU or wasm once, and every engine uses that
 * backend; on WebGPU all engines share one GPUDevice and run one after another: `EngineFamily`).
 * The worker only decides *when* things happen, on a manual clock: blocks, the put window, each
 * behaviour's upload time. Every loss, score and weight comes from the loops.
 *
 * The subnet is the one the tests simulate (src/peer/simulated-subnet.ts). A centralised baseline
 * engine trains, each window, on exactly the batches the honest miners trained, as data-parallel
 * AdamW does (src/peer/centralised-baseline.ts, issue #19): H steps per window, each on the union of
 * the honest peers' batches of that inner step, so the chart compares the network with one machine
 * that saw the same data in as many optimiser steps; both are measured on the same fixed evaluation set.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { EngineFamily, type AnyEngine } from '../gpu/select-engine.ts';
import { behaviourByName } from '../peer/behaviours.ts';
import { dataParallelConfig, EVALUATION_SEED, evaluationBatches, evaluationLoss, regroupEvaluation, trainDataParallelWindow, type EvaluationSet } from '../peer/centralised-baseline.ts';
import type { WindowEvent } from '../peer/events.ts';
import { FIRST_MINER_UID, SimulatedSubnet } from '../peer/simulated-subnet.ts';
import { demoConfig } from './demo-config.ts';
import { DemoNotStartedError, type DemoStartInfo, type DemoWindowReport, type DemoWorkerApi } from './demo-api.ts';
import { installErrorTransfer } from './error-transfer.ts';
import { loadDevnetTokens } from './page-signer.ts';

// Typed errors reach the page as themselves (class, code, fields), not as message strings.
installErrorTransfer();

ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency)) : 1;

const FIRST_WINDOW = 2;
/** Batches of the shared evaluation set on which network and baseline are measured. */
const EVALUATION_BATCHES = 2;

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

/** The Demo's run: the shared subnet, the centralised baseline beside it, and the engines they use. */
interface Run {
  readonly subnet: SimulatedSubnet;
  /** The data-parallel baseline: an engine whose batch is `baselinePeers` peers' batches. */
  baseline: AnyEngine;
  baselinePeers: number;
  readonly engines: EngineFamily;
  readonly evaluation: EvaluationSet;
  readonly parameterCount: number;
  /** The copier's victim: the first honest miner. */
  readonly victim: number;
  window: number;
}

let tokenStream: Promise<Uint8Array> | null = null;
let run: Run | null = null;
/** Events of the window being run (every miner's and the validator's `onEvent` appends here). */
let windowEvents: WindowEvent[] = [];
let forward: ((event: WindowEvent) => void) | undefined;

async function disposeRun(): Promise<void> {
  const previous = run;
  run = null;
  await previous?.engines.dispose();
}

const api: DemoWorkerApi = {
  async start(options) {
    const started = performance.now();
    await disposeRun();
    const config = demoConfig(options);
    tokenStream ??= loadDevnetTokens(self.location.origin);
    const tokens = await tokenStream;

    // One backend decision for the whole network; on WebGPU every engine shares one device.
    const engines = await EngineFamily.create(ort, config, { backend: options.backend });
    const { info } = engines.first;
    const minerUids = options.behaviours.map((_, i) => FIRST_MINER_UID + i);
    const victim = minerUids[options.behaviours.indexOf('honest')] ?? minerUids[0]!;
    const subnet = await SimulatedSubnet.build({
      config, tokens, engine: () => engines.next(), keyPrefix: 'Demo',
      behaviours: options.behaviours.map((name) => behaviourByName(name, victim)),
      randomness: (window) => (Math.imul(window + 1, 0x9e3779b1) ^ options.seed) >>> 0,
      onEvent: (event) => {
        windowEvents.push(event);
        forward?.(event);
      },
    });
    // Sized for the honest peers the Demo starts with; `runWindow` resizes it when a behaviour changes that count.
    const baselinePeers = Math.max(1, options.behaviours.filter((name) => name === 'honest').length);
    const baseline = await engines.another(dataParallelConfig(config, baselinePeers));
    run = { subnet, baseline, baselinePeers, engines, evaluation: evaluationBatches(config, tokens, EVALUATION_SEED, EVALUATION_BATCHES), parameterCount: info.parameterCount, victim, window: FIRST_WINDOW };
    return { backend: info.backend, reason: info.reason, engines: engines.size, sharedDevice: engines.sharedDevice !== null, parameterCount: info.parameterCount, minerUids, firstWindow: FIRST_WINDOW, elapsedMs: performance.now() - started };
  },

  async runWindow(onEvent) {
    const r = run;
    if (r === null) throw new DemoNotStartedError();
    const started = performance.now();
    const window = r.window;
    const events: WindowEvent[] = [];
    windowEvents = events;
    forward = onEvent;
    const { subnet } = r;
    const trainStarted = performance.now();
    let trainMs = 0;
    // The baseline trains on exactly the batches the honest miners trained this window, in H data-parallel steps (src/peer/centralised-baseline.ts).
    const honestUids = subnet.peers.filter((p) => p.behaviour.name === 'honest').map((p) => p.uid);
    if (honestUids.length > 0 && honestUids.length !== r.baselinePeers) {
      // Another number of honest peers: the same θ and AdamW state on an engine whose batch holds them all.
      const previous = r.baseline;
      r.baseline = await r.engines.another(dataParallelConfig(subnet.config, honestUids.length), await previous.exportParams(), { optimizerState: await previous.exportOptimizerState() });
      r.baselinePeers = honestUids.length;
      await r.engines.retire(previous);
    }
    const report = await subnet.runWindow(window, true, subnet.peers, async () => {
      trainMs = performance.now() - trainStarted;
      await trainDataParallelWindow(r.baseline, subnet.config, subnet.tokens, honestUids, window);
    });
    if (report === null) throw new Error('unreachable: the Demo validates every window');
    r.window += 1;

    const networkLoss = await evaluationLoss(subnet.validatorEngine, r.evaluation);
    const baselineLoss = await evaluationLoss(r.baseline, regroupEvaluation(r.evaluation, r.baselinePeers));
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
      tokens: steps * subnet.config.inner.batchSize * subnet.config.model.seqLen,
      trainMs,
      meanBytesSent: sent.length === 0 ? null : mean(sent),
      denseBytes: r.parameterCount * 4,
      elapsedMs: performance.now() - started,
    } satisfies DemoWindowReport;
  },

  async setBehaviour(uid, behaviour) {
    const r = run;
    if (r === null) throw new DemoNotStartedError();
    await r.subnet.setBehaviour(uid, behaviourByName(behaviour, r.victim));
  },

  async dispose() {
    await disposeRun();
  },
};

Comlink.expose(api);
export type { DemoStartInfo };
