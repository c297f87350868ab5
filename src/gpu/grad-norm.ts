/**
 * Host side of `shaders/grad-norm.wgsl`: the global gradient norm and clipping factor over many
 * tensors, on the GPU. CPU twins: src/core/grad-norm.ts and `clipScaleForNorm` in src/core/adamw.ts.
 */
import gradNormSource from '../../shaders/grad-norm.wgsl?raw';
import type { BufferPool } from './buffers.ts';

const WORKGROUP_SIZE = 256;
/** Workgroups per tensor in the first pass: enough to spread a few-million-element tensor. */
const MAX_PARTIALS_PER_TENSOR = 64;
const UNIFORM_BYTES = 16;

/** Bind groups for one fixed set of gradient buffers, built once and reused every step. */
export interface GradNormPlan {
  /** Two f32: [clip scale, norm]; AdamW binds it as `grad_scale`. */
  readonly clip: GPUBuffer;
  readonly partialGroups: readonly { readonly bindGroup: GPUBindGroup; readonly workgroups: number }[];
  readonly finalGroup: GPUBindGroup;
  readonly finalUniforms: GPUBuffer;
  readonly partialCount: number;
}

export class GradNormKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly partialPipeline: GPUComputePipeline,
    private readonly finalPipeline: GPUComputePipeline,
  ) {}

  static create(device: GPUDevice): GradNormKernel {
    const module = device.createShaderModule({ label: 'grad-norm.wgsl', code: gradNormSource });
    const partial = device.createComputePipeline({ label: 'grad-norm-partial', layout: 'auto', compute: { module, entryPoint: 'partial_sums' } });
    const final = device.createComputePipeline({ label: 'grad-norm-finalize', layout: 'auto', compute: { module, entryPoint: 'finalize' } });
    return new GradNormKernel(device, partial, final);
  }

  /** Allocates (through `pool`) the partials, clip and uniform buffers for these gradients. */
  plan(pool: BufferPool, grads: readonly { readonly buffer: GPUBuffer; readonly count: number }[], maxNorm: number): GradNormPlan {
    let base = 0;
    const slots = grads.map((g) => {
      const workgroups = Math.max(1, Math.min(MAX_PARTIALS_PER_TENSOR, Math.ceil(g.count / WORKGROUP_SIZE)));
      const slot = { ...g, base, workgroups };
      base += workgroups;
      return slot;
    });
    const partials = pool.storage(base * 4, 'grad-norm-partials');
    const clip = pool.storage(8, 'grad-norm-clip');
    const partialGroups = slots.map((slot) => {
      const uniforms = pool.uniform(UNIFORM_BYTES, 'grad-norm-partial-uniforms');
      this.device.queue.writeBuffer(uniforms, 0, Uint32Array.of(slot.count, slot.base, 0, 0));
      const bindGroup = this.device.createBindGroup({
        label: 'grad-norm-partial',
        layout: this.partialPipeline.getBindGroupLayout(0),
        entries: [uniforms, slot.buffer, partials].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      return { bindGroup, workgroups: slot.workgroups };
    });
    const finalUniforms = pool.uniform(UNIFORM_BYTES, 'grad-norm-final-uniforms');
    const data = new ArrayBuffer(UNIFORM_BYTES);
    new Uint32Array(data, 0, 1)[0] = base;
    new Float32Array(data, 4, 1)[0] = maxNorm;
    this.device.queue.writeBuffer(finalUniforms, 0, data);
    const finalGroup = this.device.createBindGroup({
      label: 'grad-norm-finalize',
      layout: this.finalPipeline.getBindGroupLayout(0),
      entries: [finalUniforms, partials, clip].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { clip, partialGroups, finalGroup, finalUniforms, partialCount: base };
  }

  /** Records both passes into an open compute pass; afterwards `plan.clip` holds [scale, norm]. */
  encode(pass: GPUComputePassEncoder, plan: GradNormPlan): void {
    pass.setPipeline(this.partialPipeline);
    for (const group of plan.partialGroups) {
      pass.setBindGroup(0, group.bindGroup);
      pass.dispatchWorkgroups(group.workgroups);
    }
    pass.setPipeline(this.finalPipeline);
    pass.setBindGroup(0, plan.finalGroup);
    pass.dispatchWorkgroups(1);
  }
}
