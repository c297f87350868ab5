/**
 * The Demo's settings (issue #9, #16): what a run starts with, and the form that edits them: the
 * run controls, the parameter fields with the notes that say what a field did with a value outside
 * its range (fields.ts), and one behaviour select per peer. The form only shows and reads; what a
 * change does to the run is the controller's (demo-controller.ts).
 */
import type { RunConfig, ScoringConfig } from '../../core/config.ts';
import { h } from '../dom.ts';
import { readNumberField, type NumberRule } from './fields.ts';
import { ADVERSARIAL_SIMULATION_PRESET } from './presets.ts';
import { BEHAVIOUR_LABELS, CHUNK_ENTRIES, DEFAULT_BEHAVIOURS, FIRST_PEER_UID } from './synthetic-network.ts';
import { BEHAVIOUR_MEANINGS, BEHAVIOUR_NAMES, isBehaviourName, type BehaviourName } from '../../peer/behaviours.ts';
import { suiteOutcome } from '../cheater-suite.ts';

export type DemoMode = 'real' | 'simulated';
/** Which engines real mode builds: 'auto' follows the app's choice (capability gate, user offer). */
export type DemoEngine = 'auto' | 'wasm' | 'webgpu';

export interface DemoSettings {
  readonly mode: DemoMode;
  readonly engine: DemoEngine;
  readonly behaviours: readonly BehaviourName[];
  readonly seed: number;
  readonly evalLrFactor: number;
  /** Top-k per chunk: of the real 64×64 chunks in real mode, of `CHUNK_ENTRIES` simulated entries otherwise. */
  readonly topk: number;
  readonly errorFeedbackDecay: number;
  readonly innerSteps: number;
  /** Windows per second while running (at most; a real window takes as long as it takes). */
  readonly speed: number;
}

/** The settings a parameter field edits (each starts a new run when changed). */
export type ParameterKey = 'evalLrFactor' | 'topk' | 'errorFeedbackDecay' | 'innerSteps' | 'seed';

const SPEEDS = [0.5, 1, 2, 5, 10] as const;
const MAX_PEERS = 16;

/** The numeric settings: what each accepts (the field says what it did with a value outside it). */
export const RULES = {
  peers: { label: 'The number of peers', min: 2, max: MAX_PEERS, multipleOf: 1 },
  evalLrFactor: { label: 'eval_lr_factor', min: 0.01, max: 1 },
  topk: { label: 'top-k per chunk', min: 2, max: 4096, multipleOf: 2 },
  errorFeedbackDecay: { label: 'error-feedback β', min: 0, max: 1 },
  innerSteps: { label: 'inner steps H', min: 1, max: 64, multipleOf: 1 },
  seed: { label: 'seed', min: 0, max: 0xffffffff, multipleOf: 1 },
} as const satisfies Record<string, NumberRule>;

/** The settings a Demo opens with: real mode, the default behaviours, the run config's parameters. */
export function initialDemoSettings(config: RunConfig): DemoSettings {
  return {
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
}

/** The scoring config a run with `settings` scores with: the run config's, with the Demo's eval_lr_factor. */
export function demoScoringConfig(config: RunConfig, settings: DemoSettings): ScoringConfig {
  return { ...config.scoring, evalLrFactor: settings.evalLrFactor };
}

function numberInput(id: string, value: number, rule: NumberRule, step: number): HTMLInputElement {
  return h('input', { id, type: 'number', value, min: rule.min, max: rule.max, step, 'aria-describedby': `${id}-note` });
}

/** Where a field says what it did with the last value typed into it. */
function fieldNote(id: string): HTMLElement {
  return h('small', { id: `${id}-note`, class: 'field-note', 'aria-live': 'polite', hidden: true });
}

/** The Demo's controls and settings form. */
export class DemoForm {
  readonly playButton = h('button', { type: 'button', class: 'primary', 'data-action': 'play' }, 'Run');
  readonly stepButton = h('button', { type: 'button', 'data-action': 'step' }, 'Step one window');
  readonly modeSelect = h(
    'select',
    { id: 'demo-mode' },
    h('option', { value: 'real', selected: true }, 'real training (worker)'),
    h('option', { value: 'simulated' }, 'simulated measurements (fast)'),
  );
  readonly engineSelect = h(
    'select',
    { id: 'demo-engine' },
    h('option', { value: 'auto', selected: true }, 'automatic (faster of WebGPU and CPU)'),
    h('option', { value: 'wasm' }, 'CPU (WASM)'),
    h('option', { value: 'webgpu' }, 'WebGPU (one shared device)'),
  );
  readonly presetButton = h('button', { type: 'button', 'data-action': 'preset' }, 'Use the adversarial simulation\'s setup');
  readonly speedSelect: HTMLSelectElement;
  readonly peersInput: HTMLInputElement;
  /** The parameter fields, by the setting each edits. */
  readonly parameters: Readonly<Record<ParameterKey, HTMLInputElement>>;
  private readonly behaviourList = h('ol', { class: 'behaviours', start: FIRST_PEER_UID });
  private readonly notes: Map<HTMLInputElement, HTMLElement>;

  constructor(settings: DemoSettings) {
    this.speedSelect = h('select', { id: 'demo-speed' }, ...SPEEDS.map((s) => h('option', { value: s, selected: s === settings.speed }, `${s} windows/s`)));
    this.peersInput = numberInput('demo-peers', settings.behaviours.length, RULES.peers, 1);
    this.parameters = {
      evalLrFactor: numberInput('demo-eval-lr', settings.evalLrFactor, RULES.evalLrFactor, 0.01),
      topk: numberInput('demo-topk', settings.topk, RULES.topk, 2),
      errorFeedbackDecay: numberInput('demo-ef', settings.errorFeedbackDecay, RULES.errorFeedbackDecay, 0.01),
      innerSteps: numberInput('demo-inner', settings.innerSteps, RULES.innerSteps, 1),
      seed: numberInput('demo-seed', settings.seed, RULES.seed, 1),
    };
    const inputs = [this.peersInput, ...Object.values(this.parameters)];
    this.notes = new Map(inputs.map((input) => [input, fieldNote(input.id)]));
  }

  /** The field's value under `rule`, its note saying what was changed (or hidden when nothing was). */
  read(input: HTMLInputElement, previous: number, rule: NumberRule): number {
    const reading = readNumberField(input.value, previous, rule);
    const note = this.notes.get(input);
    if (note !== undefined) {
      note.hidden = reading.note === null;
      note.textContent = reading.note ?? '';
    }
    input.value = String(reading.value);
    return reading.value;
  }

  /** Run / Pause, and Step only while paused (while the network runs on its own, a single step cannot act). */
  showRunning(playing: boolean): void {
    this.playButton.textContent = playing ? 'Pause' : 'Run';
    this.stepButton.disabled = playing;
  }

  /** One behaviour select per peer; `onChange` hears each change. */
  showBehaviours(behaviours: readonly BehaviourName[], onChange: (uid: number, behaviour: BehaviourName) => void): void {
    this.behaviourList.replaceChildren(
      ...behaviours.map((behaviour, i) => {
        const uid = FIRST_PEER_UID + i;
        const select = h('select', { id: `demo-behaviour-${uid}`, 'data-uid': uid }, ...BEHAVIOUR_NAMES.map((b) => h('option', { value: b, selected: b === behaviour, title: BEHAVIOUR_MEANINGS[b] }, BEHAVIOUR_LABELS[b])));
        // What it does, then what the rules did to it in the cheater suite (measured, not claimed).
        const describe = (name: BehaviourName): string => {
          const outcome = suiteOutcome(name);
          return ` ${BEHAVIOUR_MEANINGS[name]}.${outcome === null ? '' : ` ${outcome}`}`;
        };
        const meaning = h('span', { class: 'muted' }, describe(behaviour));
        select.addEventListener('change', () => {
          if (!isBehaviourName(select.value)) return;
          meaning.textContent = describe(select.value);
          onChange(uid, select.value);
        });
        return h('li', {}, h('label', { for: `demo-behaviour-${uid}` }, `uid ${uid} `), select, meaning);
      }),
    );
  }

  /** The fields show `settings` (after a restart). */
  showSettings(settings: DemoSettings): void {
    this.peersInput.value = String(settings.behaviours.length);
    this.modeSelect.value = settings.mode;
    this.engineSelect.value = settings.engine;
    for (const [key, input] of Object.entries(this.parameters) as [ParameterKey, HTMLInputElement][]) input.value = String(settings[key]);
  }

  /** The row of run controls: Run, Step, speed, mode and engines. */
  controls(): HTMLElement {
    return h(
      'div',
      { class: 'controls' },
      this.playButton,
      this.stepButton,
      this.field('Speed', this.speedSelect, 'demo-speed'),
      this.field('Mode', this.modeSelect, 'demo-mode'),
      this.field('Engines (real mode)', this.engineSelect, 'demo-engine'),
    );
  }

  /** "Peers and parameters": the peer count, the preset, the behaviours and the parameter fields. */
  settingsPanel(): HTMLElement {
    const p = this.parameters;
    return h(
      'details',
      { class: 'settings', open: true },
      h('summary', {}, 'Peers and parameters'),
      h(
        'div',
        { class: 'grid' },
        h(
          'div',
          {},
          this.field('Number of peers', this.peersInput, 'demo-peers'),
          h('p', {}, this.presetButton, h('small', { class: 'muted' }, ` ${ADVERSARIAL_SIMULATION_PRESET.label}`)),
          h('h4', {}, 'Behaviour of each peer'),
          h('p', { class: 'muted' }, 'A behaviour change applies from the next window and the run goes on; the peer count and the parameters start a new run.'),
          this.behaviourList,
        ),
        h(
          'div',
          {},
          this.field('eval_lr_factor', p.evalLrFactor, 'demo-eval-lr', 'size of the validator\'s trial step'),
          this.field('top-k per chunk', p.topk, 'demo-topk', `values kept per 64×64 chunk (simulated mode: of ${CHUNK_ENTRIES} entries)`),
          this.field('error-feedback β', p.errorFeedbackDecay, 'demo-ef', 'how much of what was not sent carries over'),
          this.field('inner steps H', p.innerSteps, 'demo-inner', 'AdamW steps per window'),
          this.field('seed', p.seed, 'demo-seed', 'the validator\'s randomness (whom it evaluates, which data it samples); same seed, same run'),
        ),
      ),
    );
  }

  private field(label: string, input: HTMLElement, id: string, hint?: string): HTMLElement {
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint === undefined ? null : h('small', { class: 'muted' }, hint), input instanceof HTMLInputElement ? this.notes.get(input) : null);
  }
}
