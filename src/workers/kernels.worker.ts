/**
 * Module Worker exposing `KernelsApi` with comlink. GPU work never runs on the main thread:
 * the page only posts inputs and receives outputs as transferables.
 */
import * as Comlink from 'comlink';
import { adamwStepScalars } from '../core/adamw.ts';
import { AdamWKernel, ADAMW_UNIFORM_BYTES } from '../gpu/adamw.ts';
import { BufferPool } from '../gpu/buffers.ts';
import { acquireGpuDevice, probeGpu } from '../gpu/device.ts';
import { GpuCompressor } from '../gpu/compress.ts';
import { GpuDct } from '../gpu/compress-dct.ts';
import { chunkLayout } from '../core/compress/chunking.ts';
import { GpuOuterStep } from '../gpu/outer-step.ts';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import type { AdamWRunInput, AdamWRunOutput, CompressRunInput, CompressRunOutput, DctRunInput, KernelsApi, OuterStepRunInput, OuterStepRunOutput } from './kernels-api.ts';
import { installErrorTransfer } from './error-transfer.ts';

// Typed errors reach the page as themselves (class, code, fields), not as message strings.
installErrorTransfer();

let devicePromise: Promise<GPUDevice> | undefined;
let adamwKernel: AdamWKernel | undefined;

function device(): Promise<GPUDevice> {
  devicePromise ??= acquireGpuDevice('kernels-worker');
  return devicePromise;
}

const api: KernelsApi = {
  probe: probeGpu,

  async adamw(input: AdamWRunInput): Promise<AdamWRunOutput> {
    const gpu = await device();
    adamwKernel ??= AdamWKernel.create(gpu);
    const kernel = adamwKernel;
    const pool = new BufferPool(gpu);
    try {
      const n = input.param.length;
      const param = pool.storageFrom(input.param, 'param');
      const expAvg = pool.storageFrom(input.expAvg, 'exp_avg');
      const expAvgSq = pool.storageFrom(input.expAvgSq, 'exp_avg_sq');
      const gradScale = pool.storageFrom(new Float32Array([input.clipScale]), 'grad_scale');
      const grad = pool.storage(n * 4, 'grad');
      const uniforms = pool.uniform(ADAMW_UNIFORM_BYTES, 'adamw-uniforms');
      const bindGroup = kernel.bindGroup({ uniforms, param, grad, expAvg, expAvgSq, gradScale });
      input.grads.forEach((g, i) => {
        // writeBuffer calls are ordered with submits on the queue, so reusing one grad and one
        // uniform buffer across steps is safe and needs no readback in between.
        gpu.queue.writeBuffer(grad, 0, g.buffer, g.byteOffset, g.byteLength);
        kernel.writeUniforms(uniforms, adamwStepScalars(input.hyper, input.firstStep + i), n);
        const encoder = gpu.createCommandEncoder({ label: `adamw-step-${i}` });
        const pass = encoder.beginComputePass();
        kernel.encode(pass, bindGroup, n);
        pass.end();
        gpu.queue.submit([encoder.finish()]);
      });
      const out = {
        param: await pool.readFloat32(param, n),
        expAvg: await pool.readFloat32(expAvg, n),
        expAvgSq: await pool.readFloat32(expAvgSq, n),
      };
      pool.dispose();
      const result: AdamWRunOutput = { ...out, liveBuffers: pool.liveCount };
      return Comlink.transfer(result, [out.param.buffer, out.expAvg.buffer, out.expAvgSq.buffer]);
    } finally {
      pool.dispose();
    }
  },

  async compress(input: CompressRunInput): Promise<CompressRunOutput> {
    const gpu = await device();
    const pool = new BufferPool(gpu);
    try {
      const compressor = GpuCompressor.create(gpu, pool, input.layout, input.compression);
      const theta0 = pool.storageFrom(input.theta0, 'theta0');
      const theta = pool.storageFrom(input.theta, 'theta');
      const errorFeedback = pool.storageFrom(input.errorFeedback, 'error-feedback');
      const tensors = await compressor.compress({ theta0, theta, errorFeedback });
      const ef = await pool.readFloat32(errorFeedback, input.errorFeedback.length);
      pool.dispose();
      const result: CompressRunOutput = { tensors, errorFeedback: ef, liveBuffers: pool.liveCount };
      return Comlink.transfer(result, [ef.buffer]);
    } finally {
      pool.dispose();
    }
  },

  async outerStep(input: OuterStepRunInput): Promise<OuterStepRunOutput> {
    const gpu = await device();
    const pool = new BufferPool(gpu);
    try {
      const step = GpuOuterStep.create(gpu, pool, input.layout, input.compression, input.bounds);
      const params = pool.storageFrom(input.params, 'params');
      const summary = await step.apply(params, input.peers, input.referenceCaps);
      const out = await pool.readFloat32(params, input.params.length);
      pool.dispose();
      const paramSha256 = bytesToHex(sha256(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)));
      const result: OuterStepRunOutput = { ...summary, params: out, paramSha256, liveBuffers: pool.liveCount };
      return Comlink.transfer(result, [out.buffer]);
    } finally {
      pool.dispose();
    }
  },

  async dct(input: DctRunInput): Promise<Float32Array> {
    const gpu = await device();
    const pool = new BufferPool(gpu);
    try {
      const layout = chunkLayout(input.shape, input.compression);
      const src = pool.storageFrom(input.chunked, 'dct-input');
      const dst = pool.storage(layout.size * 4, 'dct-output');
      await GpuDct.create(gpu).transform(pool, layout, src, dst, input.inverse);
      const out = await pool.readFloat32(dst, layout.size);
      return Comlink.transfer(out, [out.buffer]);
    } finally {
      pool.dispose();
    }
  },

  dispose(): void {
    void devicePromise?.then((d) => d.destroy());
    devicePromise = undefined;
    adamwKernel = undefined;
  },
};

Comlink.expose(api);
