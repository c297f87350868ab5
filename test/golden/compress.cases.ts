import {
  chunkLayout,
  chunkSize,
  compressErrorFeedback,
  accumulateErrorFeedback,
  dctChunks,
  decodeTensor,
  encodeTensor,
  idctChunks,
  pack12,
  packCodes,
  toChunks,
  type EncodedTensor,
} from '../../src/core/compress/index.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { gaussianArray, Xoshiro128 } from '../../src/core/prng.ts';
import { hex, sha256Hex, type GoldenCases } from './golden.ts';

const sparseLoCo: CompressionConfig = smallRunConfig().compression;
const dctSign: CompressionConfig = { ...sparseLoCo, codec: 'dct-sign', topk: 32, quantizationBins: 256 };

/** A compact, exact summary of an encoded tensor. */
export function encodedSummary(t: EncodedTensor): unknown {
  return { k: t.k, indices: sha256Hex(t.indices), codes: sha256Hex(t.codes), shift: t.quant.shift, scale: t.quant.scale, lookup: sha256Hex(t.quant.lookup) };
}

const cases: GoldenCases = {
  'chunkSize of 1…200 for target 64': () => Array.from({ length: 200 }, (_, i) => chunkSize(i + 1, 64)),
  'chunk layouts of model-like shapes': () =>
    [[256, 320], [320, 320], [320, 896], [896, 320], [320], [256, 96], [48, 100]].map((shape) => chunkLayout(shape, sparseLoCo)),
  'sparseloco encode 192×128': () => encodedSummary(encodeTensor({ name: 'w', shape: [192, 128] }, gaussianArray(192 * 128, 31, 0.01), sparseLoCo)),
  'sparseloco encode → decode 96×160': () => {
    const spec = { name: 'w', shape: [96, 160] };
    return sha256Hex(decodeTensor(encodeTensor(spec, gaussianArray(96 * 160, 32), sparseLoCo), sparseLoCo));
  },
  'dct-sign encode → decode 64×128': () => {
    const spec = { name: 'w', shape: [64, 128] };
    const encoded = encodeTensor(spec, gaussianArray(64 * 128, 33), dctSign);
    return { encoded: encodedSummary(encoded), decoded: sha256Hex(decodeTensor(encoded, dctSign)) };
  },
  'dct and inverse of 48×40 chunks': () => {
    const layout = chunkLayout([96, 80], { ...sparseLoCo, targetChunk: 48 });
    const forward = dctChunks(toChunks(gaussianArray(96 * 80, 34), layout), layout);
    return { forward: sha256Hex(forward), inverse: sha256Hex(idctChunks(forward, layout)) };
  },
  'error feedback over three rounds': () => {
    const layout = [
      { name: 'w', shape: [128, 64], offset: 0 },
      { name: 'n', shape: [64], offset: 8192 },
    ];
    const e = new Float32Array(8256);
    const rounds: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      accumulateErrorFeedback(e, gaussianArray(8256, 40 + round, 1e-3), sparseLoCo.errorFeedbackDecay);
      const encoded = compressErrorFeedback(e, layout, sparseLoCo);
      rounds.push({ encoded: encoded.map(encodedSummary), residual: sha256Hex(e) });
    }
    return rounds;
  },
  'pack12 and 2-bit codes': () => {
    const rng = new Xoshiro128(35);
    const indices = Array.from({ length: 64 }, () => rng.nextInt(4096));
    const codes = Uint8Array.from({ length: 61 }, () => rng.nextInt(4));
    return { indices: hex(pack12(indices)), codes: hex(packCodes(codes, 2)) };
  },
};

export default cases;
