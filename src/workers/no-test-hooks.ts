/** A production build's `#worker-test-hooks` (vite.config.ts): the peer worker ships no way to destroy its own device. */
import type { TrainerEngine } from '../model/engine.ts';

export function loseDeviceForTests(_engine: TrainerEngine | undefined, _options?: { readonly withoutGpuAfterwards?: boolean }): boolean {
  return false;
}
