/**
 * Replays recorded validator windows (the `npm run score` file format: `{windows, config?,
 * initialState?}` or a bare array of windows) through the real scorer, one window at a time, into
 * a `DashboardStore`. The Validate view uses it for files a validator recorded; tests use it to
 * drive real scoring output into the page.
 */
import type { ScoringConfig } from '../core/config.ts';
import {
  createScoringState,
  parseState,
  parseWindowScoringInputs,
  scoreWindow,
  ScoringInputError,
  validateScoringConfig,
  type ValidatorScoringState,
  type WindowScoringInputs,
} from '../core/scoring/index.ts';
import type { DashboardStore } from './dashboard/model.ts';
import { meanControlLoss } from '../peer/validator-events.ts';

/** A replay file that cannot be used (the message says what to fix). */
export class ReplayFileError extends Error {
  override readonly name = 'ReplayFileError';
}

export interface ReplayFile {
  readonly config: ScoringConfig;
  readonly initialState: ValidatorScoringState;
  readonly windows: readonly WindowScoringInputs[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a parsed replay file; `fallbackConfig` is used when the file has no `config`. */
export function parseReplayFile(raw: unknown, fallbackConfig: ScoringConfig): ReplayFile {
  const file = Array.isArray(raw) ? { windows: raw } : raw;
  if (!isObject(file) || !Array.isArray(file.windows)) {
    throw new ReplayFileError('Expected a JSON array of window inputs, or an object with a "windows" array (the format of npm run score).');
  }
  let config = fallbackConfig;
  if (file.config !== undefined) {
    if (!isObject(file.config)) throw new ReplayFileError('"config" must be a ScoringConfig object.');
    const missing = Object.keys(fallbackConfig).filter((key) => !(key in (file.config as object)));
    if (missing.length > 0) throw new ReplayFileError(`"config" lacks ${missing.join(', ')}; add them or drop "config" to use this run's.`);
    config = file.config as unknown as ScoringConfig;
    validateScoringConfig(config);
  }
  const windows = (file.windows as unknown[]).map((window, i) => {
    try {
      return parseWindowScoringInputs(window);
    } catch (error) {
      if (error instanceof ScoringInputError) throw new ScoringInputError(`windows.${i}.${error.field}`, error.problem);
      throw error;
    }
  });
  const initialState = file.initialState === undefined ? createScoringState() : parseState(file.initialState);
  return { config, initialState, windows };
}

/** Steps a parsed replay into a store: `step()` scores the next window. */
export class ScoringReplay {
  private next = 0;
  private state: ValidatorScoringState;

  /** `innerBatchSize`: the batch size the recorded validator evaluated with (the file's scoring config does not carry it). */
  constructor(
    private readonly file: ReplayFile,
    private readonly store: DashboardStore,
    private readonly innerBatchSize: number,
  ) {
    this.state = file.initialState;
    store.reset(file.config);
  }

  get remaining(): number {
    return this.file.windows.length - this.next;
  }

  /** Scores one window; false when none is left. */
  step(): boolean {
    const inputs = this.file.windows[this.next];
    if (inputs === undefined) return false;
    for (const phase of ['train', 'compress', 'sign', 'submit'] as const) this.store.setPhase(inputs.window, phase, 'skipped', 'recorded elsewhere');
    this.store.setPhase(inputs.window, 'gather', inputs.gather === null ? 'skipped' : 'done', inputs.gather === null ? 'nothing gathered' : `${inputs.gather.gatheredUids.length} gathered`);
    this.store.setPhase(inputs.window, 'evaluate', 'done', `${Object.keys(inputs.evaluations).length} evaluated`);
    const result = scoreWindow(this.state, inputs, this.file.config);
    this.state = result.state;
    this.next += 1;
    this.store.recordScoring(result);
    if (inputs.lossRandomBefore !== null && inputs.evalUids.length > 0) {
      this.store.recordLoss(inputs.window, { network: meanControlLoss(inputs.lossRandomBefore, this.file.config.evalSequences, this.innerBatchSize) });
    }
    this.store.setPhase(inputs.window, 'rate', 'done', `${result.reasons.filter((r) => r.rule === 'openskill').length} rated`);
    this.store.setPhase(inputs.window, 'weights', result.setWeightsDue ? 'done' : 'skipped', result.setWeightsDue ? 'set on chain' : 'not a weight window');
    return true;
  }

  /** Scores every remaining window. */
  runAll(): void {
    while (this.step());
  }
}
