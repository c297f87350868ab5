/**
 * The engine-side window end (issue #5) on the wasm TrainerEngine in Node: `compressPseudoGradient`
 * is the CPU reference path the miner ran before (Δ, e ← βe + Δ, src/core/compress, e ← e − decode),
 * window after window, and `applyAggregate` leaves θ bit for bit where `applyOuter(outerUpdate(…))`
 * and the reference `outerStep` leave it, for both codecs. (The WebGPU engine is checked against the
 * same reference in test/browser/trainer-compress.spec.ts and compress-dct-sign.spec.ts.)
 */
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { outerStep, type PeerSubmission } from '../../src/core/aggregate';
import { encodeTensor } from '../../src/core/compress/codec';
import { accumulateErrorFeedback, compressErrorFeedback, pseudoGradient } from '../../src/core/compress/error-feedback';
import type { CompressionConfig, RunConfig } from '../../src/core/config';
import { gaussianArray } from '../../src/core/prng';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine';
import { parameterLayout } from '../../src/model/params';
import { outerUpdate } from '../../src/peer/miner';
import type { TokenBatch } from '../../src/model/engine.ts';
import { microRunConfig, randomBatches as randomTokenArrays } from '../browser/engine-helpers';
import { bitsOf } from './float-bits';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

/** The browser specs' micro model (≈9k parameters) with small chunks, so every codec path runs in milliseconds. */
function microConfig(compression: Partial<CompressionConfig> = {}): RunConfig {
  const base = microRunConfig();
  return { ...base, inner: { ...base.inner, innerSteps: 2 }, compression: { ...base.compression, targetChunk: 8, topk: 4, ...compression } };
}

/** `randomBatches` of the browser specs, as the engine's typed arrays. */
function randomBatches(config: RunConfig, count: number, seed: number): TokenBatch[] {
  return randomTokenArrays(config, count, seed).map((b) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) }));
}

describe('wasm engine: compressPseudoGradient and applyAggregate', () => {
  it('compresses two windows exactly as the CPU reference and restores θ0', async () => {
    const config = microConfig();
    const layout = parameterLayout(config.model);
    const engine = new WasmTrainerEngine(ort);
    const info = await engine.init(config);
    const theta0 = await engine.exportParams();
    const ef = new Float32Array(info.parameterCount);
    for (let w = 0; w < 2; w++) {
      await engine.trainInner(randomBatches(config, 2, 30 + w), 2);
      const thetaH = await engine.exportParams();
      const out = await engine.compressPseudoGradient();
      const delta = pseudoGradient(theta0, thetaH);
      expect(delta.some((x) => x !== 0)).toBe(true);
      accumulateErrorFeedback(ef, delta, config.compression.errorFeedbackDecay);
      expect(out.tensors).toEqual(compressErrorFeedback(ef, layout, config.compression));
      expect(out.readbackBytes).toBe(0);
      expect(bitsOf(await engine.exportErrorFeedback())).toEqual(bitsOf(ef));
      expect(bitsOf(await engine.exportParams())).toEqual(bitsOf(theta0));
    }
    await engine.resetErrorFeedback();
    expect((await engine.exportErrorFeedback()).every((x) => x === 0)).toBe(true);
    await engine.dispose();
  });

  for (const codec of ['sparseloco', 'dct-sign'] as const) {
    it(`applyAggregate equals applyOuter(outerUpdate) and outerStep bit for bit (${codec})`, async () => {
      const config = microConfig({ codec, outerLr: codec === 'sparseloco' ? 1 : 1e-3 });
      const layout = parameterLayout(config.model);
      const n = layout.reduce((a, s) => a + s.size, 0);
      const peers: PeerSubmission[] = [6, 2, 4].map((uid) => {
        const delta = gaussianArray(n, 70 + uid, 0.01);
        return { uid, tensors: layout.map((spec) => encodeTensor(spec, delta.subarray(spec.offset, spec.offset + spec.size), config.compression)) };
      });
      const viaAggregate = new WasmTrainerEngine(ort);
      const viaUpdate = new WasmTrainerEngine(ort);
      await viaAggregate.init(config);
      const theta0 = await viaAggregate.exportParams();
      await viaUpdate.init(config, theta0);
      const result = await viaAggregate.applyAggregate(peers);
      await viaUpdate.applyOuter(outerUpdate(n, layout, peers, config).update);
      const expected = theta0.slice();
      outerStep(expected, layout, peers, config.compression);
      const a = await viaAggregate.exportParams();
      expect(result.uids).toEqual([2, 4, 6]);
      expect(a.some((x, i) => x !== theta0[i])).toBe(true);
      expect(bitsOf(a)).toEqual(bitsOf(await viaUpdate.exportParams()));
      expect(bitsOf(a)).toEqual(bitsOf(expected));
      await viaAggregate.dispose();
      await viaUpdate.dispose();
    });
  }
});
