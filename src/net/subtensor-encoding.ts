/**
 * Subtensor encodings the client needs, kept free of any connection so they can be unit-tested:
 * the CR-v2 commit hash, `Data::RawN` commitments, Templar's bucket
 * commitment string, the `ChargeTransactionPaymentWrapper` declaration and the selective-metagraph
 * field indexes (chain.md §3–4).
 */
import { TypeRegistry } from '@polkadot/types';
import { u8aToHex } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { BadRequestError } from './errors.ts';
import type { HexString } from './types.ts';
import { registerErrorClasses } from '../core/errors.ts';

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

/** Length of Templar's bucket commitment string, and of its three fields. */
export const BUCKET_COMMITMENT_LENGTH = 128;
const FIELDS = [['accountId', 32], ['readKeyId', 32], ['readSecret', 64]] as const;

/**
 * A commitment is written by any registered hotkey, so it is hostile input: this says why it cannot be
 * used, naming the hotkey when known. `reason` is the bare cause, for directories and logs.
 */
export class InvalidBucketCommitmentError extends BadRequestError {
  override readonly name: string = 'InvalidBucketCommitmentError';
  constructor(
    readonly reason: string,
    readonly hotkey?: string,
  ) {
    super(hotkey === undefined ? `Invalid bucket commitment: ${reason}.` : `Hotkey ${hotkey} has an invalid bucket commitment (${reason}); its bucket cannot be read.`);
  }
}
registerErrorClasses({ InvalidBucketCommitmentError });

/**
 * Why `name` is not a usable S3 bucket name, or `undefined` when it is. S3's naming rules (3–63 of
 * a-z, 0-9, '.', '-'; a letter or digit at both ends; no '..', '.-', '-.'; not an IPv4 address), which
 * R2's 32-hex account id (Templar names the bucket after it) satisfies. Checked before a name goes
 * into a URL path, so a hostile name can never reach another path on the endpoint.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `bucket name has ${name.length} characters, not 3–63`;
  const bad = [...name].find((ch) => !/[a-z0-9.-]/.test(ch));
  if (bad !== undefined) return `bucket name holds ${JSON.stringify(bad)}; only a-z, 0-9, '.' and '-' are allowed`;
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return 'bucket name must start and end with a letter or digit';
  if (/\.\.|\.-|-\./.test(name)) return "bucket name holds '..', '.-' or '-.'";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'bucket name is formatted as an IP address';
  return undefined;
}

/** Why the commitment fields cannot be used, or `undefined`; the same rules for writing and reading. */
function credentialsProblem(c: BucketReadCredentials): string | undefined {
  for (const [name, length] of FIELDS) {
    const value = c[name];
    if (typeof value !== 'string') return `${name} is not a string`;
    if (value.length !== length) return `${name} must be ${length} characters; got ${value.length}`;
    // Printable ASCII without space: the key id and secret go into SigV4 headers and HMAC keys.
    const at = [...value].findIndex((ch) => !/[\x21-\x7e]/.test(ch));
    if (at >= 0) return `${name} must be printable ASCII; character ${at} is not`;
  }
  const bucket = bucketNameProblem(c.accountId);
  return bucket === undefined ? undefined : `accountId ${JSON.stringify(c.accountId)}: ${bucket}`;
}

export function encodeBucketCommitment(c: BucketReadCredentials): Uint8Array {
  const problem = credentialsProblem(c);
  if (problem !== undefined) throw new InvalidBucketCommitmentError(problem);
  return new TextEncoder().encode(c.accountId + c.readKeyId + c.readSecret);
}

/**
 * Reads a commitment as Templar's layout, checking every field (bucket-name rules for the account
 * id, lengths, printable ASCII); throws `InvalidBucketCommitmentError` with the reason otherwise.
 * `hotkey`, when given, is named in the error.
 */
export function decodeBucketCommitment(bytes: Uint8Array, hotkey?: string): BucketReadCredentials {
  if (!(bytes instanceof Uint8Array)) throw new InvalidBucketCommitmentError('the commitment is not a byte string', hotkey);
  if (bytes.length !== BUCKET_COMMITMENT_LENGTH) throw new InvalidBucketCommitmentError(`a bucket commitment is ${BUCKET_COMMITMENT_LENGTH} printable ASCII bytes; got ${bytes.length} bytes`, hotkey);
  // Byte by byte: anything outside printable ASCII (including non-UTF-8 input) is refused before decoding.
  const at = bytes.findIndex((byte) => byte < 0x21 || byte > 0x7e);
  if (at >= 0) throw new InvalidBucketCommitmentError(`byte ${at} is 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')}, not printable ASCII`, hotkey);
  const s = new TextDecoder().decode(bytes);
  const c = { accountId: s.slice(0, 32), readKeyId: s.slice(32, 64), readSecret: s.slice(64, 128) };
  const problem = credentialsProblem(c);
  if (problem !== undefined) throw new InvalidBucketCommitmentError(problem, hotkey);
  return c;
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
