/**
 * The pure half of `npm run swarm`: argument parsing, the peer plan, phase timing from timed typed
 * events, the detection verdict, and the self-contained HTML. The end-to-end run (real browsers,
 * devnet and validator) is test/browser/swarm.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildSwarmReport, phaseDurations, renderSwarmHtml, textSummary, type SwarmObservations, type TimedPeerEvent } from '../../src/cli/swarm-report.ts';
import { parseAdversarySpec, planPeers, SwarmArgumentError } from '../../src/cli/swarm-spec.ts';
import { niceTicks } from '../../src/cli/svg-charts.ts';
import { createScoringState, newPeerState } from '../../src/core/scoring/index.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import type { BehaviourName } from '../../src/peer/behaviours.ts';
import type { PeerEvent } from '../../src/peer/events.ts';

describe('swarm arguments', () => {
  it('parses adversary specs, merging repeats and defaulting the count to one', () => {
    expect(parseAdversarySpec('free-rider:1,copier:2,free-rider')).toEqual([['free-rider', 2], ['copier', 2]]);
    expect(parseAdversarySpec(' none ')).toEqual([]);
    expect(parseAdversarySpec('')).toEqual([]);
  });

  it('rejects unknown behaviours, bad counts and swarms without an honest peer', () => {
    expect(() => parseAdversarySpec('honest:1')).toThrow(SwarmArgumentError);
    expect(() => parseAdversarySpec('freerider:1')).toThrow(/not a cheating behaviour/);
    expect(() => parseAdversarySpec('copier:0')).toThrow(/whole count/);
    expect(() => parseAdversarySpec('copier:1:2')).toThrow(/name:count/);
    expect(() => planPeers(3, [['free-rider', 3]])).toThrow(/at least one honest peer/);
    expect(() => planPeers(1, [])).toThrow(/≥ 2/);
  });

  it('plans honest peers first with distinct development keys', () => {
    const plan = planPeers(4, [['free-rider', 1], ['copier', 1]]);
    expect(plan.map((p) => p.behaviour)).toEqual(['honest', 'honest', 'free-rider', 'copier']);
    expect(new Set(plan.map((p) => p.uri)).size).toBe(4);
  });
});

/** One peer's window as the page would see it: each event `gaps[i]` ms after the previous one. */
function windowEvents(uid: number, window: number, startMs: number, trains: boolean, gaps: readonly number[]): TimedPeerEvent[] {
  const events: PeerEvent[] = [
    { kind: 'miner-assignment', window, uid, sequences: 16, sampleDigest: 'ab', trainedDigest: 'cd' },
    ...(trains ? [{ kind: 'miner-trained', window, uid, steps: 4, meanLoss: 5, elapsedMs: 1 } as const] : []),
    { kind: 'miner-compressed', window, uid, bytes: 6000 + uid, updateNorm: null, denseOnCpu: false },
    { kind: 'peer-stage-start', window, stage: 'upload' },
    { kind: 'miner-signed', window, uid, key: 'k' },
    { kind: 'miner-uploaded', window, uid, key: 'k', serverTimeMs: 0 },
    { kind: 'peer-stage-start', window, stage: 'gather' },
    { kind: 'miner-gathered', window, uid, gathered: [uid], rejected: {} },
    { kind: 'miner-outer-step', window, uid, applied: true, peers: 1 },
  ];
  let at = startMs;
  return events.map((event, i) => ({ uid, atMs: (at += gaps[i] ?? 0), event }));
}

function observations(weights: Record<string, number>, finals: Record<string, number>, behaviours: Record<number, BehaviourName>, events: TimedPeerEvent[]): SwarmObservations {
  const config = tinyRunConfig();
  const state = createScoringState();
  for (const [uid, finalScore] of Object.entries(finals)) state.peers[uid] = { ...newPeerState(config.scoring), finalScore };
  return {
    startedAt: 'start', finishedAt: 'end',
    options: { peers: Object.keys(behaviours).length, adversaries: [['free-rider', 1]], windows: 2, backend: 'wasm' },
    config, configOverrides: { runId: 'x<y' }, parameterCount: 1000,
    peers: Object.entries(behaviours).map(([uid, behaviour]) => ({ uid: Number(uid), hotkey: `h${uid}`, behaviour, backend: 'wasm' })),
    measuredWindows: [7, 8],
    validatorWindows: [6, 7, 8].map((window, i) => ({ window, gathered: [], evaluated: [2, 3], outerStepApplied: i > 0, lossScores: {}, weights, evaluationLoss: 5 - i / 10, trainedTokens: i === 0 ? 0 : 2048 })),
    initialEvaluationLoss: 5.5,
    peerEvents: events,
    finalState: state,
    finalWeights: weights,
    baseline: { initialEvaluationLoss: 5.5, windows: [{ window: 7, cumulativeTokens: 2048, evaluationLoss: 4.9 }, { window: 8, cumulativeTokens: 4096, evaluationLoss: 4.5 }], trainedEvaluationSequences: 0, minerUids: [2] },
  };
}

describe('swarm report', () => {
  const gaps = [0, 300, 40, 1000, 7, 60, 2500, 200, 30];
  const events = [...windowEvents(2, 7, 1_000, true, gaps), ...windowEvents(3, 7, 1_050, false, gaps.filter((_, i) => i !== 1))];

  it('times each phase between the typed events that bound it, skipping the waits', () => {
    const honest = phaseDurations(events, 2, 7);
    expect(honest).toEqual({ train: gaps[1], compress: gaps[2], sign: gaps[4], upload: gaps[5], gather: gaps[7], 'outer-step': gaps[8] });
    // A free-rider trains nothing: no train phase, and compression counts from its assignment.
    expect(phaseDurations(events, 3, 7).train).toBeNull();
    expect(phaseDurations(events, 3, 7).compress).toBe(gaps[2]);
    expect(phaseDurations(events, 2, 8).train).toBeNull();
  });

  it('says plainly whether every adversary ranks below every honest peer', () => {
    const behaviours: Record<number, BehaviourName> = { 2: 'honest', 3: 'free-rider', 4: 'honest' };
    const detected = buildSwarmReport(observations({ '2': 0.3, '4': 0.2 }, { '2': 3, '3': -1, '4': 2 }, behaviours, events));
    expect(detected.detection.everyAdversaryBelowEveryHonest).toBe(true);
    expect(detected.leaderboard.map((r) => r.uid)).toEqual([2, 4, 3]);
    // Equal (zero) weights fall back to the final score; a free-rider level with an honest peer is not below it.
    const tied = buildSwarmReport(observations({ '2': 0.3 }, { '2': 3, '3': 0, '4': 0 }, behaviours, events));
    expect(tied.detection.everyAdversaryBelowEveryHonest).toBe(false);
    expect(tied.detection.violations).toEqual([{ adversary: 3, honest: 4 }]);
    expect(tied.detection.statement).toMatch(/^No: adversary uid 3 does not rank below honest uid 4/);
  });

  it('reports bytes against the dense size and the loss curve from the first trained window', () => {
    const report = buildSwarmReport(observations({}, {}, { 2: 'honest', 3: 'free-rider' }, events));
    expect(report.wire.denseBytes).toBe(4000);
    expect(report.wire.windows).toEqual([{ window: 7, submissions: 2, meanBytes: 6002.5, minBytes: 6002, maxBytes: 6003, compressionRatio: 4000 / 6002.5 }]);
    expect(report.loss.points.map((p) => [p.window, p.distributedTokens, p.centralisedTokens])).toEqual([[7, 2048, 2048], [8, 4096, 4096]]);
    expect(report.phases.windows.find((w) => w.window === 8)?.meanMs.train).toBeNull();
  });

  it('renders a self-contained page with its plots, escaping what it prints', () => {
    const report = buildSwarmReport(observations({ '2': 0.5 }, { '2': 1, '3': -1 }, { 2: 'honest', 3: 'free-rider' }, events));
    const html = renderSwarmHtml(report);
    for (const chart of ['line', 'bar', 'stacked-bar']) expect(html).toContain(`data-chart="${chart}"`);
    expect(html).toContain('data-series="data-parallel AdamW"');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('runId = x&lt;y');
    expect(textSummary(report)).toContain('detection: Yes');
  });

  it('picks round axis ticks that cover the range', () => {
    const ticks = niceTicks(3.21, 5.58);
    expect(ticks[0]).toBeGreaterThanOrEqual(3.21);
    expect(ticks.at(-1)).toBeLessThanOrEqual(5.58);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (const t of ticks) expect(Math.abs(t * 2 - Math.round(t * 2))).toBeLessThan(1e-9);
  });
});
