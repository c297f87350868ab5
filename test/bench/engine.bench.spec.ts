import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type Page } from '@playwright/test';
import type * as TF from '@tensorflow/tfjs';
import type { ModelShape, RunConfig } from '../../src/core/config.ts';
import { Xoshiro128 } from '../../src/core/prng.ts';
import { smallRunConfig, tinyRunConfig } from '../../src/core/run-config.ts';
import { printBench, type BenchRow } from './report.ts';

/**
 * Training throughput (tokens/s of fwd + bwd + clipping + AdamW, loss read back every step) of our
 * engine, ORT's WebGPU EP and wasm EP in the trainer worker, next to the same model written in
 * TensorFlow.js (its webgpu and wasm backends) in the same browser. TF.js runs on the page's main
 * thread (it is loaded only for this benchmark, from node_modules); our engine runs in its worker.
 * On a software WebGPU adapter (SwiftShader) the `small` preset's WebGPU rows are skipped: one step
 * there takes minutes, and those numbers would say nothing about GPUs (ort-webgpu.md §10).
 */

type Backend = 'webgpu' | 'wasm';

function batches(config: RunConfig, count: number): { inputs: number[]; targets: number[] }[] {
  const rng = new Xoshiro128(99);
  const n = config.inner.batchSize * config.model.seqLen;
  const draw = (): number[] => Array.from({ length: n }, () => rng.nextInt(config.model.vocabSize));
  return Array.from({ length: count }, () => ({ inputs: draw(), targets: draw() }));
}

async function ortTokensPerSecond(page: Page, config: RunConfig, backend: Backend, steps: number): Promise<number> {
  return page.evaluate(
    async ({ config, backend, steps, data }) => {
      const trainer = window.gauntlet!.trainer!;
      await trainer.init(config, undefined, { backend });
      const typed = data.map((b) => ({ inputs: Int32Array.from(b.inputs), targets: Int32Array.from(b.targets) }));
      await trainer.trainInner(typed.slice(0, 1), 1); // warm-up: shader compilation, allocation
      const result = await trainer.trainInner(typed.slice(1), steps);
      await trainer.dispose();
      return result.tokens / (result.elapsedMs / 1000);
    },
    { config, backend, steps, data: batches(config, steps + 1) },
  );
}

interface TfjsArgs {
  readonly backend: Backend;
  readonly shape: ModelShape;
  readonly batchSize: number;
  readonly steps: number;
  readonly data: { inputs: number[]; targets: number[] }[];
  readonly inner: RunConfig['inner'];
}

/** Runs in the page: the same LLaMA-style model and AdamW step in TF.js; returns tokens/s. */
async function tfjsTrain(args: TfjsArgs): Promise<number> {
  const tf = (globalThis as unknown as { tf: typeof TF }).tf;
  if (args.backend === 'wasm') (tf as unknown as { wasm: { setWasmPaths(p: string): void } }).wasm.setWasmPaths('/tfjs-wasm/');
  if (!(await tf.setBackend(args.backend))) throw new Error(`TF.js backend ${args.backend} failed to start`);
  await tf.ready();
  const { shape, batchSize: b } = args;
  const { dModel: d, nHeads: nh, dFF: f, seqLen: t, vocabSize: v, normEps } = shape;
  const hd = d / nh;
  const n = b * t;
  const normal = (dims: number[]) => tf.variable(tf.randomNormal(dims, 0, shape.initStd));
  const ones = (dims: number[]) => tf.variable(tf.ones(dims));
  const emb = normal([v, d]);
  const layers = Array.from({ length: shape.nLayers }, () => ({
    n1: ones([d]),
    q: normal([d, d]),
    k: normal([d, d]),
    v: normal([d, d]),
    o: normal([d, d]),
    n2: ones([d]),
    gate: normal([d, f]),
    up: normal([d, f]),
    down: normal([f, d]),
  }));
  const finalNorm = ones([d]);
  const vars: TF.Variable[] = [emb, finalNorm, ...layers.flatMap((l) => Object.values(l))];
  const moments = vars.map((x) => ({ m: tf.variable(tf.zerosLike(x)), v: tf.variable(tf.zerosLike(x)) }));
  const angles: number[][] = Array.from({ length: t }, (_, pos) => Array.from({ length: hd }, (_, i) => pos * Math.pow(10000, (-2 * (i % (hd / 2))) / hd)));
  const cos = tf.tensor2d(angles.map((r) => r.map(Math.cos)));
  const sin = tf.tensor2d(angles.map((r) => r.map(Math.sin)));
  const mask = tf.tensor2d(Array.from({ length: t }, (_, i) => Array.from({ length: t }, (_, j) => (j > i ? -1e9 : 0))));
  const rms = (x: TF.Tensor, g: TF.Tensor) => x.mul(x.square().mean(-1, true).add(normEps).rsqrt()).mul(g);
  const heads = (x: TF.Tensor) => x.reshape([b, t, nh, hd]).transpose([0, 2, 1, 3]);
  const rope = (x: TF.Tensor) => {
    const [x1, x2] = tf.split(x, 2, -1);
    return x.mul(cos).add(tf.concat([x2!.neg(), x1!], -1).mul(sin));
  };
  const lossOf = (ids: TF.Tensor1D, targets: TF.Tensor1D) => () => {
    // One-hot MatMul as in our graph: Gather's gradient (UnsortedSegmentSum) has no wasm kernel.
    let x: TF.Tensor = tf.oneHot(ids, v).toFloat().matMul(emb);
    for (const l of layers) {
      const h = rms(x, l.n1);
      const q = rope(heads(h.matMul(l.q)));
      const k = rope(heads(h.matMul(l.k)));
      const vv = heads(h.matMul(l.v));
      const p = tf.softmax(tf.matMul(q, k, false, true).mul(1 / Math.sqrt(hd)).add(mask));
      x = x.add(tf.matMul(p, vv).transpose([0, 2, 1, 3]).reshape([n, d]).matMul(l.o));
      const h2 = rms(x, l.n2);
      const a = h2.matMul(l.gate);
      x = x.add(a.mul(tf.sigmoid(a)).mul(h2.matMul(l.up)).matMul(l.down));
    }
    const logits = rms(x, finalNorm).matMul(emb, false, true);
    const lse = tf.logSumExp(logits, -1);
    const picked = logits.mul(tf.oneHot(targets, v)).sum(-1);
    return lse.sub(picked).mean<TF.Scalar>();
  };
  const { beta1, beta2, eps, weightDecay, gradClipNorm, lr } = args.inner;
  let step = 0;
  const trainStep = async (batch: { inputs: number[]; targets: number[] }) => {
    step += 1;
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(lossOf(tf.tensor1d(batch.inputs, 'int32'), tf.tensor1d(batch.targets, 'int32')), vars);
      const gs = vars.map((x) => grads[x.name] as TF.Tensor);
      const norm = tf.sqrt(tf.addN(gs.map((g) => g.square().sum())));
      const scale = tf.minimum(1, tf.div(gradClipNorm, norm.add(1e-6)));
      const bc1 = 1 - Math.pow(beta1, step);
      const bc2 = 1 - Math.pow(beta2, step);
      vars.forEach((x, i) => {
        const g = gs[i]!.mul(scale);
        const mo = moments[i]!;
        mo.m.assign(mo.m.mul(beta1).add(g.mul(1 - beta1)));
        mo.v.assign(mo.v.mul(beta2).add(g.square().mul(1 - beta2)));
        x.assign(x.mul(1 - lr * weightDecay).sub(mo.m.div(mo.v.sqrt().div(Math.sqrt(bc2)).add(eps)).mul(lr / bc1)));
      });
      return value;
    });
    const [value] = await loss.data();
    loss.dispose();
    return value;
  };
  await trainStep(args.data[0]!); // warm-up
  const started = performance.now();
  for (let s = 1; s <= args.steps; s++) await trainStep(args.data[s]!);
  const seconds = (performance.now() - started) / 1000;
  tf.disposeVariables();
  for (const c of [cos, sin, mask]) c.dispose();
  return (args.steps * n) / seconds;
}

async function loadTfjs(page: Page): Promise<void> {
  const root = join(process.cwd(), 'node_modules', '@tensorflow');
  await page.route('**/tfjs-wasm/*', async (route) => {
    const file = route.request().url().split('/').pop() ?? '';
    await route.fulfill({
      body: readFileSync(join(root, 'tfjs-backend-wasm', 'dist', file)),
      contentType: file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript',
      headers: { 'Cross-Origin-Resource-Policy': 'same-origin' },
    });
  });
  await page.addScriptTag({ path: join(root, 'tfjs', 'dist', 'tf.min.js') });
  await page.addScriptTag({ path: join(root, 'tfjs-backend-wasm', 'dist', 'tf-backend-wasm.min.js') });
  await page.addScriptTag({ path: join(root, 'tfjs-backend-webgpu', 'dist', 'tf-backend-webgpu.min.js') });
}

test('engine: tokens/s of fwd+bwd+AdamW, ORT (WebGPU, wasm) vs TF.js (webgpu, wasm)', async ({ page }) => {
  await page.goto('/');
  const cap = await page.evaluate(() => window.gauntlet!.capability);
  const software = cap.isFallbackAdapter === true || cap.architecture === 'swiftshader';
  await loadTfjs(page);
  const rows: BenchRow[] = [];
  const skipped: string[] = [];
  for (const [name, config, steps] of [
    ['tiny', tinyRunConfig(), 5],
    ['small', smallRunConfig(), 2],
  ] as const) {
    const tfjs = (backend: Backend) =>
      page.evaluate(tfjsTrain, { backend, shape: config.model, batchSize: config.inner.batchSize, steps, data: batches(config, steps + 1), inner: config.inner });
    const ortWasm = await ortTokensPerSecond(page, config, 'wasm', steps);
    const tfWasm = await tfjs('wasm');
    rows.push({ name: `${name}: ORT wasm EP (worker)`, unit: 'tokens/s', value: ortWasm, baselineName: 'TF.js wasm (page)', baseline: tfWasm, better: 'higher' });
    if (software && name === 'small') {
      skipped.push(`${name} on WebGPU: software adapter (${cap.architecture ?? 'unknown'})`);
      continue;
    }
    const ortGpu = await ortTokensPerSecond(page, config, 'webgpu', steps);
    const tfGpu = await tfjs('webgpu');
    rows.push({ name: `${name}: ORT WebGPU EP (worker)`, unit: 'tokens/s', value: ortGpu, baselineName: 'TF.js webgpu (page)', baseline: tfGpu, better: 'higher' });
    rows.push({ name: `${name}: ORT WebGPU EP (worker)`, unit: 'tokens/s', value: ortGpu, baselineName: 'ORT wasm EP (worker)', baseline: ortWasm, better: 'higher' });
  }
  const device = `${cap.architecture || cap.description || 'webgpu'}${software ? ' (software adapter)' : ''}`;
  printBench('engine', device, rows);
  for (const s of skipped) console.log(`skipped: ${s}`);
});
