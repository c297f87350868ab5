import { describe, expect, it } from 'vitest';
import type { ModelShape } from '../../src/core/config.ts';
import { mediumRunConfig, smallRunConfig, tinyRunConfig, validateRunConfig } from '../../src/core/run-config.ts';
import type { GpuCapability } from '../../src/gpu/device.ts';
import { trainingMemoryEstimate } from '../../src/model/memory.ts';
import { decideCapability, runNeeds } from '../../src/ui/capability.ts';

/** Flat parameter count by hand (SwiGLU, RoPE, tied embeddings: params.ts order). */
function parametersByHand(m: ModelShape): number {
  return m.vocabSize * m.dModel + m.nLayers * (2 * m.dModel + 4 * m.dModel * m.dModel + 3 * m.dModel * m.dFF) + m.dModel;
}

const tiny = tinyRunConfig();
const small = smallRunConfig();
const TINY_BYTES = parametersByHand(tiny.model) * 4;
const SMALL_BYTES = parametersByHand(small.model) * 4;

function gpu(maxBufferSize: number, maxStorageBufferBindingSize: number, isFallbackAdapter = false): GpuCapability {
  return {
    available: true,
    isFallbackAdapter,
    limits: { maxBufferSize, maxStorageBufferBindingSize, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 256, maxStorageBuffersPerShaderStage: 8 },
  };
}

describe('capability gate: can this device join this run?', () => {
  it('sizes the run by its flat parameter vector, the largest buffer of both presets', () => {
    // tiny: 256·64 + 2·(2·64 + 4·64² + 3·64·256) + 64 = 147 776 parameters.
    expect(TINY_BYTES).toBe(147_776 * 4);
    expect(runNeeds(tiny).largestBufferBytes).toBe(TINY_BYTES);
    expect(runNeeds(small).largestBufferBytes).toBe(SMALL_BYTES);
    expect(runNeeds(small).parameterCount).toBe(SMALL_BYTES / 4);
  });

  it('estimates training memory from the run\'s shapes: 9 copies of θ plus the activations of one batch', () => {
    // small: B 8, S 256, D 320, F 896, H 5, L 4, V 256, by hand.
    const { model, inner } = small;
    const [B, S, D, F, H, L, V] = [inner.batchSize, model.seqLen, model.dModel, model.dFF, model.nHeads, model.nLayers, model.vocabSize];
    const activations = (L * (12 * B * S * D + 4 * B * S * F + 3 * B * H * S * S) + 4 * B * S * V + 2 * B * S * D) * 4;
    const estimate = trainingMemoryEstimate(small);
    expect(estimate.stateBytes).toBe(6 * SMALL_BYTES);
    expect(estimate.runtimeCopyBytes).toBe(3 * SMALL_BYTES);
    expect(estimate.activationBytes).toBe(activations);
    expect(estimate.totalBytes).toBe(9 * SMALL_BYTES + activations);
    expect(estimate.budgetBytes).toBeGreaterThan(estimate.totalBytes);
  });

  it('sizes the medium preset for real GPU tabs: tens of millions of parameters within 1 GiB, every buffer within 256 MiB, 12 s blocks', () => {
    const medium = validateRunConfig(mediumRunConfig());
    const parameters = parametersByHand(medium.model);
    expect(parameters).toBeGreaterThan(10_000_000);
    const estimate = trainingMemoryEstimate(medium);
    expect(estimate.parameters).toBe(parameters);
    expect(estimate.totalBytes).toBeLessThanOrEqual(2 ** 30);
    expect(runNeeds(medium).largestBufferBytes).toBeLessThanOrEqual(256 * 2 ** 20);
    expect(medium.window.blockTimeMs).toBe(12_000);
    // A GPU with the WebGPU default binding limit (128 MiB) holds it; one with 64 MiB does not.
    expect(decideCapability(gpu(256 * 2 ** 20, 128 * 2 ** 20), medium)).toMatchObject({ kind: 'webgpu', preset: 'medium' });
    expect(decideCapability(gpu(256 * 2 ** 20, 64 * 2 ** 20), medium)).toMatchObject({ kind: 'wasm', preset: 'medium' });
  });

  it('takes the run the page serves, never another: small when the limits hold it, the CPU path when they do not', () => {
    expect(decideCapability(gpu(SMALL_BYTES, SMALL_BYTES), small)).toMatchObject({ kind: 'webgpu', preset: 'small' });
    const binding = decideCapability(gpu(2 ** 30, SMALL_BYTES - 4), small);
    expect(binding).toMatchObject({ kind: 'wasm', preset: 'small' });
    if (binding.kind === 'wasm') expect(binding.error.message).toContain('maxStorageBufferBindingSize');
    const buffer = decideCapability(gpu(SMALL_BYTES - 4, 2 ** 30), small);
    expect(buffer).toMatchObject({ kind: 'wasm', preset: 'small' });
    if (buffer.kind === 'wasm') expect(buffer.error.message).toContain('maxBufferSize');
    // The same device holds the tiny run.
    expect(decideCapability(gpu(SMALL_BYTES - 4, 2 ** 30), tiny)).toMatchObject({ kind: 'webgpu', preset: 'tiny' });
  });

  it('tells a software adapter it will be slow, and shows the memory estimate', () => {
    const gate = decideCapability(gpu(2 ** 30, 2 ** 30, true), small);
    expect(gate).toMatchObject({ kind: 'webgpu', preset: 'small', software: true });
    expect(gate.explanation).toContain('software emulation');
    expect(gate.explanation).toContain(`${(trainingMemoryEstimate(small).totalBytes / 2 ** 20).toFixed(0)} MiB`);
  });

  it('offers the WASM path with an AdapterLimitError below the run, and a WebGPUUnavailableError without an adapter', () => {
    const gate = decideCapability(gpu(2 ** 30, TINY_BYTES - 4), tiny);
    expect(gate.kind).toBe('wasm');
    if (gate.kind !== 'wasm') return;
    expect(gate.error.name).toBe('AdapterLimitError');
    expect(gate.error.message).toContain(String(TINY_BYTES));
    expect(gate.explanation).toContain('CPU (WASM)');
    const none = decideCapability({ available: false, reason: 'this browser does not expose navigator.gpu' }, tiny);
    expect(none).toMatchObject({ kind: 'wasm', preset: 'tiny' });
    if (none.kind === 'wasm') expect(none.error.message).toContain('navigator.gpu');
  });
});
