/** The window timeline: train → compress → sign → submit → gather → evaluate → rate → weights, as it happens. */
import { h } from '../dom.ts';
import type { PhaseStatus, TimelineModel, WindowPhase } from './model.ts';

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

export function renderTimeline(model: TimelineModel): HTMLElement {
  const title = model.window === null ? 'Window timeline' : `Window ${model.window}`;
  const list = h('ol', { class: 'timeline' });
  for (const { phase, status, detail } of model.phases) {
    list.append(
      h(
        'li',
        { class: `phase phase-${status}`, 'data-phase': phase, 'aria-current': status === 'active' ? 'step' : null },
        h('span', { class: 'phase-name' }, PHASE_LABELS[phase]),
        h('span', { class: 'phase-status' }, STATUS_WORDS[status]),
        detail === '' ? null : h('span', { class: 'phase-detail' }, detail),
      ),
    );
  }
  return h('div', { class: 'timeline-block' }, h('h3', {}, title), list);
}
