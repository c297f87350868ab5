/**
 * `npm run bench:gpu -- --pack DIR` (issue #20): `npm run bench:gpu` as a folder that runs on a bare
 * x86-64 Linux machine with a GPU driver and nothing else (no Node, no npm, no network): the machines
 * people rent for a measurement have neither, and a shared GPU machine may take only a few tens of
 * MiB of files per run.
 *
 * The folder holds `run.sh`, a `README.txt` and `payload.tar.gz`: this machine's Node binary, the bench
 * built into one ES module (Vite; our kernels and engines, the `?raw` WGSL inlined), the two packages
 * it loads from disk (`webgpu` with only its Linux x64 `dawn.node`, `onnxruntime-web` with only the
 * two builds and wasm binaries Node loads, and the `onnxruntime-common` its Node build imports), the
 * token shards, Chromium's Vulkan loader where this
 * machine has one (a bare machine may have the driver's ICD but no `libvulkan.so.1`), and the PyTorch
 * reference script. `run.sh RESULTS [--quick]` unpacks it into a temporary folder with `tar` and
 * `gzip` (both part of every Linux base system), runs the bench there and writes RESULTS/bench-gpu.json
 * and RESULTS/bench-gpu.txt. gzip, not xz: xz is missing from many minimal images.
 *
 * Packing needs this repository (Vite, the node_modules); the packed bench cannot pack again.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GauntletError } from '../core/errors.ts';
import { DEFAULT_DATA_DIR, ensureShards } from './data-files.ts';
import { CHROMIUM_LIB_DIR } from './dawn.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The most a packed folder may weigh (issue #20: a GPU machine that takes 64 MiB of files per run). */
export const MAX_PACK_BYTES = 60 * 1024 * 1024;

/** The files of `onnxruntime-web` that Node loads: its Node build (wasm EP) and its WebGPU build, each with its wasm. */
const ORT_FILES = ['ort.node.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort.webgpu.bundle.min.mjs', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];
const WEBGPU_FILES = ['package.json', 'index.js', 'LICENSE.md', 'dist/linux-x64/dawn.node'];

/** Packing failed, or the packed folder would not fit: the message says what to do. */
export class BenchPackError extends GauntletError {
  readonly code: string = 'bench-pack';
  override readonly name = 'BenchPackError';
}

function copy(from: string, to: string): void {
  if (!existsSync(from)) throw new BenchPackError(`${from} is missing: run npm install first.`);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

const RUN_SCRIPT = `#!/bin/sh
# The WebGPU peer's GPU bench, packed by \`npm run bench:gpu -- --pack\` (gauntlet-webgpu-peer).
# Usage: ./run.sh RESULTS_DIR [--quick] [other bench:gpu flags]
# Needs only sh, tar, gzip, mktemp and a GPU driver with Vulkan; no Node, no npm, no network.
set -eu
if [ "$#" -lt 1 ]; then echo "usage: $0 RESULTS_DIR [--quick] [--python PATH] [--torch-device cuda|cpu]" >&2; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
results=$(cd "$1" && pwd)
shift
work=$(mktemp -d "\${TMPDIR:-/tmp}/gauntlet-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
echo "unpacking into $work…"
gzip -dc "$here/payload.tar.gz" | tar -xf - -C "$work"
# A machine without the Vulkan loader gets the packed one; one with it keeps its own.
if ! { [ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] || [ -e /usr/lib64/libvulkan.so.1 ] || [ -e /usr/lib/libvulkan.so.1 ]; } && [ -e "$work/lib/libvulkan.so.1" ]; then
  LD_LIBRARY_PATH="\${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$work/lib"; export LD_LIBRARY_PATH
fi
# An NVIDIA driver whose Vulkan ICD file was not installed (a container given the driver's libraries
# only): name its Vulkan library in an ICD file of our own.
if [ -z "\${VK_ICD_FILENAMES:-}" ] && [ ! -d /usr/share/vulkan/icd.d ] && [ ! -d /etc/vulkan/icd.d ]; then
  for lib in /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 /usr/lib/libGLX_nvidia.so.0; do
    if [ -e "$lib" ]; then
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\\n' "$lib" > "$work/nvidia_icd.json"
      VK_ICD_FILENAMES="$work/nvidia_icd.json"; export VK_ICD_FILENAMES
      break
    fi
  done
fi
{ uname -a; command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true; } > "$results/machine.txt" 2>&1
"$work/node" --version >> "$results/machine.txt"
cd "$work/app"
status=0
"$work/node" bench-gpu.mjs --data "$work/data" --out "$results/bench-gpu.json" "$@" > "$results/bench-gpu.txt" 2>&1 || status=$?
cat "$results/bench-gpu.txt"
echo "results in $results (bench-gpu.json, bench-gpu.txt, machine.txt)"
exit "$status"
`;

const README = `The WebGPU peer's GPU bench (gauntlet-webgpu-peer, npm run bench:gpu), packed to run without Node or npm.

  ./run.sh RESULTS_DIR            the full bench: every preset that fits, wasm EP beside WebGPU,
                                  the determinism check, and PyTorch eager where python3 has torch
  ./run.sh RESULTS_DIR --quick    the tiny preset only, fewer steps

It writes RESULTS_DIR/bench-gpu.json (figures), bench-gpu.txt (the printed table) and machine.txt
(uname, nvidia-smi, the Node version). Needs: x86-64 Linux with glibc, sh, tar, gzip, and a GPU
driver with Vulkan (for NVIDIA: the driver's libGLX_nvidia.so.0 or its Vulkan ICD file). Without an
adapter the bench says why and measures the wasm EP (and PyTorch) only.
`;

/**
 * Builds the packed folder in `dir` (created; refused when it exists and is not empty). Returns its
 * size in bytes. `onProgress` hears each stage.
 */
export async function packBench(dir: string, onProgress: (line: string) => void = () => {}): Promise<number> {
  const out = resolve(dir);
  if (existsSync(out) && readdirSync(out).length > 0) throw new BenchPackError(`${out} exists and is not empty: give a new folder.`);
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new BenchPackError(`Packing takes this machine's Node binary and Dawn for linux-x64; this is ${process.platform}-${process.arch}.`);
  const stage = mkdtempSync(join(tmpdir(), 'bench-pack-'));
  try {
    onProgress('building the bench into one module (Vite)…');
    const { build } = await import('vite');
    await build({
      configFile: false,
      root: REPO_ROOT,
      logLevel: 'warn',
      build: {
        ssr: join(REPO_ROOT, 'src/cli/bench-gpu.ts'),
        outDir: join(stage, 'app'),
        emptyOutDir: true,
        target: 'node20',
        minify: false,
        rollupOptions: {
          // Loaded from the packed node_modules, as Node loads them from the repository's.
          external: ['webgpu', 'onnxruntime-web', 'onnxruntime-web/webgpu', 'vite', /^node:/],
          output: { format: 'es', entryFileNames: 'bench-gpu.mjs', codeSplitting: false },
        },
      },
      ssr: { noExternal: true, target: 'node' },
    });
    onProgress('copying Node, Dawn, onnxruntime-web, the shards and the PyTorch reference…');
    copy(process.execPath, join(stage, 'node'));
    chmodSync(join(stage, 'node'), 0o755);
    const modules = join(REPO_ROOT, 'node_modules');
    for (const file of WEBGPU_FILES) copy(join(modules, 'webgpu', file), join(stage, 'app/node_modules/webgpu', file));
    copy(join(modules, 'onnxruntime-web/package.json'), join(stage, 'app/node_modules/onnxruntime-web/package.json'));
    for (const file of ORT_FILES) copy(join(modules, 'onnxruntime-web/dist', file), join(stage, 'app/node_modules/onnxruntime-web/dist', file));
    // The Node build imports the shared API package (the WebGPU build carries its own copy).
    copy(join(modules, 'onnxruntime-common/package.json'), join(stage, 'app/node_modules/onnxruntime-common/package.json'));
    for (const file of readdirSync(join(modules, 'onnxruntime-common/dist/esm'), { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('.js')) copy(join(modules, 'onnxruntime-common/dist/esm', file), join(stage, 'app/node_modules/onnxruntime-common/dist/esm', file));
    }
    copy(join(REPO_ROOT, 'scripts/torch-reference.py'), join(stage, 'app/torch-reference.py'));
    ensureShards();
    cpSync(DEFAULT_DATA_DIR, join(stage, 'data'), { recursive: true });
    if (existsSync(join(CHROMIUM_LIB_DIR, 'libvulkan.so.1'))) copy(join(CHROMIUM_LIB_DIR, 'libvulkan.so.1'), join(stage, 'lib/libvulkan.so.1'));
    else onProgress(`no Vulkan loader at ${CHROMIUM_LIB_DIR} to pack: the target machine needs its own (libvulkan1)`);

    onProgress('compressing (tar | gzip)…');
    mkdirSync(out, { recursive: true });
    const tar = spawnSync('sh', ['-c', 'tar -C "$1" -cf - . | gzip -6 > "$2"', 'pack', stage, join(out, 'payload.tar.gz')], { encoding: 'utf8' });
    if (tar.status !== 0) throw new BenchPackError(`tar | gzip failed: ${tar.stderr}`);
    writeFileSync(join(out, 'run.sh'), RUN_SCRIPT, { mode: 0o755 });
    writeFileSync(join(out, 'README.txt'), README);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const bytes = folderBytes(out);
  if (bytes > MAX_PACK_BYTES) throw new BenchPackError(`The packed folder is ${(bytes / 2 ** 20).toFixed(1)} MiB, over the ${MAX_PACK_BYTES / 2 ** 20} MiB a GPU machine's run may take.`);
  return bytes;
}
