import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstBlockOfWindow } from '../../src/core/clock.ts';
import { honest } from '../../src/peer/behaviours.ts';
import type { ValidatorWindowReport } from '../../src/peer/validator.ts';
import { runValidatorLoop, validatorWindowDue } from '../../src/peer/validator-loop.ts';
import { Simulation, simulationConfig } from './sim-harness.ts';

/**
 * The validator's clock (src/peer/validator-loop.ts, shared by the Node CLI and the browser
 * worker) on the in-memory network with a manual clock: when a window is due (§3.4: the chain is in
 * s + validatorOffset and the put window of s has closed) and that the loop runs the real
 * `Validator` on every due window, in order, resuming after the restored state's last window.
 */
const config = simulationConfig();
const { blocksPerWindow, blockTimeMs, putWindowMs } = config.window;
let sim: Simulation;

// Three wasm engines start here: on a loaded two-core machine that can take longer than the default hook timeout.
beforeAll(async () => {
  sim = await Simulation.create(config, [honest(), honest()]);
}, 120_000);
afterAll(async () => {
  await sim.dispose();
});

/** Moves the chain to block `offset` of `window`, each block `blockTimeMs` after the previous one. */
function chainAt(window: number, offset: number): void {
  sim.advanceToBlock(firstBlockOfWindow(window, blocksPerWindow) + offset);
}

describe('validator schedule', () => {
  it('pins the current sync window on a fresh start and calls it due once its put window has closed', async () => {
    const chain = sim.network.chain();
    chainAt(0, 1);
    expect(await validatorWindowDue(chain, config.window, null)).toEqual({ window: null, due: false });
    chainAt(1, 0);
    // In window 1, sync window 0; its put window opened at this block and is open for putWindowMs.
    expect(await validatorWindowDue(chain, config.window, null)).toEqual({ window: 0, due: false });
    const closedAfter = Math.floor(putWindowMs / blockTimeMs) + 1;
    chainAt(1, closedAfter);
    expect(await validatorWindowDue(chain, config.window, null)).toEqual({ window: 0, due: true });
    // A pinned window stays due after the chain has moved on (a slow poll must not skip it).
    chainAt(3, 0);
    expect(await validatorWindowDue(chain, config.window, 0)).toEqual({ window: 0, due: true });
    expect(await validatorWindowDue(chain, config.window, 3)).toEqual({ window: 3, due: false });
  });

  it('runs the real validator on every due window in order, then resumes after its last one', async () => {
    for (const window of [4, 5, 6]) await sim.runWindow(window, false);
    const chain = sim.network.chain();
    chainAt(7, Math.floor(putWindowMs / blockTimeMs) + 1);
    const reports: ValidatorWindowReport[] = [];
    // Fresh: starts at the current sync window (6) only.
    expect(await runValidatorLoop({ validator: sim.validator, chain, clock: config.window, maxWindows: 1, stopped: () => false, onReport: (r) => reports.push(r) })).toBe(1);
    expect(reports.map((r) => r.window)).toEqual([6]);
    expect(reports[0]!.inputs.submittedUids).toEqual([2, 3]);
    // Without a report listener the windows still run (the CLI passes none).
    for (const window of [7, 8]) await sim.runWindow(window, false);
    chainAt(9, Math.floor(putWindowMs / blockTimeMs) + 1);
    expect(await runValidatorLoop({ validator: sim.validator, chain, clock: config.window, maxWindows: 2, stopped: () => false })).toBe(2);
    expect(sim.validator.scoringState.lastWindow).toBe(8);
    // Stopped before anything is due: returns at once with nothing run.
    expect(await runValidatorLoop({ validator: sim.validator, chain, clock: config.window, stopped: () => true })).toBe(0);
  });
});
