import { describe, expect, it } from 'vitest';
import type { ModelShape } from '../../src/core/config.ts';
import { smallRunConfig, tinyRunConfig } from '../../src/core/run-config.ts';
import type { GpuCapability } from '../../src/gpu/device.ts';
import { bufferNeeds, decideCapability } from '../../src/ui/capability.ts';

/** Flat parameter count by hand (SwiGLU, RoPE, tied embeddings: params.ts order). */
function parametersByHand(m: ModelShape): number {
  return m.vocabSize * m.dModel + m.nLayers * (2 * m.dModel + 4 * m.dModel * m.dModel + 3 * m.dModel * m.dFF) + m.dModel;
}

const TINY_BYTES = parametersByHand(tinyRunConfig().model) * 4;
const SMALL_BYTES = parametersByHand(smallRunConfig().model) * 4;

function gpu(maxBufferSize: number, maxStorageBufferBindingSize: number, isFallbackAdapter = false): GpuCapability {
  return {
    available: true,
    isFallbackAdapter,
    limits: { maxBufferSize, maxStorageBufferBindingSize, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 256, maxStorageBuffersPerShaderStage: 8 },
  };
}

describe('capability gate', () => {
  it('sizes each preset by its flat parameter vector', () => {
    // tiny: 256·64 + 2·(2·64 + 4·64² + 3·64·256) + 64 = 147 776 parameters.
    expect(TINY_BYTES).toBe(147_776 * 4);
    expect(bufferNeeds('tiny').largestBufferBytes).toBe(TINY_BYTES);
    expect(bufferNeeds('small').largestBufferBytes).toBe(SMALL_BYTES);
    expect(bufferNeeds('small').parameterCount).toBe(SMALL_BYTES / 4);
  });

  it('picks small when both limits hold it, tiny when only tiny fits', () => {
    expect(decideCapability(gpu(SMALL_BYTES, SMALL_BYTES)).preset).toBe('small');
    const binding = decideCapability(gpu(2 ** 30, SMALL_BYTES - 4));
    expect(binding).toMatchObject({ kind: 'webgpu', preset: 'tiny' });
    const buffer = decideCapability(gpu(SMALL_BYTES - 4, 2 ** 30));
    expect(buffer).toMatchObject({ kind: 'webgpu', preset: 'tiny' });
  });

  it('gives a software adapter the tiny preset even when small would fit', () => {
    const gate = decideCapability(gpu(2 ** 30, 2 ** 30, true));
    expect(gate).toMatchObject({ kind: 'webgpu', preset: 'tiny', software: true });
  });

  it('offers the WASM path with an AdapterLimitError below tiny', () => {
    const gate = decideCapability(gpu(2 ** 30, TINY_BYTES - 4));
    expect(gate.kind).toBe('wasm');
    if (gate.kind !== 'wasm') return;
    expect(gate.error.name).toBe('AdapterLimitError');
    expect(gate.error.message).toContain('maxStorageBufferBindingSize');
    expect(gate.error.message).toContain(String(TINY_BYTES));
    expect(gate.explanation).toContain('CPU (WASM)');
  });

  it('offers the WASM path with a WebGPUUnavailableError when there is no adapter', () => {
    const gate = decideCapability({ available: false, reason: 'this browser does not expose navigator.gpu' });
    expect(gate.kind).toBe('wasm');
    if (gate.kind !== 'wasm') return;
    expect(gate.error.name).toBe('WebGPUUnavailableError');
    expect(gate.error.message).toContain('navigator.gpu');
    expect(gate.preset).toBe('tiny');
  });
});
