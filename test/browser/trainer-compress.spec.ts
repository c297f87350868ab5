import { expect, test } from '@playwright/test';
import { outerStep, type PeerSubmission } from '../../src/core/aggregate.ts';
import type { EncodedTensor } from '../../src/core/compress/codec.ts';
import { accumulateErrorFeedback, compressErrorFeedback, pseudoGradient } from '../../src/core/compress/error-feedback.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { parameterLayout } from '../../src/model/params.ts';
import { microRunConfig, randomBatches } from './engine-helpers.ts';

/**
 * Issue #5 wired into the WebGPU trainer engine (in the trainer worker): after H inner steps,
 * `compressPseudoGradient` runs Δ, e ← βe + Δ, top-k, quantisation, packing and the error-feedback
 * subtraction on the engine's own buffers, and only the packed blocks come back; `applyAggregate`
 * runs the outer step on θ in place. Expected values: the CPU reference (src/core/compress,
 * src/core/aggregate.ts `outerStep`) on the θ0 and θ_H the engine exported, computed here in Node.
 */
const H = 2;

/** The micro model with small chunks (8×8, top-4) so that top-k really selects. */
function config(): RunConfig {
  const base = microRunConfig();
  return { ...base, inner: { ...base.inner, innerSteps: H }, compression: { ...base.compression, targetChunk: 8, topk: 4 } };
}

function expectSameTensors(gpu: readonly EncodedTensor[], cpu: readonly EncodedTensor[], what: string): void {
  expect(gpu.map((t) => t.name)).toEqual(cpu.map((t) => t.name));
  cpu.forEach((c, i) => {
    const g = gpu[i]!;
    expect(Array.from(g.indices), `${what} ${c.name} indices`).toEqual(Array.from(c.indices));
    expect(Array.from(g.codes), `${what} ${c.name} codes`).toEqual(Array.from(c.codes));
    expect(g.quant.shift, `${what} ${c.name} shift`).toBe(c.quant.shift);
    expect(Array.from(g.quant.lookup), `${what} ${c.name} lookup`).toEqual(Array.from(c.quant.lookup));
  });
}

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((x, i) => x === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);

test('WebGPU engine: GPU-compressed windows equal the CPU reference, only packed bytes come back, and the GPU outer step equals outerStep bit for bit', async ({ page }) => {
  await page.goto('/');
  const capability = await page.evaluate(() => window.gauntlet!.capability);
  expect(capability.available, `WebGPU unavailable: ${capability.reason}`).toBe(true);

  const cfg = config();
  const layout = parameterLayout(cfg.model);
  const batches = randomBatches(cfg, 2 * H, 11);
  const r = await page.evaluate(
    async ({ cfg, batches, H }) => {
      const trainer = window.gauntlet!.trainer!;
      const info = await trainer.init(cfg, undefined, { backend: 'webgpu' });
      const toBatch = (b: { inputs: number[]; targets: number[] }) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) });
      const theta0 = await trainer.exportParams();
      const windows = [];
      for (let w = 0; w < 2; w++) {
        await trainer.trainInner(batches.slice(w * H, (w + 1) * H).map(toBatch), H);
        const thetaH = await trainer.exportParams();
        const before = await trainer.readbackBytes();
        const compressed = await trainer.compressPseudoGradient();
        const after = await trainer.readbackBytes();
        const restored = await trainer.exportParams();
        const errorFeedback = await trainer.exportErrorFeedback();
        windows.push({ thetaH, compressed, counted: after - before, restored, errorFeedback });
      }
      // Two peers in reverse uid order: the engine must sort them as the reference does.
      const peers = [
        { uid: 9, tensors: windows[1]!.compressed.tensors },
        { uid: 2, tensors: windows[0]!.compressed.tensors },
      ];
      const result = await trainer.applyAggregate(peers);
      const thetaOuter = await trainer.exportParams();
      const liveBefore = await trainer.liveBuffers();
      await trainer.applyAggregate(peers);
      const liveAfter = await trainer.liveBuffers();
      await trainer.dispose();
      return { info, theta0, windows, result, thetaOuter, liveBefore, liveAfter };
    },
    { cfg, batches, H },
  );
  expect(r.info.backend).toBe('webgpu');
  const n = r.info.parameterCount;

  const ef = new Float32Array(n);
  let windowNumber = 0;
  for (const w of r.windows) {
    // The window lifecycle: θ ← θ0 after compression.
    expect(sameBits(w.restored, r.theta0), `window ${windowNumber}: θ restored to θ0`).toBe(true);
    const delta = pseudoGradient(r.theta0, w.thetaH);
    expect(delta.some((x) => x !== 0), 'the inner steps moved θ (else the check is vacuous)').toBe(true);
    accumulateErrorFeedback(ef, delta, cfg.compression.errorFeedbackDecay);
    const cpu = compressErrorFeedback(ef, layout, cfg.compression);
    expectSameTensors(w.compressed.tensors, cpu, `window ${windowNumber}`);
    expect(sameBits(w.errorFeedback, ef), `window ${windowNumber}: e after the subtraction, bit for bit`).toBe(true);
    // Only the packed blocks crossed: 12-bit index pairs, 2-bit codes, one (shift, scale, lookup) row
    // per tensor and a status word; the engine's own counter agrees with what the call reports.
    const entries = cpu.reduce((a, t) => a + t.indices.length, 0);
    const packedBytes = cpu.reduce((a, t) => a + Math.ceil((t.indices.length * 3) / 2 / 4) * 4 + Math.ceil(t.codes.length / 16) * 4, 0);
    expect(w.compressed.denseOnCpu).toBe(false);
    expect(w.compressed.readbackBytes).toBe(w.counted);
    expect(w.compressed.readbackBytes).toBeLessThanOrEqual(packedBytes + layout.length * (2 + cfg.compression.quantizationBins) * 4 + 4);
    expect(w.compressed.readbackBytes).toBeLessThan(n * 4);
    const description = `${w.compressed.readbackBytes} bytes for ${entries} kept entries of ${n} parameters (dense Δ: ${n * 4} bytes)`;
    test.info().annotations.push({ type: `window ${windowNumber} readback`, description });
    console.log(`window ${windowNumber} readback: ${description}`);
    windowNumber++;
  }

  // GPU outer step vs the CPU reference on θ0 with the same two peers.
  const cpuPeers: PeerSubmission[] = [
    { uid: 9, tensors: r.windows[1]!.compressed.tensors },
    { uid: 2, tensors: r.windows[0]!.compressed.tensors },
  ];
  const expected = r.theta0.slice();
  const cpuResult = outerStep(expected, layout, cpuPeers, cfg.compression);
  expect(r.result.uids).toEqual([2, 9]);
  expect(r.result.medianNorms).toEqual(cpuResult.medianNorms);
  expect(expected.some((x, i) => x !== r.theta0[i]), 'the outer step changed θ').toBe(true);
  expect(sameBits(r.thetaOuter, expected), 'θ after the GPU outer step, bit for bit').toBe(true);
  expect(r.liveAfter, 'no buffers leak across outer steps').toBe(r.liveBefore);
});
