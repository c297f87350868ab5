/**
 * What the validator loop's drivers (the Validate page's worker, `npm run evaluate`) send beyond the
 * validator's per-window `ValidatorEvent`s: one summary per scored window and the loop's own events.
 * It lives below the workers so the worker, the page and the Node report read one contract.
 */
import type { Registration } from '../net/metagraph.ts';
import type { EvaluationOutcome, WindowScoringResult } from '../core/scoring/index.ts';
import type { TrainerBackend } from '../model/engine.ts';
import type { RunJoinedEvent, SubmissionRejection, WindowEvent } from './events.ts';
import type { ValidatorWindowReport } from './validator.ts';

/**
 * What one scored window sent to the page: the scoring result (OpenSkill state, final scores,
 * weights, every reason) and the stage-2 measurements, without the bulky inputs (index sets, slices).
 */
export interface ValidatorWindowSummary {
  readonly window: number;
  /** The validator's hotkey (uid, stake, permit) in the metagraph the window read: the page shows it without reading the chain again. */
  readonly own: Registration;
  readonly submittedUids: readonly number[];
  readonly gatheredUids: readonly number[];
  readonly gatherRejections: Readonly<Record<string, SubmissionRejection>>;
  readonly evalUids: readonly number[];
  /** Σ loss of θ on the window's random control set before any trial step; null when nobody was evaluated. */
  readonly lossRandomBefore: number | null;
  readonly evaluations: Readonly<Record<string, EvaluationOutcome>>;
  readonly result: WindowScoringResult;
  readonly outerStepApplied: boolean;
}

export function summarizeReport(report: ValidatorWindowReport): ValidatorWindowSummary {
  const { inputs } = report;
  return {
    window: report.window,
    own: report.own,
    submittedUids: inputs.submittedUids,
    gatheredUids: inputs.gather?.gatheredUids ?? [],
    gatherRejections: report.gatherRejections,
    evalUids: inputs.evalUids,
    lossRandomBefore: inputs.lossRandomBefore,
    evaluations: inputs.evaluations,
    result: report.result,
    outerStepApplied: report.outerStepApplied,
  };
}

/**
 * The validator records `lossRandomBefore` as the sum over its control set's batches of each batch's
 * mean token loss (gauntlet-spec §7.2); the chart plots the mean token loss of θ, on the same scale as
 * a miner's inner-step loss: that sum over `evalSequences / batchSize` batches.
 */
export function meanControlLoss(lossRandomBefore: number, evalSequences: number, batchSize: number): number {
  return lossRandomBefore / Math.max(1, Math.ceil(evalSequences / batchSize));
}

/** Loop events beyond the validator's own events, each with the message the page shows. */
export type ValidatorLoopEvent =
  | { readonly kind: 'validator-engine'; readonly backend: TrainerBackend; readonly reason: string; readonly parameterCount: number }
  | { readonly kind: 'validator-restored'; readonly lastWindow: number | null; readonly message: string }
  | { readonly kind: 'validator-report'; readonly summary: ValidatorWindowSummary }
  | { readonly kind: 'validator-window-skipped'; readonly window: number; readonly message: string }
  | { readonly kind: 'validator-stopped'; readonly message: string };

/** Everything a validator driver emits: the validator's window events (typed as the shared `WindowEvent`) and its loop events. */
export type ValidatorPageEvent = WindowEvent | ValidatorLoopEvent | RunJoinedEvent;
