/**
 * The Validate view. The in-browser validator loop (gather, stage-2 evaluation with the evaluation
 * graph, weight setting with a validator permit) is not wired into the page yet; what works today
 * is the scoring half: load the window inputs a validator recorded (the `npm run score` format)
 * and watch the real scorer turn them into scores, penalties and weights, window by window.
 */
import type { ScoringConfig } from '../../core/config.ts';
import { mountDashboard, type MountedDashboard } from '../dashboard/dashboard.ts';
import { DashboardStore, type DashboardModel } from '../dashboard/model.ts';
import { h } from '../dom.ts';
import { parseReplayFile, ScoringReplay } from '../replay.ts';

export interface ValidateView {
  readonly element: HTMLElement;
  readonly store: DashboardStore;
  readonly dashboard: MountedDashboard;
  /** Scores parsed replay data (a test hook and the file loader's back end). */
  load(raw: unknown): ScoringReplay;
}

export function createValidateView(config: ScoringConfig, onRender: (model: DashboardModel) => void): ValidateView {
  const store = new DashboardStore('validate', config);
  const dashboard = mountDashboard(store, { traffic: false }, onRender);
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, 'No file loaded.');
  let replay: ScoringReplay | null = null;

  const stepButton = h('button', { type: 'button', disabled: true }, 'Score next window');
  const allButton = h('button', { type: 'button', disabled: true }, 'Score all');
  const refresh = (): void => {
    const left = replay?.remaining ?? 0;
    stepButton.disabled = left === 0;
    allButton.disabled = left === 0;
    status.textContent = replay === null ? 'No file loaded.' : `${left} window${left === 1 ? '' : 's'} left to score.`;
  };
  const load = (raw: unknown): ScoringReplay => {
    replay = new ScoringReplay(parseReplayFile(raw, config), store);
    refresh();
    return replay;
  };
  stepButton.addEventListener('click', () => {
    replay?.step();
    refresh();
  });
  allButton.addEventListener('click', () => {
    replay?.runAll();
    refresh();
  });

  const input = h('input', { type: 'file', accept: 'application/json,.json', id: 'replay-file' });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file === undefined) return;
    file
      .text()
      .then((text) => load(JSON.parse(text) as unknown))
      .catch((error: unknown) => {
        status.className = 'problem';
        status.textContent = `This file cannot be scored: ${error instanceof Error ? error.message : String(error)}`;
      });
  });

  const element = h(
    'div',
    { class: 'view-validate' },
    h('h2', {}, 'Validate'),
    h(
      'p',
      {},
      'A validator checks every contribution: presence and sync first, then a loss test for a few peers per window, then ratings and weights. ',
      'Running the full validator loop in this tab is not available yet. You can replay window inputs recorded by a validator (the file format of ',
      h('code', {}, 'npm run score'),
      ') through the same scoring code and see every score change explained.',
    ),
    h('div', { class: 'controls' }, h('label', { for: 'replay-file' }, 'Recorded windows (JSON) '), input, stepButton, allButton),
    status,
    dashboard.element,
  );
  return { element, store, dashboard, load };
}
