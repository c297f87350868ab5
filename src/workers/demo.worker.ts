/**
 * The Demo's whole subnet in one module Worker (issue #9): N virtual miners and one validator
 * running the real loops (src/peer/miner.ts, src/peer/validator.ts) over the in-memory Chain and
 * Storage (src/net/memory-network.ts), with keyring signatures and the real trainer engines (tiny
 * preset; src/gpu/select-engine.ts decides WebGPU or wasm once, and every engine uses that
 * backend; on WebGPU all engines share one GPUDevice and run one after another). The worker only decides *when* things happen, on a manual clock: blocks, the put
 * window, each behaviour's upload time. Every loss, score and weight comes from the loops.
 *
 * The subnet is the one the tests simulate (src/peer/simulated-subnet.ts). A centralised baseline
 * engine trains, each window, on exactly the batches the honest miners trained
 * (src/peer/centralised-baseline.ts), so the chart compares the network with a single machine that
 * saw the same data; both are measured on the same fixed evaluation set.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { createTrainerEngine, type AnyEngine } from '../gpu/select-engine.ts';
import { WasmTrainerEngine } from '../gpu/wasm-engine.ts';
import { WebGpuTrainerEngine } from '../gpu/webgpu-engine.ts';
import { behaviourByName } from '../peer/behaviours.ts';
import { EVALUATION_SEED, evaluationBatches, evaluationLoss, trainCentralisedWindow, type EvaluationSet } from '../peer/centralised-baseline.ts';
import type { WindowEvent } from '../peer/events.ts';
import { FIRST_MINER_UID, SimulatedSubnet, type SimulatedSubnetOptions } from '../peer/simulated-subnet.ts';
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
  readonly subnet: DemoSubnet;
  readonly baseline: AnyEngine;
  readonly engines: AnyEngine[];
  readonly evaluation: EvaluationSet;
  readonly parameterCount: number;
  /** The copier's victim: the first honest miner. */
  readonly victim: number;
  window: number;
}

/** The shared simulated subnet (src/peer/simulated-subnet.ts) with the Demo's keys and randomness. */
class DemoSubnet extends SimulatedSubnet {
  static async build(options: SimulatedSubnetOptions): Promise<DemoSubnet> {
    const subnet = new DemoSubnet(options);
    await subnet.populate();
    return subnet;
  }
}

let tokenStream: Promise<Uint8Array> | null = null;
let run: Run | null = null;
/** Events of the window being run (every miner's and the validator's `onEvent` appends here). */
let windowEvents: WindowEvent[] = [];
let forward: ((event: WindowEvent) => void) | undefined;

async function disposeRun(): Promise<void> {
  const previous = run;
  run = null;
  // Newest first: the first engine owns the shared GPUDevice (if any) and destroys it on dispose.
  for (const engine of [...(previous?.engines ?? [])].reverse()) await engine.dispose();
}

const api: DemoWorkerApi = {
  async start(options) {
    const started = performance.now();
    await disposeRun();
    const config = demoConfig(options);
    tokenStream ??= loadDevnetTokens(self.location.origin);
    const tokens = await tokenStream;

    // One backend decision for the whole network. On WebGPU every further engine (miners,
    // validator, baseline) gets the first engine's GPUDevice: one device, time-multiplexed, since
    // the loops await each engine call before the next peer's (issue #9). On wasm the engines share
    // the worker's CPU threads the same way.
    const first = await createTrainerEngine(ort, config, undefined, { backend: options.backend });
    const engines: AnyEngine[] = [first.engine];
    const sharedDevice = first.engine instanceof WebGpuTrainerEngine ? first.engine.device : null;
    let firstHandedOut = false;
    const engine = async (): Promise<AnyEngine> => {
      if (!firstHandedOut) {
        firstHandedOut = true;
        return first.engine;
      }
      // Not the device's owner: only the first engine destroys it, last, in disposeRun.
      const created = sharedDevice === null ? new WasmTrainerEngine(ort) : new WebGpuTrainerEngine(ort, sharedDevice, false);
      await created.init(config);
      engines.push(created);
      return created;
    };
    const minerUids = options.behaviours.map((_, i) => FIRST_MINER_UID + i);
    const victim = minerUids[options.behaviours.indexOf('honest')] ?? minerUids[0]!;
    const subnet = await DemoSubnet.build({
      config, tokens, engine, keyPrefix: 'Demo',
      behaviours: options.behaviours.map((name) => behaviourByName(name, victim)),
      randomness: (window) => (Math.imul(window + 1, 0x9e3779b1) ^ options.seed) >>> 0,
      onEvent: (event) => {
        windowEvents.push(event);
        forward?.(event);
      },
    });
    const baseline = await engine();
    run = { subnet, baseline, engines, evaluation: evaluationBatches(config, tokens, EVALUATION_SEED, EVALUATION_BATCHES), parameterCount: first.info.parameterCount, victim, window: FIRST_WINDOW };
    return { backend: first.info.backend, reason: first.info.reason, engines: engines.length, sharedDevice: sharedDevice !== null, parameterCount: first.info.parameterCount, minerUids, firstWindow: FIRST_WINDOW, elapsedMs: performance.now() - started };
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
    // The baseline trains on exactly the batches the honest miners trained this window (the one centralised baseline, src/peer/centralised-baseline.ts).
    const honestUids = subnet.peers.filter((p) => p.behaviour.name === 'honest').map((p) => p.uid);
    const report = await subnet.runWindow(window, true, subnet.peers, async () => {
      trainMs = performance.now() - trainStarted;
      await trainCentralisedWindow(r.baseline, subnet.config, subnet.tokens, honestUids, window);
    });
    if (report === null) throw new Error('unreachable: the Demo validates every window');
    r.window += 1;

    const networkLoss = await evaluationLoss(subnet.validatorEngine, r.evaluation);
    const baselineLoss = await evaluationLoss(r.baseline, r.evaluation);
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
