import { CLIP_EPSILON, clipReference, l2Norm } from '../aggregate.ts';
import { FINITE_ONLY, type SubmissionBounds } from './bounds.ts';
import type { CompressionConfig } from '../config.ts';
import { chunkLayout, type ChunkLayout } from './chunking.ts';
import { dequantizeTensor, type EncodedTensor } from './codec.ts';
import type { FlatTensorSpec } from './error-feedback.ts';
import { CompressionError } from './errors.ts';
import { bitsPerCode, pack12, packCodes, packedCodeBytes, unpack12, unpackCodes } from './pack.ts';

/**
 * What the GPU compression and outer-step kernels (shaders/*.wgsl, src/gpu/compress.ts,
 * src/gpu/outer-step.ts) need to know about the run's tensors, computed once per layout on the CPU.
 * The packed buffer holds, per tensor, its 12-bit index block then its bit-packed code block, each
 * padded to whole u32 words: byte for byte the two blocks the wire container stores
 * (src/core/wire/container.ts), so the host copies them out without repacking.
 */
export interface GpuTensorPlan {
  readonly spec: FlatTensorSpec;
  readonly chunks: ChunkLayout;
  /** First kept entry of the tensor in the selection arrays (indices, values). */
  readonly entryOffset: number;
  /** Kept entries: chunkCount·k. */
  readonly entryCount: number;
  readonly indexWordOffset: number;
  readonly indexBytes: number;
  readonly codeWordOffset: number;
  readonly codeBytes: number;
}

export interface GpuCompressionPlan {
  readonly tensors: readonly GpuTensorPlan[];
  readonly totalEntries: number;
  readonly packedWords: number;
  /** Entries of the largest tensor (size of the outer step's scratch accumulators). */
  readonly maxTensorSize: number;
  /** Entries of the flat parameter vector the layout covers. */
  readonly paramCount: number;
  readonly bins: number;
  readonly codeBits: 1 | 2 | 4 | 8;
}

/** Largest k the top-k kernel's workgroup memory holds (shaders/topk.wgsl `MAX_K`). */
export const GPU_MAX_K = 1024;

/** Words of the `TensorLayout` uniform struct of shaders/lib/tensor-layout.wgsl. */
export const TENSOR_LAYOUT_WORDS = 20;

const words = (bytes: number): number => Math.ceil(bytes / 4);

export function gpuCompressionPlan(layout: readonly FlatTensorSpec[], compression: CompressionConfig): GpuCompressionPlan {
  const codeBits = bitsPerCode(compression.quantizationBins);
  let entryOffset = 0;
  let wordOffset = 0;
  let maxTensorSize = 0;
  let paramCount = 0;
  const tensors = layout.map((spec): GpuTensorPlan => {
    const chunks = chunkLayout(spec.shape, compression);
    if (chunks.k > GPU_MAX_K) {
      throw new CompressionError('bad-config', `tensor ${spec.name} keeps ${chunks.k} entries per chunk; the GPU top-k holds at most ${GPU_MAX_K} (lower topk or targetChunk)`);
    }
    const entryCount = chunks.chunkCount * chunks.k;
    const indexBytes = (entryCount / 2) * 3;
    const codeBytes = packedCodeBytes(entryCount, codeBits);
    const plan: GpuTensorPlan = {
      spec,
      chunks,
      entryOffset,
      entryCount,
      indexWordOffset: wordOffset,
      indexBytes,
      codeWordOffset: wordOffset + words(indexBytes),
      codeBytes,
    };
    entryOffset += entryCount;
    wordOffset += words(indexBytes) + words(codeBytes);
    maxTensorSize = Math.max(maxTensorSize, chunks.size);
    paramCount = Math.max(paramCount, spec.offset + chunks.size);
    return plan;
  });
  return { tensors, totalEntries: entryOffset, packedWords: wordOffset, maxTensorSize, paramCount, bins: compression.quantizationBins, codeBits };
}

/** High and low 32-bit words of a binary64, as shaders/lib/soft-f64.wgsl `f64_from_bits` reads them. */
export function float64Words(x: number): [number, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x, true);
  return [view.getUint32(4, true), view.getUint32(0, true)];
}

/** The `TensorLayout` uniform of one tensor, with a binary64 constant and a value-table offset. */
export function tensorLayoutWords(plan: GpuTensorPlan, tensorNumber: number, bins: number, codeBits: number, constant = 0, tableOffset = 0): Uint32Array {
  const c = plan.chunks;
  const [hi, lo] = float64Words(constant);
  return new Uint32Array([
    plan.spec.offset,
    c.cols,
    c.h,
    c.w,
    c.chunkCols,
    c.chunkCount,
    c.totalk,
    c.k,
    plan.entryOffset,
    plan.indexWordOffset,
    plan.codeWordOffset,
    tensorNumber,
    bins,
    codeBits,
    hi,
    lo,
    tableOffset,
    0,
    0,
    0,
  ]);
}

/** One tensor of a GPU encoding, read back from the packed buffer and the quantisation rows. */
export function encodedTensorFromPacked(plan: GpuTensorPlan, packed: Uint32Array, quantRow: Float32Array, codeBits: 1 | 2 | 4 | 8): EncodedTensor {
  const bytes = new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength);
  const indices = unpack12(bytes.slice(plan.indexWordOffset * 4, plan.indexWordOffset * 4 + plan.indexBytes), plan.entryCount);
  const codes = unpackCodes(bytes.slice(plan.codeWordOffset * 4, plan.codeWordOffset * 4 + plan.codeBytes), plan.entryCount, codeBits);
  return {
    name: plan.spec.name,
    shape: [...plan.spec.shape],
    k: plan.chunks.k,
    indices,
    codes,
    quant: { shift: quantRow[0]!, scale: quantRow[1]!, lookup: quantRow.slice(2) },
  };
}

/** Writes one tensor's 12-bit index and bit-packed code blocks into a packed word buffer (decode side). */
export function writePackedTensor(plan: GpuTensorPlan, tensor: EncodedTensor, packed: Uint32Array, codeBits: 1 | 2 | 4 | 8): void {
  if (tensor.indices.length !== plan.entryCount || tensor.codes.length !== plan.entryCount) {
    throw new CompressionError('length-mismatch', `tensor ${tensor.name} has ${tensor.indices.length} indices and ${tensor.codes.length} codes; the layout needs ${plan.entryCount}`);
  }
  const bytes = new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength);
  bytes.set(pack12(tensor.indices), plan.indexWordOffset * 4);
  bytes.set(packCodes(tensor.codes, codeBits), plan.codeWordOffset * 4);
}

/**
 * Per peer (in the order given: ascending uid), the clipped dequantised value of every code of one
 * tensor, and the clip reference (`clipReference`: the median norm capped by the run's bound; gauntlet-spec §6, `outer_step`): value(q) = fround(fround(lookup[q] +
 * shift) · factor), factor = min(1, med / (‖vals‖₂ + 1e-8)), exactly the arithmetic of
 * src/core/aggregate.ts `clipToMedian` over `dequantizeTensor`. A peer's value depends only on its code,
 * so `bins` floats per peer carry the whole clipped update to the GPU. Norms are computed here, on the
 * CPU, from the small sparse values: float64 in index order, the reference's own functions.
 */
export function clippedValueTables(tensors: readonly EncodedTensor[], bounds: SubmissionBounds = FINITE_ONLY, carriedCap = Number.POSITIVE_INFINITY): { readonly tables: Float32Array[]; readonly medianNorm: number } {
  const values = tensors.map(dequantizeTensor);
  const norms = values.map(l2Norm);
  const medianNorm = clipReference(norms, bounds, carriedCap);
  const tables = tensors.map((tensor, j) => {
    const factor = Math.min(1, medianNorm / (norms[j]! + CLIP_EPSILON));
    const table = new Float32Array(tensor.quant.lookup.length);
    for (let q = 0; q < table.length; q++) table[q] = Math.fround(tensor.quant.lookup[q]! + tensor.quant.shift) * factor;
    return table;
  });
  return { tables, medianNorm };
}
