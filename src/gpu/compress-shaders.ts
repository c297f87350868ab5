/**
 * WGSL sources of the compression and outer-step kernels, each with the shared libraries it needs
 * prepended (WGSL has no include): shaders/lib/soft-f64.wgsl, tensor-layout.wgsl, packed.wgsl.
 */
import softF64 from '../../shaders/lib/soft-f64.wgsl?raw';
import tensorLayout from '../../shaders/lib/tensor-layout.wgsl?raw';
import packedLib from '../../shaders/lib/packed.wgsl?raw';
import pseudoGradient from '../../shaders/pseudo-gradient.wgsl?raw';
import topk from '../../shaders/topk.wgsl?raw';
import pack from '../../shaders/pack.wgsl?raw';
import quantize from '../../shaders/quantize.wgsl?raw';
import efSubtract from '../../shaders/ef-subtract.wgsl?raw';
import decodeAggregate from '../../shaders/decode-aggregate.wgsl?raw';
import applyUpdate from '../../shaders/apply-update.wgsl?raw';
import scatterValues from '../../shaders/scatter-values.wgsl?raw';
import scatterMean from '../../shaders/scatter-mean.wgsl?raw';
import applySign from '../../shaders/apply-sign.wgsl?raw';

export const COMPRESS_SHADERS = {
  'pseudo-gradient': [softF64, pseudoGradient],
  topk: [tensorLayout, topk],
  pack: [tensorLayout, pack],
  quantize: [softF64, tensorLayout, quantize],
  'ef-subtract': [softF64, tensorLayout, packedLib, efSubtract],
  'decode-aggregate': [softF64, tensorLayout, packedLib, decodeAggregate],
  'apply-update': [softF64, tensorLayout, applyUpdate],
  'scatter-values': [softF64, tensorLayout, scatterValues],
  'scatter-mean': [softF64, tensorLayout, scatterMean],
  'apply-sign': [softF64, tensorLayout, applySign],
} as const;

export type CompressShaderName = keyof typeof COMPRESS_SHADERS;

/** Workgroup size of every 1-D kernel above. */
export const WORKGROUP_SIZE = 256;
export const MAX_WORKGROUPS = 65535;
/** Uniform slots are placed at this alignment (WebGPU's minUniformBufferOffsetAlignment ceiling). */
export const UNIFORM_SLOT_BYTES = 256;

export function createKernel(device: GPUDevice, name: CompressShaderName): GPUComputePipeline {
  const module = device.createShaderModule({ label: `${name}.wgsl`, code: COMPRESS_SHADERS[name].join('\n') });
  return device.createComputePipeline({ label: name, layout: 'auto', compute: { module, entryPoint: 'main' } });
}

/** A bind group binding `buffers` in order; a `[buffer, offset, size]` entry binds a uniform slot. */
export function bindAll(device: GPUDevice, pipeline: GPUComputePipeline, buffers: readonly (GPUBuffer | readonly [GPUBuffer, number, number])[]): GPUBindGroup {
  return device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((b, binding) => ({
      binding,
      resource: 'length' in b ? { buffer: b[0], offset: b[1], size: b[2] } : { buffer: b },
    })),
  });
}

/** Workgroups for a grid-stride kernel over `count` items. */
export function strideGroups(count: number): number {
  return Math.max(1, Math.min(MAX_WORKGROUPS, Math.ceil(count / WORKGROUP_SIZE)));
}

export function dispatch(pass: GPUComputePassEncoder, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, x: number, y = 1): void {
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(x, y);
}

/** Writes one uniform slot per entry of `slots` into a fresh uniform buffer. */
export function uniformSlots(device: GPUDevice, buffer: GPUBuffer, slots: readonly Uint32Array[]): void {
  const data = new Uint32Array((slots.length * UNIFORM_SLOT_BYTES) / 4);
  slots.forEach((s, i) => data.set(s, (i * UNIFORM_SLOT_BYTES) / 4));
  device.queue.writeBuffer(buffer, 0, data);
}

/** Pops the validation error scope the caller pushed; a validation error means a bug on our side. */
export async function throwOnGpuError(device: GPUDevice, what: string): Promise<void> {
  const error = await device.popErrorScope();
  if (error) throw new Error(`GPU ${what} failed validation: ${error.message}. This is a bug in the peer; please report it with your browser and GPU.`);
}
