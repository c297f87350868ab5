/**
 * A test build of the app (`--mode test`: with the test hooks, vite.config.ts) in a directory of the
 * spec's own. The shared dist/ is rebuilt (emptied) by any other Playwright run on this checkout, so
 * a spec that serves the app from its own devnet for a long time builds its own copy.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export function buildAppInto(outDir: string): string {
  execFileSync(process.execPath, [resolve('node_modules/vite/bin/vite.js'), 'build', '--mode', 'test', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], { stdio: 'inherit' });
  return outDir;
}
