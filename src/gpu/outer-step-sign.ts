/**
 * Host side of the paper-era sign outer step on the GPU (gauntlet-spec §6, codec 'dct-sign', Templar
 * v0.2.88 `outer_step`): per tensor, every peer's dequantised values are L2-normalised per chunk,
 * scatter-meaned, inverse-DCT'd and θ ← θ − α·sign(agg). CPU twin: src/core/aggregate.ts `outerStep`.
 *
 * Split of work:
 * - CPU (sparse, small): sort by uid, check tensor names, dequantise and `normalizePerChunk` with the
 *   reference's own functions (float64 norms), so the GPU gets the CPU's exact float32 values.
 * - GPU: shaders/scatter-values.wgsl (binary64 sums, peers in uid order) and scatter-mean.wgsl give the
 *   CPU's chunked aggregate bit for bit; shaders/dct.wgsl (GpuDct) inverts the DCT with float32 sums;
 *   shaders/apply-sign.wgsl un-chunks and subtracts fround(α)·sign.
 *
 * Tolerance (why this is not bit-exact, and what it means for sync): the inverse DCT sums h + w
 * float32 products per entry where the CPU sums in float64, so agg differs from the CPU's by a few
 * float32 ulps of the chunk's largest terms. Only sign(agg) is applied, so θ differs from the CPU's
 * result only where |agg| is below that rounding noise and the sign flips (or one side is exactly 0):
 * there the two θ differ by α (or 2α). Such entries are rare (the Playwright test counts them) and are
 * the entries the aggregate barely moves; but they break bit-identical sync between a GPU peer and a
 * CPU peer (and, since float32 contraction may differ between drivers, between two different GPUs).
 * A 'dct-sign' run therefore needs a tolerant sync check, or all peers on one path; 'sparseloco'
 * (src/gpu/outer-step.ts) is bit-exact.
 */
import { AggregationError, FINITE_ONLY_STEP, normalizePerChunk, outerUpdateNorm, stepRefusal, type OuterStepBounds, type OuterStepResult, type PeerSubmission } from '../core/aggregate.ts';
import { dequantizeTensor } from '../core/compress/codec.ts';
import type { FlatTensorSpec } from '../core/compress/error-feedback.ts';
import type { CompressionConfig } from '../core/config.ts';
import { gpuCompressionPlan, tensorLayoutWords, TENSOR_LAYOUT_WORDS, type GpuCompressionPlan } from '../core/compress/gpu-layout.ts';
import type { BufferPool } from './buffers.ts';
import { GpuDct } from './compress-dct.ts';
import { bindAll, createKernel, dispatch, strideGroups, throwOnGpuError, uniformSlots, UNIFORM_SLOT_BYTES } from './compress-shaders.ts';
import { checkedPeers } from './outer-step.ts';

const LAYOUT_BYTES = TENSOR_LAYOUT_WORDS * 4;

export class GpuSignOuterStep {
  readonly plan: GpuCompressionPlan;
  private readonly scatter: GPUComputePipeline;
  private readonly mean: GPUComputePipeline;
  private readonly applySign: GPUComputePipeline;
  private readonly dct: GpuDct;
  /** Scratch sized for the largest tensor: binary64 sums, counts, the chunked mean, the inverse DCT. */
  private readonly sum: GPUBuffer;
  private readonly count: GPUBuffer;
  private readonly chunkedMean: GPUBuffer;
  private readonly aggregate: GPUBuffer;

  private constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    private readonly layout: readonly FlatTensorSpec[],
    private readonly compression: CompressionConfig,
    private readonly bounds: OuterStepBounds,
  ) {
    if (compression.codec !== 'dct-sign') {
      throw new AggregationError(`GpuSignOuterStep implements the 'dct-sign' codec; '${compression.codec}' uses GpuOuterStep (src/gpu/outer-step.ts)`);
    }
    this.plan = gpuCompressionPlan(layout, compression);
    this.scatter = createKernel(device, 'scatter-values');
    this.mean = createKernel(device, 'scatter-mean');
    this.applySign = createKernel(device, 'apply-sign');
    this.dct = GpuDct.create(device);
    const n = this.plan.maxTensorSize;
    this.sum = pool.storage(n * 8, 'sign-step-sum');
    this.count = pool.storage(n * 4, 'sign-step-count');
    this.chunkedMean = pool.storage(n * 4, 'sign-step-mean');
    this.aggregate = pool.storage(n * 4, 'sign-step-aggregate');
  }

  static create(device: GPUDevice, pool: BufferPool, layout: readonly FlatTensorSpec[], compression: CompressionConfig, bounds: OuterStepBounds = FINITE_ONLY_STEP): GpuSignOuterStep {
    return new GpuSignOuterStep(device, pool, layout, compression, bounds);
  }

  /**
   * θ ← θ − α·sign(agg) on `params` (flat, layout order), in place; resolves once the GPU has finished.
   * `skippedTensors` is always empty: the wire decoder admits only finite values, their per-chunk
   * normalisation is finite, so the CPU reference's non-finite skip never triggers.
   */
  /** `_caps`: the clip-reference caps of 'sparseloco'; 'dct-sign' normalises chunks and clips nothing. */
  async apply(params: GPUBuffer, peers: readonly PeerSubmission[], _caps?: readonly number[]): Promise<OuterStepResult> {
    const { device, plan, pool } = this;
    const { admitted: sorted, dropped } = checkedPeers(params, plan, this.layout, peers, this.compression, this.bounds);
    const uids = sorted.map((p) => p.uid);
    const medianNorms = this.layout.map(() => NaN);
    if (sorted.length === 0) return { uids, dropped, medianNorms, skippedTensors: [], updateNorm: 0, refused: null };
    // The per-window bound, decided on the CPU with the reference's arithmetic, as the 'sparseloco' step does.
    const updateNorm = outerUpdateNorm(sorted, this.layout, this.compression, this.bounds);
    const refused = stepRefusal(updateNorm, this.bounds);
    if (refused !== null) return { uids, dropped, medianNorms, skippedTensors: [], updateNorm, refused };

    const P = sorted.length;
    // Per tensor: P slots for the peers' scatters, one for the mean, one for the sign step.
    const slots: Uint32Array[] = [];
    const entryCounts = plan.tensors.map((t) => t.entryCount * P);
    const entries = new Uint32Array(2 * entryCounts.reduce((a, b) => a + b, 0));
    const values = new Float32Array(entries.buffer);
    let pair = 0;
    plan.tensors.forEach((t, ti) => {
      const { k, totalk } = t.chunks;
      sorted.forEach((peer) => {
        const tensor = peer.tensors[ti]!;
        const normalized = normalizePerChunk(dequantizeTensor(tensor), k);
        if (tensor.indices.length !== t.entryCount || normalized.length !== t.entryCount) {
          throw new AggregationError(`uid ${peer.uid} sends ${tensor.indices.length} entries for ${t.spec.name}; the layout needs ${t.entryCount}`);
        }
        slots.push(tensorLayoutWords(t, ti, plan.bins, plan.codeBits, 0, pair));
        for (let i = 0; i < t.entryCount; i++, pair++) {
          const j = tensor.indices[i]!;
          if (j >= totalk) throw new AggregationError(`uid ${peer.uid} has index ${j} outside a chunk of ${totalk} entries in ${t.spec.name}`);
          entries[2 * pair] = j;
          values[2 * pair + 1] = normalized[i]!;
        }
      });
      slots.push(tensorLayoutWords(t, ti, plan.bins, plan.codeBits, this.compression.outerLr));
    });

    const entryBuffer = pool.storageFrom(entries, 'sign-step-entries');
    const uniforms = pool.create(slots.length * UNIFORM_SLOT_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'sign-step-layouts');
    try {
      uniformSlots(device, uniforms, slots);
      let slot = 0;
      for (const t of plan.tensors) {
        device.pushErrorScope('validation');
        const encoder = device.createCommandEncoder({ label: `sign-step-scatter:${t.spec.name}` });
        const pass = encoder.beginComputePass();
        for (let p = 0; p < P; p++) {
          const layout = [uniforms, slot++ * UNIFORM_SLOT_BYTES, LAYOUT_BYTES] as const;
          dispatch(pass, this.scatter, bindAll(device, this.scatter, [layout, entryBuffer, this.sum, this.count]), strideGroups(t.entryCount));
        }
        const stepLayout = [uniforms, slot++ * UNIFORM_SLOT_BYTES, LAYOUT_BYTES] as const;
        dispatch(pass, this.mean, bindAll(device, this.mean, [stepLayout, this.sum, this.count, this.chunkedMean]), strideGroups(t.chunks.size));
        pass.end();
        device.queue.submit([encoder.finish()]);
        await throwOnGpuError(device, 'sign outer step (scatter-mean)');
        await this.dct.transform(pool, t.chunks, this.chunkedMean, this.aggregate, true);
        device.pushErrorScope('validation');
        const applyEncoder = device.createCommandEncoder({ label: `sign-step-apply:${t.spec.name}` });
        const applyPass = applyEncoder.beginComputePass();
        dispatch(applyPass, this.applySign, bindAll(device, this.applySign, [stepLayout, this.aggregate, params]), strideGroups(t.chunks.size));
        applyPass.end();
        device.queue.submit([applyEncoder.finish()]);
        await throwOnGpuError(device, 'sign outer step (apply)');
      }
      await device.queue.onSubmittedWorkDone();
    } finally {
      pool.release(entryBuffer);
      pool.release(uniforms);
    }
    return { uids, dropped, medianNorms, skippedTensors: [], updateNorm, refused: null };
  }

  dispose(): void {
    for (const b of [this.sum, this.count, this.chunkedMean, this.aggregate]) this.pool.release(b);
  }
}
