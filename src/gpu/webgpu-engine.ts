/**
 * TrainerEngine on onnxruntime-web's native WebGPU EP with GPU-resident state (ort-webgpu.md §2, §9):
 * θ, Adam moments, θ0, gradients and the trial θ of validators are GPUBuffers we own (BufferPool), one
 * per parameter tensor, on the device we hand to ORT. Parameters are fed with `Tensor.fromGpuBuffer`,
 * gradient outputs are pre-bound to our buffers, and the optimiser (global-norm clipping in
 * shaders/grad-norm.wgsl, then shaders/adamw.wgsl) runs on the same device right after each
 * `session.run`. In the inner loop only the loss scalar comes back.
 *
 * The window's end stays on the GPU too (issue #5): the error-feedback buffer e is one flat buffer, and
 * `compressPseudoGradient` / `applyAggregate` run src/gpu/compress.ts and src/gpu/outer-step.ts (or
 * outer-step-sign.ts) on flat copies of θ0 and θ made by GPU-to-GPU copies; only the packed
 * submission comes back.
 *
 * Ownership: every buffer comes from `this.pool` and is destroyed by `dispose()`; ORT's own
 * intermediates belong to ORT and go with `session.release()`.
 */
import type * as OrtModule from 'onnxruntime-web';
import { type OuterStepResult, type PeerSubmission } from '../core/aggregate.ts';
import { accumulateErrorFeedback, compressErrorFeedback } from '../core/compress/error-feedback.ts';
import type { RunConfig } from '../core/config.ts';
import { gradName, LOSS } from '../model/llama.ts';
import { initParameters, type ParamSpec } from '../model/params.ts';
import { NonFiniteLossError, TrainerNotReadyError, type CompressedPseudoGradient, type InitOptions, type InnerOptimizerState, type InnerResult, type TokenBatch, type TrainerEngine, type TrainerInfo, type TrainerProgress } from '../model/engine.ts';
import { ADAMW_UNIFORM_BYTES, AdamWKernel } from './adamw.ts';
import { BufferPool } from './buffers.ts';
import { GpuCompressor } from './compress.ts';
import { throwOnGpuError } from './compress-shaders.ts';
import { DeviceLostError } from './errors.ts';
import { baseSessionOptions, prepareEngineInit, calibrationBatch, innerStepScalars, timeTokensPerSecond, scalarOf, tokenFeeds, validateBatches, validateUpdate, type Ort } from './engine-common.ts';
import { GradNormKernel, type GradNormPlan } from './grad-norm.ts';
import { GpuOuterStep } from './outer-step.ts';
import { GpuSignOuterStep } from './outer-step-sign.ts';
import { captureOrtLog, type PlacementReport, parsePlacementLog } from './placement.ts';

/** How long a failed call waits for `device.lost` to settle before it is judged a plain error. */
const DEVICE_LOST_SETTLE_MS = 200;

/** The GPU buffers of one parameter tensor. */
interface TensorState {
  readonly spec: ParamSpec;
  readonly theta: GPUBuffer;
  readonly theta0: GPUBuffer;
  readonly trial: GPUBuffer;
  readonly expAvg: GPUBuffer;
  readonly expAvgSq: GPUBuffer;
  readonly grad: GPUBuffer;
  readonly adamUniforms: GPUBuffer;
  readonly adamBindGroup: GPUBindGroup;
  readonly thetaTensor: OrtModule.Tensor;
  readonly trialTensor: OrtModule.Tensor;
  readonly gradTensor: OrtModule.Tensor;
}

/**
 * Flat (layout-order) buffers for the compression and outer-step kernels, which address one vector:
 * θ0 and θ are gathered into `theta0`/`theta` by GPU copies, e lives here only.
 */
interface FlatState {
  readonly theta0: GPUBuffer;
  readonly theta: GPUBuffer;
  /** SparseLoCo error feedback e (gauntlet-spec §5.2); the compressor owns its contents. */
  readonly errorFeedback: GPUBuffer;
}

interface GpuState {
  readonly config: RunConfig;
  readonly tensors: readonly TensorState[];
  readonly train: OrtModule.InferenceSession;
  readonly evaluate: OrtModule.InferenceSession;
  readonly adamw: AdamWKernel;
  readonly gradNorm: GradNormPlan;
  readonly gradNormKernel: GradNormKernel;
  readonly parameterCount: number;
  readonly flat: FlatState;
  /** Built on first use: the compressor ('sparseloco') and the outer step of the run's codec. */
  compressor?: GpuCompressor;
  outerStep?: GpuOuterStep | GpuSignOuterStep;
  schedulerSteps: number;
  adamSteps: number;
}

/** Extra options of the WebGPU engine (tests and diagnostics). */
export interface WebGpuInitOptions extends InitOptions {
  /** Capture ORT's verbose log while the training session is created, to report node placement. */
  readonly capturePlacement?: boolean;
}

type FlatBuffer = 'theta' | 'theta0' | 'grad' | 'expAvg' | 'expAvgSq';

export class WebGpuTrainerEngine implements TrainerEngine {
  private state: GpuState | undefined;
  private readonly pool: BufferPool;
  /** Node placement of the training session, when `capturePlacement` was set. */
  placement: PlacementReport | undefined;

  /**
   * @param ownsDevice destroy `device` in `dispose()` (true when the engine's creator made the device
   *   for it alone, as `createTrainerEngine` does); a shared device stays alive.
   */
  constructor(
    private readonly ort: Ort,
    readonly device: GPUDevice,
    private readonly ownsDevice = false,
  ) {
    this.pool = new BufferPool(device);
    // A lost device (driver reset, GPU process crash, tab backgrounded on some platforms) makes every
    // buffer invalid: later calls fail with DeviceLostError instead of silently computing garbage.
    // Only our own dispose() ends the device on purpose; any other destroy() is a loss to recover from.
    void device.lost.then((info) => {
      if (!this.disposed) this.lostReason = info.message || (info.reason === 'destroyed' ? 'the device was destroyed' : 'unknown reason');
    });
  }

  private lostReason: string | undefined;
  private disposed = false;

  /** Why the device was lost, or undefined while it works: callers tell a lost device from other errors with it. */
  get deviceLostReason(): string | undefined {
    return this.lostReason;
  }

  /**
   * A destroyed device can fail the call in flight with some other error before `device.lost`
   * settles, so that promise is given `DEVICE_LOST_SETTLE_MS` to settle before `error` is judged a
   * plain error.
   */
  async lossReason(error: unknown): Promise<string | undefined> {
    if (error instanceof DeviceLostError) return error.reason;
    await Promise.race([this.device.lost, new Promise((resolve) => setTimeout(resolve, DEVICE_LOST_SETTLE_MS))]);
    return this.lostReason;
  }
  /** Bytes copied GPU → CPU since init (diagnostics: the compression test asserts only packed bytes come back). */
  private readback = 0;

  get readbackBytes(): number {
    return this.readback;
  }

  /** Buffers of ours alive right now (the leak test asserts this stays flat across windows). */
  get liveBuffers(): number {
    return this.pool.liveCount;
  }

  private ready(method: string): GpuState {
    if (this.lostReason !== undefined) throw new DeviceLostError(this.lostReason);
    if (!this.state) throw new TrainerNotReadyError(method);
    return this.state;
  }

  async init(untrustedConfig: RunConfig, params?: Float32Array, options?: WebGpuInitOptions): Promise<TrainerInfo> {
    const optimizer = options?.optimizerState;
    const { config, total, trainGraph, evalGraph } = prepareEngineInit(untrustedConfig, params, optimizer);
    await this.releaseState();
    const sessionOptions: OrtModule.InferenceSession.SessionOptions = {
      ...baseSessionOptions(),
      executionProviders: [{ name: 'webgpu', device: this.device }],
    };
    let train: OrtModule.InferenceSession;
    if (options?.capturePlacement) {
      const { result, lines } = await captureOrtLog(() =>
        this.ort.InferenceSession.create(trainGraph.bytes, { ...sessionOptions, logSeverityLevel: 0, logVerbosityLevel: 1 }),
      );
      train = result;
      this.placement = parsePlacementLog(lines);
    } else {
      train = await this.ort.InferenceSession.create(trainGraph.bytes, sessionOptions);
    }
    const evaluate = await this.ort.InferenceSession.create(evalGraph.bytes, sessionOptions);

    const theta = params ?? initParameters(config.model, config.initSeed);
    const adamw = AdamWKernel.create(this.device);
    const gradNormKernel = GradNormKernel.create(this.device);
    const tensorOf = (buffer: GPUBuffer, spec: ParamSpec): OrtModule.Tensor =>
      this.ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims: spec.shape });
    const pending: Omit<TensorState, 'adamBindGroup'>[] = trainGraph.params.map((spec) => {
      const bytes = spec.size * 4;
      const values = theta.subarray(spec.offset, spec.offset + spec.size);
      const thetaBuffer = this.pool.storageFrom(values, `theta:${spec.name}`);
      const trial = this.pool.storage(bytes, `trial:${spec.name}`);
      const grad = this.pool.storage(bytes, `grad:${spec.name}`);
      return {
        spec,
        theta: thetaBuffer,
        theta0: this.pool.storageFrom(values, `theta0:${spec.name}`),
        trial,
        expAvg: optimizer
          ? this.pool.storageFrom(optimizer.expAvg.subarray(spec.offset, spec.offset + spec.size), `exp_avg:${spec.name}`)
          : this.pool.storage(bytes, `exp_avg:${spec.name}`),
        expAvgSq: optimizer
          ? this.pool.storageFrom(optimizer.expAvgSq.subarray(spec.offset, spec.offset + spec.size), `exp_avg_sq:${spec.name}`)
          : this.pool.storage(bytes, `exp_avg_sq:${spec.name}`),
        grad,
        adamUniforms: this.pool.uniform(ADAMW_UNIFORM_BYTES, `adamw-uniforms:${spec.name}`),
        thetaTensor: tensorOf(thetaBuffer, spec),
        trialTensor: tensorOf(trial, spec),
        gradTensor: tensorOf(grad, spec),
      };
    });
    const gradNorm = gradNormKernel.plan(
      this.pool,
      pending.map((t) => ({ buffer: t.grad, count: t.spec.size })),
      config.inner.gradClipNorm,
    );
    const tensors = pending.map((t) => ({
      ...t,
      adamBindGroup: adamw.bindGroup({ uniforms: t.adamUniforms, param: t.theta, grad: t.grad, expAvg: t.expAvg, expAvgSq: t.expAvgSq, gradScale: gradNorm.clip }),
    }));
    const flatBytes = total * 4;
    const flat: FlatState = {
      theta0: this.pool.storage(flatBytes, 'flat:theta0'),
      theta: this.pool.storage(flatBytes, 'flat:theta'),
      errorFeedback: this.pool.storage(flatBytes, 'flat:error_feedback'),
    };
    this.state = { config, tensors, train, evaluate, adamw, gradNorm, gradNormKernel, parameterCount: total, flat, schedulerSteps: optimizer?.schedulerSteps ?? 0, adamSteps: optimizer?.adamSteps ?? optimizer?.schedulerSteps ?? 0 };
    this.readback = 0;
    return { backend: 'webgpu', reason: 'WebGPU requested', parameterCount: total, trainingGraphNodes: trainGraph.nodeCount };
  }

  private paramFeeds(s: GpuState, which: 'thetaTensor' | 'trialTensor'): Record<string, OrtModule.Tensor> {
    return Object.fromEntries(s.tensors.map((t) => [t.spec.name, t[which]]));
  }

  /** One fwd+bwd into the pre-bound gradient buffers; returns the loss (the only readback). */
  private async forwardBackward(s: GpuState, batch: TokenBatch): Promise<number> {
    const fetches: Record<string, OrtModule.Tensor | null> = { [LOSS]: null };
    for (const t of s.tensors) fetches[gradName(t.spec.name)] = t.gradTensor;
    const out = await s.train.run({ ...tokenFeeds(this.ort, s.config, batch), ...this.paramFeeds(s, 'thetaTensor') }, fetches);
    return scalarOf(out[LOSS]);
  }

  async trainInner(batches: readonly TokenBatch[], h: number, onProgress?: TrainerProgress): Promise<InnerResult> {
    const s = this.ready('trainInner');
    validateBatches(s.config, batches, h);
    const started = performance.now();
    this.copyAll(s, 'theta', 'theta0');
    const losses: number[] = [];
    for (let step = 0; step < h; step++) {
      const loss = await this.forwardBackward(s, batches[step] as TokenBatch);
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(step);
      const restart = s.schedulerSteps === s.config.inner.resetMomentsAtStep;
      // The run's one restart of the moments (issue #19): as a newcomer at this step starts.
      if (restart) s.adamSteps = 0;
      const scalars = innerStepScalars(s.config, s.schedulerSteps, s.adamSteps);
      for (const t of s.tensors) s.adamw.writeUniforms(t.adamUniforms, scalars, t.spec.size);
      const encoder = this.device.createCommandEncoder({ label: `inner-step-${step}` });
      if (restart) {
        for (const t of s.tensors) {
          encoder.clearBuffer(t.expAvg);
          encoder.clearBuffer(t.expAvgSq);
        }
      }
      const pass = encoder.beginComputePass({ label: 'clip+adamw' });
      s.gradNormKernel.encode(pass, s.gradNorm);
      for (const t of s.tensors) s.adamw.encode(pass, t.adamBindGroup, t.spec.size);
      pass.end();
      this.device.queue.submit([encoder.finish()]);
      s.schedulerSteps += 1;
      s.adamSteps += 1;
      losses.push(loss);
      onProgress?.({ kind: 'inner-step', step: step + 1, of: h, loss, lr: scalars.lr, globalStep: s.schedulerSteps });
    }
    await this.device.queue.onSubmittedWorkDone();
    const tokens = h * s.config.inner.batchSize * s.config.model.seqLen;
    const elapsedMs = performance.now() - started;
    const meanLoss = losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length);
    onProgress?.({ kind: 'inner-done', steps: h, meanLoss, tokens, elapsedMs });
    return { losses, tokens, elapsedMs };
  }

  private copyAll(s: GpuState, from: 'theta' | 'theta0', to: 'theta' | 'theta0'): void {
    const encoder = this.device.createCommandEncoder({ label: `copy-${from}-to-${to}` });
    for (const t of s.tensors) encoder.copyBufferToBuffer(t[from], 0, t[to], 0, t.spec.size * 4);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Reads one kind of per-tensor buffer back as a flat vector in layout order (one staging buffer, one map). */
  private async readFlat(s: GpuState, which: FlatBuffer): Promise<Float32Array> {
    const [values] = await this.readFlats(s, [which]);
    return values!;
  }

  /** Several per-tensor buffer sets as flat vectors, through one staging buffer and one map (one sync point, not one per set). */
  private async readFlats(s: GpuState, which: readonly FlatBuffer[]): Promise<Float32Array[]> {
    const bytes = s.parameterCount * 4;
    const staging = this.pool.create(bytes * which.length, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, `readback:${which.join('+')}`);
    try {
      const encoder = this.device.createCommandEncoder({ label: `readback-${which.join('+')}` });
      which.forEach((set, k) => {
        for (const t of s.tensors) encoder.copyBufferToBuffer(t[set], 0, staging, k * bytes + t.spec.offset * 4, t.spec.size * 4);
      });
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      this.readback += bytes * which.length;
      // Each set is copied out into its own ArrayBuffer: callers transfer or store them one by one.
      return which.map((_, k) => new Float32Array(staging.getMappedRange(k * bytes, bytes).slice(0)));
    } finally {
      this.pool.release(staging);
    }
  }

  private writeFlat(s: GpuState, which: 'theta' | 'trial', flat: Float32Array): void {
    for (const t of s.tensors) this.device.queue.writeBuffer(t[which], 0, flat.buffer, flat.byteOffset + t.spec.offset * 4, t.spec.size * 4);
  }

  async pseudoGradient(): Promise<Float32Array> {
    const s = this.ready('pseudoGradient');
    const [thetaH, theta0] = (await this.readFlats(s, ['theta', 'theta0'])) as [Float32Array, Float32Array];
    for (let i = 0; i < theta0.length; i++) theta0[i] = theta0[i]! - thetaH[i]!;
    this.copyAll(s, 'theta0', 'theta');
    return theta0;
  }

  async applyOuter(update: Float32Array): Promise<void> {
    const s = this.ready('applyOuter');
    validateUpdate(update, s.parameterCount, 'outer update');
    const theta = await this.readFlat(s, 'theta');
    for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! - update[i]!;
    this.writeFlat(s, 'theta', theta);
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Records copies of every per-tensor buffer `from` into the flat buffer `to` (or back), in layout order. */
  private copyFlat(s: GpuState, encoder: GPUCommandEncoder, which: 'theta' | 'theta0', direction: 'gather' | 'scatter'): void {
    const flat = s.flat[which];
    for (const t of s.tensors) {
      if (direction === 'gather') encoder.copyBufferToBuffer(t[which], 0, flat, t.spec.offset * 4, t.spec.size * 4);
      else encoder.copyBufferToBuffer(flat, t.spec.offset * 4, t[which], 0, t.spec.size * 4);
    }
  }

  /**
   * On the GPU ('sparseloco', src/gpu/compress.ts): θ0 and θH are gathered into flat buffers by GPU
   * copies, the compressor runs Δ, `e ← βe + Δ`, top-k, quantisation, packing and `e ← e − decode(sent)`
   * on the engine's e, θ ← θ0 is restored in the same submission, and only the packed blocks and
   * quantisation rows are read back. 'dct-sign' (no GPU encoder yet) reads Δ and e back and runs the
   * CPU reference, then writes e back; `denseOnCpu` says so.
   */
  async compressPseudoGradient(): Promise<CompressedPseudoGradient> {
    const s = this.ready('compressPseudoGradient');
    if (s.config.compression.codec !== 'sparseloco') return this.compressOnCpu(s);
    const compressor = (s.compressor ??= GpuCompressor.create(this.device, this.pool, s.tensors.map((t) => t.spec), s.config.compression));
    const encoder = this.device.createCommandEncoder({ label: 'compress-pseudo-gradient' });
    this.copyFlat(s, encoder, 'theta0', 'gather');
    this.copyFlat(s, encoder, 'theta', 'gather');
    compressor.encode(encoder, { theta0: s.flat.theta0, theta: s.flat.theta, errorFeedback: s.flat.errorFeedback });
    for (const t of s.tensors) encoder.copyBufferToBuffer(t.theta0, 0, t.theta, 0, t.spec.size * 4);
    // Encoder validation errors surface at finish(): the scope covers it and the submit.
    this.device.pushErrorScope('validation');
    this.device.queue.submit([encoder.finish()]);
    await throwOnGpuError(this.device, 'compression');
    this.readback += compressor.readbackBytes;
    return { tensors: await compressor.readEncoded(), readbackBytes: compressor.readbackBytes, denseOnCpu: false };
  }

  private async compressOnCpu(s: GpuState): Promise<CompressedPseudoGradient> {
    const before = this.readback;
    const errorFeedback = await this.readErrorFeedback(s);
    const delta = await this.pseudoGradient();
    accumulateErrorFeedback(errorFeedback, delta, s.config.compression.errorFeedbackDecay);
    const tensors = compressErrorFeedback(errorFeedback, s.tensors.map((t) => t.spec), s.config.compression);
    this.device.queue.writeBuffer(s.flat.errorFeedback, 0, errorFeedback.buffer, errorFeedback.byteOffset, errorFeedback.byteLength);
    return { tensors, readbackBytes: this.readback - before, denseOnCpu: true };
  }

  private async readErrorFeedback(s: GpuState): Promise<Float32Array> {
    const values = await this.pool.readFloat32(s.flat.errorFeedback, s.parameterCount);
    this.readback += s.parameterCount * 4;
    return values;
  }

  /** A copy of e: a dense readback, once per window when a peer persists its state. */
  async exportErrorFeedback(): Promise<Float32Array> {
    return this.readErrorFeedback(this.ready('exportErrorFeedback'));
  }

  async importErrorFeedback(errorFeedback: Float32Array): Promise<void> {
    const s = this.ready('importErrorFeedback');
    validateUpdate(errorFeedback, s.parameterCount, 'error-feedback buffer');
    this.device.queue.writeBuffer(s.flat.errorFeedback, 0, errorFeedback.buffer, errorFeedback.byteOffset, errorFeedback.byteLength);
    await this.device.queue.onSubmittedWorkDone();
  }

  async resetErrorFeedback(): Promise<void> {
    const s = this.ready('resetErrorFeedback');
    const encoder = this.device.createCommandEncoder({ label: 'reset-error-feedback' });
    encoder.clearBuffer(s.flat.errorFeedback);
    this.device.queue.submit([encoder.finish()]);
    await this.device.queue.onSubmittedWorkDone();
  }

  /**
   * The outer step on the GPU: θ is gathered into the flat buffer, GpuOuterStep ('sparseloco', bit for
   * bit with src/core/aggregate.ts `outerStep`) or GpuSignOuterStep ('dct-sign', float32 DCT sums)
   * updates it in place, and the result is scattered back to the per-tensor θ that ORT reads. Nothing
   * dense crosses to the CPU. θ0 is untouched: the next `trainInner` sets θ0 ← θ.
   */
  async applyAggregate(peers: readonly PeerSubmission[], referenceCaps?: readonly number[]): Promise<OuterStepResult> {
    const s = this.ready('applyAggregate');
    const layout = s.tensors.map((t) => t.spec);
    const step = (s.outerStep ??=
      s.config.compression.codec === 'sparseloco'
        ? GpuOuterStep.create(this.device, this.pool, layout, s.config.compression, s.config.bounds)
        : GpuSignOuterStep.create(this.device, this.pool, layout, s.config.compression, s.config.bounds));
    const gather = this.device.createCommandEncoder({ label: 'outer-step-gather' });
    this.copyFlat(s, gather, 'theta', 'gather');
    this.device.queue.submit([gather.finish()]);
    const result = await step.apply(s.flat.theta, peers, referenceCaps);
    const scatter = this.device.createCommandEncoder({ label: 'outer-step-scatter' });
    this.copyFlat(s, scatter, 'theta', 'scatter');
    this.device.queue.submit([scatter.finish()]);
    await this.device.queue.onSubmittedWorkDone();
    return result;
  }

  async evalLoss(batches: readonly TokenBatch[], trialUpdate?: Float32Array): Promise<number[]> {
    const s = this.ready('evalLoss');
    validateBatches(s.config, batches, batches.length);
    let which: 'thetaTensor' | 'trialTensor' = 'thetaTensor';
    if (trialUpdate) {
      validateUpdate(trialUpdate, s.parameterCount, 'trial update');
      const theta = await this.readFlat(s, 'theta');
      for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! - trialUpdate[i]!;
      this.writeFlat(s, 'trial', theta);
      which = 'trialTensor';
    }
    const losses: number[] = [];
    for (const batch of batches) {
      const out = await s.evaluate.run({ ...tokenFeeds(this.ort, s.config, batch), ...this.paramFeeds(s, which) });
      losses.push(scalarOf(out[LOSS]));
    }
    return losses;
  }

  async exportParams(): Promise<Float32Array> {
    return this.readFlat(this.ready('exportParams'), 'theta');
  }

  /** Reads the moments back from our GPU buffers (two dense readbacks: persistence only, once per window). */
  async exportOptimizerState(): Promise<InnerOptimizerState> {
    const s = this.ready('exportOptimizerState');
    const { schedulerSteps, adamSteps } = s;
    const [expAvg, expAvgSq] = (await this.readFlats(s, ['expAvg', 'expAvgSq'])) as [Float32Array, Float32Array];
    return { schedulerSteps, adamSteps, expAvg, expAvgSq };
  }

  /** Diagnostics: loss and every gradient (flat, layout order) of one batch on θ, without an update. */
  async lossAndGradients(batch: TokenBatch): Promise<{ loss: number; grads: Float32Array }> {
    const s = this.ready('lossAndGradients');
    validateBatches(s.config, [batch], 1);
    const loss = await this.forwardBackward(s, batch);
    return { loss, grads: await this.readFlat(s, 'grad') };
  }

  /** Tokens/s of fwd+bwd on this backend (no update). */
  async calibrate(steps: number): Promise<number> {
    const s = this.ready('calibrate');
    const batch = calibrationBatch(s.config);
    return timeTokensPerSecond(s.config, steps, () => this.forwardBackward(s, batch));
  }

  /** Node placement of any model on this engine's device (a throwaway session). */
  async placementOf(modelBytes: Uint8Array): Promise<PlacementReport> {
    const { result, lines } = await captureOrtLog(() =>
      this.ort.InferenceSession.create(modelBytes, {
        ...baseSessionOptions(),
        executionProviders: [{ name: 'webgpu', device: this.device }],
        logSeverityLevel: 0,
        logVerbosityLevel: 1,
      }),
    );
    await result.release();
    return parsePlacementLog(lines);
  }

  /** Diagnostics: [clip scale, global norm] of the last inner step, from the GPU. */
  async lastClip(): Promise<{ scale: number; norm: number }> {
    const s = this.ready('lastClip');
    const [scale = NaN, norm = NaN] = await this.pool.readFloat32(s.gradNorm.clip, 2);
    this.readback += 8;
    return { scale, norm };
  }

  private async releaseState(): Promise<void> {
    const s = this.state;
    this.state = undefined;
    if (s) {
      await s.train.release();
      await s.evaluate.release();
    }
    this.pool.dispose();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.releaseState();
    if (this.ownsDevice) this.device.destroy();
  }
}
