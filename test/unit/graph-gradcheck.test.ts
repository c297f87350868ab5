/**
 * Whole-model gradient check on the wasm EP in Node: the generated training graph's `grad.<param>`
 * outputs against float64 central finite differences of the independent reference forward
 * (src/model/reference.ts), on every parameter tensor.
 */
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelShape } from '../../src/core/config';
import { Xoshiro128 } from '../../src/core/prng';
import { buildEvaluationGraph, buildTrainingGraph, gradName, INPUT_IDS, LOSS, TARGETS } from '../../src/model/llama';
import { initParameters, parameterLayout } from '../../src/model/params';
import { finiteDifferenceGradient, referenceLoss, relativeError } from '../../src/model/reference';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

const base: ModelShape = {
  vocabSize: 32,
  dModel: 16,
  nLayers: 2,
  nHeads: 2,
  dFF: 32,
  seqLen: 8,
  activation: 'swiglu',
  positional: 'rope',
  tiedEmbeddings: true,
  normEps: 1e-5,
  // Larger than a real init so that attention and the MLP are far from linear.
  initStd: 0.3,
};
const BATCH = 2;

function randomTokens(n: number, vocab: number, seed: number): Int32Array {
  const rng = new Xoshiro128(seed);
  return Int32Array.from({ length: n }, () => rng.nextInt(vocab));
}

async function runTraining(shape: ModelShape, theta: Float32Array, ids: Int32Array, targets: Int32Array) {
  const graph = buildTrainingGraph(shape, BATCH);
  const session = await ort.InferenceSession.create(graph.bytes, { executionProviders: ['wasm'] });
  try {
    const feeds: Record<string, ort.Tensor> = {
      [INPUT_IDS]: new ort.Tensor('int32', ids, [BATCH, shape.seqLen]),
      [TARGETS]: new ort.Tensor('int32', targets, [BATCH, shape.seqLen]),
    };
    for (const spec of graph.params) {
      feeds[spec.name] = new ort.Tensor('float32', theta.slice(spec.offset, spec.offset + spec.size), spec.shape);
    }
    const out = await session.run(feeds);
    const grads = new Map<string, Float32Array>();
    for (const spec of graph.params) grads.set(spec.name, out[gradName(spec.name)]?.data as Float32Array);
    return { loss: (out[LOSS]?.data as Float32Array)[0] ?? NaN, grads, nodeCount: graph.nodeCount };
  } finally {
    await session.release();
  }
}

const variants: [string, ModelShape][] = [
  ['swiglu + rope + tied', base],
  ['gelu + learned positions + untied head', { ...base, activation: 'gelu', positional: 'learned', tiedEmbeddings: false }],
];

describe.each(variants)('training graph gradients (%s)', (_label, shape) => {
  it('match float64 finite differences on every parameter tensor (rel. error ≤ 1e-4)', async () => {
    const theta = initParameters(shape, 11);
    // Perturb the RMSNorm gains away from 1 so their gradients are exercised in general position.
    const rng = new Xoshiro128(5);
    for (const spec of parameterLayout(shape)) {
      if (spec.init === 'ones') for (let i = 0; i < spec.size; i++) theta[spec.offset + i] = 1 + 0.3 * rng.nextGaussian();
    }
    const n = BATCH * shape.seqLen;
    const ids = randomTokens(n, shape.vocabSize, 1);
    const targets = randomTokens(n, shape.vocabSize, 2);
    const { loss, grads } = await runTraining(shape, theta, ids, targets);

    const theta64 = Float64Array.from(theta);
    const refLoss = referenceLoss(shape, theta64, ids, targets, BATCH);
    expect(Math.abs(loss - refLoss) / refLoss).toBeLessThan(1e-5);

    const fd = finiteDifferenceGradient(shape, theta64, ids, targets, BATCH);
    const flat = new Float32Array(theta.length);
    for (const spec of parameterLayout(shape)) flat.set(grads.get(spec.name) ?? new Float32Array(spec.size).fill(NaN), spec.offset);
    for (const spec of parameterLayout(shape)) {
      expect(fd.subarray(spec.offset, spec.offset + spec.size).some((x) => x !== 0), `${spec.name}: zero gradient, vacuous check`).toBe(true);
      expect(relativeError(flat, fd, spec.offset, spec.size), spec.name).toBeLessThan(1e-4);
    }
  }, 180_000);
});

describe('evaluation graph', () => {
  it('gives the same loss as the training graph and the reference, with no gradient outputs', async () => {
    const shape = base;
    const theta = initParameters(shape, 3);
    const n = BATCH * shape.seqLen;
    const ids = randomTokens(n, shape.vocabSize, 8);
    const targets = randomTokens(n, shape.vocabSize, 9);
    const graph = buildEvaluationGraph(shape, BATCH);
    expect(graph.model.graph?.output?.map((o) => o.name)).toEqual([LOSS]);
    const session = await ort.InferenceSession.create(graph.bytes, { executionProviders: ['wasm'] });
    const feeds: Record<string, ort.Tensor> = {
      [INPUT_IDS]: new ort.Tensor('int32', ids, [BATCH, shape.seqLen]),
      [TARGETS]: new ort.Tensor('int32', targets, [BATCH, shape.seqLen]),
    };
    for (const spec of graph.params) feeds[spec.name] = new ort.Tensor('float32', theta.slice(spec.offset, spec.offset + spec.size), spec.shape);
    const out = await session.run(feeds);
    await session.release();
    const evalLoss = (out[LOSS]?.data as Float32Array)[0]!;
    const { loss } = await runTraining(shape, theta, ids, targets);
    expect(evalLoss).toBeCloseTo(loss, 6);
    const refLoss = referenceLoss(shape, Float64Array.from(theta), ids, targets, BATCH);
    expect(Math.abs(evalLoss - refLoss) / refLoss).toBeLessThan(1e-5);
    // Near-uniform predictions at a small init: the loss is close to log(V) (hand value).
    expect(Math.abs(refLoss - Math.log(shape.vocabSize))).toBeLessThan(0.5);
  });
});
