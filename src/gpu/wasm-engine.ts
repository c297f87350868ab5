/**
 * TrainerEngine on onnxruntime-web's wasm EP with θ, the Adam moments and θ0 in CPU memory: the
 * fallback for machines without (fast) WebGPU, and the engine the Node tests and CLI use. The graph
 * is the very one the WebGPU engine runs; the optimiser is the CPU reference (src/core/adamw.ts).
 */
import type * as OrtModule from 'onnxruntime-web';
import { adamwStepReference, clipScaleForNorm } from '../core/adamw.ts';
import { outerStep, type OuterStepResult, type PeerSubmission } from '../core/aggregate.ts';
import { accumulateErrorFeedback, compressErrorFeedback } from '../core/compress/error-feedback.ts';
import type { RunConfig } from '../core/config.ts';
import { globalGradNorm } from '../core/grad-norm.ts';
import { gradName, LOSS } from '../model/llama.ts';
import { initParameters, type ParamSpec } from '../model/params.ts';
import { NonFiniteLossError, TrainerNotReadyError, type CompressedPseudoGradient, type InitOptions, type InnerOptimizerState, type InnerResult, type TokenBatch, type TrainerEngine, type TrainerInfo, type TrainerProgress } from '../model/engine.ts';
import { baseSessionOptions, prepareEngineInit, calibrationBatch, innerStepScalars, timeTokensPerSecond, scalarOf, settle, tokenFeeds, validateBatches, validateUpdate, type Ort } from './engine-common.ts';

interface WasmState {
  readonly config: RunConfig;
  readonly layout: readonly ParamSpec[];
  readonly train: OrtModule.InferenceSession;
  readonly evaluate: OrtModule.InferenceSession;
  readonly theta: Float32Array;
  readonly theta0: Float32Array;
  readonly expAvg: Float32Array;
  readonly expAvgSq: Float32Array;
  /** SparseLoCo error feedback e (gauntlet-spec §5.2), used by `compressPseudoGradient`. */
  readonly errorFeedback: Float32Array;
  schedulerSteps: number;
  adamSteps: number;
}

export class WasmTrainerEngine implements TrainerEngine {
  private state: WasmState | undefined;

  constructor(private readonly ort: Ort) {}

  private ready(method: string): WasmState {
    if (!this.state) throw new TrainerNotReadyError(method);
    return this.state;
  }

  async init(untrustedConfig: RunConfig, params?: Float32Array, options?: InitOptions): Promise<TrainerInfo> {
    const optimizer = options?.optimizerState;
    const { config, total, trainGraph, evalGraph } = prepareEngineInit(untrustedConfig, params, optimizer);
    await this.dispose();
    const sessionOptions = { ...baseSessionOptions(), executionProviders: ['wasm'] };
    const train = await this.ort.InferenceSession.create(trainGraph.bytes, sessionOptions);
    const evaluate = await this.ort.InferenceSession.create(evalGraph.bytes, sessionOptions);
    const theta = params ? params.slice() : initParameters(config.model, config.initSeed);
    this.state = {
      config,
      layout: trainGraph.params,
      train,
      evaluate,
      theta,
      theta0: theta.slice(),
      expAvg: optimizer ? optimizer.expAvg.slice() : new Float32Array(total),
      expAvgSq: optimizer ? optimizer.expAvgSq.slice() : new Float32Array(total),
      errorFeedback: new Float32Array(total),
      schedulerSteps: optimizer?.schedulerSteps ?? 0,
      adamSteps: optimizer?.adamSteps ?? optimizer?.schedulerSteps ?? 0,
    };
    return { backend: 'wasm', reason: 'wasm EP requested', parameterCount: total, trainingGraphNodes: trainGraph.nodeCount };
  }

  private paramFeeds(s: WasmState, theta: Float32Array): Record<string, OrtModule.Tensor> {
    const feeds: Record<string, OrtModule.Tensor> = {};
    for (const spec of s.layout) feeds[spec.name] = new this.ort.Tensor('float32', theta.subarray(spec.offset, spec.offset + spec.size), spec.shape);
    return feeds;
  }

  async trainInner(batches: readonly TokenBatch[], h: number, onProgress?: TrainerProgress): Promise<InnerResult> {
    const s = this.ready('trainInner');
    validateBatches(s.config, batches, h);
    const started = performance.now();
    s.theta0.set(s.theta);
    const losses: number[] = [];
    for (let step = 0; step < h; step++) {
      const out = await s.train.run({ ...tokenFeeds(this.ort, s.config, batches[step] as TokenBatch), ...this.paramFeeds(s, s.theta) });
      const loss = scalarOf(out[LOSS]);
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(step);
      const grads = s.layout.map((spec) => out[gradName(spec.name)]?.data as Float32Array);
      const clip = clipScaleForNorm(globalGradNorm(grads), s.config.inner.gradClipNorm);
      if (s.schedulerSteps === s.config.inner.resetMomentsAtStep) {
        // The run's one restart of the moments (issue #19): as a newcomer at this step starts.
        s.expAvg.fill(0);
        s.expAvgSq.fill(0);
        s.adamSteps = 0;
      }
      const scalars = innerStepScalars(s.config, s.schedulerSteps, s.adamSteps);
      s.layout.forEach((spec, i) => {
        const range = [spec.offset, spec.offset + spec.size] as const;
        adamwStepReference(s.theta.subarray(...range), grads[i] as Float32Array, s.expAvg.subarray(...range), s.expAvgSq.subarray(...range), scalars, clip);
      });
      s.schedulerSteps += 1;
      s.adamSteps += 1;
      losses.push(loss);
      onProgress?.({ kind: 'inner-step', step: step + 1, of: h, loss, lr: scalars.lr, globalStep: s.schedulerSteps });
    }
    const tokens = h * s.config.inner.batchSize * s.config.model.seqLen;
    const elapsedMs = performance.now() - started;
    const meanLoss = losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length);
    onProgress?.({ kind: 'inner-done', steps: h, meanLoss, tokens, elapsedMs });
    return { losses, tokens, elapsedMs };
  }

  pseudoGradient(): Promise<Float32Array> {
    return settle(() => {
      const s = this.ready('pseudoGradient');
      const delta = new Float32Array(s.theta.length);
      for (let i = 0; i < delta.length; i++) delta[i] = s.theta0[i]! - s.theta[i]!;
      s.theta.set(s.theta0);
      return delta;
    });
  }

  applyOuter(update: Float32Array): Promise<void> {
    return settle(() => {
      const s = this.ready('applyOuter');
      validateUpdate(update, s.theta.length, 'outer update');
      for (let i = 0; i < update.length; i++) s.theta[i] = s.theta[i]! - update[i]!;
    });
  }

  /** The CPU reference path (src/core/compress), exactly as the miner ran it before issue #5. */
  async compressPseudoGradient(): Promise<CompressedPseudoGradient> {
    const delta = await this.pseudoGradient();
    const s = this.ready('compressPseudoGradient');
    accumulateErrorFeedback(s.errorFeedback, delta, s.config.compression.errorFeedbackDecay);
    return { tensors: compressErrorFeedback(s.errorFeedback, s.layout, s.config.compression), readbackBytes: 0, denseOnCpu: true };
  }

  resetErrorFeedback(): Promise<void> {
    return settle(() => {
      this.ready('resetErrorFeedback').errorFeedback.fill(0);
    });
  }

  applyAggregate(peers: readonly PeerSubmission[], referenceCaps?: readonly number[]): Promise<OuterStepResult> {
    return settle(() => {
      const s = this.ready('applyAggregate');
      return outerStep(s.theta, s.layout, peers, s.config.compression, s.config.bounds, referenceCaps);
    });
  }

  exportErrorFeedback(): Promise<Float32Array> {
    return settle(() => this.ready('exportErrorFeedback').errorFeedback.slice());
  }

  importErrorFeedback(errorFeedback: Float32Array): Promise<void> {
    return settle(() => {
      const s = this.ready('importErrorFeedback');
      validateUpdate(errorFeedback, s.errorFeedback.length, 'error-feedback buffer');
      s.errorFeedback.set(errorFeedback);
    });
  }

  async evalLoss(batches: readonly TokenBatch[], trialUpdate?: Float32Array): Promise<number[]> {
    const s = this.ready('evalLoss');
    validateBatches(s.config, batches, batches.length);
    let theta = s.theta;
    if (trialUpdate) {
      validateUpdate(trialUpdate, s.theta.length, 'trial update');
      theta = new Float32Array(s.theta.length);
      for (let i = 0; i < theta.length; i++) theta[i] = s.theta[i]! - trialUpdate[i]!;
    }
    const losses: number[] = [];
    for (const batch of batches) {
      const out = await s.evaluate.run({ ...tokenFeeds(this.ort, s.config, batch), ...this.paramFeeds(s, theta) });
      losses.push(scalarOf(out[LOSS]));
    }
    return losses;
  }

  /** Diagnostics: loss and every gradient (flat, layout order) of one batch on θ, without an update. */
  async lossAndGradients(batch: TokenBatch): Promise<{ loss: number; grads: Float32Array }> {
    const s = this.ready('lossAndGradients');
    validateBatches(s.config, [batch], 1);
    const out = await s.train.run({ ...tokenFeeds(this.ort, s.config, batch), ...this.paramFeeds(s, s.theta) });
    const grads = new Float32Array(s.theta.length);
    for (const spec of s.layout) grads.set(out[gradName(spec.name)]?.data as Float32Array, spec.offset);
    return { loss: scalarOf(out[LOSS]), grads };
  }

  /** Tokens/s of fwd+bwd on this backend (no update). */
  async calibrate(steps: number): Promise<number> {
    const s = this.ready('calibrate');
    const feeds = { ...tokenFeeds(this.ort, s.config, calibrationBatch(s.config)), ...this.paramFeeds(s, s.theta) };
    return timeTokensPerSecond(s.config, steps, () => s.train.run(feeds));
  }

  exportParams(): Promise<Float32Array> {
    return settle(() => this.ready('exportParams').theta.slice());
  }

  exportOptimizerState(): Promise<InnerOptimizerState> {
    return settle(() => {
      const s = this.ready('exportOptimizerState');
      return { schedulerSteps: s.schedulerSteps, adamSteps: s.adamSteps, expAvg: s.expAvg.slice(), expAvgSq: s.expAvgSq.slice() };
    });
  }

  /** The wasm EP has no device to lose. */
  lossReason(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  async dispose(): Promise<void> {
    const s = this.state;
    this.state = undefined;
    if (s) {
      await s.train.release();
      await s.evaluate.release();
    }
  }
}
