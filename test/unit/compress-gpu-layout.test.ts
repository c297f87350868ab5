import { describe, expect, it } from 'vitest';
import { clipToMedian } from '../../src/core/aggregate.ts';
import { dequantizeTensor, encodeTensor } from '../../src/core/compress/codec.ts';
import { CompressionError } from '../../src/core/compress/errors.ts';
import {
  clippedValueTables,
  encodedTensorFromPacked,
  float64Words,
  gpuCompressionPlan,
  tensorLayoutWords,
  writePackedTensor,
} from '../../src/core/compress/gpu-layout.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { gaussianArray } from '../../src/core/prng.ts';

const compression: CompressionConfig = {
  codec: 'sparseloco',
  targetChunk: 4,
  topk: 4,
  quantizationBins: 4,
  quantizationRange: 6,
  errorFeedbackDecay: 0.9,
  outerLr: 1,
};
// 8×12: chunks 4×4, 2×3 = 6 chunks, k = 4 → 24 entries, 36 index bytes (9 words), 6 code bytes (2 words).
// 6: 1-D, w = 3, two chunks, dense k = 2 → 4 entries, 6 index bytes (2 words), 1 code byte (1 word).
const layout = [
  { name: 'a', shape: [8, 12], offset: 0 },
  { name: 'b', shape: [6], offset: 96 },
];

describe('gpuCompressionPlan', () => {
  it('places each tensor’s index and code blocks in whole words, as computed by hand', () => {
    const plan = gpuCompressionPlan(layout, compression);
    const [a, b] = plan.tensors;
    expect([a!.entryOffset, a!.entryCount, a!.indexWordOffset, a!.indexBytes, a!.codeWordOffset, a!.codeBytes]).toEqual([0, 24, 0, 36, 9, 6]);
    expect([b!.entryOffset, b!.entryCount, b!.indexWordOffset, b!.indexBytes, b!.codeWordOffset, b!.codeBytes]).toEqual([24, 4, 11, 6, 13, 1]);
    expect([plan.totalEntries, plan.packedWords, plan.maxTensorSize, plan.paramCount, plan.codeBits]).toEqual([28, 14, 96, 102, 2]);
  });

  it('refuses a k the GPU top-k cannot hold', () => {
    const wide = { ...compression, targetChunk: 64, topk: 2048 };
    expect(() => gpuCompressionPlan([{ name: 'w', shape: [64, 64], offset: 0 }], wide)).toThrow(CompressionError);
  });

  it('writes the uniform struct in the WGSL field order', () => {
    const plan = gpuCompressionPlan(layout, compression);
    const words = Array.from(tensorLayoutWords(plan.tensors[1]!, 1, 4, 2, 1, 7));
    // offset, cols, h, w, chunk_cols, chunk_count, totalk, k, entry, index word, code word, tensor, bins, bits, 1.0 (hi, lo), table
    expect(words.slice(0, 17)).toEqual([96, 6, 1, 3, 2, 2, 3, 2, 24, 11, 13, 1, 4, 2, 0x3ff00000, 0, 7]);
  });
});

describe('float64Words', () => {
  it('splits binary64 bits as IEEE 754 defines them', () => {
    expect(float64Words(1)).toEqual([0x3ff00000, 0]);
    expect(float64Words(-2)).toEqual([0xc0000000, 0]);
    // 0.1 = 0x3FB999999999999A
    expect(float64Words(0.1)).toEqual([0x3fb99999, 0x9999999a]);
  });
});

describe('packed blocks', () => {
  it('round-trip through the word buffer the GPU reads and writes', () => {
    const plan = gpuCompressionPlan(layout, compression);
    const x = gaussianArray(102, 4);
    const encoded = layout.map((s, t) => encodeTensor(s, x.subarray(s.offset, s.offset + plan.tensors[t]!.chunks.size), compression));
    const words = new Uint32Array(plan.packedWords);
    plan.tensors.forEach((t, i) => writePackedTensor(t, encoded[i]!, words, plan.codeBits));
    plan.tensors.forEach((t, i) => {
      const e = encoded[i]!;
      const row = new Float32Array([e.quant.shift, e.quant.scale, ...e.quant.lookup]);
      const back = encodedTensorFromPacked(t, words, row, plan.codeBits);
      expect(Array.from(back.indices)).toEqual(Array.from(e.indices));
      expect(Array.from(back.codes)).toEqual(Array.from(e.codes));
      expect(back.quant.shift).toBe(e.quant.shift);
    });
  });
});

describe('clippedValueTables', () => {
  it('gives each code the value clipToMedian gives the dequantised entries', () => {
    const spec = layout[0]!;
    const tensors = [0.1, 3, 1].map((std, p) => encodeTensor(spec, gaussianArray(96, 10 + p, std), compression));
    const { tables, medianNorm } = clippedValueTables(tensors);
    tensors.forEach((t, p) => {
      const clipped = clipToMedian(dequantizeTensor(t), medianNorm);
      t.codes.forEach((q, i) => expect(tables[p]![q]).toBe(clipped[i]));
    });
    // The largest peer is scaled down, the smallest is not.
    expect(tables[1]![0]).not.toBe(Math.fround(tensors[1]!.quant.lookup[0]! + tensors[1]!.quant.shift));
    expect(tables[0]![0]).toBe(Math.fround(tensors[0]!.quant.lookup[0]! + tensors[0]!.quant.shift));
  });
});
