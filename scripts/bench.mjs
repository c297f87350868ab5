// `npm run bench`: runs every benchmark suite and prints each figure beside its baseline from the
// same run (ratios, never asserted), then ONE combined table of every suite's rows from this run,
// also saved as bench-results/summary.json. Results per suite are saved under bench-results/.
//   npm run bench                     every suite (browser suites in Chromium, Node suites in-process)
//   npm run bench -- --quick          Node suites with fewer windows and peers (a smoke run)
//   npm run bench -- convergence      only suites whose file matches (any Playwright filter or flag)
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const playwrightArgs = args.filter((a) => a !== '--quick');
const env = quick ? { ...process.env, GAUNTLET_BENCH_SCALE: 'quick' } : process.env;

/** @param {string} cmd @param {string[]} cmdArgs @returns {number} */
const run = (cmd, cmdArgs) => spawnSync(cmd, cmdArgs, { stdio: 'inherit', shell: false, env }).status ?? 1;
const started = Date.now();
let status = run('node', ['scripts/ensure-chromium.mjs']);
if (status === 0) status = run('npx', ['playwright', 'test', '--config', 'playwright.bench.config.ts', ...playwrightArgs]);
// The table is printed even when a suite failed, for the suites that did finish.
const summary = run('npx', ['tsx', 'scripts/bench-summary.ts', '--since', String(started)]);
process.exit(status !== 0 ? status : summary);
