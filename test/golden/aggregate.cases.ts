import { outerStep, type PeerSubmission } from '../../src/core/aggregate.ts';
import { encodeTensor } from '../../src/core/compress/index.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { gaussianArray } from '../../src/core/prng.ts';
import { sha256Hex, type GoldenCases } from './golden.ts';

const sparseLoCo: CompressionConfig = { ...smallRunConfig().compression, targetChunk: 32, topk: 16 };
const layout = [
  { name: 'attn', shape: [64, 64], offset: 0 },
  { name: 'mlp', shape: [64, 96], offset: 4096 },
  { name: 'norm', shape: [64], offset: 10240 },
];
const size = 10304;

function peers(compression: CompressionConfig, uids: number[]): PeerSubmission[] {
  return uids.map((uid) => ({
    uid,
    tensors: layout.map((spec, t) => encodeTensor(spec, gaussianArray(spec.shape.reduce((a, b) => a * b), 1000 * uid + t, 1e-3 * (1 + (uid % 4))), compression)),
  }));
}

function step(compression: CompressionConfig, uids: number[]): unknown {
  const params = gaussianArray(size, 7, 0.02);
  const result = outerStep(params, layout, peers(compression, uids), compression);
  return { params: sha256Hex(params), medianNorms: result.medianNorms, uids: result.uids, skipped: result.skippedTensors };
}

const cases: GoldenCases = {
  'sparseloco outer step, 5 peers': () => step(sparseLoCo, [7, 2, 30, 11, 5]),
  'dct-sign outer step, 3 peers': () => step({ ...sparseLoCo, codec: 'dct-sign', quantizationBins: 256, outerLr: 1e-3 }, [4, 1, 9]),
};

export default cases;
