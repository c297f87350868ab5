/**
 * The page side of the real demo network: starts `demo.worker.ts`, runs windows there and turns
 * its typed events and reports into the Demo dashboard (timeline as events arrive; losses, traffic
 * and the validator's scoring result after each window).
 */
import * as Comlink from 'comlink';
import type { BehaviourName } from '../../peer/behaviours.ts';
import type { WindowEvent } from '../../peer/events.ts';
import type { DemoNetworkOptions, DemoStartInfo, DemoWindowReport, DemoWorkerApi } from '../../workers/demo-api.ts';
import type { DashboardStore, WindowPhase } from '../dashboard/model.ts';
import { validatorPhase } from '../dashboard/validator-phases.ts';
import { LastEvaluations } from './evaluations.ts';

/**
 * The timeline stage an event advances, with its detail in words: the miner stages as counts over
 * the simulated peers, the validator's as the Validate view reads them (src/ui/dashboard/validator-phases.ts),
 * except the evaluations, counted too.
 */
function phaseOf(event: WindowEvent, counts: Map<string, number>): { phase: WindowPhase; detail: string } | null {
  const bump = (key: string): number => {
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return n;
  };
  switch (event.kind) {
    case 'miner-trained':
      return { phase: 'train', detail: `${bump('train')} peers trained` };
    case 'miner-compressed':
      return { phase: 'compress', detail: `${bump('compress')} compressed` };
    case 'miner-signed':
      return { phase: 'sign', detail: `${bump('sign')} signed` };
    case 'miner-uploaded':
      return { phase: 'submit', detail: `${bump('submit')} uploaded` };
    case 'validator-evaluated':
      return { phase: 'evaluate', detail: `${bump('evaluate')} evaluated` };
    case 'validator-window-start':
      // The miners' uploads are the submit stage here; the validator's view of it would overwrite their count.
      return null;
    default:
      return validatorPhase(event);
  }
}

export class RealDemoNetwork {
  private worker: Worker | null = null;
  private api: Comlink.Remote<DemoWorkerApi> | null = null;
  info: DemoStartInfo | null = null;
  /** The validator's latest measurement of each peer (the "what the validator measured" panel). */
  readonly evaluations = new LastEvaluations();

  constructor(private readonly store: DashboardStore) {}

  private remote(): Comlink.Remote<DemoWorkerApi> {
    if (this.api === null) {
      this.worker = new Worker(new URL('../../workers/demo.worker.ts', import.meta.url), { type: 'module', name: 'demo' });
      this.api = Comlink.wrap<DemoWorkerApi>(this.worker);
    }
    return this.api;
  }

  async start(options: DemoNetworkOptions): Promise<DemoStartInfo> {
    this.info = null;
    this.evaluations.clear();
    this.info = await this.remote().start(options);
    return this.info;
  }

  /** Miner `uid` behaves as `behaviour` from the next window on; the run (θ, error feedback, every other peer) goes on. Call it between windows. */
  async setBehaviour(uid: number, behaviour: BehaviourName): Promise<void> {
    await this.remote().setBehaviour(uid, behaviour);
  }

  /** Runs one window in the worker and records everything it reports. */
  async runWindow(): Promise<DemoWindowReport> {
    const counts = new Map<string, number>();
    let window: number | null = null;
    const onEvent = (event: WindowEvent): void => {
      if (window !== event.window && event.kind.startsWith('miner-')) window = event.window;
      const step = phaseOf(event, counts);
      if (step !== null && window !== null) this.store.setPhase(window, step.phase, 'active', step.detail);
    };
    const report = await this.remote().runWindow(Comlink.proxy(onEvent));
    const store = this.store;
    this.evaluations.record(report.events);
    for (const phase of ['train', 'compress', 'sign', 'submit', 'gather', 'evaluate', 'rate'] as const) {
      const current = store.phaseOf(report.window, phase);
      store.setPhase(report.window, phase, current?.status === 'pending' ? 'skipped' : 'done', current?.detail ?? '');
    }
    store.setPhase(report.window, 'weights', report.result.setWeightsDue ? 'done' : 'skipped', report.result.setWeightsDue ? 'set on chain' : 'not a weight window');
    store.recordScoring(report.result);
    store.recordLoss(report.window, { local: report.meanInnerLoss, network: report.networkLoss, baseline: report.baselineLoss });
    store.recordTraffic(report.window, { tokens: report.tokens, elapsedMs: report.trainMs, ...(report.meanBytesSent === null ? {} : { bytesSent: report.meanBytesSent }), denseBytes: report.denseBytes });
    return report;
  }

  dispose(): void {
    void this.api?.dispose();
    this.worker?.terminate();
    this.worker = null;
    this.api = null;
  }
}
