/**
 * `npm run swarm -- --peers K --adversaries <spec> --windows N [--out dir] [--backend wasm|webgpu|auto]
 *   [--port P] [--app built-app-dir]`
 *
 * A multi-peer swarm on this machine (issue #10): the devnet, the validator and K headless browser
 * peers, K including the adversaries (`free-rider:1,copier:1`, behaviours of src/peer/behaviours.ts).
 * Writes `swarm.json` and a self-contained `report.html` into `--out` and prints a summary.
 *
 * Defaults (`--peers 4 --adversaries free-rider:1 --windows 6`, the tiny model with 15 s windows,
 * see `swarmRunConfig`, wasm in the browser) finish in about three minutes on a 2-core machine.
 * Detection within those windows: every peer is evaluated every window, and a free-rider's zero
 * update has LossScore 0, so it ranks last in every OpenSkill match; its ordinal (and so its final
 * score) turns negative within two or three windows while every honest peer's stays positive.
 * Only the free-rider default is checked at this size (test/browser/swarm.spec.ts). A copier can
 * be caught by index overlap only after `overlapGraceSteps` (5) outer steps and data-lazy through
 * B's moving average (α 0.05), so give those ≥ 12 windows; the Node simulation (30 windows,
 * test/unit/simulation.test.ts) is where every class is shown to separate.
 */
import { parseArgs } from 'node:util';
import type { TrainerBackend } from '../model/engine.ts';
import { CHEATER_BEHAVIOURS } from '../peer/behaviours.ts';
import { textSummary } from './swarm-report.ts';
import { runSwarm } from './swarm-run.ts';
import { parseAdversarySpec, SwarmArgumentError } from './swarm-spec.ts';

const USAGE = `npm run swarm -- [options]: a whole subnet on this machine (the devnet, the validator, K headless browser peers)
  --peers K             peers in all, adversaries included (default 4)
  --adversaries SPEC    cheaters among them as name:count,… (default free-rider:1); names: ${CHEATER_BEHAVIOURS.join(', ')}
  --windows N           windows to run (default 6)
  --out DIR             where swarm.json and report.html go (default swarm-results)
  --backend B           wasm, webgpu or auto in the browser peers (default wasm)
  --port P              the devnet's port (default: any free one)
  --app DIR             an app already built (default: build one)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      peers: { type: 'string', default: '4' },
      adversaries: { type: 'string', default: 'free-rider:1' },
      windows: { type: 'string', default: '6' },
      out: { type: 'string', default: 'swarm-results' },
      backend: { type: 'string', default: 'wasm' },
      port: { type: 'string', default: '0' },
      app: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const backend = values.backend;
  if (backend !== 'wasm' && backend !== 'webgpu' && backend !== 'auto') throw new SwarmArgumentError(`--backend must be wasm, webgpu or auto, got '${backend}'.`);
  const windows = Number(values.windows);
  if (!Number.isInteger(windows) || windows < 1) throw new SwarmArgumentError(`--windows must be a whole number ≥ 1, got '${values.windows}'.`);
  const started = Date.now();
  const result = await runSwarm({
    peers: Number(values.peers),
    adversaries: parseAdversarySpec(values.adversaries),
    windows,
    backend: backend satisfies TrainerBackend | 'auto',
    outDir: values.out,
    port: Number(values.port),
    ...(values.app === undefined ? {} : { appDir: values.app }),
    log: (line) => console.log(`[swarm] ${line}`),
  });
  console.log(`\n${textSummary(result.report)}`);
  console.log(`\nwrote ${result.jsonPath} and ${result.htmlPath} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  // A bad flag (parseArgs' own TypeError, or ours) is answered with the usage.
  if (error instanceof SwarmArgumentError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  process.exitCode = 1;
});
