// `npm run bench`: runs every benchmark suite and prints each figure beside its baseline from the
// same run (ratios, never asserted). Results are also saved under bench-results/.
import { spawnSync } from 'node:child_process';

/** @param {string} cmd @param {string[]} args @returns {number} */
const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', shell: false }).status ?? 1;
let status = run('node', ['scripts/ensure-chromium.mjs']);
if (status === 0) status = run('npx', ['playwright', 'test', '--config', 'playwright.bench.config.ts', ...process.argv.slice(2)]);
process.exit(status);
