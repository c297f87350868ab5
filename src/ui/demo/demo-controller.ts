/**
 * The Demo's controller (issue #9, #16): starts, steps, runs and restarts the network in the
 * current mode (the simulated `SyntheticNetwork` or the real `RealDemoNetwork` in its worker) and
 * applies behaviour changes between windows. Windows never overlap: each waits for the previous.
 * What the page shows of it goes through `DemoControllerHooks`; `bindDemoForm` connects the form
 * (demo-settings.ts) to it.
 */
import type { RunConfig } from '../../core/config.ts';
import { scoreWindow } from '../../core/scoring/index.ts';
import type { DashboardStore } from '../dashboard/model.ts';
import type { BackendChoice } from '../views/capability-panel.ts';
import { demoScoringConfig, RULES, type DemoForm, type DemoSettings, type ParameterKey } from './demo-settings.ts';
import { ADVERSARIAL_SIMULATION_PRESET } from './presets.ts';
import type { RealDemoNetwork } from './real-network.ts';
import { BEHAVIOUR_LABELS, CHUNK_ENTRIES, FIRST_PEER_UID, SyntheticNetwork } from './synthetic-network.ts';
import type { BehaviourName } from '../../peer/behaviours.ts';

/** What the page shows of the controller's state, called as it changes. */
export interface DemoControllerHooks {
  /** The status line is out of date (the real network started, run or pause). */
  describe(): void;
  /** A window ran or a behaviour changed: the evaluations and the status are out of date. */
  refresh(): void;
  /** The run was started (`true`) or paused. */
  running(playing: boolean): void;
  /** A new run with new settings: the form, the panels and the notices show it. */
  restarted(): void;
  /** What a behaviour change did to the run, in words. */
  change(text: string): void;
  /** The running loop stopped on `error`. */
  problem(error: unknown): void;
}

function simulatedNetwork(settings: DemoSettings): SyntheticNetwork {
  return new SyntheticNetwork({ ...settings, topk: Math.min(settings.topk, CHUNK_ENTRIES) });
}

/** One simulated window: the synthetic measurements through the real scoring module, into the dashboard. */
function runSimulatedWindow(store: DashboardStore, simulated: SyntheticNetwork): void {
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
}

export class DemoController {
  private current: DemoSettings;
  private simulated: SyntheticNetwork;
  /** The real network's start, once requested for the current settings. */
  private realStart: Promise<void> | null = null;
  private isPlaying = false;
  /** Counts restarts: a window or a loop of an earlier run does nothing. */
  private generation = 0;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: RunConfig,
    private readonly store: DashboardStore,
    private readonly real: RealDemoNetwork,
    private readonly backend: () => BackendChoice,
    settings: DemoSettings,
    private readonly hooks: DemoControllerHooks,
  ) {
    this.current = settings;
    this.simulated = simulatedNetwork(settings);
  }

  get settings(): DemoSettings {
    return this.current;
  }

  get playing(): boolean {
    return this.isPlaying;
  }

  /** Windows per second from now on (the run goes on). */
  setSpeed(speed: number): void {
    this.current = { ...this.current, speed };
  }

  private ensureStarted(): Promise<void> {
    const settings = this.current;
    this.realStart ??= this.real
      .start({
        behaviours: settings.behaviours,
        backend: settings.engine === 'auto' ? this.backend() : settings.engine,
        evalLrFactor: settings.evalLrFactor,
        topk: settings.topk,
        errorFeedbackDecay: settings.errorFeedbackDecay,
        innerSteps: settings.innerSteps,
        seed: settings.seed,
      })
      .then(() => this.hooks.describe());
    return this.realStart;
  }

  /**
   * One peer's behaviour, changed between windows (after the one in progress): from the next window
   * that peer behaves so, and the run goes on (window count, the validator's state, every other
   * peer's behaviour), in both modes.
   */
  async changeBehaviour(uid: number, behaviour: BehaviourName): Promise<void> {
    const applied = this.busy.catch(() => undefined).then(async () => {
      if (this.realStart !== null) {
        await this.realStart;
        await this.real.setBehaviour(uid, behaviour);
      }
      this.simulated.setBehaviour(uid, behaviour);
      this.current = { ...this.current, behaviours: this.current.behaviours.map((b, i) => (FIRST_PEER_UID + i === uid ? behaviour : b)) };
    });
    this.busy = applied;
    await applied;
    const last = this.store.scoringState().lastWindow;
    const label = BEHAVIOUR_LABELS[behaviour];
    this.hooks.change(
      this.current.mode === 'real' && this.realStart === null
        ? `uid ${uid} will be ${label} when the real network starts.`
        : `uid ${uid} is ${label} from window ${last === null ? 'the first' : last + 1} on; the run goes on and the other peers keep their behaviours.`,
    );
    this.hooks.refresh();
  }

  /** One window in the current mode; windows never overlap (each waits for the previous). */
  stepOnce(): Promise<void> {
    const mine = this.generation;
    this.busy = this.busy.then(async () => {
      if (mine !== this.generation) return;
      if (this.current.mode === 'simulated') runSimulatedWindow(this.store, this.simulated);
      else {
        await this.ensureStarted();
        if (mine === this.generation) await this.real.runWindow();
      }
      this.hooks.refresh();
    });
    return this.busy;
  }

  pause(): void {
    this.isPlaying = false;
    this.hooks.running(false);
    this.hooks.describe();
  }

  /** Runs windows one after another, at most `speed` a second, until paused or restarted. */
  play(): void {
    if (this.isPlaying) return;
    this.isPlaying = true;
    this.hooks.running(true);
    this.hooks.describe();
    const mine = this.generation;
    const loop = async (): Promise<void> => {
      while (this.isPlaying && mine === this.generation) {
        const started = performance.now();
        await this.stepOnce();
        const wait = 1000 / this.current.speed - (performance.now() - started);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    };
    loop().catch((error: unknown) => {
      this.pause();
      this.hooks.problem(error);
    });
  }

  /** Restarts the network with new settings (missing fields keep their value), running again if it ran. */
  async restart(changes: Partial<DemoSettings> = {}): Promise<void> {
    const wasRunning = this.isPlaying;
    this.pause();
    this.generation += 1;
    await this.busy.catch(() => undefined);
    this.current = { ...this.current, ...changes };
    this.simulated = simulatedNetwork(this.current);
    this.realStart = null;
    this.real.evaluations.clear();
    this.store.reset(demoScoringConfig(this.config, this.current));
    this.hooks.restarted();
    if (wasRunning) this.play();
  }
}

/**
 * The form's controls drive `controller`: Run/Pause, Step, the speed, and a new run for the mode,
 * the engines, the preset, the peer count and each parameter (saying so through `say`).
 */
export function bindDemoForm(form: DemoForm, controller: DemoController, config: RunConfig, say: Pick<DemoControllerHooks, 'change' | 'problem'>): void {
  form.playButton.addEventListener('click', () => (controller.playing ? controller.pause() : controller.play()));
  form.stepButton.addEventListener('click', () => {
    controller.stepOnce().catch((error: unknown) => say.problem(error));
  });
  form.speedSelect.addEventListener('change', () => controller.setSpeed(Number(form.speedSelect.value)));
  form.modeSelect.addEventListener('change', () => void controller.restart({ mode: form.modeSelect.value === 'simulated' ? 'simulated' : 'real' }));
  form.peersInput.addEventListener('change', () => {
    const behaviours = controller.settings.behaviours;
    const n = form.read(form.peersInput, behaviours.length, RULES.peers);
    if (n === behaviours.length) return;
    const added = n > behaviours.length;
    void controller.restart({ behaviours: Array.from({ length: n }, (_, i) => behaviours[i] ?? 'honest') }).then(() =>
      say.change(`A new run with ${n} peers (the peer count is fixed for a run): ${added ? 'the added peers are honest and ' : ''}the others kept their behaviours.`),
    );
  });
  form.engineSelect.addEventListener('change', () => {
    const value = form.engineSelect.value;
    void controller.restart({ engine: value === 'wasm' || value === 'webgpu' ? value : 'auto' });
  });
  form.presetButton.addEventListener('click', () => {
    void controller.restart({
      behaviours: ADVERSARIAL_SIMULATION_PRESET.behaviours,
      seed: ADVERSARIAL_SIMULATION_PRESET.seed,
      evalLrFactor: config.scoring.evalLrFactor,
      topk: config.compression.topk,
      errorFeedbackDecay: config.compression.errorFeedbackDecay,
      innerSteps: config.inner.innerSteps,
    });
  });
  for (const key of ['evalLrFactor', 'topk', 'errorFeedbackDecay', 'innerSteps', 'seed'] as const satisfies readonly ParameterKey[]) {
    const input = form.parameters[key];
    input.addEventListener('change', () => {
      const value = form.read(input, controller.settings[key], RULES[key]);
      if (value === controller.settings[key]) return;
      void controller.restart({ [key]: value }).then(() => say.change(`A new run with ${RULES[key].label} ${value} (parameters are fixed for a run); the peers kept their behaviours.`));
    });
  }
}
