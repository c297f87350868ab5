import { FINITE_ONLY, tensorBoundsViolation, type SubmissionBounds } from './compress/bounds.ts';
import { chunkLayout, type ChunkLayout } from './compress/chunking.ts';
import { dequantizeTensor, scatterMean, unchunk, type EncodedTensor, type SparseContribution } from './compress/codec.ts';
import type { FlatTensorSpec } from './compress/error-feedback.ts';
import type { BoundsConfig, CompressionConfig } from './config.ts';
import { GauntletError } from './errors.ts';

/**
 * Deterministic aggregation and outer step, CPU reference (gauntlet-spec §6, Templar
 * `tplr.neurons.outer_step`). Every honest peer runs this on the same gathered submissions and must end
 * with the same parameter bytes, in Node and in every browser, so:
 * - peers are processed in ascending uid order, whatever order they arrived in;
 * - every sum runs in float64 in a fixed order (tensor entries in index order, peers in uid order) and
 *   rounds to float32 once, where torch would reduce in float32 in a device-dependent order.
 */

export class AggregationError extends GauntletError {
  readonly code: string = 'aggregation';
  override readonly name = 'AggregationError';
}

/** One gathered, already validated submission: its tensors in layout order (as `decodeSubmission` returns them). */
export interface PeerSubmission {
  readonly uid: number;
  readonly tensors: readonly EncodedTensor[];
}

/** A peer left out of one window's aggregate, and why (the other peers' step goes on without it). */
export interface DroppedPeer {
  readonly uid: number;
  readonly reason: string;
}

export interface OuterStepResult {
  /** uids whose submissions were aggregated, ascending. */
  readonly uids: readonly number[];
  /** Peers whose submissions were outside the bounds and left out, ascending uid (issue #14). */
  readonly dropped: readonly DroppedPeer[];
  /** Per tensor (layout order): the median L2 norm of the peers' values ('sparseloco'; NaN for 'dct-sign' or no peers). */
  readonly medianNorms: readonly number[];
  /** Tensors left unchanged because their aggregate was not finite. */
  readonly skippedTensors: readonly string[];
  /** ‖α·agg‖₂ over all tensors (0 without peers; for 'dct-sign' α·‖sign(agg)‖₂). */
  readonly updateNorm: number;
  /** Why the whole step was refused (θ unchanged), or null when it was applied (issue #14). */
  readonly refused: string | null;
}

/** The bounds one outer step is checked against: the submission bounds and the per-window step bound. */
export type OuterStepBounds = SubmissionBounds & Pick<BoundsConfig, 'maxOuterStepNorm'>;

/** Finiteness only and no step bound: the default of the reference functions when no run bounds are given. */
export const FINITE_ONLY_STEP: OuterStepBounds = { ...FINITE_ONLY, maxOuterStepNorm: Number.POSITIVE_INFINITY };

/** Clip guard of `outer_step`: `min(1, med / (norm + 1e-8))`. */
export const CLIP_EPSILON = 1e-8;

/** Peers sorted by uid (a copy). Two submissions from one uid are a caller bug: the gather must keep one. */
export function sortByUid<T extends { readonly uid: number }>(peers: readonly T[]): T[] {
  const sorted = [...peers].sort((a, b) => a.uid - b.uid);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.uid === sorted[i - 1]!.uid) throw new AggregationError(`uid ${sorted[i]!.uid} appears twice among the gathered submissions; keep one per uid`);
  }
  return sorted;
}

/**
 * The peers that may enter one window's aggregate, sorted by uid, and those that may not (issue
 * #14): a peer whose tensors do not match the layout (count, names, shapes, k), or any of whose
 * tensors has a non-finite or out-of-bounds value or norm (`tensorBoundsViolation`), is dropped as
 * a whole with its reason. One peer's bytes can so only remove that peer: before, one overflowing
 * tensor made the CPU step skip that tensor for everyone and the GPU step write non-finite θ. The
 * CPU (`outerStep`) and GPU (`GpuOuterStep.apply`) steps both admit through here, so they drop the
 * same peers. Submissions that passed `decodeSubmission` with the same bounds are never dropped.
 * Two submissions from one uid remain a caller bug (`AggregationError`).
 */
export function admitPeers(
  peers: readonly PeerSubmission[],
  layout: readonly FlatTensorSpec[],
  compression: CompressionConfig,
  bounds: SubmissionBounds = FINITE_ONLY,
): { readonly admitted: PeerSubmission[]; readonly dropped: DroppedPeer[] } {
  const admitted: PeerSubmission[] = [];
  const dropped: DroppedPeer[] = [];
  for (const peer of sortByUid(peers)) {
    const reason = peerViolation(peer, layout, compression, bounds);
    if (reason === null) admitted.push(peer);
    else dropped.push({ uid: peer.uid, reason });
  }
  return { admitted, dropped };
}

function peerViolation(peer: PeerSubmission, layout: readonly FlatTensorSpec[], compression: CompressionConfig, bounds: SubmissionBounds): string | null {
  if (peer.tensors.length !== layout.length) return `${peer.tensors.length} tensors; the layout has ${layout.length}`;
  for (const [t, spec] of layout.entries()) {
    const tensor = peer.tensors[t]!;
    if (tensor.name !== spec.name) return `tensor "${tensor.name}" where the layout has "${spec.name}"`;
    if (tensor.shape.length !== spec.shape.length || tensor.shape.some((d, i) => d !== spec.shape[i])) return `${spec.name} has shape [${tensor.shape.join(', ')}], expected [${spec.shape.join(', ')}]`;
    const chunks = chunkLayout(spec.shape, compression);
    if (tensor.k !== chunks.k || tensor.indices.length !== chunks.chunkCount * chunks.k || tensor.codes.length !== tensor.indices.length) {
      return `${spec.name} carries ${tensor.indices.length} indices and ${tensor.codes.length} codes with k ${tensor.k}; the layout needs ${chunks.chunkCount * chunks.k} of each with k ${chunks.k}`;
    }
    if (tensor.quant.lookup.length !== compression.quantizationBins) return `${spec.name} has ${tensor.quant.lookup.length} quantisation bins; the run uses ${compression.quantizationBins}`;
    if (tensor.indices.some((j) => j >= chunks.totalk)) return `${spec.name} has an index outside its chunk of ${chunks.totalk}`;
    const violation = tensorBoundsViolation(spec.name, tensor.codes, tensor.quant, bounds);
    if (violation !== null) return `${violation.code}: ${violation.message}`;
  }
  return null;
}

/**
 * The clip reference of one tensor (`outer_step`'s `clip_norm`): the lower median of the peers'
 * norms, capped by the run's `maxTensorNorm` and by `carriedCap`, the cap carried over from earlier
 * windows (`referenceCaps`: `clipGrowth` × the reference in the validator's signed peer list), so
 * that the peers being clipped cannot set it alone: a majority of new hotkeys can raise the median,
 * not the cap (issue #14). Below the caps this is Templar's median exactly.
 */
export function clipReference(norms: readonly number[], bounds: SubmissionBounds = FINITE_ONLY, carriedCap = Number.POSITIVE_INFINITY): number {
  return Math.min(lowerMedian(norms), bounds.maxTensorNorm, carriedCap);
}

/**
 * Per tensor, the cap on the clip reference carried by a peer list's `normReference` (the median
 * norm of the positively scored peers it lists, per tensor): `clipGrowth` × each entry. Undefined
 * without a list or a reference: only the run's `maxTensorNorm` then caps the median.
 */
export function referenceCaps(normReference: readonly number[] | undefined, bounds: Pick<BoundsConfig, 'clipGrowth'>): readonly number[] | undefined {
  return normReference?.map((r) => bounds.clipGrowth * r);
}

/** L2 norm of values, summed in float64 in index order. */
export function l2Norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
  return Math.sqrt(s);
}

/** Median as `torch.median`: for an even count, the lower of the two middle values. NaN for none. */
export function lowerMedian(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Per tensor, the clip reference over peers (`clipReference` of the L2 norms of their dequantised values; `outer_step`'s `clip_norm`). */
export function medianNorms(peers: readonly PeerSubmission[], bounds: SubmissionBounds = FINITE_ONLY, caps?: readonly number[]): number[] {
  const first = peers[0];
  if (!first) return [];
  return first.tensors.map((_, t) => clipReference(peers.map((p) => l2Norm(dequantizeTensor(tensorAt(p, t)))), bounds, caps?.[t]));
}

/**
 * Scales values to at most the median norm: `vals · min(1, med / (‖vals‖₂ + 1e-8))` (gauntlet-spec §6;
 * the validator's trial step uses the same clip, §7.2).
 */
export function clipToMedian(values: Float32Array, medianNorm: number): Float32Array {
  const factor = Math.min(1, medianNorm / (l2Norm(values) + CLIP_EPSILON));
  return values.map((v) => v * factor);
}

/** Paper-era per-chunk normalisation (gauntlet-spec §6): each chunk's k values divided by their L2 norm + 1e-8. */
export function normalizePerChunk(values: Float32Array, k: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let start = 0; start < values.length; start += k) {
    const chunk = values.subarray(start, start + k);
    const divisor = l2Norm(chunk) + CLIP_EPSILON;
    for (let i = 0; i < chunk.length; i++) out[start + i] = chunk[i]! / divisor;
  }
  return out;
}

/** A single peer's dense update for a trial step: its clipped, decoded tensor (validator, gauntlet-spec §7.2). */
export function clippedPeerUpdate(tensor: EncodedTensor, medianNorm: number, compression: CompressionConfig): Float32Array {
  const layout = chunkLayout(tensor.shape, compression);
  const values = clipToMedian(dequantizeTensor(tensor), medianNorm);
  return unchunk(scatterMean(layout, [{ indices: tensor.indices, values }]), layout, compression.codec);
}

/**
 * The dense aggregate of one tensor over peers already sorted by uid (`outer_step` up to `θ ← θ − α·agg`):
 * 'sparseloco' clips each peer to the median norm; 'dct-sign' normalises each chunk (paper-era). Then
 * scatter-mean over the peers that chose each coordinate and un-chunk (inverse DCT for 'dct-sign').
 */
export function aggregateTensor(
  tensors: readonly EncodedTensor[],
  layout: ChunkLayout,
  compression: CompressionConfig,
  bounds: SubmissionBounds = FINITE_ONLY,
  carriedCap = Number.POSITIVE_INFINITY,
): { readonly aggregate: Float32Array; readonly medianNorm: number } {
  const values = tensors.map(dequantizeTensor);
  let medianNorm = NaN;
  let contributions: SparseContribution[];
  if (compression.codec === 'sparseloco') {
    medianNorm = clipReference(values.map(l2Norm), bounds, carriedCap);
    contributions = tensors.map((t, j) => ({ indices: t.indices, values: clipToMedian(values[j]!, medianNorm) }));
  } else {
    contributions = tensors.map((t, j) => ({ indices: t.indices, values: normalizePerChunk(values[j]!, layout.k) }));
  }
  return { aggregate: unchunk(scatterMean(layout, contributions), layout, compression.codec), medianNorm };
}

/**
 * The outer step on the flat parameter vector, in place (gauntlet-spec §6, `tplr.neurons.outer_step`):
 * 'sparseloco' `θ ← θ − α·agg`; 'dct-sign' `θ ← θ − α·sign(agg)` (0 where agg = 0). `caps`: per
 * tensor, the carried cap on the clip reference (`referenceCaps`), none when omitted. Peers outside
 * the layout or the bounds are dropped first (`admitPeers`) and reported; the others' step goes on.
 * Then the whole step is refused, θ left as it was, when ‖α·agg‖₂ over all tensors exceeds the run's
 * `maxOuterStepNorm` (issue #14): every peer computes that norm with this same float64 code on the
 * same admitted submissions, so every peer refuses the same windows and θ stays the same everywhere.
 * With every admitted value finite and bounded the aggregate is finite, so the tensor skip below is a
 * last line of defence that admitted input cannot reach. No peers: nothing changes.
 */
export function outerStep(
  params: Float32Array,
  layout: readonly FlatTensorSpec[],
  peers: readonly PeerSubmission[],
  compression: CompressionConfig,
  bounds: OuterStepBounds = FINITE_ONLY_STEP,
  caps?: readonly number[],
): OuterStepResult {
  const { admitted: sorted, dropped } = admitPeers(peers, layout, compression, bounds);
  const uids = sorted.map((p) => p.uid);
  if (sorted.length === 0) return { uids, dropped, medianNorms: layout.map(() => NaN), skippedTensors: [], updateNorm: 0, refused: null };
  for (const spec of layout) {
    const size = chunkLayout(spec.shape, compression).size;
    if (spec.offset < 0 || spec.offset + size > params.length) {
      throw new AggregationError(`tensor ${spec.name} [${spec.offset}, ${spec.offset + size}) lies outside the ${params.length} parameters`);
    }
  }
  const plan = planStep(sorted, layout, compression, bounds, caps);
  const refused = stepRefusal(plan.updateNorm, bounds);
  const result = { uids, dropped, medianNorms: plan.medianNorms, skippedTensors: plan.skippedTensors, updateNorm: plan.updateNorm, refused };
  if (refused !== null) return result;
  layout.forEach((spec, t) => {
    if (plan.skippedTensors.includes(spec.name)) return;
    const { aggregate } = plan.aggregates[t]!;
    const theta = params.subarray(spec.offset, spec.offset + aggregate.length);
    for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! - plan.step(aggregate[i]!);
  });
  return result;
}

/**
 * ‖α·agg‖₂ of the step `outerStep` would take on these peers, without applying it: what the GPU
 * steps check on the CPU before they dispatch, with the reference's own arithmetic (the aggregates
 * are computed here, on the CPU, for that one number). `admitted` must come from `admitPeers`.
 */
export function outerUpdateNorm(admitted: readonly PeerSubmission[], layout: readonly FlatTensorSpec[], compression: CompressionConfig, bounds: OuterStepBounds, caps?: readonly number[]): number {
  return admitted.length === 0 ? 0 : planStep(admitted, layout, compression, bounds, caps).updateNorm;
}

/**
 * Per tensor the aggregate and clip reference of admitted peers, the tensors whose aggregate is not
 * finite, the per-entry step `fround(α·agg)` ('dct-sign': `fround(α·sign(agg))`) and ‖step‖₂ over the
 * other tensors in float64, tensors then entries in order: the one computation behind both
 * `outerStep` and `outerUpdateNorm`, so CPU and GPU peers decide refusals on the same number.
 */
function planStep(
  admitted: readonly PeerSubmission[],
  layout: readonly FlatTensorSpec[],
  compression: CompressionConfig,
  bounds: OuterStepBounds,
  caps: readonly number[] | undefined,
): { aggregates: { aggregate: Float32Array; medianNorm: number }[]; medianNorms: number[]; skippedTensors: string[]; step: (v: number) => number; updateNorm: number } {
  const aggregates = layout.map((spec, t) => aggregateTensor(admitted.map((p) => tensorAt(p, t)), chunkLayout(spec.shape, compression), compression, bounds, caps?.[t]));
  const skippedTensors = layout.filter((_, t) => aggregates[t]!.aggregate.some((v) => !Number.isFinite(v))).map((spec) => spec.name);
  const alpha = compression.outerLr;
  const step = (v: number): number => Math.fround(alpha * (compression.codec === 'sparseloco' ? v : Math.sign(v)));
  let sumSq = 0;
  layout.forEach((spec, t) => {
    if (skippedTensors.includes(spec.name)) return;
    const { aggregate } = aggregates[t]!;
    for (let i = 0; i < aggregate.length; i++) {
      const u = step(aggregate[i]!);
      sumSq += u * u;
    }
  });
  return { aggregates, medianNorms: aggregates.map((a) => a.medianNorm), skippedTensors, step, updateNorm: Math.sqrt(sumSq) };
}

/** Why a step of norm `updateNorm` is refused under `bounds`, or null when it may be applied. */
export function stepRefusal(updateNorm: number, bounds: OuterStepBounds): string | null {
  // A non-finite norm (an entry of α·agg overflowed, possible only without the run's bounds) is refused even under an infinite bound.
  if (Number.isFinite(updateNorm) && updateNorm <= bounds.maxOuterStepNorm) return null;
  return `the outer update has norm ${updateNorm.toExponential(3)}, beyond the run's per-window bound ${bounds.maxOuterStepNorm} (bounds.maxOuterStepNorm): no peer applies it`;
}


function tensorAt(peer: PeerSubmission, t: number): EncodedTensor {
  const tensor = peer.tensors[t];
  if (!tensor) throw new AggregationError(`uid ${peer.uid} has no tensor ${t}`);
  return tensor;
}
