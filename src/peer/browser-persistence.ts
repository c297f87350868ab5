/**
 * IndexedDB persistence of a browser miner between windows (issue #8 "Resilience"): after every
 * finished window the peer worker saves θ (after the outer step), the error-feedback buffer e
 * (gauntlet-spec §5.3, Templar `prepare_gradient_dict` keeps it across windows), the inner AdamW
 * state (moments and scheduler position: §5.1, Templar keeps one optimiser for the whole run) and
 * the window, so a reload resumes the same trajectory instead of restarting from the run's initial θ
 * with e = 0 and a fresh optimiser.
 *
 * One record per (run, hotkey): two tabs of different hotkeys never share a state, and a new run id
 * never resumes an old one. Works in a page and in a Worker (both have `indexedDB`).
 */
import { PersistenceError, SNAPSHOT_VERSION, SnapshotVersionError, type PeerPersistence, type PeerSnapshot } from './snapshots.ts';

/** Where the snapshots live: database, its schema version, object store, and a record's key. Exported for tests that plant records. */
export const PEER_SNAPSHOT_STORE = {
  database: 'gauntlet-peer',
  schemaVersion: 1,
  store: 'snapshots',
  key: (runId: string, hotkey: string): string => `${runId}/${hotkey}`,
} as const;

const DB_NAME = PEER_SNAPSHOT_STORE.database;
const DB_VERSION = PEER_SNAPSHOT_STORE.schemaVersion;
const STORE = PEER_SNAPSHOT_STORE.store;
const snapshotKey = PEER_SNAPSHOT_STORE.key;

function requestResult<T>(request: IDBRequest<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new PersistenceError(`IndexedDB ${what} failed (${request.error?.message ?? 'unknown error'}); the peer keeps running but cannot resume after a reload.`));
  });
}

function transactionDone(tx: IDBTransaction, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(new PersistenceError(`IndexedDB ${what} failed (${tx.error?.message ?? 'unknown error'}).`));
    tx.onabort = () => reject(new PersistenceError(`IndexedDB ${what} was aborted (${tx.error?.message ?? 'quota or a closed database'}).`));
  });
}

/** The layout version of a stored record: records written before versions existed are version 1. */
function versionOf(value: object): number {
  const version = (value as { version?: unknown }).version;
  return typeof version === 'number' ? version : 1;
}

function isSnapshot(value: unknown): value is PeerSnapshot {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<PeerSnapshot>;
  const o = v.optimizer;
  return v.version === SNAPSHOT_VERSION && typeof v.runId === 'string' && typeof v.hotkey === 'string' && Number.isInteger(v.window)
    && v.params instanceof Float32Array && v.errorFeedback instanceof Float32Array && typeof v.savedAtMs === 'number'
    && typeof o === 'object' && Number.isInteger(o.schedulerSteps) && (o.adamSteps === undefined || Number.isInteger(o.adamSteps)) && o.expAvg instanceof Float32Array && o.expAvgSq instanceof Float32Array;
}

/** Opens (creating on first use) an IndexedDB database with one object store of out-of-line keys. */
function openDatabase(name: string, store: string): Promise<IDBDatabase> {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (factory === undefined) return Promise.reject(new PersistenceError('This browser context has no IndexedDB; a reload will start this peer from the network state again.'));
  const request = factory.open(name, DB_VERSION);
  request.onupgradeneeded = () => {
    if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store);
  };
  return requestResult(request, 'open');
}

export class BrowserPeerPersistence implements PeerPersistence {
  private db: Promise<IDBDatabase> | null = null;

  private open(): Promise<IDBDatabase> {
    this.db ??= openDatabase(DB_NAME, STORE);
    return this.db;
  }

  /** The saved snapshot of `hotkey` in `runId`, or undefined when there is none. */
  async load(runId: string, hotkey: string): Promise<PeerSnapshot | undefined> {
    const db = await this.open();
    const value: unknown = await requestResult<unknown>(db.transaction(STORE, 'readonly').objectStore(STORE).get(snapshotKey(runId, hotkey)), 'read');
    if (value === undefined) return undefined;
    if (typeof value === 'object' && value !== null && versionOf(value) !== SNAPSHOT_VERSION) throw new SnapshotVersionError(versionOf(value));
    if (!isSnapshot(value)) throw new PersistenceError('The saved peer state has an unknown layout; use Forget saved state on Contribute to start fresh.');
    return value;
  }

  /** Saves (replaces) the snapshot; resolves once the transaction is durable. */
  async save(snapshot: PeerSnapshot): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(snapshot, snapshotKey(snapshot.runId, snapshot.hotkey));
    await transactionDone(tx, 'write');
  }

  async clear(runId: string, hotkey: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).delete(snapshotKey(runId, hotkey));
    await transactionDone(tx, 'delete');
  }
}

/**
 * The browser validator's scoring state (`Validator`'s `StatePersistence`: the JSON text it saves
 * after every window) in IndexedDB, one record per (run, hotkey), in its own database so the
 * miner's snapshots and the validator's state never share a schema version.
 */
export class BrowserValidatorPersistence {
  private db: Promise<IDBDatabase> | null = null;

  constructor(
    private readonly runId: string,
    private readonly hotkey: string,
  ) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= openDatabase('gauntlet-validator', 'state');
    return this.db;
  }

  async load(): Promise<string | undefined> {
    const db = await this.open();
    const value: unknown = await requestResult<unknown>(db.transaction('state', 'readonly').objectStore('state').get(snapshotKey(this.runId, this.hotkey)), 'read');
    if (value === undefined || typeof value === 'string') return value;
    throw new PersistenceError("The saved validator state has an unknown layout; clear this site's data to start fresh.");
  }

  async save(text: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction('state', 'readwrite');
    tx.objectStore('state').put(text, snapshotKey(this.runId, this.hotkey));
    await transactionDone(tx, 'write');
  }
}
