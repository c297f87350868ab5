/**
 * What the headless commands (`npm run evaluate`, `npm run swarm`) share to put the real app in
 * front of Playwright: a private build of it (never the shared dist/, which a test run on the same
 * checkout may empty) with the data shards, and the system Chromium with our WebGPU flags.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from '@playwright/test';
import { CHROMIUM_LAUNCH_ARGS, findChromium } from '../../scripts/chromium-path.mjs';
import { ensureShards } from './data-files.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds the app into `appDir` (the devnet serves it; public/data comes along). */
export function buildApp(appDir: string): void {
  ensureShards();
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', appDir, '--emptyOutDir', '--logLevel', 'error'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/** The system Chromium (never a downloaded one), headless, with WebGPU enabled. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium() ?? '/usr/bin/chromium', args: CHROMIUM_LAUNCH_ARGS, headless: true });
}
