/**
 * `runValidatorSchedule` (shared by `npm run validator`, `npm run swarm` and the page's validator)
 * against the real `Validator` on the in-memory network, on a virtual clock (`Simulation.sleep`: the
 * loop's sleeps produce the chain's blocks): a window is scored at the first head whose timestamp is
 * past its put window, at a 1 s and a 12 s block time; a run whose put window cannot fit the chain's
 * windows is refused with the numbers; windows missed while down are caught up without weights; CR-v2
 * commits are revealed in subtensor's reveal blocks, across a restart, and expire when the validator
 * sleeps through them (issue #15). Expected blocks are derived here from the formulas, not read back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { firstBlockOfWindow, putWindowAnchorBlock, WindowTimingError } from '../../src/core/clock.ts';
import type { BlockHeader } from '../../src/net/types.ts';
import type { WindowEvent } from '../../src/peer/events.ts';
import { honest } from '../../src/peer/behaviours.ts';
import { runValidatorSchedule } from '../../src/peer/validator-schedule.ts';
import { Simulation, simulationConfig, VALIDATOR_UID } from './sim-harness.ts';

const simulations: Simulation[] = [];
afterEach(async () => {
  for (const sim of simulations.splice(0)) await sim.dispose();
});

async function simulation(chainBlockTimeMs: number, options: { miners?: number; commitReveal?: { tempo: number; revealPeriodEpochs: number } } = {}): Promise<Simulation> {
  const sim = await Simulation.create(simulationConfig(), Array.from({ length: options.miners ?? 0 }, () => honest()), undefined, {
    blockTimeMs: chainBlockTimeMs,
    ...(options.commitReveal === undefined ? {} : { commitRevealEnabled: true, tempo: options.commitReveal.tempo, revealPeriodEpochs: options.commitReveal.revealPeriodEpochs }),
  });
  simulations.push(sim);
  return sim;
}

function head(sim: Simulation): BlockHeader {
  return { number: sim.network.head, timestampMs: sim.network.blockTimestamp(sim.network.head) };
}

function kinds(events: readonly WindowEvent[], kind: WindowEvent['kind']): WindowEvent[] {
  return events.filter((e) => e.kind === kind);
}

describe('validator schedule on a chain whose heads carry timestamps', () => {
  for (const chainBlockTimeMs of [1000, 12_000]) {
    it(`at a ${chainBlockTimeMs / 1000} s block time, scores each window at the first head past its put window`, async () => {
      const sim = await simulation(chainBlockTimeMs);
      const { blocksPerWindow, putWindowMs } = sim.config.window;
      const genesisMs = sim.network.blockTimestamp(0);
      const scoredAt = new Map<number, BlockHeader>();
      let warnings: readonly string[] = [];
      const scored = await runValidatorSchedule({
        config: sim.config, chain: sim.network.chain(), validator: sim.validator, firstWindow: null, maxWindows: 3, sleep: sim.sleep,
        onTiming: (timing) => {
          expect(timing.chainBlockTimeMs).toBe(chainBlockTimeMs);
          warnings = timing.warnings;
        },
        onScored: (report) => void scoredAt.set(report.window, head(sim)),
      });
      expect(scored).toBe(3);
      expect([...scoredAt.keys()]).toEqual([0, 1, 2]);
      for (const [window, at] of scoredAt) {
        // Block n is stamped genesis + n·B; the put window of w opens at the first block of w + 1 and
        // closes putWindowMs later: the first head strictly past it is anchor + ⌊put / B⌋ + 1.
        const anchor = putWindowAnchorBlock(window, blocksPerWindow);
        const due = anchor + Math.floor(putWindowMs / chainBlockTimeMs) + 1;
        expect(at.number).toBe(due);
        expect(at.timestampMs).toBe(genesisMs + due * chainBlockTimeMs);
        expect(sim.network.blockTimestamp(due - 1)).toBeLessThanOrEqual(sim.network.blockTimestamp(anchor) + putWindowMs);
      }
      // The run says 1 s blocks: on a 12 s chain its windows last twelve times longer, and the loop says so.
      expect(warnings.length).toBe(chainBlockTimeMs === sim.config.window.blockTimeMs ? 0 : 1);
      if (chainBlockTimeMs !== sim.config.window.blockTimeMs) expect(warnings[0]).toContain(`${blocksPerWindow * chainBlockTimeMs} ms`);
    });
  }

  it('passes a run\'s null rounds without scoring them, then scores its first window', async () => {
    const base = simulationConfig();
    // Start window 0: windows 0 and 1 are null rounds (validatorOffset 1 + peerListWindowMargin 1).
    const sim = await Simulation.create({ ...base, window: { ...base.window, startWindow: 0 } }, []);
    simulations.push(sim);
    const passed: number[] = [];
    const scored: number[] = [];
    const attempted = await runValidatorSchedule({
      config: sim.config, chain: sim.network.chain(), validator: sim.validator, firstWindow: null, maxWindows: 3, sleep: sim.sleep,
      onNullRound: (report) => void passed.push(report.window),
      onScored: (report) => void scored.push(report.window),
    });
    expect(attempted).toBe(3);
    expect(passed).toEqual([0, 1]);
    expect(scored).toEqual([2]);
    expect(kinds(sim.events, 'validator-window-start').map((e) => e.window)).toEqual([2]);
  }, 120_000);

  it('refuses a run whose put window cannot fit the chain\'s windows, with the numbers, before scoring anything', async () => {
    const sim = await simulation(500);
    const { blocksPerWindow, putWindowMs } = sim.config.window;
    const run = runValidatorSchedule({ config: sim.config, chain: sim.network.chain(), validator: sim.validator, firstWindow: null, maxWindows: 1, sleep: sim.sleep });
    await expect(run).rejects.toThrow(WindowTimingError);
    await expect(run).rejects.toThrow(`${blocksPerWindow} blocks × 500 ms = ${blocksPerWindow * 500} ms`);
    await expect(run).rejects.toThrow(`put window (${putWindowMs} ms)`);
    expect(sim.validator.scoringState.lastWindow).toBeNull();
    expect(sim.network.head).toBe(0);
  });

  it('catches up the windows it missed without scoring them or setting weights, onto the miners\' θ, then scores live', async () => {
    const sim = await simulation(1000, { miners: 2 });
    // The miners run windows 0–6 while the validator is down: they gather and step without it.
    for (let w = 0; w <= 6; w++) await sim.runWindow(w, false);
    const startedAt = head(sim);
    const lagAtStart = startedAt.number / sim.config.window.blocksPerWindow;
    expect(Math.floor(lagAtStart)).toBe(7); // the chain is in window 7: sync window 6
    const caughtUp: number[] = [];
    const scored: number[] = [];
    const attempted = await runValidatorSchedule({
      config: sim.config, chain: sim.network.chain(), validator: sim.validator, firstWindow: 0, maxWindows: 7, sleep: sim.sleep,
      onCaughtUp: (report, lag) => {
        caughtUp.push(report.window);
        expect(lag).toBeGreaterThan(1);
        expect(report.gathered).toEqual(sim.peers.map((p) => p.uid));
        expect(report.outerStepApplied).toBe(true);
      },
      onScored: (report) => void scored.push(report.window),
    });
    expect(attempted).toBe(7);
    // Sync window 6 at the start: windows more than one behind it are caught up, 5 and 6 scored live.
    expect(caughtUp).toEqual([0, 1, 2, 3, 4]);
    expect(scored).toEqual([5, 6]);
    const weightWindows = sim.events.flatMap((e) => (e.kind === 'validator-weights-set' ? [e.window] : []));
    expect(weightWindows).toEqual([6]); // windowsPerWeights 2: 0, 2 and 4 were weight windows, but not watched
    expect(sim.network.weightsOf(sim.network.hotkeyOf(VALIDATOR_UID)!)).toBeDefined();
    expect(kinds(sim.events, 'validator-evaluated').every((e) => e.window >= 5)).toBe(true);
    // Every outer step the miners took, the validator took: θ is the network's, bit for bit.
    const validatorTheta = await sim.validatorEngine.exportParams();
    for (const peer of sim.peers) expect(Buffer.from((await peer.engine.exportParams()).buffer).equals(Buffer.from(validatorTheta.buffer))).toBe(true);
    expect(sim.validator.scoringState.lastWindow).toBe(6);
    expect(sim.validator.scoringState.globalStep).toBe(7);
  }, 240_000);
});

describe('CR-v2 weights through the schedule', () => {
  const TEMPO = 10;

  /** Subtensor's reveal blocks of a commit in `block` (`get_epoch_index`, `get_reveal_blocks`), worked out here. */
  function revealBlocks(netuid: number, commitBlock: number, revealPeriodEpochs: number): [number, number] {
    const epoch = Math.floor((commitBlock + netuid + 1) / (TEMPO + 1));
    const first = (epoch + revealPeriodEpochs) * (TEMPO + 1) - (netuid + 1);
    return [first, first + TEMPO];
  }

  it('commits, survives a restart between commit and reveal, and reveals in the commit\'s reveal epoch', async () => {
    const sim = await simulation(1000, { miners: 2, commitReveal: { tempo: TEMPO, revealPeriodEpochs: 1 } });
    const hotkey = sim.network.hotkeyOf(VALIDATOR_UID)!;
    // Windows 0 and 1: window 0 is a weight window with a gather (a window without one sets no weights), so its weights are committed.
    await sim.runWindow(0, false);
    await runValidatorSchedule({ config: sim.config, chain: sim.network.chain(), validator: sim.validator, firstWindow: null, maxWindows: 2, sleep: sim.sleep });
    const committed = kinds(sim.events, 'validator-weights-committed');
    expect(committed.length).toBe(1);
    const commit = committed[0]!;
    if (commit.kind !== 'validator-weights-committed') throw new Error('unreachable');
    const [first, last] = revealBlocks(sim.config.netuid, commit.block, 1);
    expect([commit.firstRevealBlock, commit.lastRevealBlock]).toEqual([first, last]);
    expect(sim.network.weightsOf(hotkey)).toBeUndefined();
    expect(sim.network.head).toBeLessThan(first); // nothing could have been revealed yet
    expect(sim.validator.pendingReveals.length).toBe(1);

    // The process dies; a new validator on a fresh engine resumes from the persisted state alone.
    const restarted = sim.newValidator(await sim.engine());
    sim.validator = restarted;
    expect(await restarted.restore()).toBe(true);
    expect(restarted.pendingReveals.map((p) => p.window)).toEqual([0]);
    await runValidatorSchedule({
      config: sim.config, chain: sim.network.chain(), validator: restarted, firstWindow: restarted.scoringState.lastWindow! + 1, maxWindows: 10, sleep: sim.sleep,
      stop: () => sim.network.weightsOf(hotkey) !== undefined,
    });
    const landed = sim.network.weightsOf(hotkey);
    expect(landed).toBeDefined();
    expect(landed!.block).toBeGreaterThanOrEqual(first);
    expect(landed!.block).toBeLessThanOrEqual(last);
    expect(landed!.uids).toEqual(commit.uids);
    expect(landed!.values).toEqual(commit.values);
    const revealed = sim.events.filter((e) => e.kind === 'validator-weights-set');
    expect(revealed.map((e) => (e.kind === 'validator-weights-set' ? [e.window, e.method] : []))).toEqual([[0, 'revealWeights']]);
    expect(sim.network.pendingCommitsOf(hotkey).every((c) => c.commitBlock > commit.block)).toBe(true);
  }, 120_000);

  it('a commit whose reveal blocks pass while the validator is down expires and is dropped, and the next one still lands', async () => {
    const sim = await simulation(1000, { miners: 2, commitReveal: { tempo: TEMPO, revealPeriodEpochs: 1 } });
    const hotkey = sim.network.hotkeyOf(VALIDATOR_UID)!;
    await sim.runWindow(0, false);
    await runValidatorSchedule({ config: sim.config, chain: sim.network.chain(), validator: sim.validator, firstWindow: null, maxWindows: 1, sleep: sim.sleep });
    const commit = sim.validator.pendingReveals[0]!.commit;
    // Down past the last reveal block: the chain would refuse the reveal as expired.
    sim.advanceToBlock(commit.lastRevealBlock + 3);
    // The miners upload in the next weight window, so it has a gather and weights to commit.
    const { blocksPerWindow } = sim.config.window;
    const windowsPerWeights = sim.config.scoring.windowsPerWeights;
    const next = Math.ceil((Math.floor(sim.network.head / blocksPerWindow) + 1) / windowsPerWeights) * windowsPerWeights;
    await sim.runWindow(next, false);
    await runValidatorSchedule({
      config: sim.config, chain: sim.network.chain(), validator: sim.validator, firstWindow: sim.validator.scoringState.lastWindow! + 1, maxWindows: 40, sleep: sim.sleep,
      stop: () => sim.network.weightsOf(hotkey) !== undefined,
    });
    const expired = kinds(sim.events, 'validator-weights-expired');
    expect(expired.map((e) => e.window)).toEqual([0]);
    const landed = sim.events.filter((e) => e.kind === 'validator-weights-set');
    expect(landed.length).toBe(1);
    expect(landed[0]!.window).toBeGreaterThan(0);
    expect(sim.validator.pendingReveals.every((p) => p.commit.commitBlock !== commit.commitBlock)).toBe(true);
  }, 240_000);
});

describe('the persisted validator state', () => {
  it('a version-1 state (before pending reveals existed) still resumes, with nothing to reveal; a malformed pending list is refused', async () => {
    const sim = await simulation(1000, { miners: 2, commitReveal: { tempo: 10, revealPeriodEpochs: 1 } });
    await sim.runWindow(0, false);
    await runValidatorSchedule({ config: sim.config, chain: sim.network.chain(), validator: sim.validator, firstWindow: null, maxWindows: 1, sleep: sim.sleep });
    const saved = JSON.parse(sim.persistence.text!) as Record<string, unknown>;
    expect(saved.version).toBe(2);
    expect((saved.pendingReveals as unknown[]).length).toBe(1);
    const { pendingReveals: _dropped, ...rest } = saved;
    sim.persistence.text = JSON.stringify({ ...rest, version: 1 });
    const older = sim.newValidator(await sim.engine());
    expect(await older.restore()).toBe(true);
    expect(older.pendingReveals).toEqual([]);
    expect(older.scoringState.lastWindow).toBe(0);
    sim.persistence.text = JSON.stringify({ ...saved, pendingReveals: [{ window: 0, commit: { hotkey: 'x', netuid: 3 } }] });
    await expect(sim.newValidator(await sim.engine()).restore()).rejects.toThrow(/cannot be resumed: pendingReveals\[0\]\.commit/);
  });
});

describe('the schedule starts from the chain it is given', () => {
  it('waits at a window whose put window is still open', async () => {
    const sim = await simulation(1000);
    sim.advanceToBlock(firstBlockOfWindow(5, sim.config.window.blocksPerWindow));
    let polls = 0;
    const waited = await runValidatorSchedule({
      config: sim.config, chain: sim.network.chain(), validator: sim.validator, firstWindow: 4, maxWindows: 1,
      // No sleep passes time here: the head stays where it is.
      sleep: () => Promise.resolve(),
      stop: () => ++polls > 3,
    });
    expect(waited).toBe(0);
    expect(sim.validator.scoringState.lastWindow).toBeNull();
  });
});
