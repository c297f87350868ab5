/**
 * Which hotkeys may write through the gateway: those registered on the run's subnet, read from the
 * chain's metagraph and refreshed. A hotkey the last read did not hold triggers a new read (a
 * volunteer who has just registered from the page must not wait a whole interval), but at most one
 * read per `minRefreshMs`, shared by every request that waits for it: a flood of unregistered
 * hotkeys costs the chain one metagraph read per `minRefreshMs`, never one per request.
 */
import { errorMessage } from '../core/errors.ts';
import { UnavailableError } from '../net/errors.ts';
import type { Chain } from '../net/types.ts';
import { parseSs58 } from '../devnet/auth.ts';

export interface RegisteredHotkeysOptions {
  readonly chain: Pick<Chain, 'metagraph'>;
  readonly netuid: number;
  /** A read older than this is refreshed before it is used (default 12 s, one subtensor block). */
  readonly refreshMs?: number;
  /** Least time between two reads (default 2 s). */
  readonly minRefreshMs?: number;
  readonly now?: () => number;
  /**
   * Called with the hotkeys that left the subnet (deregistered, pruned): absent from every read for at
   * least `departedAfterMs` (default 60 s) after a read that held them. The wait keeps a transient
   * short read of the metagraph from costing anyone their objects.
   */
  readonly onDeparted?: (hotkeys: readonly string[]) => void;
  readonly departedAfterMs?: number;
}

export class RegisteredHotkeys {
  private hotkeys: ReadonlySet<string> = new Set();
  private readAtMs = Number.NEGATIVE_INFINITY;
  /** When the last read began, successful or not: reads are at least `minRefreshMs` apart. */
  private triedAtMs = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;
  private lastFailure: string | undefined;
  private readonly now: () => number;
  /** Hotkeys a read held and a later one did not, with when they were first missed. */
  private readonly missing = new Map<string, number>();

  constructor(private readonly options: RegisteredHotkeysOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether `hotkey` (canonical SS58) is registered on the subnet, by a read no older than
   * `refreshMs`, or a fresh one where the last read did not hold it. `UnavailableError` when the
   * chain has never been read.
   */
  async has(hotkey: string): Promise<boolean> {
    const now = this.now();
    const stale = now - this.readAtMs >= (this.options.refreshMs ?? 12_000) || !this.hotkeys.has(hotkey);
    if (stale && now - this.triedAtMs >= (this.options.minRefreshMs ?? 2_000)) await this.refresh();
    else if (this.reading !== undefined) await this.reading;
    if (this.readAtMs === Number.NEGATIVE_INFINITY) throw new UnavailableError(`The gateway cannot read the metagraph of netuid ${this.options.netuid} (${this.lastFailure ?? 'no read yet'}); retry later.`);
    return this.hotkeys.has(hotkey);
  }

  /** Reads the metagraph now (concurrent callers share the read); a failed read keeps the last one. */
  refresh(): Promise<void> {
    this.reading ??= (async () => {
      this.triedAtMs = this.now();
      try {
        const metagraph = await this.options.chain.metagraph(this.options.netuid);
        const previous = this.hotkeys;
        this.hotkeys = new Set(metagraph.hotkeys.map((h) => parseSs58(h, 'Metagraph hotkey')));
        this.readAtMs = this.now();
        this.noteDepartures(previous);
        this.lastFailure = undefined;
      } catch (error) {
        this.lastFailure = errorMessage(error);
      }
    })().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  /** Tracks hotkeys missing from the newest read and reports those missing for long enough. */
  private noteDepartures(previous: ReadonlySet<string>): void {
    const now = this.now();
    for (const hotkey of previous) if (!this.hotkeys.has(hotkey) && !this.missing.has(hotkey)) this.missing.set(hotkey, now);
    const departed: string[] = [];
    for (const [hotkey, since] of this.missing) {
      if (this.hotkeys.has(hotkey)) this.missing.delete(hotkey);
      else if (now - since >= (this.options.departedAfterMs ?? 60_000)) {
        departed.push(hotkey);
        this.missing.delete(hotkey);
      }
    }
    if (departed.length > 0) this.options.onDeparted?.(departed);
  }
}
