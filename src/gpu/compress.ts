/**
 * Host side of the GPU compression pipeline (gauntlet-spec §5.2–5.4): pseudo-gradient and error
 * feedback, top-k per chunk, quantisation, 12-bit index and bit-packed code packing, and the
 * error-feedback subtraction of what was sent, all on GPUBuffers the trainer engine owns. Only the
 * packed blocks and the per-tensor quantisation parameters come back to the CPU.
 *
 * Kernels (one per file, CPU twins in src/core/compress): shaders/pseudo-gradient.wgsl, topk.wgsl,
 * pack.wgsl, quantize.wgsl, ef-subtract.wgsl. Codec 'sparseloco' only: 'dct-sign' encoding (forward
 * DCT before top-k) stays on the CPU reference path; its outer step runs on the GPU
 * (src/gpu/outer-step-sign.ts).
 */
import type { CompressionConfig } from '../core/config.ts';
import type { EncodedTensor } from '../core/compress/codec.ts';
import type { FlatTensorSpec } from '../core/compress/error-feedback.ts';
import { CompressionError } from '../core/compress/errors.ts';
import {
  encodedTensorFromPacked,
  float64Words,
  gpuCompressionPlan,
  tensorLayoutWords,
  TENSOR_LAYOUT_WORDS,
  type GpuCompressionPlan,
} from '../core/compress/gpu-layout.ts';
import type { BufferPool } from './buffers.ts';
import { bindAll, createKernel, dispatch, MAX_WORKGROUPS, strideGroups, throwOnGpuError, uniformSlots, UNIFORM_SLOT_BYTES } from './compress-shaders.ts';

/** The engine's buffers one compression reads and writes (flat, in `parameterLayout` order). */
export interface GpuCompressionInputs {
  /** θ0: parameters at the start of the window (read). */
  readonly theta0: GPUBuffer;
  /** θH: parameters after the inner steps (read). */
  readonly theta: GPUBuffer;
  /** e: error feedback, updated in place: e ← βe + Δ − decode(sent). */
  readonly errorFeedback: GPUBuffer;
}

const PSEUDO_GRADIENT_UNIFORM_BYTES = 16;
const LAYOUT_BYTES = TENSOR_LAYOUT_WORDS * 4;

export class GpuCompressor {
  readonly plan: GpuCompressionPlan;
  private readonly pipelines: Record<'pseudoGradient' | 'topk' | 'pack' | 'quantize' | 'efSubtract', GPUComputePipeline>;
  private readonly selIndex: GPUBuffer;
  private readonly selValue: GPUBuffer;
  private readonly packed: GPUBuffer;
  private readonly quant: GPUBuffer;
  private readonly status: GPUBuffer;
  private readonly layouts: GPUBuffer;
  private readonly pgUniforms: GPUBuffer;
  private readonly quantRowWords: number;

  private constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    layout: readonly FlatTensorSpec[],
    private readonly compression: CompressionConfig,
  ) {
    if (compression.codec !== 'sparseloco') {
      throw new CompressionError('bad-config', `the GPU compressor implements the 'sparseloco' codec; '${compression.codec}' runs on the CPU reference (src/core/compress)`);
    }
    this.plan = gpuCompressionPlan(layout, compression);
    const p = this.plan;
    this.pipelines = {
      pseudoGradient: createKernel(device, 'pseudo-gradient'),
      topk: createKernel(device, 'topk'),
      pack: createKernel(device, 'pack'),
      quantize: createKernel(device, 'quantize'),
      efSubtract: createKernel(device, 'ef-subtract'),
    };
    this.quantRowWords = 2 + p.bins;
    this.selIndex = pool.storage(p.totalEntries * 4, 'compress-sel-index');
    this.selValue = pool.storage(p.totalEntries * 4, 'compress-sel-value');
    this.packed = pool.storage(p.packedWords * 4, 'compress-packed');
    this.quant = pool.storage(p.tensors.length * this.quantRowWords * 4, 'compress-quant');
    this.status = pool.storage(4, 'compress-status');
    this.layouts = pool.create(Math.max(1, p.tensors.length) * UNIFORM_SLOT_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'compress-layouts');
    uniformSlots(
      device,
      this.layouts,
      p.tensors.map((t, i) => tensorLayoutWords(t, i, p.bins, p.codeBits, compression.quantizationRange)),
    );
    this.pgUniforms = pool.uniform(PSEUDO_GRADIENT_UNIFORM_BYTES, 'pseudo-gradient-uniforms');
    const [betaHi, betaLo] = float64Words(compression.errorFeedbackDecay);
    device.queue.writeBuffer(this.pgUniforms, 0, new Uint32Array([p.paramCount, betaHi, betaLo, 0]));
  }

  static create(device: GPUDevice, pool: BufferPool, layout: readonly FlatTensorSpec[], compression: CompressionConfig): GpuCompressor {
    return new GpuCompressor(device, pool, layout, compression);
  }

  /** Records the whole compression into `encoder`; read the result with `readEncoded` after submitting. */
  encode(encoder: GPUCommandEncoder, io: GpuCompressionInputs): void {
    const { device, pipelines: k, plan } = this;
    for (const buffer of [io.theta0, io.theta, io.errorFeedback]) {
      if (buffer.size < plan.paramCount * 4) {
        throw new CompressionError('length-mismatch', `${buffer.label || 'a parameter buffer'} holds ${buffer.size} bytes; the layout needs ${plan.paramCount * 4}`);
      }
    }
    encoder.clearBuffer(this.status);
    const pass = encoder.beginComputePass({ label: 'compress' });
    dispatch(pass, k.pseudoGradient, bindAll(device, k.pseudoGradient, [this.pgUniforms, io.theta0, io.theta, io.errorFeedback]), strideGroups(plan.paramCount));
    plan.tensors.forEach((t, i) => {
      const layout = [this.layouts, i * UNIFORM_SLOT_BYTES, LAYOUT_BYTES] as const;
      const x = Math.min(t.chunks.chunkCount, MAX_WORKGROUPS);
      dispatch(pass, k.topk, bindAll(device, k.topk, [layout, io.errorFeedback, this.selIndex, this.selValue, this.status]), x, Math.ceil(t.chunks.chunkCount / x));
      dispatch(pass, k.pack, bindAll(device, k.pack, [layout, this.selIndex, this.packed]), strideGroups(Math.ceil(t.indexBytes / 4)));
      dispatch(pass, k.quantize, bindAll(device, k.quantize, [layout, this.selValue, this.packed, this.quant]), 1);
      dispatch(pass, k.efSubtract, bindAll(device, k.efSubtract, [layout, this.selIndex, this.packed, this.quant, io.errorFeedback]), strideGroups(t.entryCount));
    });
    pass.end();
  }

  /** Bytes `readEncoded` copies to the CPU: the status word, the packed blocks and the quantisation rows. */
  get readbackBytes(): number {
    return 4 + this.plan.packedWords * 4 + this.plan.tensors.length * this.quantRowWords * 4;
  }

  /** The encoded tensors of the last submitted `encode`: packed blocks and quantisation rows only. */
  async readEncoded(): Promise<EncodedTensor[]> {
    const [status, packed, quant] = await Promise.all([
      this.pool.read(this.status, 4),
      this.pool.read(this.packed, this.plan.packedWords * 4),
      this.pool.read(this.quant, this.plan.tensors.length * this.quantRowWords * 4),
    ]);
    if (new Uint32Array(status)[0] !== 0) {
      throw new CompressionError('non-finite', 'the error-feedback buffer holds a NaN or ±Infinity; the inner steps diverged, so this window cannot be compressed');
    }
    const words = new Uint32Array(packed);
    const rows = new Float32Array(quant);
    return this.plan.tensors.map((t, i) =>
      encodedTensorFromPacked(t, words, rows.subarray(i * this.quantRowWords, (i + 1) * this.quantRowWords), this.plan.codeBits),
    );
  }

  /** Encode, submit and read back in one call. */
  async compress(io: GpuCompressionInputs): Promise<EncodedTensor[]> {
    this.device.pushErrorScope('validation');
    const encoder = this.device.createCommandEncoder({ label: 'compress' });
    this.encode(encoder, io);
    this.device.queue.submit([encoder.finish()]);
    await throwOnGpuError(this.device, 'compression');
    return this.readEncoded();
  }

  dispose(): void {
    for (const b of [this.selIndex, this.selValue, this.packed, this.quant, this.status, this.layouts, this.pgUniforms]) this.pool.release(b);
  }

  /** The compression config this compressor was built for. */
  get config(): CompressionConfig {
    return this.compression;
  }
}
