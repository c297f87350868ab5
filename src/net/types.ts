/**
 * The network seams the peer depends on (chain.md §8.1): a `Chain` (blocks, metagraph,
 * hyperparameters, commitments, weights), a `Storage` (per-peer object buckets with server-side
 * timestamps) and a `Signer` (a wallet's raw signing). Implementations: the embedded devnet
 * coordinator (`devnet-client.ts`), S3-compatible storage (`s3-storage.ts`), subtensor over
 * @polkadot/api (`subtensor-chain.ts`), a keyring and a browser-extension signer.
 */

import type { WeightCommit } from './weight-commits.ts';

export type Unsubscribe = () => void;
export type HexString = `0x${string}`;

/**
 * A chain head: its number and its `Timestamp.Now` in ms. Both are required: the put window closes
 * by the head's timestamp (gauntlet-spec §3.2), and a head without one would leave a validator or a
 * miner waiting for ever (issue #15: the subtensor client once returned numbers only).
 */
export interface BlockHeader {
  readonly number: number;
  readonly timestampMs: number;
}

/** One row per uid, sorted by uid (Templar `metagraph.sync(lite)`; chain.md §3.2–3.3). */
export interface Metagraph {
  readonly netuid: number;
  readonly block: number;
  readonly uids: readonly number[];
  readonly hotkeys: readonly string[];
  readonly coldkeys: readonly string[];
  /** Total stake per uid (`metagraph.S`), in the chain's smallest unit as a float. */
  readonly stake: readonly number[];
  readonly validatorPermit: readonly boolean[];
  /** On-chain incentive (`metagraph.I`), normalised to [0, 1]. */
  readonly incentive: readonly number[];
  readonly lastUpdate: readonly number[];
  readonly active: readonly boolean[];
}

export interface Hyperparams {
  readonly tempo: number;
  readonly commitRevealEnabled: boolean;
  readonly revealPeriodEpochs: number;
  readonly weightsRateLimit: number;
  readonly weightsVersionKey: bigint;
  readonly minAllowedWeights: number;
  /** Expected ms per block (read from the chain where it says so). */
  readonly blockTimeMs: number;
}

/**
 * A hotkey's commitment on a subnet. Subtensor's `CommitmentInfo` holds up to three `Data` fields:
 * `data` is the first (every peer's bucket commitment, Templar's layout), `moreFields` the others
 * (the lead validator commits its run hash in the second, src/peer/published-run.ts).
 */
export interface Commitment {
  readonly block: number;
  readonly data: Uint8Array;
  readonly moreFields: readonly Uint8Array[];
}

/** Fields a commitment may hold after its first (subtensor: `BoundedVec<Data, 3>`). */
export const MAX_MORE_COMMITMENT_FIELDS = 2;

export interface TxResult {
  /** Block the call was included in (devnet: the block at which it was applied). */
  readonly block: number;
  /** Block hash or devnet receipt id. */
  readonly id?: string;
}

/**
 * What `setWeights` did: set them (`setWeights`), or, on a subnet with commit-reveal on, committed
 * them (`commitWeights`): the weights land only once `commit` is revealed in its reveal blocks.
 */
export type WeightsResult = TxResult & ({ readonly method: 'setWeights' } | { readonly method: 'commitWeights'; readonly commit: WeightCommit });

export interface Chain {
  subscribeBlocks(onBlock: (header: BlockHeader) => void): Promise<Unsubscribe>;
  currentBlock(): Promise<BlockHeader>;
  /** `Timestamp.Now` of block `n` in ms (Templar `time_min` source, gauntlet-spec §3.2). */
  blockTimestamp(n: number): Promise<number>;
  metagraph(netuid: number): Promise<Metagraph>;
  hyperparams(netuid: number): Promise<Hyperparams>;
  /**
   * The hotkeys whose checkpoints, aggregates and peer lists the run's miners follow, as the subnet
   * owner names them (issue #14): on the devnet, its operator's `--validators`; on subtensor, the
   * permit holders registered under the subnet owner's coldkey. Stake alone never makes a validator
   * one of these: anyone can stake, so anyone could otherwise become the lead. `metagraph`: the
   * subnet's metagraph just read, which an implementation that needs one uses instead of reading
   * it again.
   */
  runValidators(netuid: number, metagraph?: Metagraph): Promise<readonly string[]>;
  /** Hotkey (SS58) → its latest commitment on the subnet. */
  commitments(netuid: number): Promise<Map<string, Commitment>>;
  /** Replaces `hotkey`'s commitment with `data` and, where the chain holds more than one field, `moreFields`. */
  setCommitment(hotkey: string, netuid: number, data: Uint8Array, moreFields?: readonly Uint8Array[]): Promise<TxResult>;
  /**
   * Sets weights signed by `hotkey`. Float weights are turned into u16 by max-upscaling; where
   * the subnet has commit-reveal on, implementations commit a CR-v2 hash and reveal later.
   */
  setWeights(hotkey: string, netuid: number, uids: readonly number[], weights: readonly number[], versionKey: bigint): Promise<WeightsResult>;
  /**
   * Reveals a commit `setWeights` made (CR-v2 `revealWeights`), signed by its hotkey. The chain
   * accepts it only in the commit's reveal blocks; a chain without commit-reveal refuses with a
   * `ChainError`.
   */
  revealWeights(commit: WeightCommit): Promise<TxResult>;
  close(): Promise<void>;
}

/** Metadata of a stored object. `lastModifiedMs` is the server's clock, never the writer's. */
export interface ObjectInfo {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly lastModifiedMs: number;
  /** sha256 hex of the content where the store reports it. */
  readonly sha256?: string;
}

/** Put window `[timeMin, timeMax]` in ms (gauntlet-spec §3.2); reads outside it are rejected. */
export interface TimeGate {
  readonly timeMinMs: number;
  readonly timeMaxMs: number;
}

export interface GetOptions {
  /** Reject with TooEarly/TooLate when the server timestamp is outside the window. */
  readonly gate?: TimeGate;
  /** Reject with Oversized before downloading more than this. */
  readonly maxBytes?: number;
}

export interface Storage {
  /** Writes into the bucket owned by this storage's writer identity. */
  put(key: string, data: Uint8Array): Promise<ObjectInfo>;
  get(bucket: string, key: string, options?: GetOptions): Promise<{ info: ObjectInfo; data: Uint8Array }>;
  /** Metadata only; `undefined` when the object does not exist. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  list(bucket: string, prefix?: string): Promise<ObjectInfo[]>;
}

/** A wallet account as a signer sees it. */
export interface SignerAccount {
  readonly address: string;
  readonly name?: string;
  readonly type?: string;
}

/**
 * Raw signing by a wallet. Browser extensions sign `<Bytes>‖data‖</Bytes>` (chain.md §5); the
 * verifier accepts that and the bare form, so callers never need to know which one they got.
 */
export interface Signer {
  accounts(): Promise<SignerAccount[]>;
  signRaw(address: string, data: Uint8Array): Promise<HexString>;
}
