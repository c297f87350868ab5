/**
 * The Demo view (issue #9): a whole network in one tab, with adversaries. Two modes:
 * - real (default): N virtual miners and one validator run the real loops in `demo.worker.ts`
 *   (trainer engines, compression, keyring signatures, in-memory chain and storage, the scoring
 *   module), one window at a time;
 * - simulated: the validator's measurements come from `SyntheticNetwork` (seeded behaviour
 *   models, labelled on the page) and go through the real scoring module, fast enough to watch
 *   hundreds of windows.
 * This file only wires the parts in src/ui/demo/: the settings form (demo-settings.ts), the
 * controller that runs the network (demo-controller.ts) and what the page shows of it
 * (demo-render.ts, with the dashboard's charts and tables).
 */
import type { RunConfig } from '../../core/config.ts';
import { mountDashboard, type MountedDashboard } from '../dashboard/dashboard.ts';
import { DashboardStore, type DashboardModel } from '../dashboard/model.ts';
import { bindDemoForm, DemoController, type DemoControllerHooks } from '../demo/demo-controller.ts';
import { DemoReport, demoPage } from '../demo/demo-render.ts';
import { DemoForm, demoScoringConfig, initialDemoSettings, type DemoSettings } from '../demo/demo-settings.ts';
import { RealDemoNetwork } from '../demo/real-network.ts';
import { FIRST_PEER_UID } from '../demo/synthetic-network.ts';
import type { BehaviourName } from '../../peer/behaviours.ts';
import type { BackendChoice } from './capability-panel.ts';

export type { DemoEngine, DemoMode, DemoSettings } from '../demo/demo-settings.ts';

export interface DemoView {
  readonly element: HTMLElement;
  readonly store: DashboardStore;
  readonly dashboard: MountedDashboard;
  settings(): DemoSettings;
  /** Restarts the network with new settings (missing fields keep their value). */
  restart(settings?: Partial<DemoSettings>): Promise<void>;
  /** Runs `count` windows now (a test hook; also what "step" does with 1). */
  step(count?: number): Promise<DashboardModel>;
  /** What the real network's start reported (backend and why), once started. */
  backendInfo(): { backend: string; reason: string; engines: number; sharedDevice: boolean } | null;
  /** The behaviour of each uid, for reading the dashboard. */
  behaviourByUid(): Record<string, BehaviourName>;
  /** Gives one peer another behaviour from the next window on (what its row's select does). */
  changeBehaviour(uid: number, behaviour: BehaviourName): Promise<void>;
  pause(): void;
  play(): void;
  running(): boolean;
}

export function createDemoView(config: RunConfig, onRender: (model: DashboardModel) => void, backend: () => BackendChoice): DemoView {
  const initial = initialDemoSettings(config);
  const store = new DashboardStore('demo', demoScoringConfig(config, initial));
  const dashboard = mountDashboard(store, {}, onRender);
  const real = new RealDemoNetwork(store);
  const report = new DemoReport(store, real);
  const form = new DemoForm(initial);
  const problem = (error: unknown): void => report.showProblem(error);
  const showBehaviours = (settings: DemoSettings): void =>
    form.showBehaviours(settings.behaviours, (uid, behaviour) => {
      controller.changeBehaviour(uid, behaviour).catch(problem);
    });
  const describe = (): void => report.describe(controller.settings, controller.playing);
  const hooks: DemoControllerHooks = {
    describe,
    refresh: () => {
      report.renderEvaluations(controller.settings);
      describe();
    },
    running: (playing) => {
      if (playing) report.hideProblem();
      form.showRunning(playing);
    },
    restarted: () => {
      const settings = controller.settings;
      report.renderEvaluations(settings);
      showBehaviours(settings);
      form.showSettings(settings);
      report.clearNotices();
      report.describeMode(settings.mode);
      describe();
    },
    change: (text) => report.sayChange(text),
    problem,
  };
  const controller = new DemoController(config, store, real, backend, initial, hooks);
  bindDemoForm(form, controller, config, hooks);
  showBehaviours(initial);
  report.renderEvaluations(initial);
  report.describeMode(initial.mode);
  describe();

  return {
    element: demoPage(form.controls(), form.settingsPanel(), report, dashboard.element),
    store,
    dashboard,
    settings: () => controller.settings,
    restart: (changes) => controller.restart(changes),
    step: async (count = 1) => {
      for (let i = 0; i < count; i++) await controller.stepOnce();
      dashboard.flush();
      return store.model();
    },
    backendInfo: () => (real.info === null ? null : { backend: real.info.backend, reason: real.info.reason, engines: real.info.engines, sharedDevice: real.info.sharedDevice }),
    behaviourByUid: () => Object.fromEntries(controller.settings.behaviours.map((b, i) => [String(FIRST_PEER_UID + i), b])),
    changeBehaviour: (uid, behaviour) => controller.changeBehaviour(uid, behaviour),
    pause: () => controller.pause(),
    play: () => controller.play(),
    running: () => controller.playing,
  };
}
