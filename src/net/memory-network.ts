/**
 * An in-memory subnet: a `Chain` and per-writer `Storage` views implementing `src/net/types.ts`
 * exactly, for the adversarial simulation, unit tests and the browser demo mode. Browser-safe (no
 * Node built-ins). Time comes from an injected clock, so a test decides when blocks are produced
 * and what server timestamp an upload gets; the put-window time gate (gauntlet-spec §3.2) then
 * applies to those server timestamps exactly as on the devnet or S3.
 *
 * Semantics that mirror the real services:
 * - buckets are named by the owner's hotkey and only the owner writes to its bucket
 *   (Templar: one R2 bucket per peer with its own write keys); readers need no identity;
 * - `lastModifiedMs` is the store's clock at the put, never the writer's claim;
 * - registration hands out uids in order (Bittensor `burned_register` to the next free uid);
 * - `setWeights` is accepted only from a registered hotkey with a validator permit, at most once per
 *   `hyperparams.weightsRateLimit` blocks, and replaces that validator's weight row
 *   (`subtensor.set_weights`, max-upscaled to u16 as on chain);
 * - permits, incentive, the rate limit and the u16 rows follow `subnet-rules.ts`, the rules the
 *   devnet applies too; permits by default need a stake of at least 1 (the devnet's default grants
 *   every uid one, so that a volunteer can validate without staking);
 * - with `hyperparams.commitRevealEnabled`, weights are committed (CR-v2) and land only when revealed
 *   in the commit's reveal epoch, by subtensor's epoch rule (`weight-commits.ts`); a call sent while
 *   the head is h counts as included in block h + 1, as on a real chain.
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { BadRequestError, ChainError, NotFoundError, NotRegisteredError, OversizedError, UnauthorizedError } from './errors.ts';
import { checkWeightsRateLimit, incentiveShares, normalizeMaxWeight, validatorPermits, type PermitRule } from './subnet-rules.ts';
import { checkTimeGate } from './time-gate.ts';
import {
  MAX_MORE_COMMITMENT_FIELDS,
  type BlockHeader, type Chain, type Commitment, type GetOptions, type Hyperparams, type Metagraph, type ObjectInfo, type Storage, type TxResult, type Unsubscribe, type WeightsResult,
} from './types.ts';
import { crV2RevealBlocks, revealTiming, type WeightCommit } from './weight-commits.ts';

/** Milliseconds since the Unix epoch, as the network sees them. */
export type NetworkClock = () => number;

export interface MemoryNetworkOptions {
  readonly netuid: number;
  readonly clock: NetworkClock;
  readonly hyperparams: Hyperparams;
  /** Largest object `put` accepts (the store's own limit, independent of `GetOptions.maxBytes`). */
  readonly maxObjectBytes?: number;
  /** Who holds a validator permit; default: every uid with a stake of at least 1. */
  readonly permits?: PermitRule;
}

const DEFAULT_PERMITS: PermitRule = { maxAllowedValidators: Number.POSITIVE_INFINITY, minValidatorStake: 1 };

export interface RegistrationRequest {
  readonly hotkey: string;
  readonly coldkey?: string;
  /** The hotkey's stake; a permit follows from it (`MemoryNetworkOptions.permits`). */
  readonly stake?: number;
}

interface Neuron {
  readonly uid: number;
  readonly hotkey: string;
  readonly coldkey: string;
  readonly stake: number;
  lastUpdate: number;
}

interface StoredObject {
  readonly data: Uint8Array;
  readonly info: ObjectInfo;
}

/** The weight row a validator last set (u16 values as on chain). */
export interface WeightRow {
  readonly block: number;
  readonly uids: readonly number[];
  readonly values: readonly number[];
  readonly versionKey: bigint;
}

const DEFAULT_MAX_OBJECT_BYTES = 64 * 1024 * 1024;

export class MemoryNetwork {
  private readonly neurons: Neuron[] = [];
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private readonly blockTimes: number[] = [];
  private readonly listeners = new Set<(header: BlockHeader) => void>();
  private readonly commitmentsByHotkey = new Map<string, Commitment>();
  private readonly weightRows = new Map<string, WeightRow>();
  /** Unrevealed CR-v2 commits per hotkey, oldest first (subtensor `WeightCommits`). */
  private readonly weightCommits = new Map<string, WeightCommit[]>();
  private runValidatorHotkeys: string[] = [];
  readonly netuid: number;
  readonly hyperparams: Hyperparams;
  readonly maxObjectBytes: number;
  private readonly clock: NetworkClock;
  private readonly permitRule: PermitRule;

  constructor(options: MemoryNetworkOptions) {
    this.netuid = options.netuid;
    this.hyperparams = options.hyperparams;
    this.clock = options.clock;
    this.maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
    this.permitRule = options.permits ?? DEFAULT_PERMITS;
    this.blockTimes.push(this.clock());
  }

  /** Current head block number (block 0 exists from the start, stamped at construction). */
  get head(): number {
    return this.blockTimes.length - 1;
  }

  /** The store's and the chain's notion of now. */
  now(): number {
    return this.clock();
  }

  /** Registers a hotkey at the next uid; registering a hotkey twice returns its existing uid. */
  register(registration: RegistrationRequest): number {
    const existing = this.neurons.find((n) => n.hotkey === registration.hotkey);
    if (existing !== undefined) return existing.uid;
    const uid = this.neurons.length;
    this.neurons.push({
      uid,
      hotkey: registration.hotkey,
      coldkey: registration.coldkey ?? registration.hotkey,
      stake: registration.stake ?? 0,
      lastUpdate: this.head,
    });
    return uid;
  }

  uidOf(hotkey: string): number | undefined {
    return this.neurons.find((n) => n.hotkey === hotkey)?.uid;
  }

  hotkeyOf(uid: number): string | undefined {
    return this.neurons[uid]?.hotkey;
  }

  /** Produces one block stamped with the clock's now (never earlier than its parent) and notifies subscribers. */
  produceBlock(): BlockHeader {
    const parent = this.blockTimes[this.blockTimes.length - 1] ?? 0;
    this.blockTimes.push(Math.max(parent, this.clock()));
    const header = { number: this.head, timestampMs: this.blockTimes[this.head]! };
    for (const listener of this.listeners) listener(header);
    return header;
  }

  /** Produces blocks until the head is `block`. */
  produceBlocksUntil(block: number): void {
    while (this.head < block) this.produceBlock();
  }

  /** The chain as a client sees it. */
  chain(): Chain {
    return new MemoryChain(this);
  }

  /**
   * A storage view. With `writerHotkey` it writes into that hotkey's bucket (the hotkey must be
   * registered); without, it is read-only, as a reader that holds no write credentials.
   */
  storage(writerHotkey?: string): Storage {
    return new MemoryStorage(this, writerHotkey);
  }

  /** The weight row a validator hotkey last set; `undefined` before its first `setWeights`. */
  weightsOf(hotkey: string): WeightRow | undefined {
    return this.weightRows.get(hotkey);
  }

  // --- internals used by the client views -------------------------------------------------

  blockTimestamp(n: number): number {
    const t = this.blockTimes[n];
    if (t === undefined || !Number.isInteger(n)) throw new ChainError(`Block ${n} does not exist yet (head is ${this.head}); wait for it to be produced.`);
    return t;
  }

  subscribe(listener: (header: BlockHeader) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  metagraph(netuid: number): Metagraph {
    this.requireNetuid(netuid);
    const incentive = incentiveShares(this.neurons, [...this.weightRows].map(([hotkey, row]) => ({ setterUid: this.uidOf(hotkey) ?? -1, uids: row.uids, values: row.values })));
    const permits = validatorPermits(this.neurons, this.permitRule);
    return {
      netuid,
      block: this.head,
      uids: this.neurons.map((n) => n.uid),
      hotkeys: this.neurons.map((n) => n.hotkey),
      coldkeys: this.neurons.map((n) => n.coldkey),
      stake: this.neurons.map((n) => n.stake),
      validatorPermit: this.neurons.map((n) => permits.has(n.uid)),
      incentive: this.neurons.map((n) => incentive.get(n.uid) ?? 0),
      lastUpdate: this.neurons.map((n) => n.lastUpdate),
      active: this.neurons.map(() => true),
    };
  }

  /** Names the run's validators (the subnet owner's choice, `Chain.runValidators`); none until set. */
  setRunValidators(hotkeys: readonly string[]): void {
    this.runValidatorHotkeys = [...hotkeys];
  }

  runValidators(netuid: number): readonly string[] {
    if (netuid !== this.netuid) throw new ChainError(`This in-memory network serves netuid ${this.netuid}, not ${netuid}.`);
    return [...this.runValidatorHotkeys];
  }

  commitments(netuid: number): Map<string, Commitment> {
    this.requireNetuid(netuid);
    return new Map(this.commitmentsByHotkey);
  }

  setCommitment(hotkey: string, netuid: number, data: Uint8Array, moreFields: readonly Uint8Array[] = []): TxResult {
    this.requireNeuron(hotkey, netuid);
    if (moreFields.length > MAX_MORE_COMMITMENT_FIELDS) throw new BadRequestError(`A commitment holds at most ${1 + MAX_MORE_COMMITMENT_FIELDS} fields.`);
    this.commitmentsByHotkey.set(hotkey, { block: this.head, data: data.slice(), moreFields: moreFields.map((f) => f.slice()) });
    return { block: this.head };
  }

  /** Plain weights, or with commit-reveal on a CR-v2 commit of them (the reveal comes later, `revealWeights`). */
  setWeights(hotkey: string, netuid: number, uids: readonly number[], weights: readonly number[], versionKey: bigint): WeightsResult {
    const neuron = this.checkWeights(hotkey, netuid, uids, weights);
    const u16 = normalizeMaxWeight(uids, weights);
    const values = u16.weights;
    if (this.hyperparams.commitRevealEnabled) {
      const block = this.head + 1;
      const salt = Array.from(crypto.getRandomValues(new Uint16Array(8)));
      const { tempo, revealPeriodEpochs } = this.hyperparams;
      const commit: WeightCommit = { hotkey, netuid, uids: u16.uids, values, salt, versionKey, commitBlock: block, ...crV2RevealBlocks(netuid, tempo, revealPeriodEpochs, block) };
      this.weightCommits.set(hotkey, [...(this.weightCommits.get(hotkey) ?? []), commit]);
      return { block, method: 'commitWeights', commit, id: `memory-commit-${block}-${neuron.uid}` };
    }
    this.weightRows.set(hotkey, { block: this.head, uids: u16.uids, values, versionKey });
    neuron.lastUpdate = this.head;
    return { block: this.head, method: 'setWeights', id: `memory-${this.head}-${neuron.uid}` };
  }

  /**
   * Reveals a commit (subtensor `do_reveal_weights`): accepted only in its reveal blocks; expired
   * commits in front of it are dropped first, and revealing drops every older commit of the hotkey.
   */
  revealWeights(commit: WeightCommit): TxResult {
    const neuron = this.requireNeuron(commit.hotkey, commit.netuid);
    if (!this.hyperparams.commitRevealEnabled) throw new ChainError(`subtensorModule.CommitRevealDisabled: netuid ${commit.netuid} has commit-reveal off.`);
    const block = this.head + 1;
    const queue = (this.weightCommits.get(commit.hotkey) ?? []).filter((c) => revealTiming(c, block) !== 'expired');
    this.weightCommits.set(commit.hotkey, queue);
    const position = queue.findIndex((c) => sameCommit(c, commit));
    if (position < 0) {
      throw new ChainError(revealTiming(commit, block) === 'expired' ? 'subtensorModule.ExpiredWeightCommit: the reveal period of this commit has passed.' : 'subtensorModule.NoWeightsCommitFound: no matching weight commit.');
    }
    if (revealTiming(commit, block) === 'early') throw new ChainError(`subtensorModule.RevealTooEarly: the commit of block ${commit.commitBlock} is revealed from block ${commit.firstRevealBlock}, not ${block}.`);
    queue.splice(0, position + 1);
    this.weightRows.set(commit.hotkey, { block, uids: [...commit.uids], values: [...commit.values], versionKey: commit.versionKey });
    neuron.lastUpdate = block;
    return { block, id: `memory-reveal-${block}-${neuron.uid}` };
  }

  /** The hotkey's unrevealed commits, oldest first (subtensor `WeightCommits`). */
  pendingCommitsOf(hotkey: string): readonly WeightCommit[] {
    return [...(this.weightCommits.get(hotkey) ?? [])];
  }

  private checkWeights(hotkey: string, netuid: number, uids: readonly number[], weights: readonly number[]): Neuron {
    const neuron = this.requireNeuron(hotkey, netuid);
    if (!validatorPermits(this.neurons, this.permitRule).has(neuron.uid)) throw new ChainError(`Hotkey ${hotkey} (uid ${neuron.uid}) has no validator permit; only validators set weights.`);
    if (uids.length !== weights.length) throw new ChainError(`setWeights got ${uids.length} uids but ${weights.length} weights; pass one weight per uid.`);
    for (const uid of uids) {
      if (!Number.isInteger(uid) || uid < 0 || uid >= this.neurons.length) throw new ChainError(`setWeights names uid ${uid}, which is not registered on netuid ${netuid}.`);
    }
    if (weights.some((w) => !Number.isFinite(w) || w < 0)) throw new ChainError('setWeights got a negative or non-finite weight; weights must be finite and ≥ 0.');
    checkWeightsRateLimit(neuron.uid, this.weightRows.get(hotkey)?.block, this.head, this.hyperparams.weightsRateLimit);
    return neuron;
  }

  putObject(writer: string | undefined, key: string, data: Uint8Array): ObjectInfo {
    if (writer === undefined) throw new UnauthorizedError(`This storage view has no writer identity, so it cannot write ${key}; open it with the owner's hotkey.`);
    if (this.uidOf(writer) === undefined) throw NotRegisteredError.of(writer, this.netuid);
    if (data.length > this.maxObjectBytes) throw OversizedError.of(data.length, this.maxObjectBytes, `Object ${key}`);
    let bucket = this.buckets.get(writer);
    if (bucket === undefined) {
      bucket = new Map();
      this.buckets.set(writer, bucket);
    }
    const copy = data.slice();
    const info: ObjectInfo = { bucket: writer, key, size: copy.length, lastModifiedMs: this.clock(), sha256: bytesToHex(sha256(copy)) };
    bucket.set(key, { data: copy, info });
    return info;
  }

  getObject(bucket: string, key: string, options: GetOptions): { info: ObjectInfo; data: Uint8Array } {
    const stored = this.lookup(bucket, key);
    const limit = options.maxBytes ?? this.maxObjectBytes;
    if (stored.info.size > limit) throw OversizedError.of(stored.info.size, limit, `Object ${bucket}/${key}`);
    checkTimeGate(stored.info, options.gate);
    return { info: stored.info, data: stored.data.slice() };
  }

  headObject(bucket: string, key: string): ObjectInfo | undefined {
    return this.buckets.get(bucket)?.get(key)?.info;
  }

  listObjects(bucket: string, prefix: string): ObjectInfo[] {
    const entries = [...(this.buckets.get(bucket)?.values() ?? [])].map((o) => o.info).filter((info) => info.key.startsWith(prefix));
    return entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private lookup(bucket: string, key: string): StoredObject {
    const stored = this.buckets.get(bucket)?.get(key);
    if (stored === undefined) throw NotFoundError.of(`Object ${bucket}/${key}`);
    return stored;
  }

  private requireNetuid(netuid: number): void {
    if (netuid !== this.netuid) throw new ChainError(`This in-memory network serves netuid ${this.netuid}, not ${netuid}.`);
  }

  private requireNeuron(hotkey: string, netuid: number): Neuron {
    this.requireNetuid(netuid);
    const neuron = this.neurons.find((n) => n.hotkey === hotkey);
    if (neuron === undefined) throw NotRegisteredError.of(hotkey, netuid);
    return neuron;
  }
}

class MemoryChain implements Chain {
  private readonly unsubscribers = new Set<Unsubscribe>();

  constructor(private readonly network: MemoryNetwork) {}

  subscribeBlocks(onBlock: (header: BlockHeader) => void): Promise<Unsubscribe> {
    const unsubscribe = this.network.subscribe(onBlock);
    this.unsubscribers.add(unsubscribe);
    return Promise.resolve(() => {
      unsubscribe();
      this.unsubscribers.delete(unsubscribe);
    });
  }

  currentBlock(): Promise<BlockHeader> {
    const number = this.network.head;
    return Promise.resolve({ number, timestampMs: this.network.blockTimestamp(number) });
  }

  blockTimestamp(n: number): Promise<number> {
    return settle(() => this.network.blockTimestamp(n));
  }

  metagraph(netuid: number): Promise<Metagraph> {
    return settle(() => this.network.metagraph(netuid));
  }

  hyperparams(netuid: number): Promise<Hyperparams> {
    return settle(() => {
      if (netuid !== this.network.netuid) throw new ChainError(`This in-memory network serves netuid ${this.network.netuid}, not ${netuid}.`);
      return this.network.hyperparams;
    });
  }

  runValidators(netuid: number): Promise<readonly string[]> {
    return settle(() => this.network.runValidators(netuid));
  }

  commitments(netuid: number): Promise<Map<string, Commitment>> {
    return settle(() => this.network.commitments(netuid));
  }

  setCommitment(hotkey: string, netuid: number, data: Uint8Array, moreFields: readonly Uint8Array[] = []): Promise<TxResult> {
    return settle(() => this.network.setCommitment(hotkey, netuid, data, moreFields));
  }

  setWeights(hotkey: string, netuid: number, uids: readonly number[], weights: readonly number[], versionKey: bigint): Promise<WeightsResult> {
    return settle(() => this.network.setWeights(hotkey, netuid, uids, weights, versionKey));
  }

  revealWeights(commit: WeightCommit): Promise<TxResult> {
    return settle(() => this.network.revealWeights(commit));
  }

  close(): Promise<void> {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers.clear();
    return Promise.resolve();
  }
}

class MemoryStorage implements Storage {
  constructor(
    private readonly network: MemoryNetwork,
    private readonly writerHotkey: string | undefined,
  ) {}

  put(key: string, data: Uint8Array): Promise<ObjectInfo> {
    return settle(() => this.network.putObject(this.writerHotkey, key, data));
  }

  get(bucket: string, key: string, options: GetOptions = {}): Promise<{ info: ObjectInfo; data: Uint8Array }> {
    return settle(() => this.network.getObject(bucket, key, options));
  }

  head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    return Promise.resolve(this.network.headObject(bucket, key));
  }

  list(bucket: string, prefix = ''): Promise<ObjectInfo[]> {
    return Promise.resolve(this.network.listObjects(bucket, prefix));
  }
}

/** The same commit: what subtensor's hash binds (hotkey, netuid, uids, values, salt, version key). */
function sameCommit(a: WeightCommit, b: WeightCommit): boolean {
  const same = (x: readonly number[], y: readonly number[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.hotkey === b.hotkey && a.netuid === b.netuid && a.versionKey === b.versionKey && same(a.uids, b.uids) && same(a.values, b.values) && same(a.salt, b.salt);
}

/** Runs a synchronous step and turns a throw into a rejected promise, as a remote call would fail. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new ChainError(String(error)));
  }
}
