/**
 * The contract of the kernels worker: it runs one of our WGSL kernels on inputs the caller gives
 * and returns the outputs, so kernel conformance tests (CPU reference vs GPU) and benchmarks can
 * drive the real GPU path from the page, from Playwright and from the CLI alike.
 */
import type { AdamWHyperparameters } from '../core/adamw.ts';
import type { OuterStepBounds, OuterStepResult, PeerSubmission } from '../core/aggregate.ts';
import type { EncodedTensor } from '../core/compress/codec.ts';
import type { FlatTensorSpec } from '../core/compress/error-feedback.ts';
import type { CompressionConfig } from '../core/config.ts';
import type { GpuCapability } from '../gpu/device.ts';

export interface AdamWRunInput {
  readonly param: Float32Array;
  readonly expAvg: Float32Array;
  readonly expAvgSq: Float32Array;
  /** One gradient per step; every step is dispatched without reading anything back in between. */
  readonly grads: readonly Float32Array[];
  readonly hyper: AdamWHyperparameters;
  /** Optimiser step number of the first step (1-based). */
  readonly firstStep: number;
  /** Global-norm clipping factor applied to every step's gradient. */
  readonly clipScale: number;
}

export interface AdamWRunOutput {
  readonly param: Float32Array;
  readonly expAvg: Float32Array;
  readonly expAvgSq: Float32Array;
  /** Live GPU buffers of the worker's pool after the run (should be 0: everything is released). */
  readonly liveBuffers: number;
}

/** One GPU compression (src/gpu/compress.ts) of flat θ0, θH and error-feedback vectors. */
export interface CompressRunInput {
  readonly layout: readonly FlatTensorSpec[];
  readonly compression: CompressionConfig;
  readonly theta0: Float32Array;
  readonly theta: Float32Array;
  readonly errorFeedback: Float32Array;
}

export interface CompressRunOutput {
  readonly tensors: EncodedTensor[];
  /** The error feedback after e ← βe + Δ − decode(sent). */
  readonly errorFeedback: Float32Array;
  readonly liveBuffers: number;
}

/** One GPU outer step (src/gpu/outer-step.ts) on a flat parameter vector. */
export interface OuterStepRunInput {
  readonly layout: readonly FlatTensorSpec[];
  readonly compression: CompressionConfig;
  readonly params: Float32Array;
  readonly peers: readonly PeerSubmission[];
  /** The run's submission bounds (`RunConfig.bounds`); omitted, finiteness only, as the CPU `outerStep`'s default. */
  readonly bounds?: OuterStepBounds;
  /** Per tensor, the carried cap on the clip reference (`referenceCaps`); none when omitted. */
  readonly referenceCaps?: readonly number[];
}

export interface OuterStepRunOutput extends OuterStepResult {
  readonly params: Float32Array;
  /** sha256 of the parameter bytes (little-endian float32), hex: what the sync check compares. */
  readonly paramSha256: string;
  readonly liveBuffers: number;
}

/** Per-chunk DCT-II (or its inverse) of a chunked tensor on the GPU (src/gpu/compress-dct.ts). */
export interface DctRunInput {
  readonly shape: readonly number[];
  readonly compression: CompressionConfig;
  /** Chunked view `[chunkCount][h·w]` (src/core/compress/chunking.ts `toChunks`). */
  readonly chunked: Float32Array;
  readonly inverse: boolean;
}

export interface KernelsApi {
  /** Adapter capabilities, or the reason WebGPU is unusable. Never throws. */
  probe(): Promise<GpuCapability>;
  /** Runs `grads.length` AdamW steps on the GPU and returns the final state. */
  adamw(input: AdamWRunInput): Promise<AdamWRunOutput>;
  /** Compresses on the GPU (pseudo-gradient, error feedback, top-k, quantisation, packing). */
  compress(input: CompressRunInput): Promise<CompressRunOutput>;
  /** Decodes, aggregates and applies gathered submissions to the parameters on the GPU. */
  outerStep(input: OuterStepRunInput): Promise<OuterStepRunOutput>;
  /** Runs the per-chunk DCT (or inverse) and returns the transformed chunked view. */
  dct(input: DctRunInput): Promise<Float32Array>;
  /** Releases the device. */
  dispose(): void;
}
