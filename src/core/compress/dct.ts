import type { ChunkLayout } from './chunking.ts';

/**
 * Orthonormal DCT-II per chunk, the paper-era transform (gauntlet-spec §5.3, Templar v0.2.88
 * `TransformDCT.encode/decode`): `X = D_hᵀ · chunk · D_w` with `D_n = dct(I_n, norm="ortho")`, that is
 * `D_n[i][k] = c_k · cos(π (2i + 1) k / 2n)`, `c_0 = √(1/n)`, `c_k = √(2/n)`. D is orthogonal, so the
 * inverse is `chunk = D_h · X · D_wᵀ`. A 1-D tensor has h = 1 and `D_1 = [1]`: the same formula is the
 * 1-D DCT of each chunk. Sums run in float64 in a fixed order; results are stored as float32.
 *
 * Limitation: `D_n` uses `Math.cos`, which ECMAScript does not require to be correctly rounded. V8
 * (Node, Chrome, Edge) gives identical bits, which the isomorphism harness checks; another engine could
 * differ in the last bit and so break byte-identical 'dct-sign' outer steps across peers. The default
 * 'sparseloco' codec uses only +, −, ×, ÷ and √, which IEEE 754 fixes exactly everywhere.
 */
const matrices = new Map<number, Float64Array>();

/** `D_n` row-major (`D[i·n + k]`), cached per size. */
export function dctMatrix(n: number): Float64Array {
  let d = matrices.get(n);
  if (!d) {
    d = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        d[i * n + k] = (k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n)) * Math.cos((Math.PI * (2 * i + 1) * k) / (2 * n));
      }
    }
    matrices.set(n, d);
  }
  return d;
}

/** Forward DCT of every chunk of a chunked tensor `[chunkCount][h·w]`. */
export function dctChunks(chunked: Float32Array, layout: ChunkLayout): Float32Array {
  return transformChunks(chunked, layout, false);
}

/** Inverse DCT of every chunk (exact inverse of `dctChunks` up to float32 rounding). */
export function idctChunks(chunked: ArrayLike<number>, layout: ChunkLayout): Float32Array {
  return transformChunks(chunked, layout, true);
}

function transformChunks(chunked: ArrayLike<number>, layout: ChunkLayout, inverse: boolean): Float32Array {
  const { h, w, totalk, chunkCount } = layout;
  const dh = dctMatrix(h);
  const dw = dctMatrix(w);
  const out = new Float32Array(chunkCount * totalk);
  const rowsDone = new Float64Array(totalk);
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const base = chunk * totalk;
    // Along rows: forward T = chunk · D_w (T[r][l] = Σ_c x[r][c]·D_w[c][l]); inverse T = X · D_wᵀ.
    for (let r = 0; r < h; r++) {
      for (let l = 0; l < w; l++) {
        let s = 0;
        for (let c = 0; c < w; c++) s += chunked[base + r * w + c]! * (inverse ? dw[l * w + c]! : dw[c * w + l]!);
        rowsDone[r * w + l] = s;
      }
    }
    // Along columns: forward X = D_hᵀ · T (X[k][l] = Σ_r D_h[r][k]·T[r][l]); inverse Y = D_h · T.
    for (let k = 0; k < h; k++) {
      for (let l = 0; l < w; l++) {
        let s = 0;
        for (let r = 0; r < h; r++) s += (inverse ? dh[k * h + r]! : dh[r * h + k]!) * rowsDone[r * w + l]!;
        out[base + k * w + l] = s;
      }
    }
  }
  return out;
}
