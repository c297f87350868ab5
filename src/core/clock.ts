/**
 * The window clock (gauntlet-spec §3): pure functions from chain blocks and server timestamps to
 * windows, put-window bounds and the roles windows play. The chain's block number and its
 * `Timestamp.Now` are the only authorities; local clocks are used for nothing here.
 *
 * Every function takes plain numbers (blocks, windows, milliseconds) so the miner loop, the
 * validator, the devnet and the tests share exactly the same arithmetic.
 */

import type { WindowConfig } from './config.ts';
import { GauntletError } from './errors.ts';

/** A block, window or timestamp argument that is not a usable number. */
export class ClockInputError extends GauntletError {
  readonly code: string = 'clock-input';
  override readonly name = 'ClockInputError';
  constructor(
    readonly argument: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${argument} (${String(value)}) must be ${expected}; check the chain connection returned a block number or timestamp.`);
  }
}

function requireNonNegativeInt(argument: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new ClockInputError(argument, value, 'a non-negative integer');
}

function requirePositiveInt(argument: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new ClockInputError(argument, value, 'a positive integer');
}

function requireFinite(argument: string, value: number): void {
  if (!Number.isFinite(value)) throw new ClockInputError(argument, value, 'a finite number');
}

/**
 * The window a block belongs to: `floor(block / blocksPerWindow)`.
 * Mirrors `neurons/base_node.py::BaseNode.block_listener` (`current_window = int(block / blocks_per_window)`).
 */
export function windowOfBlock(block: number, blocksPerWindow: number): number {
  requireNonNegativeInt('block', block);
  requirePositiveInt('blocksPerWindow', blocksPerWindow);
  return Math.floor(block / blocksPerWindow);
}

/**
 * The first block of a window: `window · blocksPerWindow`. Its chain timestamp opens the put window
 * of the *previous* window (see `putWindowAnchorBlock`).
 */
export function firstBlockOfWindow(window: number, blocksPerWindow: number): number {
  requireNonNegativeInt('window', window);
  requirePositiveInt('blocksPerWindow', blocksPerWindow);
  return window * blocksPerWindow;
}

/**
 * The block whose timestamp opens the put window of `window`: the first block of `window + 1`.
 * Mirrors `Miner.run` / `Validator.run`, which query `query_block_timestamp((w + 1) · blocks_per_window)`
 * (gauntlet-spec §3.2; querying the chain rather than the local clock is the fix of Templar #142).
 */
export function putWindowAnchorBlock(window: number, blocksPerWindow: number): number {
  return firstBlockOfWindow(window + 1, blocksPerWindow);
}

/** Inclusive bounds, in milliseconds since the Unix epoch, of one window's put window. */
export interface PutWindowBounds {
  readonly timeMinMs: number;
  readonly timeMaxMs: number;
}

/**
 * `[time_min, time_max]` of a put window: `time_min` is the chain timestamp of the first block of
 * the next window, `time_max = time_min + putWindowMs` (Templar `time_window_delta_seconds`: 70 s in
 * v2.1.3, 10 s paper-era). Mirrors the `time_min`/`time_max` computation in `Miner.run` and
 * `Validator.run` (gauntlet-spec §3.2, §3.4 step 4).
 */
export function putWindowBounds(timestampMsOfFirstBlockOfNextWindow: number, putWindowMs: number): PutWindowBounds {
  requireFinite('timestampMsOfFirstBlockOfNextWindow', timestampMsOfFirstBlockOfNextWindow);
  if (!Number.isFinite(putWindowMs) || putWindowMs <= 0) throw new ClockInputError('putWindowMs', putWindowMs, 'a positive number of milliseconds');
  return { timeMinMs: timestampMsOfFirstBlockOfNextWindow, timeMaxMs: timestampMsOfFirstBlockOfNextWindow + putWindowMs };
}

/** Where an upload's server timestamp falls relative to the put window. */
export type UploadTiming = 'too-early' | 'on-time' | 'too-late';

/**
 * Classifies an upload by the storage server's own timestamp (never the uploader's claim):
 * before `timeMinMs` → too early, after `timeMaxMs` → too late, both bounds inclusive on time.
 * Mirrors `src/tplr/comms.py::Comms.s3_get_object`, which compares S3 `LastModified` with
 * `time_min`/`time_max` and returns `TOO_EARLY` / `TOO_LATE` (gauntlet-spec §3.2). Either one counts
 * as a missing submission.
 */
export function classifyUploadTime(serverTimestampMs: number, bounds: PutWindowBounds): UploadTiming {
  requireFinite('serverTimestampMs', serverTimestampMs);
  if (serverTimestampMs < bounds.timeMinMs) return 'too-early';
  if (serverTimestampMs > bounds.timeMaxMs) return 'too-late';
  return 'on-time';
}

/**
 * The window a validator scores while the chain is in `currentWindow`: `currentWindow − validatorOffset`,
 * or null while the chain is younger than the offset. Mirrors `neurons/validator.py::Validator.run`
 * (`sync_window = current_window − validator_offset`, v2.1.3 offset 1; gauntlet-spec §3.4).
 */
export function validatorSyncWindow(currentWindow: number, validatorOffset: number): number | null {
  requireNonNegativeInt('currentWindow', currentWindow);
  requireNonNegativeInt('validatorOffset', validatorOffset);
  const sync = currentWindow - validatorOffset;
  return sync >= 0 ? sync : null;
}

/**
 * First window in which a peer list posted during `currentWindow` takes effect:
 * `currentWindow + peerListWindowMargin`. Mirrors `Validator.create_and_post_peers` /
 * `comms.post_peer_list` (`first_effective_window`, key `peers_{E}`); miners switch to the list when
 * `window ≥ E` (`tplr.neurons.update_peers`, gauntlet-spec §5.7).
 */
export function peerListFirstEffectiveWindow(currentWindow: number, peerListWindowMargin: number): number {
  requireNonNegativeInt('currentWindow', currentWindow);
  requireNonNegativeInt('peerListWindowMargin', peerListWindowMargin);
  return currentWindow + peerListWindowMargin;
}

/**
 * Whether a window is a null round by the start-of-run rule: the first
 * `validatorOffset + peerListWindowMargin` windows from `startWindow` (2 in v2.1.3) run forward and
 * backward only, with no optimizer step and the error feedback zeroed, because no peer list and no
 * validator are in place yet (gauntlet-spec §3.3 step 4, `neurons/miner.py::Miner.run` `null_round`).
 * Ours trains nothing at all in a null round (Templar runs forward and backward and discards them:
 * the same θ and e, without the compute). A window with an empty gather is not a null round here: it
 * keeps e, as `Miner.run` does when `gather_result is None`.
 * Windows before `startWindow` are not part of the run and count as null too.
 */
export function isNullRound(window: number, startWindow: number, cfg: Pick<WindowConfig, 'validatorOffset' | 'peerListWindowMargin'>): boolean {
  requireNonNegativeInt('window', window);
  requireNonNegativeInt('startWindow', startWindow);
  return window - startWindow < cfg.validatorOffset + cfg.peerListWindowMargin;
}

/** `isNullRound` under a run's window config: never for a run without a start window (`startWindow` null). */
export function isNullRoundOf(window: number, cfg: Pick<WindowConfig, 'startWindow' | 'validatorOffset' | 'peerListWindowMargin'>): boolean {
  return cfg.startWindow !== null && isNullRound(window, cfg.startWindow, cfg);
}

/** The run's first window that is not a null round (its first outer step), or null for a run without null rounds. */
export function firstWindowAfterNullRounds(cfg: Pick<WindowConfig, 'startWindow' | 'validatorOffset' | 'peerListWindowMargin'>): number | null {
  return cfg.startWindow === null ? null : cfg.startWindow + cfg.validatorOffset + cfg.peerListWindowMargin;
}

/** Nominal window length in ms (`blocksPerWindow · blockTimeMs`), for progress bars and estimates only. */
export function nominalWindowMs(cfg: Pick<WindowConfig, 'blocksPerWindow' | 'blockTimeMs'>): number {
  return cfg.blocksPerWindow * cfg.blockTimeMs;
}

/** A run's window timing cannot work on the chain it joined (issue #15); the message has the numbers. */
export class WindowTimingError extends GauntletError {
  readonly code: string = 'window-timing';
  override readonly name = 'WindowTimingError';
}

/**
 * Checks a run's windows against the chain's real block time (read from the runtime: Aura's slot
 * duration on subtensor). A window lasts `blocksPerWindow × chainBlockTimeMs`; its put window opens
 * at the first block of the next window and must close at least one block before that window ends,
 * or consecutive put windows overlap and no window is ever due before the next one opens. Throws
 * `WindowTimingError` when that fails; returns warnings (the run's stated block time differs from
 * the chain's, so its window lasts another time than its author planned) otherwise.
 */
export function checkWindowTiming(cfg: Pick<WindowConfig, 'blocksPerWindow' | 'blockTimeMs' | 'putWindowMs'>, chainBlockTimeMs: number): string[] {
  if (!Number.isFinite(chainBlockTimeMs) || chainBlockTimeMs <= 0) {
    throw new WindowTimingError(`The chain reports a block time of ${chainBlockTimeMs} ms; a window clock needs a positive one.`);
  }
  const windowMs = cfg.blocksPerWindow * chainBlockTimeMs;
  if (cfg.putWindowMs + chainBlockTimeMs > windowMs) {
    throw new WindowTimingError(
      `This run cannot work on this chain: a window is ${cfg.blocksPerWindow} blocks × ${chainBlockTimeMs} ms = ${windowMs} ms, ` +
        `but its put window (${cfg.putWindowMs} ms) plus one block (${chainBlockTimeMs} ms) must fit inside it. ` +
        `Use a run with more blocks per window or a shorter put window for this chain.`,
    );
  }
  const warnings: string[] = [];
  const ratio = chainBlockTimeMs / cfg.blockTimeMs;
  if (ratio > 2 || ratio < 0.5) {
    warnings.push(`The run expects ${cfg.blockTimeMs} ms blocks, the chain makes ${chainBlockTimeMs} ms blocks: a window lasts ${windowMs} ms instead of ${cfg.blocksPerWindow * cfg.blockTimeMs} ms.`);
  }
  return warnings;
}
