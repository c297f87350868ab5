/**
 * `runValidatorSchedule` (shared by `npm run validator` and `npm run swarm`) against the real
 * `Validator` on the in-memory network with a manual clock: a window is scored once the chain is past
 * its put window, in order, and not before; the loop stops when asked.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { firstBlockOfWindow } from '../../src/core/clock.ts';
import { runValidatorSchedule } from '../../src/peer/validator-schedule.ts';
import { Simulation, simulationConfig } from './sim-harness.ts';

let sim: Simulation | undefined;
afterAll(async () => {
  await sim?.dispose();
});

describe('validator schedule', () => {
  it('scores due windows in order without a callback, and waits at a window whose put window is open', async () => {
    sim = await Simulation.create(simulationConfig(), []);
    const { config } = sim;
    const { blocksPerWindow } = config.window;
    // Head at the first block of window 5: windows 2 and 3 are past their put windows, window 4's opens now.
    sim.advanceToBlock(firstBlockOfWindow(5, blocksPerWindow));
    const chain = sim.network.chain();
    const scored = await runValidatorSchedule({ config, chain, validator: sim.validator, firstWindow: 2, maxWindows: 2 });
    expect(scored).toBe(2);
    expect(sim.validator.scoringState.lastWindow).toBe(3);

    let polls = 0;
    const seen: number[] = [];
    const waited = await runValidatorSchedule({
      config, chain, validator: sim.validator, firstWindow: 4, maxWindows: 1,
      stop: () => ++polls > 2,
      onScored: (report) => void seen.push(report.window),
    });
    expect(waited).toBe(0);
    expect(seen).toEqual([]);
    expect(sim.validator.scoringState.lastWindow).toBe(3);
  });
});
