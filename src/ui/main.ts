/**
 * App entry. The page does no GPU work itself: it starts the kernels worker, asks it what the GPU
 * can do, and says so in plain words. It also publishes `window.gauntlet` so that Playwright and
 * headless evaluation drive the very same worker the UI uses.
 */
import * as Comlink from 'comlink';
import type { GpuCapability } from '../gpu/device.ts';
import type { KernelsApi } from '../workers/kernels-api.ts';
import type { TrainerWorkerApi } from '../workers/trainer-api.ts';

export interface GauntletPageApi {
  /** The kernels worker (comlink proxy). */
  readonly kernels: Comlink.Remote<KernelsApi>;
  /** Resolves once the capability check has finished. */
  readonly capability: Promise<GpuCapability>;
  /** The trainer worker (comlink proxy of the TrainerEngine; idle until `init`). */
  readonly trainer: Comlink.Remote<TrainerWorkerApi>;
}

declare global {
  interface Window {
    gauntlet?: GauntletPageApi;
  }
}

function element<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html lacks #${id}`);
  return el as T;
}

function renderCapability(cap: GpuCapability): void {
  const summary = element<HTMLParagraphElement>('gpu-summary');
  const details = element<HTMLDListElement>('gpu-details');
  details.replaceChildren();
  if (!cap.available) {
    summary.className = 'problem';
    summary.textContent =
      `WebGPU is not available here: ${cap.reason ?? 'unknown reason'}. ` +
      'This tab cannot train on a GPU. Use a recent Chrome, Edge or Chromium over https or localhost, ' +
      'or contribute on the slower CPU (WASM) path.';
    return;
  }
  summary.className = 'ok';
  summary.textContent = cap.isFallbackAdapter
    ? 'WebGPU works, but on a software (CPU) adapter: fine for the demo, slow for training.'
    : 'WebGPU works on this GPU.';
  const rows: [string, string][] = [
    ['Adapter', [cap.vendor, cap.architecture, cap.description].filter(Boolean).join(' · ') || 'not disclosed by the browser'],
    ['Largest storage binding', `${((cap.limits?.maxStorageBufferBindingSize ?? 0) / 2 ** 20).toFixed(0)} MiB`],
    ['Largest buffer', `${((cap.limits?.maxBufferSize ?? 0) / 2 ** 20).toFixed(0)} MiB`],
    ['Features', cap.features?.join(', ') || 'none'],
  ];
  for (const [term, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    details.append(dt, dd);
  }
}

const worker = new Worker(new URL('../workers/kernels.worker.ts', import.meta.url), { type: 'module', name: 'kernels' });
const kernels = Comlink.wrap<KernelsApi>(worker);
// A page without navigator.gpu gets no GPU worker work at all: say so at once, before any download.
const capability: Promise<GpuCapability> = (navigator.gpu as GPU | undefined)
  ? kernels.probe()
  : Promise.resolve({ available: false, reason: isSecureContext ? 'this browser does not expose navigator.gpu' : 'the page is not in a secure context (use https or localhost)' });
const trainerWorker = new Worker(new URL('../workers/trainer.worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
const trainer = Comlink.wrap<TrainerWorkerApi>(trainerWorker);
window.gauntlet = { kernels, capability, trainer };

capability.then(renderCapability, (error: unknown) => {
  renderCapability({ available: false, reason: error instanceof Error ? error.message : String(error) });
});
