/**
 * The product and the test surface apart (issue #16): `vite build` (what `npm start` and
 * `npm run build` serve) contains no test hook, neither the kernels and trainer test workers nor the
 * device-loss hook (only the trainer worker has it); `vite build --mode test` (what Playwright serves) contains them,
 * so this check can tell the two apart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_HOOKS_MARKER } from '../../src/ui/test-hooks.ts';
import { WORKER_TEST_HOOKS_MARKER } from '../../src/workers/test-hooks.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Builds the app in `mode` and returns its asset names and the text of every JavaScript asset. */
function build(mode: 'production' | 'test'): { files: string[]; text: string } {
  const out = join(dir, mode);
  execFileSync(process.execPath, [resolve('node_modules/vite/bin/vite.js'), 'build', '--mode', mode, '--outDir', out, '--emptyOutDir', '--logLevel', 'error'], { stdio: 'inherit' });
  const files = readdirSync(join(out, 'assets'));
  const text = files.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(out, 'assets', f), 'utf8')).join('\n');
  return { files, text };
}

describe('the built app', () => {
  it('holds no test hook in production, and holds them in a test build', () => {
    const production = build('production');
    const test = build('test');
    for (const marker of [TEST_HOOKS_MARKER, WORKER_TEST_HOOKS_MARKER]) {
      expect(production.text.includes(marker), `${marker} in the production build`).toBe(false);
      expect(test.text.includes(marker), `${marker} in the test build`).toBe(true);
    }
    for (const worker of ['kernels.worker', 'trainer.worker']) {
      expect(production.files.some((f) => f.startsWith(worker)), `${worker} in the production build`).toBe(false);
      expect(test.files.some((f) => f.startsWith(worker)), `${worker} in the test build`).toBe(true);
    }
    // The product's own workers are there in both.
    for (const worker of ['peer.worker', 'validator.worker', 'probe.worker']) expect(production.files.some((f) => f.startsWith(worker)), worker).toBe(true);
  }, 180_000);
});
