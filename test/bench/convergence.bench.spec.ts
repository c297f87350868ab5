import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '@playwright/test';
import * as ort from 'onnxruntime-web';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import { honest } from '../../src/peer/behaviours.ts';
import { evaluationBatches, evaluationLoss, trainCentralisedBaseline } from '../../src/peer/centralised-baseline.ts';
import { Simulation } from '../unit/sim-harness.ts';
import { BENCH_RESULTS_DIR, benchScale, printBench } from './report.ts';

/**
 * Convergence at equal tokens (issue #10): the distributed compressed run (the real miner loop of
 * the Node simulation: H inner AdamW steps per peer, error feedback, top-k + 2-bit compression,
 * signed uploads, gather, outer step; every peer honest and gathered, no validator needed for the
 * loss) against centralised AdamW on the union of the same batches (src/peer/centralised-baseline.ts
 * explains why that is the fair baseline). Both start from the run's initial θ and are measured on
 * the same fixed evaluation set. Tiny preset on the wasm EP in Node, so the figures describe the
 * optimiser, not the device. The per-window curves are saved in bench-results/convergence-curve.json.
 */
const quick = benchScale() === 'quick';
const PEERS = quick ? 2 : 4;
const WINDOWS = quick ? 6 : 20;
const FIRST_WINDOW = 1;

test(`convergence: ${PEERS} compressed peers × ${WINDOWS} windows vs centralised AdamW at equal tokens`, async () => {
  test.setTimeout(1_200_000);
  const config = tinyRunConfig();
  const sim = await Simulation.create(config, Array.from({ length: PEERS }, () => honest()));
  const baselineEngine = new WasmTrainerEngine(ort);
  try {
    const evaluation = evaluationBatches(config, sim.tokens);
    const model = sim.peers[0]!.engine;
    const distributed: number[] = [await evaluationLoss(model, evaluation)];
    for (let w = FIRST_WINDOW; w < FIRST_WINDOW + WINDOWS; w++) {
      await sim.runWindow(w, false);
      distributed.push(await evaluationLoss(model, evaluation));
    }
    const minerUids = sim.peers.map((p) => p.uid);
    const trainedSteps = sim.events.reduce((n, e) => n + (e.kind === 'miner-trained' ? e.steps : 0), 0);
    const distributedTokens = trainedSteps * config.inner.batchSize * config.model.seqLen;
    const sent = sim.events.flatMap((e) => (e.kind === 'miner-compressed' ? [e.bytes] : []));
    const meanBytes = sent.reduce((a, b) => a + b, 0) / Math.max(1, sent.length);
    const parameters = (await model.exportParams()).length;

    await baselineEngine.init(config);
    const baseline = await trainCentralisedBaseline({ config, engine: baselineEngine, tokens: sim.tokens, minerUids, firstWindow: FIRST_WINDOW, windows: WINDOWS, evaluation });
    const centralised = [baseline.initialEvaluationLoss, ...baseline.windows.map((w) => w.evaluationLoss)];

    const half = Math.ceil(WINDOWS / 2);
    const last = WINDOWS;
    const unit = 'nats/token';
    printBench('convergence', `Node, wasm EP (1 thread); tiny preset, ${PEERS} honest peers, H ${config.inner.innerSteps}, ${WINDOWS} windows, ${evaluation.sequenceIds.length} evaluation sequences`, [
      { name: `distributed loss after ${half} windows`, unit, value: distributed[half]!, baselineName: 'centralised AdamW, same tokens', baseline: centralised[half]!, better: 'lower' },
      { name: `distributed loss after ${last} windows`, unit, value: distributed[last]!, baselineName: 'centralised AdamW, same tokens', baseline: centralised[last]!, better: 'lower' },
      { name: `loss drop from init after ${last} windows`, unit, value: distributed[0]! - distributed[last]!, baselineName: 'centralised AdamW drop', baseline: centralised[0]! - centralised[last]!, better: 'higher' },
      { name: 'tokens trained', unit: 'tokens', value: distributedTokens, baselineName: 'centralised AdamW', baseline: baseline.totalTokens, better: 'higher' },
      { name: 'bytes sent per peer per window', unit: 'bytes', value: meanBytes, baselineName: 'dense fp32 pseudo-gradient', baseline: 4 * parameters, better: 'lower' },
    ]);
    writeFileSync(
      join(BENCH_RESULTS_DIR, 'convergence-curve.json'),
      JSON.stringify({ peers: PEERS, firstWindow: FIRST_WINDOW, tokensPerWindow: baseline.totalTokens / WINDOWS, trainedEvaluationSequences: baseline.trainedEvaluationSequences, distributed, centralised }, null, 2),
    );
  } finally {
    await baselineEngine.dispose();
    await sim.dispose();
  }
});
