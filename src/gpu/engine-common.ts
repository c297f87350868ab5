/**
 * What the WebGPU and wasm trainer engines share: graph/session options, input validation, the
 * per-step optimiser scalars. Kept free of WebGPU calls so the wasm engine runs in Node.
 */
import type * as OrtModule from 'onnxruntime-web';
import { adamwStepScalars, type AdamWStepScalars } from '../core/adamw.ts';
import type { RunConfig } from '../core/config.ts';
import { innerLearningRate } from '../core/inner-lr.ts';
import { validateRunConfig } from '../core/run-config.ts';
import { buildEvaluationGraph, buildTrainingGraph, INPUT_IDS, TARGETS } from '../model/llama.ts';
import { parameterCount } from '../model/params.ts';
import { TrainerInputError, type InnerOptimizerState, type TokenBatch } from '../model/engine.ts';

/** The onnxruntime-web module: `onnxruntime-web/webgpu` in the browser, `onnxruntime-web` in Node. */
export type Ort = typeof OrtModule;

/**
 * Session options shared by both EPs. `MatMulAddFusion` is disabled: it turns the gradient
 * accumulation `Add(MatMul, …)` back into Gemm, 2.8× slower in a measured profile (ort-webgpu.md §10).
 */
export function baseSessionOptions(): OrtModule.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    extra: { optimization: { disable_specified_optimizers: 'MatMulAddFusion' } },
  };
}

/** Throws TrainerInputError unless `batches` holds at least `h` well-formed batches for `config`. */
export function validateBatches(config: RunConfig, batches: readonly TokenBatch[], h: number): void {
  if (!Number.isInteger(h) || h < 0) throw new TrainerInputError(`H must be a non-negative integer, got ${h}`);
  if (batches.length < h) throw new TrainerInputError(`${h} inner steps need ${h} batches, got ${batches.length}`);
  const expected = config.inner.batchSize * config.model.seqLen;
  const vocab = config.model.vocabSize;
  batches.slice(0, Math.max(h, 0)).forEach((batch, i) => {
    if (batch.inputs.length !== expected || batch.targets.length !== expected) {
      throw new TrainerInputError(`batch ${i} has ${batch.inputs.length}/${batch.targets.length} tokens, expected ${expected} (batchSize × seqLen)`);
    }
    for (const arr of [batch.inputs, batch.targets]) {
      for (const token of arr) {
        if (!(token >= 0 && token < vocab)) throw new TrainerInputError(`batch ${i} holds token ${token} outside [0, ${vocab})`);
      }
    }
  });
}

/** Throws TrainerInputError unless `update` is a finite flat vector of the model's length. */
export function validateUpdate(update: Float32Array, parameterCount: number, what: string): void {
  if (update.length !== parameterCount) throw new TrainerInputError(`${what} has ${update.length} elements, the model has ${parameterCount}`);
  for (let i = 0; i < update.length; i++) {
    if (!Number.isFinite(update[i])) throw new TrainerInputError(`${what} holds a non-finite value at index ${i}`);
  }
}

/**
 * Throws TrainerInputError unless `state` fits a model of `parameterCount` parameters: whole
 * scheduler steps ≥ 0, finite first moments, finite non-negative second moments (v is a running
 * mean of squares; a negative one would make √v NaN in the next step).
 */
function validateOptimizerState(state: InnerOptimizerState, parameterCount: number): void {
  if (!Number.isSafeInteger(state.schedulerSteps) || state.schedulerSteps < 0) throw new TrainerInputError(`optimizer state has scheduler step ${state.schedulerSteps}, expected a whole number ≥ 0`);
  if (state.adamSteps !== undefined && (!Number.isSafeInteger(state.adamSteps) || state.adamSteps < 0)) throw new TrainerInputError(`optimizer state has Adam step ${state.adamSteps}, expected a whole number ≥ 0`);
  validateUpdate(state.expAvg, parameterCount, 'optimizer first moment (exp_avg)');
  validateUpdate(state.expAvgSq, parameterCount, 'optimizer second moment (exp_avg_sq)');
  const negative = state.expAvgSq.findIndex((v) => v < 0);
  if (negative >= 0) throw new TrainerInputError(`optimizer second moment (exp_avg_sq) is negative at index ${negative}`);
}

/** int32 token feeds for one batch. */
export function tokenFeeds(ort: Ort, config: RunConfig, batch: TokenBatch): Record<string, OrtModule.Tensor> {
  const dims = [config.inner.batchSize, config.model.seqLen];
  return {
    [INPUT_IDS]: new ort.Tensor('int32', batch.inputs, dims),
    [TARGETS]: new ort.Tensor('int32', batch.targets, dims),
  };
}

/**
 * Optimiser scalars of the inner step that follows `schedulerSteps` scheduler steps and `adamSteps`
 * Adam steps of the moments: lr from the warm-up + cosine schedule, bias corrections for Adam step
 * `adamSteps + 1`.
 */
export function innerStepScalars(config: RunConfig, schedulerSteps: number, adamSteps: number): AdamWStepScalars {
  const lr = innerLearningRate(config.inner, schedulerSteps);
  return adamwStepScalars({ ...config.inner, lr }, adamSteps + 1);
}

/** The single float of a loss output. */
export function scalarOf(tensor: OrtModule.Tensor | undefined): number {
  const data = tensor?.data;
  return data instanceof Float32Array && data.length > 0 ? (data[0] as number) : NaN;
}

/** Runs `fn` and turns a throw into a rejected promise, so synchronous checks reject like async ones. */
export function settle<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}

/** A batch of token 0 with the run's shape, for calibration runs. */
export function calibrationBatch(config: RunConfig): TokenBatch {
  const n = config.inner.batchSize * config.model.seqLen;
  return { inputs: new Int32Array(n), targets: new Int32Array(n) };
}

/** Tokens/s of `steps` calls of `run` after one untimed warm-up call (shader compilation, allocation). */
export async function timeTokensPerSecond(config: RunConfig, steps: number, run: () => Promise<unknown>): Promise<number> {
  if (!Number.isInteger(steps) || steps < 1) throw new TrainerInputError(`calibration needs at least one step, got ${steps}`);
  await run();
  const started = performance.now();
  for (let i = 0; i < steps; i++) await run();
  const seconds = (performance.now() - started) / 1000;
  return (steps * config.inner.batchSize * config.model.seqLen) / Math.max(seconds, 1e-9);
}

/**
 * The backend-independent half of `TrainerEngine.init`: validates the (untrusted) run config and
 * the optional initial parameters, then builds the training and evaluation graphs. Both engines
 * call it before they release their previous state, so bad input never discards a working engine.
 */
export function prepareEngineInit(untrustedConfig: RunConfig, params: Float32Array | undefined, optimizerState?: InnerOptimizerState) {
  const config = validateRunConfig(untrustedConfig);
  const total = parameterCount(config.model);
  if (params) validateUpdate(params, total, 'initial parameter vector');
  if (optimizerState) validateOptimizerState(optimizerState, total);
  const trainGraph = buildTrainingGraph(config.model, config.inner.batchSize);
  const evalGraph = buildEvaluationGraph(config.model, config.inner.batchSize);
  return { config, total, trainGraph, evalGraph };
}
