import { test } from '@playwright/test';
import { Xoshiro128 } from '../../src/core/prng.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { parameterLayout } from '../../src/model/params.ts';
import { medianMs, printBench, type BenchRow } from './report.ts';

/**
 * Validator cost per evaluated peer (issue #10 bench list), next to the miner's cost of one window
 * on the same engine in the same trainer worker: one stage-2 evaluation is three loss passes over
 * `evalSequences` sequences (own data before and after the trial step, random data after it;
 * gauntlet-spec §7.2, `Validator.evaluate_peer`), one miner window is H inner steps of fwd + bwd +
 * AdamW. The trial update here is a fixed random vector; decoding and clipping the peer's
 * submission (CPU, milliseconds on tiny) are not part of the figure.
 */
type Backend = 'webgpu' | 'wasm';

const config = tinyRunConfig();
const layout = parameterLayout(config.model);
const last = layout[layout.length - 1]!;
const parameterCount = last.offset + last.shape.reduce((a, b) => a * b, 1);

function batches(count: number, seed: number): { inputs: number[]; targets: number[] }[] {
  const rng = new Xoshiro128(seed);
  const n = config.inner.batchSize * config.model.seqLen;
  const draw = (): number[] => Array.from({ length: n }, () => rng.nextInt(config.model.vocabSize));
  return Array.from({ length: count }, () => ({ inputs: draw(), targets: draw() }));
}

test('validator: one evaluated peer vs one miner window', async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto('/');
  const cap = await page.evaluate(() => window.gauntlet!.capability);
  const rows: BenchRow[] = [];
  const { innerSteps, batchSize } = config.inner;
  const evalBatches = config.scoring.evalSequences / batchSize;
  for (const backend of ['wasm', 'webgpu'] as const satisfies readonly Backend[]) {
    if (backend === 'webgpu' && !cap.available) continue;
    const timings = await page.evaluate(
      async ({ config, backend, train, own, random, parameterCount, reps }) => {
        const trainer = window.gauntlet!.trainer;
        await trainer.init(config, undefined, { backend });
        const typed = (bs: { inputs: number[]; targets: number[] }[]) => bs.map((b) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) }));
        const trainBatches = typed(train);
        const ownBatches = typed(own);
        const randomBatches = typed(random);
        const trial = new Float32Array(parameterCount).map((_, i) => 1e-4 * Math.sin(i));
        // Warm-up: graph sessions, shader compilation, allocation.
        await trainer.trainInner(trainBatches.slice(0, 1), 1);
        await trainer.evalLoss(ownBatches, trial);
        const miner: number[] = [];
        const peer: number[] = [];
        for (let rep = 0; rep < reps; rep++) {
          let t0 = performance.now();
          await trainer.trainInner(trainBatches, trainBatches.length);
          miner.push(performance.now() - t0);
          t0 = performance.now();
          await trainer.evalLoss(ownBatches);
          await trainer.evalLoss(ownBatches, trial);
          await trainer.evalLoss(randomBatches, trial);
          peer.push(performance.now() - t0);
        }
        await trainer.dispose();
        return { miner, peer };
      },
      { config, backend, train: batches(innerSteps, 1), own: batches(evalBatches, 2), random: batches(evalBatches, 3), parameterCount, reps: 3 },
    );
    const peerMs = medianMs(timings.peer);
    const minerMs = medianMs(timings.miner);
    rows.push({ name: `validator: one evaluated peer (${backend})`, unit: 'ms', value: peerMs, baselineName: `miner: one window, H=${innerSteps} (${backend})`, baseline: minerMs, better: 'lower' });
    console.log(`validator (${backend}): one evaluated peer costs ${(peerMs / minerMs).toFixed(2)} miner windows (3 × ${config.scoring.evalSequences} sequences of loss vs ${innerSteps} × ${batchSize} sequences of training)`);
  }
  printBench('validator', `${cap.architecture || cap.description || 'webgpu'}${cap.isFallbackAdapter ? ' (software adapter)' : ''}`, rows);
});
