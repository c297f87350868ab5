import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '@playwright/test';
import * as ort from 'onnxruntime-web';
import type { RunConfig } from '../../src/core/config.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import { parameterLayout } from '../../src/model/params.ts';
import { honest } from '../../src/peer/behaviours.ts';
import {
  dataParallelConfig,
  evaluationBatches,
  evaluationLoss,
  regroupEvaluation,
  trainCentralisedWindow,
  trainDataParallelWindow,
  trainDenseDiLoCoWindow,
  type EvaluationSet,
} from '../../src/peer/centralised-baseline.ts';
import { Simulation } from '../unit/sim-harness.ts';
import { BENCH_RESULTS_DIR, benchScale, printBench, type BenchRow } from './report.ts';

/**
 * Convergence at equal tokens (issues #10, #19): the distributed compressed run (the real miner loop
 * of the Node simulation: H inner AdamW steps per peer, error feedback, top-k + 2-bit compression,
 * signed uploads, gather, outer step; every peer honest and gathered, no validator needed for the
 * loss) against three baselines on the same sequences, from the same initial θ, measured on the same
 * fixed evaluation set (src/peer/centralised-baseline.ts):
 *
 * - **data-parallel AdamW** (the primary baseline, the one DiLoCo, DeMo and SparseLoCo compare with):
 *   H optimiser steps per window, each on the union of the peers' batches of that inner step;
 * - **dense DiLoCo**: the same loop as the network without compression (full pseudo-gradients
 *   averaged, outer SGD at the run's outer lr): what the top-k and 2-bit values cost;
 * - **small-batch AdamW**: peers × H steps of one peer's batch per window, i.e. peers times the
 *   optimiser steps at a quarter of the batch (the baseline this bench printed before issue #19).
 *
 * Tiny preset on the wasm EP in Node, two init seeds, so the figures describe the optimiser, not
 * the device. The per-window curves are saved in bench-results/convergence-curve.json.
 */
const quick = benchScale() === 'quick';
const PEERS = quick ? 2 : 4;
const WINDOWS = quick ? 6 : 40;
const CHECKPOINTS = quick ? [3, 6] : [10, 20, 40];
/** `GAUNTLET_CONVERGENCE_SEEDS=1234,99` picks the init seeds. */
const SEEDS = process.env.GAUNTLET_CONVERGENCE_SEEDS?.split(',').map(Number) ?? (quick ? [1234] : [1234, 4321]);
/**
 * `GAUNTLET_CONVERGENCE_MODEL=wide` runs the same comparison on a model four times tiny's size (d 128,
 * SwiGLU 512, 2 layers, 4 heads of 32), so that the figures are not an artefact of the 0.15M model.
 */
const WIDE = process.env.GAUNTLET_CONVERGENCE_MODEL === 'wide';
/**
 * `GAUNTLET_CONVERGENCE_RESET_MOMENTS=20` runs every side with `inner.resetMomentsAtStep` 20 (the
 * restart of the inner moments at the end of tiny's warm-up, docs/convergence.md); unset: the preset's.
 */
const RESET_MOMENTS = process.env.GAUNTLET_CONVERGENCE_RESET_MOMENTS === undefined ? undefined : Number(process.env.GAUNTLET_CONVERGENCE_RESET_MOMENTS);
const FIRST_WINDOW = 1;

/** The run the suite trains: the tiny preset, or its wide variant (same optimiser, compression and data). */
function runConfig(seed: number): RunConfig {
  const tiny = tinyRunConfig();
  const model = WIDE ? { ...tiny.model, dModel: 128, dFF: 512 } : tiny.model;
  const inner = RESET_MOMENTS === undefined ? tiny.inner : { ...tiny.inner, resetMomentsAtStep: RESET_MOMENTS };
  return { ...tiny, runId: WIDE ? 'tiny-wide-convergence' : tiny.runId, preset: WIDE ? 'custom' : tiny.preset, model, inner, initSeed: seed };
}

interface Curves {
  readonly seed: number;
  readonly distributed: number[];
  readonly dataParallel: number[];
  readonly denseDiLoCo: number[];
  readonly smallBatch: number[];
  readonly meanBytes: number;
  readonly density: number;
}

/** The mean share of each 2-D tensor's entries a submission carries (k per chunk of `targetChunk²`), as the wire format keeps it. */
function submissionDensity(config: RunConfig): number {
  const { topk, targetChunk } = config.compression;
  const twoD = parameterLayout(config.model).filter((t) => t.shape.length === 2);
  const entries = twoD.reduce((a, t) => a + t.size, 0);
  const kept = twoD.reduce((a, t) => a + (t.size / (targetChunk * targetChunk)) * topk, 0);
  return kept / entries;
}

async function engineAt(config: RunConfig): Promise<WasmTrainerEngine> {
  const engine = new WasmTrainerEngine(ort);
  await engine.init(config);
  return engine;
}

async function runSeed(seed: number): Promise<Curves> {
  const config = runConfig(seed);
  const sim = await Simulation.create(config, Array.from({ length: PEERS }, () => honest()));
  const engines: WasmTrainerEngine[] = [];
  try {
    const evaluation: EvaluationSet = evaluationBatches(config, sim.tokens);
    const model = sim.peers[0]!.engine;
    const distributed: number[] = [await evaluationLoss(model, evaluation)];
    for (let w = FIRST_WINDOW; w < FIRST_WINDOW + WINDOWS; w++) {
      await sim.runWindow(w, false);
      distributed.push(await evaluationLoss(model, evaluation));
    }
    const minerUids = sim.peers.map((p) => p.uid);
    const sent = sim.events.flatMap((e) => (e.kind === 'miner-compressed' ? [e.bytes] : []));
    const meanBytes = sent.reduce((a, b) => a + b, 0) / Math.max(1, sent.length);

    const dataParallelEngine = await engineAt(dataParallelConfig(config, PEERS));
    const smallBatchEngine = await engineAt(config);
    const diloco = await Promise.all(minerUids.map(() => engineAt(config)));
    engines.push(dataParallelEngine, smallBatchEngine, ...diloco);
    const dataParallelEvaluation = regroupEvaluation(evaluation, PEERS);
    const dataParallel = [await evaluationLoss(dataParallelEngine, dataParallelEvaluation)];
    const smallBatch = [await evaluationLoss(smallBatchEngine, evaluation)];
    const denseDiLoCo = [await evaluationLoss(diloco[0]!, evaluation)];
    for (let w = FIRST_WINDOW; w < FIRST_WINDOW + WINDOWS; w++) {
      await trainDataParallelWindow(dataParallelEngine, config, sim.tokens, minerUids, w);
      dataParallel.push(await evaluationLoss(dataParallelEngine, dataParallelEvaluation));
      await trainCentralisedWindow(smallBatchEngine, config, sim.tokens, minerUids, w);
      smallBatch.push(await evaluationLoss(smallBatchEngine, evaluation));
      await trainDenseDiLoCoWindow(diloco, config, sim.tokens, minerUids, w);
      denseDiLoCo.push(await evaluationLoss(diloco[0]!, evaluation));
    }
    return { seed, distributed, dataParallel, denseDiLoCo, smallBatch, meanBytes, density: submissionDensity(config) };
  } finally {
    for (const engine of engines) await engine.dispose();
    await sim.dispose();
  }
}

test(`convergence: ${PEERS} compressed peers × ${WINDOWS} windows vs data-parallel AdamW, dense DiLoCo and small-batch AdamW at equal tokens`, async () => {
  test.setTimeout(3_600_000);
  const runs: Curves[] = [];
  for (const seed of SEEDS) runs.push(await runSeed(seed));
  const unit = 'nats/token';
  const rows: BenchRow[] = [];
  for (const run of runs) {
    for (const at of CHECKPOINTS) {
      const value = run.distributed[at]!;
      rows.push(
        { name: `seed ${run.seed}: distributed loss after ${at} windows`, unit, value, baselineName: 'data-parallel AdamW (primary)', baseline: run.dataParallel[at]!, better: 'lower' },
        { name: `seed ${run.seed}: distributed loss after ${at} windows`, unit, value, baselineName: 'dense DiLoCo', baseline: run.denseDiLoCo[at]!, better: 'lower' },
        { name: `seed ${run.seed}: distributed loss after ${at} windows`, unit, value, baselineName: `small-batch AdamW (${PEERS}× the steps)`, baseline: run.smallBatch[at]!, better: 'lower' },
      );
    }
    rows.push(
      { name: `seed ${run.seed}: bytes sent per peer per window`, unit: 'bytes', value: run.meanBytes, baselineName: 'dense fp32 pseudo-gradient', baseline: 4 * parameterLayout(runConfig(run.seed).model).reduce((a, t) => a + t.size, 0), better: 'lower' },
      { name: `seed ${run.seed}: share of 2-D entries sent`, unit: '', value: run.density, baselineName: 'the wire budget (1.6 %)', baseline: 0.016, better: 'lower' },
    );
  }
  const shape = runConfig(SEEDS[0]!).model;
  const size = parameterLayout(shape).reduce((a, t) => a + t.size, 0);
  printBench('convergence', `Node, wasm EP (1 thread); ${WIDE ? 'wide tiny' : 'tiny preset'} (d ${shape.dModel}, ${shape.nLayers} layers, ${size} parameters), ${PEERS} honest peers, H ${tinyRunConfig().inner.innerSteps}, ${WINDOWS} windows, seeds ${SEEDS.join(' and ')}`, rows);
  writeFileSync(join(BENCH_RESULTS_DIR, 'convergence-curve.json'), JSON.stringify({ peers: PEERS, firstWindow: FIRST_WINDOW, model: shape, runs }, null, 2));
});
