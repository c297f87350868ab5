/**
 * The contract of the kernels worker: it runs one of our WGSL kernels on inputs the caller gives
 * and returns the outputs, so kernel conformance tests (CPU reference vs GPU) and benchmarks can
 * drive the real GPU path from the page, from Playwright and from the CLI alike.
 */
import type { AdamWHyperparameters } from '../core/adamw.ts';
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

export interface KernelsApi {
  /** Adapter capabilities, or the reason WebGPU is unusable. Never throws. */
  probe(): Promise<GpuCapability>;
  /** Runs `grads.length` AdamW steps on the GPU and returns the final state. */
  adamw(input: AdamWRunInput): Promise<AdamWRunOutput>;
  /** Releases the device. */
  dispose(): void;
}
