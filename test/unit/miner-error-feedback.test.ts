/**
 * Where a miner's error-feedback buffer e lives. An honest miner compresses through the engine
 * (`compressPseudoGradient` on the engine's own e: on WebGPU Δ never leaves the GPU); a behaviour
 * that rewrites Δ keeps e on the CPU. The two paths must be the same algorithm: the same window on
 * the same data gives the same wire bytes and the same e, bit for bit, and a persisted e restored
 * into either comes back unchanged (wasm engines, in-memory network).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { honest, type Behaviour } from '../../src/peer/behaviours';
import type { WindowEvent } from '../../src/peer/events';
import { gradientKey } from '../../src/peer/gather';
import { Simulation, simulationConfig } from './sim-harness';
import { bitsOf } from './float-bits';

/** Honest, except that Δ goes through the CPU: an identity rewrite keeps e on the miner. */
const honestOnCpu = (): Behaviour => ({ ...honest(), transformDelta: (delta) => delta });

let onEngine: Simulation;
let onCpu: Simulation;

beforeAll(async () => {
  onEngine = await Simulation.create(simulationConfig(), [honest()]);
  onCpu = await Simulation.create(simulationConfig(), [honestOnCpu()]);
}, 120_000);
afterAll(async () => {
  await onEngine.dispose();
  await onCpu.dispose();
});


async function uploadedBytes(sim: Simulation, window: number): Promise<Uint8Array> {
  const { uid } = sim.peers[0]!;
  return (await sim.network.storage().get(sim.network.hotkeyOf(uid)!, gradientKey(window, uid))).data;
}

function compressedEvent(sim: Simulation, window: number): Extract<WindowEvent, { kind: 'miner-compressed' }> {
  const event = sim.events.find((e): e is Extract<WindowEvent, { kind: 'miner-compressed' }> => e.kind === 'miner-compressed' && e.window === window);
  if (event === undefined) throw new Error(`no miner-compressed event for window ${window}`);
  return event;
}

describe('miner error feedback on the engine and on the CPU', () => {
  it('gives the same submissions and the same e over windows with outer steps', async () => {
    for (const window of [0, 1, 2]) {
      await onEngine.runWindow(window);
      await onCpu.runWindow(window);
      expect(await uploadedBytes(onEngine, window)).toEqual(await uploadedBytes(onCpu, window));
      const engineE = await onEngine.peers[0]!.miner.exportErrorFeedback();
      expect(engineE.some((x) => x !== 0)).toBe(true);
      expect(bitsOf(engineE)).toEqual(bitsOf(await onCpu.peers[0]!.miner.exportErrorFeedback()));
    }
    // The engine path reports no ‖Δ‖ (Δ stayed in the engine); the CPU path measured it.
    expect(compressedEvent(onEngine, 2).updateNorm).toBeNull();
    expect(compressedEvent(onCpu, 2).updateNorm).toBeGreaterThan(0);
    expect(compressedEvent(onCpu, 2).denseOnCpu).toBe(true);
  }, 240_000);

  it('restores a persisted e into the engine, and refuses one of the wrong size', async () => {
    const { miner, engine } = onEngine.peers[0]!;
    const saved = await miner.exportErrorFeedback();
    const other = saved.map((x, i) => (i % 7 === 0 ? -x : x));
    await miner.restoreErrorFeedback(other);
    expect(bitsOf(await engine.exportErrorFeedback())).toEqual(bitsOf(other));
    await expect(miner.restoreErrorFeedback(new Float32Array(3))).rejects.toThrow(/belongs to another run/);
    await miner.restoreErrorFeedback(saved);
    expect(bitsOf(await miner.exportErrorFeedback())).toEqual(bitsOf(saved));
  });
});
