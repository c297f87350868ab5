/**
 * TEST BUILDS ONLY: the device-loss hook of the trainer test worker (which exists only in a test
 * build), used by test/browser/device-loss.spec.ts to make `device.lost` fire for real. No product
 * worker imports it: the peer worker ships no way to destroy its own device.
 */
import type { TrainerEngine } from '../model/engine.ts';
import { WebGpuTrainerEngine } from '../gpu/webgpu-engine.ts';

/** A string only this module contains: the production-build test looks for it. */
export const WORKER_TEST_HOOKS_MARKER = 'gauntlet-worker-test-hooks-present';

/**
 * Destroys the WebGPU engine's device, as a driver reset would; with `withoutGpuAfterwards` this
 * worker's `navigator.gpu.requestAdapter` finds no adapter afterwards, so a recovery must fall back
 * to wasm. False (nothing done) on the wasm engine.
 */
export function loseDeviceForTests(engine: TrainerEngine | undefined, options?: { readonly withoutGpuAfterwards?: boolean }): boolean {
  if (!(engine instanceof WebGpuTrainerEngine)) return false;
  (globalThis as Record<string, unknown>)[WORKER_TEST_HOOKS_MARKER] = true;
  if (options?.withoutGpuAfterwards === true) {
    // As a browser whose GPU process gave up: this worker's `requestAdapter` finds no adapter from now on.
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    if (gpu !== undefined) Object.defineProperty(gpu, 'requestAdapter', { value: () => Promise.resolve(null), configurable: true });
  }
  engine.device.destroy();
  return true;
}
