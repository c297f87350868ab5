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
 * - `--network ws://…` / `wss://…` (a real subtensor) with `--netuid`, the validator's own S3 bucket
 *   (`--s3-endpoint`, `--bucket`, `--region`, `--access-key-id`, the secret from GAUNTLET_S3_SECRET)
 *   and its hotkey (`--uri`, or GAUNTLET_VALIDATOR_URI so it stays out of the process list). This
 *   process first dials the endpoint itself and checks that the runtime is subtensor and that the
 *   hotkey is registered with a validator permit; then the Validate view runs on that network, its
 *   network form filled in, with a wallet extension whose signatures are made here
 *   (src/cli/evaluate-wallet.ts: the secret never enters the page). The page and the data shards
 *   are served by a local devnet process, used for nothing else. Any failure ends with the reason in
 *   report.md and exit status 1.
 */
import { createRunDocument, MAX_RUN_DOCUMENT_BYTES } from '../core/run-document.ts';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { errors, type Page } from '@playwright/test';
import { windowOfBlock } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import { runConfigHash, tinyRunConfig, validateRunConfig } from '../core/run-config.ts';
import { startDevnet, type RunningDevnet } from '../devnet/server.ts';
import { DevnetChain } from '../net/devnet-client.ts';
import type { NetworkForm } from '../net/network-settings.ts';
import { NetworkFlagError, SUBTENSOR_NETWORK_OPTIONS, subtensorSettingsFromFlags, type SubtensorSettings } from './network-flags.ts';
import { registrationIn } from '../net/metagraph.ts';
import { VALIDATOR_DEV_ACCOUNT_URI } from '../net/wallets.ts';
import type { HeadlessValidateStatus as ValidateStatus } from '../workers/validator-api.ts';
import type { TrainerBackend } from '../model/engine.ts';
import { loadAllTokens } from './data-files.ts';
import { buildApp, launchChromium } from './headless-app.ts';
import { hotkeyOfUri, installCliWallet } from './evaluate-wallet.ts';
import { DevnetMiners } from './devnet-miners.ts';
import { fetchRunDocument } from '../net/run-document-client.ts';
import { subnetBucketStorage } from '../net/hotkey-buckets.ts';
import { readPublishedRun } from '../peer/published-run.ts';
import { renderReport, windowScores, type EvaluateRun } from './evaluate-report.ts';
import { errorMessage, GauntletError } from '../core/errors.ts';


const USAGE = `npm run evaluate -- --network <devnet|http://127.0.0.1:PORT|ws://…> --windows N [--out dir] [--miners K] [--backend auto|webgpu|wasm]
       npm run evaluate -- --network ws://… --netuid N --s3-endpoint https://… --bucket B [--region R] --access-key-id K --uri //hotkey-uri --windows N

  --network devnet      an embedded devnet with K in-process miners (default)
  --network http://…    a running devnet that serves the app (npm start)
  --network ws(s)://…   a subtensor node: the page validator runs on it with the S3 settings below
  --netuid N            (subtensor) the subnet to validate
  --s3-endpoint URL     (subtensor) the validator's S3-compatible storage, e.g. https://<account>.r2.cloudflarestorage.com
  --bucket NAME         (subtensor) the validator's own bucket (its aggregates, checkpoints, peer lists)
  --region R            (subtensor) the bucket's region (default auto, as R2)
  --access-key-id ID    (subtensor) the bucket's write key id; the secret comes from GAUNTLET_S3_SECRET
  --read-key-id ID      (subtensor, optional) the bucket's read-only token id for its commitment; the
                        read secret comes from GAUNTLET_S3_READ_SECRET
  --uri URI             (subtensor) the validator hotkey's secret URI; prefer GAUNTLET_VALIDATOR_URI
                        (a flag shows in the process list). The devnet development key is refused.
  --run-config FILE     the run's config as JSON (default: the tiny preset): the embedded devnet publishes it; a running
                        devnet defines its own run and this only checks it; on ws(s):// --netuid overrides its netuid
  --windows N           windows to score (default 5)
  --out dir             where scores.json and report.md go (default reports/evaluate)
  --miners K            in-process honest miners (devnet only; default 2 on the embedded devnet, 0 otherwise)
  --backend             the validator's engine in the page (default wasm: on a CPU-only machine
                        WebGPU is SwiftShader, far slower than the wasm EP)`;

/** A command-line value the run cannot use. */
class EvaluateUsageError extends GauntletError {
  readonly code: string = 'evaluate-usage';
  override readonly name = 'EvaluateUsageError';
}

/** The real network refused the validator (unreachable, not subtensor, hotkey not registered or without a permit). */
class EvaluateNetworkError extends GauntletError {
  readonly code: string = 'evaluate-network';
  override readonly name = 'EvaluateNetworkError';
}

interface RealNetworkArgs {
  readonly settings: SubtensorSettings;
  readonly uri: string;
}

/** The subtensor flags, checked by the page's own form rules (src/net/network-settings.ts). */
function realNetworkArgs(values: Readonly<Record<string, string | boolean | undefined>>, env: NodeJS.ProcessEnv): RealNetworkArgs {
  const text = (name: string): string => (typeof values[name] === 'string' ? values[name] : '');
  let settings: SubtensorSettings;
  try {
    settings = subtensorSettingsFromFlags(values, env);
  } catch (error) {
    if (!(error instanceof NetworkFlagError)) throw error;
    throw new EvaluateUsageError(`${error.message}\n\n${USAGE}`);
  }
  const uri = text('uri') || (env.GAUNTLET_VALIDATOR_URI ?? '');
  if (uri === '') throw new EvaluateUsageError(`A real network needs the validator's hotkey: --uri or GAUNTLET_VALIDATOR_URI (its secret URI).\n\n${USAGE}`);
  if (uri === VALIDATOR_DEV_ACCOUNT_URI) throw new EvaluateUsageError(`${uri} is the public devnet development key: it exists only on the devnet. Pass the validator hotkey's own URI.`);
  if (values.miners !== undefined) throw new EvaluateUsageError('--miners starts devnet miners in this process; on a real network the validator scores the miners already there.');
  return { settings, uri };
}

/**
 * Before a browser starts: dial the endpoint from here, read the subnet's metagraph (a runtime that
 * is not subtensor fails here, naming what it lacks), and check that the hotkey is registered and
 * holds a validator permit. Returns the chain's block time (its Aura slot duration, through
 * `SubtensorChain.hyperparams`), which sets how long the run's windows last on this network, and the
 * run the subnet publishes (`readPublishedRun`; `expectedHash`, from `--run-config`, pins it).
 */
async function checkRealNetwork(settings: SubtensorSettings, hotkey: string, expectedHash: string | undefined): Promise<{ readonly blockTimeMs: number; readonly run: RunConfig }> {
  const { SubtensorChain } = await import('../net/subtensor-chain.ts');
  let chain: Awaited<ReturnType<typeof SubtensorChain.connect>>;
  try {
    chain = await SubtensorChain.connect(settings.endpoint);
  } catch (error) {
    throw new EvaluateNetworkError(errorMessage(error));
  }
  try {
    const metagraph = await chain.metagraph(settings.netuid).catch((error: unknown) => {
      throw new EvaluateNetworkError(`${settings.endpoint} answered, but its metagraph of netuid ${settings.netuid} cannot be read: ${errorMessage(error)}`);
    });
    const { uid, validatorPermit, stake } = registrationIn(metagraph, hotkey);
    if (uid === null) throw new EvaluateNetworkError(`${hotkey} is not registered on netuid ${settings.netuid} at ${settings.endpoint}: register it with \`btcli subnets register --netuid ${settings.netuid}\` first.`);
    if (!validatorPermit) throw new EvaluateNetworkError(`${hotkey} is uid ${uid} on netuid ${settings.netuid} but holds no validator permit (stake ${stake}): stake it until the subnet grants one.`);
    const hyperparams = await chain.hyperparams(settings.netuid).catch((error: unknown) => {
      throw new EvaluateNetworkError(`${settings.endpoint} answered, but the hyperparameters of netuid ${settings.netuid} cannot be read: ${errorMessage(error)}`);
    });
    const blockTimeMs = checkedBlockTimeMs(hyperparams.blockTimeMs, settings.endpoint);
    console.log(`evaluate: ${settings.endpoint} is a subtensor runtime with ${blockTimeMs} ms blocks; ${hotkey} is uid ${uid} on netuid ${settings.netuid} with a validator permit (stake ${stake})`);
    const storage = subnetBucketStorage(settings, hotkey, chain, MAX_RUN_DOCUMENT_BYTES);
    const { document, lead } = await readPublishedRun(chain, storage, settings.netuid, expectedHash === undefined ? {} : { expectedHash });
    console.log(`evaluate: the run is ${document.config.runId} (preset ${document.config.preset}, run hash ${document.runHash}), as ${lead} publishes it`);
    return { blockTimeMs, run: document.config };
  } finally {
    await chain.close().catch(() => undefined);
  }
}

/** A block time the window arithmetic can use (a runtime with an odd slot constant fails here, not as a timeout hours later). */
function checkedBlockTimeMs(blockTimeMs: number, source: string): number {
  if (!Number.isFinite(blockTimeMs) || blockTimeMs <= 0) throw new EvaluateNetworkError(`${source} reports a block time of ${blockTimeMs} ms; a window's length cannot be computed from it.`);
  return blockTimeMs;
}

/** How long the page may take to list the evaluate wallet's account after "Connect wallet" (the page retries `web3Enable` for a few seconds). */
const WALLET_ACCOUNT_TIMEOUT_MS = 30_000;

/**
 * Clicks the Validate view's "Connect wallet" and waits until the page lists `hotkey` among the
 * wallet's accounts (the extension answers asynchronously: reading the list once raced it).
 */
async function connectCliWallet(page: Page, hotkey: string): Promise<void> {
  await page.locator('[data-view="validate"] [data-action="connect-extension"]').click();
  try {
    await page.waitForFunction(
      (expected: string) => window.gauntlet!.ui.validate().session.status().accounts.some((account) => account.address === expected),
      hotkey,
      { timeout: WALLET_ACCOUNT_TIMEOUT_MS, polling: 250 },
    );
  } catch (error) {
    if (!(error instanceof errors.TimeoutError)) throw error;
    const seen = await status(page);
    const listed = seen.accounts.map((a) => a.address).join(', ') || 'none';
    throw new EvaluateNetworkError(
      `The page did not list the validator hotkey ${hotkey} among the evaluate wallet's accounts within ${WALLET_ACCOUNT_TIMEOUT_MS / 1000} s (accounts seen: ${listed}); the page says: ${seen.message}`,
    );
  }
}

/** Fills the Validate view's network form with the subtensor settings and waits until the page is on that network. */
async function usePageNetwork(page: Page, settings: SubtensorSettings): Promise<void> {
  const view = page.locator('[data-view="validate"]');
  await view.locator('[data-role="network"]').selectOption('real');
  const form: Readonly<Record<keyof NetworkForm, string>> = {
    endpoint: settings.endpoint, netuid: String(settings.netuid), storageEndpoint: settings.storage.endpoint, bucket: settings.storage.bucket, region: settings.storage.region,
    accessKeyId: settings.storage.accessKeyId, secretAccessKey: settings.storage.secretAccessKey,
    readKeyId: settings.storage.read?.keyId ?? '', readSecret: settings.storage.read?.secret ?? '',
  };
  for (const [name, value] of Object.entries(form)) await view.locator(`[data-field="${name}"]`).fill(value);
  await view.locator('[data-action="connect-network"]').click();
  const problem = view.locator('[data-role="network-error"]');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if ((await status(page)).network.kind === 'subtensor') return;
    if (await problem.isVisible()) throw new EvaluateNetworkError(`The page could not use ${settings.endpoint}: ${await problem.textContent()}`);
    if (Date.now() > deadline) throw new EvaluateNetworkError(`The page did not connect to ${settings.endpoint} within 120 s; it says: ${(await status(page)).message}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The embedded devnet's subnet owner (a public development key, like `npm start`'s `//Owner`). */
const EVALUATE_OWNER_URI = '//Owner';

/** The run the page's validator scores: a run-config file (validated), else the tiny preset. */
function runConfigOf(path: string | undefined): RunConfig {
  if (path === undefined) return tinyRunConfig();
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new EvaluateUsageError(`--run-config ${path} cannot be read as JSON (${errorMessage(error)}).\n\n${USAGE}`);
  }
  return validateRunConfig(json);
}

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

function writeOutputs(out: string, run: EvaluateRun): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'scores.json'), JSON.stringify(run, null, 2) + '\n');
  writeFileSync(join(out, 'report.md'), renderReport(run));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      ...SUBTENSOR_NETWORK_OPTIONS,
      network: { type: 'string', default: 'devnet' },
      windows: { type: 'string', default: '5' },
      out: { type: 'string', default: 'reports/evaluate' },
      miners: { type: 'string' },
      backend: { type: 'string', default: 'wasm' },
      'run-config': { type: 'string' },
      uri: { type: 'string' },
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
  const config = runConfigOf(values['run-config']);
  const base: Omit<EvaluateRun, 'windows' | 'validator' | 'miners' | 'notes'> = { network, preset: config.preset, startedAt, burnUid: config.scoring.burnUid };

  const real = /^wss?:\/\//.test(network) ? realNetworkArgs(values, process.env) : null;
  if (real === null && network !== 'devnet' && !/^https?:\/\//.test(network)) throw new EvaluateUsageError(`--network must be devnet, http(s)://… or ws(s)://…, got '${network}'.\n\n${USAGE}`);
  if (real !== null) {
    try {
      return await evaluate({ miners: values.miners, runConfig: values['run-config'] }, { ...base, network: real.settings.endpoint }, windows, backend, out, real, { ...config, netuid: real.settings.netuid });
    } catch (error) {
      // Whatever stopped it (the network's refusal, or the page's), the report says why.
      const note = `The validator did not run on ${real.settings.endpoint} (netuid ${real.settings.netuid}): ${errorMessage(error)}`;
      writeOutputs(out, { ...base, validator: { hotkey: null, uid: null, validatorPermit: null, backend: null, engineReason: null }, miners: [], windows: [], notes: [note] });
      console.error(`evaluate: ${note}\nWrote ${join(out, 'report.md')}.`);
      return 1;
    }
  }
  return evaluate({ miners: values.miners, runConfig: values['run-config'] }, base, windows, backend, out, null, config);
}

/** One evaluation run: the page's validator on the devnet (embedded or running) or, with `real`, on a subtensor network. */
async function evaluate(
  values: { readonly miners?: string | undefined; readonly runConfig?: string | undefined },
  givenBase: Omit<EvaluateRun, 'windows' | 'validator' | 'miners' | 'notes'>,
  windows: number,
  backend: TrainerBackend | 'auto',
  out: string,
  real: RealNetworkArgs | null,
  givenConfig: RunConfig,
): Promise<number> {
  let config = givenConfig;
  let base = givenBase;
  const network = real?.settings.endpoint ?? base.network;
  // On a real network the local devnet only serves the app and the data shards.
  const embedded = network === 'devnet' || real !== null;
  const minerCount = values.miners === undefined ? (network === 'devnet' ? 2 : 0) : positiveInt(values.miners, '--miners');

  // A real network is checked from here before anything is built or launched.
  const realChain = real === null ? null : await checkRealNetwork(real.settings, await hotkeyOfUri(real.uri), values.runConfig === undefined ? undefined : runConfigHash(config));
  // On a real network the run is the one the subnet publishes; the local devnet serves the page with it.
  if (realChain !== null) {
    config = realChain.run;
    base = { ...base, preset: config.preset, burnUid: config.scoring.burnUid };
  }
  const temp = mkdtempSync(join(tmpdir(), 'gauntlet-evaluate-'));
  let devnet: RunningDevnet | undefined;
  let miners: DevnetMiners | undefined;
  const browser = await launchChromium();
  try {
    let url = network.replace(/\/+$/, '');
    const minerUris = Array.from({ length: minerCount }, (_, i) => `//EvaluateMiner${i}`);
    const page = await browser.newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    const walletHotkey = real === null ? null : await installCliWallet(page, real.uri);
    if (embedded) {
      console.log(real === null ? 'evaluate: building the app and starting an embedded devnet…' : 'evaluate: building the app and serving it (with the data shards) from a local devnet process…');
      buildApp(join(temp, 'app'));
      // The subnet owner holds the burn uid from the start, as `npm start` does, so no miner lands on it.
      const owner = await hotkeyOfUri(EVALUATE_OWNER_URI);
      devnet = await startDevnet({
        dir: join(temp, 'state'), appDir: join(temp, 'app'), blockTimeMs: config.window.blockTimeMs,
        subnetOwners: [{ netuid: config.netuid, hotkey: owner, uid: config.scoring.burnUid }],
        // It publishes the run the page's validator scores; its windows gate early reads of uploads, as on `npm start`'s devnet.
        run: createRunDocument(config),
        // The page's validator is the run's: the in-process miners follow its peer lists and aggregates.
        runValidators: [await hotkeyOfUri(VALIDATOR_DEV_ACCOUNT_URI)],
      });
      url = devnet.url;
    }

    // A running devnet defines the run: its run document, checked, and refused when --run-config names another.
    const joinedRun = real === null && !embedded ? (await fetchRunDocument(url, values.runConfig === undefined ? {} : { expectedHash: runConfigHash(config) })).config : config;
    await page.goto(`${url}/#/validate`);
    const view = page.locator('[data-view="validate"]');
    if (real !== null && walletHotkey !== null) {
      await usePageNetwork(page, real.settings);
      await connectCliWallet(page, walletHotkey);
      await view.locator('[data-role="accounts"]').selectOption(walletHotkey);
    } else {
      await view.locator('[data-action="development-key"]').click();
    }
    const selected = await waitFor(page, 'the hotkey and its registration', (s) => s.hotkey !== null && s.log.some((m) => m.includes(s.hotkey!) && m.includes('netuid')), 60_000);
    if (selected.uid === null && real !== null) throw new EvaluateNetworkError(`The page finds ${selected.hotkey} unregistered on netuid ${real.settings.netuid}: ${selected.message}`);
    if (selected.uid === null) {
      await view.locator('[data-action="register"]').click();
      await waitFor(page, 'the registration', (s) => s.uid !== null, 60_000);
    }
    await view.locator('[data-role="backend"]').selectOption(backend);
    // The page's run is the network's (the devnet serves its run document); its worker checks it again.
    await view.locator('[data-action="start"]').click();
    const started = await waitFor(page, 'the validator engine', (s) => s.engine !== null, 180_000);
    console.log(`evaluate: validator ${started.hotkey} is uid ${started.uid}, evaluating on ${started.engine?.backend} (${started.engine?.reason})`);

    // Windows before the in-process miners could submit are warm-up: scored, but not reported.
    let firstWindow = 0;
    if (minerUris.length > 0) {
      miners = await DevnetMiners.start({
        devnetUrl: url, config: joinedRun, uris: minerUris, tokens: loadAllTokens().tokens,
        onEvent: (event) => {
          if (event.kind === 'miner-error') console.log(`evaluate: miner uid ${event.uid}, window ${event.window}, ${event.stage}: ${event.message}`);
        },
      });
      firstWindow = windowOfBlock((await new DevnetChain(url).currentBlock()).number, joinedRun.window.blocksPerWindow);
      console.log(`evaluate: ${minerUris.length} honest miner(s) in this process: uids ${miners.uids.join(', ')}, submitting from window ${firstWindow}`);
    }
    // The network's own block time: a subtensor's from its Aura slot (read above), a devnet's from its hyperparameters.
    const blockTimeMs = realChain?.blockTimeMs ?? checkedBlockTimeMs((await new DevnetChain(url).hyperparams(joinedRun.netuid)).blockTimeMs, url);
    const windowMs = joinedRun.window.blocksPerWindow * blockTimeMs;
    let reported = 0;
    const counted = (s: ValidateStatus): ValidateStatus['windows'] => s.windows.filter((w) => w.window >= firstWindow);
    const final = await waitFor(page, `${windows} scored windows`, (s) => {
      for (const w of s.windows.slice(reported)) console.log(`evaluate: window ${w.window} scored${w.window < firstWindow ? ' (warm-up, not reported)' : ''}: evaluated ${w.evalUids.join(', ') || 'nobody'}, gathered ${w.gatheredUids.join(', ') || 'nobody'}`);
      reported = s.windows.length;
      return counted(s).length >= windows;
    }, (windows + 4) * windowMs * (real === null ? 12 : 2));
    await page.evaluate(() => window.gauntlet!.ui.validate().session.stop());

    const run: EvaluateRun = {
      ...base,
      validator: { hotkey: final.hotkey, uid: final.uid, validatorPermit: final.validatorPermit, backend: final.engine?.backend ?? null, engineReason: final.engine?.reason ?? null },
      miners: (miners?.uids ?? []).map((uid, i) => ({ uid, hotkey: miners!.hotkeys[i]! })),
      windows: counted(final).slice(0, windows).map((w) => windowScores(w, final, joinedRun.scoring.burnUid)),
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
