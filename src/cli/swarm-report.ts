/**
 * The `npm run swarm` report: what the run observed (the browser peers' typed events with the time
 * each reached its page, the validator's windows and final scoring state, the loss of the
 * validator's θ and of the data-parallel AdamW baseline) turned into `swarm.json`, a self-contained
 * `report.html` (inline SVG drawn here, no scripts, no network) and a short text summary.
 * Every number comes from the run; nothing here invents or smooths a value.
 */
import type { RunConfig } from '../core/config.ts';
import { ordinal } from '../core/scoring/index.ts';
import type { ValidatorScoringState } from '../core/scoring/types.ts';
import type { BehaviourName } from '../peer/behaviours.ts';
import type { PeerEvent } from '../peer/events.ts';
import { barChart, escapeHtml, lineChart, stackedBarChart, type ChartSeries } from './svg-charts.ts';

/** A browser peer's event and when its page received it (ms since the epoch, the page's clock). */
export interface TimedPeerEvent {
  readonly uid: number;
  readonly atMs: number;
  readonly event: PeerEvent;
}

export interface SwarmPeer {
  readonly uid: number;
  readonly hotkey: string;
  readonly behaviour: BehaviourName;
  /** The engine backend the peer's worker reported, or null if it never reported one. */
  readonly backend: string | null;
}

/** What the validator did in one window, without the bulky scoring inputs. */
export interface SwarmValidatorWindow {
  readonly window: number;
  readonly gathered: readonly number[];
  readonly evaluated: readonly number[];
  readonly outerStepApplied: boolean;
  /** LossScore per evaluated uid with an 'ok' evaluation. */
  readonly lossScores: Readonly<Record<string, number>>;
  readonly weights: Readonly<Record<string, number>>;
  /** Mean token loss of the validator's θ after this window on the shared evaluation set. */
  readonly evaluationLoss: number;
  /** Tokens the peers reported training in this window (Σ steps × batch × seqLen over `miner-trained`). */
  readonly trainedTokens: number;
}

export interface BaselineObservation {
  readonly initialEvaluationLoss: number;
  readonly windows: readonly { readonly window: number; readonly cumulativeTokens: number; readonly evaluationLoss: number }[];
  readonly trainedEvaluationSequences: number;
  /** Uids whose assigned batches the baseline trained on. */
  readonly minerUids: readonly number[];
}

/** Everything `npm run swarm` measured, as the report's input. */
export interface SwarmObservations {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly options: { readonly peers: number; readonly adversaries: readonly (readonly [BehaviourName, number])[]; readonly windows: number; readonly backend: string };
  readonly config: RunConfig;
  readonly configOverrides: Readonly<Record<string, unknown>>;
  readonly parameterCount: number;
  readonly peers: readonly SwarmPeer[];
  /** The windows the report judges (all peers running), in order. */
  readonly measuredWindows: readonly number[];
  /** Every window the validator scored, measured or not (θ changes in all of them). */
  readonly validatorWindows: readonly SwarmValidatorWindow[];
  /** Loss of the validator's θ before any window it scored. */
  readonly initialEvaluationLoss: number;
  readonly peerEvents: readonly TimedPeerEvent[];
  readonly finalState: ValidatorScoringState;
  readonly finalWeights: Readonly<Record<string, number>>;
  readonly baseline: BaselineObservation | null;
}

export const PHASES = ['train', 'compress', 'sign', 'upload', 'gather', 'outer-step'] as const;
export type PhaseName = (typeof PHASES)[number];

export interface LeaderboardRow {
  readonly rank: number;
  readonly uid: number;
  readonly behaviour: BehaviourName;
  readonly label: 'honest' | 'adversary';
  readonly weight: number;
  readonly finalScore: number;
  readonly mu: number | null;
  readonly sigma: number | null;
  readonly ordinal: number;
  readonly binaryMovingAverage: number;
  readonly syncScore: number;
  readonly lastLossScore: number;
  /** Windows (of the measured ones) in which the validator evaluated this uid. */
  readonly evaluations: number;
}

export interface SwarmReport {
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: SwarmObservations['options'];
  readonly run: {
    readonly runId: string;
    readonly preset: string;
    readonly parameterCount: number;
    readonly configOverrides: Readonly<Record<string, unknown>>;
    readonly measuredWindows: readonly number[];
  };
  readonly peers: readonly (SwarmPeer & { readonly label: 'honest' | 'adversary'; readonly uploadedWindows: number })[];
  readonly loss: {
    readonly initial: number;
    readonly points: readonly {
      readonly window: number;
      readonly distributedTokens: number;
      readonly distributed: number;
      /** The baseline's tokens and loss: data-parallel AdamW since issue #19 (small-batch AdamW before; the field names are swarm.json's). */
      readonly centralisedTokens: number | null;
      readonly centralised: number | null;
    }[];
    readonly baselineMinerUids: readonly number[];
    readonly trainedEvaluationSequences: number | null;
  };
  readonly leaderboard: readonly LeaderboardRow[];
  readonly detection: {
    readonly everyAdversaryBelowEveryHonest: boolean;
    /** (adversary, honest) pairs where the adversary does not rank strictly below. */
    readonly violations: readonly { readonly adversary: number; readonly honest: number }[];
    readonly statement: string;
  };
  readonly wire: {
    readonly denseBytes: number;
    readonly windows: readonly { readonly window: number; readonly submissions: number; readonly meanBytes: number; readonly minBytes: number; readonly maxBytes: number; readonly compressionRatio: number }[];
    readonly meanBytes: number | null;
    readonly compressionRatio: number | null;
  };
  readonly phases: {
    /** Per window, the mean over peers of each phase in ms (null: no peer went through it). */
    readonly windows: readonly { readonly window: number; readonly meanMs: Readonly<Record<PhaseName, number | null>> }[];
    readonly meanMs: Readonly<Record<PhaseName, number | null>>;
  };
  readonly validator: readonly SwarmValidatorWindow[];
}

const labelOf = (behaviour: BehaviourName): 'honest' | 'adversary' => (behaviour === 'honest' ? 'honest' : 'adversary');

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The first time each (uid, window, event kind[/stage]) reached the page. */
function firstArrivals(events: readonly TimedPeerEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { uid, atMs, event } of events) {
    if (!('window' in event)) continue;
    const kind = event.kind === 'peer-stage-start' ? `${event.kind}:${event.stage}` : event.kind;
    const key = `${uid}/${event.window}/${kind}`;
    if (!out.has(key)) out.set(key, atMs);
  }
  return out;
}

/**
 * Phase durations of one peer's window from consecutive typed events (the idle waits for the put
 * window to open and close are not phases): train = assignment → trained; compress = trained (or
 * assignment, for a peer that trains nothing) → compressed; sign = upload start → signed; upload =
 * signed → uploaded; gather = gather start → gathered; outer step = gathered → outer step applied.
 */
export function phaseDurations(events: readonly TimedPeerEvent[], uid: number, window: number, arrivals = firstArrivals(events)): Record<PhaseName, number | null> {
  const at = (kind: string): number | undefined => arrivals.get(`${uid}/${window}/${kind}`);
  const span = (from: number | undefined, to: number | undefined): number | null => (from === undefined || to === undefined || to < from ? null : to - from);
  return {
    train: span(at('miner-assignment'), at('miner-trained')),
    compress: span(at('miner-trained') ?? at('miner-assignment'), at('miner-compressed')),
    sign: span(at('peer-stage-start:upload'), at('miner-signed')),
    upload: span(at('miner-signed'), at('miner-uploaded')),
    gather: span(at('peer-stage-start:gather'), at('miner-gathered')),
    'outer-step': span(at('miner-gathered'), at('miner-outer-step')),
  };
}

function phaseReport(obs: SwarmObservations): SwarmReport['phases'] {
  const arrivals = firstArrivals(obs.peerEvents);
  const all: Record<PhaseName, number[]> = { train: [], compress: [], sign: [], upload: [], gather: [], 'outer-step': [] };
  const windows = obs.measuredWindows.map((window) => {
    const perPhase: Record<PhaseName, number[]> = { train: [], compress: [], sign: [], upload: [], gather: [], 'outer-step': [] };
    for (const peer of obs.peers) {
      const durations = phaseDurations(obs.peerEvents, peer.uid, window, arrivals);
      for (const phase of PHASES) {
        const ms = durations[phase];
        if (ms === null) continue;
        perPhase[phase].push(ms);
        all[phase].push(ms);
      }
    }
    return { window, meanMs: Object.fromEntries(PHASES.map((p) => [p, mean(perPhase[p])])) as Record<PhaseName, number | null> };
  });
  return { windows, meanMs: Object.fromEntries(PHASES.map((p) => [p, mean(all[p])])) as Record<PhaseName, number | null> };
}

function wireReport(obs: SwarmObservations): SwarmReport['wire'] {
  const denseBytes = obs.parameterCount * 4;
  const measured = new Set(obs.measuredWindows);
  const byWindow = new Map<number, number[]>();
  for (const { event } of obs.peerEvents) {
    if (event.kind !== 'miner-compressed' || !measured.has(event.window)) continue;
    const list = byWindow.get(event.window) ?? [];
    list.push(event.bytes);
    byWindow.set(event.window, list);
  }
  const windows = obs.measuredWindows.flatMap((window) => {
    const sizes = byWindow.get(window) ?? [];
    if (sizes.length === 0) return [];
    const meanBytes = mean(sizes)!;
    return [{ window, submissions: sizes.length, meanBytes, minBytes: Math.min(...sizes), maxBytes: Math.max(...sizes), compressionRatio: denseBytes / meanBytes }];
  });
  const allSizes = [...byWindow.values()].flat();
  const meanBytes = mean(allSizes);
  return { denseBytes, windows, meanBytes, compressionRatio: meanBytes === null ? null : denseBytes / meanBytes };
}

function leaderboard(obs: SwarmObservations): LeaderboardRow[] {
  const measured = new Set(obs.measuredWindows);
  const rows = obs.peers.map((peer) => {
    const state = obs.finalState.peers[String(peer.uid)];
    return {
      uid: peer.uid,
      behaviour: peer.behaviour,
      label: labelOf(peer.behaviour),
      weight: obs.finalWeights[String(peer.uid)] ?? 0,
      finalScore: state?.finalScore ?? 0,
      mu: state?.rating?.mu ?? null,
      sigma: state?.rating?.sigma ?? null,
      ordinal: ordinal(state?.rating ?? null),
      binaryMovingAverage: state?.binaryMovingAverage ?? 0,
      syncScore: state?.syncScore ?? 0,
      lastLossScore: state?.gradientScore ?? 0,
      evaluations: obs.validatorWindows.filter((w) => measured.has(w.window) && w.evaluated.includes(peer.uid)).length,
    };
  });
  rows.sort(compareStanding);
  return rows.map((row, i) => ({ rank: i + 1, ...row }));
}

/** Higher weight ranks first; equal weights are ordered by final score, then uid. */
function compareStanding(a: { weight: number; finalScore: number; uid: number }, b: { weight: number; finalScore: number; uid: number }): number {
  return b.weight - a.weight || b.finalScore - a.finalScore || a.uid - b.uid;
}

/** Strictly below: a lower weight, or the same weight and a lower final score. */
function ranksBelow(a: LeaderboardRow, b: LeaderboardRow): boolean {
  return a.weight < b.weight || (a.weight === b.weight && a.finalScore < b.finalScore);
}

function detectionReport(rows: readonly LeaderboardRow[]): SwarmReport['detection'] {
  const adversaries = rows.filter((r) => r.label === 'adversary');
  const honest = rows.filter((r) => r.label === 'honest');
  const violations = adversaries.flatMap((a) => honest.filter((h) => !ranksBelow(a, h)).map((h) => ({ adversary: a.uid, honest: h.uid })));
  const ok = violations.length === 0;
  let statement: string;
  if (adversaries.length === 0) statement = 'No adversaries in this run: nothing to detect.';
  else if (ok) statement = `Yes: every adversary (${adversaries.map((a) => `uid ${a.uid} ${a.behaviour}`).join(', ')}) ranks below every honest peer (lower weight, or equal weight and lower final score).`;
  else statement = `No: ${violations.map((v) => `adversary uid ${v.adversary} does not rank below honest uid ${v.honest}`).join('; ')}.`;
  return { everyAdversaryBelowEveryHonest: adversaries.length > 0 && ok, violations, statement };
}

function lossReport(obs: SwarmObservations): SwarmReport['loss'] {
  const baselineByWindow = new Map((obs.baseline?.windows ?? []).map((w) => [w.window, w]));
  let tokens = 0;
  const points = obs.validatorWindows.flatMap((w) => {
    tokens += w.trainedTokens;
    // Before the first outer step θ has not moved: the curve starts where training does.
    if (tokens === 0) return [];
    const base = baselineByWindow.get(w.window);
    return [{ window: w.window, distributedTokens: tokens, distributed: w.evaluationLoss, centralisedTokens: base?.cumulativeTokens ?? null, centralised: base?.evaluationLoss ?? null }];
  });
  return {
    initial: obs.initialEvaluationLoss,
    points,
    baselineMinerUids: obs.baseline?.minerUids ?? [],
    trainedEvaluationSequences: obs.baseline?.trainedEvaluationSequences ?? null,
  };
}

export function buildSwarmReport(obs: SwarmObservations): SwarmReport {
  const rows = leaderboard(obs);
  const measured = new Set(obs.measuredWindows);
  return {
    version: 1,
    startedAt: obs.startedAt,
    finishedAt: obs.finishedAt,
    command: obs.options,
    run: { runId: obs.config.runId, preset: obs.config.preset, parameterCount: obs.parameterCount, configOverrides: obs.configOverrides, measuredWindows: obs.measuredWindows },
    peers: obs.peers.map((peer) => ({
      ...peer,
      label: labelOf(peer.behaviour),
      uploadedWindows: obs.peerEvents.filter((e) => e.uid === peer.uid && e.event.kind === 'miner-uploaded' && measured.has(e.event.window)).length,
    })),
    loss: lossReport(obs),
    leaderboard: rows,
    detection: detectionReport(rows),
    wire: wireReport(obs),
    phases: phaseReport(obs),
    validator: obs.validatorWindows,
  };
}

// ---------------------------------------------------------------------------------------------
// Text and HTML
// ---------------------------------------------------------------------------------------------

const fixed = (v: number | null, digits = 4): string => (v === null ? '—' : v.toFixed(digits));

/** The few lines `npm run swarm` prints at the end. */
export function textSummary(report: SwarmReport): string {
  const last = report.loss.points.at(-1);
  const lines = [
    `swarm: ${report.command.peers} browser peers (${report.peers.filter((p) => p.label === 'adversary').map((p) => p.behaviour).join(', ') || 'no adversaries'}), ` +
      `windows ${report.run.measuredWindows[0] ?? '—'}–${report.run.measuredWindows.at(-1) ?? '—'}, backend ${report.command.backend}`,
    last === undefined
      ? 'loss: no outer step was applied'
      : `loss after window ${last.window}: distributed ${fixed(last.distributed)} (${last.distributedTokens} tokens), data-parallel AdamW ${fixed(last.centralised)} (${last.centralisedTokens ?? '—'} tokens), initial ${fixed(report.loss.initial)}`,
    'uid  behaviour    weight    final  ordinal       B   sync  evals',
    ...report.leaderboard.map((r) =>
      [String(r.uid).padStart(3), r.behaviour.padEnd(10), fixed(r.weight).padStart(8), fixed(r.finalScore).padStart(8), fixed(r.ordinal, 2).padStart(8), fixed(r.binaryMovingAverage, 3).padStart(7), fixed(r.syncScore, 2).padStart(6), String(r.evaluations).padStart(6)].join('  '),
    ),
    `detection: ${report.detection.statement}`,
    `wire: mean submission ${report.wire.meanBytes === null ? '—' : Math.round(report.wire.meanBytes)} bytes of ${report.wire.denseBytes} dense (×${fixed(report.wire.compressionRatio, 1)})`,
    `phases (mean ms): ${PHASES.map((p) => `${p} ${report.phases.meanMs[p] === null ? '—' : Math.round(report.phases.meanMs[p])}`).join(', ')}`,
  ];
  return lines.join('\n');
}

const HONEST_COLOUR = '#2b6cb0';
const ADVERSARY_COLOUR = '#c53030';
const PHASE_COLOURS: Record<PhaseName, string> = { train: '#2b6cb0', compress: '#2f855a', sign: '#b7791f', upload: '#805ad5', gather: '#dd6b20', 'outer-step': '#4a5568' };

function table(headers: readonly string[], rows: readonly (readonly string[])[], rowClasses: readonly string[] = []): string {
  const head = `<tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r, i) => `<tr${rowClasses[i] ? ` class="${rowClasses[i]}"` : ''}>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** The self-contained HTML page: inline CSS and SVG, no script, nothing fetched. */
export function renderSwarmHtml(report: SwarmReport): string {
  const lossSeries: ChartSeries[] = [
    { name: 'distributed (validator θ)', colour: HONEST_COLOUR, points: [[0, report.loss.initial], ...report.loss.points.map((p): [number, number] => [p.distributedTokens, p.distributed])] },
  ];
  const central = report.loss.points.filter((p) => p.centralised !== null && p.centralisedTokens !== null);
  if (central.length > 0) lossSeries.push({ name: 'data-parallel AdamW', colour: '#dd6b20', points: [[0, report.loss.initial], ...central.map((p): [number, number] => [p.centralisedTokens!, p.centralised!])] });
  const lossChart = lineChart({ title: 'Evaluation loss against tokens trained', xLabel: 'tokens trained', yLabel: 'mean token loss (nats)', series: lossSeries });

  const colourOf = (label: 'honest' | 'adversary'): string => (label === 'honest' ? HONEST_COLOUR : ADVERSARY_COLOUR);
  const weightChart = barChart({
    title: 'Final weight per uid',
    yLabel: 'weight',
    bars: report.leaderboard.map((r) => ({ label: `uid ${r.uid} ${r.behaviour}`, value: r.weight, colour: colourOf(r.label) })),
  });
  const scoreChart = barChart({
    title: 'Final score per uid (ordinal × max(0, B) × sync)',
    yLabel: 'final score',
    bars: report.leaderboard.map((r) => ({ label: `uid ${r.uid} ${r.behaviour}`, value: r.finalScore, colour: colourOf(r.label) })),
  });
  const bytesChart = barChart({
    title: `Mean submission size per window (dense θ: ${report.wire.denseBytes} bytes)`,
    yLabel: 'bytes',
    bars: report.wire.windows.map((w) => ({ label: `w${w.window}`, value: w.meanBytes, colour: HONEST_COLOUR })),
  });
  const phaseChart = stackedBarChart({
    title: 'Time per window phase (mean over peers)',
    yLabel: 'ms',
    categories: report.phases.windows.map((w) => `w${w.window}`),
    stacks: PHASES.map((p) => ({ name: p, colour: PHASE_COLOURS[p], values: report.phases.windows.map((w) => w.meanMs[p] ?? 0) })),
  });

  const lossTable = table(
    ['window', 'distributed tokens', 'distributed loss', 'data-parallel AdamW tokens', 'data-parallel AdamW loss'],
    report.loss.points.map((p) => [String(p.window), String(p.distributedTokens), fixed(p.distributed), p.centralisedTokens === null ? '—' : String(p.centralisedTokens), fixed(p.centralised)]),
  );
  const board = table(
    ['rank', 'uid', 'behaviour', 'label', 'weight', 'final score', 'μ', 'σ', 'ordinal', 'B', 'sync', 'last LossScore', 'evaluations'],
    report.leaderboard.map((r) => [String(r.rank), String(r.uid), r.behaviour, r.label, fixed(r.weight), fixed(r.finalScore), fixed(r.mu, 2), fixed(r.sigma, 2), fixed(r.ordinal, 2), fixed(r.binaryMovingAverage, 3), fixed(r.syncScore, 3), r.lastLossScore.toExponential(2), String(r.evaluations)]),
    report.leaderboard.map((r) => r.label),
  );
  const wireTable = table(
    ['window', 'submissions', 'mean bytes', 'min', 'max', 'compression ×'],
    report.wire.windows.map((w) => [String(w.window), String(w.submissions), String(Math.round(w.meanBytes)), String(w.minBytes), String(w.maxBytes), w.compressionRatio.toFixed(1)]),
  );
  const phaseTable = table(
    ['window', ...PHASES],
    [...report.phases.windows.map((w) => [`w${w.window}`, ...PHASES.map((p) => (w.meanMs[p] === null ? '—' : String(Math.round(w.meanMs[p]))))]), ['mean', ...PHASES.map((p) => (report.phases.meanMs[p] === null ? '—' : String(Math.round(report.phases.meanMs[p]))))]],
  );
  const detectionClass = report.detection.everyAdversaryBelowEveryHonest ? 'ok' : 'bad';
  const overrides = Object.entries(report.run.configOverrides).map(([k, v]) => `${k} = ${String(v)}`).join(', ');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Gauntlet swarm report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;color:#1a202c;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #cbd5e0}
table{border-collapse:collapse;margin:.5rem 0;font-variant-numeric:tabular-nums}
td,th{border:1px solid #cbd5e0;padding:.2rem .5rem;text-align:right}th{background:#edf2f7}
tr.adversary td{color:${ADVERSARY_COLOUR}}.ok{color:#276749;font-weight:600}.bad{color:${ADVERSARY_COLOUR};font-weight:600}
svg{display:block;margin:.5rem 0}code{background:#edf2f7;padding:0 .2rem}
</style></head><body>
<h1>Gauntlet swarm report</h1>
<p>${escapeHtml(`${report.command.peers} headless browser peers, adversaries ${report.command.adversaries.map(([n, c]) => `${n}:${c}`).join(',') || 'none'}, ${report.command.windows} measured windows (${report.run.measuredWindows.join(', ')}), backend ${report.command.backend}, run ${report.run.runId} (${report.run.parameterCount} parameters). Started ${report.startedAt}, finished ${report.finishedAt}.`)}</p>
<p>Run config: the tiny preset with <code>${escapeHtml(overrides || 'none')}</code>.</p>
<section id="loss"><h2>Loss against data-parallel AdamW</h2>
<p>The validator's θ after each outer step and data-parallel AdamW (H steps per window, each on the union of the peers' batches of that step: equal tokens and equal optimiser steps) on the same assigned batches (uids ${escapeHtml(report.loss.baselineMinerUids.join(', ') || '—')}), both measured on one fixed evaluation set.${report.loss.trainedEvaluationSequences === null ? '' : ` ${report.loss.trainedEvaluationSequences} evaluation sequence(s) were also trained on.`}</p>
${lossChart}${lossTable}</section>
<section id="leaderboard"><h2>Leaderboard</h2>${board}${weightChart}</section>
<section id="detection"><h2>Adversary detection</h2><p class="${detectionClass}">${escapeHtml(report.detection.statement)}</p>${scoreChart}</section>
<section id="wire"><h2>Bytes on the wire</h2><p>${escapeHtml(`Mean submission ${report.wire.meanBytes === null ? '—' : Math.round(report.wire.meanBytes)} bytes against ${report.wire.denseBytes} bytes of dense float32 θ: compression ×${fixed(report.wire.compressionRatio, 1)}.`)}</p>${bytesChart}${wireTable}</section>
<section id="phases"><h2>Time per window phase</h2><p>From the peers' typed events, timed where each reached its page; waits for the put window to open and close are not counted.</p>${phaseChart}${phaseTable}</section>
</body></html>
`;
}
