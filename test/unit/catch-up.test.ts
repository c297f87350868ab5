/**
 * Catch-up after missed windows (gauntlet-spec §3.5, Templar `catchup_with_aggregation_server`) on
 * the real miners, validator, wasm engines and in-memory network. A miner that was away for three
 * windows replays the validator's published aggregate of the first, gathers the second live because
 * its published aggregate is corrupt (wrong size), and the third because the validator has not
 * published it yet: its θ is then bit-identical to the validator's, and its next submission is
 * scored fully in sync. A miner that comes back without catching up is behind. A peer that joins
 * later from the run's init replays the published aggregates up to the corrupt one, then catches up
 * from there, and also ends on the validator's θ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreReason } from '../../src/core/scoring/types';
import { compareWithDebugSlices } from '../../src/core/scoring/sync';
import { parameterCount, parameterLayout } from '../../src/model/params';
import { honest } from '../../src/peer/behaviours';
import { AggregateFormatError, aggregateKey, publishedAggregates, readAggregateIfWellFormed, replayAggregates } from '../../src/peer/gather';
import { Simulation, simulationConfig, VALIDATOR_UID, type SimulatedPeer } from './sim-harness';
import { bitsOf } from './float-bits';

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


function thetaOf(peer: SimulatedPeer | 'validator'): Promise<Float32Array> {
  return (peer === 'validator' ? sim.validatorEngine : peer.engine).exportParams();
}

function syncReason(window: number, uid: number): ScoreReason | undefined {
  return sim.reports.find((r) => r.window === window)?.result.reasons.find((r) => r.uid === uid && r.rule === 'sync-score');
}

describe('catch-up after missed windows', () => {
  it('replays published aggregates, gathers corrupt or unpublished windows live, and ends bit-identical to the validator', async () => {
    for (const w of [0, 1, 2]) await sim.runWindow(w);
    expect(bitsOf(await thetaOf(caughtUp))).toEqual(bitsOf(await thetaOf('validator')));

    // Windows 3–5 run without two of the miners; the validator has not processed window 5 yet.
    await sim.runWindow(3, true, [stayed]);
    await sim.runWindow(4, true, [stayed]);
    await sim.runWindow(5, false, [stayed]);
    sim.advanceToBlock(6 * sim.config.window.blocksPerWindow);
    expect(bitsOf(await thetaOf(caughtUp))).not.toEqual(bitsOf(await thetaOf(stayed)));
    // Window 4's published aggregate is replaced by an object of the wrong size.
    await sim.network.storage(sim.network.hotkeyOf(VALIDATOR_UID)).put(aggregateKey(4), new Uint8Array(12));

    const result = await caughtUp.miner.catchUp(3, 5, (w) => Promise.resolve(sim.gateOf(w)));
    expect(result).toEqual({ replayed: [3], gatheredLive: [4, 5], skipped: [] });
    expect(bitsOf(await thetaOf(caughtUp))).toEqual(bitsOf(await thetaOf(stayed)));

    sim.reports.push(await sim.validator.runWindow(5));
    expect(bitsOf(await thetaOf(caughtUp))).toEqual(bitsOf(await thetaOf('validator')));
  }, 240_000);

  it('scores the caught-up miner in sync at its next submission; the stale one is behind, which the 2026 profile sees and v2.1.3\'s lower median misses', async () => {
    // All three contribute again; `stale` skipped the catch-up.
    await sim.runWindow(6);
    await sim.runWindow(7);
    const caughtUpSync = syncReason(7, caughtUp.uid);
    const staleSync = syncReason(7, stale.uid);
    expect(caughtUpSync, 'the caught-up miner was not sync-checked in window 7').toBeDefined();
    expect(staleSync, 'the stale miner was not sync-checked in window 7').toBeDefined();
    expect(caughtUpSync!.after.syncScore).toBe(1);
    expect(caughtUpSync!.inputs.stepsBehind).toBe(0);
    // The stale miner is behind: its published θ[10:12] differs from the validator's where the caught-up one's is equal.
    const inputs7 = sim.reports.find((r) => r.window === 7)!.inputs;
    const pairs = (uid: number): [number, number][] => Object.entries(inputs7.validatorSlices).flatMap(([name, mine]) => mine.map((v, i): [number, number] => [inputs7.peerSlices[String(uid)]![name]![i]!, v]));
    expect(pairs(caughtUp.uid).every(([theirs, mine]) => theirs === mine)).toBe(true);
    const stalePairs = pairs(stale.uid);
    expect(stalePairs.some(([theirs, mine]) => theirs !== mine)).toBe(true);
    // Templar v2.1.3's sync check (torch.median, the lower middle value of |Δ|/avgChange) reads 0 steps: the sparse outer steps left
    // at least half of the published coordinates untouched. The run's profile (templar-2026) takes the interquartile mean of the
    // same ratios instead, which sees the quarter of coordinates that moved: the stale miner is behind.
    const unchanged = stalePairs.filter(([theirs, mine]) => theirs === mine).length;
    expect(unchanged).toBeGreaterThanOrEqual(Math.ceil(stalePairs.length / 2));
    expect(sim.config.scoring.profile).toBe('templar-2026');
    const avgChange = sim.reports.find((r) => r.window === 7)!.result.state.paramAvgChange;
    const staleSlices = inputs7.peerSlices[String(stale.uid)];
    expect(compareWithDebugSlices(staleSlices, inputs7.validatorSlices, avgChange, 'lower-median')).toMatchObject({ ok: true, stepsBehind: 0 });
    const interquartile = compareWithDebugSlices(staleSlices, inputs7.validatorSlices, avgChange, 'interquartile-mean');
    expect(interquartile.ok && interquartile.stepsBehind !== null && interquartile.stepsBehind > 0).toBe(true);
    expect(staleSync!.inputs.stepsBehind).toBe(interquartile.ok ? interquartile.stepsBehind : null);
    expect(bitsOf(await thetaOf(caughtUp))).toEqual(bitsOf(await thetaOf('validator')));
  }, 240_000);

  it('a peer joining from init replays up to the corrupt aggregate, then catches up from there onto the validator’s θ', async () => {
    const joiner = await sim.joiningPeer('//SimJoiner', honest());
    const validatorHotkey = sim.network.hotkeyOf(VALIDATOR_UID)!;
    const published = (await publishedAggregates(sim.network.storage(validatorHotkey), validatorHotkey)).map((a) => a.window);
    expect(published).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const context = { config: sim.config, layout: parameterLayout(sim.config.model) };
    const replay = await replayAggregates(joiner.engine, sim.network.storage(validatorHotkey), validatorHotkey, published, context);
    expect(replay.replayed).toEqual([0, 1, 2, 3]);
    expect(replay.malformed?.window).toBe(4);
    expect(replay.malformed?.message).toMatch(/aggregate is not a valid publication of this run: bad-magic/);

    const rest = await joiner.miner.catchUp(replay.malformed!.window, 7, (w) => Promise.resolve(sim.gateOf(w)));
    expect(rest).toEqual({ replayed: [5, 6, 7], gatheredLive: [4], skipped: [] });
    expect(bitsOf(await thetaOf(joiner))).toEqual(bitsOf(await thetaOf('validator')));

    // An aggregate larger than the model is as malformed as a short one (not a network failure to retry).
    const size = parameterCount(sim.config.model) * 4;
    await sim.network.storage(validatorHotkey).put(aggregateKey(8), new Uint8Array(size + 4));
    const oversized = await readAggregateIfWellFormed(sim.network.storage(validatorHotkey), validatorHotkey, 8, context);
    expect(oversized).toBeInstanceOf(AggregateFormatError);
  }, 240_000);
});
