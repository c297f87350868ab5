/**
 * What miners and validators share about objects in storage: the keys (Templar's
 * `gradient-{window}-{uid}-v{version}`, `debug-…`, `peers_{E}`), fetching and checking one
 * submission (time gate, size cap, signature, strict decode: gauntlet-spec §3.2, §5.5, §5.8,
 * Templar `comms.gather`), the gather over a peer list, the debug slices of the sync check (§5.9)
 * and the gather-peer list posted by the validator (§5.7).
 *
 * A submission is two objects in the peer's own bucket: the wire bytes and the hex signature of
 * `signingMessage(run, netuid, window, uid, sha256(bytes))`. The signature binds the bytes to one
 * window and one uid, so copying another window's objects (replay) fails verification.
 */
import { referenceCaps } from '../core/aggregate.ts';
import type { RunConfig } from '../core/config.ts';
import type { FlatTensorSpec } from '../core/compress/error-feedback.ts';
import { decodeSubmission, WireFormatError, type DecodedSubmission } from '../core/wire/index.ts';
import type { GatherPeerList } from '../core/scoring/index.ts';
import { NetError, NotFoundError, OversizedError } from '../net/errors.ts';
import { verifySubmission } from '../net/submission.ts';
import type { HexString, ObjectInfo, Storage, TimeGate } from '../net/types.ts';
import type { SubmissionRejection } from './events.ts';
import { checkedAggregate, checkedCheckpoint, checkedPeerList, MAX_PEER_LIST_BYTES, openPublication, parameterCountOf, PublicationError, type PublicationContext } from './publications.ts';
import { GauntletError } from '../core/errors.ts';
import { runConfigHash } from '../core/run-config.ts';

export const gradientKey = (window: number, uid: number): string => `gradient-${window}-${uid}`;
export const signatureKey = (window: number, uid: number): string => `gradient-${window}-${uid}.sig`;
export const debugKey = (window: number, uid: number): string => `debug-${window}-${uid}`;
/** Templar `peers_{first_effective_window}`. */
export const peerListKey = (firstEffectiveWindow: number): string => `peers-${firstEffectiveWindow}`;
export const aggregateKey = (window: number): string => `aggregate-${window}`;
export const checkpointKey = (globalStep: number): string => `checkpoint-${globalStep}`;
/** The validator's `WindowScoresDocument` of `window` (ours; Templar has no such object). */
export const scoresKey = (window: number): string => `scores-${window}`;
/** The hash of θ a validator scored `window` with (a signed `theta` publication of `parameterHash`; ours). */
export const thetaKey = (window: number): string => `theta-${window}`;

/** Positions of each tensor a peer publishes for the sync check (Templar `debug_dict`: `param.flatten()[10:12]`). */
export const DEBUG_SLICE_START = 10;
export const DEBUG_SLICE_END = 12;

/** A checked submission. */
export interface AcceptedSubmission {
  readonly uid: number;
  readonly bytes: Uint8Array;
  readonly decoded: DecodedSubmission;
  readonly info: ObjectInfo;
}

export type FetchResult =
  | { readonly ok: true; readonly submission: AcceptedSubmission }
  | { readonly ok: false; readonly reason: SubmissionRejection; readonly detail: string };

export interface FetchContext {
  readonly config: RunConfig;
  readonly layout: readonly FlatTensorSpec[];
  readonly storage: Storage;
  readonly window: number;
  readonly gate: TimeGate;
}

const NET_REJECTIONS: Partial<Record<string, SubmissionRejection>> = {
  'not-found': 'missing',
  'too-early': 'too-early',
  'too-late': 'too-late',
  oversized: 'oversized',
  'bad-signature': 'bad-signature',
};

/**
 * Downloads and checks the submission of `uid` (bucket `hotkey`) for `context.window`. Never
 * throws for anything a peer controls: each problem is a typed rejection, and any other `NetError`
 * of a read from the peer's bucket (no commitment, access refused, its server down) is that peer's
 * `unreadable` (issue #14: one such bucket used to skip the whole window). Only errors that are not
 * `NetError`s (our own bugs) escape.
 */
export async function fetchSubmission(context: FetchContext, uid: number, hotkey: string): Promise<FetchResult> {
  const { config, window } = context;
  try {
    const { info, data } = await context.storage.get(hotkey, gradientKey(window, uid), { gate: context.gate, maxBytes: config.window.maxSubmissionBytes });
    const signature = await context.storage.get(hotkey, signatureKey(window, uid), { maxBytes: 1024 });
    const signatureHex = new TextDecoder().decode(signature.data).trim();
    if (!/^0x[0-9a-fA-F]+$/.test(signatureHex)) return { ok: false, reason: 'bad-signature', detail: 'the signature object is not a hex string' };
    verifySubmission({ runId: config.runId, runHash: runConfigHash(config), netuid: config.netuid, window, uid }, data, signatureHex as HexString, hotkey);
    const decoded = decodeSubmission(data, {
      layout: context.layout,
      compression: config.compression,
      bounds: config.bounds,
      maxBytes: config.window.maxSubmissionBytes,
      runId: config.runId,
      netuid: config.netuid,
      window,
      uid,
    });
    return { ok: true, submission: { uid, bytes: data, decoded, info } };
  } catch (error) {
    if (error instanceof WireFormatError) {
      return { ok: false, reason: error.code === 'oversized' ? 'oversized' : 'malformed', detail: error.message };
    }
    if (error instanceof NetError) return { ok: false, reason: NET_REJECTIONS[error.code] ?? 'unreadable', detail: error.message };
    throw error;
  }
}

export interface GatherResult {
  /** Accepted submissions, ascending uid. */
  readonly accepted: AcceptedSubmission[];
  readonly rejected: Record<string, SubmissionRejection>;
  readonly details: Record<string, string>;
}

/** Gathers the submissions of `uids` (Templar `comms.gather`): every uid is fetched and checked on its own. */
export async function gatherSubmissions(context: FetchContext, uids: readonly number[], hotkeyOf: (uid: number) => string | undefined): Promise<GatherResult> {
  const accepted: AcceptedSubmission[] = [];
  const rejected: Record<string, SubmissionRejection> = {};
  const details: Record<string, string> = {};
  for (const uid of [...new Set(uids)].sort((a, b) => a - b)) {
    const hotkey = hotkeyOf(uid);
    if (hotkey === undefined) {
      rejected[String(uid)] = 'missing';
      details[String(uid)] = `uid ${uid} is not registered`;
      continue;
    }
    const result = await fetchSubmission(context, uid, hotkey);
    if (result.ok) accepted.push(result.submission);
    else {
      rejected[String(uid)] = result.reason;
      details[String(uid)] = result.detail;
    }
  }
  return { accepted, rejected, details };
}

/** The published debug slices: per tensor, θ[10:12] after the outer step of `window` (§5.9). */
export interface DebugSlices {
  readonly window: number;
  readonly slices: Record<string, number[]>;
}

export function debugSlices(theta: Float32Array, layout: readonly FlatTensorSpec[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const spec of layout) out[spec.name] = Array.from(theta.subarray(spec.offset + DEBUG_SLICE_START, spec.offset + DEBUG_SLICE_END));
  return out;
}

/** Reads a peer's `debug-{window}` slices; `null` when missing or not well-formed (the scorer treats both as missing). */
export async function readDebugSlices(storage: Storage, hotkey: string, uid: number, window: number, layout: readonly FlatTensorSpec[]): Promise<Record<string, number[]> | null> {
  let raw: unknown;
  try {
    const { data } = await storage.get(hotkey, debugKey(window, uid), { maxBytes: 64 * 1024 });
    raw = JSON.parse(new TextDecoder().decode(data));
  } catch (error) {
    if (error instanceof NetError || error instanceof SyntaxError) return null;
    throw error;
  }
  if (typeof raw !== 'object' || raw === null || !('slices' in raw) || typeof raw.slices !== 'object' || raw.slices === null) return null;
  const slices = raw.slices as Record<string, unknown>;
  const out: Record<string, number[]> = {};
  for (const spec of layout) {
    const values = slices[spec.name];
    if (!Array.isArray(values) || values.length !== DEBUG_SLICE_END - DEBUG_SLICE_START || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) return null;
    out[spec.name] = values as number[];
  }
  return out;
}

/** The posted gather-peer list with the window it takes effect from. */
export interface PostedPeerList extends GatherPeerList {
  readonly firstEffectiveWindow: number;
  /** The list's per-tensor norm reference (`PeerListPayload.normReference`), when it carries one. */
  readonly normReference?: readonly number[];
}

/**
 * The objects `{prefix}{n}` in `bucket` whose n is a decimal integer (window, outer step), ascending
 * by n; other keys under the prefix are not ours and are ignored.
 */
export async function numberedObjects(storage: Storage, bucket: string, prefix: string): Promise<{ readonly n: number; readonly info: ObjectInfo }[]> {
  return (await storage.list(bucket, prefix))
    .map((info) => ({ text: info.key.slice(prefix.length), info }))
    .filter(({ text }) => /^\d+$/.test(text))
    .map(({ text, info }) => ({ n: Number(text), info }))
    .sort((a, b) => a.n - b.n);
}

/**
 * The peer list in force at `window` (Templar `tplr.neurons.update_peers`): the newest list posted
 * by `validatorHotkey` whose first effective window is ≤ `window`, opened as a signed publication of
 * this run (issue #14); `null` when none is, or when the newest one is not a valid publication of
 * that validator (a forged or garbled list is never followed: the miner gathers every miner instead).
 */
export async function peerListAt(storage: Storage, validatorHotkey: string, window: number, context: PublicationContext): Promise<PostedPeerList | null> {
  const effective = (await numberedObjects(storage, validatorHotkey, 'peers-')).filter((e) => e.n <= window).at(-1);
  if (effective === undefined) return null;
  try {
    const { data } = await storage.get(validatorHotkey, effective.info.key, { maxBytes: MAX_PEER_LIST_BYTES + 1024 });
    const { payload } = openPublication(data, context, 'peer-list', validatorHotkey, { maxPayloadBytes: MAX_PEER_LIST_BYTES });
    const list = checkedPeerList(payload, context);
    return { peers: [...list.peers], reservePeers: [...list.reservePeers], firstEffectiveWindow: effective.n, normReference: list.normReference };
  } catch (error) {
    if (error instanceof NetError || error instanceof PublicationError) return null;
    throw error;
  }
}

/** What the peer list in force at a window decides for its gather and its outer step. */
export interface GatherPlan {
  /** The gather peers: the list's, or every registered miner before any list exists. */
  readonly gatherUids: number[];
  /** The list's reserve peers, in the list's order: the first k stand in for k gather peers that fail (`gatherWithReserve`). */
  readonly reserveUids: number[];
  /** Whether a peer list decided the plan: before one exists nobody was asked for anything, so nobody skipped. */
  readonly fromList: boolean;
  /** Per tensor, the carried cap on the clip reference (`referenceCaps`), undefined without a list reference. */
  readonly referenceCaps: readonly number[] | undefined;
}

export async function gatherPlanAt(storage: Storage, validatorHotkey: string, window: number, allMiners: readonly number[], context: PublicationContext): Promise<GatherPlan> {
  const list = await peerListAt(storage, validatorHotkey, window, context);
  if (list === null) return { gatherUids: [...allMiners].sort((a, b) => a - b), reserveUids: [], fromList: false, referenceCaps: undefined };
  const gatherUids = [...list.peers].sort((a, b) => a - b);
  return { gatherUids, reserveUids: list.reservePeers.filter((uid) => !gatherUids.includes(uid)), fromList: true, referenceCaps: referenceCaps(list.normReference, context.config.bounds) };
}

/** A gather with reserves: what was gathered, and the plan's view of it. */
export interface ReserveGatherResult extends GatherResult {
  /** The reserves that were asked, in the list's order. */
  readonly reservesAsked: readonly number[];
  /** Gather peers (not reserves) whose submission was not accepted. */
  readonly skippedGatherUids: readonly number[];
  /** accepted / gather peers, at most 1 (0 without gather peers). */
  readonly successRate: number;
}

/**
 * Templar's `gather_with_reserve` (v2.1.3 `tplr.comms`): the gather peers first; when k of them
 * fail, the first k reserve peers are gathered in their place, one for one, and the success rate
 * stays accepted ÷ gather peers. Miners and validators gather the same way, so their outer steps
 * take the same set.
 */
export async function gatherWithReserve(context: FetchContext, plan: GatherPlan, hotkeyOf: (uid: number) => string | undefined): Promise<ReserveGatherResult> {
  const primary = await gatherSubmissions(context, plan.gatherUids, hotkeyOf);
  const failed = plan.gatherUids.length - primary.accepted.length;
  const reservesAsked = failed > 0 ? plan.reserveUids.slice(0, failed) : [];
  const fallback = await gatherSubmissions(context, reservesAsked, hotkeyOf);
  const accepted = [...primary.accepted, ...fallback.accepted].sort((a, b) => a.uid - b.uid);
  const acceptedUids = new Set(accepted.map((s) => s.uid));
  return {
    accepted,
    rejected: { ...primary.rejected, ...fallback.rejected },
    details: { ...primary.details, ...fallback.details },
    reservesAsked,
    skippedGatherUids: plan.gatherUids.filter((uid) => !acceptedUids.has(uid)),
    successRate: plan.gatherUids.length === 0 ? 0 : Math.min(1, accepted.length / plan.gatherUids.length),
  };
}

export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/**
 * A published aggregate or checkpoint that may not be applied: not a signed publication of this
 * run by that validator, another model shape, or outside the run's bounds (issue #14). It is never
 * retried as a network failure: a replay stops there and the window is gathered live instead.
 */
export class AggregateFormatError extends GauntletError {
  readonly code: string = 'aggregate-format';
  override readonly name = 'AggregateFormatError';
}

/** The windows of `validatorHotkey`'s published aggregated updates (`aggregate-{w}`), ascending, with their server times. */
export async function publishedAggregates(storage: Storage, validatorHotkey: string): Promise<{ readonly window: number; readonly lastModifiedMs: number }[]> {
  return (await numberedObjects(storage, validatorHotkey, 'aggregate-')).map(({ n, info }) => ({ window: n, lastModifiedMs: info.lastModifiedMs }));
}

/**
 * The aggregated update the validator applied in `window` (θ ← θ − update, already scaled by the
 * outer lr), as a dense float32 vector: what a catching-up peer replays
 * (Templar `tplr.neurons.catchup_with_aggregation_server`, gauntlet-spec §3.5), once its signature,
 * run, window and bounds are checked (`openPublication`, `checkedAggregate`).
 */
export async function readAggregate(storage: Storage, validatorHotkey: string, window: number, context: PublicationContext): Promise<Float32Array> {
  const { payload } = await readPublication(storage, validatorHotkey, aggregateKey(window), 'aggregate', { window }, context);
  return withFormatError(() => checkedAggregate(payload, context.config));
}

/** The validator's θ at outer step `globalStep` (`checkpoint-{step}`), which a joining peer starts from (gauntlet-spec §3.5), checked like an aggregate. */
export async function readCheckpoint(storage: Storage, validatorHotkey: string, globalStep: number, context: PublicationContext): Promise<Float32Array> {
  return (await readCheckpointOfWindow(storage, validatorHotkey, globalStep, context)).params;
}

/** `readCheckpoint`, with the window after whose outer step θ was taken (its header's). */
async function readCheckpointOfWindow(storage: Storage, validatorHotkey: string, globalStep: number, context: PublicationContext): Promise<{ readonly params: Float32Array; readonly window: number }> {
  const { payload, window } = await readPublication(storage, validatorHotkey, checkpointKey(globalStep), 'checkpoint', { globalStep }, context);
  return { params: withFormatError(() => checkedCheckpoint(payload, context.config)), window };
}

/** A validator's checkpoint as a joining peer uses it: θ at outer step `globalStep`, stored at `storedAtMs`. */
export interface NetworkCheckpoint {
  readonly params: Float32Array;
  readonly globalStep: number;
  /** The window after whose outer step θ was taken. */
  readonly window: number;
  readonly storedAtMs: number;
}

/**
 * The newest checkpoint of `validatorHotkey` that opens as its signed publication of this run within
 * the run's bounds (issue #14: a forged or poisoned checkpoint is skipped for the one before it), or
 * undefined when there is none (a validator that has not stepped yet, or has published nothing:
 * its bucket may not exist yet). The aggregates stored after it are the windows it does not include.
 * `throughWindow`: only a checkpoint of θ after that window or an earlier one (a validator that is
 * to score the next window must not start from a θ the lead has stepped past it).
 */
export async function latestCheckpoint(storage: Storage, validatorHotkey: string, context: PublicationContext, throughWindow = Number.POSITIVE_INFINITY): Promise<NetworkCheckpoint | undefined> {
  let listing: { readonly n: number; readonly info: ObjectInfo }[];
  try {
    listing = await numberedObjects(storage, validatorHotkey, 'checkpoint-');
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  for (const latest of listing.reverse()) {
    const checkpoint = await readCheckpointOfWindow(storage, validatorHotkey, latest.n, context).catch((error: unknown) => {
      if (error instanceof AggregateFormatError) return undefined;
      throw error;
    });
    if (checkpoint !== undefined && checkpoint.window <= throughWindow) return { ...checkpoint, globalStep: latest.n, storedAtMs: latest.info.lastModifiedMs };
  }
  return undefined;
}

/**
 * The windows of `validatorHotkey`'s aggregates a peer joining from `checkpoint` (or from the run's
 * init when undefined) replays: every aggregate stored after the checkpoint, in window order; none
 * when the validator has published nothing (its bucket may not exist yet); none after `throughWindow`.
 */
export async function aggregatesToReplay(storage: Storage, validatorHotkey: string, checkpoint: NetworkCheckpoint | undefined, throughWindow = Number.POSITIVE_INFINITY): Promise<number[]> {
  let aggregates: { readonly window: number; readonly lastModifiedMs: number }[];
  try {
    aggregates = await publishedAggregates(storage, validatorHotkey);
  } catch (error) {
    if (error instanceof NotFoundError) return [];
    throw error;
  }
  return aggregates.filter((a) => (checkpoint === undefined || a.lastModifiedMs > checkpoint.storedAtMs) && a.window <= throughWindow).map((a) => a.window);
}

/** A float32 vector publication of the model's size; anything else is an `AggregateFormatError` (never a network failure to retry). */
async function readPublication(
  storage: Storage,
  bucket: string,
  key: string,
  kind: 'aggregate' | 'checkpoint',
  position: { readonly window?: number; readonly globalStep?: number },
  context: PublicationContext,
): Promise<{ readonly payload: Uint8Array; readonly window: number }> {
  const payloadLength = parameterCountOf(context.layout) * 4;
  const { data } = await storage.get(bucket, key, { maxBytes: payloadLength + 1024 }).catch((error: unknown) => {
    if (error instanceof OversizedError) throw new AggregateFormatError(`${key} is larger than ${payloadLength} bytes and a header: it belongs to another model shape.`);
    throw error;
  });
  return withFormatError(() => openPublication(data, context, kind, bucket, { ...position, payloadLength, maxPayloadBytes: payloadLength }));
}

function withFormatError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof PublicationError) throw new AggregateFormatError(error.message);
    throw error;
  }
}

/** `readAggregate`, or its `AggregateFormatError` as a value when the object may not be applied (the caller then gathers the window live, or stops replaying). */
export async function readAggregateIfWellFormed(storage: Storage, validatorHotkey: string, window: number, context: PublicationContext): Promise<Float32Array | AggregateFormatError> {
  return readAggregate(storage, validatorHotkey, window, context).catch((error: unknown) => {
    if (error instanceof AggregateFormatError) return error;
    throw error;
  });
}

/** What a start-up replay applied, and the first published aggregate it could not (see `replayAggregates`). */
export interface AggregateReplay {
  readonly replayed: readonly number[];
  readonly malformed?: { readonly window: number; readonly message: string };
}

/**
 * Applies the validator's published aggregates of `windows` to θ in order, as a peer joining from a
 * checkpoint or the run's init does (gauntlet-spec §3.5). It stops at the first aggregate that does
 * not fit the model rather than skipping it (skipping would leave θ off the network for good): the
 * caller resumes from the window before it with `Miner.catchUp`, which gathers that window live.
 */
export async function replayAggregates(
  engine: { applyOuter(update: Float32Array): Promise<void> },
  storage: Storage,
  validatorHotkey: string,
  windows: readonly number[],
  context: PublicationContext,
): Promise<AggregateReplay> {
  const replayed: number[] = [];
  for (const window of windows) {
    const update = await readAggregateIfWellFormed(storage, validatorHotkey, window, context);
    if (update instanceof AggregateFormatError) return { replayed, malformed: { window, message: update.message } };
    await engine.applyOuter(update);
    replayed.push(window);
  }
  return { replayed };
}

/**
 * The hash of θ that `validatorHotkey` scored `window` with, or undefined when it published none that
 * opens as its signed publication of this run (not yet, or not readable now: the caller cannot
 * tell, and so takes no decision on it).
 */
export async function readThetaHash(storage: Storage, validatorHotkey: string, window: number, context: PublicationContext): Promise<Uint8Array | undefined> {
  try {
    const { data } = await storage.get(validatorHotkey, thetaKey(window), { maxBytes: THETA_HASH_BYTES + 1024 });
    return openPublication(data, context, 'theta', validatorHotkey, { window, payloadLength: THETA_HASH_BYTES, maxPayloadBytes: THETA_HASH_BYTES }).payload;
  } catch (error) {
    if (error instanceof NetError || error instanceof PublicationError) return undefined;
    throw error;
  }
}

const THETA_HASH_BYTES = 32;
