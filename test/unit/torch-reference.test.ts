/**
 * The PyTorch yardstick of `npm run bench:gpu` (scripts/torch-reference.py, issue #20) trains the
 * same model with the same optimiser as our engine: from the same θ on the same batches, its loss at
 * every inner step matches the wasm engine's, for both model variants (SwiGLU + RoPE + tied head,
 * and GELU + learned positions + untied head), with warm-up off so the steps move θ. Needs a Python
 * with torch (`apt install python3-torch` here, or a GPU machine's); skipped, and says so, without.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import { probeTorch, runTorchReference } from '../../src/cli/torch-reference.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { batchTokens, sequenceCount } from '../../src/core/data/assignment.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import { initParameters } from '../../src/model/params.ts';

const torch = probeTorch();
const reason = torch === null ? ' — SKIPPED: no Python here imports torch (apt install python3-torch)' : '';
if (torch === null) console.warn(`torch-reference.test.ts${reason}`);

const STEPS = 4;
const tiny = tinyRunConfig();
const withoutWarmup = (config: RunConfig): RunConfig => ({ ...config, inner: { ...config.inner, warmupSteps: 0, cosineSteps: 8 } });

describe.skipIf(torch === null)(`the PyTorch reference trains our model${reason}`, () => {
  const variants: [string, RunConfig][] = [
    ['SwiGLU + RoPE + tied head (tiny)', withoutWarmup(tiny)],
    ['GELU + learned positions + untied head', withoutWarmup({ ...tiny, model: { ...tiny.model, activation: 'gelu', positional: 'learned', tiedEmbeddings: false } })],
  ];
  it.each(variants)('%s: the loss of every inner step equals the wasm engine’s', async (_, config) => {
    const { tokens } = loadAllTokens();
    const total = sequenceCount(tokens.length, config.model.seqLen);
    const { batchSize } = config.inner;
    const batches = Array.from({ length: STEPS }, (_, s) => batchTokens(tokens, Array.from({ length: batchSize }, (_, i) => (97 * (s * batchSize + i)) % total), config.model.seqLen));
    const theta = initParameters(config.model, config.initSeed);

    ort.env.wasm.numThreads = 1;
    const engine = new WasmTrainerEngine(ort);
    await engine.init(config, theta);
    const ours = (await engine.trainInner(batches, STEPS)).losses;
    await engine.dispose();

    const dir = mkdtempSync(join(tmpdir(), 'torch-check-'));
    try {
      writeFileSync(join(dir, 'theta.f32'), theta);
      const join32 = (pick: (b: (typeof batches)[number]) => Int32Array): Int32Array => {
        const out = new Int32Array(STEPS * batchSize * config.model.seqLen);
        batches.forEach((b, s) => out.set(pick(b), s * batchSize * config.model.seqLen));
        return out;
      };
      writeFileSync(join(dir, 'inputs.i32'), join32((b) => b.inputs));
      writeFileSync(join(dir, 'targets.i32'), join32((b) => b.targets));
      const answer = runTorchReference<{ losses: number[] }>(torch!.python, { mode: 'check', device: 'cpu', model: config.model, inner: config.inner, steps: STEPS, batch: batchSize, dir });
      expect(answer.losses).toHaveLength(STEPS);
      // The steps move θ: a reference that ignored the optimiser would match the first loss only.
      expect(Math.abs(ours[STEPS - 1]! - ours[0]!)).toBeGreaterThan(1e-3);
      // float32 on both sides, in different orders of operations: equal to a few ulps of the loss.
      answer.losses.forEach((loss, s) => expect(Math.abs(loss - ours[s]!), `step ${s}: torch ${loss}, ours ${ours[s]}`).toBeLessThan(2e-5 * ours[s]!));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
