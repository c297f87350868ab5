/**
 * The PyTorch yardstick of `npm run bench:gpu` (issue #20): scripts/torch-reference.py runs the
 * peer's model and inner optimiser in PyTorch eager, and this module finds a Python that can run it
 * and speaks its request/answer files. Nothing here needs torch: where there is none (this CPU
 * machine's default python3, CI) the bench says so and goes on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InnerOptimizerConfig, ModelShape } from '../core/config.ts';
import { GauntletError } from '../core/errors.ts';

/** Where the script is, beside this module in the repository and in a packed bundle (`--pack`). */
export function torchReferenceScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'torch-reference.py'), join(here, '..', '..', 'scripts', 'torch-reference.py')];
  return candidates.find((path) => existsSync(path)) ?? candidates[1]!;
}

/** The Python the script ran in could not run it (no torch, no such device, a crash): the message says which. */
export class TorchReferenceError extends GauntletError {
  readonly code: string = 'torch-reference';
  override readonly name = 'TorchReferenceError';
}

export interface TorchProbe {
  readonly python: string;
  readonly torch: string;
  readonly cuda: boolean;
  readonly device: string | null;
}

/**
 * The first of `pythons` that imports torch, with its version and whether it sees a CUDA device; null
 * when none does. `pythons` defaults to `python3` on the PATH and Debian's own (`/usr/bin/python3`,
 * where `apt install python3-torch` puts torch when a pyenv python3 shadows it).
 */
export function probeTorch(pythons: readonly string[] = ['python3', '/usr/bin/python3']): TorchProbe | null {
  for (const python of pythons) {
    const result = spawnSync(python, ['-c', 'import json, torch; c = torch.cuda.is_available(); print(json.dumps([torch.__version__, c, torch.cuda.get_device_name(0) if c else None]))'], { encoding: 'utf8', timeout: 120_000 });
    if (result.status !== 0) continue;
    try {
      const [torch, cuda, device] = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as [string, boolean, string | null];
      return { python, torch, cuda, device };
    } catch {
      continue;
    }
  }
  return null;
}

/** Runs the script on `request` and returns its answer (the script's JSON). */
export function runTorchReference<T>(python: string, request: Record<string, unknown>, timeoutMs = 600_000): T {
  const dir = mkdtempSync(join(tmpdir(), 'torch-reference-'));
  try {
    const requestPath = join(dir, 'request.json');
    const answerPath = join(dir, 'answer.json');
    writeFileSync(requestPath, JSON.stringify(request));
    const result = spawnSync(python, [torchReferenceScript(), requestPath, answerPath], { encoding: 'utf8', timeout: timeoutMs });
    if (result.status !== 0 || !existsSync(answerPath)) {
      const why = result.error?.message ?? result.stderr.trim().split('\n').slice(-3).join(' | ');
      throw new TorchReferenceError(`The PyTorch reference failed (${python}, exit ${String(result.status)}): ${why}`);
    }
    return JSON.parse(readFileSync(answerPath, 'utf8')) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One preset as the script's bench mode takes it. */
export interface TorchBenchPreset {
  readonly name: string;
  readonly model: ModelShape;
  readonly inner: InnerOptimizerConfig;
}

export interface TorchBenchAnswer {
  readonly device: string;
  readonly torch: string;
  readonly dtype: string;
  readonly tf32Matmul: boolean;
  readonly attention: string;
  readonly results: readonly { readonly preset: string; readonly tokensPerSecond: number; readonly seconds: number }[];
}

/** Tokens/s of each preset's fwd+bwd+AdamW in PyTorch eager on `device` (`cuda`, or `cpu` to try the path). */
export function torchBench(python: string, presets: readonly TorchBenchPreset[], options: { readonly device: string; readonly steps: number; readonly warmup: number }): TorchBenchAnswer {
  return runTorchReference<TorchBenchAnswer>(python, { mode: 'bench', presets, ...options });
}
