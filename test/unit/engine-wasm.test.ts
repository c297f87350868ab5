/**
 * The wasm TrainerEngine in Node: the loss falls on real Brown-corpus text over 100 inner steps of
 * the tiny preset, and the window lifecycle (θ0, Δ, restore, outer step, trial evaluation) holds.
 */
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCorpusTokens } from '../../src/cli/data-files';
import type { RunConfig } from '../../src/core/config';
import { batchTokens, sequenceCount } from '../../src/core/data/assignment';
import { Xoshiro128 } from '../../src/core/prng';
import { tinyRunConfig } from '../../src/core/run-config';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine';
import { TrainerInputError, TrainerNotReadyError, type TokenBatch, type TrainerEvent } from '../../src/model/engine.ts';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

function corpusBatches(config: RunConfig, count: number, seed: number): TokenBatch[] {
  const { tokens } = buildCorpusTokens();
  const { seqLen } = config.model;
  const total = sequenceCount(tokens.length, seqLen);
  const rng = new Xoshiro128(seed);
  return Array.from({ length: count }, () =>
    batchTokens(tokens, Array.from({ length: config.inner.batchSize }, () => rng.nextInt(total)), seqLen),
  );
}

describe('WasmTrainerEngine', () => {
  it('loss falls over 100 inner steps of the tiny preset on Brown text', async () => {
    const config = tinyRunConfig();
    const engine = new WasmTrainerEngine(ort);
    await engine.init(config);
    const train = corpusBatches(config, 100, 1);
    const heldOut = corpusBatches(config, 4, 2);
    const before = await engine.evalLoss(heldOut);
    const events: TrainerEvent[] = [];
    const result = await engine.trainInner(train, 100, (e) => events.push(e));
    const after = await engine.evalLoss(heldOut);
    await engine.dispose();

    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    // Untrained byte model: ≈ ln 256 = 5.55 (hand value).
    expect(Math.abs(mean(before) - Math.log(256))).toBeLessThan(0.2);
    expect(result.losses).toHaveLength(100);
    expect(mean(result.losses.slice(-10))).toBeLessThan(mean(result.losses.slice(0, 10)) - 1);
    expect(mean(after)).toBeLessThan(mean(before) - 1);
    expect(events.filter((e) => e.kind === 'inner-step')).toHaveLength(100);
    expect(events.at(-1)?.kind).toBe('inner-done');
  }, 180_000);

  it('pseudo-gradient restores θ0, and trial/outer updates move θ as θ − update', async () => {
    const config = tinyRunConfig();
    const engine = new WasmTrainerEngine(ort);
    await engine.init(config);
    const batches = corpusBatches(config, 3, 3);
    const theta0 = await engine.exportParams();
    await engine.trainInner(batches, 3);
    const thetaH = await engine.exportParams();
    const lossAtH = await engine.evalLoss(batches.slice(0, 1));
    const delta = await engine.pseudoGradient();
    expect(await engine.exportParams()).toEqual(theta0);
    for (let i = 0; i < delta.length; i += 997) expect(delta[i]).toBe(Math.fround(theta0[i]! - thetaH[i]!));
    // θ0 − Δ = θ_H up to one rounding per element, so the trial loss equals the loss at θ_H.
    const trial = await engine.evalLoss(batches.slice(0, 1), delta);
    expect(trial[0]).toBeCloseTo(lossAtH[0]!, 4);
    expect(await engine.exportParams()).toEqual(theta0);
    await engine.applyOuter(delta);
    const after = await engine.exportParams();
    for (let i = 0; i < after.length; i += 997) expect(after[i]).toBeCloseTo(thetaH[i]!, 6);
    await engine.dispose();
  });

  it('rejects bad input with typed errors', async () => {
    const config = tinyRunConfig();
    const engine = new WasmTrainerEngine(ort);
    await expect(engine.exportParams()).rejects.toBeInstanceOf(TrainerNotReadyError);
    await engine.init(config);
    const good = corpusBatches(config, 1, 4);
    await expect(engine.trainInner(good, 2)).rejects.toBeInstanceOf(TrainerInputError);
    const short: TokenBatch = { inputs: new Int32Array(3), targets: new Int32Array(3) };
    await expect(engine.evalLoss([short])).rejects.toBeInstanceOf(TrainerInputError);
    const outOfVocab: TokenBatch = { inputs: good[0]!.inputs.map(() => 300), targets: good[0]!.targets };
    await expect(engine.trainInner([outOfVocab], 1)).rejects.toBeInstanceOf(TrainerInputError);
    await expect(engine.applyOuter(new Float32Array(5))).rejects.toBeInstanceOf(TrainerInputError);
    await engine.dispose();
    await expect(engine.pseudoGradient()).rejects.toBeInstanceOf(TrainerNotReadyError);
  });
});
