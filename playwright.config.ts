import { defineConfig } from '@playwright/test';
import { CHROMIUM_LAUNCH_ARGS, findChromium } from './scripts/chromium-path.mjs';

const port = Number(process.env.GAUNTLET_TEST_PORT ?? 4174);
const baseURL = `http://127.0.0.1:${port}`;

/**
 * Browser tests run in the system Chromium (never a downloaded one) with WebGPU enabled.
 * On machines without a GPU the adapter is SwiftShader: correct but slow, so tests use tiny
 * configs, generous timeouts, one worker, and never assert a time (browser-testing.md §6).
 */
export default defineConfig({
  testDir: 'test/browser',
  testMatch: '**/*.spec.ts',
  workers: 1,
  fullyParallel: false,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list'], ['json', { outputFile: 'reports/browser.json' }]],
  outputDir: 'test-results',
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: findChromium() ?? '/usr/bin/chromium',
      args: CHROMIUM_LAUNCH_ARGS,
    },
  },
  webServer: {
    command: `npx tsx scripts/build-data.ts && npx vite build --mode test && npx vite preview --mode test --port ${port} --strictPort`,
    url: baseURL,
    reuseExistingServer: !process.env.CI,
    timeout: 240_000,
    stdout: 'pipe',
  },
});
