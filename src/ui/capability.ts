/**
 * The capability gate (issue #8; style.md §1.1, §1.3): before anything is downloaded, decide from
 * the adapter's limits which run preset this tab can train, or say in plain words why it cannot
 * and offer the CPU (wasm EP) path, which runs the same graphs (src/gpu/select-engine.ts).
 *
 * The buffer sizes come from the model's parameter layout (src/model/params.ts), not from guesses:
 * the WebGPU engine keeps θ, θ0, the AdamW moments and the gradients as flat float32 buffers of
 * `parameterCount` elements and binds them whole, so the flat vector is normally the largest
 * buffer; the logits `[batch, seqLen, vocab]` and the attention scores `[batch, heads, seqLen,
 * seqLen]` of the training graph are counted too, in case a shape makes them larger.
 */
import type { RunConfig } from '../core/config.ts';
import { RUN_CONFIG_PRESETS } from '../core/run-config.ts';
import type { GpuCapability } from '../gpu/device.ts';
import { AdapterLimitError, WebGPUUnavailableError } from '../gpu/errors.ts';
import { parameterCount } from '../model/params.ts';

export type PresetName = keyof typeof RUN_CONFIG_PRESETS;

/** Presets from the largest to the smallest: the gate picks the first that fits. */
const PRESETS_LARGEST_FIRST: readonly PresetName[] = ['small', 'tiny'];

/** The largest single GPU buffer (and binding) a preset needs, and which tensor it is. */
export interface BufferNeeds {
  readonly preset: PresetName;
  readonly parameterCount: number;
  readonly largestBufferBytes: number;
  readonly largestBufferName: string;
}

/** The largest buffer of the WebGPU trainer for `config` (see the file comment for which buffers count). */
export function bufferNeeds(preset: PresetName, config: RunConfig = RUN_CONFIG_PRESETS[preset]()): BufferNeeds {
  const { model, inner } = config;
  const count = parameterCount(model);
  const candidates: [string, number][] = [
    ['the flat parameter vector θ (and its moments, θ0 and gradients)', count * 4],
    ['the logits of one batch', inner.batchSize * model.seqLen * model.vocabSize * 4],
    ['the attention scores of one batch', inner.batchSize * model.nHeads * model.seqLen * model.seqLen * 4],
  ];
  let [name, bytes] = candidates[0]!;
  for (const [candidateName, candidateBytes] of candidates) {
    if (candidateBytes > bytes) [name, bytes] = [candidateName, candidateBytes];
  }
  return { preset, parameterCount: count, largestBufferBytes: bytes, largestBufferName: name };
}

/** An error as plain data, so the gate can cross `window.gauntlet` to Playwright. */
export interface GateError {
  readonly name: string;
  readonly message: string;
}

/** What the tab can do, decided before any download. */
export type CapabilityGate =
  | {
      readonly kind: 'webgpu';
      readonly preset: PresetName;
      readonly capability: GpuCapability;
      /** A software adapter (SwiftShader): correct but far slower than the CPU path. */
      readonly software: boolean;
      readonly needs: readonly BufferNeeds[];
      /** Why this preset, in plain words. */
      readonly explanation: string;
    }
  | {
      readonly kind: 'wasm';
      readonly preset: PresetName;
      readonly capability: GpuCapability;
      readonly needs: readonly BufferNeeds[];
      /** The typed error that closed the WebGPU path (WebGPUUnavailableError or AdapterLimitError). */
      readonly error: GateError;
      readonly explanation: string;
    };

function asGateError(error: Error): GateError {
  return { name: error.name, message: error.message };
}

/**
 * Picks the largest preset whose buffers fit the adapter's `maxBufferSize` and
 * `maxStorageBufferBindingSize`. A software adapter gets `tiny` (it trains, but slowly). No
 * usable adapter, or limits below even `tiny`, give the wasm path with the typed error that says why.
 */
export function decideCapability(capability: GpuCapability): CapabilityGate {
  const needs = PRESETS_LARGEST_FIRST.map((preset) => bufferNeeds(preset));
  const smallest = needs[needs.length - 1]!;
  const wasmPath = (error: Error, explanation: string): CapabilityGate => ({ kind: 'wasm', preset: smallest.preset, capability, needs, error: asGateError(error), explanation });
  if (!capability.available || capability.limits === undefined) {
    return wasmPath(
      new WebGPUUnavailableError(capability.reason ?? 'the adapter reported no limits'),
      `No usable GPU here, so this tab can train the ${smallest.preset} model on the CPU (WASM) instead: slower, but it counts the same.`,
    );
  }
  const { maxBufferSize, maxStorageBufferBindingSize } = capability.limits;
  const fitting = needs.filter((need) => need.largestBufferBytes <= maxBufferSize && need.largestBufferBytes <= maxStorageBufferBindingSize);
  if (fitting.length === 0) {
    const limit = maxBufferSize < smallest.largestBufferBytes ? 'maxBufferSize' : 'maxStorageBufferBindingSize';
    return wasmPath(
      new AdapterLimitError(limit, Math.min(maxBufferSize, maxStorageBufferBindingSize), smallest.largestBufferBytes),
      `This GPU's buffers are too small even for the ${smallest.preset} model, so this tab can train on the CPU (WASM) instead.`,
    );
  }
  const software = capability.isFallbackAdapter === true;
  if (software) {
    return {
      kind: 'webgpu',
      preset: smallest.preset,
      capability,
      software,
      needs,
      explanation: `The WebGPU adapter is a software emulation on the CPU, so this tab uses the ${smallest.preset} model; the trainer measures WebGPU against WASM and keeps the faster.`,
    };
  }
  const best = fitting[0]!;
  return {
    kind: 'webgpu',
    preset: best.preset,
    capability,
    software,
    needs,
    explanation: `The ${best.preset} model fits this GPU: its largest buffer (${best.largestBufferName}) needs ${(best.largestBufferBytes / 2 ** 20).toFixed(1)} MiB.`,
  };
}
