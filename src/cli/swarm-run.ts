/**
 * `npm run swarm` (issue #10): the embedded devnet serving a fresh build of the app, the real
 * validator loop in this process (wasm EP, like `npm run validator`), and K headless Chromium peers,
 * one browser context each, that open the real Contribute view, join with their own devnet
 * development key and run the real miner loop in their worker, some with a cheating behaviour
 * (src/peer/behaviours.ts, passed through the page's `window.gauntlet` hook). Afterwards the
 * data-parallel AdamW baseline trains on the same assigned batches, and the report is written
 * (src/cli/swarm-report.ts).
 */
import { createRunDocument } from '../core/run-document.ts';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import * as ort from 'onnxruntime-web';
import WebSocket from 'ws';
import { windowOfBlock } from '../core/clock.ts';
import type { RunConfig, ScoringConfig } from '../core/config.ts';
import { tinyRunConfig, validateRunConfig } from '../core/run-config.ts';
import type { ValidatorScoringState } from '../core/scoring/types.ts';
import { lossScore } from '../core/scoring/index.ts';
import { startDevnet } from '../devnet/server.ts';
import { WasmTrainerEngine } from '../gpu/wasm-engine.ts';
import { parameterLayout } from '../model/params.ts';
import { DevnetChain, DevnetStorage, type WebSocketConstructor } from '../net/devnet-client.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import { behaviourByName, type BehaviourName } from '../peer/behaviours.ts';
import { evaluationBatches, evaluationLoss, trainDataParallelBaseline } from '../peer/centralised-baseline.ts';
import type { PeerEvent, WindowEvent } from '../peer/events.ts';
import { MemoryPersistence, Validator, type ValidatorWindowReport } from '../peer/validator.ts';
import { runValidatorSchedule } from '../peer/validator-schedule.ts';
import type { PeerStartOptions } from '../workers/peer-api.ts';
import type { TrainerBackend } from '../model/engine.ts';
import { ensureShards, loadAllTokens } from './data-files.ts';
import { buildApp, launchChromium } from './headless-app.ts';
import { buildSwarmReport, renderSwarmHtml, type BaselineObservation, type SwarmPeer, type SwarmReport, type TimedPeerEvent, type SwarmValidatorWindow } from './swarm-report.ts';
import { planPeers, type SwarmPeerPlan } from './swarm-spec.ts';
import { errorMessage, GauntletError } from '../core/errors.ts';

export interface SwarmOptions {
  readonly peers: number;
  readonly adversaries: readonly (readonly [BehaviourName, number])[];
  /** Windows to judge once every peer runs. */
  readonly windows: number;
  readonly backend: TrainerBackend | 'auto';
  /** Where swarm.json and report.html go (created). */
  readonly outDir: string;
  /** A built app to serve; omitted → a fresh `vite build` into a temporary directory. */
  readonly appDir?: string;
  /** Devnet port; 0 or omitted picks a free one. */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

export interface SwarmResult {
  readonly report: SwarmReport;
  readonly jsonPath: string;
  readonly htmlPath: string;
}

/** The swarm could not run to the end (a peer never started, the validator stalled). */
export class SwarmRunError extends GauntletError {
  readonly code: string = 'swarm-run';
  override readonly name = 'SwarmRunError';
}

const VALIDATOR_URI = '//Alice';
/** The subnet owner, who holds the run's burn uid (1) from the devnet's start, as in `npm start`. */
const OWNER_URI = '//Owner';

/**
 * The swarm's run config, shared by the validator and the browser peers (passed to their workers
 * through the page hook): the tiny preset with these changes, none of which touches a formula:
 * - `runId` 'tiny-swarm': its submissions and saved tab state never mix with a tiny-devnet run;
 * - windows of 15 one-second blocks with a 4 s put window (tiny: 5 blocks, 3 s): on a loaded
 *   2-core machine one window of a wasm peer (train, compress, upload, wait for the put window to
 *   close, gather, outer step, save) takes ≈ 10 s with several browsers sharing the cores, and a
 *   peer that overruns a window skips the next one;
 * - `data.poolSequences` = H·batch (16): the whole assigned pool is trained, so the own-data check
 *   samples trained sequences (the data-lazy test of §7.2), as in the Node simulation;
 * - `scoring.uidsPerWindow` = every peer: each peer is evaluated every window, so OpenSkill and B
 *   separate peers within a few windows instead of the ≈ 30 that sampling 3 needs (Templar samples
 *   because evaluation is a validator's main cost; for ≤ 8 tiny peers it is not);
 * - `scoring.gatherPeers` ≥ peers: the gather list and the paid ranks hold every peer, so no honest
 *   peer is left out of the aggregation or the weights by the list size alone;
 * - `scoring.evalSequences` 16 (four batches): less noise per evaluation, as in the simulation;
 * - `scoring.overlapGraceSteps` 5: copy detection starts after 5 outer steps (v2.1.3: 20), as in
 *   the simulation; before that, honest peers starting from one θ share many top-k indices.
 */
export function swarmRunConfig(peers: number): { config: RunConfig; overrides: Record<string, unknown> } {
  const base = tinyRunConfig();
  const window = { ...base.window, blocksPerWindow: 15, putWindowMs: 4000 };
  const data = { ...base.data, poolSequences: base.inner.innerSteps * base.inner.batchSize };
  const scoring = {
    uidsPerWindow: peers,
    gatherPeers: Math.max(base.scoring.gatherPeers, peers),
    evalSequences: 16,
    overlapGraceSteps: 5,
  } satisfies Partial<ScoringConfig>;
  const config = validateRunConfig({ ...base, runId: 'tiny-swarm', window, data, scoring: { ...base.scoring, ...scoring } });
  return {
    config,
    overrides: { runId: config.runId, 'window.blocksPerWindow': window.blocksPerWindow, 'window.putWindowMs': window.putWindowMs, 'data.poolSequences': data.poolSequences, ...Object.fromEntries(Object.entries(scoring).map(([k, v]) => [`scoring.${k}`, v])) },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface PagePeer {
  readonly plan: SwarmPeerPlan;
  readonly page: Page;
  readonly hotkey: string;
  readonly uid: number;
}

/** Opens the Contribute view in a fresh context, picks the peer's devnet key and registers it (once). */
async function joinPeer(browser: Browser, devnetUrl: string, plan: SwarmPeerPlan, onEvent: (event: TimedPeerEvent) => void): Promise<PagePeer> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(180_000);
  let uid = -1;
  await page.exposeFunction('__gauntletSwarmEvent', (atMs: number, event: PeerEvent) => onEvent({ uid, atMs, event }));
  await page.goto(`${devnetUrl}/#/contribute`);
  await page.waitForFunction(() => window.gauntlet?.ui !== undefined);
  const joined = await page.evaluate(async (uri) => {
    const { session } = window.gauntlet!.ui.contribute();
    const hotkey = await session.useDevelopmentKey(uri);
    const known = await session.selectAccount(hotkey);
    return { hotkey, uid: known ?? (await session.register()) };
  }, plan.uri);
  uid = joined.uid;
  return { plan, page, hotkey: joined.hotkey, uid };
}

/** Starts the miner loop in the peer's worker (with its behaviour, if it cheats); resolves once θ is synced and the loop runs. */
async function startPeer(peer: PagePeer, backend: TrainerBackend | 'auto', headless: Pick<PeerStartOptions, 'adversary' | 'runConfig'>): Promise<void> {
  await peer.page.evaluate(async ({ backend, headless }) => {
    const { session } = window.gauntlet!.ui.contribute();
    const forward = (window as unknown as { __gauntletSwarmEvent: (atMs: number, event: unknown) => Promise<void> }).__gauntletSwarmEvent;
    session.onPeerEvent((event) => void forward(Date.now(), event));
    await session.start(backend, headless);
  }, { backend, headless });
}


function summarise(report: ValidatorWindowReport, loss: number): Omit<SwarmValidatorWindow, 'trainedTokens'> {
  const lossScores: Record<string, number> = {};
  const before = report.inputs.lossRandomBefore;
  for (const [uid, outcome] of Object.entries(report.inputs.evaluations)) {
    if (outcome.status === 'ok' && before !== null) lossScores[uid] = lossScore(before, outcome.lossRandomAfter);
  }
  return {
    window: report.window,
    gathered: report.inputs.gather?.gatheredUids ?? [],
    evaluated: report.inputs.evalUids,
    outerStepApplied: report.outerStepApplied,
    lossScores,
    weights: report.result.weights,
    evaluationLoss: loss,
  };
}

/** Runs the whole swarm and writes `swarm.json` and `report.html` into `options.outDir`. */
export async function runSwarm(options: SwarmOptions): Promise<SwarmResult> {
  const log = options.log ?? ((): void => undefined);
  const plan = planPeers(options.peers, options.adversaries);
  if (!Number.isInteger(options.windows) || options.windows < 1) throw new SwarmRunError(`windows must be a whole number ≥ 1, got ${options.windows}.`);
  const startedAt = new Date().toISOString();
  const { config, overrides } = swarmRunConfig(plan.length);
  const layout = parameterLayout(config.model);
  const windowMs = config.window.blocksPerWindow * config.window.blockTimeMs;

  ort.env.wasm.numThreads = 1;
  ensureShards();
  const { tokens } = loadAllTokens();
  const scratch = mkdtempSync(join(tmpdir(), 'gauntlet-swarm-'));
  const cleanups: (() => Promise<unknown>)[] = [() => Promise.resolve(rmSync(scratch, { recursive: true, force: true }))];
  try {
    let appDir = options.appDir;
    if (appDir === undefined) {
      log('building the app…');
      appDir = join(scratch, 'app');
      buildApp(appDir);
    }
    const signer = await KeyringSigner.fromUris([VALIDATOR_URI, OWNER_URI]);
    const [validatorAccount, ownerAccount] = await signer.accounts();
    const devnet = await startDevnet({
      dir: join(scratch, 'state'), appDir, blockTimeMs: config.window.blockTimeMs, port: options.port ?? 0, maxRegistrationsPerInterval: 256,
      subnetOwners: [{ netuid: config.netuid, hotkey: ownerAccount!.address, uid: config.scoring.burnUid }],
      // The owner names the swarm's validator as the run's: the browser peers follow only it (issue #14);
      // the devnet publishes the swarm's run (its netuid and windows gate early reads of uploads), as `npm start` does.
      runValidators: [validatorAccount!.address], run: createRunDocument(config),
    });
    cleanups.unshift(() => devnet.close());
    log(`devnet at ${devnet.url}`);

    // The engine first: its long start-up would otherwise leave the registration's keep-alive
    // connection idle until the devnet closes it, and the validator's first poll would fail on it.
    const engine = new WasmTrainerEngine(ort);
    cleanups.unshift(() => engine.dispose());
    const info = await engine.init(config);
    const evaluation = evaluationBatches(config, tokens);
    const initialEvaluationLoss = await evaluationLoss(engine, evaluation);

    const chain = new DevnetChain(devnet.url, signer, WebSocket as unknown as WebSocketConstructor);
    cleanups.unshift(() => chain.close());
    await chain.register(validatorAccount!.address, config.netuid);
    const storage = new DevnetStorage(devnet.url, signer, validatorAccount!.address, config.window.maxSubmissionBytes * 4);
    const validatorEvents: WindowEvent[] = [];
    const validator = new Validator({
      config, layout, engine, storage, chain, tokens, signer,
      hotkey: validatorAccount!.address,
      persistence: new MemoryPersistence(),
      onEvent: (event) => validatorEvents.push(event),
    });

    // The validator runs from before the peers join, so its θ sees every outer step they apply.
    const summaries: Omit<SwarmValidatorWindow, 'trainedTokens'>[] = [];
    let measured: { first: number; last: number } | null = null;
    let finalState: ValidatorScoringState | null = null;
    let finalWeights: Readonly<Record<string, number>> = {};
    let stopValidator = false;
    let validatorFailure: unknown = null;
    const validatorLoop = runValidatorSchedule({
      config, chain, validator, firstWindow: null, maxWindows: Number.POSITIVE_INFINITY,
      stop: () => stopValidator,
      onScored: async (report) => {
        const summary = summarise(report, await evaluationLoss(engine, evaluation));
        summaries.push(summary);
        log(`validator window ${report.window}: gathered [${summary.gathered.join(', ')}], evaluated [${summary.evaluated.join(', ')}], eval loss ${summary.evaluationLoss.toFixed(4)}, weights ${JSON.stringify(report.result.weights)}`);
        if (measured !== null && report.window >= measured.last) {
          finalState = report.result.state;
          finalWeights = report.result.weights;
          stopValidator = true;
        }
      },
      onSkipped: (window, error) => log(`validator window ${window} skipped: ${error.message}`),
      onPollFailed: (error) => log(`validator: reading the head failed (${error.message}); polling again`),
    }).catch((error: unknown) => {
      validatorFailure = error;
      stopValidator = true;
    });
    cleanups.unshift(async () => {
      stopValidator = true;
      await validatorLoop;
    });

    const browser = await launchChromium();
    cleanups.unshift(() => browser.close());
    const peerEvents: TimedPeerEvent[] = [];
    const backends = new Map<number, string>();
    const stopped: string[] = [];
    const onEvent = (timed: TimedPeerEvent): void => {
      peerEvents.push(timed);
      if (timed.event.kind === 'peer-engine') backends.set(timed.uid, timed.event.backend);
      if (timed.event.kind === 'peer-stopped') stopped.push(`uid ${timed.uid}: ${timed.event.message}`);
    };
    // Registered one by one, honest peers first, so uids follow the plan and a copier's victim exists.
    const pagePeers: PagePeer[] = [];
    for (const p of plan) {
      const peer = await joinPeer(browser, devnet.url, p, onEvent);
      pagePeers.push(peer);
      log(`peer ${p.index}: uid ${peer.uid}, ${p.behaviour}, hotkey ${peer.hotkey}`);
    }
    const victim = pagePeers.find((p) => p.plan.behaviour === 'honest')!.uid;

    // All loops start together just after a window opens, so every peer syncs from the same θ
    // before anyone's first outer step (a peer that synced later would miss an aggregate).
    const startWindow = windowOfBlock((await chain.currentBlock()).number, config.window.blocksPerWindow);
    while (windowOfBlock((await chain.currentBlock()).number, config.window.blocksPerWindow) === startWindow) await sleep(config.window.blockTimeMs / 4);
    await Promise.all(pagePeers.map((p) =>
      startPeer(p, options.backend, {
        runConfig: config,
        ...(p.plan.behaviour === 'honest' ? {} : { adversary: { behaviour: p.plan.behaviour, ...(p.plan.behaviour === 'copier' ? { copyFrom: victim } : {}) } }),
      }),
    ));
    const first = windowOfBlock((await chain.currentBlock()).number, config.window.blocksPerWindow) + 1;
    measured = { first, last: first + options.windows - 1 };
    log(`all ${pagePeers.length} peers run; judging windows ${measured.first}–${measured.last}`);

    // Generous: the validator may lag a window or two behind the chain on a loaded machine.
    const deadline = Date.now() + (options.windows + 12) * windowMs * 3;
    while (!stopValidator) {
      if (Date.now() > deadline) throw new SwarmRunError(`The validator had not scored window ${measured.last} by the deadline (last scored: ${summaries.at(-1)?.window ?? 'none'}).`);
      if (stopped.length === pagePeers.length) throw new SwarmRunError(`Every peer's loop stopped: ${stopped.join('; ')}`);
      await sleep(500);
    }
    await validatorLoop;
    if (validatorFailure !== null) throw validatorFailure instanceof Error ? validatorFailure : new SwarmRunError(`The validator loop failed: ${JSON.stringify(validatorFailure)}`);
    if (stopped.length > 0) log(`peer loops that stopped early: ${stopped.join('; ')}`);
    await Promise.all(pagePeers.map((p) => p.page.evaluate(() => window.gauntlet!.ui.contribute().session.stop()).catch(() => undefined)));

    const baseline = await swarmBaseline({ config, tokens, evaluation, pagePeers, victim, peerEvents, summaries, lastWindow: measured.last, log });

    const measuredWindows = Array.from({ length: options.windows }, (_, i) => measured.first + i);
    return writeSwarmReport(options, {
      startedAt, config, overrides, parameterCount: info.parameterCount, pagePeers, backends, measuredWindows, summaries, initialEvaluationLoss,
      peerEvents, validatorEvents, finalState: finalState ?? validator.scoringState, finalWeights, baseline,
    });
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => log(`cleanup: ${errorMessage(error)}`));
  }
}

/**
 * The swarm's baseline, data-parallel AdamW (`trainDataParallelBaseline`, issue #19) on the batches
 * the training peers were assigned, from the first scored window a peer trained in through the last
 * judged one; per window only the peers that really trained in it (a peer that overran a window skips
 * one): equal tokens and equal optimiser steps, not an assumption.
 */
async function swarmBaseline(run: {
  readonly config: RunConfig;
  readonly tokens: Uint8Array;
  readonly evaluation: ReturnType<typeof evaluationBatches>;
  readonly pagePeers: readonly PagePeer[];
  readonly victim: number;
  readonly peerEvents: readonly TimedPeerEvent[];
  readonly summaries: readonly Omit<SwarmValidatorWindow, 'trainedTokens'>[];
  readonly lastWindow: number;
  readonly log: (line: string) => void;
}): Promise<BaselineObservation | null> {
  const { config, tokens, evaluation, peerEvents } = run;
  const trainedWindows = new Set(peerEvents.flatMap((e) => (e.event.kind === 'miner-trained' ? [e.event.window] : [])));
  const scoredTrained = run.summaries.filter((s) => trainedWindows.has(s.window));
  if (scoredTrained.length === 0) return null;
  const trainingUidOf = new Map(run.pagePeers.map((p) => ({ p, behaviour: behaviourByName(p.plan.behaviour, run.victim) })).filter(({ behaviour }) => behaviour.trains).map(({ p, behaviour }) => [p.uid, behaviour.trainingUid(p.uid)] as const));
  const trainers = [...trainingUidOf.values()];
  const trainersAt = (window: number): number[] =>
    [...new Set(peerEvents.flatMap((e) => (e.event.kind === 'miner-trained' && e.event.window === window && trainingUidOf.has(e.event.uid) ? [trainingUidOf.get(e.event.uid)!] : [])))].sort((a, b) => a - b);
  const firstTrained = scoredTrained[0]!.window;
  run.log(`data-parallel AdamW baseline: the batches of uids [${trainers.join(', ')}], windows ${firstTrained}–${run.lastWindow}`);
  const result = await trainDataParallelBaseline({
    config, tokens, minerUids: trainers, trainersAt, firstWindow: firstTrained, windows: run.lastWindow - firstTrained + 1, evaluation,
    createEngine: async (baselineConfig, params, optimizerState) => {
      const engine = new WasmTrainerEngine(ort);
      await engine.init(baselineConfig, params, optimizerState === undefined ? {} : { optimizerState });
      return engine;
    },
  });
  return { initialEvaluationLoss: result.initialEvaluationLoss, windows: result.windows, trainedEvaluationSequences: result.trainedEvaluationSequences, minerUids: trainers };
}

/** Builds the swarm's report and writes `swarm.json` (with every event) and `report.html` into `options.outDir`. */
function writeSwarmReport(options: SwarmOptions, run: {
  readonly startedAt: string;
  readonly config: RunConfig;
  readonly overrides: Record<string, unknown>;
  readonly parameterCount: number;
  readonly pagePeers: readonly PagePeer[];
  readonly backends: ReadonlyMap<number, string>;
  readonly measuredWindows: readonly number[];
  readonly summaries: readonly Omit<SwarmValidatorWindow, 'trainedTokens'>[];
  readonly initialEvaluationLoss: number;
  readonly peerEvents: readonly TimedPeerEvent[];
  readonly validatorEvents: readonly WindowEvent[];
  readonly finalState: ValidatorScoringState;
  readonly finalWeights: Readonly<Record<string, number>>;
  readonly baseline: BaselineObservation | null;
}): SwarmResult {
  const { config, peerEvents } = run;
  const tokensPerStep = config.inner.batchSize * config.model.seqLen;
  const trainedTokens = (window: number): number =>
    peerEvents.reduce((a, e) => a + (e.event.kind === 'miner-trained' && e.event.window === window ? e.event.steps * tokensPerStep : 0), 0);
  const peers: SwarmPeer[] = run.pagePeers.map((p) => ({ uid: p.uid, hotkey: p.hotkey, behaviour: p.plan.behaviour, backend: run.backends.get(p.uid) ?? null }));
  const report = buildSwarmReport({
    startedAt: run.startedAt,
    finishedAt: new Date().toISOString(),
    options: { peers: options.peers, adversaries: options.adversaries, windows: options.windows, backend: options.backend },
    config,
    configOverrides: run.overrides,
    parameterCount: run.parameterCount,
    peers,
    measuredWindows: [...run.measuredWindows],
    validatorWindows: run.summaries.map((s) => ({ ...s, trainedTokens: trainedTokens(s.window) })),
    initialEvaluationLoss: run.initialEvaluationLoss,
    peerEvents: [...peerEvents],
    finalState: run.finalState,
    finalWeights: run.finalWeights,
    baseline: run.baseline,
  });
  mkdirSync(options.outDir, { recursive: true });
  const jsonPath = join(options.outDir, 'swarm.json');
  const htmlPath = join(options.outDir, 'report.html');
  writeFileSync(jsonPath, JSON.stringify({ ...report, peerEvents, validatorEvents: run.validatorEvents }, null, 1));
  writeFileSync(htmlPath, renderSwarmHtml(report));
  return { report, jsonPath, htmlPath };
}
