/**
 * WebGPU in Node through Dawn (issue #20): the npm package `webgpu` carries a prebuilt `dawn.node`
 * that gives this process a `GPU`, which `installDawnGpu` puts where the engine looks for it
 * (`navigator.gpu`, src/gpu/device.ts), so headless peers run the tab's `WebGpuTrainerEngine`, our
 * WGSL kernels and onnxruntime-web's WebGPU EP unchanged.
 *
 * Two facts of Linux machines shape it:
 * - Dawn's Vulkan backend loads `libvulkan.so.1` by name, and the dynamic loader reads
 *   `LD_LIBRARY_PATH` only when a process starts. A machine without the Vulkan loader installed
 *   (this one) has one beside Debian's Chromium, with Chromium's SwiftShader ICD: `dawnEnvironment`
 *   says what to add, and `relaunchWithDawnEnvironment` restarts the command with it once.
 * - onnxruntime-web's threaded wasm heap is a SharedArrayBuffer, and Dawn's `writeBuffer` refuses
 *   views of shared memory ("Invalid argument") where browsers accept them: the patch copies such a
 *   view into ordinary memory first (one copy of what is uploaded anyway).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { GauntletError } from '../core/errors.ts';

/** Chromium's Vulkan loader and SwiftShader ICD, as Debian's `chromium` package installs them. */
export const CHROMIUM_LIB_DIR = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = `${CHROMIUM_LIB_DIR}/vk_swiftshader_icd.json`;
/** Where a system's Vulkan loader is found when it is installed (`libvulkan1`). */
const SYSTEM_VULKAN_LOADERS = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];
/** Where installed Vulkan drivers announce themselves (an NVIDIA driver puts its ICD here). */
const SYSTEM_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
const RELAUNCHED_ENV = 'GAUNTLET_DAWN_RELAUNCHED';

/** Dawn found no adapter, or the `webgpu` package could not be loaded; the message says what to set. */
export class DawnUnavailableError extends GauntletError {
  readonly code: string = 'dawn-unavailable';
  override readonly name = 'DawnUnavailableError';
}

/**
 * What to add to a process's environment so that Dawn finds a Vulkan adapter: Chromium's loader
 * when the system has none, and Chromium's SwiftShader ICD when no driver is installed and none is
 * named. Empty when nothing is missing or there is nothing to add. `exists` is injectable for tests.
 */
export function dawnEnvironment(env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): Record<string, string> {
  const add: Record<string, string> = {};
  const chromiumLoader = exists(`${CHROMIUM_LIB_DIR}/libvulkan.so.1`);
  const loaderDirs = (env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '');
  const hasLoader = SYSTEM_VULKAN_LOADERS.some(exists) || loaderDirs.some((d) => exists(`${d}/libvulkan.so.1`));
  if (!hasLoader && chromiumLoader) add.LD_LIBRARY_PATH = [...loaderDirs, CHROMIUM_LIB_DIR].join(':');
  const namedIcd = env.VK_ICD_FILENAMES !== undefined || env.VK_DRIVER_FILES !== undefined;
  const installedIcd = SYSTEM_ICD_DIRS.some(exists);
  if (!namedIcd && !installedIcd && exists(SWIFTSHADER_ICD)) add.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return add;
}

/**
 * Restarts this command with `dawnEnvironment`'s additions (once), since the dynamic loader reads
 * `LD_LIBRARY_PATH` only at start. Returns when nothing needs adding; otherwise exits with the
 * restarted command's status.
 */
export function relaunchWithDawnEnvironment(): void {
  if (process.env[RELAUNCHED_ENV] === '1') return;
  const add = dawnEnvironment(process.env);
  if (Object.keys(add).length === 0) return;
  console.log(`webgpu: restarting with ${Object.entries(add).map(([k, v]) => `${k}=${v}`).join(' ')} so that Dawn finds a Vulkan adapter`);
  const result = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...add, [RELAUNCHED_ENV]: '1' } });
  process.exit(result.status ?? 1);
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let installed: GPU | undefined;

/**
 * Loads Dawn, installs the WebGPU globals (`GPUBufferUsage`, …) and `navigator.gpu`, and checks
 * that it finds an adapter. `flags` are Dawn's (`backend=opengles`, …). Idempotent.
 */
export async function installDawnGpu(flags: readonly string[] = []): Promise<{ gpu: GPU; adapter: string }> {
  let dawn: DawnModule;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (error) {
    throw new DawnUnavailableError(`The npm package webgpu (Dawn for Node) could not be loaded: ${(error as Error).message}`, { action: 'Run npm install, or use --backend wasm.' });
  }
  if (installed === undefined) {
    Object.assign(globalThis, dawn.globals);
    const queue = (dawn.globals.GPUQueue as { prototype: GPUQueue } | undefined)?.prototype;
    if (queue !== undefined) {
      const writeBuffer: (this: GPUQueue, ...args: Parameters<GPUQueue['writeBuffer']>) => undefined = queue.writeBuffer; // eslint-disable-line @typescript-eslint/unbound-method -- called with its queue below
      queue.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: GPUAllowSharedBufferSource, dataOffset?: number, size?: number): undefined {
        // A view of shared memory is copied, with its type, so that dataOffset and size keep their element units.
        const own: GPUAllowSharedBufferSource = ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer ? new (data.constructor as new (source: ArrayBufferView) => ArrayBufferView<ArrayBuffer>)(data) : data instanceof SharedArrayBuffer ? new Uint8Array(data).slice().buffer : data;
        return writeBuffer.call(this, buffer, offset, own, dataOffset, size);
      };
    }
    const gpu = dawn.create([...flags]);
    const existing = (globalThis as { navigator?: object }).navigator;
    if (existing === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu, hardwareConcurrency: 1, userAgent: `node/${process.version}` }, configurable: true });
    else Object.defineProperty(existing, 'gpu', { value: gpu, configurable: true });
    installed = gpu;
  }
  const adapter = await installed.requestAdapter({ powerPreference: 'high-performance' });
  if (adapter === null) {
    const env = process.env;
    throw new DawnUnavailableError(
      `Dawn found no WebGPU adapter (LD_LIBRARY_PATH=${env.LD_LIBRARY_PATH ?? ''}, VK_ICD_FILENAMES=${env.VK_ICD_FILENAMES ?? ''}).`,
      { action: `Install a Vulkan driver and the loader (libvulkan1), or point VK_ICD_FILENAMES at an ICD (Chromium's SwiftShader: ${SWIFTSHADER_ICD}, with LD_LIBRARY_PATH=${CHROMIUM_LIB_DIR}); or use --backend wasm.` },
    );
  }
  const info = adapter.info;
  return { gpu: installed, adapter: [info.vendor, info.architecture, info.description].filter((s) => s !== '').join(' / ') };
}
