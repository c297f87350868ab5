/**
 * What a miner keeps between windows (issue #8 "Resilience"), wherever it keeps it: after every
 * finished window the miner loop (src/peer/miner-loop.ts) saves θ (after the outer step), the
 * error-feedback buffer e (gauntlet-spec §5.3, Templar `prepare_gradient_dict` keeps it across
 * windows), the inner AdamW state (§5.1: Templar keeps one optimiser for the whole run) and the
 * window, so a restart resumes the same trajectory. The browser keeps it in IndexedDB
 * (`BrowserPeerPersistence`), a Node miner or a test in memory (`MemoryPeerPersistence`).
 */
import type { InnerOptimizerState } from '../model/engine.ts';
import { GauntletError } from '../core/errors.ts';

/**
 * The snapshot layout version. 1: θ, e, window. 2: adds the inner optimiser state; a version-1
 * record cannot resume the same trajectory (its optimiser state is unknown), so it is refused.
 */
export const SNAPSHOT_VERSION = 2;

/** What is saved after a finished window. */
export interface PeerSnapshot {
  readonly version: typeof SNAPSHOT_VERSION;
  readonly runId: string;
  readonly hotkey: string;
  /** The last window whose outer step is included in `params`. */
  readonly window: number;
  readonly params: Float32Array;
  readonly errorFeedback: Float32Array;
  /** The inner AdamW state after `window`'s inner steps (the outer step does not touch it). */
  readonly optimizer: InnerOptimizerState;
  readonly savedAtMs: number;
}

/** IndexedDB is missing, blocked (private mode, quota) or returned a record of another layout. */
export class PersistenceError extends GauntletError {
  readonly code: string = 'persistence';
  override readonly name: string = 'PersistenceError';
}

/** The saved record was written by an older layout of this app (see `SNAPSHOT_VERSION`). */
export class SnapshotVersionError extends PersistenceError {
  override readonly name = 'SnapshotVersionError';
  constructor(readonly found: number) {
    super(`This browser's saved peer state has layout version ${found}, this app writes version ${SNAPSHOT_VERSION} (it now also keeps the inner optimiser state); it cannot resume the same trajectory, so the peer syncs from the network instead and overwrites it after its next window.`);
  }
}

/** Where a miner's snapshot lives: one record per (run, hotkey), so no two runs or hotkeys share one. */
export interface PeerPersistence {
  /** The snapshot of (run, hotkey), undefined when there is none; `PersistenceError` when it cannot be read. */
  load(runId: string, hotkey: string): Promise<PeerSnapshot | undefined>;
  save(snapshot: PeerSnapshot): Promise<void>;
}

/** Snapshots in this process's memory (Node miners, tests): a restart of the process starts from the network. */
export class MemoryPeerPersistence implements PeerPersistence {
  private readonly records = new Map<string, PeerSnapshot>();

  load(runId: string, hotkey: string): Promise<PeerSnapshot | undefined> {
    return Promise.resolve(this.records.get(`${runId}/${hotkey}`));
  }

  save(snapshot: PeerSnapshot): Promise<void> {
    this.records.set(`${snapshot.runId}/${snapshot.hotkey}`, snapshot);
    return Promise.resolve();
  }
}
