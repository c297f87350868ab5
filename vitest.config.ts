import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { dawnEnvironment } from './src/cli/dawn.ts';

// Dawn (test/unit/engine-dawn.test.ts) loads the Vulkan loader when a worker starts, so the workers
// inherit what it needs from here (src/cli/dawn.ts: Chromium's loader and SwiftShader ICD where the
// machine has no Vulkan of its own).
Object.assign(process.env, dawnEnvironment(process.env));

export default defineConfig({
  // Node tests see the test variant of the build-mode modules (vite.config.ts).
  resolve: {
    alias: {
      '#test-hooks': fileURLToPath(new URL('./src/ui/test-hooks.ts', import.meta.url)),
      '#worker-test-hooks': fileURLToPath(new URL('./src/workers/test-hooks.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    // Two cores: keep the default thread pool small so heavy tests do not starve each other.
    maxWorkers: 2,
    // The JSON report feeds the one-line summary that .ci/run prints at the end.
    reporters: ['default', ['json', { outputFile: 'reports/unit.json' }]],
  },
});
