/**
 * `npm run bench:gpu [-- --quick] [--out FILE]` (issue #20): the tab's WebGPU engine on whatever
 * adapter Dawn finds (src/cli/dawn.ts), beside the wasm EP in the same run, per preset: forward +
 * backward + AdamW tokens/s, the model's training FLOPs per token and the TFLOP/s that makes, the
 * encode (Δ → error feedback → top-k → 2-bit, in the engine) and decode + aggregate + apply
 * throughputs; then a determinism check on the adapter: the GPU's compressed window against the CPU
 * reference compressor on the same Δ, and θ after GPU outer steps on fixed submissions against the
 * CPU reference step, each printed as equal or with the first differing index. Where a Python with
 * torch sees a CUDA device (`--python PATH` names one; `--torch-device cpu` forces the CPU), the same
 * model and optimiser in PyTorch eager on it (scripts/torch-reference.py), and our tokens/s as a
 * fraction of it. Figures are printed and written as JSON; nothing is asserted. It measures every
 * preset (`--presets tiny,small` picks); `--quick` (CI) the tiny preset with fewer steps. `--strict`
 * (CI) fails unless the adapter was found, every backend measured and both checks equal. `--pack DIR` writes all of it as a folder that runs
 * without Node or npm on a GPU machine (src/cli/bench-pack.ts); `--data DIR` is where that folder's
 * bench finds its shards.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunConfig } from '../core/config.ts';
import { accumulateErrorFeedback, compressErrorFeedback, pseudoGradient } from '../core/compress/error-feedback.ts';
import type { EncodedTensor } from '../core/compress/codec.ts';
import { batchTokens, sequenceCount } from '../core/data/assignment.ts';
import { errorMessage } from '../core/errors.ts';
import { RUN_CONFIG_PRESETS } from '../core/run-config.ts';
import type { TokenBatch } from '../model/engine.ts';
import { parameterCount, parameterLayout } from '../model/params.ts';
import { DawnUnavailableError, relaunchWithDawnEnvironment } from './dawn.ts';
import { ensureShards, loadAllTokens } from './data-files.ts';
import { nodeEngines, type NodeBackend, type NodeEngines } from './node-engines.ts';
import { probeTorch, torchBench, type TorchBenchAnswer } from './torch-reference.ts';

/**
 * Training FLOPs per token: 6N for the weights plus 6·L·T·d for attention's score and value
 * products (forward 2N + 2·L·T·d, backward twice that; Kaplan et al. 2020, arXiv 2001.08361, §2.1).
 */
export function trainingFlopsPerToken(config: RunConfig): number {
  const { nLayers, seqLen, dModel } = config.model;
  return 6 * parameterCount(config.model) + 6 * nLayers * seqLen * dModel;
}

interface BackendFigures {
  readonly backend: NodeBackend;
  readonly device: string;
  readonly tokensPerSecond: number;
  readonly teraflops: number;
  /** Parameters encoded per second (Δ → e → top-k → 2-bit). */
  readonly encodeParamsPerSecond: number;
  /** Submissions decoded, aggregated and applied per second (4 per step). */
  readonly applySubmissionsPerSecond: number;
}

interface Determinism {
  readonly compressedEqual: boolean;
  readonly compressedFirstDifference: string | null;
  readonly thetaEqual: boolean;
  readonly thetaFirstDifference: number | null;
}

interface PresetResult {
  readonly preset: string;
  readonly parameters: number;
  readonly flopsPerToken: number;
  readonly backends: readonly BackendFigures[];
  readonly determinism: Determinism | null;
}

function batchesOf(config: RunConfig, tokens: Uint8Array, count: number, offset: number): TokenBatch[] {
  const total = sequenceCount(tokens.length, config.model.seqLen);
  const { batchSize } = config.inner;
  return Array.from({ length: count }, (_, s) => batchTokens(tokens, Array.from({ length: batchSize }, (_, i) => (offset + s * batchSize + i) % total), config.model.seqLen));
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

async function measure(engines: NodeEngines, config: RunConfig, tokens: Uint8Array, steps: number): Promise<BackendFigures> {
  const { engine } = await engines.create(config);
  try {
    // Warm-up: the first call builds pipelines and sessions.
    await engine.trainInner(batchesOf(config, tokens, 1, 0), 1);
    const warm = await engine.compressPseudoGradient();
    const train = await timed(() => engine.trainInner(batchesOf(config, tokens, steps, 64), steps));
    const tokensPerSecond = (steps * config.inner.batchSize * config.model.seqLen) / train.seconds;
    const encode = await timed(() => engine.compressPseudoGradient());
    const peers = [2, 3, 4, 5].map((uid) => ({ uid, tensors: uid % 2 === 0 ? encode.value.tensors : warm.tensors }));
    await engine.applyAggregate(peers);
    const apply = await timed(() => engine.applyAggregate(peers));
    return {
      backend: engines.backend,
      device: engines.describe,
      tokensPerSecond,
      teraflops: (tokensPerSecond * trainingFlopsPerToken(config)) / 1e12,
      encodeParamsPerSecond: parameterCount(config.model) / encode.seconds,
      applySubmissionsPerSecond: peers.length / apply.seconds,
    };
  } finally {
    await engine.dispose();
  }
}

function firstTensorDifference(gpu: readonly EncodedTensor[], cpu: readonly EncodedTensor[]): string | null {
  if (gpu.length !== cpu.length) return `tensor count ${gpu.length} against ${cpu.length}`;
  for (let t = 0; t < gpu.length; t++) {
    const a = gpu[t]!;
    const b = cpu[t]!;
    const fields: readonly [string, ArrayLike<number>, ArrayLike<number>][] = [
      ['indices', a.indices, b.indices],
      ['codes', a.codes, b.codes],
      ['lookup', a.quant.lookup, b.quant.lookup],
      // What the wire carries: not `scale`, which only places values in bins (the GPU keeps it in float32).
      ['shift', [a.quant.shift], [b.quant.shift]],
    ];
    for (const [field, x, y] of fields) {
      if (x.length !== y.length) return `${a.name} ${field}: length ${x.length} against ${y.length}`;
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${a.name} ${field}[${i}]: ${x[i]} against ${y[i]}`;
    }
  }
  return null;
}

function firstBitDifference(a: Float32Array, b: Float32Array): number | null {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return null;
}

/** The GPU's compressed window against the CPU compressor on the same Δ; θ after GPU outer steps against the CPU reference step. */
async function determinism(gpuEngines: NodeEngines, cpuEngines: NodeEngines, config: RunConfig, tokens: Uint8Array): Promise<Determinism> {
  const { engine: gpu } = await gpuEngines.create(config);
  const { engine: cpu } = await cpuEngines.create(config);
  try {
    const layout = parameterLayout(config.model);
    const theta0 = await gpu.exportParams();
    await gpu.trainInner(batchesOf(config, tokens, config.inner.innerSteps, 128), config.inner.innerSteps);
    const thetaH = await gpu.exportParams();
    const compressed = await gpu.compressPseudoGradient();
    const errorFeedback = new Float32Array(theta0.length);
    accumulateErrorFeedback(errorFeedback, pseudoGradient(theta0, thetaH), config.compression.errorFeedbackDecay);
    const difference = firstTensorDifference(compressed.tensors, compressErrorFeedback(errorFeedback, layout, config.compression));
    // Fixed submissions (the CPU engine's own windows), the same two outer steps on both engines.
    const submissions: { uid: number; tensors: readonly EncodedTensor[] }[] = [];
    for (const [uid, offset] of [[2, 256], [3, 512]] as const) {
      await cpu.trainInner(batchesOf(config, tokens, config.inner.innerSteps, offset), config.inner.innerSteps);
      submissions.push({ uid, tensors: (await cpu.compressPseudoGradient()).tensors });
    }
    // Both engines hold θ0 again: compressing a window restores θ ← θ0 (`compressPseudoGradient`).
    for (const engine of [gpu, cpu]) {
      await engine.applyAggregate(submissions);
      await engine.applyAggregate([...submissions].reverse());
    }
    const thetaDifference = firstBitDifference(await gpu.exportParams(), await cpu.exportParams());
    return { compressedEqual: difference === null, compressedFirstDifference: difference, thetaEqual: thetaDifference === null, thetaFirstDifference: thetaDifference };
  } finally {
    await gpu.dispose();
    await cpu.dispose();
  }
}

/**
 * The same presets in PyTorch eager, where a Python with torch is found: on CUDA when it sees a
 * device, on `device` when one is named (`cpu` tries the path on a machine without a GPU), else
 * skipped with the reason. A failure of the script is reported, never fatal: the WebGPU figures stand.
 */
function pytorchReference(presets: readonly RunConfig[], steps: number, python: string | undefined, device: string | undefined): { answer: TorchBenchAnswer | null; skipped: string | null } {
  const probe = probeTorch(python === undefined ? undefined : [python]);
  if (probe === null) return { answer: null, skipped: `skipped: ${python ?? 'python3'} cannot import torch (pass --python PATH to name another)` };
  const on = device ?? (probe.cuda ? 'cuda' : null);
  if (on === null) return { answer: null, skipped: `skipped: torch ${probe.torch} in ${probe.python} sees no CUDA device (--torch-device cpu measures the CPU)` };
  console.log(`PyTorch reference: torch ${probe.torch} in ${probe.python} on ${on === 'cuda' ? probe.device ?? 'cuda' : on}…`);
  try {
    return { answer: torchBench(probe.python, presets.map((c) => ({ name: c.preset, model: c.model, inner: c.inner })), { device: on, steps: Math.max(steps, 10), warmup: 3 }), skipped: null };
  } catch (error) {
    return { answer: null, skipped: `failed: ${errorMessage(error)}` };
  }
}

/** What `--strict` refuses: no adapter, a backend not measured, a determinism check missing or different. */
function strictProblems(adapter: string | null, results: readonly PresetResult[]): string[] {
  if (adapter === null) return ['no WebGPU adapter'];
  const problems: string[] = [];
  for (const r of results) {
    for (const backend of ['webgpu', 'wasm'] as const) if (!r.backends.some((b) => b.backend === backend)) problems.push(`${r.preset} not measured on ${backend}`);
    if (r.determinism === null) problems.push(`${r.preset}: the determinism check did not run`);
    else if (!r.determinism.compressedEqual || !r.determinism.thetaEqual) problems.push(`${r.preset}: the adapter differs from the CPU reference`);
  }
  return problems;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      out: { type: 'string', default: 'reports/bench-gpu.json' },
      python: { type: 'string' },
      'torch-device': { type: 'string' },
      data: { type: 'string' },
      presets: { type: 'string' },
      pack: { type: 'string' },
    },
  });
  if (values.pack !== undefined) {
    // Loaded by name only when packing, so that the packed bench does not carry the packer (and Vite).
    const packer = './bench-pack.ts';
    const { packBench } = (await import(/* @vite-ignore */ packer).catch(() => {
      throw new Error('--pack needs the repository (its node_modules and Vite): this bench is a packed one.');
    })) as typeof import('./bench-pack.ts');
    const bytes = await packBench(values.pack, (line) => console.log(line));
    console.log(`packed ${values.pack}: ${(bytes / 2 ** 20).toFixed(1)} MiB. On the GPU machine: ${values.pack}/run.sh RESULTS_DIR [--quick]`);
    return;
  }
  relaunchWithDawnEnvironment();
  // A packed bench reads the shards it carries; the repository's are built when missing.
  if (values.data === undefined) ensureShards();
  const { tokens } = loadAllTokens(values.data);
  const quick = values.quick;
  // Every preset (one that does not fit the adapter is reported as not measured, with the reason); --quick: tiny.
  const names = (values.presets ?? (quick ? 'tiny' : Object.keys(RUN_CONFIG_PRESETS).join(','))).split(',');
  const unknown = names.filter((name) => !(name in RUN_CONFIG_PRESETS));
  if (unknown.length > 0) throw new Error(`--presets: no preset ${unknown.join(', ')} (there are ${Object.keys(RUN_CONFIG_PRESETS).join(', ')}).`);
  const presets: readonly RunConfig[] = names.map((name) => RUN_CONFIG_PRESETS[name as keyof typeof RUN_CONFIG_PRESETS]());
  const steps = quick ? 2 : 4;
  let gpuEngines: NodeEngines | null = null;
  let adapterProblem: string | null = null;
  try {
    gpuEngines = await nodeEngines('webgpu', 'bench:gpu');
  } catch (error) {
    if (!(error instanceof DawnUnavailableError)) throw error;
    adapterProblem = `${error.message} ${error.action ?? ''}`;
  }
  const cpuEngines = await nodeEngines('wasm', 'bench:gpu');
  const adapter = gpuEngines?.describe ?? null;
  console.log(`bench:gpu on ${adapter ?? `no WebGPU adapter (${adapterProblem})`}${quick ? ' (quick)' : ''}`);

  const results: PresetResult[] = [];
  for (const config of presets) {
    const backends: BackendFigures[] = [];
    for (const engines of gpuEngines === null ? [cpuEngines] : [gpuEngines, cpuEngines]) {
      try {
        backends.push(await measure(engines, config, tokens, steps));
      } catch (error) {
        console.log(`${config.preset} on ${engines.describe}: not measured (${errorMessage(error)})`);
      }
    }
    const check = gpuEngines === null ? null : await determinism(gpuEngines, cpuEngines, config, tokens).catch((error: unknown) => {
      console.log(`${config.preset}: determinism check failed to run (${errorMessage(error)})`);
      return null;
    });
    results.push({ preset: config.preset, parameters: parameterCount(config.model), flopsPerToken: trainingFlopsPerToken(config), backends, determinism: check });
  }

  const wasmOf = (r: PresetResult): BackendFigures | undefined => r.backends.find((b) => b.backend === 'wasm');
  console.log('\npreset   backend   tokens/s   TFLOP/s    ÷ wasm   encode Mparam/s   apply subs/s');
  for (const r of results) {
    for (const b of r.backends) {
      const ratio = (b.tokensPerSecond / (wasmOf(r)?.tokensPerSecond ?? Number.NaN)).toFixed(3);
      console.log(`${r.preset.padEnd(8)} ${b.backend.padEnd(8)} ${b.tokensPerSecond.toFixed(0).padStart(9)} ${b.teraflops.toExponential(2).padStart(9)} ${ratio.padStart(8)} ${(b.encodeParamsPerSecond / 1e6).toFixed(2).padStart(17)} ${b.applySubmissionsPerSecond.toFixed(1).padStart(14)}`);
    }
    console.log(`${r.preset.padEnd(8)} ${r.parameters} parameters, ${(r.flopsPerToken / 1e6).toFixed(2)} MFLOP per trained token`);
    if (r.determinism !== null) {
      const d = r.determinism;
      console.log(`${r.preset.padEnd(8)} determinism on the adapter: compressed window ${d.compressedEqual ? 'equal to the CPU reference' : `DIFFERENT (first: ${d.compressedFirstDifference})`}; θ after 2 outer steps ${d.thetaEqual ? 'equal bit for bit to the CPU reference' : `DIFFERENT (first index ${d.thetaFirstDifference})`}`);
    }
  }
  const torch = pytorchReference(presets, steps, values.python, values['torch-device']);
  for (const r of torch.answer?.results ?? []) {
    const ours = results.find((x) => x.preset === r.preset)?.backends ?? [];
    const share = ours.map((b) => `${b.backend === 'webgpu' ? 'WebGPU' : 'wasm'} ÷ PyTorch ${(b.tokensPerSecond / r.tokensPerSecond).toFixed(3)}`).join(', ');
    console.log(`${r.preset.padEnd(8)} pytorch  ${r.tokensPerSecond.toFixed(0).padStart(9)} tokens/s on ${torch.answer!.device} (torch ${torch.answer!.torch}, float32, TF32 matmul ${torch.answer!.tf32Matmul ? 'on' : 'off'}): ${share}`);
  }
  if (torch.answer === null) console.log(`PyTorch reference: ${torch.skipped}`);
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify({ adapter, adapterProblem, quick, results, pytorch: torch.answer, pytorchSkipped: torch.skipped }, null, 2)}\n`);
  console.log(`wrote ${values.out}`);
  // --strict (CI): the path must work, whatever its speed: an adapter, every backend measured, both checks equal.
  const broken = strictProblems(adapter, results);
  if (values.strict && broken.length > 0) {
    console.error(`bench:gpu --strict: ${broken.join('; ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(`bench:gpu: ${errorMessage(error)}`);
  process.exitCode = 1;
});
