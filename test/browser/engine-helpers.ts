/** Shared by the engine browser specs: a tiny custom run config and deterministic token batches. */
import type { ModelShape, RunConfig } from '../../src/core/config.ts';
import { Xoshiro128 } from '../../src/core/prng.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';

/** A run config with a model small enough for SwiftShader (≈9k parameters; the byte vocabulary of 256 is fixed by validation). */
export function microRunConfig(model: Partial<ModelShape> = {}, batchSize = 2): RunConfig {
  const base = tinyRunConfig();
  return {
    ...base,
    preset: 'custom',
    runId: 'browser-test',
    model: { ...base.model, vocabSize: 256, dModel: 16, nLayers: 2, nHeads: 2, dFF: 32, seqLen: 8, initStd: 0.3, ...model },
    inner: { ...base.inner, batchSize, lr: 1e-2, warmupSteps: 0 },
  };
}

/** `count` batches of random tokens as plain arrays (page.evaluate arguments are JSON). */
export function randomBatches(config: RunConfig, count: number, seed: number): { inputs: number[]; targets: number[] }[] {
  const rng = new Xoshiro128(seed);
  const n = config.inner.batchSize * config.model.seqLen;
  const draw = (): number[] => Array.from({ length: n }, () => rng.nextInt(config.model.vocabSize));
  return Array.from({ length: count }, () => ({ inputs: draw(), targets: draw() }));
}
