/**
 * When a validator scores (gauntlet-spec §3.4, §7.8; Templar v2.1.3 `Validator.run` waits for
 * `current_window` to move past the window it scores): sync window s is scored once the chain is in
 * s + validatorOffset and the head's timestamp is past `time_max` of s, so every upload the time gate
 * accepts has been stored. Shared by `npm run validator`, `npm run swarm` and the page's validator.
 *
 * Time comes from the chain only: head timestamps decide when a window is due, and the chain's own
 * block time (read from the runtime, never assumed) paces the polls; a run whose put window cannot
 * fit that chain's windows is refused before anything runs (issue #15). The loop never sleeps on its
 * own clock but through `sleep`, so tests drive it on a virtual clock.
 *
 * A validator that fell behind the chain (it was down, or the chain was unreachable) does not score
 * the windows it missed as if it had watched them: every window more than `LIVE_LAG_WINDOWS` behind
 * the chain's sync window is caught up (`Validator.catchUpWindow`: gathered and stepped so θ stays the
 * network's, not scored, no weights), and live scoring resumes at the chain's window. On every poll,
 * pending CR-v2 weight commits whose reveal blocks have come are revealed.
 */
import { checkWindowTiming, isNullRoundOf, putWindowAnchorBlock, validatorSyncWindow, windowOfBlock } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import { NetError } from '../net/errors.ts';
import type { BlockHeader, Chain } from '../net/types.ts';
import type { Validator, ValidatorCatchUpReport, ValidatorNullRoundReport, ValidatorWindowReport } from './validator.ts';

export interface ValidatorScheduleOptions {
  readonly config: RunConfig;
  readonly chain: Pick<Chain, 'currentBlock' | 'blockTimestamp' | 'hyperparams'>;
  readonly validator: Pick<Validator, 'runWindow' | 'catchUpWindow' | 'nullRoundWindow' | 'revealDueWeights'>;
  /** The first window to score; null scores from the sync window the chain is in when the loop starts. */
  readonly firstWindow: number | null;
  /** How many windows to attempt (scored, caught up, or lost to the network); Infinity runs until `stop`. */
  readonly maxWindows: number;
  /** Checked between polls; true ends the loop after the window in progress. */
  readonly stop?: () => boolean;
  /** Waits `ms` (default: a real timer). Tests pass a virtual clock that produces blocks. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The chain's block time the loop runs on, and any warning about the run config against it. */
  readonly onTiming?: (timing: { readonly chainBlockTimeMs: number; readonly warnings: readonly string[] }) => void;
  /** After each scored window (e.g. measure θ, print a line). */
  readonly onScored?: (report: ValidatorWindowReport) => Promise<void> | void;
  /** After each null round of the run passed (nothing scored, `Validator.nullRoundWindow`). */
  readonly onNullRound?: (report: ValidatorNullRoundReport) => Promise<void> | void;
  /** After each window caught up without scoring (`lag`: how many windows behind the chain it was). */
  readonly onCaughtUp?: (report: ValidatorCatchUpReport, lag: number) => Promise<void> | void;
  /**
   * A network failure of our own (chain or storage down) interrupted `window`; the loop pauses a
   * block and tries the window again, up to `WINDOW_ATTEMPTS` times (`attempt` counts from 1).
   */
  readonly onRetry?: (window: number, error: NetError, attempt: number) => void;
  /** A network failure lost `window` after every attempt; the loop goes on with the next one (style.md §3 lesson 8). */
  readonly onSkipped?: (window: number, error: NetError) => void;
  /** Reading the head failed (the loop asks again after a block). */
  readonly onPollFailed?: (error: NetError) => void;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How often one window is tried when our own chain or storage fails under it. Peers cannot cause
 * these failures (the validator turns every per-peer fault into that peer's reason, issue #14), so a
 * retry after a block is worth it; after the last one the window is given up for the next.
 */
export const WINDOW_ATTEMPTS = 3;

/**
 * How far behind the chain's sync window a window may be and still be scored live. One: a validator
 * that takes a little longer than a window to score still sets weights; two or more windows behind,
 * it was not there when they happened (issue #15: a restarted validator replayed every missed window
 * and set weights for each, 130 `set_weights` in a minute).
 */
export const LIVE_LAG_WINDOWS = 1;

/** Scores windows in order as they become due; resolves with the number attempted. */
export async function runValidatorSchedule(options: ValidatorScheduleOptions): Promise<number> {
  const { config, chain, validator } = options;
  const sleep = options.sleep ?? realSleep;
  const { blocksPerWindow, validatorOffset, putWindowMs } = config.window;
  const blockTimeMs = await chainBlockTime(options);
  let done = 0;
  let next = options.firstWindow;
  // `time_min` of the window waited for: fixed once its anchor block exists, so read once per window, not per poll.
  let openedWindow: number | null = null;
  let openedMs = 0;
  let attempts = 0;
  while (done < options.maxWindows && options.stop?.() !== true) {
    let due: { readonly window: number; readonly lag: number } | null = null;
    let head: BlockHeader;
    try {
      head = await chain.currentBlock();
      const sync = validatorSyncWindow(windowOfBlock(head.number, blocksPerWindow), validatorOffset);
      next ??= sync;
      if (sync !== null && next !== null && next <= sync) {
        if (openedWindow !== next) {
          openedMs = await chain.blockTimestamp(putWindowAnchorBlock(next, blocksPerWindow));
          openedWindow = next;
        }
        if (head.timestampMs > openedMs + putWindowMs) due = { window: next, lag: sync - next };
      }
    } catch (error) {
      // A failed poll costs one poll, not the validator.
      if (!(error instanceof NetError)) throw error;
      options.onPollFailed?.(error);
      await sleep(blockTimeMs);
      continue;
    }
    try {
      await validator.revealDueWeights(head);
    } catch (error) {
      // Our chain failing under a reveal: reported by the validator, tried again at a later poll.
      if (!(error instanceof NetError)) throw error;
    }
    if (due === null) {
      await sleep(blockTimeMs / 2);
      continue;
    }
    try {
      // Not `onScored?.(await runWindow())`: an absent callback would skip evaluating its argument.
      if (isNullRoundOf(due.window, config.window)) {
        await options.onNullRound?.(await validator.nullRoundWindow(due.window));
      } else if (due.lag > LIVE_LAG_WINDOWS) {
        const report = await validator.catchUpWindow(due.window);
        await options.onCaughtUp?.(report, due.lag);
      } else {
        const report = await validator.runWindow(due.window);
        await options.onScored?.(report);
      }
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      attempts += 1;
      if (attempts < WINDOW_ATTEMPTS) {
        options.onRetry?.(due.window, error, attempts);
        await sleep(blockTimeMs);
        continue;
      }
      options.onSkipped?.(due.window, error);
    }
    attempts = 0;
    next = due.window + 1;
    done += 1;
  }
  return done;
}

/**
 * The chain's block time, read from the runtime (`Hyperparams.blockTimeMs`: Aura's slot duration on
 * subtensor), and the run checked against it; a chain that cannot be read is retried, one that the
 * run cannot work on throws `WindowTimingError` with the numbers.
 */
async function chainBlockTime(options: ValidatorScheduleOptions): Promise<number> {
  const sleep = options.sleep ?? realSleep;
  for (;;) {
    if (options.stop?.() === true) return options.config.window.blockTimeMs;
    try {
      const { blockTimeMs } = await options.chain.hyperparams(options.config.netuid);
      const warnings = checkWindowTiming(options.config.window, blockTimeMs);
      options.onTiming?.({ chainBlockTimeMs: blockTimeMs, warnings });
      return blockTimeMs;
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      options.onPollFailed?.(error);
      await sleep(options.config.window.blockTimeMs);
    }
  }
}
