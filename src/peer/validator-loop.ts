/**
 * The clock that drives a validator (gauntlet-spec §3.4, Templar v2.1.3 `neurons/validator.py::
 * Validator.run`): sync window s is scored once the chain is in s + validatorOffset *and* the put
 * window of s has closed on the chain's clock (the head's timestamp is past `time_max`, §3.2), so
 * every on-time upload is readable. The Node CLI (src/cli/validator.ts) and the browser validator
 * worker (src/workers/validator.worker.ts) share this loop; only their engines, storage, signer and
 * persistence differ.
 */
import { putWindowAnchorBlock, validatorSyncWindow, windowOfBlock } from '../core/clock.ts';
import type { WindowConfig } from '../core/config.ts';
import { NetError } from '../net/errors.ts';
import type { Chain } from '../net/types.ts';
import type { Validator, ValidatorWindowReport } from './validator.ts';

/**
 * The window the validator scores next and whether it is due: `next` (the first unscored window;
 * null on a fresh start, which pins the current sync window, as Templar starts at the sync window of
 * its first iteration) is due once the chain is in `next + validatorOffset` or later and `next`'s put
 * window has closed. The caller keeps the returned `window` as its next one either way, so a slow
 * poll cannot miss the short span in which the current sync window is due and skip ahead.
 */
export async function validatorWindowDue(chain: Chain, clock: WindowConfig, next: number | null): Promise<{ window: number | null; due: boolean }> {
  const head = await chain.currentBlock();
  const sync = validatorSyncWindow(windowOfBlock(head.number, clock.blocksPerWindow), clock.validatorOffset);
  const window = next ?? sync;
  if (sync === null || window === null || window > sync) return { window, due: false };
  const opened = await chain.blockTimestamp(putWindowAnchorBlock(window, clock.blocksPerWindow));
  return { window, due: (head.timestampMs ?? 0) > opened + clock.putWindowMs };
}

export interface ValidatorLoopOptions {
  readonly validator: Validator;
  readonly chain: Chain;
  readonly clock: WindowConfig;
  /** Stop after this many windows (scored or skipped); unbounded when omitted. */
  readonly maxWindows?: number;
  /** Polled between windows and while waiting; the loop ends once it returns true. */
  readonly stopped: () => boolean;
  readonly onReport?: (report: ValidatorWindowReport) => void;
  /** A network failure lost `window` (the loop goes on with the next one). */
  readonly onSkipped?: (window: number, error: NetError) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `Validator.runWindow` for every due window, in order, from the one after the restored
 * state's last window (or the current sync window). Resolves with the number of windows handled
 * when stopped or after `maxWindows`; errors other than `NetError` end the loop (they are bugs or a
 * broken engine, not a flaky network).
 */
export async function runValidatorLoop(options: ValidatorLoopOptions): Promise<number> {
  const { validator, chain, clock } = options;
  const maxWindows = options.maxWindows ?? Number.POSITIVE_INFINITY;
  const last = validator.scoringState.lastWindow;
  let next = last === null ? null : last + 1;
  let done = 0;
  while (done < maxWindows && !options.stopped()) {
    const { window: due, due: isDue } = await validatorWindowDue(chain, clock, next).catch((error: unknown) => {
      // An unreachable chain is waited out, like a window that is not due yet.
      if (error instanceof NetError) return { window: next, due: false };
      throw error;
    });
    next = due;
    if (due === null || !isDue) {
      await sleep(clock.blockTimeMs / 2);
      continue;
    }
    try {
      // Not `onReport?.(await …)`: an optional call skips evaluating its argument when there is no listener.
      const report = await validator.runWindow(due);
      options.onReport?.(report);
    } catch (error) {
      // A network failure loses this window, not the validator (style.md §3 lesson 8).
      if (!(error instanceof NetError)) throw error;
      options.onSkipped?.(due, error);
    }
    next = due + 1;
    done += 1;
  }
  return done;
}
