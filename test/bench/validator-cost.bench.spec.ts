import { test } from '@playwright/test';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import type { WindowEvent } from '../../src/peer/events.ts';
import { honest } from '../../src/peer/behaviours.ts';
import { Simulation } from '../unit/sim-harness.ts';
import { benchScale, medianMs, printBench } from './report.ts';

/**
 * What a validator spends per evaluated peer (issue #10), in Node on the wasm EP: the real
 * validator loop of the simulation scores honest peers, and stage 2 (gauntlet-spec §7.2,
 * the evaluation block of v2.1.3 `Validator.run`: own-data loss before and after the 0.2× trial step, random-data loss
 * after it) is timed from the validator's own event stream. The baseline is what a miner spends on
 * one window of inner steps (`miner-trained.elapsedMs`: H fwd+bwd+AdamW steps) on the same engine
 * and preset, so the ratio says how many peers one validator can check in the compute a peer
 * trains with. Every peer is evaluated every window (`uidsPerWindow` = peers) to collect samples;
 * that does not change the cost of one evaluation.
 */
const quick = benchScale() === 'quick';
const PEERS = quick ? 3 : 4;
const WINDOWS = quick ? 3 : 6;

/** Times of the events of `kind` in `window`, in stream order. */
function timesOf(sim: Simulation, window: number, match: (e: WindowEvent) => boolean): number[] {
  return sim.events.flatMap((e, i) => (e.window === window && match(e) ? [sim.eventTimesMs[i]!] : []));
}

test(`validator cost: stage-2 evaluation per peer vs one miner window (${PEERS} peers × ${WINDOWS} windows)`, async () => {
  test.setTimeout(1_200_000);
  const base = tinyRunConfig();
  const config = { ...base, scoring: { ...base.scoring, uidsPerWindow: PEERS, gatherPeers: PEERS } };
  const sim = await Simulation.create(config, Array.from({ length: PEERS }, () => honest()));
  try {
    const marginal: number[] = [];
    const windowShare: number[] = [];
    const wholeWindow: number[] = [];
    for (let w = 1; w <= WINDOWS; w++) {
      await sim.runWindow(w);
      const evaluated = timesOf(sim, w, (e) => e.kind === 'validator-evaluated' && e.status === 'ok');
      const [gathered] = timesOf(sim, w, (e) => e.kind === 'validator-gathered');
      const [started] = timesOf(sim, w, (e) => e.kind === 'validator-window-start');
      const [saved] = timesOf(sim, w, (e) => e.kind === 'validator-state-saved');
      const lastEvaluated = evaluated.at(-1);
      if (evaluated.length === 0 || gathered === undefined || started === undefined || saved === undefined || lastEvaluated === undefined) continue;
      // Between consecutive evaluations lies exactly one peer's stage 2 (trial update, three loss passes).
      for (let i = 1; i < evaluated.length; i++) marginal.push(evaluated[i]! - evaluated[i - 1]!);
      // From the gather to the last evaluation: θ export, debug slices, median norms, the shared
      // random-set loss before, and every peer's stage 2; spread over the peers evaluated.
      windowShare.push((lastEvaluated - gathered) / evaluated.length);
      wholeWindow.push((saved - started) / evaluated.length);
    }
    const minerWindows = sim.events.flatMap((e) => (e.kind === 'miner-trained' ? [e.elapsedMs] : []));
    if (marginal.length === 0) throw new Error('the validator evaluated fewer than two peers in every window; nothing to time');
    const minerMs = medianMs(minerWindows);
    const baselineName = `miner: one window (H ${config.inner.innerSteps} steps)`;
    printBench('validator-cost', `Node, wasm EP (1 thread); tiny preset, ${config.scoring.evalSequences} own + ${config.scoring.evalSequences} random eval sequences, ${PEERS} peers, medians over ${WINDOWS} windows`, [
      { name: 'stage 2 per evaluated peer', unit: 'ms', value: medianMs(marginal), baselineName, baseline: minerMs, better: 'lower' },
      { name: 'stage 2 per peer incl. shared work', unit: 'ms', value: medianMs(windowShare), baselineName, baseline: minerMs, better: 'lower' },
      { name: 'whole validator window per peer', unit: 'ms', value: medianMs(wholeWindow), baselineName, baseline: minerMs, better: 'lower' },
    ]);
  } finally {
    await sim.dispose();
  }
});
