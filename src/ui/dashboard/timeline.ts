/** The window timeline: train → compress → sign → submit → gather → evaluate → rate → weights, as it happens. */
import { h } from '../dom.ts';
import type { PhaseModel, PhaseStatus, TimelineModel, WindowPhase } from './model.ts';

const PHASE_LABELS: Record<WindowPhase, string> = {
  train: 'Train',
  compress: 'Compress',
  sign: 'Sign',
  submit: 'Submit',
  gather: 'Gather',
  evaluate: 'Evaluate',
  rate: 'Rate',
  weights: 'Weights',
};

const STATUS_WORDS: Record<PhaseStatus, string> = {
  pending: 'waiting',
  active: 'in progress',
  done: 'done',
  skipped: 'skipped',
  failed: 'failed',
};

function renderPhases(phases: readonly PhaseModel[]): HTMLElement {
  const list = h('ol', { class: 'timeline' });
  for (const { phase, status, detail } of phases) {
    list.append(
      h(
        'li',
        { class: `phase phase-${status}`, 'data-phase': phase, 'aria-current': status === 'active' ? 'step' : null },
        h('span', { class: 'phase-name' }, PHASE_LABELS[phase]),
        h('span', { class: 'phase-status' }, STATUS_WORDS[status]),
        detail === '' ? null : h('span', { class: 'phase-detail', title: detail }, detail),
      ),
    );
  }
  return list;
}

/** The newest window's stages, then the windows before it still kept (their validator stages end later). */
export function renderTimeline(model: TimelineModel): HTMLElement {
  if (model.windows.length === 0) return h('div', { class: 'timeline-block' }, h('h3', {}, 'Window timeline'), renderPhases(model.phases));
  return h(
    'div',
    { class: 'timeline-stack' },
    ...model.windows.map((w, i) =>
      h('div', { class: i === 0 ? 'timeline-block' : 'timeline-block earlier', 'data-window': w.window }, h(i === 0 ? 'h3' : 'h4', {}, `Window ${w.window}`), renderPhases(w.phases)),
    ),
  );
}
