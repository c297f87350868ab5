import { defineConfig } from '@playwright/test';
import base from './playwright.config.ts';

/** Benchmarks reuse the browser setup of the tests but live apart: they measure, they never assert a time. */
export default defineConfig({
  ...base,
  testDir: 'test/bench',
  testMatch: '**/*.bench.spec.ts',
  reporter: [['list']],
  timeout: 600_000,
});
