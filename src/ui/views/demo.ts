/**
 * The Demo view (issue #9): a whole network in one tab, with adversaries. Two modes:
 * - real (default): N virtual miners and one validator run the real loops in `demo.worker.ts`
 *   (trainer engines, compression, keyring signatures, in-memory chain and storage, the scoring
 *   module), one window at a time;
 * - simulated: the validator's measurements come from `SyntheticNetwork` (seeded behaviour
 *   models, labelled on the page) and go through the real scoring module, fast enough to watch
 *   hundreds of windows.
 */
import type { RunConfig, ScoringConfig } from '../../core/config.ts';
import { scoreWindow } from '../../core/scoring/index.ts';
import { mountDashboard, type MountedDashboard } from '../dashboard/dashboard.ts';
import { DashboardStore, type DashboardModel } from '../dashboard/model.ts';
import type { DemoStartInfo } from '../../workers/demo-api.ts';
import { readNumberField, type NumberRule } from '../demo/fields.ts';
import { ADVERSARIAL_SIMULATION_PRESET } from '../demo/presets.ts';
import type { PeerEvaluation } from '../demo/evaluations.ts';
import { RealDemoNetwork } from '../demo/real-network.ts';
import { BEHAVIOUR_LABELS, BEHAVIOURS, CHUNK_ENTRIES, DEFAULT_BEHAVIOURS, FIRST_PEER_UID, SyntheticNetwork, type Behaviour } from '../demo/synthetic-network.ts';
import { formatNumber, h, table } from '../dom.ts';
import type { BackendChoice } from './capability-panel.ts';

export type DemoMode = 'real' | 'simulated';
/** Which engines real mode builds: 'auto' follows the app's choice (capability gate, user offer). */
export type DemoEngine = 'auto' | 'wasm' | 'webgpu';

export interface DemoSettings {
  readonly mode: DemoMode;
  readonly engine: DemoEngine;
  readonly behaviours: readonly Behaviour[];
  readonly seed: number;
  readonly evalLrFactor: number;
  /** Top-k per chunk: of the real 64×64 chunks in real mode, of `CHUNK_ENTRIES` simulated entries otherwise. */
  readonly topk: number;
  readonly errorFeedbackDecay: number;
  readonly innerSteps: number;
  /** Windows per second while running (at most; a real window takes as long as it takes). */
  readonly speed: number;
}

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
  behaviourByUid(): Record<string, Behaviour>;
  pause(): void;
  play(): void;
  running(): boolean;
}

const SPEEDS = [0.5, 1, 2, 5, 10] as const;
const MAX_PEERS = 16;

/** The numeric settings: what each accepts (the field says what it did with a value outside it). */
const RULES = {
  peers: { label: 'The number of peers', min: 2, max: MAX_PEERS, multipleOf: 1 },
  evalLrFactor: { label: 'eval_lr_factor', min: 0.01, max: 1 },
  topk: { label: 'top-k per chunk', min: 2, max: 4096, multipleOf: 2 },
  errorFeedbackDecay: { label: 'error-feedback β', min: 0, max: 1 },
  innerSteps: { label: 'inner steps H', min: 1, max: 64, multipleOf: 1 },
  seed: { label: 'seed', min: 0, max: 0xffffffff, multipleOf: 1 },
} as const satisfies Record<string, NumberRule>;

function numberInput(id: string, value: number, rule: NumberRule, step: number): HTMLInputElement {
  return h('input', { id, type: 'number', value, min: rule.min, max: rule.max, step, 'aria-describedby': `${id}-note` });
}

/** Where a field says what it did with the last value typed into it. */
function fieldNote(id: string): HTMLElement {
  return h('small', { id: `${id}-note`, class: 'field-note', 'aria-live': 'polite', hidden: true });
}

/** How the virtual peers' engines share the machine, in words (issue #9: one shared device). */
function engineSharing(info: DemoStartInfo): string {
  return info.sharedDevice
    ? `${info.engines} engines (peers, validator, baseline) share one WebGPU device and take turns on it`
    : `${info.engines} engines (peers, validator, baseline) run on the CPU (WASM) and take turns on its threads`;
}

/**
 * Short teaching text, one item per mechanism (issue #9), each naming the cheater it stops. Written
 * for this project from gauntlet-spec §2, §3.2, §5.2–§5.3, §7.1–§7.5 (Templar v2.1.3 names in brackets).
 */
const LESSONS: readonly (readonly [string, string])[] = [
  [
    'Train, then send only the change',
    'Each window a peer takes H AdamW steps on the data assigned to it, then sends the pseudo-gradient Δ = θ_before − θ_after instead of its model. Only the largest top-k values of each 64×64 chunk go on the wire, at 2 bits each; what was left out is kept (error feedback, e ← β·e + Δ) and tried again next window. That is why the upload is a small fraction of the dense size.',
  ],
  [
    'Sign and submit in time',
    'Every upload is signed with the peer\'s own key and must land inside the put window; the validator ignores anything earlier or later and slashes evaluated peers whose upload is missing (×0.75). This stops the late uploader, who could otherwise wait and copy.',
  ],
  [
    'Stay in sync',
    'Everyone applies the same outer step (median-clipped mean of the gathered updates). The validator compares a few of each peer\'s weights with its own model: sync = (1 − min(steps behind, 5)/5)^2.5. A stale peer that never applies outer steps falls behind and its score is multiplied towards 0.',
  ],
  [
    'LossScore: did the update help?',
    'The validator takes a trial step with one peer\'s update (eval_lr_factor × the update) and measures the loss on random data before and after: LossScore = (L_before − L_after) / L_before. A free-rider (zero update) scores 0; noise scores about 0; a poisoner (negated update) makes the loss worse and scores below 0.',
  ],
  [
    'The binary indicator: was it trained on its own data?',
    'The same trial step is measured on the peer\'s own assigned data: b = +1 if it helped there more than on random data, else −1, and B ← 0.95·B + 0.05·b. Work copied from someone else, or trained on other data, does not help the copier\'s own data specially, so its B stays low, and final = ordinal × max(0, B) × sync.',
  ],
  [
    'OpenSkill: μ ± σ',
    'The peers evaluated in a window play one match, ranked by LossScore. μ is a peer\'s estimated strength and σ the uncertainty; the ordinal μ − 3σ only grows after a peer has beaten others many times, so one lucky window earns little.',
  ],
  [
    'Copies are caught directly too',
    'Two uploads that share most of their top-k indices are flagged; the later one is slashed, reset or banned. The demo turns this check on after 5 outer steps.',
  ],
  [
    'Weights',
    'Peers with a positive final score are ranked; the top ones share the paid weight (the best twice the last), reserves get a small share, and half of all weight goes to the burn uid. Weights are what the chain turns into rewards.',
  ],
];

function lossPair(before: number | null, after: number | null): string {
  // Six digits: one trial step moves the loss by about 0.1 %, which four digits would hide.
  return before === null || after === null ? '—' : `${formatNumber(before, 6)} → ${formatNumber(after, 6)}`;
}

/** Why a peer was not measured: the status and the reason's first words (the whole reason on hover). */
function notMeasured(row: PeerEvaluation): HTMLElement {
  const reason = row.detail?.split(':')[0]?.trim();
  return h('span', { title: row.detail ?? row.status }, `${row.status === 'missing' ? 'no valid upload' : 'invalid upload'}${reason ? ` (${reason})` : ''}`);
}

/** The last stage-2 measurement of each peer, with its behaviour, so the scores can be traced back to losses. */
function renderEvaluations(rows: readonly PeerEvaluation[], behaviourOf: (uid: number) => string, mode: DemoMode): HTMLElement[] {
  const title = h('h3', {}, 'What the validator measured');
  if (mode !== 'real') return [title, h('p', { class: 'muted' }, 'In simulated mode the losses are drawn from a model of each behaviour; switch to real training to see measured ones.')];
  if (rows.length === 0) return [title, h('p', { class: 'muted' }, 'No peer has been evaluated yet.')];
  const grid = table(
    ['peer', 'behaviour', 'window', 'random data: loss before → after', 'LossScore', 'own data: loss before → after', 'own improvement', 'b'],
    rows.map((row) => [
      `uid ${row.uid}`,
      behaviourOf(row.uid),
      String(row.window),
      row.status === 'ok' ? lossPair(row.lossRandomBefore, row.lossRandomAfter) : notMeasured(row),
      formatNumber(row.lossScore),
      lossPair(row.lossOwnBefore, row.lossOwnAfter),
      formatNumber(row.ownImprovement),
      row.indicator === null ? '—' : row.indicator > 0 ? '+1' : '−1',
    ]),
    { class: 'compact evaluations' },
  );
  return [
    title,
    h(
      'p',
      { class: 'muted' },
      'Each peer\'s latest evaluation: the validator steps its model by eval_lr_factor × the peer\'s update and measures the loss before and after, on random data and on the data assigned to that peer. LossScore = (before − after) / before on random data; b = +1 when the own-data improvement is larger.',
    ),
    h('div', { class: 'table-scroll' }, grid),
  ];
}

export function createDemoView(config: RunConfig, onRender: (model: DashboardModel) => void, backend: () => BackendChoice): DemoView {
  let settings: DemoSettings = {
    mode: 'real',
    engine: 'auto',
    behaviours: DEFAULT_BEHAVIOURS,
    seed: 7,
    evalLrFactor: config.scoring.evalLrFactor,
    topk: config.compression.topk,
    errorFeedbackDecay: config.compression.errorFeedbackDecay,
    innerSteps: config.inner.innerSteps,
    speed: 2,
  };
  const scoringConfig = (): ScoringConfig => ({ ...config.scoring, evalLrFactor: settings.evalLrFactor });
  const store = new DashboardStore('demo', scoringConfig());
  const dashboard = mountDashboard(store, {}, onRender);
  let simulated = new SyntheticNetwork({ ...settings, topk: Math.min(settings.topk, CHUNK_ENTRIES) });
  const real = new RealDemoNetwork(store);
  /** The real network's start, once requested for the current settings. */
  let realStart: Promise<void> | null = null;
  let playing = false;
  let generation = 0;
  let busy: Promise<void> = Promise.resolve();

  const status = h('p', { class: 'muted', 'aria-live': 'polite', 'data-demo-status': '' });
  /** What the last change of a setting or behaviour did to the run, in words. */
  const change = h('p', { class: 'notice', 'aria-live': 'polite', 'data-demo-change': '', hidden: true });
  const sayChange = (text: string): void => {
    change.hidden = false;
    change.textContent = text;
  };
  const problem = h('p', { class: 'problem', 'aria-live': 'assertive', hidden: true });
  const modeNote = h('p', { class: 'notice' });
  const playButton = h('button', { type: 'button', class: 'primary', 'data-action': 'play' }, 'Run');
  const stepButton = h('button', { type: 'button', 'data-action': 'step' }, 'Step one window');
  const modeSelect = h(
    'select',
    { id: 'demo-mode' },
    h('option', { value: 'real', selected: true }, 'real training (worker)'),
    h('option', { value: 'simulated' }, 'simulated measurements (fast)'),
  );
  const engineSelect = h(
    'select',
    { id: 'demo-engine' },
    h('option', { value: 'auto', selected: true }, 'automatic (faster of WebGPU and CPU)'),
    h('option', { value: 'wasm' }, 'CPU (WASM)'),
    h('option', { value: 'webgpu' }, 'WebGPU (one shared device)'),
  );
  const presetButton = h('button', { type: 'button', 'data-action': 'preset' }, 'Use the adversarial simulation\'s setup');
  const speedSelect = h('select', { id: 'demo-speed' }, ...SPEEDS.map((s) => h('option', { value: s, selected: s === settings.speed }, `${s} windows/s`)));
  const peersInput = numberInput('demo-peers', settings.behaviours.length, RULES.peers, 1);
  const lrInput = numberInput('demo-eval-lr', settings.evalLrFactor, RULES.evalLrFactor, 0.01);
  const topkInput = numberInput('demo-topk', settings.topk, RULES.topk, 2);
  const efInput = numberInput('demo-ef', settings.errorFeedbackDecay, RULES.errorFeedbackDecay, 0.01);
  const innerInput = numberInput('demo-inner', settings.innerSteps, RULES.innerSteps, 1);
  const seedInput = numberInput('demo-seed', settings.seed, RULES.seed, 1);
  const notes = new Map<HTMLInputElement, HTMLElement>([peersInput, lrInput, topkInput, efInput, innerInput, seedInput].map((input) => [input, fieldNote(input.id)]));
  /** The field's value under `rule`, its note saying what was changed (or hidden when nothing was). */
  const readField = (input: HTMLInputElement, previous: number, rule: NumberRule): number => {
    const reading = readNumberField(input.value, previous, rule);
    const note = notes.get(input);
    if (note !== undefined) {
      note.hidden = reading.note === null;
      note.textContent = reading.note ?? '';
    }
    input.value = String(reading.value);
    return reading.value;
  };
  const behaviourList = h('ol', { class: 'behaviours', start: FIRST_PEER_UID });
  const evaluationsPanel = h('div', { class: 'panel', 'data-demo-evaluations': '' });
  const renderEvaluationsPanel = (): void => {
    const behaviourOf = (uid: number): string => {
      const behaviour = settings.behaviours[uid - FIRST_PEER_UID];
      return behaviour === undefined ? '?' : BEHAVIOUR_LABELS[behaviour];
    };
    evaluationsPanel.replaceChildren(...renderEvaluations(real.evaluations.rows(), behaviourOf, settings.mode));
  };

  const describeMode = (): void => {
    modeNote.dataset.mode = settings.mode;
    modeNote.textContent =
      settings.mode === 'real'
        ? 'Real mode: every virtual peer trains the tiny model on its assigned Brown-corpus data, compresses, signs with its own key and uploads; the validator measures losses and scores with the same code a real validator runs. The first window starts after the engines are built.'
        : 'Simulated mode: the validator\'s measurements (losses, model slices, uploads) are drawn from a seeded model of each behaviour; only the scoring of those measurements is the real code. Error-feedback β and inner steps have no effect here.';
  };

  const renderBehaviours = (): void => {
    behaviourList.replaceChildren(
      ...settings.behaviours.map((behaviour, i) => {
        const uid = FIRST_PEER_UID + i;
        const select = h('select', { id: `demo-behaviour-${uid}`, 'data-uid': uid }, ...BEHAVIOURS.map((b) => h('option', { value: b, selected: b === behaviour }, BEHAVIOUR_LABELS[b])));
        select.addEventListener('change', () => {
          changeBehaviour(uid, select.value as Behaviour).catch(showProblem);
        });
        return h('li', {}, h('label', { for: `demo-behaviour-${uid}` }, `uid ${uid} `), select);
      }),
    );
  };

  const describe = (): void => {
    const state = store.scoringState();
    const engine = real.info === null ? '' : ` · ${engineSharing(real.info)}: ${real.info.reason}`;
    status.textContent =
      `${playing ? 'Running' : 'Paused'} · ${state.lastWindow === null ? 'no window scored yet' : `window ${state.lastWindow} scored`} · ` +
      `${settings.behaviours.length} peers · ${settings.mode} mode${settings.mode === 'real' ? engine : ''}`;
  };

  const showProblem = (error: unknown): void => {
    problem.hidden = false;
    problem.textContent = `The demo stopped: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}. Change a setting or press Run to start again.`;
  };

  const ensureStarted = (): Promise<void> => {
    realStart ??= real
      .start({
        behaviours: settings.behaviours,
        backend: settings.engine === 'auto' ? backend() : settings.engine,
        evalLrFactor: settings.evalLrFactor,
        topk: settings.topk,
        errorFeedbackDecay: settings.errorFeedbackDecay,
        innerSteps: settings.innerSteps,
        seed: settings.seed,
      })
      .then(() => describe());
    return realStart;
  };

  /**
   * One peer's behaviour, changed between windows (after the one in progress): from the next window
   * that peer behaves so, and the run goes on (window count, the validator's state, every other
   * peer's behaviour), in both modes.
   */
  const changeBehaviour = async (uid: number, behaviour: Behaviour): Promise<void> => {
    const applied = busy.catch(() => undefined).then(async () => {
      if (realStart !== null) {
        await realStart;
        await real.setBehaviour(uid, behaviour);
      }
      simulated.setBehaviour(uid, behaviour);
      settings = { ...settings, behaviours: settings.behaviours.map((b, i) => (FIRST_PEER_UID + i === uid ? behaviour : b)) };
    });
    busy = applied;
    await applied;
    const last = store.scoringState().lastWindow;
    const label = BEHAVIOUR_LABELS[behaviour];
    sayChange(
      settings.mode === 'real' && realStart === null
        ? `uid ${uid} will be ${label} when the real network starts.`
        : `uid ${uid} is ${label} from window ${last === null ? 'the first' : last + 1} on; the run goes on and the other peers keep their behaviours.`,
    );
    renderEvaluationsPanel();
    describe();
  };

  const runSimulatedWindow = (): void => {
    const scoring = store.scoringConfig();
    const next = simulated.next(store.scoringState(), scoring);
    const w = next.inputs.window;
    for (const phase of ['train', 'compress', 'sign', 'submit'] as const) store.setPhase(w, phase, 'skipped', 'simulated');
    const gather = next.inputs.gather;
    store.setPhase(w, 'gather', gather === null ? 'skipped' : 'done', gather === null ? 'nothing gathered' : `${gather.gatheredUids.length} gathered, ${gather.skippedUids.length} missing`);
    store.setPhase(w, 'evaluate', 'done', `uids ${next.inputs.evalUids.join(', ') || 'none'}`);
    const result = scoreWindow(store.scoringState(), next.inputs, scoring);
    store.recordScoring(result);
    store.recordLoss(w, { network: next.networkLoss });
    store.setPhase(w, 'rate', 'done', `${result.reasons.filter((r) => r.rule === 'openskill').length} rated`);
    store.setPhase(w, 'weights', result.setWeightsDue ? 'done' : 'skipped', result.setWeightsDue ? 'set on chain' : 'not a weight window');
  };

  /** One window in the current mode; windows never overlap (each waits for the previous). */
  const stepOnce = (): Promise<void> => {
    const mine = generation;
    busy = busy.then(async () => {
      if (mine !== generation) return;
      if (settings.mode === 'simulated') runSimulatedWindow();
      else {
        await ensureStarted();
        if (mine === generation) await real.runWindow();
      }
      renderEvaluationsPanel();
      describe();
    });
    return busy;
  };

  const pause = (): void => {
    playing = false;
    playButton.textContent = 'Run';
    stepButton.disabled = false;
    describe();
  };
  const play = (): void => {
    if (playing) return;
    playing = true;
    problem.hidden = true;
    playButton.textContent = 'Pause';
    // While the network runs on its own, a single step cannot act (Pause first).
    stepButton.disabled = true;
    describe();
    const mine = generation;
    const loop = async (): Promise<void> => {
      while (playing && mine === generation) {
        const started = performance.now();
        await stepOnce();
        const wait = 1000 / settings.speed - (performance.now() - started);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    };
    loop().catch((error: unknown) => {
      pause();
      showProblem(error);
    });
  };

  async function restart(changes: Partial<DemoSettings> = {}): Promise<void> {
    const wasRunning = playing;
    pause();
    generation += 1;
    await busy.catch(() => undefined);
    settings = { ...settings, ...changes };
    simulated = new SyntheticNetwork({ ...settings, topk: Math.min(settings.topk, CHUNK_ENTRIES) });
    realStart = null;
    real.evaluations.clear();
    store.reset(scoringConfig());
    renderEvaluationsPanel();
    renderBehaviours();
    peersInput.value = String(settings.behaviours.length);
    modeSelect.value = settings.mode;
    engineSelect.value = settings.engine;
    for (const [input, value] of [[seedInput, settings.seed], [lrInput, settings.evalLrFactor], [topkInput, settings.topk], [efInput, settings.errorFeedbackDecay], [innerInput, settings.innerSteps]] as const) input.value = String(value);
    problem.hidden = true;
    change.hidden = true;
    describeMode();
    describe();
    if (wasRunning) play();
  }

  playButton.addEventListener('click', () => (playing ? pause() : play()));
  stepButton.addEventListener('click', () => {
    stepOnce().catch(showProblem);
  });
  speedSelect.addEventListener('change', () => {
    settings = { ...settings, speed: Number(speedSelect.value) };
  });
  modeSelect.addEventListener('change', () => void restart({ mode: modeSelect.value === 'simulated' ? 'simulated' : 'real' }));
  peersInput.addEventListener('change', () => {
    const n = readField(peersInput, settings.behaviours.length, RULES.peers);
    if (n === settings.behaviours.length) return;
    const added = n > settings.behaviours.length;
    void restart({ behaviours: Array.from({ length: n }, (_, i) => settings.behaviours[i] ?? 'honest') }).then(() =>
      sayChange(`A new run with ${n} peers (the peer count is fixed for a run): ${added ? 'the added peers are honest and ' : ''}the others kept their behaviours.`),
    );
  });
  engineSelect.addEventListener('change', () => {
    const value = engineSelect.value;
    void restart({ engine: value === 'wasm' || value === 'webgpu' ? value : 'auto' });
  });
  presetButton.addEventListener('click', () => {
    void restart({
      behaviours: ADVERSARIAL_SIMULATION_PRESET.behaviours,
      seed: ADVERSARIAL_SIMULATION_PRESET.seed,
      evalLrFactor: config.scoring.evalLrFactor,
      topk: config.compression.topk,
      errorFeedbackDecay: config.compression.errorFeedbackDecay,
      innerSteps: config.inner.innerSteps,
    });
  });
  const numberSetting = (input: HTMLInputElement, key: 'evalLrFactor' | 'topk' | 'errorFeedbackDecay' | 'innerSteps' | 'seed'): void => {
    input.addEventListener('change', () => {
      const value = readField(input, settings[key], RULES[key]);
      if (value === settings[key]) return;
      void restart({ [key]: value }).then(() => sayChange(`A new run with ${RULES[key].label} ${value} (parameters are fixed for a run); the peers kept their behaviours.`));
    });
  };
  numberSetting(lrInput, 'evalLrFactor');
  numberSetting(topkInput, 'topk');
  numberSetting(efInput, 'errorFeedbackDecay');
  numberSetting(innerInput, 'innerSteps');
  numberSetting(seedInput, 'seed');
  renderBehaviours();
  renderEvaluationsPanel();
  describeMode();
  describe();

  const field = (label: string, input: HTMLElement, id: string, hint?: string): HTMLElement =>
    h('div', { class: 'field' }, h('label', { for: id }, label), input, hint === undefined ? null : h('small', { class: 'muted' }, hint), input instanceof HTMLInputElement ? notes.get(input) : null);

  const element = h(
    'div',
    { class: 'view-demo' },
    h('h2', {}, 'Demo: a whole network in this tab'),
    h(
      'p',
      {},
      'Virtual peers, some honest and some not, and one validator that scores them with the real scoring code: sync checks, loss scores, the binary indicator, OpenSkill, copy detection, penalties and weights. Change a peer\'s behaviour and watch what the rules do to it.',
    ),
    modeNote,
    h('div', { class: 'controls' }, playButton, stepButton, field('Speed', speedSelect, 'demo-speed'), field('Mode', modeSelect, 'demo-mode'), field('Engines (real mode)', engineSelect, 'demo-engine')),
    h(
      'details',
      { class: 'settings', open: true },
      h('summary', {}, 'Peers and parameters'),
      h(
        'div',
        { class: 'grid' },
        h(
          'div',
          {},
          field('Number of peers', peersInput, 'demo-peers'),
          h('p', {}, presetButton, h('small', { class: 'muted' }, ` ${ADVERSARIAL_SIMULATION_PRESET.label}`)),
          h('h4', {}, 'Behaviour of each peer'),
          h('p', { class: 'muted' }, 'A behaviour change applies from the next window and the run goes on; the peer count and the parameters start a new run.'),
          behaviourList,
        ),
        h(
          'div',
          {},
          field('eval_lr_factor', lrInput, 'demo-eval-lr', 'size of the validator\'s trial step'),
          field('top-k per chunk', topkInput, 'demo-topk', `values kept per 64×64 chunk (simulated mode: of ${CHUNK_ENTRIES} entries)`),
          field('error-feedback β', efInput, 'demo-ef', 'how much of what was not sent carries over'),
          field('inner steps H', innerInput, 'demo-inner', 'AdamW steps per window'),
          field('seed', seedInput, 'demo-seed', 'the validator\'s randomness (whom it evaluates, which data it samples); same seed, same run'),
        ),
      ),
    ),
    status,
    change,
    problem,
    dashboard.element,
    evaluationsPanel,
    h(
      'details',
      { class: 'lessons', 'data-lessons': '' },
      h('summary', {}, 'How the rules keep the network honest'),
      h('dl', {}, ...LESSONS.flatMap(([title, text]) => [h('dt', {}, title), h('dd', {}, text)])),
    ),
  );

  return {
    element,
    store,
    dashboard,
    settings: () => settings,
    restart,
    step: async (count = 1) => {
      for (let i = 0; i < count; i++) await stepOnce();
      dashboard.flush();
      return store.model();
    },
    backendInfo: () => (real.info === null ? null : { backend: real.info.backend, reason: real.info.reason, engines: real.info.engines, sharedDevice: real.info.sharedDevice }),
    behaviourByUid: () => Object.fromEntries(settings.behaviours.map((b, i) => [String(FIRST_PEER_UID + i), b])),
    pause,
    play,
    running: () => playing,
  };
}
