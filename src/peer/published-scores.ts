/**
 * Reading a validator's published `scores-{window}` documents (src/core/scoring/published.ts) from
 * its bucket, for the volunteer's dashboard. A malformed or foreign document is a typed rejection,
 * never a crash: the next window's document replaces it.
 */
import { deserializeWindowScores, MAX_WINDOW_SCORES_BYTES, WindowScoresError, type WindowScoresDocument } from '../core/scoring/index.ts';
import { NetError } from '../net/errors.ts';
import type { Storage } from '../net/types.ts';
import { numberedObjects, scoresKey } from './gather.ts';

const SCORES_PREFIX = 'scores-';

export type ScoresReadResult =
  | { readonly ok: true; readonly document: WindowScoresDocument }
  | { readonly ok: false; readonly window: number; readonly message: string };

export interface ScoresRunContext {
  readonly runId: string;
  readonly netuid: number;
}

/** Fetches and checks `scores-{window}` of `validatorHotkey`. */
export async function readWindowScores(storage: Storage, validatorHotkey: string, window: number, run: ScoresRunContext): Promise<ScoresReadResult> {
  try {
    const { data } = await storage.get(validatorHotkey, scoresKey(window), { maxBytes: MAX_WINDOW_SCORES_BYTES });
    return { ok: true, document: deserializeWindowScores(new TextDecoder().decode(data), { ...run, window }) };
  } catch (error) {
    if (error instanceof NetError || error instanceof WindowScoresError) return { ok: false, window, message: error.message };
    throw error;
  }
}

/**
 * Follows one validator's documents: each `poll` returns the documents of windows after the last
 * one returned, oldest first (at most `backlog` of them, so a page that joins late reads only the
 * recent history). Switching validators starts over.
 */
export class WindowScoresFollower {
  private validatorHotkey: string | null = null;
  private lastWindow = -1;

  constructor(
    private readonly storage: Storage,
    private readonly run: ScoresRunContext,
    private readonly backlog = 8,
  ) {}

  async poll(validatorHotkey: string): Promise<ScoresReadResult[]> {
    if (validatorHotkey !== this.validatorHotkey) {
      this.validatorHotkey = validatorHotkey;
      this.lastWindow = -1;
    }
    const windows = (await numberedObjects(this.storage, validatorHotkey, SCORES_PREFIX))
      .map(({ n }) => n)
      .filter((window) => window > this.lastWindow)
      .slice(-this.backlog);
    const out: ScoresReadResult[] = [];
    for (const window of windows) {
      out.push(await readWindowScores(this.storage, validatorHotkey, window, this.run));
      this.lastWindow = window;
    }
    return out;
  }
}
