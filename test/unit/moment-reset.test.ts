/**
 * The run's one restart of the inner AdamW moments (`inner.resetMomentsAtStep`, issue #19): before
 * that scheduler step a miner's engine zeroes m and v and restarts their bias correction, with the
 * lr schedule going on. The defining property: a miner that crosses the step ends bit for bit where a
 * newcomer ends who joined at that step with the same θ (zero moments, `adamSteps` 0, the run's
 * scheduler step: src/peer/miner-loop.ts), and somewhere else than a run without the restart. On the
 * wasm engine, and on the WebGPU engine on Dawn where an adapter is found (SwiftShader here).
 */
import * as ortWasm from 'onnxruntime-web';
import * as ortGpu from 'onnxruntime-web/webgpu';
import { afterAll, describe, expect, it } from 'vitest';
import { DawnUnavailableError, installDawnGpu } from '../../src/cli/dawn.ts';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { batchTokens, sequenceCount } from '../../src/core/data/assignment.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { acquireGpuDevice } from '../../src/gpu/device.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import { WebGpuTrainerEngine } from '../../src/gpu/webgpu-engine.ts';
import type { InitOptions, TokenBatch, TrainerEngine } from '../../src/model/engine.ts';
import { parameterCount } from '../../src/model/params.ts';
import { bitsOf } from './float-bits.ts';

/** The first index whose bits differ, or null: a cheap message where `toEqual` on 150k entries would print a huge diff. */
function firstDifference(a: Float32Array, b: Float32Array): number | null {
  const x = bitsOf(a);
  const y = bitsOf(b);
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return null;
}

const RESET = 2;
const tiny = tinyRunConfig();
// No warm-up, so that every step moves θ by a full lr and the restart shows in the bits.
const withReset = (at: number | null): RunConfig => ({ ...tiny, inner: { ...tiny.inner, warmupSteps: 0, cosineSteps: 100, resetMomentsAtStep: at } });

const dawn = await installDawnGpu().catch((error: unknown) => {
  if (error instanceof DawnUnavailableError) return error;
  throw error;
});

const engines: TrainerEngine[] = [];
afterAll(async () => {
  for (const engine of engines.splice(0).reverse()) await engine.dispose();
});

type Make = (config: RunConfig, params?: Float32Array, options?: InitOptions) => Promise<TrainerEngine>;

const wasm: Make = async (config, params, options) => {
  ortWasm.env.wasm.numThreads = 1;
  const engine = new WasmTrainerEngine(ortWasm);
  await engine.init(config, params, options);
  engines.push(engine);
  return engine;
};

const webgpu: Make = async (config, params, options) => {
  ortGpu.env.wasm.numThreads = 1;
  const engine = new WebGpuTrainerEngine(ortGpu, await acquireGpuDevice('trainer'), true);
  engines.push(engine);
  await engine.init(config, params, options);
  return engine;
};

function batches(config: RunConfig, count: number): TokenBatch[] {
  const { tokens } = loadAllTokens();
  const total = sequenceCount(tokens.length, config.model.seqLen);
  const { batchSize } = config.inner;
  return Array.from({ length: count }, (_, s) => batchTokens(tokens, Array.from({ length: batchSize }, (_, i) => (31 * (s * batchSize + i) + 5) % total), config.model.seqLen));
}

/**
 * θ after RESET steps and then two more, with the restart at RESET, as a newcomer joining at RESET,
 * and (with `withoutRun`) without the restart.
 */
async function threeWays(make: Make, withoutRun: boolean): Promise<{ crossing: Float32Array; newcomer: Float32Array; without: Float32Array | undefined; adamSteps: number; schedulerSteps: number }> {
  const config = withReset(RESET);
  const data = batches(config, RESET + 2);
  const crossingEngine = await make(config);
  await crossingEngine.trainInner(data.slice(0, RESET), RESET);
  const thetaAtReset = await crossingEngine.exportParams();
  await crossingEngine.trainInner(data.slice(RESET), 2);
  const state = await crossingEngine.exportOptimizerState();

  const n = parameterCount(config.model);
  const newcomerEngine = await make(config, thetaAtReset, { optimizerState: { schedulerSteps: RESET, adamSteps: 0, expAvg: new Float32Array(n), expAvgSq: new Float32Array(n) } });
  await newcomerEngine.trainInner(data.slice(RESET), 2);

  let without: Float32Array | undefined;
  if (withoutRun) {
    const withoutEngine = await make(withReset(null));
    await withoutEngine.trainInner(data.slice(0, RESET), RESET);
    await withoutEngine.trainInner(data.slice(RESET), 2);
    without = await withoutEngine.exportParams();
  }
  return { crossing: await crossingEngine.exportParams(), newcomer: await newcomerEngine.exportParams(), without, adamSteps: state.adamSteps ?? -1, schedulerSteps: state.schedulerSteps };
}

/** Where a crossing miner ends: the newcomer's θ bit for bit, not the run's without the restart; Adam's count restarted, the schedule's not. */
function expectNewcomerEnd(r: Awaited<ReturnType<typeof threeWays>>): void {
  expect(firstDifference(r.crossing, r.newcomer)).toBeNull();
  if (r.without !== undefined) expect(firstDifference(r.crossing, r.without)).not.toBeNull();
  expect(r.adamSteps).toBe(2);
  expect(r.schedulerSteps).toBe(RESET + 2);
}

describe('the restart of the inner moments', () => {
  it('wasm: a miner crossing the step ends where a newcomer joining at it ends, bit for bit, and not where a run without it ends', async () => {
    expectNewcomerEnd(await threeWays(wasm, true));
  }, 120_000);

  // Without the run that never restarts (that the restart changes the path is the config's property, shown on wasm): a GPU
  // restart that left the moments in place would leave the crossing miner elsewhere than the newcomer's zero moments.
  it.skipIf(dawn instanceof DawnUnavailableError)('WebGPU on Dawn: a miner crossing the step ends where the newcomer ends, on the GPU\'s buffers', async () => {
    expectNewcomerEnd(await threeWays(webgpu, false));
  }, 300_000);
});
