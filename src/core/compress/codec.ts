import type { CompressionConfig } from '../config.ts';
import { chunkLayout, fromChunks, toChunks, type ChunkLayout, type TensorSpec } from './chunking.ts';
import { dctChunks, idctChunks } from './dct.ts';
import { CompressionError } from './errors.ts';
import { dequantizeValues, quantizeValues, type QuantParams } from './quantize.ts';
import { topkPerChunk } from './topk.ts';

/**
 * One tensor's compressed form in memory (gauntlet-spec §5.3–5.4, Templar `{name}idxs`, `{name}vals`,
 * `{name}quant_params`). Indices and codes are unpacked here; the wire format packs them (12-bit
 * indices, bit-packed codes).
 */
export interface EncodedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Entries kept per chunk. */
  readonly k: number;
  /** `indices[c·k + i]`: position inside chunk c (< totalk) of its i-th kept entry. */
  readonly indices: Uint16Array;
  /** Quantisation code of each kept entry, one per byte. */
  readonly codes: Uint8Array;
  readonly quant: QuantParams;
}

/** The selected entries of one peer for one tensor, as the scatter-mean consumes them. */
export interface SparseContribution {
  readonly indices: Uint16Array;
  readonly values: Float32Array;
}

/**
 * Compresses one tensor: chunk (+ DCT for 'dct-sign'), top-k per chunk, quantise
 * (Templar `ChunkingTransformer.encode` → `TopKCompressor.compress`).
 *
 * The two codecs share everything but the transform and the outer step. Where 'dct-sign' deliberately
 * departs from the paper era (v0.2.88): it keeps the v2.1.3 k rule (even, ≥ 2; the paper's k = 32 is
 * even anyway) and 12-bit packed indices instead of int16, so one wire format serves both; its
 * quantisation is the same formula with the config's bin count (256 bins = the paper's 8 bits); and the
 * error feedback is SparseLoCo's `e = β·e + Δ` on the pseudo-gradient, without the paper's
 * "skip the subtraction for the first 5 windows". Per-chunk normalisation and `sign` live in the
 * outer step (`src/core/aggregate.ts`).
 */
export function encodeTensor(spec: TensorSpec, x: Float32Array, compression: CompressionConfig): EncodedTensor {
  const layout = chunkLayout(spec.shape, compression);
  let chunked = toChunks(x, layout);
  if (compression.codec === 'dct-sign') chunked = dctChunks(chunked, layout);
  const selection = topkPerChunk(chunked, layout);
  const { codes, params } = quantizeValues(selection.values, compression.quantizationBins, compression.quantizationRange);
  return { name: spec.name, shape: [...spec.shape], k: layout.k, indices: selection.indices, codes, quant: params };
}

/** The dequantised kept values of an encoded tensor, in the order of its indices. */
export function dequantizeTensor(encoded: EncodedTensor): Float32Array {
  return dequantizeValues(encoded.codes, encoded.quant);
}

/**
 * `scatter_reduce(reduce="mean", include_self=False)` on the chunked view (gauntlet-spec §5.3, §6):
 * every coordinate is the mean of the values that contributions put there, 0 where none did. Sums run
 * in float64 over the contributions in the order given, then round once to float32, so the result
 * depends only on that order (callers pass peers sorted by uid).
 */
export function scatterMean(layout: ChunkLayout, contributions: readonly SparseContribution[]): Float32Array {
  const { chunkCount, totalk, k } = layout;
  const sum = new Float64Array(chunkCount * totalk);
  const count = new Uint32Array(chunkCount * totalk);
  for (const { indices, values } of contributions) {
    if (indices.length !== chunkCount * k || values.length !== indices.length) {
      throw new CompressionError('length-mismatch', `a contribution has ${indices.length} indices and ${values.length} values; the layout needs ${chunkCount * k} of each`);
    }
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i]!;
      if (j >= totalk) throw new CompressionError('length-mismatch', `index ${j} is outside a chunk of ${totalk} entries`);
      const at = Math.floor(i / k) * totalk + j;
      sum[at] = sum[at]! + values[i]!;
      count[at] = count[at]! + 1;
    }
  }
  const out = new Float32Array(chunkCount * totalk);
  for (let i = 0; i < out.length; i++) if (count[i]! > 0) out[i] = sum[i]! / count[i]!;
  return out;
}

/** Chunked view back to the dense tensor, with the inverse DCT for 'dct-sign' (`ChunkingTransformer.decode`). */
export function unchunk(chunked: Float32Array, layout: ChunkLayout, codec: CompressionConfig['codec']): Float32Array {
  return fromChunks(codec === 'dct-sign' ? idctChunks(chunked, layout) : chunked, layout);
}

/** Dense reconstruction of one encoded tensor: dequantise, scatter, un-chunk (Templar `decompress` + `decode`). */
export function decodeTensor(encoded: EncodedTensor, compression: CompressionConfig): Float32Array {
  const layout = chunkLayout(encoded.shape, compression);
  return unchunk(scatterMean(layout, [{ indices: encoded.indices, values: dequantizeTensor(encoded) }]), layout, compression.codec);
}
