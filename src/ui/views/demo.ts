/**
 * The Demo view (issue #9): a whole network in one tab, with adversaries, scored by the real
 * scoring module. Until the virtual peers run the real trainer through the in-memory network
 * (src/peer, src/net/memory-network.ts, src/workers/demo.worker.ts), the validator's measurements
 * come from `SyntheticNetwork` (seeded behaviour models, clearly labelled on the page); the
 * selection, stage 1 and 2 rules, OpenSkill, copy detection and weights are the real code.
 */
import type { RunConfig, ScoringConfig } from '../../core/config.ts';
import { scoreWindow } from '../../core/scoring/index.ts';
import { mountDashboard, type MountedDashboard } from '../dashboard/dashboard.ts';
import { DashboardStore, type DashboardModel } from '../dashboard/model.ts';
import { BEHAVIOUR_LABELS, BEHAVIOURS, CHUNK_ENTRIES, DEFAULT_BEHAVIOURS, FIRST_PEER_UID, SyntheticNetwork, type Behaviour } from '../demo/synthetic-network.ts';
import { h } from '../dom.ts';
import type { BackendChoice } from './capability-panel.ts';

export interface DemoSettings {
  readonly behaviours: readonly Behaviour[];
  readonly seed: number;
  readonly evalLrFactor: number;
  readonly topk: number;
  /** Windows per second while running. */
  readonly speed: number;
}

export interface DemoView {
  readonly element: HTMLElement;
  readonly store: DashboardStore;
  readonly dashboard: MountedDashboard;
  settings(): DemoSettings;
  /** Restarts the network with new settings (missing fields keep their value). */
  restart(settings?: Partial<DemoSettings>): void;
  /** Scores `count` windows now, synchronously (a test hook; also what "step" does with 1). */
  step(count?: number): DashboardModel;
  /** The behaviour of each uid, for reading the dashboard. */
  behaviourByUid(): Record<string, Behaviour>;
  pause(): void;
  play(): void;
  running(): boolean;
}

const SPEEDS = [0.5, 1, 2, 5, 10] as const;
const MAX_PEERS = 16;

function numberInput(id: string, value: number, attributes: Record<string, string | number>): HTMLInputElement {
  return h('input', { id, type: 'number', value, ...attributes });
}

export function createDemoView(config: RunConfig, onRender: (model: DashboardModel) => void, backend: () => BackendChoice): DemoView {
  let settings: DemoSettings = {
    behaviours: DEFAULT_BEHAVIOURS,
    seed: 7,
    evalLrFactor: config.scoring.evalLrFactor,
    topk: 16,
    speed: 2,
  };
  const scoringConfig = (): ScoringConfig => ({ ...config.scoring, evalLrFactor: settings.evalLrFactor });
  const store = new DashboardStore('demo', scoringConfig());
  const dashboard = mountDashboard(store, { traffic: false }, onRender);
  let network = new SyntheticNetwork({ ...settings });
  let timer: number | null = null;

  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  const playButton = h('button', { type: 'button', class: 'primary', 'data-action': 'play' }, 'Run');
  const stepButton = h('button', { type: 'button', 'data-action': 'step' }, 'Step one window');
  const speedSelect = h('select', { id: 'demo-speed' }, ...SPEEDS.map((s) => h('option', { value: s, selected: s === settings.speed }, `${s} windows/s`)));
  const peersInput = numberInput('demo-peers', settings.behaviours.length, { min: 2, max: MAX_PEERS, step: 1 });
  const lrInput = numberInput('demo-eval-lr', settings.evalLrFactor, { min: 0.01, max: 1, step: 0.01 });
  const topkInput = numberInput('demo-topk', settings.topk, { min: 2, max: CHUNK_ENTRIES, step: 2 });
  const efInput = numberInput('demo-ef', config.compression.errorFeedbackDecay, { min: 0, max: 1, step: 0.01, disabled: 'true' });
  const innerInput = numberInput('demo-inner', config.inner.innerSteps, { min: 1, max: 64, step: 1, disabled: 'true' });
  const behaviourList = h('ol', { class: 'behaviours', start: FIRST_PEER_UID });

  const renderBehaviours = (): void => {
    behaviourList.replaceChildren(
      ...settings.behaviours.map((behaviour, i) => {
        const uid = FIRST_PEER_UID + i;
        const select = h('select', { id: `demo-behaviour-${uid}`, 'data-uid': uid }, ...BEHAVIOURS.map((b) => h('option', { value: b, selected: b === behaviour }, BEHAVIOUR_LABELS[b])));
        select.addEventListener('change', () => {
          const next = [...settings.behaviours];
          next[i] = select.value as Behaviour;
          restart({ behaviours: next });
        });
        return h('li', {}, h('label', { for: `demo-behaviour-${uid}` }, `uid ${uid} `), select);
      }),
    );
  };

  const describe = (): void => {
    const state = store.scoringState();
    status.textContent =
      `${timer === null ? 'Paused' : 'Running'} · ${state.lastWindow === null ? 'no window scored yet' : `window ${state.lastWindow} scored`} · ` +
      `${settings.behaviours.length} peers · backend for real training: ${backend() === 'wasm' ? 'CPU (WASM)' : 'automatic'}`;
  };

  const stepOnce = (): void => {
    const scoring = store.scoringConfig();
    const simulated = network.next(store.scoringState(), scoring);
    const w = simulated.inputs.window;
    for (const phase of ['train', 'compress', 'sign', 'submit'] as const) store.setPhase(w, phase, 'skipped', 'simulated');
    const gather = simulated.inputs.gather;
    store.setPhase(w, 'gather', gather === null ? 'skipped' : 'done', gather === null ? 'nothing gathered' : `${gather.gatheredUids.length} gathered, ${gather.skippedUids.length} missing`);
    store.setPhase(w, 'evaluate', 'done', `uids ${simulated.inputs.evalUids.join(', ') || 'none'}`);
    const result = scoreWindow(store.scoringState(), simulated.inputs, scoring);
    store.recordScoring(result);
    store.recordLoss(w, { network: simulated.networkLoss });
    store.setPhase(w, 'rate', 'done', `${result.reasons.filter((r) => r.rule === 'openskill').length} rated`);
    store.setPhase(w, 'weights', result.setWeightsDue ? 'done' : 'skipped', result.setWeightsDue ? 'set on chain' : 'not a weight window');
  };

  const pause = (): void => {
    if (timer !== null) window.clearInterval(timer);
    timer = null;
    playButton.textContent = 'Run';
    describe();
  };
  const play = (): void => {
    if (timer !== null) return;
    timer = window.setInterval(() => {
      stepOnce();
      describe();
    }, 1000 / settings.speed);
    playButton.textContent = 'Pause';
    describe();
  };

  function restart(changes: Partial<DemoSettings> = {}): void {
    const wasRunning = timer !== null;
    pause();
    settings = { ...settings, ...changes };
    network = new SyntheticNetwork({ ...settings });
    store.reset(scoringConfig());
    renderBehaviours();
    peersInput.value = String(settings.behaviours.length);
    if (wasRunning) play();
    describe();
  }

  playButton.addEventListener('click', () => (timer === null ? play() : pause()));
  stepButton.addEventListener('click', () => {
    stepOnce();
    describe();
  });
  speedSelect.addEventListener('change', () => {
    settings = { ...settings, speed: Number(speedSelect.value) };
    if (timer !== null) {
      pause();
      play();
    }
  });
  peersInput.addEventListener('change', () => {
    const n = Math.max(2, Math.min(MAX_PEERS, Math.round(Number(peersInput.value)) || DEFAULT_BEHAVIOURS.length));
    const next = Array.from({ length: n }, (_, i) => settings.behaviours[i] ?? 'honest');
    restart({ behaviours: next });
  });
  lrInput.addEventListener('change', () => {
    const value = Number(lrInput.value);
    if (Number.isFinite(value) && value > 0) restart({ evalLrFactor: value });
  });
  topkInput.addEventListener('change', () => {
    const value = Math.round(Number(topkInput.value) / 2) * 2;
    if (value >= 2 && value <= CHUNK_ENTRIES) restart({ topk: value });
  });
  renderBehaviours();
  describe();

  const field = (label: string, input: HTMLElement, id: string, hint?: string): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: id }, label), input, hint === undefined ? null : h('small', { class: 'muted' }, hint));

  const element = h(
    'div',
    { class: 'view-demo' },
    h('h2', {}, 'Demo: a whole network in this tab'),
    h(
      'p',
      {},
      'Eight virtual peers, some honest and some not, and one validator that scores them with the real scoring code: sync checks, loss scores, the binary indicator, OpenSkill, copy detection, penalties and weights. Change a peer\'s behaviour and watch what the rules do to it.',
    ),
    h(
      'p',
      { class: 'notice', 'data-mode': 'synthetic' },
      'For now the validator\'s measurements (losses, model slices, uploads) are simulated from a seeded model of each behaviour; training the virtual peers for real is not wired in yet. The scoring of those measurements is the real code.',
    ),
    h('div', { class: 'controls' }, playButton, stepButton, field('Speed', speedSelect, 'demo-speed')),
    h(
      'details',
      { class: 'settings', open: true },
      h('summary', {}, 'Peers and parameters'),
      h(
        'div',
        { class: 'grid' },
        h('div', {}, field('Number of peers', peersInput, 'demo-peers'), h('h4', {}, 'Behaviour of each peer'), behaviourList),
        h(
          'div',
          {},
          field('eval_lr_factor', lrInput, 'demo-eval-lr', 'size of the validator\'s trial step'),
          field('top-k per chunk', topkInput, 'demo-topk', `of ${CHUNK_ENTRIES} simulated entries; more overlap between honest peers as it grows`),
          field('error-feedback β', efInput, 'demo-ef', 'takes effect once the peers train for real'),
          field('inner steps H', innerInput, 'demo-inner', 'takes effect once the peers train for real'),
        ),
      ),
    ),
    status,
    dashboard.element,
  );

  return {
    element,
    store,
    dashboard,
    settings: () => settings,
    restart,
    step: (count = 1) => {
      for (let i = 0; i < count; i++) stepOnce();
      describe();
      dashboard.flush();
      return store.model();
    },
    behaviourByUid: () => Object.fromEntries(settings.behaviours.map((b, i) => [String(FIRST_PEER_UID + i), b])),
    pause,
    play,
    running: () => timer !== null,
  };
}
