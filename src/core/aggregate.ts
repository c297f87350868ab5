import { chunkLayout, type ChunkLayout } from './compress/chunking.ts';
import { dequantizeTensor, scatterMean, unchunk, type EncodedTensor, type SparseContribution } from './compress/codec.ts';
import type { FlatTensorSpec } from './compress/error-feedback.ts';
import type { CompressionConfig } from './config.ts';

/**
 * Deterministic aggregation and outer step, CPU reference (gauntlet-spec §6, Templar
 * `tplr.neurons.outer_step`). Every honest peer runs this on the same gathered submissions and must end
 * with the same parameter bytes, in Node and in every browser, so:
 * - peers are processed in ascending uid order, whatever order they arrived in;
 * - every sum runs in float64 in a fixed order (tensor entries in index order, peers in uid order) and
 *   rounds to float32 once, where torch would reduce in float32 in a device-dependent order.
 */

export class AggregationError extends Error {
  override readonly name = 'AggregationError';
}

/** One gathered, already validated submission: its tensors in layout order (as `decodeSubmission` returns them). */
export interface PeerSubmission {
  readonly uid: number;
  readonly tensors: readonly EncodedTensor[];
}

export interface OuterStepResult {
  /** uids whose submissions were aggregated, ascending. */
  readonly uids: readonly number[];
  /** Per tensor (layout order): the median L2 norm of the peers' values ('sparseloco'; NaN for 'dct-sign' or no peers). */
  readonly medianNorms: readonly number[];
  /** Tensors left unchanged because their aggregate was not finite. */
  readonly skippedTensors: readonly string[];
}

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

/** Per tensor, the median over peers of the L2 norm of their dequantised values (`outer_step`'s `clip_norm`). */
export function medianNorms(peers: readonly PeerSubmission[]): number[] {
  const first = peers[0];
  if (!first) return [];
  return first.tensors.map((_, t) => lowerMedian(peers.map((p) => l2Norm(dequantizeTensor(tensorAt(p, t))))));
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
): { readonly aggregate: Float32Array; readonly medianNorm: number } {
  const values = tensors.map(dequantizeTensor);
  let medianNorm = NaN;
  let contributions: SparseContribution[];
  if (compression.codec === 'sparseloco') {
    medianNorm = lowerMedian(values.map(l2Norm));
    contributions = tensors.map((t, j) => ({ indices: t.indices, values: clipToMedian(values[j]!, medianNorm) }));
  } else {
    contributions = tensors.map((t, j) => ({ indices: t.indices, values: normalizePerChunk(values[j]!, layout.k) }));
  }
  return { aggregate: unchunk(scatterMean(layout, contributions), layout, compression.codec), medianNorm };
}

/**
 * The outer step on the flat parameter vector, in place (gauntlet-spec §6, `tplr.neurons.outer_step`):
 * 'sparseloco' `θ ← θ − α·agg`; 'dct-sign' `θ ← θ − α·sign(agg)` (0 where agg = 0). A tensor whose
 * aggregate has a NaN or ±Inf is left unchanged and reported. No peers: nothing changes.
 */
export function outerStep(
  params: Float32Array,
  layout: readonly FlatTensorSpec[],
  peers: readonly PeerSubmission[],
  compression: CompressionConfig,
): OuterStepResult {
  const sorted = sortByUid(peers);
  for (const peer of sorted) {
    if (peer.tensors.length !== layout.length) throw new AggregationError(`uid ${peer.uid} has ${peer.tensors.length} tensors; the layout has ${layout.length}`);
  }
  const norms: number[] = [];
  const skippedTensors: string[] = [];
  layout.forEach((spec, t) => {
    if (sorted.length === 0) {
      norms.push(NaN);
      return;
    }
    const tensors = sorted.map((p) => tensorAt(p, t));
    for (const [j, tensor] of tensors.entries()) {
      if (tensor.name !== spec.name) throw new AggregationError(`uid ${sorted[j]!.uid} has tensor "${tensor.name}" where the layout has "${spec.name}"`);
    }
    const chunks = chunkLayout(spec.shape, compression);
    if (spec.offset < 0 || spec.offset + chunks.size > params.length) {
      throw new AggregationError(`tensor ${spec.name} [${spec.offset}, ${spec.offset + chunks.size}) lies outside the ${params.length} parameters`);
    }
    const { aggregate, medianNorm } = aggregateTensor(tensors, chunks, compression);
    norms.push(medianNorm);
    if (aggregate.some((v) => !Number.isFinite(v))) {
      skippedTensors.push(spec.name);
      return;
    }
    const theta = params.subarray(spec.offset, spec.offset + chunks.size);
    const alpha = compression.outerLr;
    if (compression.codec === 'sparseloco') {
      for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! - Math.fround(alpha * aggregate[i]!);
    } else {
      for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! - Math.fround(alpha * Math.sign(aggregate[i]!));
    }
  });
  return { uids: sorted.map((p) => p.uid), medianNorms: norms, skippedTensors };
}

function tensorAt(peer: PeerSubmission, t: number): EncodedTensor {
  const tensor = peer.tensors[t];
  if (!tensor) throw new AggregationError(`uid ${peer.uid} has no tensor ${t}`);
  return tensor;
}
