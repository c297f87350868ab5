/**
 * Signing and opening a validator's publications (issue #14): the aggregated update of a window, a
 * checkpoint of θ and the gather-peer list travel in the signed envelope of
 * src/core/wire/publication.ts. A reader accepts one only when
 *  1. the envelope decodes for this run (run id, run-config hash, netuid, model layout, window or
 *     step, payload length and sha256);
 *  2. its publisher is the hotkey whose bucket it was read from, and that hotkey signed it;
 *  3. its payload is within the run's bounds: every value finite, an aggregate's norm within
 *     `maxOuterStepNorm`, a checkpoint within ±`maxParameterValue`, a peer list of registered-size
 *     uid lists.
 * Which hotkeys may publish at all (the run's validators) is the caller's choice (`leadValidator`).
 * Templar applies whatever sits in the highest-staked validator's bucket; a forged or poisoned
 * object there used to be applied by every joining browser miner.
 */
import { decodeAddress } from '@polkadot/util-crypto';
import { hexToU8a } from '@polkadot/util';
import type { FlatTensorSpec } from '../core/compress/error-feedback.ts';
import type { RunConfig } from '../core/config.ts';
import { runConfigHash } from '../core/run-config.ts';
import {
  decodePublication, encodePublication, layoutHash, publicationHeader, publicationSigningMessage, WireFormatError,
  type PublicationKind,
} from '../core/wire/index.ts';
import { isValidSignature } from '../net/verify.ts';
import type { Signer } from '../net/types.ts';
import { GauntletError } from '../core/errors.ts';

/** The run a publication must belong to. */
export interface PublicationContext {
  readonly config: RunConfig;
  readonly layout: readonly FlatTensorSpec[];
}

/** Why a publication was not accepted: its stable reason and a message naming the object. */
export class PublicationError extends GauntletError {
  readonly code: string = 'publication';
  override readonly name = 'PublicationError';
  constructor(
    readonly reason: 'format' | 'publisher' | 'signature' | 'bounds',
    message: string,
  ) {
    super(message);
  }
}

/** Largest peer-list payload (JSON of two uid lists): far above any run's gather + reserve counts. */
export const MAX_PEER_LIST_BYTES = 64 * 1024;

const hashes = new WeakMap<RunConfig, { run: Uint8Array; layout: Uint8Array }>();

function runHashes(context: PublicationContext): { run: Uint8Array; layout: Uint8Array } {
  let entry = hashes.get(context.config);
  if (entry === undefined) {
    entry = { run: hexToU8a(runConfigHash(context.config)), layout: layoutHash(context.layout) };
    hashes.set(context.config, entry);
  }
  return entry;
}

export function parameterCountOf(layout: readonly FlatTensorSpec[]): number {
  const last = layout[layout.length - 1];
  return last === undefined ? 0 : last.offset + last.shape.reduce((a, b) => a * b, 1);
}

/** The stored bytes of a publication of `payload`, signed by `hotkey` through `signer`. */
export async function signPublication(
  signer: Signer,
  hotkey: string,
  context: PublicationContext,
  kind: PublicationKind,
  position: { readonly window: number; readonly globalStep: number },
  payload: Uint8Array,
): Promise<Uint8Array> {
  const { config } = context;
  const { run, layout } = runHashes(context);
  const header = publicationHeader({ kind, runId: config.runId, runConfigHash: run, netuid: config.netuid, window: position.window, globalStep: position.globalStep, layoutHash: layout, publisher: decodeAddress(hotkey) }, payload);
  const signature = hexToU8a(await signer.signRaw(hotkey, publicationSigningMessage(header)));
  return encodePublication(header, payload, signature);
}

/** The checked payload of a publication read from `publisherHotkey`'s bucket; `PublicationError` otherwise. */
export function openPublication(
  bytes: Uint8Array,
  context: PublicationContext,
  kind: PublicationKind,
  publisherHotkey: string,
  expected: { readonly window?: number; readonly globalStep?: number; readonly payloadLength?: number; readonly maxPayloadBytes: number },
): { readonly payload: Uint8Array; readonly window: number; readonly globalStep: number } {
  const { config } = context;
  const { run, layout } = runHashes(context);
  let decoded;
  try {
    decoded = decodePublication(bytes, { kind, runId: config.runId, runConfigHash: run, netuid: config.netuid, layoutHash: layout, ...expected });
  } catch (error) {
    if (error instanceof WireFormatError) throw new PublicationError('format', `The ${kind} is not a valid publication of this run: ${error.message}`);
    throw error;
  }
  let publisher: Uint8Array;
  try {
    publisher = decodeAddress(publisherHotkey);
  } catch {
    throw new PublicationError('publisher', `${publisherHotkey} is not an address`);
  }
  if (decoded.header.publisher.some((b, i) => b !== publisher[i])) {
    throw new PublicationError('publisher', `The ${kind} in ${publisherHotkey}'s bucket names another publisher: it is not that validator's.`);
  }
  if (!isValidSignature(decoded.signedMessage, decoded.signature, publisherHotkey)) {
    throw new PublicationError('signature', `The ${kind}'s signature does not verify for ${publisherHotkey}: forged or tampered.`);
  }
  return { payload: decoded.payload, window: decoded.header.window, globalStep: decoded.header.globalStep };
}

function float32Of(payload: Uint8Array): Float32Array {
  const out = new Float32Array(payload.length / 4);
  new Uint8Array(out.buffer).set(payload);
  return out;
}

/**
 * An aggregated update (θ ← θ − update) within the run's bounds: every entry finite and ‖update‖₂
 * within `maxOuterStepNorm`, the bound the publishing validator's own step obeyed (float64 sums in
 * another order, hence the relative 1e-6).
 */
export function checkedAggregate(payload: Uint8Array, config: RunConfig): Float32Array {
  const update = float32Of(payload);
  let sumSq = 0;
  for (let i = 0; i < update.length; i++) {
    const v = update[i]!;
    if (!Number.isFinite(v)) throw new PublicationError('bounds', `The aggregate has a non-finite entry at ${i}.`);
    sumSq += v * v;
  }
  const norm = Math.sqrt(sumSq);
  if (norm > config.bounds.maxOuterStepNorm * (1 + 1e-6)) {
    throw new PublicationError('bounds', `The aggregate has norm ${norm.toExponential(3)}, beyond the run's per-window bound ${config.bounds.maxOuterStepNorm} (bounds.maxOuterStepNorm).`);
  }
  return update;
}

/** A checkpoint of θ within the run's bounds: every entry finite and within ±`maxParameterValue`. */
export function checkedCheckpoint(payload: Uint8Array, config: RunConfig): Float32Array {
  const theta = float32Of(payload);
  for (let i = 0; i < theta.length; i++) {
    const v = theta[i]!;
    if (!(Math.abs(v) <= config.bounds.maxParameterValue)) {
      throw new PublicationError('bounds', `The checkpoint holds ${v} at ${i}, outside the run's bound ±${config.bounds.maxParameterValue} (bounds.maxParameterValue).`);
    }
  }
  return theta;
}

/** The gather-peer list a validator posts (Templar `peers_{E}`), as it travels in a publication's payload. */
export interface PeerListPayload {
  readonly peers: readonly number[];
  readonly reservePeers: readonly number[];
  readonly postedAtWindow: number;
  /**
   * Per tensor (layout order), the lower median norm of the posting window's submissions from the
   * listed peers with a positive score: the reference that caps the clip reference while the list
   * is in force (`referenceCaps`, issue #14). Absent when no such peer was gathered.
   */
  readonly normReference?: readonly number[];
}

/**
 * A peer list within the run's sizes: distinct u16 uids, at most `gatherPeers` and `reservePeers` of
 * them, and a norm reference (if any) of one positive finite entry per tensor within `maxTensorNorm`.
 */
export function checkedPeerList(payload: Uint8Array, context: PublicationContext): PeerListPayload {
  const { config } = context;
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw new PublicationError('format', 'The peer list is not UTF-8 JSON.');
  }
  const record = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const uids = (xs: unknown, max: number, what: string): number[] => {
    if (!Array.isArray(xs) || xs.length > max || !xs.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffff) || new Set(xs).size !== xs.length) {
      throw new PublicationError('bounds', `The peer list's ${what} must be at most ${max} distinct uids.`);
    }
    return xs as number[];
  };
  const peers = uids(record.peers, config.scoring.gatherPeers, 'peers');
  const reservePeers = uids(record.reservePeers, config.scoring.reservePeers, 'reserve peers');
  const postedAtWindow = record.postedAtWindow;
  if (!Number.isInteger(postedAtWindow) || (postedAtWindow as number) < 0) throw new PublicationError('format', 'The peer list has no postedAtWindow.');
  const reference = record.normReference;
  if (reference === undefined) return { peers, reservePeers, postedAtWindow: postedAtWindow as number };
  if (!Array.isArray(reference) || reference.length !== context.layout.length || !reference.every((r) => typeof r === 'number' && r > 0 && r <= config.bounds.maxTensorNorm)) {
    throw new PublicationError('bounds', `The peer list's norm reference must hold ${context.layout.length} norms in (0, ${config.bounds.maxTensorNorm}].`);
  }
  return { peers, reservePeers, postedAtWindow: postedAtWindow as number, normReference: reference as number[] };
}
