import type { ChunkLayout } from './chunking.ts';
import { CompressionError } from './errors.ts';

/** Per-chunk selection: `indices[c·k + i]` is the position inside chunk `c` of its i-th kept entry. */
export interface ChunkSelection {
  readonly indices: Uint16Array;
  readonly values: Float32Array;
}

/**
 * Top-k by magnitude inside every chunk (gauntlet-spec §5.3, Templar `TopKCompressor.compress`:
 * `idx = argtopk(|x|, k)`, `val = x[idx]`).
 *
 * Templar's `torch.topk` leaves ties to the device. We need the same bytes on every peer, so the order
 * is total: larger |x| first, then the lower index. The kept entries are listed in that order (rank
 * order), which is deterministic and lets a reader see the largest values first; the decoder does
 * not depend on the order. Non-finite input is a bug upstream and is refused.
 */
export function topkPerChunk(chunked: Float32Array, layout: ChunkLayout): ChunkSelection {
  const { chunkCount, totalk, k } = layout;
  if (chunked.length !== chunkCount * totalk) {
    throw new CompressionError('length-mismatch', `chunked tensor has ${chunked.length} entries, layout needs ${chunkCount * totalk}`);
  }
  const indices = new Uint16Array(chunkCount * k);
  const values = new Float32Array(chunkCount * k);
  const order = new Uint16Array(totalk);
  const magnitude = new Float32Array(totalk);
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const base = chunk * totalk;
    for (let j = 0; j < totalk; j++) {
      const x = chunked[base + j]!;
      if (!Number.isFinite(x)) {
        throw new CompressionError('non-finite', `entry ${j} of chunk ${chunk} is ${x}; the error-feedback buffer must be finite before compression`);
      }
      magnitude[j] = Math.abs(x);
      order[j] = j;
    }
    order.sort((a, b) => magnitude[b]! - magnitude[a]! || a - b);
    for (let i = 0; i < k; i++) {
      const j = order[i]!;
      indices[chunk * k + i] = j;
      values[chunk * k + i] = chunked[base + j]!;
    }
  }
  return { indices, values };
}
