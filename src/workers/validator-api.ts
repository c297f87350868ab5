/**
 * The comlink surface of `validator.worker.ts` (issue #8 "Validate"): the validator loop
 * (src/peer/validator.ts, scheduled by src/peer/validator-schedule.ts) against the devnet at the page's
 * origin or a subtensor network with the validator's own S3 bucket (src/workers/peer-network.ts), with the page's wallet signing every write and weights set only with a validator permit.
 */
import type { Registration } from '../net/metagraph.ts';
import type { EvaluationOutcome, WindowScoringResult } from '../core/scoring/index.ts';
import type { SubmissionRejection, WindowEvent } from '../peer/events.ts';
import type { ValidatorWindowReport } from '../peer/validator.ts';
import type { PageSignPayload, PageSignRaw } from './page-signer.ts';
import type { RealNetworkOptions } from './peer-api.ts';
import type { TrainerBackend } from '../model/engine.ts';
import type { NetworkSummary } from '../net/network-settings.ts';
import type { SignerAccount } from '../net/types.ts';
import type { RunConfig } from '../core/config.ts';
import { GauntletError } from '../core/errors.ts';

export { VALIDATOR_DEV_ACCOUNT_URI } from '../net/wallets.ts';

/**
 * What a headless driver (`npm run evaluate`) reads of the Validate view's status through
 * `window.gauntlet`: the page's status object has at least these fields.
 */
export interface HeadlessValidateStatus {
  readonly hotkey: string | null;
  readonly uid: number | null;
  readonly running: boolean;
  readonly message: string;
  readonly log: readonly string[];
  readonly accounts: readonly SignerAccount[];
  readonly network: NetworkSummary;
  readonly validatorPermit: boolean | null;
  readonly engine: { readonly backend: TrainerBackend; readonly reason: string; readonly parameterCount: number } | null;
  /** Every window scored in this session, oldest first. */
  readonly windows: readonly ValidatorWindowSummary[];
  readonly weightsSet: readonly { readonly window: number; readonly uids: readonly number[]; readonly values: readonly number[]; readonly block: number }[];
  readonly weightsSkipped: readonly { readonly window: number; readonly reason: string }[];
  /** Windows lost on the network. */
  readonly skippedWindows: readonly number[];
}

export interface ValidatorStartOptions {
  /** Devnet base URL (the page's own origin by default). */
  readonly devnetUrl: string;
  /** A subtensor network and this validator's own S3 bucket instead of the devnet (the secret stays in memory). */
  readonly network?: RealNetworkOptions;
  readonly hotkey: string;
  readonly uid: number;
  readonly backend: TrainerBackend | 'auto';
  /**
   * The run to score when it is not the page's preset (headless use: `npm run evaluate --run-config`;
   * the page cannot fetch a run's config from the network yet). Validated in the worker.
   */
  readonly runConfig?: RunConfig;
}

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

/** Loop events beyond the validator's own events, each with the message the page shows. */
export type ValidatorLoopEvent =
  | { readonly kind: 'validator-engine'; readonly backend: TrainerBackend; readonly reason: string; readonly parameterCount: number }
  | { readonly kind: 'validator-restored'; readonly lastWindow: number | null; readonly message: string }
  | { readonly kind: 'validator-report'; readonly summary: ValidatorWindowSummary }
  | { readonly kind: 'validator-window-skipped'; readonly window: number; readonly message: string }
  | { readonly kind: 'validator-stopped'; readonly message: string };

/** The validator emits only `ValidatorEvent`s; the listener type it takes is the shared `WindowEvent` one. */
export type ValidatorPageEvent = WindowEvent | ValidatorLoopEvent;

export interface ValidatorWorkerApi {
  /**
   * Loads the data, builds the engine, restores this hotkey's saved state and starts the window loop.
   * `signPayload` (a real network): the page's wallet for the weight extrinsics.
   */
  start(options: ValidatorStartOptions, signRaw: PageSignRaw, onEvent: (event: ValidatorPageEvent) => void, signPayload?: PageSignPayload): Promise<void>;
  /** Stops after the current window; resolves when the loop has ended and the engine is released. */
  stop(): Promise<void>;
}

/** `start` was called while a loop runs, or before the page registered the hotkey. */
export class ValidatorStateError extends GauntletError {
  readonly code: string = 'validator-state';
  override readonly name = 'ValidatorStateError';
}
