import type { CompressionConfig } from '../config.ts';
import { CompressionError } from './errors.ts';

/**
 * Chunking of a parameter tensor into the small blocks that top-k works on (gauntlet-spec §5.3,
 * Templar `tplr.compress.ChunkingTransformer`).
 *
 * 2-D `W[R][C]` is viewed as `[R/h][C/w][h][w]` with `h = chunkSize(R)`, `w = chunkSize(C)`: chunk
 * `(y, x)` holds rows `y·h…y·h+h−1` and columns `x·w…x·w+w−1`, stored row-major inside the chunk
 * (`j = r·w + c`), chunks in row-major order of `(y, x)`. 1-D `v[N]` is the same with `R = 1`, `h = 1`:
 * `[N/w][w]`.
 */

/** A named tensor of the model: what the codec, the wire format and the layout hash need to know. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Where one tensor's entries go in its chunked view, and how many of each chunk are kept. */
export interface ChunkLayout {
  /** Rows of the 2-D view (1 for a 1-D tensor). */
  readonly rows: number;
  readonly cols: number;
  /** Chunk height (1 for a 1-D tensor) and width. */
  readonly h: number;
  readonly w: number;
  readonly chunkRows: number;
  readonly chunkCols: number;
  readonly chunkCount: number;
  /** Entries per chunk, h·w (Templar's `totalk`). */
  readonly totalk: number;
  /** Entries kept per chunk. */
  readonly k: number;
  /** Number of entries of the tensor. */
  readonly size: number;
}

/** Largest index a 12-bit packed index can hold is 4095, so a chunk has at most 4096 entries. */
export const MAX_CHUNK_ENTRIES = 4096;

/**
 * `chunk(n)` of gauntlet-spec §5.3 (Templar `ChunkingTransformer._get_smaller_split`): the largest
 * divisor of `n` that is not above `target`. It is 1 when `n` has no divisor in (1, target].
 */
export function chunkSize(n: number, target: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || !Number.isSafeInteger(target) || target < 1) {
    throw new CompressionError('bad-shape', `chunkSize needs positive integers, got n=${n}, target=${target}`);
  }
  for (let d = Math.min(n, target); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/** Largest even number not above `x` (12-bit packing takes indices in pairs). */
function evenFloor(x: number): number {
  return x - (x % 2);
}

/**
 * Values kept per chunk (gauntlet-spec §5.3, v2.1.3 `TopKCompressor._clamp_topk`): `min(topk, totalk)`,
 * at least 2, rounded down to even.
 *
 * Deliberate differences from v2.1.3, so that density stays what the config says:
 * - a 2-D chunk smaller than `targetChunk × targetChunk` (a dimension whose largest divisor ≤ target is
 *   below target) keeps `round(topk · totalk / targetChunk²)` instead of `topk`, so a 64×32 chunk keeps
 *   32 rather than 64 and the density stays ≈ topk/targetChunk² (1.56 % for 64 of 4096);
 * - a 1-D tensor is sent densely (k = totalk, rounded down to even), whatever `topk` is. v2.1.3 with
 *   topk 64 and 64-wide 1-D chunks also sends them densely; §12.2 asks for the same at every chunk size.
 */
export function chunkTopk(totalk: number, ndim: 1 | 2, compression: Pick<CompressionConfig, 'topk' | 'targetChunk'>): number {
  const target2 = compression.targetChunk * compression.targetChunk;
  let k: number;
  if (ndim === 1) k = totalk;
  else if (totalk < target2) k = Math.floor((2 * compression.topk * totalk + target2) / (2 * target2));
  else k = compression.topk;
  return evenFloor(Math.max(2, Math.min(k, totalk)));
}

/** Checks the compression constants that every tensor's layout depends on. */
export function validateCompressionConfig(compression: CompressionConfig): void {
  const { targetChunk, topk, quantizationBins, quantizationRange } = compression;
  if (!Number.isSafeInteger(targetChunk) || targetChunk < 2 || targetChunk * targetChunk > MAX_CHUNK_ENTRIES) {
    throw new CompressionError('bad-config', `targetChunk must be an integer in [2, 64] so chunk indices fit 12 bits, got ${targetChunk}`);
  }
  if (!Number.isSafeInteger(topk) || topk < 2) throw new CompressionError('bad-config', `topk must be an integer ≥ 2, got ${topk}`);
  if (![2, 4, 16, 256].includes(quantizationBins)) {
    throw new CompressionError('bad-config', `quantizationBins must be 2, 4, 16 or 256 (1, 2, 4 or 8 bits per code), got ${quantizationBins}`);
  }
  if (!Number.isFinite(quantizationRange) || quantizationRange <= 0) {
    throw new CompressionError('bad-config', `quantizationRange must be a positive number of standard deviations, got ${quantizationRange}`);
  }
}

/** The chunk layout of one tensor under a compression config. Only 1-D and 2-D tensors are supported. */
export function chunkLayout(shape: readonly number[], compression: CompressionConfig): ChunkLayout {
  if (shape.length !== 1 && shape.length !== 2) {
    throw new CompressionError('bad-shape', `only 1-D and 2-D tensors can be compressed, got shape [${shape.join(', ')}]`);
  }
  const [rows, cols] = shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
  const target = compression.targetChunk;
  const h = shape.length === 1 ? 1 : chunkSize(rows, target);
  const w = chunkSize(cols, target);
  const totalk = h * w;
  if (totalk < 2) {
    throw new CompressionError(
      'bad-shape',
      `shape [${shape.join(', ')}] has no divisor in (1, ${target}] and cannot be chunked; choose dimensions divisible by the chunk size`,
    );
  }
  const chunkRows = rows / h;
  const chunkCols = cols / w;
  return {
    rows,
    cols,
    h,
    w,
    chunkRows,
    chunkCols,
    chunkCount: chunkRows * chunkCols,
    totalk,
    k: chunkTopk(totalk, shape.length === 1 ? 1 : 2, compression),
    size: rows * cols,
  };
}

/** Copies a dense row-major tensor into its chunked view `[chunkCount][totalk]` (ChunkingTransformer.encode without DCT). */
export function toChunks(x: ArrayLike<number>, layout: ChunkLayout): Float32Array {
  checkLength(x.length, layout);
  const out = new Float32Array(layout.size);
  forEachChunkEntry(layout, (dense, chunked) => {
    out[chunked] = x[dense]!;
  });
  return out;
}

/** Inverse of `toChunks`: chunked view back to the dense row-major tensor. */
export function fromChunks(chunked: ArrayLike<number>, layout: ChunkLayout): Float32Array {
  checkLength(chunked.length, layout);
  const out = new Float32Array(layout.size);
  forEachChunkEntry(layout, (dense, at) => {
    out[dense] = chunked[at]!;
  });
  return out;
}

function checkLength(length: number, layout: ChunkLayout): void {
  if (length !== layout.size) {
    throw new CompressionError('length-mismatch', `tensor has ${length} entries but its shape needs ${layout.size}`);
  }
}

/** Visits every entry as (dense row-major index, chunked index). */
function forEachChunkEntry(layout: ChunkLayout, visit: (dense: number, chunked: number) => void): void {
  const { h, w, chunkRows, chunkCols, cols } = layout;
  let chunked = 0;
  for (let cy = 0; cy < chunkRows; cy++) {
    for (let cx = 0; cx < chunkCols; cx++) {
      for (let r = 0; r < h; r++) {
        const rowStart = (cy * h + r) * cols + cx * w;
        for (let c = 0; c < w; c++) visit(rowStart + c, chunked++);
      }
    }
  }
}
