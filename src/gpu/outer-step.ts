/**
 * Host side of the GPU outer step (gauntlet-spec §6, Templar `tplr.neurons.outer_step`, codec
 * 'sparseloco'): gathered submissions are decoded, clipped to the median norm, scatter-meaned and
 * applied to θ on the GPU, with the CPU reference's bits (src/core/aggregate.ts `outerStep`), so every
 * honest peer, GPU or CPU, ends the window with the same parameter bytes.
 *
 * Split of work, and why it is exact:
 * - CPU: sort by uid, check tensor names, and per (tensor, peer) the norm, median and clip factor from
 *   the small sparse values with the reference's own float64 functions; a peer's clipped value depends
 *   only on its code, so `bins` floats per (tensor, peer) carry it (`clippedValueTables`).
 * - GPU: shaders/decode-aggregate.wgsl unpacks the wire blocks and adds each value into a binary64
 *   accumulator and a count, one dispatch per (tensor, peer) in uid order; shaders/apply-update.wgsl
 *   divides, multiplies by α and subtracts, all in software binary64 rounded as the CPU rounds.
 * No float atomics; each accumulator sees its values in uid order whatever the GPU's scheduling.
 */
import { admitPeers, AggregationError, FINITE_ONLY_STEP, outerUpdateNorm, stepRefusal, type DroppedPeer, type OuterStepBounds, type OuterStepResult, type PeerSubmission } from '../core/aggregate.ts';
import type { CompressionConfig } from '../core/config.ts';
import type { FlatTensorSpec } from '../core/compress/error-feedback.ts';
import { clippedValueTables, gpuCompressionPlan, tensorLayoutWords, writePackedTensor, TENSOR_LAYOUT_WORDS, type GpuCompressionPlan } from '../core/compress/gpu-layout.ts';
import type { BufferPool } from './buffers.ts';
import { bindAll, createKernel, dispatch, strideGroups, throwOnGpuError, uniformSlots, UNIFORM_SLOT_BYTES } from './compress-shaders.ts';

const LAYOUT_BYTES = TENSOR_LAYOUT_WORDS * 4;

/**
 * The peers the step aggregates, sorted by uid, and those it drops: the same `admitPeers` the CPU
 * `outerStep` runs (layout, finiteness and the run's bounds), so both steps leave out the same
 * peers and give the same θ on every hostile input (issue #14). Throws only when `params` is too
 * small for the layout (our bug, not a peer's).
 */
export function checkedPeers(
  params: GPUBuffer,
  plan: GpuCompressionPlan,
  layout: readonly FlatTensorSpec[],
  peers: readonly PeerSubmission[],
  compression: CompressionConfig,
  bounds: OuterStepBounds,
): { readonly admitted: PeerSubmission[]; readonly dropped: DroppedPeer[] } {
  if (params.size < plan.paramCount * 4) {
    throw new AggregationError(`the parameter buffer holds ${params.size} bytes; the layout needs ${plan.paramCount * 4}`);
  }
  return admitPeers(peers, layout, compression, bounds);
}

export class GpuOuterStep {
  readonly plan: GpuCompressionPlan;
  private readonly decodePipeline: GPUComputePipeline;
  private readonly applyPipeline: GPUComputePipeline;
  /** Scratch: binary64 sum (2 words) and count per chunked coordinate of the largest tensor; zero between tensors. */
  private readonly sum: GPUBuffer;
  private readonly count: GPUBuffer;

  private constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    private readonly layout: readonly FlatTensorSpec[],
    private readonly compression: CompressionConfig,
    private readonly bounds: OuterStepBounds,
  ) {
    if (compression.codec !== 'sparseloco') {
      throw new AggregationError(`the GPU outer step implements the 'sparseloco' codec; '${compression.codec}' runs on the CPU reference (src/core/aggregate.ts outerStep)`);
    }
    this.plan = gpuCompressionPlan(layout, compression);
    this.decodePipeline = createKernel(device, 'decode-aggregate');
    this.applyPipeline = createKernel(device, 'apply-update');
    this.sum = pool.storage(this.plan.maxTensorSize * 8, 'outer-step-sum');
    this.count = pool.storage(this.plan.maxTensorSize * 4, 'outer-step-count');
  }

  /** `bounds`: the run's `RunConfig.bounds` (the CPU reference's default, finiteness only, when omitted). */
  static create(device: GPUDevice, pool: BufferPool, layout: readonly FlatTensorSpec[], compression: CompressionConfig, bounds: OuterStepBounds = FINITE_ONLY_STEP): GpuOuterStep {
    return new GpuOuterStep(device, pool, layout, compression, bounds);
  }

  /**
   * θ ← θ − α·agg on `params` (flat, `parameterLayout` order), in place; `caps` per tensor as the
   * CPU `outerStep`'s (the carried caps on the clip reference). Resolves once the GPU has
   * finished. No peers: nothing changes. `skippedTensors` is always empty here: admitted values are
   * finite and bounded, so the aggregate is finite (the CPU reference's skip never triggers).
   */
  async apply(params: GPUBuffer, peers: readonly PeerSubmission[], caps?: readonly number[]): Promise<OuterStepResult> {
    const { device, plan, pool } = this;
    const { admitted: sorted, dropped } = checkedPeers(params, plan, this.layout, peers, this.compression, this.bounds);
    const uids = sorted.map((p) => p.uid);
    if (sorted.length === 0) return { uids, dropped, medianNorms: this.layout.map(() => NaN), skippedTensors: [], updateNorm: 0, refused: null };
    // The per-window bound, decided on the CPU with the reference's arithmetic so that GPU and CPU peers refuse the same steps.
    const updateNorm = outerUpdateNorm(sorted, this.layout, this.compression, this.bounds, caps);
    const refused = stepRefusal(updateNorm, this.bounds);
    if (refused !== null) {
      const medianNorms = plan.tensors.map((_, ti) => clippedValueTables(sorted.map((p) => p.tensors[ti]!), this.bounds, caps?.[ti]).medianNorm);
      return { uids, dropped, medianNorms, skippedTensors: [], updateNorm, refused };
    }

    const P = sorted.length;
    const bins = plan.bins;
    const packedWords = new Uint32Array(P * plan.packedWords);
    const tables = new Float32Array(plan.tensors.length * P * bins);
    const medianNorms: number[] = [];
    const slots: Uint32Array[] = [];
    plan.tensors.forEach((t, ti) => {
      const tensors = sorted.map((p) => p.tensors[ti]!);
      const clipped = clippedValueTables(tensors, this.bounds, caps?.[ti]);
      medianNorms.push(clipped.medianNorm);
      tensors.forEach((tensor, p) => {
        writePackedTensor(t, tensor, packedWords.subarray(p * plan.packedWords, (p + 1) * plan.packedWords), plan.codeBits);
        const tableOffset = (ti * P + p) * bins;
        tables.set(clipped.tables[p]!, tableOffset);
        const words = tensorLayoutWords(t, ti, bins, plan.codeBits, this.compression.outerLr, tableOffset);
        words[9] = t.indexWordOffset + p * plan.packedWords;
        words[10] = t.codeWordOffset + p * plan.packedWords;
        slots.push(words);
      });
      slots.push(tensorLayoutWords(t, ti, bins, plan.codeBits, this.compression.outerLr));
    });

    const packed = pool.storageFrom(packedWords, 'outer-step-packed');
    const table = pool.storageFrom(tables, 'outer-step-values');
    const uniforms = pool.create(slots.length * UNIFORM_SLOT_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'outer-step-layouts');
    try {
      uniformSlots(device, uniforms, slots);
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder({ label: 'outer-step' });
      const pass = encoder.beginComputePass({ label: 'outer-step' });
      let slot = 0;
      for (const t of plan.tensors) {
        for (let p = 0; p < P; p++) {
          const layout = [uniforms, slot++ * UNIFORM_SLOT_BYTES, LAYOUT_BYTES] as const;
          dispatch(pass, this.decodePipeline, bindAll(device, this.decodePipeline, [layout, packed, table, this.sum, this.count]), strideGroups(t.entryCount));
        }
        const layout = [uniforms, slot++ * UNIFORM_SLOT_BYTES, LAYOUT_BYTES] as const;
        dispatch(pass, this.applyPipeline, bindAll(device, this.applyPipeline, [layout, this.sum, this.count, params]), strideGroups(t.chunks.size));
      }
      pass.end();
      device.queue.submit([encoder.finish()]);
      await throwOnGpuError(device, 'outer step');
      await device.queue.onSubmittedWorkDone();
    } finally {
      for (const b of [packed, table, uniforms]) pool.release(b);
    }
    return { uids, dropped, medianNorms, skippedTensors: [], updateNorm, refused: null };
  }

  dispose(): void {
    this.pool.release(this.sum);
    this.pool.release(this.count);
  }
}
