/**
 * The capability gate (issue #8, reworked for issue #17; style.md §1.1, §1.3): before anything is
 * downloaded, answer "can this device join this run?" from the run the page serves (its run
 * document), or say in plain words why it cannot and offer the CPU (wasm EP) path, which runs the
 * same graphs (src/gpu/select-engine.ts). The run is the network's choice, not the device's: a device
 * that cannot hold it trains it on the CPU or not at all, never another model.
 *
 * The sizes come from the run's shapes (src/model/memory.ts), not from guesses: the largest single
 * buffer (the flat θ, or the logits or attention scores of one batch) must fit the adapter's
 * `maxBufferSize` and `maxStorageBufferBindingSize`, and the training memory is estimated and shown.
 * WebGPU does not tell a page how much memory the GPU has, so the estimate is stated, not checked;
 * a device that runs out loses its device, and the peer recovers on the CPU (src/workers/kept-engine.ts).
 */
import type { RunConfig } from '../core/config.ts';
import type { GpuCapability } from '../gpu/device.ts';
import { AdapterLimitError, WebGPUUnavailableError } from '../gpu/errors.ts';
import { trainingMemoryEstimate, type TrainingMemoryEstimate } from '../model/memory.ts';

/** What the run needs of a GPU. */
export interface RunNeeds {
  readonly preset: RunConfig['preset'];
  readonly runId: string;
  readonly parameterCount: number;
  readonly largestBufferBytes: number;
  readonly largestBufferName: string;
  readonly memory: TrainingMemoryEstimate;
}

export function runNeeds(config: RunConfig): RunNeeds {
  const memory = trainingMemoryEstimate(config);
  return { preset: config.preset, runId: config.runId, parameterCount: memory.parameters, largestBufferBytes: memory.largestBuffer.bytes, largestBufferName: memory.largestBuffer.name, memory };
}

/** An error as plain data, so the gate can cross `window.gauntlet` to Playwright. */
export interface GateError {
  readonly name: string;
  readonly message: string;
}

/** What the tab can do with the run, decided before any download. */
export type CapabilityGate =
  | {
      readonly kind: 'webgpu';
      /** The run's preset (the run's choice, not the device's). */
      readonly preset: RunConfig['preset'];
      readonly capability: GpuCapability;
      /** A software adapter (SwiftShader): correct but far slower than the CPU path. */
      readonly software: boolean;
      readonly needs: RunNeeds;
      /** Why, in plain words. */
      readonly explanation: string;
    }
  | {
      readonly kind: 'wasm';
      readonly preset: RunConfig['preset'];
      readonly capability: GpuCapability;
      readonly needs: RunNeeds;
      /** The typed error that closed the WebGPU path (WebGPUUnavailableError or AdapterLimitError). */
      readonly error: GateError;
      readonly explanation: string;
    };

function asGateError(error: Error): GateError {
  return { name: error.name, message: error.message };
}

const MIB = 2 ** 20;

/**
 * WebGPU when the run's largest buffer fits the adapter's `maxBufferSize` and
 * `maxStorageBufferBindingSize`; a software adapter is told it will be slow (the trainer measures it
 * against wasm and keeps the faster). No usable adapter, or limits below the run's, give the wasm
 * path with the typed error that says why.
 */
export function decideCapability(capability: GpuCapability, run: RunConfig): CapabilityGate {
  const needs = runNeeds(run);
  const { preset } = needs;
  const memoryText = `training it takes about ${(needs.memory.totalBytes / MIB).toFixed(0)} MiB of GPU memory (estimate; budget ${(needs.memory.budgetBytes / MIB).toFixed(0)} MiB)`;
  const wasmPath = (error: Error, explanation: string): CapabilityGate => ({ kind: 'wasm', preset, capability, needs, error: asGateError(error), explanation });
  if (!capability.available || capability.limits === undefined) {
    return wasmPath(
      new WebGPUUnavailableError(capability.reason ?? 'the adapter reported no limits'),
      `No usable GPU here, so this tab can train the run's ${preset} model on the CPU (WASM) instead: slower, but it counts the same.`,
    );
  }
  const { maxBufferSize, maxStorageBufferBindingSize } = capability.limits;
  const limit = Math.min(maxBufferSize, maxStorageBufferBindingSize);
  if (needs.largestBufferBytes > limit) {
    const which = maxBufferSize < needs.largestBufferBytes ? 'maxBufferSize' : 'maxStorageBufferBindingSize';
    return wasmPath(
      new AdapterLimitError(which, limit, needs.largestBufferBytes),
      `This GPU's buffers are too small for the run's ${preset} model (${needs.largestBufferName} needs ${(needs.largestBufferBytes / MIB).toFixed(1)} MiB), so this tab can train it on the CPU (WASM) instead.`,
    );
  }
  const software = capability.isFallbackAdapter === true;
  return {
    kind: 'webgpu',
    preset,
    capability,
    software,
    needs,
    explanation: software
      ? `The WebGPU adapter is a software emulation on the CPU: it can hold the run's ${preset} model, but the trainer measures WebGPU against WASM and keeps the faster; ${memoryText}.`
      : `The run's ${preset} model fits this GPU: its largest buffer (${needs.largestBufferName}) needs ${(needs.largestBufferBytes / MIB).toFixed(1)} MiB; ${memoryText}.`,
  };
}
