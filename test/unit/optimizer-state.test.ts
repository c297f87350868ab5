/**
 * The inner AdamW state across a resume (gauntlet-spec §5.1: Templar v2.1.3 keeps one optimiser and
 * scheduler for the whole run, offloaded between windows, never reset). A wasm engine rebuilt from
 * θ plus `exportOptimizerState()` after two windows computes the very same third-window
 * pseudo-gradient, bit for bit, as the engine that never stopped; rebuilt from θ alone it does not.
 */
import * as ort from 'onnxruntime-web';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/core/config';
import { Xoshiro128 } from '../../src/core/prng';
import { tinyRunConfig } from '../../src/core/run-config';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine';
import { parameterCount } from '../../src/model/params';
import { TrainerInputError, type InnerOptimizerState, type TokenBatch } from '../../src/model/engine.ts';
import { bitsOf } from './float-bits';
import { innerLearningRate } from '../../src/core/inner-lr';

const engines: WasmTrainerEngine[] = [];

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.dispose();
});

async function engineOn(config: RunConfig, params?: Float32Array, optimizerState?: InnerOptimizerState): Promise<WasmTrainerEngine> {
  const engine = new WasmTrainerEngine(ort);
  await engine.init(config, params, optimizerState === undefined ? {} : { optimizerState });
  engines.push(engine);
  return engine;
}

function windowBatches(config: RunConfig, window: number): TokenBatch[] {
  const rng = new Xoshiro128(1000 + window);
  const n = config.inner.batchSize * config.model.seqLen;
  const draw = (): Int32Array => Int32Array.from({ length: n }, () => rng.nextInt(config.model.vocabSize));
  return Array.from({ length: config.inner.innerSteps }, () => ({ inputs: draw(), targets: draw() }));
}

/** One miner window on the engine: H inner steps, Δ (θ restored to θ0), then an outer step of −½Δ. */
async function window(engine: WasmTrainerEngine, config: RunConfig, w: number): Promise<Float32Array> {
  await engine.trainInner(windowBatches(config, w), config.inner.innerSteps);
  const delta = await engine.pseudoGradient();
  await engine.applyOuter(delta.map((d) => d / 2));
  return delta;
}


describe('inner optimiser state across a resume', () => {
  it('a resumed engine gives the uninterrupted engine’s next window bit for bit; without the state it does not', async () => {
    const config = tinyRunConfig();
    const running = await engineOn(config);
    for (const w of [0, 1]) await window(running, config, w);
    const params = await running.exportParams();
    const saved = await running.exportOptimizerState();
    expect(saved.schedulerSteps).toBe(2 * config.inner.innerSteps);
    expect(saved.expAvgSq.some((v) => v > 0)).toBe(true);

    const uninterrupted = await window(running, config, 2);
    const resumed = await window(await engineOn(config, params, saved), config, 2);
    const fresh = await window(await engineOn(config, params), config, 2);

    expect(bitsOf(resumed)).toEqual(bitsOf(uninterrupted));
    expect(bitsOf(await running.exportParams())).toEqual(bitsOf(await engines[1]!.exportParams()));
    expect((await engines[1]!.exportOptimizerState()).schedulerSteps).toBe(3 * config.inner.innerSteps);
    // A fresh optimiser (zero moments, warm-up from step 0) takes a different step: the state matters.
    let differing = 0;
    for (let i = 0; i < fresh.length; i++) if (fresh[i] !== uninterrupted[i]) differing++;
    expect(differing).toBeGreaterThan(fresh.length / 2);
  }, 120_000);

  it('exports a copy, not the live moments', async () => {
    const config = tinyRunConfig();
    const engine = await engineOn(config);
    await window(engine, config, 0);
    const first = await engine.exportOptimizerState();
    const copy = first.expAvg.slice();
    await window(engine, config, 1);
    expect(bitsOf(first.expAvg)).toEqual(bitsOf(copy));
  }, 60_000);

  it('rejects an optimiser state that does not fit the model, keeping the working engine', async () => {
    const config = tinyRunConfig();
    const total = parameterCount(config.model);
    const engine = await engineOn(config);
    const good = await engine.exportOptimizerState();
    const cases: [string, InnerOptimizerState][] = [
      ['short moments', { ...good, expAvg: new Float32Array(total - 1) }],
      ['a negative second moment', { ...good, expAvgSq: Float32Array.from({ length: total }, (_, i) => (i === 7 ? -1 : 0)) }],
      ['a non-finite first moment', { ...good, expAvg: Float32Array.from({ length: total }, (_, i) => (i === 3 ? Number.NaN : 0)) }],
      ['a fractional step', { ...good, schedulerSteps: 1.5 }],
      ['a negative step', { ...good, schedulerSteps: -1 }],
    ];
    for (const [what, state] of cases) {
      await expect(engine.init(config, undefined, { optimizerState: state }), what).rejects.toBeInstanceOf(TrainerInputError);
    }
    // Validation runs before the old state is released: the engine still trains.
    await expect(window(engine, config, 0)).resolves.toHaveLength(total);
  }, 60_000);
});

describe('a peer that took θ from the network (issue #18)', () => {
  it('starts Adam at step 1 with fresh moments: its first update is ±lr per coordinate, as a new AdamW\'s is', async () => {
    const config = tinyRunConfig();
    const count = parameterCount(config.model);
    const schedulerSteps = 10 * config.inner.innerSteps;
    const fresh = (adamSteps: number | undefined): InnerOptimizerState => ({ schedulerSteps, ...(adamSteps === undefined ? {} : { adamSteps }), expAvg: new Float32Array(count), expAvgSq: new Float32Array(count) });
    const theta = await (await engineOn(config)).exportParams();
    const oneStep = async (state: InnerOptimizerState): Promise<Float32Array> => {
      const engine = await engineOn(config, theta, state);
      await engine.trainInner(windowBatches(config, 0).slice(0, 1), 1);
      return engine.exportParams();
    };
    const lr = innerLearningRate(config.inner, schedulerSteps);
    // AdamW, first step from zero moments: m̂ = g, v̂ = g², so θ ← θ(1 − lr·wd) − lr·g/(|g| + eps) ≈ θ(1 − lr·wd) ∓ lr.
    const stepOf = (after: Float32Array, i: number): number => Math.abs(after[i]! - theta[i]! * (1 - lr * config.inner.weightDecay));
    // (A coordinate whose gradient is within a few eps of 0 moves less; none moves more than lr, beyond float32 rounding.)
    const synced = await oneStep(fresh(0));
    let moved = 0;
    let atLr = 0;
    for (let i = 0; i < count; i++) {
      if (after(synced, i) === 0) continue;
      moved += 1;
      expect(stepOf(synced, i)).toBeLessThan(lr * 1.001);
      if (Math.abs(stepOf(synced, i) / lr - 1) < 0.01) atLr += 1;
    }
    expect(moved).toBeGreaterThan(count / 2);
    expect(atLr).toBeGreaterThan(0.9 * moved);
    // Bias-corrected as if the moments had run the whole schedule (the old behaviour): m = (1 − β1)·g, v = (1 − β2)·g² uncorrected,
    // so the same coordinates move (1 − β1)/√(1 − β2) times as far (eps aside).
    const stale = await oneStep(fresh(undefined));
    const ratio = (i: number): number => stepOf(stale, i) / stepOf(synced, i);
    const sample = Array.from({ length: 50 }, (_, k) => Math.floor((k * count) / 50)).filter((i) => Math.abs(stepOf(synced, i) / lr - 1) < 0.01);
    for (const i of sample) expect(ratio(i)).toBeCloseTo((1 - config.inner.beta1) / Math.sqrt(1 - config.inner.beta2), 1);

    function after(values: Float32Array, i: number): number {
      return values[i]! - theta[i]!;
    }
  });
});

