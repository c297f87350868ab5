/**
 * Scoring faithfulness at the loops (issue #18) on the simulated subnet: real miners and a real
 * validator on wasm engines over the in-memory chain and buckets.
 *  - Templar's `gather_with_reserve`: a gather peer that fails is replaced one for one by the next
 *    reserve; the success rate stays gathered ÷ gather peers; only gather peers count as skipped;
 *    the miners' outer step takes the same set as the validator's.
 *  - The trial step scales the peer's update by outer_lr · eval_lr_factor.
 *  - A validator is never scored as a miner, and a newcomer is not slashed for a debug slice it could not have.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { gradientKey, peerListAt, publishedAggregates, replayAggregates } from '../../src/peer/gather';
import { dataLazy, honest } from '../../src/peer/behaviours';
import { minerPool, sequenceCount } from '../../src/core/data/assignment';
import { blake2b } from '@noble/hashes/blake2';
import { bytesToHex } from '@noble/hashes/utils';
import type { Storage } from '../../src/net/types';
import { parameterLayout } from '../../src/model/params';
import { Simulation, simulationConfig, VALIDATOR_UID } from './sim-harness';
import { craftedTensors } from './hostile-harness';
import { trialStepUpdate } from '../../src/peer/validator';

const sims: Simulation[] = [];
afterAll(async () => {
  for (const sim of sims) await sim.dispose();
});

/** A miner's storage that loses its gradient uploads of the windows in `dropped` (as a failed upload would). */
function losingUploads(storage: Storage, uid: number, dropped: { uid: number | null; window: number | null }): Storage {
  return {
    put: (key, data) => (dropped.uid === uid && dropped.window !== null && key === gradientKey(dropped.window, uid) ? Promise.resolve({ bucket: 'lost', key, size: data.length, lastModifiedMs: 0 }) : storage.put(key, data)),
    get: (bucket, key, options) => storage.get(bucket, key, options),
    head: (bucket, key) => storage.head(bucket, key),
    list: (bucket, prefix) => storage.list(bucket, prefix),
  };
}

describe('gather with reserve (Templar gather_with_reserve)', () => {
  it('replaces a failed gather peer by the first reserve only; success rate over gather peers; the miners step on the same set', async () => {
    const base = simulationConfig();
    const config = { ...base, scoring: { ...base.scoring, gatherPeers: 2, reservePeers: 2, peerReplacementFrequency: 1, uidsPerWindow: 2 } };
    const dropped = { uid: null as number | null, window: null as number | null };
    const sim = await Simulation.create(config, [honest(), honest(), honest(), honest(), honest()], (storage, uid) => losingUploads(storage, uid, dropped));
    sims.push(sim);
    const validatorHotkey = sim.network.hotkeyOf(VALIDATOR_UID)!;
    const context = { config, layout: parameterLayout(config.model) };
    let window = 2;
    let list: Awaited<ReturnType<typeof peerListAt>> = null;
    for (; window < 14 && list === null; window++) {
      await sim.runWindow(window);
      const next = await peerListAt(sim.network.storage(), validatorHotkey, window + 1, context);
      if (next !== null && next.peers.length === 2 && next.reservePeers.length === 2) list = next;
    }
    if (list === null) throw new Error('no peer list with 2 gather and 2 reserve peers came into force');
    const [failing, staying] = [...list.peers].sort((a, b) => a - b) as [number, number];
    const [firstReserve, secondReserve] = list.reservePeers as [number, number];
    dropped.uid = failing;
    dropped.window = window;

    const report = (await sim.runWindow(window))!;
    const gather = report.inputs.gather!;
    // Templar: the missing gather peer is replaced by reserve_uids[:1]; the second reserve is never asked.
    expect(gather.gatheredUids).toEqual([staying, firstReserve].sort((a, b) => a - b));
    expect(gather.skippedUids).toEqual([failing]);
    expect(gather.successRate).toBe(1); // 2 accepted ÷ 2 gather peers
    expect(gather.gatherList).toEqual([failing, staying]);
    expect(Object.keys(report.gatherRejections)).toEqual([String(failing)]);
    expect(report.gatherRejections[String(secondReserve)]).toBeUndefined();
    // The gather-skip slash lands on the gather peer only, never on a reserve.
    expect(report.result.reasons.filter((r) => r.rule === 'gather-skip-slash').map((r) => r.uid)).toEqual([failing]);
    // Every miner took the outer step of the same gathered set: θ is the validator's.
    const theta = await sim.validatorEngine.exportParams();
    for (const peer of sim.peers) expect(await peer.engine.exportParams(), `uid ${peer.uid}`).toEqual(theta);
  }, 300_000);
});

describe('the trial step (gauntlet-spec §7.2)', () => {
  it('reduces θ by outer_lr · eval_lr_factor · clip(g): half the outer lr, exactly half the step', () => {
    const config = simulationConfig();
    const layout = parameterLayout(config.model);
    const count = layout.reduce((n, spec) => n + spec.shape.reduce((a, b) => a * b, 1), 0);
    const tensors = craftedTensors(config, layout, { kind: 'valid' }, 7);
    const norms = layout.map(() => Number.POSITIVE_INFINITY);
    const withLr = (outerLr: number): Float32Array => trialStepUpdate(tensors, norms, layout, { ...config, compression: { ...config.compression, outerLr } }, count);
    const full = withLr(1);
    const half = withLr(0.5);
    expect(full.some((v) => v !== 0)).toBe(true);
    // Scaling by a power of two is exact in floating point: every entry is exactly half.
    full.forEach((v, i) => expect(half[i]).toBe(v / 2));
  });
});

describe('validators are not miners', () => {
  it('another validator of the run is never gathered, skipped, evaluated or slashed by the lead', async () => {
    const sim = await Simulation.create(simulationConfig(), [honest(), honest(), honest()]);
    sims.push(sim);
    const other = sim.network.register({ hotkey: '5OtherRunValidator', stake: 5 });
    sim.network.setRunValidators([sim.network.hotkeyOf(VALIDATOR_UID)!, '5OtherRunValidator']);
    for (const window of [2, 3, 4, 5]) {
      const report = (await sim.runWindow(window))!;
      expect(report.inputs.submittedUids).not.toContain(other);
      expect(report.inputs.gather?.gatheredUids ?? []).not.toContain(other);
      expect(report.inputs.gather?.skippedUids ?? []).not.toContain(other);
      expect(report.gatherRejections[String(other)]).toBeUndefined();
      expect(report.result.reasons.filter((r) => r.uid === other)).toEqual([]);
    }
  }, 300_000);
});

describe('fairness to honest peers (issue #18)', () => {
  const SLASHES = new Set(['sync-slash', 'gather-skip-slash', 'missing-gradient-slash', 'invalid-gradient-slash', 'overlap-slash', 'inactivity-slash', 'inactivity-reset']);

  it('a newcomer that joins a running network is not slashed in its first 10 windows, nor is any honest peer', async () => {
    const sim = await Simulation.create(simulationConfig(), [honest(), honest(), honest(), honest()]);
    sims.push(sim);
    for (let w = 0; w < 6; w++) await sim.runWindow(w);
    // It joins as a miner does: θ from the lead validator's published aggregates, then it trains from the next window.
    const joiner = await sim.joiningPeer('//Newcomer', honest());
    const validatorHotkey = sim.network.hotkeyOf(VALIDATOR_UID)!;
    const storage = sim.network.storage(validatorHotkey);
    const windows = (await publishedAggregates(storage, validatorHotkey)).map((a) => a.window);
    await replayAggregates(joiner.engine, storage, validatorHotkey, windows, { config: sim.config, layout: parameterLayout(sim.config.model) });
    expect(await joiner.engine.exportParams()).toEqual(await sim.validatorEngine.exportParams());
    sim.peers.push(joiner);
    for (let w = 6; w < 16; w++) await sim.runWindow(w);

    const slashes = sim.reports.filter((r) => r.window >= 6).flatMap((r) => r.result.reasons.filter((reason) => SLASHES.has(reason.rule)));
    expect(slashes.map((s) => `window ${s.window} uid ${s.uid} ${s.rule}`)).toEqual([]);
    // And it was rated in those windows.
    const last = sim.reports.at(-1)!.result.state.peers[String(joiner.uid)];
    expect(last?.rating).not.toBeNull();
  }, 300_000);
});

describe('the training-pool receipt (v2.1.3 Validator.log_digest_match)', () => {
  it('the validator recomputes each gathered peer\'s assigned pool and reports the peer whose receipt is another pool\'s', async () => {
    const sim = await Simulation.create(simulationConfig(), [honest(), honest(), dataLazy()]);
    sims.push(sim);
    for (const w of [2, 3]) await sim.runWindow(w);
    const faults = sim.events.flatMap((e) => (e.kind === 'validator-peer-fault' && e.stage === 'digest' ? [e] : []));
    const lazy = sim.peers.find((p) => p.behaviour.name === 'data-lazy')!.uid;
    expect(faults.map((e) => [e.window, e.uid])).toEqual([[2, lazy], [3, lazy]]);
    // The receipt is blake2b-128 over the sorted pool ids as little-endian u64 (Templar's `_training_pool_digest`), computed here by hand.
    const pool = minerPool(lazy + 5000, 3, sim.config, sequenceCount(sim.tokens.length, sim.config.model.seqLen));
    const bytes = new Uint8Array(8 * pool.length);
    const view = new DataView(bytes.buffer);
    [...pool].sort((a, b) => a - b).forEach((id, i) => view.setBigUint64(8 * i, BigInt(id), true));
    const fault = faults.find((e) => e.window === 3);
    expect(fault?.reason).toContain(bytesToHex(blake2b(bytes, { dkLen: 16 })));
  }, 300_000);
});
