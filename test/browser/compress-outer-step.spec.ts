import { expect, test, type Page } from '@playwright/test';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { outerStep, type PeerSubmission } from '../../src/core/aggregate.ts';
import { chunkLayout, encodeTensor } from '../../src/core/compress/index.ts';
import type { FlatTensorSpec } from '../../src/core/compress/error-feedback.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { gaussianArray } from '../../src/core/prng.ts';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { gpuOuterStep, layoutSize, smallPresetLayout } from './compress-helpers.ts';

/**
 * CPU encode → GPU decode + aggregate + apply (src/gpu/outer-step.ts) against the CPU outer step
 * (src/core/aggregate.ts `outerStep`), bit for bit, on small-preset shapes (attention 320×320, norm
 * 320, MLP 320×896). The peers are built to stress the exactness: uids out of order; magnitudes from
 * 1e-12 to 2, so median clipping scales some peers and float64 sums of one coordinate span more than
 * 53 bits (rounding inside the sum); shared spikes make several peers pick the same coordinates
 * (means over 2…5 values); α = 0.7 is not a float32, so fround(α·agg) double-rounds.
 */
const layout = smallPresetLayout(['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.input_layernorm.weight', 'model.layers.0.mlp.gate_proj.weight']);
const n = layoutSize(layout);

function peerVector(uid: number, std: number): Float32Array {
  const x = gaussianArray(n, 500 + uid, std);
  // Spikes at the same places for everyone, so top-k choices overlap across peers.
  // About 42 per 4096-entry chunk, fewer than k = 64: the rest of each peer's choice is its own.
  for (let i = 0; i < n; i += 97) x[i] = x[i]! + (i % 194 === 0 ? 5 : -5) * std;
  return x;
}

function peers(compression: CompressionConfig, specs: readonly FlatTensorSpec[]): PeerSubmission[] {
  const magnitudes: [number, number][] = [
    [9, 1e-12],
    [2, 1e-3],
    [5, 1],
    [7, 2],
    [3, 0.5],
  ];
  return magnitudes.map(([uid, std]) => {
    const x = peerVector(uid, std);
    return { uid, tensors: specs.map((s) => encodeTensor(s, x.subarray(s.offset, s.offset + chunkLayout(s.shape, compression).size), compression)) };
  });
}

async function openPage(page: Page): Promise<void> {
  await page.goto('/');
  const capability = await page.evaluate(() => window.gauntlet!.capability);
  expect(capability.available, `WebGPU unavailable: ${capability.reason}`).toBe(true);
}

const bitsOf = (x: Float32Array): number[] => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

test('CPU encode → GPU decode + aggregate + apply equals the CPU outer step bit for bit', async ({ page }) => {
  await openPage(page);
  const compression: CompressionConfig = { ...smallRunConfig().compression, outerLr: 0.7 };
  const submissions = peers(compression, layout);
  const theta = gaussianArray(n, 77, 0.02);

  const cpu = theta.slice();
  const reference = outerStep(cpu, layout, submissions, compression);
  const gpu = await gpuOuterStep(page, layout, compression, theta, submissions);

  expect(gpu.liveBuffers).toBe(0);
  expect(gpu.uids).toEqual([2, 3, 5, 7, 9]);
  expect(gpu.medianNorms).toEqual([...reference.medianNorms]);
  expect(reference.skippedTensors).toEqual([]);
  const thetaBits = bitsOf(theta);
  const changed = bitsOf(cpu).filter((b, i) => b !== thetaBits[i]).length;
  expect(changed).toBeGreaterThan(1000);
  const gpuBits = bitsOf(gpu.params);
  const cpuBits = bitsOf(cpu);
  const differing = gpuBits.filter((b, i) => b !== cpuBits[i]).length;
  expect(differing, `${differing} of ${n} parameters differ from the CPU outer step`).toBe(0);
  expect(gpu.paramSha256).toBe(bytesToHex(sha256(new Uint8Array(cpu.buffer))));

  // The stress actually happened: coordinates chosen by several peers.
  let shared = 0;
  layout.forEach((spec, t) => {
    const chunks = chunkLayout(spec.shape, compression);
    const count = new Uint8Array(chunks.size);
    for (const p of submissions) p.tensors[t]!.indices.forEach((j, i) => { const at = Math.floor(i / chunks.k) * chunks.totalk + j; count[at] = count[at]! + 1; });
    shared += count.filter((c) => c >= 2).length;
  });
  console.log(`${changed} parameters moved; ${shared} coordinates averaged over ≥ 2 peers`);
  expect(shared).toBeGreaterThan(1000);
  expect(changed).toBeGreaterThan(shared + 1000);
});

test('no peers leaves the parameters unchanged; a duplicate uid is refused', async ({ page }) => {
  await openPage(page);
  const compression = smallRunConfig().compression;
  const theta = gaussianArray(n, 78, 0.02);
  const none = await gpuOuterStep(page, layout, compression, theta, []);
  expect(bitsOf(none.params)).toEqual(bitsOf(theta));
  const [first] = peers(compression, layout);
  await expect(gpuOuterStep(page, layout, compression, theta, [first!, first!])).rejects.toThrow(/appears twice/);
});

test('two browser pages applying the same submissions reach the same parameter hash', async ({ browser }) => {
  const compression = smallRunConfig().compression;
  const submissions = peers(compression, layout);
  const theta = gaussianArray(n, 79, 0.02);
  const hashes: string[] = [];
  for (let tab = 0; tab < 2; tab++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openPage(page);
    // Each tab gets the peers in a different arrival order; the uid sort must make that irrelevant.
    const arrival = tab === 0 ? submissions : [...submissions].reverse();
    hashes.push((await gpuOuterStep(page, layout, compression, theta, arrival)).paramSha256);
    await context.close();
  }
  const cpu = theta.slice();
  outerStep(cpu, layout, submissions, compression);
  expect(hashes[0]).toBe(hashes[1]);
  expect(hashes[0]).toBe(bytesToHex(sha256(new Uint8Array(cpu.buffer))));
  expect(hashes[0]).not.toBe(bytesToHex(sha256(new Uint8Array(theta.buffer))));
});
