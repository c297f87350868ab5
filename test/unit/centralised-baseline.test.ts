/**
 * The centralised AdamW baseline (issue #10) on the wasm EP with the tiny preset: it trains exactly
 * the sequences the real miners of a distributed run train (checked against the miners' own
 * `sampleDigest` receipts), as many tokens as they do, and its loss on the shared evaluation set
 * goes down window after window.
 */
import * as ort from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { sequenceCount } from '../../src/core/data/assignment.ts';
import type { InnerOptimizerState } from '../../src/model/engine.ts';
import { sampleDigest } from '../../src/core/data/digest.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import { honest } from '../../src/peer/behaviours.ts';
import {
  CentralisedBaselineError,
  centralisedWindowBatches,
  dataParallelConfig,
  dataParallelWindowBatches,
  evaluationBatches,
  evaluationLoss,
  regroupEvaluation,
  tokensPerWindow,
  trainCentralisedBaseline,
  trainDataParallelBaseline,
  trainCentralisedWindow,
  trainDataParallelWindow,
  trainDenseDiLoCoWindow,
} from '../../src/peer/centralised-baseline.ts';
import { Simulation } from './sim-harness.ts';

const FIRST_WINDOW = 2;
const WINDOWS = 3;
const config = tinyRunConfig();

const disposers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const dispose of disposers) await dispose();
});

async function freshEngine(): Promise<WasmTrainerEngine> {
  ort.env.wasm.numThreads = 1;
  const engine = new WasmTrainerEngine(ort);
  await engine.init(config);
  disposers.push(() => engine.dispose());
  return engine;
}

describe('centralised AdamW baseline', () => {
  it('trains the miners’ own sequences at equal tokens and its evaluation loss falls every window', async () => {
    // The distributed side: two honest miners running the real miner loop (no validator needed).
    const sim = await Simulation.create(config, [honest(), honest()]);
    disposers.push(() => sim.dispose());
    for (let w = FIRST_WINDOW; w < FIRST_WINDOW + WINDOWS; w++) await sim.runWindow(w, false);
    const minerUids = sim.peers.map((p) => p.uid);
    const distributedTokens = sim.events
      .filter((e) => e.kind === 'miner-trained')
      .reduce((sum, e) => sum + e.steps * config.inner.batchSize * config.model.seqLen, 0);

    const evaluation = evaluationBatches(config, sim.tokens);
    const engine = await freshEngine();
    const result = await trainCentralisedBaseline({ config, engine, tokens: sim.tokens, minerUids, firstWindow: FIRST_WINDOW, windows: WINDOWS, evaluation });

    expect(result.totalTokens).toBe(distributedTokens);
    expect(result.totalTokens).toBe(WINDOWS * tokensPerWindow(config, minerUids.length));
    expect(result.windows.map((w) => w.steps)).toEqual(Array<number>(WINDOWS).fill(minerUids.length * config.inner.innerSteps));

    // Same data: split each window's baseline batches back by miner (step-major order) and compare
    // with the digest every miner announced for what it trained.
    const total = sequenceCount(sim.tokens.length, config.model.seqLen);
    for (let w = FIRST_WINDOW; w < FIRST_WINDOW + WINDOWS; w++) {
      const steps = centralisedWindowBatches(config, total, minerUids, w);
      minerUids.forEach((uid, i) => {
        const ids = steps.filter((_, k) => k % minerUids.length === i).flat();
        const announced = sim.events.find((e) => e.kind === 'miner-assignment' && e.uid === uid && e.window === w);
        expect(announced?.kind === 'miner-assignment' ? announced.trainedDigest : undefined).toBe(sampleDigest(ids));
      });
    }

    const losses = [result.initialEvaluationLoss, ...result.windows.map((w) => w.evaluationLoss)];
    console.log(`baseline evaluation loss by window: ${losses.map((l) => l.toFixed(4)).join(' → ')}`);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]!);
  }, 300_000);

  it('draws one evaluation set for a seed, measured identically on another engine at the same θ', async () => {
    const { tokens } = loadAllTokens();
    const a = evaluationBatches(config, tokens, 7, 2);
    const b = evaluationBatches(config, tokens, 7, 2);
    const c = evaluationBatches(config, tokens, 8, 2);
    expect(a.sequenceIds).toEqual(b.sequenceIds);
    expect(new Set(a.sequenceIds).size).toBe(2 * config.inner.batchSize);
    expect(a.sequenceIds).not.toEqual(c.sequenceIds);
    const [first, second] = [await freshEngine(), await freshEngine()];
    expect(await evaluationLoss(first, a)).toBe(await evaluationLoss(second, b));
  }, 120_000);

  it('trains only the batches of the uids that trained in each window when told (equal tokens when peers miss windows)', async () => {
    const { tokens } = loadAllTokens();
    const evaluation = evaluationBatches(config, tokens, 7, 1);
    const trainersAt = (window: number): number[] => (window === FIRST_WINDOW ? [2, 3] : window === FIRST_WINDOW + 1 ? [] : [3]);
    const result = await trainCentralisedBaseline({ config, engine: await freshEngine(), tokens, minerUids: [2, 3], trainersAt, firstWindow: FIRST_WINDOW, windows: 3, evaluation });
    expect(result.windows.map((w) => w.steps)).toEqual([2, 0, 1].map((peers) => peers * config.inner.innerSteps));
    expect(result.totalTokens).toBe(tokensPerWindow(config, 3));
    // A window nobody trained leaves θ, and so the evaluation loss, as it was.
    expect(result.windows[1]!.evaluationLoss).toBe(result.windows[0]!.evaluationLoss);
    expect(Number.isNaN(result.windows[1]!.meanTrainLoss)).toBe(true);
    expect(result.windows[2]!.evaluationLoss).not.toBe(result.windows[1]!.evaluationLoss);
  }, 120_000);

  it('the data-parallel baseline over windows: H steps each, θ and the AdamW state handed to a wider engine when more peers train', async () => {
    const { tokens } = loadAllTokens();
    const evaluation = evaluationBatches(config, tokens, 7, 2);
    const createEngine = async (engineConfig: RunConfig, params?: Float32Array, optimizerState?: InnerOptimizerState): Promise<WasmTrainerEngine> => {
      ort.env.wasm.numThreads = 1;
      const engine = new WasmTrainerEngine(ort);
      await engine.init(engineConfig, params, optimizerState === undefined ? {} : { optimizerState });
      disposers.push(() => engine.dispose());
      return engine;
    };
    // Two peers, nobody, one, three: H steps whenever anyone trained, and exactly their sequences' tokens.
    const plan: Record<number, number[]> = { [FIRST_WINDOW]: [2, 3], [FIRST_WINDOW + 1]: [], [FIRST_WINDOW + 2]: [3], [FIRST_WINDOW + 3]: [2, 3, 4] };
    const trainersAt = (window: number): number[] => plan[window] ?? [];
    const result = await trainDataParallelBaseline({ config, tokens, minerUids: [2, 3, 4], trainersAt, firstWindow: FIRST_WINDOW, windows: 4, evaluation, createEngine });
    const { innerSteps } = config.inner;
    expect(result.windows.map((w) => w.steps)).toEqual([innerSteps, 0, innerSteps, innerSteps]);
    expect(result.totalTokens).toBe(tokensPerWindow(config, 2 + 0 + 1 + 3));
    expect(result.windows[1]!.evaluationLoss).toBe(result.windows[0]!.evaluationLoss);

    // The same windows by hand: one engine per width, each starting where the last one stopped.
    const two = await createEngine(dataParallelConfig(config, 2));
    await trainDataParallelWindow(two, config, tokens, [2, 3], FIRST_WINDOW);
    const one = await createEngine(dataParallelConfig(config, 1), await two.exportParams(), await two.exportOptimizerState());
    await trainDataParallelWindow(one, config, tokens, [3], FIRST_WINDOW + 2);
    const three = await createEngine(dataParallelConfig(config, 3), await one.exportParams(), await one.exportOptimizerState());
    await trainDataParallelWindow(three, config, tokens, [2, 3, 4], FIRST_WINDOW + 3);
    expect(result.windows[3]!.evaluationLoss).toBe(await evaluationLoss(three, regroupEvaluation(evaluation, 3)));
    // Without the hand-over (a fresh three-peer engine on the last window) the loss is another one.
    const fresh = await createEngine(dataParallelConfig(config, 3));
    await trainDataParallelWindow(fresh, config, tokens, [2, 3, 4], FIRST_WINDOW + 3);
    expect(await evaluationLoss(fresh, regroupEvaluation(evaluation, 3))).not.toBe(result.windows[3]!.evaluationLoss);
    expect(result.windows[3]!.evaluationLoss).toBeLessThan(result.initialEvaluationLoss);
  }, 180_000);

  it('data-parallel AdamW: H steps per window over the same sequences, each step the union of the peers’ batches of that inner step', async () => {
    const { tokens } = loadAllTokens();
    const total = sequenceCount(tokens.length, config.model.seqLen);
    const uids = [2, 3, 4, 5];
    const dataParallel = dataParallelWindowBatches(config, total, uids, FIRST_WINDOW);
    const smallBatch = centralisedWindowBatches(config, total, uids, FIRST_WINDOW);
    expect(dataParallel).toHaveLength(config.inner.innerSteps);
    // Step s holds the small-batch baseline's steps s·peers … s·peers + peers − 1 (step-major), in the same order.
    dataParallel.forEach((ids, s) => expect(ids).toEqual(smallBatch.slice(s * uids.length, (s + 1) * uids.length).flat()));
    expect(dataParallelConfig(config, 4).inner.batchSize).toBe(4 * config.inner.batchSize);
    expect(() => dataParallelConfig(config, 0)).toThrow(CentralisedBaselineError);

    // The evaluation set regrouped for the larger batch: the same sequences and, within float rounding, the same mean loss.
    const evaluation = evaluationBatches(config, tokens, 7, 4);
    const dpEngine = new WasmTrainerEngine(ort);
    await dpEngine.init(dataParallelConfig(config, 4));
    disposers.push(() => dpEngine.dispose());
    expect(Math.abs((await evaluationLoss(dpEngine, regroupEvaluation(evaluation, 4))) - (await evaluationLoss(await freshEngine(), evaluation)))).toBeLessThan(1e-5);
    // A group that does not divide the set's batch count lays the set out again until it does: every sequence counts
    // as often as the others (here the 4 batches 3 times over, in 4 batches of 3), and the mean is still the set's.
    const dp3 = new WasmTrainerEngine(ort);
    await dp3.init(dataParallelConfig(config, 3));
    disposers.push(() => dp3.dispose());
    const regrouped3 = regroupEvaluation(evaluation, 3);
    expect(regrouped3.batches).toHaveLength(evaluation.batches.length);
    expect(Math.abs((await evaluationLoss(dp3, regrouped3)) - (await evaluationLoss(await freshEngine(), evaluation)))).toBeLessThan(1e-5);
    expect(() => regroupEvaluation(evaluation, 0)).toThrow(CentralisedBaselineError);

    // With one peer the data-parallel step is the peer's own step: the same θ, bit for bit, as the small-batch baseline.
    const [a, b] = [await freshEngine(), await freshEngine()];
    await trainDataParallelWindow(a, config, tokens, [2], FIRST_WINDOW);
    await trainCentralisedWindow(b, config, tokens, [2], FIRST_WINDOW);
    expect(await a.exportParams()).toEqual(await b.exportParams());
  }, 120_000);

  it('dense DiLoCo: every engine ends at θ0 − outerLr · mean(θ0 − θH) of the peers’ own H steps', async () => {
    const { tokens } = loadAllTokens();
    const uids = [2, 3];
    const diloco = [await freshEngine(), await freshEngine()];
    const theta0 = await diloco[0]!.exportParams();
    // Each peer's H steps alone, from theta0, on engines of their own.
    const alone = [await freshEngine(), await freshEngine()];
    const thetaH: Float32Array[] = [];
    for (const [i, engine] of alone.entries()) {
      await trainCentralisedWindow(engine, config, tokens, [uids[i]!], FIRST_WINDOW);
      thetaH.push(await engine.exportParams());
    }
    await trainDenseDiLoCoWindow(diloco, config, tokens, uids, FIRST_WINDOW);
    const [after0, after1] = [await diloco[0]!.exportParams(), await diloco[1]!.exportParams()];
    expect(after0).toEqual(after1);
    const lr = config.compression.outerLr;
    let worst = 0;
    for (let j = 0; j < theta0.length; j++) {
      const mean = (Math.fround(theta0[j]! - thetaH[0]![j]!) + Math.fround(theta0[j]! - thetaH[1]![j]!)) / 2;
      worst = Math.max(worst, Math.abs(after0[j]! - (theta0[j]! - lr * mean)));
    }
    expect(worst).toBeLessThan(1e-6);
    await expect(trainDenseDiLoCoWindow([diloco[0]!], config, tokens, uids, FIRST_WINDOW)).rejects.toThrow(CentralisedBaselineError);
  }, 120_000);

  it('rejects arguments it cannot work with, with a typed error', async () => {
    const tokens = new Uint8Array(10 * config.model.seqLen + 1);
    expect(() => evaluationBatches(config, tokens, 1, 0)).toThrow(CentralisedBaselineError);
    expect(() => evaluationBatches(config, tokens, 1, 3)).toThrow(/needs 12 sequences but the token stream holds 10/);
    const engine = await freshEngine();
    const evaluation = evaluationBatches(config, tokens, 1, 1);
    const base = { config, engine, tokens, firstWindow: 0, windows: 1, evaluation };
    await expect(trainCentralisedBaseline({ ...base, minerUids: [] })).rejects.toBeInstanceOf(CentralisedBaselineError);
    await expect(trainCentralisedBaseline({ ...base, minerUids: [2, 2] })).rejects.toThrow(/distinct/);
    await expect(trainCentralisedBaseline({ ...base, minerUids: [2], windows: 0 })).rejects.toThrow(/positive integer/);
  }, 120_000);
});
