/**
 * App entry. The page does no GPU work itself: a probe worker says what the GPU can do, the page
 * decides the preset (or the WASM path) before anything is downloaded, and starts the app shell. It
 * publishes `window.gauntlet` so that headless evaluation and Playwright drive the very same sessions
 * and read the very same dashboard models the UI uses. A test build (`vite build --mode test`) adds
 * the kernels and trainer test workers (src/ui/test-hooks.ts); a production build has none.
 */
import * as Comlink from 'comlink';
import { startTestHooks } from '#test-hooks';
import type { GpuCapability } from '../gpu/device.ts';
import type { KernelsApi } from '../workers/kernels-api.ts';
import { installErrorTransfer } from '../workers/error-transfer.ts';
import type { ProbeApi } from '../workers/probe.worker.ts';
import type { TrainerWorkerApi } from '../workers/trainer-api.ts';
import { startApp, type UiApi } from './app.ts';
import { decideCapability, type CapabilityGate } from './capability.ts';
import { readPageRun, renderRunSummary, type PageRun } from './run-source.ts';
import { errorMessage } from '../core/errors.ts';

export interface GauntletPageApi {
  /** Resolves once the capability probe has finished. */
  readonly capability: Promise<GpuCapability>;
  /** Resolves with the preset choice or the WASM fallback (plain data). */
  readonly gate: Promise<CapabilityGate>;
  /** The run this page serves (from the run document it was served with), or why it has none. */
  readonly run: PageRun;
  /** The app: views, dashboards and their latest rendered models. */
  readonly ui: UiApi;
  /** TEST BUILDS ONLY: the kernels worker (our WGSL kernels on given inputs; comlink proxy). */
  readonly kernels?: Comlink.Remote<KernelsApi>;
  /** TEST BUILDS ONLY: the trainer worker (comlink proxy of the TrainerEngine; idle until `init`). */
  readonly trainer?: Comlink.Remote<TrainerWorkerApi>;
}

declare global {
  interface Window {
    gauntlet?: GauntletPageApi;
  }
}

// Errors from every worker arrive as their own classes (DeviceLostError, WalletError, …).
installErrorTransfer();
// A page without navigator.gpu gets no GPU worker work at all: say so at once, before any download.
const capability: Promise<GpuCapability> = (navigator.gpu as GPU | undefined)
  ? Comlink.wrap<ProbeApi>(new Worker(new URL('../workers/probe.worker.ts', import.meta.url), { type: 'module', name: 'probe' })).probe()
  : Promise.resolve({ available: false, reason: isSecureContext ? 'this browser does not expose navigator.gpu' : 'the page is not in a secure context (use https or localhost)' });
// The views describe the run this page serves: the network's, from the document it was served with.
const run = readPageRun(document, location.search);
// Can this device join that run?
const gate = capability
  .catch((error: unknown): GpuCapability => ({ available: false, reason: errorMessage(error) }))
  .then((found) => decideCapability(found, run.config));
document.getElementById('gpu-status')?.before(renderRunSummary(run));
const ui = startApp(run.config, gate);
window.gauntlet = { capability, gate, run, ui, ...startTestHooks() };
