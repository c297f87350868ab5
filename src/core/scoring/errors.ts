/**
 * Typed errors of the scoring module. Scoring consumes measurements that come, in the end, from
 * untrusted peers (loss values, debug slices, index sets), so every malformed value is rejected
 * with an error that names the offending field and says what the caller should do, never a crash
 * deep inside a formula (style.md §1.4, gauntlet-spec §11 lesson 4).
 */
import { GauntletError } from '../errors.ts';

/** A `WindowScoringInputs` value (or one of its parts) is malformed: NaN/Inf, wrong type, bad uid. */
export class ScoringInputError extends GauntletError {
  readonly code: string = 'scoring-input';
  override readonly name = 'ScoringInputError';
  constructor(
    /** Dotted path of the offending field, e.g. `evaluations.7.lossOwnAfter`. */
    readonly field: string,
    /** What is wrong with it, without the advice (so a caller can re-wrap it under a longer path). */
    readonly problem: string,
  ) {
    super(
      `Invalid scoring input at "${field}": ${problem}. ` +
        'Drop or re-measure this value; the scorer never guesses a replacement.',
    );
  }
}

/** A serialised validator state cannot be loaded (wrong version, corrupted, non-finite values). */
export class ScoringStateError extends GauntletError {
  readonly code: string = 'scoring-state';
  override readonly name = 'ScoringStateError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(
      `Cannot load validator scoring state at "${field}": ${problem}. ` +
        'Start from createScoringState() or restore a state written by this version of serializeState().',
    );
  }
}

/** A `ScoringConfig` value makes a formula meaningless (e.g. zero sync window, α outside [0, 1]). */
export class ScoringConfigError extends GauntletError {
  readonly code: string = 'scoring-config';
  override readonly name = 'ScoringConfigError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`Invalid scoring config "${field}": ${problem}. Fix the run config (src/core/run-config.ts).`);
  }
}

/** A published `scores-{window}` document (another party's object) is malformed or of another run. */
export class WindowScoresError extends GauntletError {
  readonly code: string = 'window-scores';
  override readonly name = 'WindowScoresError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`Cannot read the validator's window scores at "${field}": ${problem}. The document is skipped; the next window's scores replace it.`);
  }
}
