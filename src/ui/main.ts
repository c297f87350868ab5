/**
 * App entry. The page does no GPU work itself: it starts the kernels and trainer workers, asks the
 * kernels worker what the GPU can do, decides the preset (or the WASM path) before anything is
 * downloaded, and starts the app shell. It publishes `window.gauntlet` so that Playwright and
 * headless evaluation drive the very same workers and read the very same dashboard models the UI uses.
 */
import * as Comlink from 'comlink';
import { tinyRunConfig } from '../core/run-config.ts';
import type { GpuCapability } from '../gpu/device.ts';
import type { KernelsApi } from '../workers/kernels-api.ts';
import type { TrainerWorkerApi } from '../workers/trainer-api.ts';
import { startApp, type UiApi } from './app.ts';
import { decideCapability, type CapabilityGate } from './capability.ts';

export interface GauntletPageApi {
  /** The kernels worker (comlink proxy). */
  readonly kernels: Comlink.Remote<KernelsApi>;
  /** Resolves once the capability probe has finished. */
  readonly capability: Promise<GpuCapability>;
  /** Resolves with the preset choice or the WASM fallback (plain data). */
  readonly gate: Promise<CapabilityGate>;
  /** The trainer worker (comlink proxy of the TrainerEngine; idle until `init`). */
  readonly trainer: Comlink.Remote<TrainerWorkerApi>;
  /** The app: views, dashboards and their latest rendered models. */
  readonly ui: UiApi;
}

declare global {
  interface Window {
    gauntlet?: GauntletPageApi;
  }
}

const worker = new Worker(new URL('../workers/kernels.worker.ts', import.meta.url), { type: 'module', name: 'kernels' });
const kernels = Comlink.wrap<KernelsApi>(worker);
// A page without navigator.gpu gets no GPU worker work at all: say so at once, before any download.
const capability: Promise<GpuCapability> = (navigator.gpu as GPU | undefined)
  ? kernels.probe()
  : Promise.resolve({ available: false, reason: isSecureContext ? 'this browser does not expose navigator.gpu' : 'the page is not in a secure context (use https or localhost)' });
const gate = capability
  .catch((error: unknown): GpuCapability => ({ available: false, reason: error instanceof Error ? error.message : String(error) }))
  .then(decideCapability);
const trainerWorker = new Worker(new URL('../workers/trainer.worker.ts', import.meta.url), { type: 'module', name: 'trainer' });
const trainer = Comlink.wrap<TrainerWorkerApi>(trainerWorker);
// The views describe the run this page serves; the tiny preset is the devnet and demo run.
const ui = startApp(tinyRunConfig(), gate);
window.gauntlet = { kernels, capability, gate, trainer, ui };
