/**
 * The tab's WebGPU engine headless in Node on Dawn (issue #20, src/cli/dawn.ts): `WebGpuTrainerEngine`,
 * our WGSL kernels and onnxruntime-web's WebGPU EP on the adapter Dawn finds here (Chromium's
 * SwiftShader through Vulkan; vitest.config.ts gives the workers `dawnEnvironment`). One miner of a
 * simulated subnet trains, compresses and steps on it while the validator and the other miner run
 * the wasm EP: its uploads are gathered and evaluated like any other, and after each outer step its
 * θ equals the validator's bit for bit, the protocol's requirement across devices. Skipped, with the
 * reason, where Dawn finds no adapter at all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web/webgpu';
import { CHROMIUM_LIB_DIR, dawnEnvironment, DawnUnavailableError, installDawnGpu, SWIFTSHADER_ICD } from '../../src/cli/dawn.ts';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import { acquireGpuDevice } from '../../src/gpu/device.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import { WebGpuTrainerEngine } from '../../src/gpu/webgpu-engine.ts';
import type { TrainerEngine } from '../../src/model/engine.ts';
import { honest } from '../../src/peer/behaviours.ts';
import { FIRST_MINER_UID, SimulatedSubnet } from '../../src/peer/simulated-subnet.ts';
import { bitsOf } from './float-bits.ts';
import { simulationConfig } from './sim-harness.ts';

const dawn = await installDawnGpu().catch((error: unknown) => {
  if (error instanceof DawnUnavailableError) return error;
  throw error;
});
if (dawn instanceof DawnUnavailableError) console.warn(`engine-dawn: skipped: ${dawn.message} ${dawn.action ?? ''}`);

const engines: TrainerEngine[] = [];
afterAll(async () => {
  for (const engine of engines.splice(0).reverse()) await engine.dispose();
});

describe('what Dawn needs from the environment', () => {
  const machine = (...files: string[]) => (path: string): boolean => files.includes(path);
  it('Chromium\'s Vulkan loader and SwiftShader where the machine has neither a loader nor a driver, nothing where it has both', () => {
    const chromium = machine(`${CHROMIUM_LIB_DIR}/libvulkan.so.1`, SWIFTSHADER_ICD);
    expect(dawnEnvironment({}, chromium)).toEqual({ LD_LIBRARY_PATH: CHROMIUM_LIB_DIR, VK_ICD_FILENAMES: SWIFTSHADER_ICD });
    expect(dawnEnvironment({ LD_LIBRARY_PATH: '/opt/x' }, chromium)).toEqual({ LD_LIBRARY_PATH: `/opt/x:${CHROMIUM_LIB_DIR}`, VK_ICD_FILENAMES: SWIFTSHADER_ICD });
    // A GPU machine: the system's loader and an installed driver's ICD; nothing is overridden.
    expect(dawnEnvironment({}, machine('/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/share/vulkan/icd.d', `${CHROMIUM_LIB_DIR}/libvulkan.so.1`, SWIFTSHADER_ICD))).toEqual({});
    // An ICD the user named is kept; a loader already on LD_LIBRARY_PATH is used.
    expect(dawnEnvironment({ VK_ICD_FILENAMES: '/x/icd.json', LD_LIBRARY_PATH: '/opt/vk' }, machine('/opt/vk/libvulkan.so.1', SWIFTSHADER_ICD))).toEqual({});
    // No Chromium either: nothing to add (installDawnGpu then says what to install).
    expect(dawnEnvironment({}, machine())).toEqual({});
  });
});

describe.skipIf(dawn instanceof DawnUnavailableError)('the WebGPU engine in Node on Dawn', () => {
  it('a Dawn miner is gathered and evaluated beside a wasm miner, and its θ equals the wasm validator\'s bit for bit after every outer step', async () => {
    ort.env.wasm.numThreads = 1;
    const config = simulationConfig();
    const { tokens } = loadAllTokens();
    let gpuEngine: WebGpuTrainerEngine | undefined;
    const subnet = await SimulatedSubnet.build({
      config, tokens, behaviours: [honest(), honest()], keyPrefix: 'Dawn',
      // The first engine asked for is the first miner's (src/peer/simulated-subnet.ts `populate`): Dawn; the rest wasm.
      engine: async () => {
        if (gpuEngine === undefined) {
          gpuEngine = new WebGpuTrainerEngine(ort, await acquireGpuDevice('trainer'), true);
          engines.push(gpuEngine);
          expect((await gpuEngine.init(config)).backend).toBe('webgpu');
          return gpuEngine;
        }
        const engine = new WasmTrainerEngine(ort);
        engines.push(engine);
        await engine.init(config);
        return engine;
      },
    });
    const gpuMiner = FIRST_MINER_UID;
    expect(subnet.peers[0]!.engine).toBe(gpuEngine);
    for (const window of [2, 3]) {
      const report = await subnet.runWindow(window);
      expect(report!.inputs.gather!.gatheredUids).toContain(gpuMiner);
      expect(report!.outerStepApplied).toBe(true);
      // The GPU's outer step (decode, aggregate, apply in WGSL) reaches the CPU reference step's θ exactly.
      expect(bitsOf(await gpuEngine!.exportParams()), `window ${window}`).toEqual(bitsOf(await subnet.validatorEngine.exportParams()));
    }
    const evaluated = subnet.events.filter((e) => e.kind === 'validator-evaluated' && e.uid === gpuMiner);
    expect(evaluated.length).toBeGreaterThan(0);
    for (const e of evaluated) expect(e.kind === 'validator-evaluated' && e.status).toBe('ok');
    const trained = subnet.events.find((e) => e.kind === 'miner-trained' && e.uid === gpuMiner);
    expect(trained?.kind === 'miner-trained' && Number.isFinite(trained.meanLoss)).toBe(true);
  }, 600_000);
});
