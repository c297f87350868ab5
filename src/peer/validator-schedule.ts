/**
 * When a validator scores (gauntlet-spec §3.4, §7.8; Templar v2.1.3 `Validator.run` waits for
 * `current_window` to move past the window it scores): sync window s is scored once the chain is in
 * s + validatorOffset and the head's timestamp is past `time_max` of s, so every upload the time gate
 * accepts has been stored. Shared by `npm run validator` and `npm run swarm`.
 */
import { putWindowAnchorBlock, validatorSyncWindow, windowOfBlock } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import { NetError } from '../net/errors.ts';
import type { Chain } from '../net/types.ts';
import type { Validator, ValidatorWindowReport } from './validator.ts';

export interface ValidatorScheduleOptions {
  readonly config: RunConfig;
  readonly chain: Pick<Chain, 'currentBlock' | 'blockTimestamp'>;
  readonly validator: Pick<Validator, 'runWindow'>;
  /** The first window to score; null scores from the sync window the chain is in when the loop starts. */
  readonly firstWindow: number | null;
  /** How many windows to attempt (a window lost to the network counts); Infinity runs until `stop`. */
  readonly maxWindows: number;
  /** Checked between polls; true ends the loop after the window in progress. */
  readonly stop?: () => boolean;
  /** After each scored window (e.g. measure θ, print a line). */
  readonly onScored?: (report: ValidatorWindowReport) => Promise<void> | void;
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * How often one window is tried when our own chain or storage fails under it. Peers cannot cause
 * these failures (the validator turns every per-peer fault into that peer's reason, issue #14), so a
 * retry after a block is worth it; after the last one the window is given up for the next.
 */
export const WINDOW_ATTEMPTS = 3;

/** Scores windows in order as they become due; resolves with the number attempted. */
export async function runValidatorSchedule(options: ValidatorScheduleOptions): Promise<number> {
  const { config, chain, validator } = options;
  const { blocksPerWindow, blockTimeMs, validatorOffset, putWindowMs } = config.window;
  let done = 0;
  let next = options.firstWindow;
  // `time_min` of the window waited for: fixed once its anchor block exists, so read once per window, not per poll.
  let openedWindow: number | null = null;
  let openedMs = 0;
  let attempts = 0;
  while (done < options.maxWindows && options.stop?.() !== true) {
    let due: boolean;
    try {
      const head = await chain.currentBlock();
      const sync = validatorSyncWindow(windowOfBlock(head.number, blocksPerWindow), validatorOffset);
      next ??= sync;
      due = false;
      if (sync !== null && next !== null && next <= sync) {
        if (openedWindow !== next) {
          openedMs = await chain.blockTimestamp(putWindowAnchorBlock(next, blocksPerWindow));
          openedWindow = next;
        }
        due = (head.timestampMs ?? 0) > openedMs + putWindowMs;
      }
    } catch (error) {
      // A failed poll costs one poll, not the validator.
      if (!(error instanceof NetError)) throw error;
      options.onPollFailed?.(error);
      await sleep(blockTimeMs);
      continue;
    }
    if (!due || next === null) {
      await sleep(blockTimeMs / 2);
      continue;
    }
    try {
      // Not `onScored?.(await runWindow())`: an absent callback would skip evaluating its argument.
      const report = await validator.runWindow(next);
      await options.onScored?.(report);
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      attempts += 1;
      if (attempts < WINDOW_ATTEMPTS) {
        options.onRetry?.(next, error, attempts);
        await sleep(blockTimeMs);
        continue;
      }
      options.onSkipped?.(next, error);
    }
    attempts = 0;
    next += 1;
    done += 1;
  }
  return done;
}
