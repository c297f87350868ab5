/**
 * The typed event stream of the miner and validator loops (style.md lesson 7): every stage of a
 * window emits one `WindowEvent`, and the UI, the CLI, the demo mode and the tests consume the same
 * union instead of scraping logs. Events carry plain numbers and strings only, so they can cross a
 * worker boundary or be written as JSON lines.
 */
import type { RunConfig } from '../core/config.ts';
import type { WindowScoresDocument } from '../core/scoring/index.ts';
import type { TrainerBackend } from '../model/engine.ts';

/** Why a gathered or evaluated submission was not used (gauntlet-spec §5.8, §7.2). */
export type SubmissionRejection =
  /** No object (never uploaded, or removed). */
  | 'missing'
  /** Stored before the put window opened (Templar `TOO_EARLY`). */
  | 'too-early'
  /** Stored after the put window closed (Templar `TOO_LATE`). */
  | 'too-late'
  /** Larger than `window.maxSubmissionBytes`. */
  | 'oversized'
  /** Signature missing or not by the uid's hotkey over exactly these bytes, window and uid. */
  | 'bad-signature'
  /** The bytes do not decode against the run's layout and compression (`WireFormatError`). */
  | 'malformed'
  /**
   * The peer's bucket could not be read (no or an invalid bucket commitment, access refused, its
   * server unreachable): that peer's fault only, never the window's (issue #14).
   */
  | 'unreadable';

export type MinerEvent =
  /** `sampleDigest`: the receipt of the pool assigned to it (what it signs and the validator checks); `trainedDigest`: of the sequences it trained. */
  | { readonly kind: 'miner-assignment'; readonly window: number; readonly uid: number; readonly sequences: number; readonly sampleDigest: string; readonly trainedDigest: string }
  | { readonly kind: 'miner-trained'; readonly window: number; readonly uid: number; readonly steps: number; readonly meanLoss: number; readonly elapsedMs: number }
  /**
   * `updateNorm` ‖Δ‖ when Δ crossed to the CPU (`denseOnCpu`), null when it stayed on the engine (the
   * honest path on WebGPU reads back only the packed bytes, so ‖Δ‖ is never known on the CPU).
   */
  | { readonly kind: 'miner-compressed'; readonly window: number; readonly uid: number; readonly bytes: number; readonly updateNorm: number | null; readonly denseOnCpu: boolean }
  | { readonly kind: 'miner-signed'; readonly window: number; readonly uid: number; readonly key: string }
  | { readonly kind: 'miner-uploaded'; readonly window: number; readonly uid: number; readonly key: string; readonly serverTimeMs: number }
  | { readonly kind: 'miner-gathered'; readonly window: number; readonly uid: number; readonly gathered: readonly number[]; readonly rejected: Readonly<Record<string, SubmissionRejection>> }
  /**
   * `dropped`: gathered peers left out of the aggregate by the bounds (uid → reason); `refused`: why
   * the whole step was refused (the per-window bound), null when it was applied or there was none.
   */
  | { readonly kind: 'miner-outer-step'; readonly window: number; readonly uid: number; readonly applied: boolean; readonly peers: number; readonly dropped?: Readonly<Record<string, string>>; readonly refused?: string | null }
  /** A null round of the run (src/core/clock.ts `isNullRoundOf`): nothing trained or sent, e zeroed; training starts in window `trainsFrom`. */
  | { readonly kind: 'miner-null-round'; readonly window: number; readonly uid: number; readonly trainsFrom: number }
  | { readonly kind: 'miner-debug-published'; readonly window: number; readonly uid: number; readonly key: string }
  | { readonly kind: 'miner-error'; readonly window: number; readonly uid: number; readonly stage: string; readonly message: string };

export type ValidatorEvent =
  | { readonly kind: 'validator-window-start'; readonly window: number; readonly submitted: readonly number[]; readonly evalUids: readonly number[] }
  | { readonly kind: 'validator-gathered'; readonly window: number; readonly gathered: readonly number[]; readonly rejected: Readonly<Record<string, SubmissionRejection>> }
  | {
      readonly kind: 'validator-evaluated';
      readonly window: number;
      readonly uid: number;
      readonly status: 'ok' | 'missing' | 'invalid';
      readonly lossOwnBefore?: number;
      readonly lossOwnAfter?: number;
      readonly lossRandomBefore?: number;
      readonly lossRandomAfter?: number;
      readonly detail?: string;
    }
  | { readonly kind: 'validator-scored'; readonly window: number; readonly weights: Readonly<Record<string, number>>; readonly reasons: number }
  | { readonly kind: 'validator-outer-step'; readonly window: number; readonly peers: readonly number[]; readonly globalStep: number }
  /** The window's outer step was not applied nor published (issue #14): `reason` names the bound. */
  | { readonly kind: 'validator-outer-step-refused'; readonly window: number; readonly peers: readonly number[]; readonly reason: string }
  /**
   * One peer's fault, recorded against that uid only (issue #14): its bucket could not be read at
   * `stage`, or its submission was left out of the aggregate by the bounds.
   */
  | { readonly kind: 'validator-peer-fault'; readonly window: number; readonly uid: number; readonly stage: 'head' | 'gather' | 'digest' | 'aggregate' | 'evaluate'; readonly reason: string }
  | { readonly kind: 'validator-published'; readonly window: number; readonly key: string }
  /** Weights landed on chain: set plainly, or a commit revealed (`window`: the scored window they come from). */
  | { readonly kind: 'validator-weights-set'; readonly window: number; readonly uids: readonly number[]; readonly values: readonly number[]; readonly block: number; readonly method: 'setWeights' | 'revealWeights' }
  /** Commit-reveal is on: the weights were committed and land when revealed in blocks `[firstRevealBlock, lastRevealBlock]`. */
  | { readonly kind: 'validator-weights-committed'; readonly window: number; readonly uids: readonly number[]; readonly values: readonly number[]; readonly block: number; readonly firstRevealBlock: number; readonly lastRevealBlock: number }
  /** A commit's reveal blocks passed before it could be revealed (the validator was down through them): those weights never land. */
  | { readonly kind: 'validator-weights-expired'; readonly window: number; readonly commitBlock: number; readonly lastRevealBlock: number }
  | { readonly kind: 'validator-weights-skipped'; readonly window: number; readonly reason: string }
  /** A window the validator did not watch live, gathered and stepped to catch up with the chain: not scored, no weights. */
  /** A null round of the run passed: nothing gathered, scored or stepped; the first outer step is in window `trainsFrom`. */
  | { readonly kind: 'validator-null-round'; readonly window: number; readonly trainsFrom: number }
  | { readonly kind: 'validator-caught-up'; readonly window: number; readonly gathered: readonly number[]; readonly outerStepApplied: boolean }
  | { readonly kind: 'validator-state-saved'; readonly window: number; readonly bytes: number }
  /**
   * A validator with no state of its own took θ from the network before its first window
   * (`Validator.joinNetwork`): the lead validator's checkpoint and the aggregates after it, or the
   * run's init when there is no lead yet. `window` is the last window replayed (−1: none).
   */
  /** This validator scored `window` with another θ than the lead validator did (`theta-{window}` hashes): no weights for it, θ from the lead before the next window. */
  | { readonly kind: 'validator-theta-differs'; readonly window: number; readonly lead: string; readonly ownHash: string; readonly leadHash: string; readonly message: string }
  | { readonly kind: 'validator-synced'; readonly window: number; readonly source: 'init' | 'checkpoint'; readonly lead: string | null; readonly globalStep: number; readonly replayed: readonly number[]; readonly message: string }
  | { readonly kind: 'validator-error'; readonly window: number; readonly stage: string; readonly message: string };

export type WindowEvent = MinerEvent | ValidatorEvent;

export type WindowEventListener = (event: WindowEvent) => void;

/** One chain-weight row: the share of incentive each uid receives (devnet: from the validators' set weights). */
export interface ChainScoreRow {
  readonly uid: number;
  readonly hotkey: string;
  readonly incentive: number;
  readonly lastUpdate: number;
}

/** The miner loop's events beyond the per-window `WindowEvent`s (src/peer/miner-loop.ts), each with the message the page shows. */
export type PeerLoopEvent =
  | { readonly kind: 'peer-engine'; readonly backend: TrainerBackend; readonly reason: string; readonly parameterCount: number }
  /** The chain's block time as read at start (it paces the loop), with the run's window and put window on it. */
  | { readonly kind: 'peer-clock'; readonly blockTimeMs: number; readonly message: string }
  /**
   * How fast this device trains the run, measured before the first window: the H inner steps of a
   * window take about `windowTrainMs` against a window of `windowMs`; `fits` false when they cannot
   * finish before the window's put window (issue #17).
   */
  | { readonly kind: 'peer-pace'; readonly tokensPerSecond: number; readonly windowTrainMs: number; readonly windowMs: number; readonly fits: boolean; readonly message: string }
  | { readonly kind: 'peer-synced'; readonly source: 'init' | 'checkpoint' | 'snapshot'; readonly window: number | null; readonly replayed: readonly number[]; readonly message: string }
  | { readonly kind: 'peer-resumed'; readonly window: number; readonly errorFeedbackDigest: string; readonly message: string }
  | { readonly kind: 'peer-inner-step'; readonly window: number; readonly step: number; readonly of: number; readonly loss: number }
  /** The loop starts the upload (the put window is open) or the gather (it has closed): phase timing for the swarm report. */
  | { readonly kind: 'peer-stage-start'; readonly window: number; readonly stage: 'upload' | 'gather' }
  | { readonly kind: 'peer-upload-retry'; readonly window: number; readonly attempt: number; readonly message: string }
  | { readonly kind: 'peer-catching-up'; readonly from: number; readonly to: number; readonly message: string }
  | { readonly kind: 'peer-missed'; readonly from: number; readonly to: number; readonly replayed: readonly number[]; readonly message: string }
  | { readonly kind: 'peer-window-failed'; readonly window: number; readonly message: string }
  | { readonly kind: 'peer-device-lost'; readonly window: number; readonly message: string }
  | { readonly kind: 'peer-recovered'; readonly backend: TrainerBackend; readonly window: number | null; readonly message: string }
  | { readonly kind: 'peer-persisted'; readonly window: number; readonly errorFeedbackDigest: string; readonly message: string }
  | { readonly kind: 'peer-persist-failed'; readonly window: number; readonly message: string }
  | { readonly kind: 'peer-chain-scores'; readonly window: number; readonly block: number; readonly validatorHotkey: string; readonly rows: readonly ChainScoreRow[] }
  | { readonly kind: 'peer-network'; readonly reachable: boolean; readonly message: string }
  /** The lead validator's published scores of one window (`scores-{window}`), already checked. */
  | { readonly kind: 'peer-window-scores'; readonly validatorHotkey: string; readonly document: WindowScoresDocument }
  | { readonly kind: 'peer-scores-unreadable'; readonly window: number; readonly message: string }
  | { readonly kind: 'peer-stopped'; readonly message: string };

/**
 * The run a worker joined, read from the network and checked (issue #17: on subtensor the run the
 * subnet publishes, which the page did not know before Start), so the page can say which run it is.
 */
export interface RunJoinedEvent {
  readonly kind: 'run-joined';
  readonly runHash: string;
  readonly config: RunConfig;
  readonly source: 'devnet' | 'chain';
  readonly message: string;
}

/** Everything a miner loop emits: its window stages and its loop events. */
export type PeerEvent = WindowEvent | PeerLoopEvent | RunJoinedEvent;
