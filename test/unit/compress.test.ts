import { describe, expect, it } from 'vitest';
import {
  accumulateErrorFeedback,
  bitsPerCode,
  chunkLayout,
  chunkSize,
  chunkTopk,
  compressErrorFeedback,
  CompressionError,
  dctChunks,
  dctMatrix,
  decodeTensor,
  dequantizeValues,
  encodeTensor,
  fromChunks,
  idctChunks,
  pack12,
  packCodes,
  pseudoGradient,
  quantizeValues,
  resetErrorFeedback,
  roundHalfEven,
  toChunks,
  topkPerChunk,
  unpack12,
  unpackCodes,
  validateCompressionConfig,
} from '../../src/core/compress/index.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { gaussianArray, Xoshiro128 } from '../../src/core/prng.ts';

const sparseLoCo = (over: Partial<CompressionConfig> = {}): CompressionConfig => ({
  codec: 'sparseloco',
  targetChunk: 64,
  topk: 64,
  quantizationBins: 4,
  quantizationRange: 6,
  errorFeedbackDecay: 0.95,
  outerLr: 1,
  ...over,
});

describe('chunkSize and k per chunk (gauntlet-spec §5.3)', () => {
  it('is the largest divisor of n not above the target', () => {
    expect(chunkSize(64, 64)).toBe(64);
    expect(chunkSize(320, 64)).toBe(64); // 5·64
    expect(chunkSize(96, 64)).toBe(48); // divisors of 96 ≤ 64: …, 32, 48
    expect(chunkSize(100, 64)).toBe(50);
    expect(chunkSize(97, 64)).toBe(1); // prime above the target
    expect(chunkSize(7, 64)).toBe(7);
    expect(chunkSize(12, 5)).toBe(4);
    expect(() => chunkSize(0, 64)).toThrow(CompressionError);
  });

  it('keeps min(topk, totalk), ≥ 2, even; scales topk for small 2-D chunks; sends 1-D densely', () => {
    const c = { topk: 64, targetChunk: 64 };
    expect(chunkTopk(4096, 2, c)).toBe(64);
    expect(chunkTopk(2048, 2, c)).toBe(32); // 64·2048/4096
    expect(chunkTopk(48 * 48, 2, c)).toBe(36); // 64·2304/4096 = 36
    expect(chunkTopk(6, 2, c)).toBe(2); // 64·6/4096 ≈ 0.09 → at least 2
    expect(chunkTopk(4096, 2, { topk: 5, targetChunk: 64 })).toBe(4); // rounded down to even
    expect(chunkTopk(64, 1, c)).toBe(64);
    expect(chunkTopk(45, 1, c)).toBe(44);
    expect(chunkTopk(32, 1, { topk: 16, targetChunk: 32 })).toBe(32);
  });

  it('refuses shapes without a usable divisor and configs whose chunks exceed 12-bit indices', () => {
    expect(() => chunkLayout([97], sparseLoCo())).toThrow(CompressionError);
    expect(() => chunkLayout([2, 3, 4], sparseLoCo())).toThrow(CompressionError);
    expect(() => validateCompressionConfig(sparseLoCo({ targetChunk: 65 }))).toThrow(CompressionError);
    expect(() => validateCompressionConfig(sparseLoCo({ quantizationBins: 3 }))).toThrow(CompressionError);
    expect(() => validateCompressionConfig(sparseLoCo())).not.toThrow();
  });
});

describe('chunk layout (ChunkingTransformer)', () => {
  it('views [R][C] as [R/h][C/w][h][w], row-major inside a chunk', () => {
    // 4×6 with target 3: h = 2, w = 3, a 2×2 grid of chunks.
    const layout = chunkLayout([4, 6], sparseLoCo({ targetChunk: 3 }));
    expect([layout.h, layout.w, layout.chunkRows, layout.chunkCols, layout.totalk]).toEqual([2, 3, 2, 2, 6]);
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    const chunked = toChunks(x, layout);
    expect(Array.from(chunked)).toEqual([0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11, 12, 13, 14, 18, 19, 20, 15, 16, 17, 21, 22, 23]);
    expect(Array.from(fromChunks(chunked, layout))).toEqual(Array.from(x));
  });

  it('views [N] as [N/w][w]', () => {
    const layout = chunkLayout([12], sparseLoCo({ targetChunk: 4 }));
    expect([layout.h, layout.w, layout.chunkCount, layout.k]).toEqual([1, 4, 3, 4]);
    const x = Float32Array.from({ length: 12 }, (_, i) => i * 2);
    expect(Array.from(toChunks(x, layout))).toEqual(Array.from(x));
  });
});

describe('top-k per chunk', () => {
  it('orders by larger |x| first, then the lower index', () => {
    // One 2×3 chunk (target 3); k = round(6·6/9) = 4.
    const layout = chunkLayout([2, 3], sparseLoCo({ targetChunk: 3, topk: 6 }));
    expect(layout.k).toBe(4);
    const sel = topkPerChunk(new Float32Array([1, -3, 3, 2, -3, 0.5]), layout);
    expect(Array.from(sel.indices)).toEqual([1, 2, 4, 3]);
    expect(Array.from(sel.values)).toEqual([-3, 3, -3, 2]);
  });

  it('refuses non-finite input', () => {
    const layout = chunkLayout([4], sparseLoCo({ targetChunk: 4 }));
    expect(() => topkPerChunk(new Float32Array([1, NaN, 0, 0]), layout)).toThrow(CompressionError);
  });
});

describe('2-bit quantisation (gauntlet-spec §5.3)', () => {
  it('rounds half to even', () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, -0, -2, -2, 2, 3]);
  });

  it('puts values on the round-half-even bin boundaries where the spec says', () => {
    // ±0.5 twice, ±1.5 six times, 48 zeros, all shifted by 10: mean 10, Σc² = 28, n − 1 = 63,
    // std = 2/3, scale = 6·std/4 = 1. c/scale + 2: 0.5→2.5→2, −0.5→1.5→2, 1.5→3.5→4→3, −1.5→0.5→0.
    const c = [0.5, -0.5, 0.5, -0.5, ...Array<number>(6).fill(1.5), ...Array<number>(6).fill(-1.5), ...Array<number>(48).fill(0)];
    const values = Float32Array.from(c, (v) => v + 10);
    const { codes, params } = quantizeValues(values, 4, 6);
    expect(params.shift).toBe(10);
    expect(params.scale).toBe(1);
    const expectedCode = (v: number) => (v === 1.5 ? 3 : v === -1.5 ? 0 : 2);
    expect(Array.from(codes)).toEqual(c.map(expectedCode));
    expect(Array.from(params.lookup)).toEqual([-1.5, 0, 0, 1.5]); // bin 1 is empty → 0; bin 2 holds ±0.5 and zeros
    expect(Array.from(dequantizeValues(codes, params).subarray(0, 6))).toEqual([10, 10, 10, 10, 11.5, 11.5]);
  });

  it('makes each lookup entry the mean of its bin', () => {
    // mean 0, Σc² = 20, std = √(20/5) = 2, scale = 3; c/3 + 2: −3→1, −1→1.67→2, 0→2, 1→2.33→2, 3→3.
    const { codes, params } = quantizeValues(new Float32Array([-3, -1, 0, 0, 1, 3]), 4, 6);
    expect(params.scale).toBe(3);
    expect(Array.from(codes)).toEqual([1, 2, 2, 2, 2, 3]);
    expect(Array.from(params.lookup)).toEqual([0, -3, 0, 3]);
  });

  it('uses scale 1 when the spread is zero or undefined', () => {
    expect(quantizeValues(new Float32Array([2, 2, 2]), 4, 6).params.scale).toBe(1);
    expect(quantizeValues(new Float32Array([5]), 4, 6).params.scale).toBe(1);
  });
});

describe('packing', () => {
  it('packs 12-bit index pairs in the spec byte layout', () => {
    // a = 0x123, b = 0xABC → [0x23, 0x01 | 0xC << 4, 0xAB]
    expect(Array.from(pack12([0x123, 0xabc]))).toEqual([0x23, 0xc1, 0xab]);
    expect(Array.from(pack12([4095, 0]))).toEqual([0xff, 0x0f, 0x00]);
    const rng = new Xoshiro128(7);
    const idx = Array.from({ length: 200 }, () => rng.nextInt(4096));
    expect(Array.from(unpack12(pack12(idx), 200))).toEqual(idx);
    expect(() => pack12([1, 2, 3])).toThrow(CompressionError);
    expect(() => pack12([4096, 0])).toThrow(CompressionError);
  });

  it('packs four 2-bit codes per byte, code i in bits 2·(i mod 4)', () => {
    // 1 | 2<<2 | 3<<4 | 0<<6 = 0x39; then 3
    expect(Array.from(packCodes(new Uint8Array([1, 2, 3, 0, 3]), 2))).toEqual([0x39, 0x03]);
    expect(Array.from(packCodes(new Uint8Array([0xab, 0x01]), 8))).toEqual([0xab, 0x01]);
    const rng = new Xoshiro128(8);
    const codes = Uint8Array.from({ length: 101 }, () => rng.nextInt(4));
    expect(Array.from(unpackCodes(packCodes(codes, 2), 101, 2))).toEqual(Array.from(codes));
    expect(bitsPerCode(4)).toBe(2);
    expect(() => packCodes(new Uint8Array([4]), 2)).toThrow(CompressionError);
  });
});

describe('orthonormal DCT-II (paper-era TransformDCT)', () => {
  /** Independent float64 2-D DCT-II straight from the definition. */
  function dct2dDirect(x: Float32Array, h: number, w: number): number[] {
    const c = (k: number, n: number) => (k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n));
    const out: number[] = [];
    for (let k = 0; k < h; k++) {
      for (let l = 0; l < w; l++) {
        let s = 0;
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < w; j++) s += x[i * w + j]! * Math.cos((Math.PI * (2 * i + 1) * k) / (2 * h)) * Math.cos((Math.PI * (2 * j + 1) * l) / (2 * w));
        }
        out.push(c(k, h) * c(l, w) * s);
      }
    }
    return out;
  }

  it('has an orthogonal matrix', () => {
    for (const n of [1, 4, 7, 64]) {
      const d = dctMatrix(n);
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += d[i * n + a]! * d[i * n + b]!;
          expect(Math.abs(s - (a === b ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('matches the direct definition per chunk and inverts exactly', () => {
    const layout = chunkLayout([8, 12], sparseLoCo({ targetChunk: 6 })); // h = 4, w = 6
    expect([layout.h, layout.w, layout.chunkCount]).toEqual([4, 6, 4]);
    const x = gaussianArray(96, 3);
    const chunked = toChunks(x, layout);
    const transformed = dctChunks(chunked, layout);
    for (let chunk = 0; chunk < layout.chunkCount; chunk++) {
      const expected = dct2dDirect(chunked.subarray(chunk * 24, chunk * 24 + 24), 4, 6);
      expected.forEach((v, i) => expect(Math.abs(transformed[chunk * 24 + i]! - v)).toBeLessThan(1e-5));
    }
    const back = idctChunks(transformed, layout);
    back.forEach((v, i) => expect(Math.abs(v - chunked[i]!)).toBeLessThan(1e-5));
  });

  it('is the 1-D DCT for a 1-D tensor', () => {
    const layout = chunkLayout([10], sparseLoCo({ targetChunk: 5 }));
    const x = gaussianArray(10, 4);
    const t = dctChunks(toChunks(x, layout), layout);
    [0, 5].forEach((start) => dct2dDirect(x.subarray(start, start + 5), 1, 5).forEach((v, i) => expect(Math.abs(t[start + i]! - v)).toBeLessThan(1e-5)));
  });
});

describe('encode → decode', () => {
  it.each([
    { shape: [32, 48], seed: 5 },
    { shape: [48, 40], seed: 6 }, // 16×10 chunks: k scaled to round(16·160/256) = 10
    { shape: [80], seed: 7 }, // 1-D: dense
    { shape: [16, 16], seed: 8 },
  ])('keeps the top-k of every chunk and reconstructs each within its quantisation bin ($shape)', ({ shape, seed }) => {
    const compression = sparseLoCo({ targetChunk: 16, topk: 16 });
    const spec = { name: 'w', shape };
    const x = gaussianArray(shape.reduce((a, b) => a * b), seed, 0.02);
    const encoded = encodeTensor(spec, x, compression);
    const layout = chunkLayout(spec.shape, compression);
    const k = layout.k;
    expect(encoded.k).toBe(k);
    const decoded = decodeTensor(encoded, compression);
    const chunkedX = toChunks(x, layout);
    const chunkedD = toChunks(decoded, layout);
    const { scale } = encoded.quant;
    for (let chunk = 0; chunk < layout.chunkCount; chunk++) {
      const keptList = Array.from(encoded.indices.subarray(chunk * k, chunk * k + k));
      const kept = new Set(keptList);
      expect(kept.size).toBe(k);
      let minKept = Infinity;
      let maxDropped = 0;
      for (let j = 0; j < layout.totalk; j++) {
        const v = chunkedX[chunk * layout.totalk + j]!;
        const d = chunkedD[chunk * layout.totalk + j]!;
        if (kept.has(j)) {
          minKept = Math.min(minKept, Math.abs(v));
          const code = encoded.codes[chunk * k + keptList.indexOf(j)]!;
          // Interior bins are one scale wide and their lookup value lies inside the bin.
          if (code === 1 || code === 2) expect(Math.abs(d - v)).toBeLessThanOrEqual(scale * (1 + 1e-6));
        } else {
          maxDropped = Math.max(maxDropped, Math.abs(v));
          expect(d).toBe(0);
        }
      }
      expect(minKept).toBeGreaterThanOrEqual(maxDropped);
    }
  });

  it('reconstructs a dense 8-bit DCT encoding closely', () => {
    const compression: CompressionConfig = { ...sparseLoCo({ targetChunk: 8, topk: 64, quantizationBins: 256 }), codec: 'dct-sign' };
    const x = gaussianArray(16 * 8, 6);
    const decoded = decodeTensor(encodeTensor({ name: 'w', shape: [16, 8] }, x, compression), compression);
    let err = 0;
    let norm = 0;
    x.forEach((v, i) => {
      err += (v - decoded[i]!) ** 2;
      norm += v * v;
    });
    expect(Math.sqrt(err / norm)).toBeLessThan(0.02);
  });
});

describe('error feedback (gauntlet-spec §5.2)', () => {
  it('forms Δ = θ_before − θ_after and e = β·e + Δ', () => {
    expect(Array.from(pseudoGradient(new Float32Array([1, 2]), new Float32Array([0.5, 3])))).toEqual([0.5, -1]);
    const e = new Float32Array([1, 2]);
    accumulateErrorFeedback(e, new Float32Array([0.5, -1]), 0.5);
    expect(Array.from(e)).toEqual([1, 0]);
    resetErrorFeedback(e);
    expect(Array.from(e)).toEqual([0, 0]);
  });

  it('subtracts the quantised reconstruction and leaves unsent entries untouched', () => {
    const compression = sparseLoCo({ targetChunk: 8, topk: 8 });
    const layout = [
      { name: 'a', shape: [16, 8], offset: 0 },
      { name: 'b', shape: [8], offset: 128 },
    ];
    const e = gaussianArray(136, 9);
    const before = e.slice();
    const encoded = compressErrorFeedback(e, layout, compression);
    for (const [t, spec] of layout.entries()) {
      const sent = decodeTensor(encoded[t]!, compression);
      const size = sent.length;
      for (let i = 0; i < size; i++) {
        const at = spec.offset + i;
        if (sent[i] === 0) expect(e[at]).toBe(before[at]);
        else expect(e[at]).toBe(Math.fround(before[at]! - sent[i]!));
      }
    }
    // The 1-D tensor is sent densely: every entry changed or was reconstructed exactly.
    expect(encoded[1]!.k).toBe(8);
  });
});
