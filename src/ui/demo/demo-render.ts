/**
 * What the Demo shows of a run (issue #9, #16): the status line, the notices (what a change did,
 * why the demo stopped), the mode note, the "what the validator measured" table, the lessons, and
 * the page that holds them with the form (demo-settings.ts) and the dashboard's charts.
 */
import type { DemoStartInfo } from '../../workers/demo-api.ts';
import type { DashboardStore } from '../dashboard/model.ts';
import { formatNumber, h, table } from '../dom.ts';
import type { DemoMode, DemoSettings } from './demo-settings.ts';
import type { PeerEvaluation } from './evaluations.ts';
import type { RealDemoNetwork } from './real-network.ts';
import { BEHAVIOUR_LABELS, FIRST_PEER_UID } from './synthetic-network.ts';

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

/** The parts of the Demo page that say what the run is doing. */
export class DemoReport {
  readonly status = h('p', { class: 'muted', 'aria-live': 'polite', 'data-demo-status': '' });
  /** What the last change of a setting or behaviour did to the run, in words. */
  readonly change = h('p', { class: 'notice', 'aria-live': 'polite', 'data-demo-change': '', hidden: true });
  readonly problem = h('p', { class: 'problem', 'aria-live': 'assertive', hidden: true });
  readonly modeNote = h('p', { class: 'notice' });
  readonly evaluationsPanel = h('div', { class: 'panel', 'data-demo-evaluations': '' });

  constructor(
    private readonly store: DashboardStore,
    private readonly real: RealDemoNetwork,
  ) {}

  /** The status line: running or paused, the last window scored, the peers, the mode and (real mode) the engines. */
  describe(settings: DemoSettings, playing: boolean): void {
    const state = this.store.scoringState();
    const real = this.real.info;
    const engine = real === null ? '' : ` · ${engineSharing(real)}: ${real.reason}`;
    this.status.textContent =
      `${playing ? 'Running' : 'Paused'} · ${state.lastWindow === null ? 'no window scored yet' : `window ${state.lastWindow} scored`} · ` +
      `${settings.behaviours.length} peers · ${settings.mode} mode${settings.mode === 'real' ? engine : ''}`;
  }

  describeMode(mode: DemoMode): void {
    this.modeNote.dataset.mode = mode;
    this.modeNote.textContent =
      mode === 'real'
        ? 'Real mode: every virtual peer trains the tiny model on its assigned Brown-corpus data, compresses, signs with its own key and uploads; the validator measures losses and scores with the same code a real validator runs. The first window starts after the engines are built.'
        : 'Simulated mode: the validator\'s measurements (losses, model slices, uploads) are drawn from a seeded model of each behaviour; only the scoring of those measurements is the real code. Error-feedback β and inner steps have no effect here.';
  }

  /** "What the validator measured", each peer with its behaviour under `settings`. */
  renderEvaluations(settings: DemoSettings): void {
    const behaviourOf = (uid: number): string => {
      const behaviour = settings.behaviours[uid - FIRST_PEER_UID];
      return behaviour === undefined ? '?' : BEHAVIOUR_LABELS[behaviour];
    };
    this.evaluationsPanel.replaceChildren(...renderEvaluations(this.real.evaluations.rows(), behaviourOf, settings.mode));
  }

  sayChange(text: string): void {
    this.change.hidden = false;
    this.change.textContent = text;
  }

  showProblem(error: unknown): void {
    this.problem.hidden = false;
    this.problem.textContent = `The demo stopped: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}. Change a setting or press Run to start again.`;
  }

  hideProblem(): void {
    this.problem.hidden = true;
  }

  /** A new run: neither the last problem nor the last change applies to it. */
  clearNotices(): void {
    this.problem.hidden = true;
    this.change.hidden = true;
  }
}

function lessonsPanel(): HTMLElement {
  return h(
    'details',
    { class: 'lessons', 'data-lessons': '' },
    h('summary', {}, 'How the rules keep the network honest'),
    h('dl', {}, ...LESSONS.flatMap(([title, text]) => [h('dt', {}, title), h('dd', {}, text)])),
  );
}

/** The Demo page: the introduction, the controls and settings, the report and the dashboard, then the lessons. */
export function demoPage(controls: HTMLElement, settingsPanel: HTMLElement, report: DemoReport, dashboard: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'view-demo' },
    h('h2', {}, 'Demo: a whole network in this tab'),
    h(
      'p',
      {},
      'Virtual peers, some honest and some not, and one validator that scores them with the real scoring code: sync checks, loss scores, the binary indicator, OpenSkill, copy detection, penalties and weights. Change a peer\'s behaviour and watch what the rules do to it.',
    ),
    report.modeNote,
    controls,
    settingsPanel,
    report.status,
    report.change,
    report.problem,
    dashboard,
    report.evaluationsPanel,
    lessonsPanel(),
  );
}
