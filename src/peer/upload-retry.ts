/**
 * Upload with retry inside the put window (issue #8 "Resilience"; gauntlet-spec §3.2). A submission
 * only counts when the storage server stamps it inside `[timeMin, timeMax]`, so a transient failure
 * (the endpoint unreachable, an HTTP 5xx, rate limiting) is worth retrying exactly as long as a retry
 * can still land before `timeMax`. Templar's `comms.put` retries the same way (a few attempts with a
 * growing pause); here the deadline is the put window itself rather than an attempt count.
 *
 * Failures that another attempt cannot fix (a bad signature, an unregistered hotkey, an oversized
 * object) are thrown at once. Once the next attempt could not start before the window closes, the
 * typed `UploadWindowClosedError` is thrown and the caller's loop goes on with the next window.
 */
import { NetError, RateLimitedError, UnavailableError } from '../net/errors.ts';
import type { TimeGate } from '../net/types.ts';
import { GauntletError } from '../core/errors.ts';

export interface UploadRetryOptions<T> {
  /** One attempt: sign-and-put (the miner's `upload`). */
  readonly attempt: () => Promise<T>;
  readonly window: number;
  readonly gate: TimeGate;
  /** The current time on the clock that judges the put window (the chain's head timestamp). */
  readonly nowMs: () => Promise<number>;
  /** Waits `ms`; injected so a simulated clock can advance instead of real time passing. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Pause before the first retry; doubles per attempt, capped at `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs?: number;
  /** True when the caller is shutting down: no further attempt is made. */
  readonly cancelled?: () => boolean;
  /** Called before each pause, with the failure that caused it. */
  readonly onRetry?: (retry: { readonly attempt: number; readonly delayMs: number; readonly error: NetError }) => void;
}

/** The put window closed (or the caller stopped) before an attempt succeeded; `lastError` is the final failure. */
export class UploadWindowClosedError extends GauntletError {
  readonly code: string = 'upload-window-closed';
  override readonly name = 'UploadWindowClosedError';
  constructor(
    readonly window: number,
    readonly attempts: number,
    readonly lastError: NetError,
  ) {
    super(`Upload of window ${window} failed ${attempts} time(s) and the put window has closed (last error: ${lastError.message}); this window earns nothing, the next one is unaffected.`);
  }
}

/** Failures a later attempt may not meet: the server or the path to it is down or busy. */
function isTransientUploadError(error: unknown): error is NetError {
  return error instanceof UnavailableError || error instanceof RateLimitedError;
}

/** Runs `attempt` until it succeeds, retrying transient failures with exponential backoff while the put window is open. */
export async function uploadWithRetry<T>(options: UploadRetryOptions<T>): Promise<T> {
  const maxDelayMs = options.maxDelayMs ?? Number.POSITIVE_INFINITY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await options.attempt();
    } catch (error) {
      if (!isTransientUploadError(error)) throw error;
      const delayMs = Math.min(options.baseDelayMs * 2 ** (attempt - 1), maxDelayMs);
      // The retry must start before timeMax: the server stamps the object when it arrives.
      if (options.cancelled?.() === true || (await options.nowMs()) + delayMs >= options.gate.timeMaxMs) {
        throw new UploadWindowClosedError(options.window, attempt, error);
      }
      options.onRetry?.({ attempt, delayMs, error });
      await options.sleep(delayMs);
    }
  }
}
