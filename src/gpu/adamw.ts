/**
 * Host side of `shaders/adamw.wgsl`: pipeline, uniform layout and dispatch size.
 * CPU twin: `src/core/adamw.ts`.
 */
import type { AdamWStepScalars } from '../core/adamw.ts';
import adamwSource from '../../shaders/adamw.wgsl?raw';

const WORKGROUP_SIZE = 256;
const MAX_WORKGROUPS = 65535;
/** Bytes of `AdamWUniforms` in the shader: seven f32 and one u32. */
export const ADAMW_UNIFORM_BYTES = 32;

/** The buffers one AdamW update binds; all must live on the kernel's device. */
export interface AdamWBindings {
  readonly uniforms: GPUBuffer;
  readonly param: GPUBuffer;
  readonly grad: GPUBuffer;
  readonly expAvg: GPUBuffer;
  readonly expAvgSq: GPUBuffer;
  /** One f32: the global-norm clipping factor for this step. */
  readonly gradScale: GPUBuffer;
}

export class AdamWKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
  ) {}

  static create(device: GPUDevice): AdamWKernel {
    const module = device.createShaderModule({ label: 'adamw.wgsl', code: adamwSource });
    const pipeline = device.createComputePipeline({ label: 'adamw', layout: 'auto', compute: { module, entryPoint: 'main' } });
    return new AdamWKernel(device, pipeline);
  }

  /** Writes the step's scalars for a tensor of `count` elements into its uniform buffer. */
  writeUniforms(uniforms: GPUBuffer, s: AdamWStepScalars, count: number): void {
    const data = new ArrayBuffer(ADAMW_UNIFORM_BYTES);
    new Float32Array(data, 0, 7).set([s.lr, s.beta1, s.beta2, s.eps, s.weightDecay, s.stepSize, s.invSqrtBiasCorrection2]);
    new Uint32Array(data, 28, 1)[0] = count;
    this.device.queue.writeBuffer(uniforms, 0, data);
  }

  /** A bind group for one tensor. Callers keep it across steps: the buffers do not change. */
  bindGroup(b: AdamWBindings): GPUBindGroup {
    return this.device.createBindGroup({
      label: 'adamw-bind-group',
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [b.uniforms, b.param, b.grad, b.expAvg, b.expAvgSq, b.gradScale].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  /** Records the update of one tensor of `count` elements into an open compute pass. */
  encode(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, count: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.max(1, Math.min(MAX_WORKGROUPS, Math.ceil(count / WORKGROUP_SIZE))));
  }
}
