/**
 * Subtensor encodings the client needs, kept free of any connection so they can be unit-tested:
 * u16 weight normalisation, the CR-v2 commit hash, `Data::RawN` commitments, Templar's bucket
 * commitment string, the `ChargeTransactionPaymentWrapper` declaration and the selective-metagraph
 * field indexes (chain.md §3–4).
 */
import { TypeRegistry } from '@polkadot/types';
import { u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { BadRequestError } from './errors.ts';
import type { HexString } from './types.ts';

export const U16_MAX = 65_535;

/** Python's `round`: half to even, as the bittensor SDK uses. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Float weights → u16 by max-upscaling, zeros dropped: `round(w_i / max(w) · 65535)`; mirrors the
 * SDK's `bittensor.utils.weight_utils.convert_weights_and_uids_for_emit` (chain.md §3.4). The chain
 * max-upscales again before storing, so only ratios matter.
 */
export function normalizeMaxWeight(uids: readonly number[], weights: readonly number[]): { uids: number[]; weights: number[] } {
  if (uids.length !== weights.length) throw new BadRequestError(`Weights need one value per uid: got ${uids.length} uids and ${weights.length} weights.`);
  for (const [i, uid] of uids.entries()) {
    if (!Number.isInteger(uid) || uid < 0 || uid > U16_MAX) throw new BadRequestError(`uid ${uid} at position ${i} is not a u16.`);
  }
  for (const [i, w] of weights.entries()) {
    if (!Number.isFinite(w) || w < 0) throw new BadRequestError(`Weight ${w} at position ${i} is negative or not finite; weights must be ≥ 0.`);
  }
  const max = weights.reduce((m, w) => Math.max(m, w), 0);
  const out = { uids: [] as number[], weights: [] as number[] };
  if (max === 0) return out;
  for (const [i, w] of weights.entries()) {
    const scaled = roundHalfEven((w / max) * U16_MAX);
    if (scaled !== 0) {
      out.uids.push(uids[i] ?? 0);
      out.weights.push(scaled);
    }
  }
  return out;
}

let registry: TypeRegistry | undefined;
function typeRegistry(): TypeRegistry {
  registry ??= new TypeRegistry();
  return registry;
}

export interface CrV2Commit {
  /** SS58 or hex AccountId32 of the hotkey that commits. */
  readonly hotkey: string;
  /** `mecid · 4096 + netuid`; equals netuid for the main mechanism (chain.md §3.2). */
  readonly netuidIndex: number;
  readonly uids: readonly number[];
  readonly values: readonly number[];
  readonly salt: readonly number[];
  readonly versionKey: bigint;
}

/**
 * CR-v2 commit hash: `blake2_256(SCALE(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64))`, as
 * subtensor's `get_commit_hash` in `pallets/subtensor/src/subnets/weights.rs` (chain.md §3.4).
 */
export function crV2CommitHash(commit: CrV2Commit): HexString {
  const encoded = typeRegistry()
    .createType('(AccountId32,u16,Vec<u16>,Vec<u16>,Vec<u16>,u64)', [commit.hotkey, commit.netuidIndex, commit.uids, commit.values, commit.salt, commit.versionKey])
    .toU8a();
  return u8aToHex(blake2AsU8a(encoded, 256));
}

/** `Data::RawN` holds at most 128 bytes (pallet-commitments / pallet-identity `Data`). */
export const MAX_RAW_DATA_BYTES = 128;

/** The polkadot-js argument for a `Data::RawN` field: `{ RawN: hex }`. */
export function rawDataField(bytes: Uint8Array): Record<string, HexString> {
  if (bytes.length > MAX_RAW_DATA_BYTES) throw new BadRequestError(`A Raw commitment field holds at most ${MAX_RAW_DATA_BYTES} bytes; got ${bytes.length}.`);
  return { [`Raw${bytes.length}`]: u8aToHex(bytes) };
}

/** SCALE bytes of `Data::RawN`: variant index `N + 1`, then the N bytes (chain.md §3.5). */
export function encodeRawData(bytes: Uint8Array): Uint8Array {
  rawDataField(bytes);
  const out = new Uint8Array(1 + bytes.length);
  out[0] = bytes.length + 1;
  out.set(bytes, 1);
  return out;
}

/** Inverse of `encodeRawData`; rejects non-Raw variants and truncated input. */
export function decodeRawData(scale: Uint8Array): Uint8Array {
  const variant = scale[0];
  if (variant === undefined || variant < 1 || variant > MAX_RAW_DATA_BYTES + 1) throw new BadRequestError(`Not a Data::RawN encoding (variant byte ${variant ?? 'missing'}).`);
  const length = variant - 1;
  if (scale.length !== 1 + length) throw new BadRequestError(`Data::Raw${length} needs ${1 + length} bytes, got ${scale.length}.`);
  return scale.slice(1);
}

/**
 * Templar's bucket commitment: `account_id(32) ‖ read_key_id(32) ‖ read_secret(64)` as one 128-char
 * string (`tplr.chain.ChainManager.commit`, chain.md §9). Only **read** credentials may go here:
 * commitments are public.
 */
export interface BucketReadCredentials {
  readonly accountId: string;
  readonly readKeyId: string;
  readonly readSecret: string;
}

export function encodeBucketCommitment(c: BucketReadCredentials): Uint8Array {
  const fields: [string, string, number][] = [['accountId', c.accountId, 32], ['readKeyId', c.readKeyId, 32], ['readSecret', c.readSecret, 64]];
  for (const [name, value, length] of fields) {
    if (value.length !== length || !/^[\x21-\x7e]+$/.test(value)) throw new BadRequestError(`Bucket commitment field ${name} must be ${length} printable ASCII characters; got ${value.length}.`);
  }
  return new TextEncoder().encode(c.accountId + c.readKeyId + c.readSecret);
}

export function decodeBucketCommitment(bytes: Uint8Array): BucketReadCredentials {
  const s = new TextDecoder().decode(bytes);
  if (bytes.length !== 128 || !/^[\x21-\x7e]{128}$/.test(s)) throw new BadRequestError(`A bucket commitment is 128 printable ASCII bytes; got ${bytes.length} bytes.`);
  return { accountId: s.slice(0, 32), readKeyId: s.slice(32, 64), readSecret: s.slice(64, 128) };
}

/**
 * Current subtensor (spec 425) renames the payment extension; polkadot-js 16.x must be told its
 * shape or it encodes no tip and signatures fail with BadProof (chain.md §4, the hazard note).
 * Pass to `ApiPromise.create({ signedExtensions })` and to wallets as `userExtensions`.
 */
export const SUBTENSOR_SIGNED_EXTENSIONS = {
  ChargeTransactionPaymentWrapper: { extrinsic: { tip: 'Compact<Balance>' }, payload: {} },
  SubtensorTransactionExtension: { extrinsic: {}, payload: {} },
  SudoTransactionExtension: { extrinsic: {}, payload: {} },
  CheckShieldedTxValidity: { extrinsic: {}, payload: {} },
  DrandPriority: { extrinsic: {}, payload: {} },
} as const;

/** `SelectiveMetagraphIndex` values (`pallets/subtensor/src/rpc_info/metagraph.rs`, chain.md §3.3). */
export const SELECTIVE_METAGRAPH_INDEX = {
  netuid: 0,
  hotkeys: 52,
  coldkeys: 53,
  axons: 55,
  active: 56,
  validatorPermit: 57,
  pruningScore: 58,
  lastUpdate: 59,
  emission: 60,
  dividends: 61,
  incentives: 62,
  blockAtRegistration: 66,
  alphaStake: 67,
  taoStake: 68,
  totalStake: 69,
} as const;

/**
 * Blocks until the subnet's next epoch with the legacy stateless rule
 * `tempo − (block + netuid + 1) mod (tempo + 1)`; the epoch runs in the block where this is 0
 * (subtensor `blocks_until_next_epoch`, bittensor SDK of the same name). Newer runtimes keep epochs
 * in state: prefer `getNextEpochStartBlock` where the runtime API exists (chain.md §4).
 */
export function blocksUntilNextEpoch(netuid: number, tempo: number, block: number): number | undefined {
  if (tempo === 0) return undefined;
  return tempo - ((block + netuid + 1) % (tempo + 1));
}
