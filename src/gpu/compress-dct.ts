/**
 * Host side of shaders/dct.wgsl: per-chunk DCT-II and inverse for the 'dct-sign' codec (gauntlet-spec
 * §5.3, Templar v0.2.88 `TransformDCT`). CPU twin: src/core/compress/dct.ts. Float32 sums: within a
 * few ulps of the CPU's float64 sums, not bit-equal (see the shader's header).
 */
import type { ChunkLayout } from '../core/compress/chunking.ts';
import { dctMatrix } from '../core/compress/dct.ts';
import dctSource from '../../shaders/dct.wgsl?raw';
import type { BufferPool } from './buffers.ts';
import { bindAll, dispatch, strideGroups, throwOnGpuError, uniformSlots, UNIFORM_SLOT_BYTES } from './compress-shaders.ts';

const DCT_UNIFORM_BYTES = 32;

export class GpuDct {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
  ) {}

  static create(device: GPUDevice): GpuDct {
    const module = device.createShaderModule({ label: 'dct.wgsl', code: dctSource });
    return new GpuDct(device, device.createComputePipeline({ label: 'dct', layout: 'auto', compute: { module, entryPoint: 'main' } }));
  }

  /** Transforms every chunk of `input` (chunked view, `layout.size` floats) into `output`; resolves when done. */
  async transform(pool: BufferPool, layout: ChunkLayout, input: GPUBuffer, output: GPUBuffer, inverse: boolean): Promise<void> {
    const { device, pipeline } = this;
    const dh = dctMatrix(layout.h);
    const dw = dctMatrix(layout.w);
    const basis = new Float32Array(dh.length + dw.length);
    basis.set(dh, 0);
    basis.set(dw, dh.length);
    const basisBuffer = pool.storageFrom(basis, 'dct-basis');
    const scratch = pool.storage(layout.size * 4, 'dct-scratch');
    const uniforms = pool.create(2 * UNIFORM_SLOT_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'dct-uniforms');
    try {
      const words = (stage: number) => new Uint32Array([layout.h, layout.w, layout.size, inverse ? 1 : 0, stage, 0, dh.length, 0]);
      uniformSlots(device, uniforms, [words(0), words(1)]);
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder({ label: 'dct' });
      const pass = encoder.beginComputePass();
      dispatch(pass, pipeline, bindAll(device, pipeline, [[uniforms, 0, DCT_UNIFORM_BYTES], basisBuffer, input, scratch]), strideGroups(layout.size));
      dispatch(pass, pipeline, bindAll(device, pipeline, [[uniforms, UNIFORM_SLOT_BYTES, DCT_UNIFORM_BYTES], basisBuffer, scratch, output]), strideGroups(layout.size));
      pass.end();
      device.queue.submit([encoder.finish()]);
      await throwOnGpuError(device, 'DCT');
      await device.queue.onSubmittedWorkDone();
    } finally {
      for (const b of [basisBuffer, scratch, uniforms]) pool.release(b);
    }
  }
}
