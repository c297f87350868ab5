/**
 * Module Worker exposing the TrainerEngine (plus diagnostics) with comlink: GPU work never runs on
 * the main thread. Large arrays (Δ, θ, gradients) leave as transferables. Progress callbacks must
 * be passed wrapped in `Comlink.proxy`.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { installOrtLogTap } from '../gpu/placement.ts';
import { createTrainerEngine, type AnyEngine } from '../gpu/select-engine.ts';
import { WebGpuTrainerEngine } from '../gpu/webgpu-engine.ts';
import { TrainerNotReadyError, type InnerOptimizerState } from '../model/engine.ts';
import { parameterCount } from '../model/params.ts';
import { type TrainerWorkerApi } from './trainer-api.ts';
import { KeptEngines } from './kept-engine.ts';
import { loseDeviceForTests } from './test-hooks.ts';
import { installErrorTransfer } from './error-transfer.ts';

// Typed errors reach the page as themselves (class, code, fields), not as message strings.
installErrorTransfer();

// Before ORT initialises: its wasm binds the console once, and the placement check reads that log.
installOrtLogTap();
// wasm threads need cross-origin isolation (vite.config.ts sets COOP/COEP); otherwise one thread.
ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency)) : 1;

let engine: AnyEngine | undefined;

/**
 * What every GPU buffer of this worker weighs: the device's `createBuffer` and the buffers' `destroy`
 * are wrapped before any device exists, so onnxruntime's buffers are counted as well as ours.
 */
const allocation = { live: new Map<GPUBuffer, number>(), liveBytes: 0, peakBytes: 0 };
if (typeof GPUDevice !== 'undefined') {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the device as `this` (createBuffer.call).
  const createBuffer = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (this: GPUDevice, descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = createBuffer.call(this, descriptor);
    allocation.live.set(buffer, buffer.size);
    allocation.liveBytes += buffer.size;
    allocation.peakBytes = Math.max(allocation.peakBytes, allocation.liveBytes);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      const size = allocation.live.get(buffer);
      if (size !== undefined) {
        allocation.live.delete(buffer);
        allocation.liveBytes -= size;
      }
      destroy();
    };
    return buffer;
  };
}

function current(method: string): AnyEngine {
  if (!engine) throw new TrainerNotReadyError(method);
  return engine;
}

const api: TrainerWorkerApi = {
  async init(config, params, options) {
    await engine?.dispose();
    engine = undefined;
    const created = await createTrainerEngine(ort, config, params, options);
    engine = created.engine;
    return created.info;
  },
  trainInner: (batches, h, onProgress) => current('trainInner').trainInner(batches, h, onProgress ? (e) => void onProgress(e) : undefined),
  async pseudoGradient() {
    const delta = await current('pseudoGradient').pseudoGradient();
    return Comlink.transfer(delta, [delta.buffer]);
  },
  applyOuter: (update) => current('applyOuter').applyOuter(update),
  compressPseudoGradient: () => current('compressPseudoGradient').compressPseudoGradient(),
  resetErrorFeedback: () => current('resetErrorFeedback').resetErrorFeedback(),
  async exportErrorFeedback() {
    const e = await current('exportErrorFeedback').exportErrorFeedback();
    return Comlink.transfer(e, [e.buffer]);
  },
  importErrorFeedback: (errorFeedback) => current('importErrorFeedback').importErrorFeedback(errorFeedback),
  applyAggregate: (peers, referenceCaps) => current('applyAggregate').applyAggregate(peers, referenceCaps),
  evalLoss: (batches, trialUpdate) => current('evalLoss').evalLoss(batches, trialUpdate),
  async exportParams() {
    const theta = await current('exportParams').exportParams();
    return Comlink.transfer(theta, [theta.buffer]);
  },
  async exportOptimizerState() {
    const state = await current('exportOptimizerState').exportOptimizerState();
    return Comlink.transfer(state, [state.expAvg.buffer, state.expAvgSq.buffer]);
  },
  // An Error's class does not survive the structured clone of a Comlink reply, so the worker judges its own engine's errors.
  lossReason: () => Promise.resolve(engine instanceof WebGpuTrainerEngine ? engine.deviceLostReason : undefined),
  async dispose() {
    await engine?.dispose();
    engine = undefined;
  },
  liveBuffers: () => Promise.resolve(engine instanceof WebGpuTrainerEngine ? engine.liveBuffers : 0),
  async keptEngineLossDrill(config) {
    const kept = new KeptEngines(ort);
    const provider = kept.provider('webgpu');
    const fresh = (): InnerOptimizerState => ({ schedulerSteps: 0, expAvg: new Float32Array(parameterCount(config.model)), expAvgSq: new Float32Array(parameterCount(config.model)) });
    try {
      const first = await provider.create(config, undefined, { optimizerState: fresh(), afterLoss: false });
      if (!loseDeviceForTests(first.engine)) throw new TrainerNotReadyError('keptEngineLossDrill (the first engine is not on WebGPU)');
      // `device.lost` settles after the destroy: the engine reports the loss once it has.
      let lostReason: string | undefined;
      for (let i = 0; i < 50 && lostReason === undefined; i++) {
        lostReason = await first.engine.lossReason(undefined);
        if (lostReason === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const afterLoss = await provider.create(config, undefined, { optimizerState: fresh(), afterLoss: true });
      const theta = await afterLoss.engine.exportParams();
      theta[0] = theta[0]! + 0.25;
      loseDeviceForTests(afterLoss.engine, { withoutGpuAfterwards: true });
      const afterLossWithoutGpu = await provider.create(config, theta, { optimizerState: fresh(), afterLoss: true });
      const restored = await afterLossWithoutGpu.engine.exportParams();
      return {
        first: { backend: first.info.backend, reason: first.info.reason },
        lostReason,
        afterLoss: { backend: afterLoss.info.backend, reason: afterLoss.info.reason },
        afterLossWithoutGpu: { backend: afterLossWithoutGpu.info.backend, reason: afterLossWithoutGpu.info.reason },
        paramsKept: restored.length === theta.length && restored.every((v, i) => v === theta[i]),
      };
    } finally {
      await kept.release();
    }
  },
  gpuAllocation: () => Promise.resolve({ liveBytes: allocation.liveBytes, peakBytes: allocation.peakBytes, buffers: allocation.live.size }),
  resetGpuAllocation() {
    allocation.peakBytes = allocation.liveBytes;
    return Promise.resolve();
  },
  placement: () => Promise.resolve(engine instanceof WebGpuTrainerEngine ? engine.placement : undefined),
  async lossAndGradients(batch) {
    const out = await current('lossAndGradients').lossAndGradients(batch);
    return Comlink.transfer(out, [out.grads.buffer]);
  },
  calibrate: (steps) => current('calibrate').calibrate(steps),
  readbackBytes: () => Promise.resolve(engine instanceof WebGpuTrainerEngine ? engine.readbackBytes : 0),
  lastClip: async () => (engine instanceof WebGpuTrainerEngine ? engine.lastClip() : undefined),
  async placementOf(modelBytes) {
    const gpu = current('placementOf');
    if (!(gpu instanceof WebGpuTrainerEngine)) throw new TrainerNotReadyError('placementOf (needs the WebGPU backend)');
    return gpu.placementOf(modelBytes);
  },
};

Comlink.expose(api);
