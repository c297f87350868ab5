/**
 * TEST BUILDS ONLY (`vite build --mode test`, which Playwright and the benchmarks use; vite.config.ts
 * resolves `#test-hooks` here only then, and to src/ui/no-test-hooks.ts otherwise, so a production
 * bundle holds none of this): the kernels worker (our WGSL kernels on given inputs, for the
 * conformance tests and benchmarks) and an idle trainer worker (the engine behind Comlink), published
 * on `window.gauntlet` beside the page's own API.
 */
import * as Comlink from 'comlink';
import type { KernelsApi } from '../workers/kernels-api.ts';
import type { TrainerWorkerApi } from '../workers/trainer-api.ts';

/** A string only this module contains: the production-build test looks for it. */
export const TEST_HOOKS_MARKER = 'gauntlet-test-hooks-present';

export interface TestHooks {
  readonly kernels: Comlink.Remote<KernelsApi>;
  readonly trainer: Comlink.Remote<TrainerWorkerApi>;
  readonly marker: string;
}

export function startTestHooks(): TestHooks | undefined {
  const kernels = Comlink.wrap<KernelsApi>(new Worker(new URL('../workers/kernels.worker.ts', import.meta.url), { type: 'module', name: 'kernels' }));
  const trainer = Comlink.wrap<TrainerWorkerApi>(new Worker(new URL('../workers/trainer.worker.ts', import.meta.url), { type: 'module', name: 'trainer' }));
  return { kernels, trainer, marker: TEST_HOOKS_MARKER };
}
