import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyRunConfig } from '../../src/core/run-config';
import { WebGPUUnavailableError } from '../../src/gpu/errors';
import { createTrainerEngine } from '../../src/gpu/select-engine';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine';

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
});

// Node has no navigator.gpu: the CPU-only machine case.
describe('createTrainerEngine without WebGPU', () => {
  it("'auto' falls back to the wasm EP and says why", async () => {
    const { engine, info } = await createTrainerEngine(ort, tinyRunConfig(), undefined, { backend: 'auto' });
    expect(engine).toBeInstanceOf(WasmTrainerEngine);
    expect(info.backend).toBe('wasm');
    expect(info.reason).toMatch(/WebGPU is unavailable/);
    expect(info.reason).toMatch(/navigator\.gpu/);
    await engine.dispose();
  });

  it("'webgpu' is refused with a typed, actionable error", async () => {
    await expect(createTrainerEngine(ort, tinyRunConfig(), undefined, { backend: 'webgpu' })).rejects.toBeInstanceOf(WebGPUUnavailableError);
  });
});
