/**
 * `npm run evaluate -- --network <devnet|http://127.0.0.1:PORT|ws://…> --windows N [--out dir]
 *   [--miners K] [--backend auto|webgpu|wasm]`
 *
 * Headless evaluation (issue #10): drives headless Chromium (the system Chromium, the launch
 * arguments of the browser tests) through the Validate view's live validator, the same code a
 * person runs in the app, for N scored windows, then writes `scores.json` (per window: evaluated
 * uids, stage-2 losses, OpenSkill, final scores, weights, slashes) and `report.md` (a table per
 * window) into --out.
 *
 * - `--network devnet` (default): an embedded devnet in a temporary directory serving a fresh build
 *   of the app, with K honest miners in this process (src/cli/devnet-miners.ts, wasm engines;
 *   default 2) so there is something to score.
 * - `--network http://HOST:PORT`: a running devnet (`npm start`) that serves the app; scores the
 *   miners already on it (add --miners K to start K more here).
 * - `--network ws://…` / `wss://…` (a real subtensor): not supported yet. The Validate view's
 *   validator runs on the devnet only; a real network needs the page's real-network settings
 *   (subtensor endpoint, netuid, S3 storage), which the Contribute view is gaining first. The
 *   command says so, writes a report that says so, and exits with status 2.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_LAUNCH_ARGS, findChromium } from '../../scripts/chromium-path.mjs';
import { windowOfBlock } from '../core/clock.ts';
import { tinyRunConfig } from '../core/run-config.ts';
import { startDevnet, type RunningDevnet } from '../devnet/server.ts';
import { DevnetChain } from '../net/devnet-client.ts';
import type { ValidateStatus } from '../ui/validate/session.ts';
import type { TrainerBackend } from '../workers/trainer-api.ts';
import { ensureShards, loadAllTokens } from './data-files.ts';
import { DevnetMiners } from './devnet-miners.ts';
import { renderReport, windowScores, type EvaluateRun } from './evaluate-report.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const USAGE = `npm run evaluate -- --network <devnet|http://127.0.0.1:PORT|ws://…> --windows N [--out dir] [--miners K] [--backend auto|webgpu|wasm]

  --network devnet      an embedded devnet with K in-process miners (default)
  --network http://…    a running devnet that serves the app (npm start)
  --network ws://…      a real subtensor: NOT SUPPORTED YET — the Validate view's validator runs on
                        the devnet only; it needs the page's real-network settings (subtensor
                        endpoint, netuid, S3 storage). The command writes a report saying so and exits 2.
  --windows N           windows to score (default 5)
  --out dir             where scores.json and report.md go (default reports/evaluate)
  --miners K            in-process honest miners (default 2 on the embedded devnet, 0 otherwise)
  --backend             the validator's engine in the page (default wasm: on a CPU-only machine
                        WebGPU is SwiftShader, far slower than the wasm EP)`;

/** A command-line value the run cannot use. */
class EvaluateUsageError extends Error {
  override readonly name = 'EvaluateUsageError';
}

const config = tinyRunConfig();

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new EvaluateUsageError(`${what} must be a non-negative integer, got '${text}'.\n\n${USAGE}`);
  return n;
}

const status = (page: Page): Promise<ValidateStatus> => page.evaluate(() => window.gauntlet!.ui.validate().session.status());

async function waitFor(page: Page, what: string, done: (s: ValidateStatus) => boolean, timeoutMs: number): Promise<ValidateStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status(page);
    if (done(s)) return s;
    if (!s.running && s.log.some((m) => m.startsWith('The validator stopped') || m.startsWith('Could not start'))) throw new Error(`The page's validator stopped while waiting for ${what}: ${s.message}`);
    if (Date.now() > deadline) throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}; the page says: ${s.message}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Builds the app into `appDir` (the devnet serves it; public/data comes along). */
function buildApp(appDir: string): void {
  ensureShards();
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', appDir, '--emptyOutDir', '--logLevel', 'error'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/**
 * Registers the miners in order; when the run's burn uid is among the uids they would take, a
 * subnet owner key takes it instead (the burn uid is never scored, so a miner there would be idle).
 */
async function registerMiners(url: string, uris: readonly string[]): Promise<void> {
  const taken = (await new DevnetChain(url).metagraph(config.netuid)).uids;
  const order = [...uris];
  // The devnet hands out the lowest free uid: the owner goes after as many miners as there are free uids below the burn uid.
  const ownerAt = config.scoring.burnUid - taken.filter((uid) => uid < config.scoring.burnUid).length;
  if (!taken.includes(config.scoring.burnUid) && ownerAt <= order.length) order.splice(ownerAt, 0, '//EvaluateOwner');
  await DevnetMiners.register(url, config, order);
}

function writeOutputs(out: string, run: EvaluateRun): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'scores.json'), JSON.stringify(run, null, 2) + '\n');
  writeFileSync(join(out, 'report.md'), renderReport(run));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      network: { type: 'string', default: 'devnet' },
      windows: { type: 'string', default: '5' },
      out: { type: 'string', default: 'reports/evaluate' },
      miners: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const network = values.network;
  const windows = positiveInt(values.windows, '--windows');
  if (windows === 0) throw new EvaluateUsageError(`--windows must be at least 1.\n\n${USAGE}`);
  const backend = values.backend as TrainerBackend | 'auto';
  if (!['auto', 'webgpu', 'wasm'].includes(backend)) throw new EvaluateUsageError(`--backend must be auto, webgpu or wasm, got '${values.backend}'.`);
  const out = resolve(values.out);
  const startedAt = new Date().toISOString();
  const base: Omit<EvaluateRun, 'windows' | 'validator' | 'miners' | 'notes'> = { network, preset: config.preset, startedAt, burnUid: config.scoring.burnUid };

  if (/^wss?:\/\//.test(network)) {
    const note = 'A real subtensor network is not supported yet: the Validate view\'s validator runs on the devnet only and needs the page\'s real-network settings (subtensor endpoint, netuid, S3 storage). Nothing was scored.';
    writeOutputs(out, { ...base, validator: { hotkey: null, uid: null, validatorPermit: null, backend: null, engineReason: null }, miners: [], windows: [], notes: [note] });
    console.error(`evaluate: ${note}\nWrote ${join(out, 'report.md')}.`);
    return 2;
  }
  if (network !== 'devnet' && !/^https?:\/\//.test(network)) throw new EvaluateUsageError(`--network must be devnet, http(s)://… or ws(s)://…, got '${network}'.\n\n${USAGE}`);
  const embedded = network === 'devnet';
  const minerCount = values.miners === undefined ? (embedded ? 2 : 0) : positiveInt(values.miners, '--miners');

  const temp = mkdtempSync(join(tmpdir(), 'gauntlet-evaluate-'));
  let devnet: RunningDevnet | undefined;
  let miners: DevnetMiners | undefined;
  const browser = await chromium.launch({ executablePath: findChromium() ?? '/usr/bin/chromium', args: CHROMIUM_LAUNCH_ARGS });
  try {
    let url = network.replace(/\/+$/, '');
    const minerUris = Array.from({ length: minerCount }, (_, i) => `//EvaluateMiner${i}`);
    if (embedded) {
      console.log('evaluate: building the app and starting an embedded devnet…');
      buildApp(join(temp, 'app'));
      devnet = await startDevnet({ dir: join(temp, 'state'), appDir: join(temp, 'app'), blockTimeMs: config.window.blockTimeMs });
      url = devnet.url;
      await registerMiners(url, minerUris);
    }

    const page = await browser.newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.goto(`${url}/#/validate`);
    const view = page.locator('[data-view="validate"]');
    await view.locator('[data-action="development-key"]').click();
    const selected = await waitFor(page, 'the development key and its registration', (s) => s.hotkey !== null && s.log.some((m) => m.includes(s.hotkey!) && m.includes('netuid')), 60_000);
    if (selected.uid === null) {
      await view.locator('[data-action="register"]').click();
      await waitFor(page, 'the registration', (s) => s.uid !== null, 60_000);
    }
    await view.locator('[data-role="backend"]').selectOption(backend);
    await view.locator('[data-action="start"]').click();
    const started = await waitFor(page, 'the validator engine', (s) => s.engine !== null, 180_000);
    console.log(`evaluate: validator ${started.hotkey} is uid ${started.uid}, evaluating on ${started.engine?.backend} (${started.engine?.reason})`);

    // Windows before the in-process miners could submit are warm-up: scored, but not reported.
    let firstWindow = 0;
    if (minerUris.length > 0) {
      await registerMiners(url, minerUris);
      miners = await DevnetMiners.start({
        devnetUrl: url, config, uris: minerUris, tokens: loadAllTokens().tokens, validatorHotkey: started.hotkey!,
        onEvent: (event) => {
          if (event.kind === 'miner-error') console.log(`evaluate: miner uid ${event.uid}, window ${event.window}, ${event.stage}: ${event.message}`);
        },
      });
      firstWindow = windowOfBlock((await new DevnetChain(url).currentBlock()).number, config.window.blocksPerWindow);
      console.log(`evaluate: ${minerUris.length} honest miner(s) in this process: uids ${miners.uids.join(', ')}, submitting from window ${firstWindow}`);
    }
    const windowMs = config.window.blocksPerWindow * config.window.blockTimeMs;
    let reported = 0;
    const counted = (s: ValidateStatus): ValidateStatus['windows'] => s.windows.filter((w) => w.window >= firstWindow);
    const final = await waitFor(page, `${windows} scored windows`, (s) => {
      for (const w of s.windows.slice(reported)) console.log(`evaluate: window ${w.window} scored${w.window < firstWindow ? ' (warm-up, not reported)' : ''}: evaluated ${w.evalUids.join(', ') || 'nobody'}, gathered ${w.gatheredUids.join(', ') || 'nobody'}`);
      reported = s.windows.length;
      return counted(s).length >= windows;
    }, (windows + 4) * windowMs * 12);
    await page.evaluate(() => window.gauntlet!.ui.validate().session.stop());

    const run: EvaluateRun = {
      ...base,
      validator: { hotkey: final.hotkey, uid: final.uid, validatorPermit: final.validatorPermit, backend: final.engine?.backend ?? null, engineReason: final.engine?.reason ?? null },
      miners: (miners?.uids ?? []).map((uid, i) => ({ uid, hotkey: miners!.hotkeys[i]! })),
      windows: counted(final).slice(0, windows).map((w) => windowScores(w, final, config.scoring.burnUid)),
      notes: [
        ...(firstWindow > 0 ? [`windows before ${firstWindow} (before the in-process miners started) were scored as warm-up and are left out`] : []),
        ...(final.skippedWindows.length === 0 ? [] : [`windows lost on the network: ${final.skippedWindows.join(', ')}`]),
      ],
    };
    writeOutputs(out, run);
    console.log(`evaluate: wrote ${join(out, 'scores.json')} and ${join(out, 'report.md')}`);
    return 0;
  } finally {
    await browser.close();
    await miners?.stop();
    await devnet?.close();
    rmSync(temp, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    process.exitCode = 1;
  },
);
