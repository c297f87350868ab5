/**
 * Catch-up after missed windows (gauntlet-spec §3.5, Templar `catchup_with_aggregation_server`) on
 * the real miners, validator, wasm engines and in-memory network. A miner that was away for two
 * windows replays the validator's published aggregate of the first and gathers the second live (the
 * validator has not published it yet): its θ is then bit-identical to the validator's, and its next
 * submission is scored fully in sync. A miner that comes back without catching up is behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreReason } from '../../src/core/scoring/types';
import { honest } from '../../src/peer/behaviours';
import { Simulation, simulationConfig, type SimulatedPeer } from './sim-harness';

let sim: Simulation;
let stayed: SimulatedPeer;
let caughtUp: SimulatedPeer;
let stale: SimulatedPeer;

beforeAll(async () => {
  sim = await Simulation.create(simulationConfig(), [honest(), honest(), honest()]);
  [stayed, caughtUp, stale] = sim.peers as [SimulatedPeer, SimulatedPeer, SimulatedPeer];
}, 120_000);
afterAll(async () => {
  await sim.dispose();
});

const bits = (values: Float32Array): Uint32Array => new Uint32Array(values.buffer, values.byteOffset, values.length);

function thetaOf(peer: SimulatedPeer | 'validator'): Promise<Float32Array> {
  return (peer === 'validator' ? sim.validatorEngine : peer.engine).exportParams();
}

function syncReason(window: number, uid: number): ScoreReason | undefined {
  return sim.reports.find((r) => r.window === window)?.result.reasons.find((r) => r.uid === uid && r.rule === 'sync-score');
}

describe('catch-up after missed windows', () => {
  it('replays published aggregates, gathers the unpublished window live, and ends bit-identical to the validator', async () => {
    for (const w of [0, 1, 2]) await sim.runWindow(w);
    expect(bits(await thetaOf(caughtUp))).toEqual(bits(await thetaOf('validator')));

    // Windows 3 and 4 run without two of the miners; the validator has not processed window 4 yet.
    await sim.runWindow(3, true, [stayed]);
    await sim.runWindow(4, false, [stayed]);
    sim.advanceToBlock(5 * sim.config.window.blocksPerWindow);
    expect(bits(await thetaOf(caughtUp))).not.toEqual(bits(await thetaOf(stayed)));

    const result = await caughtUp.miner.catchUp(3, 4, (w) => Promise.resolve(sim.gateOf(w)));
    expect(result).toEqual({ replayed: [3], gatheredLive: [4], skipped: [] });
    expect(bits(await thetaOf(caughtUp))).toEqual(bits(await thetaOf(stayed)));

    sim.reports.push(await sim.validator.runWindow(4));
    expect(bits(await thetaOf(caughtUp))).toEqual(bits(await thetaOf('validator')));
  }, 240_000);

  it('scores the caught-up miner in sync at its next submission, and the stale one behind', async () => {
    // All three contribute again; `stale` skipped the catch-up.
    await sim.runWindow(5);
    await sim.runWindow(6);
    const caughtUpSync = syncReason(6, caughtUp.uid);
    const staleSync = syncReason(6, stale.uid);
    expect(caughtUpSync, 'the caught-up miner was not sync-checked in window 6').toBeDefined();
    expect(staleSync, 'the stale miner was not sync-checked in window 6').toBeDefined();
    expect(caughtUpSync!.after.syncScore).toBe(1);
    expect(caughtUpSync!.inputs.stepsBehind).toBe(0);
    expect(staleSync!.after.syncScore!).toBeLessThan(1);
    expect(bits(await thetaOf(caughtUp))).toEqual(bits(await thetaOf('validator')));
  }, 240_000);
});
