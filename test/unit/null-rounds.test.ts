/**
 * Null rounds (issue #18, audit point 2): a run's first `validatorOffset + peerListWindowMargin`
 * windows from its `window.startWindow` train nothing, as Templar v2.1.3's `Miner.run` does with
 * `null_round` (gauntlet-spec §3.3 step 4: no optimiser step, error feedback zeroed), and its
 * validators score nothing. A run without a start window (every run before config version 4) has
 * none, as before. The loops are the real ones on wasm engines (`sim-harness.ts`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { firstBlockOfWindow, firstWindowAfterNullRounds, isNullRoundOf, putWindowAnchorBlock } from '../../src/core/clock.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { RunConfigError, tinyRunConfig, validateRunConfig } from '../../src/core/run-config.ts';
import { honest } from '../../src/peer/behaviours.ts';
import { gradientKey } from '../../src/peer/gather.ts';
import { MinerStateError } from '../../src/peer/miner.ts';
import { NullRoundWindowError } from '../../src/peer/validator.ts';
import { Simulation, simulationConfig } from './sim-harness.ts';

function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

describe('null rounds: which windows', () => {
  it('are the validatorOffset + peerListWindowMargin windows from the start window (and those before it), and none without one', () => {
    // Templar v2.1.3: null_round = current_window − start_window < validator_offset + peer_list_window_margin.
    for (const [startWindow, validatorOffset, peerListWindowMargin] of [[10, 1, 1], [0, 2, 3], [7, 1, 0]] as const) {
      const cfg = { startWindow, validatorOffset, peerListWindowMargin };
      for (let window = 0; window < 30; window++) {
        expect(isNullRoundOf(window, cfg), `start ${startWindow}, window ${window}`).toBe(window - startWindow < validatorOffset + peerListWindowMargin);
      }
      expect(firstWindowAfterNullRounds(cfg)).toBe(startWindow + validatorOffset + peerListWindowMargin);
    }
    const none = { startWindow: null, validatorOffset: 1, peerListWindowMargin: 1 };
    for (let window = 0; window < 30; window++) expect(isNullRoundOf(window, none)).toBe(false);
    expect(firstWindowAfterNullRounds(none)).toBeNull();
  });

  it('the run config takes a start window or null, and nothing else; the presets have none', () => {
    const tiny = tinyRunConfig();
    expect(tiny.window.startWindow).toBeNull();
    expect(validateRunConfig({ ...tiny, window: { ...tiny.window, startWindow: 12 } }).window.startWindow).toBe(12);
    for (const bad of [-1, 1.5, '3', 2 ** 32, Number.NaN]) {
      let issues: readonly { path: string; message: string }[] = [];
      try {
        validateRunConfig({ ...tiny, window: { ...tiny.window, startWindow: bad } });
      } catch (error) {
        expect(error).toBeInstanceOf(RunConfigError);
        issues = (error as RunConfigError).issues;
      }
      expect(issues.map((i) => i.path), String(bad)).toEqual(['window.startWindow']);
    }
    const { startWindow: _dropped, ...withoutStart } = tiny.window;
    expect(() => validateRunConfig({ ...tiny, window: withoutStart })).toThrow(/window\.startWindow is missing/);
  });
});

describe('null rounds in the loops', () => {
  let sim: Simulation | undefined;
  afterAll(async () => {
    await sim?.dispose();
  });

  it('train, send, gather and score nothing, even with a valid upload in them; the first real window starts from the initial θ', async () => {
    const base = simulationConfig();
    // Windows 0 and 1 are null (validatorOffset 1 + peerListWindowMargin 1); window 2 is the run's first outer step.
    const config: RunConfig = { ...base, window: { ...base.window, startWindow: 0 } };
    sim = await Simulation.create(config, [honest(), honest(), honest()]);
    const initial = await sim.validatorEngine.exportParams();

    // A miner that holds error feedback from elsewhere (a restored snapshot) starts the run with e = 0, as Templar's null round leaves it.
    const first = sim.peers[0]!;
    await first.miner.restoreErrorFeedback(new Float32Array(initial.length).fill(0.25));
    // A peer that ignores the null rounds (another client) trains and uploads a valid, signed update in each of them.
    const ignoring = sim.peers[2]!;
    const ignoringHotkey = sim.network.hotkeyOf(ignoring.uid)!;
    for (const window of [0, 1]) {
      sim.advanceToBlock(firstBlockOfWindow(window, config.window.blocksPerWindow));
      await ignoring.miner.prepare(window);
      sim.advanceToBlock(putWindowAnchorBlock(window, config.window.blocksPerWindow));
      sim.nowMs = Math.max(sim.nowMs, sim.gateOf(window).timeMinMs + 500);
      await ignoring.miner.upload(window, sim.gateOf(window));
      expect(await sim.network.storage(ignoringHotkey).head(ignoringHotkey, gradientKey(window, ignoring.uid))).toBeDefined();
      sim.nowMs = Math.max(sim.nowMs, sim.gateOf(window).timeMaxMs + 1);
      expect(await sim.runWindow(window)).toBeNull();
    }
    expect(Array.from(await first.miner.exportErrorFeedback()).every((v) => v === 0)).toBe(true);
    expect(bitsOf(await sim.validatorEngine.exportParams())).toEqual(bitsOf(initial));
    for (const peer of sim.peers) expect(bitsOf(await peer.engine.exportParams())).toEqual(bitsOf(initial));
    // Only the peer that ignored them trained and uploaded; nobody gathered; the validator read nothing and stepped nothing.
    expect([...new Set(sim.events.flatMap((e) => (e.kind === 'miner-uploaded' || e.kind === 'miner-trained' ? [e.uid] : [])))]).toEqual([ignoring.uid]);
    const kinds = new Set(sim.events.map((e) => e.kind));
    for (const kind of [ 'miner-gathered', 'miner-outer-step', 'validator-window-start', 'validator-gathered', 'validator-outer-step', 'validator-scored']) expect(kinds.has(kind as never), kind).toBe(false);
    expect(sim.events.filter((e) => e.kind === 'miner-null-round').map((e) => [e.window, e.kind === 'miner-null-round' ? e.trainsFrom : -1])).toEqual([0, 0, 0, 1, 1, 1].map((w) => [w, 2]));
    expect(sim.events.filter((e) => e.kind === 'validator-null-round').map((e) => e.window)).toEqual([0, 1]);
    expect(sim.validator.scoringState.lastWindow).toBe(1);
    expect(sim.validator.scoringState.globalStep).toBe(0);

    // A newcomer catching up through the null rounds before anything is published skips them, the valid upload in them included.
    const joiner = await sim.joiningPeer('//NullRoundJoiner', honest());
    expect(await joiner.miner.catchUp(0, 1, (w) => Promise.resolve(sim!.gateOf(w)))).toEqual({ replayed: [], gatheredLive: [], skipped: [0, 1] });
    expect(bitsOf(await joiner.engine.exportParams())).toEqual(bitsOf(initial));

    // Neither loop will gather or step a null round if asked to.
    await expect(sim.validator.runWindow(1)).rejects.toBeInstanceOf(NullRoundWindowError);
    await expect(sim.validator.catchUpWindow(1)).rejects.toBeInstanceOf(NullRoundWindowError);
    await expect(first.miner.nullRound(2)).rejects.toBeInstanceOf(MinerStateError);

    // The first real window: every honest peer trains, is gathered, and none is slashed for a debug slice it had no window to publish.
    const report = await sim.runWindow(2);
    expect(report).not.toBeNull();
    expect([...report!.inputs.gather!.gatheredUids].sort()).toEqual(sim.peers.map((p) => p.uid).sort());
    expect(report!.result.state.globalStep).toBe(1);
    const slashes = report!.result.reasons.filter((r) => r.rule.endsWith('-slash') || r.rule === 'inactivity-reset');
    expect(slashes).toEqual([]);

    // The newcomer then takes the first outer step from the validator's aggregate and lands on the validator's θ.
    expect(await joiner.miner.catchUp(2, 2, (w) => Promise.resolve(sim!.gateOf(w)))).toEqual({ replayed: [2], gatheredLive: [], skipped: [] });
    expect(bitsOf(await joiner.engine.exportParams())).toEqual(bitsOf(await sim.validatorEngine.exportParams()));
  }, 240_000);
});
