/**
 * The validator loop on the real engine and in-memory network: hostile uploads (a signature by the
 * wrong key, a replay of last window's signed upload, garbage bytes correctly signed, an oversized
 * object) are each rejected with their typed reason, scored as invalid, and the loop goes on to the
 * next window; and a validator restarted from its persisted state ends where an uninterrupted one does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { firstBlockOfWindow, putWindowAnchorBlock, putWindowBounds } from '../../src/core/clock';
import { deserializeWindowScores, serializeState, windowScoresDocument } from '../../src/core/scoring/index';
import { KeyringSigner } from '../../src/net/keyring-signer';
import { signSubmission } from '../../src/net/submission';
import { honest, poisoner } from '../../src/peer/behaviours';
import { gradientKey, scoresKey, signatureKey } from '../../src/peer/gather';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { Simulation, simulationConfig, VALIDATOR_UID } from './sim-harness';
import { parameterLayout } from '../../src/model/params';
import type { WindowEvent } from '../../src/peer/events';
import { fixedRandomness } from '../../src/peer/simulated-subnet';
import { MemoryPersistence, Validator } from '../../src/peer/validator';
import type { WasmTrainerEngine } from '../../src/gpu/wasm-engine';
import { runConfigHash } from '../../src/core/run-config.ts';
import type { SubmissionContext } from '../../src/net/submission';

const sims: Simulation[] = [];
afterAll(async () => {
  for (const sim of sims) await sim.dispose();
});

async function simulation(...args: Parameters<typeof Simulation.create>): Promise<Simulation> {
  const sim = await Simulation.create(...args);
  sims.push(sim);
  return sim;
}

describe('Validator window', () => {
  it('rejects bad signatures, replays, malformed and oversized uploads with typed reasons and keeps going', async () => {
    const base = simulationConfig();
    const config = { ...base, scoring: { ...base.scoring, uidsPerWindow: 10, numEvaluationBins: 1 } };
    const sim = await simulation(config, [honest(), honest(), honest()]);
    const [good, replayer, forged] = sim.peers.map((p) => p.uid) as [number, number, number];
    const outsiders = await KeyringSigner.fromUris(['//Garbage', '//Huge']);
    const [garbageKey, hugeKey] = (await outsiders.accounts()).map((a) => a.address) as [string, string];
    const garbageUid = sim.network.register({ hotkey: garbageKey });
    const hugeUid = sim.network.register({ hotkey: hugeKey });
    const hotkey = (uid: number): string => sim.network.hotkeyOf(uid)!;

    await sim.runWindow(3);
    const w = 4;
    const { blocksPerWindow, putWindowMs, maxSubmissionBytes } = config.window;
    sim.advanceToBlock(firstBlockOfWindow(w, blocksPerWindow));
    await sim.peers[0]!.miner.prepare(w);
    await sim.peers[2]!.miner.prepare(w);
    sim.advanceToBlock(putWindowAnchorBlock(w, blocksPerWindow));
    const gate = putWindowBounds(sim.network.blockTimestamp(putWindowAnchorBlock(w, blocksPerWindow)), putWindowMs);
    sim.nowMs = gate.timeMinMs + 100;
    await sim.peers[0]!.miner.upload(w, gate);
    const forgedReceipt = await sim.peers[2]!.miner.upload(w, gate);

    // Replay: the replayer re-uploads its signed window-3 objects as window 4.
    const replayStorage = sim.network.storage(hotkey(replayer));
    for (const [from, to] of [[gradientKey(3, replayer), gradientKey(w, replayer)], [signatureKey(3, replayer), signatureKey(w, replayer)]] as const) {
      await replayStorage.put(to, (await replayStorage.get(hotkey(replayer), from)).data);
    }
    // Forged: the right bytes and message, signed by another key.
    const forgedBytes = (await sim.network.storage().get(hotkey(forged), forgedReceipt.key)).data;
    const context = (uid: number): SubmissionContext => ({ runId: config.runId, runHash: runConfigHash(config), netuid: config.netuid, window: w, uid });
    await sim.network.storage(hotkey(forged)).put(signatureKey(w, forged), new TextEncoder().encode(await signSubmission(outsiders, garbageKey, context(forged), forgedBytes)));
    // Garbage bytes, correctly signed by their owner.
    const garbage = new TextEncoder().encode('not a submission at all');
    await sim.network.storage(garbageKey).put(gradientKey(w, garbageUid), garbage);
    await sim.network.storage(garbageKey).put(signatureKey(w, garbageUid), new TextEncoder().encode(await signSubmission(outsiders, garbageKey, context(garbageUid), garbage)));
    // One byte over the run's submission limit, correctly signed.
    const huge = new Uint8Array(maxSubmissionBytes + 1);
    await sim.network.storage(hugeKey).put(gradientKey(w, hugeUid), huge);
    await sim.network.storage(hugeKey).put(signatureKey(w, hugeUid), new TextEncoder().encode(await signSubmission(outsiders, hugeKey, context(hugeUid), huge)));

    sim.nowMs = gate.timeMaxMs + 1;
    const report = await sim.validator.runWindow(w);
    expect(report.gatherRejections).toEqual({
      [String(replayer)]: 'bad-signature',
      [String(forged)]: 'bad-signature',
      [String(garbageUid)]: 'malformed',
      [String(hugeUid)]: 'oversized',
    });
    expect(report.inputs.gather?.gatheredUids).toEqual([good]);
    expect(report.inputs.submittedUids).toEqual([good, replayer, forged, garbageUid, hugeUid]);
    expect(report.inputs.evaluations[String(good)]?.status).toBe('ok');
    for (const [uid, reason] of [[replayer, 'bad-signature'], [forged, 'bad-signature'], [garbageUid, 'malformed'], [hugeUid, 'oversized']] as const) {
      const outcome = report.inputs.evaluations[String(uid)];
      expect(outcome?.status, `uid ${uid}`).toBe('invalid');
      expect(outcome?.status === 'invalid' ? outcome.detail : '').toMatch(new RegExp(`^${reason}: `));
    }
    expect(report.outerStepApplied).toBe(true);
    expect(JSON.parse(sim.persistence.text ?? '{}')).toMatchObject({ version: 2 });

    // The window's scores are published in the validator's bucket, as the scorer left them, each rejection with its reason.
    const validatorHotkey = hotkey(VALIDATOR_UID);
    const published = deserializeWindowScores(new TextDecoder().decode((await sim.network.storage().get(validatorHotkey, scoresKey(w))).data), { runId: config.runId, netuid: config.netuid, window: w });
    expect(published).toEqual(windowScoresDocument(report.result, w, { runId: config.runId, netuid: config.netuid, burnUid: config.scoring.burnUid }));
    expect(published.peers.map((p) => p.uid)).toEqual(expect.arrayContaining([good, replayer, forged, garbageUid, hugeUid]));
    for (const [uid, reason] of [[replayer, 'bad-signature'], [garbageUid, 'malformed'], [hugeUid, 'oversized']] as const) {
      const slash = published.reasons.find((r) => r.uid === uid && r.rule === 'invalid-gradient-slash');
      expect(slash?.inputs.detail, `uid ${uid}`).toMatch(new RegExp(`^${reason}: `));
    }

    // The loop carries on with the next window.
    await sim.runWindow(w + 1);
    expect(sim.reports.at(-1)?.window).toBe(w + 1);
    expect(sim.reports.at(-1)?.inputs.gather?.gatheredUids).toEqual([good, replayer, forged]);
  }, 300_000);

  it('a validator restarted from its persisted state (fresh engine, θ from its checkpoint and aggregates) ends like an uninterrupted one', async () => {
    const behaviours = [honest(), honest(), honest(), poisoner(3)];
    const windows = [2, 3, 4, 5, 6, 7];
    const base = simulationConfig();
    // A checkpoint every 2 outer steps, so the restart at window 4 (3 steps) loads one and replays one aggregate.
    const config = { ...base, scoring: { ...base.scoring, checkpointFrequency: 2 } };
    const uninterrupted = await simulation(config, behaviours);
    for (const w of windows) await uninterrupted.runWindow(w);

    const restarted = await simulation(config, behaviours);
    for (const w of windows.slice(0, 3)) await restarted.runWindow(w);
    const thetaBeforeRestart = await restarted.validatorEngine.exportParams();
    restarted.validator = restarted.newValidator(await restarted.engine());
    expect(await restarted.validatorEngine.exportParams()).not.toEqual(thetaBeforeRestart);
    expect(restarted.validator.scoringState.lastWindow).toBeNull();
    expect(await restarted.validator.restore()).toBe(true);
    expect(restarted.validator.scoringState.lastWindow).toBe(4);
    expect(await restarted.validatorEngine.exportParams()).toEqual(thetaBeforeRestart);
    for (const w of windows.slice(3)) await restarted.runWindow(w);

    const a = uninterrupted.reports.at(-1)!.result;
    const b = restarted.reports.at(-1)!.result;
    expect(serializeState(b.state)).toBe(serializeState(a.state));
    expect(b.weights).toEqual(a.weights);
    expect(a.state.globalStep).toBe(windows.length);
  }, 300_000);

  it('a validator started late on a running network takes θ from the lead validator and scores its first window with the same losses', async () => {
    const base = simulationConfig();
    // A checkpoint every 2 outer steps: after 5 windows the late validator loads step 4's and replays one aggregate.
    const config = { ...base, scoring: { ...base.scoring, checkpointFrequency: 2, uidsPerWindow: 3 } };
    const sim = await simulation(config, [honest(), honest(), honest()]);
    const leadHotkey = sim.network.hotkeyOf(VALIDATOR_UID)!;
    sim.network.setRunValidators([leadHotkey]);
    for (const w of [2, 3, 4, 5, 6]) await sim.runWindow(w);

    const lateValidator = async (uri: string): Promise<{ validator: Validator; engine: WasmTrainerEngine; events: WindowEvent[] }> => {
      const signer = await KeyringSigner.fromUris([uri]);
      const hotkey = (await signer.accounts())[0]!.address;
      sim.network.register({ hotkey, stake: 10 });
      const events: WindowEvent[] = [];
      const engine = await sim.engine();
      const validator = new Validator({
        config, layout: parameterLayout(config.model), engine, storage: sim.network.storage(hotkey), chain: sim.network.chain(),
        signer, hotkey, tokens: sim.tokens, persistence: new MemoryPersistence(), randomness: fixedRandomness, onEvent: (e) => events.push(e),
      });
      return { validator, engine, events };
    };
    const { validator: late, engine: lateEngine, events } = await lateValidator('//LateValidator');
    const { validator: unsynced } = await lateValidator('//UnsyncedValidator');
    expect(await late.restore()).toBe(false);
    expect(await late.joinNetwork()).toEqual({ nextWindow: 7 });
    expect(events.find((e) => e.kind === 'validator-synced')).toMatchObject({ source: 'checkpoint', lead: leadHotkey, globalStep: 5, replayed: [6] });
    // Bit for bit the lead's θ: its checkpoint, then the same subtractions it made.
    expect(await lateEngine.exportParams()).toEqual(await sim.validatorEngine.exportParams());

    // Window 7, scored by the lead (as the network runs it) and by the late validator, each with the window's control set.
    const lead = (await sim.runWindow(7))!;
    const first = await late.runWindow(7);
    const fresh = await unsynced.runWindow(7);
    const leadLoss = lead.inputs.lossRandomBefore!;
    expect(first.inputs.lossRandomBefore).toBeCloseTo(leadLoss, 4);
    for (const uid of first.inputs.evalUids.filter((u) => lead.inputs.evalUids.includes(u))) {
      const mine = first.inputs.evaluations[String(uid)];
      const theirs = lead.inputs.evaluations[String(uid)];
      expect(mine?.status).toBe('ok');
      if (mine?.status === 'ok' && theirs?.status === 'ok') expect(mine.lossOwnBefore).toBeCloseTo(theirs.lossOwnBefore, 4);
    }
    // A validator that scores from the run's init measures another model: the check above can fail.
    expect(Math.abs(fresh.inputs.lossRandomBefore! - leadLoss)).toBeGreaterThan(0.01 * leadLoss);
  }, 300_000);

  it('the sole validator joining after the miners have stepped without one catches θ up from their uploads, then scores them in sync', async () => {
    const config = { ...simulationConfig(), scoring: { ...simulationConfig().scoring, uidsPerWindow: 3 } };
    const sim = await simulation(config, [honest(), honest(), honest()]);
    // Five windows of miners alone: each gathers every miner (no peer list) and steps.
    for (const w of [2, 3, 4, 5, 6]) await sim.runWindow(w, false);
    const validator = sim.validator;
    expect(await validator.restore()).toBe(false);
    // No other validator: it starts from init and is to catch up from the miners' first window.
    expect(await validator.joinNetwork()).toEqual({ nextWindow: 2 });
    const synced = sim.events.find((e) => e.kind === 'validator-synced');
    expect(synced).toMatchObject({ source: 'init', lead: null });
    expect(synced?.kind === 'validator-synced' ? synced.message : '').toMatch(/since window 2/);
    for (const w of [2, 3, 4, 5, 6]) expect((await validator.catchUpWindow(w)).outerStepApplied).toBe(true);
    // Bit for bit the miners' θ: the same gathers, the same outer steps.
    const minerTheta = await sim.peers[0]!.engine.exportParams();
    expect(await sim.validatorEngine.exportParams()).toEqual(minerTheta);

    // Scored from here: in sync. (Window 7 has no step size to compare with yet, so sync 1 unjudged; window 8 measures 0 steps behind.)
    const seventh = await sim.runWindow(7);
    const eighth = await sim.runWindow(8);
    for (const reason of [...seventh!.result.reasons, ...eighth!.result.reasons].filter((r) => r.rule === 'sync-score')) expect(reason.after.syncScore, `window ${reason.window} uid ${reason.uid}`).toBe(1);
    const measured = eighth!.result.reasons.filter((r) => r.rule === 'sync-score' && r.inputs.stepsBehind !== null);
    expect(measured.length).toBeGreaterThan(0);
    for (const reason of measured) expect(reason.inputs.stepsBehind, `uid ${reason.uid}`).toBe(0);
  }, 300_000);

  it('a validator whose θ differs from the lead validator\'s sets no weights for that window, takes θ from the lead, then sets them again', async () => {
    const base = simulationConfig();
    const config = { ...base, scoring: { ...base.scoring, checkpointFrequency: 2, uidsPerWindow: 3, windowsPerWeights: 1 } };
    const sim = await simulation(config, [honest(), honest(), honest()]);
    const leadHotkey = sim.network.hotkeyOf(VALIDATOR_UID)!;
    sim.network.setRunValidators([leadHotkey]);
    for (const w of [2, 3, 4, 5, 6]) await sim.runWindow(w);

    // A second validator of the run that did not join the network: it scores from the run's init θ.
    const signer = await KeyringSigner.fromUris(['//SecondValidator']);
    const hotkey = (await signer.accounts())[0]!.address;
    sim.network.register({ hotkey, stake: 10 });
    const events: WindowEvent[] = [];
    const engine = await sim.engine();
    const persistence = new MemoryPersistence();
    const second = new Validator({
      config, layout: parameterLayout(config.model), engine, storage: sim.network.storage(hotkey), chain: sim.network.chain(),
      signer, hotkey, tokens: sim.tokens, persistence, randomness: fixedRandomness, onEvent: (e) => events.push(e),
    });
    const of = (window: number): WindowEvent[] => events.filter((e) => e.window === window);

    // The hashes are the sha256 of the θ each scored window 7 with: θ after window 6's outer step, and the run's init.
    const leadTheta7 = await sim.validatorEngine.exportParams();
    await sim.runWindow(7);
    const initTheta = await engine.exportParams();
    await second.runWindow(7);
    const differs = of(7).find((e) => e.kind === 'validator-theta-differs');
    expect(differs).toMatchObject({ lead: leadHotkey, ownHash: bytesToHex(sha256(new Uint8Array(initTheta.buffer))), leadHash: bytesToHex(sha256(new Uint8Array(leadTheta7.buffer))) });
    expect(of(7).some((e) => e.kind === 'validator-weights-set')).toBe(false);
    const skipped = of(7).find((e) => e.kind === 'validator-weights-skipped');
    expect(skipped?.kind === 'validator-weights-skipped' ? skipped.reason : '').toContain('θ differs from the lead validator');

    // Before window 8 it takes θ from the lead (its checkpoint of outer step 6, θ after window 7) and scores 8 on the lead's θ.
    const lead8 = (await sim.runWindow(8))!;
    const before8 = events.length;
    const report8 = await second.runWindow(8);
    expect(events.slice(before8).find((e) => e.kind === 'validator-synced')).toMatchObject({ window: 7, lead: leadHotkey, source: 'checkpoint', globalStep: 6, replayed: [] });
    expect(of(8).some((e) => e.kind === 'validator-theta-differs')).toBe(false);
    expect(report8.inputs.lossRandomBefore).toBeCloseTo(lead8.inputs.lossRandomBefore!, 4);
    // Gathering by the lead's peer list, it took the lead's outer step too: θ stays the lead's.
    expect(report8.outerStepApplied).toBe(true);
    expect(await engine.exportParams()).toEqual(await sim.validatorEngine.exportParams());
    expect(of(8).some((e) => e.kind === 'validator-weights-set')).toBe(true);

    // A restart rebuilds θ from its own publications: the checkpoint it published after taking the lead's θ, then its own aggregates.
    const restartedEngine = await sim.engine();
    const restarted = new Validator({
      config, layout: parameterLayout(config.model), engine: restartedEngine, storage: sim.network.storage(hotkey), chain: sim.network.chain(),
      signer, hotkey, tokens: sim.tokens, persistence, randomness: fixedRandomness,
    });
    expect(await restarted.restore()).toBe(true);
    expect(await restartedEngine.exportParams()).toEqual(await engine.exportParams());
  }, 300_000);
});
