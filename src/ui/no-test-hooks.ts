/** A production build's `#test-hooks` (vite.config.ts): no test workers, nothing on `window.gauntlet` but the page's own API. */
import type { TestHooks } from './test-hooks.ts';

export function startTestHooks(): TestHooks | undefined {
  return undefined;
}
