import { describe, expect, it } from 'vitest';
import {
  createScoringState,
  deserializeState,
  evaluationCandidates,
  explain,
  scoreWindow,
  ScoringConfigError,
  ScoringInputError,
  ScoringStateError,
  serializeState,
  type ValidatorScoringState,
  type WindowScoringInputs,
} from '../../src/core/scoring/index.ts';
import { newPeerState } from '../../src/core/scoring/state.ts';
import { simulateRun, testScoringConfig } from './scoring-helpers.ts';

const config = testScoringConfig();

function inputs(window: number, overrides: Partial<WindowScoringInputs> = {}): WindowScoringInputs {
  return {
    window,
    submittedUids: [],
    gather: { gatheredUids: [], skippedUids: [], successRate: 1 },
    validatorSlices: {},
    peerSlices: {},
    evalUids: [],
    lossRandomBefore: null,
    evaluations: {},
    indexSets: {},
    uploadTimes: {},
    ...overrides,
  };
}

/** A state with the given uids already known, with final / B set. */
function stateWith(peers: Record<number, { final: number; b: number; submitted?: number }>): ValidatorScoringState {
  const state = createScoringState();
  for (const [uid, p] of Object.entries(peers)) {
    const peer = newPeerState(config);
    peer.finalScore = p.final;
    peer.binaryMovingAverage = p.b;
    peer.lastSubmittedWindow = p.submitted ?? 99;
    state.peers[uid] = peer;
  }
  state.lastWindow = 99;
  return state;
}

describe('scoreWindow: purity and input validation', () => {
  it('is pure and deterministic: same inputs, same outputs; the previous state is untouched', () => {
    const run = simulateRun(6, 7, config);
    const before = run.results[4]!.state;
    const text = serializeState(before);
    const a = scoreWindow(before, run.inputs[5]!, config);
    const b = scoreWindow(before, run.inputs[5]!, config);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(serializeState(before)).toBe(text);
  });

  it('rejects NaN/Inf and malformed measurements with ScoringInputError naming the field', () => {
    const state = createScoringState();
    const ok = { status: 'ok' as const, lossOwnBefore: 10, lossOwnAfter: 9, lossRandomAfter: 9.5 };
    const cases: [Partial<WindowScoringInputs>, string][] = [
      [{ evalUids: [3], lossRandomBefore: 10, evaluations: { 3: { ...ok, lossOwnAfter: Number.NaN } } }, 'evaluations.3.lossOwnAfter'],
      [{ evalUids: [3], lossRandomBefore: Number.POSITIVE_INFINITY, evaluations: { 3: ok } }, 'lossRandomBefore'],
      [{ evalUids: [3], lossRandomBefore: 10, evaluations: { 3: { ...ok, lossOwnBefore: 0 } } }, 'evaluations.3.lossOwnBefore'],
      [{ evalUids: [3], lossRandomBefore: null, evaluations: { 3: ok } }, 'lossRandomBefore'],
      [{ evalUids: [], evaluations: { 3: ok } }, 'evaluations.3'],
      [{ gather: { gatheredUids: [2], skippedUids: [], successRate: Number.NaN } }, 'gather.successRate'],
      [{ gather: { gatheredUids: [2], skippedUids: [2], successRate: 1 } }, 'gather'],
      [{ submittedUids: [70000] }, 'submittedUids.0'],
      [{ validatorSlices: { a: [1, Number.NEGATIVE_INFINITY] } }, 'validatorSlices.a.1'],
      [{ indexSets: { 2: { a: [[1.5]] } } }, 'indexSets.2.a.0.0'],
    ];
    for (const [override, field] of cases) {
      let caught: unknown;
      try {
        scoreWindow(state, inputs(100, override), config);
      } catch (error) {
        caught = error;
      }
      expect(caught, field).toBeInstanceOf(ScoringInputError);
      expect((caught as ScoringInputError).field).toBe(field);
    }
  });

  it('rejects a window that is not after the last one, and a meaningless config', () => {
    const state = scoreWindow(createScoringState(), inputs(100), config).state;
    expect(() => scoreWindow(state, inputs(100), config)).toThrow(ScoringInputError);
    expect(() => scoreWindow(state, inputs(101), testScoringConfig({ syncWindowSteps: 0 }))).toThrow(ScoringConfigError);
    expect(() => scoreWindow(state, inputs(101), testScoringConfig({ binaryScoreMaAlpha: Number.NaN }))).toThrow(ScoringConfigError);
  });
});

describe('scoreWindow: slashing rules (§7.1)', () => {
  it('missing gradient: × 0.75 on positive final and B; negative scores never move up (Templar #45)', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6 }, 4: { final: -1, b: -0.2 } });
    const r = scoreWindow(state, inputs(100, { submittedUids: [3, 4], evalUids: [3, 4], evaluations: { 3: { status: 'missing' }, 4: { status: 'missing' } } }), config);
    expect(r.state.peers['3']!.finalScore).toBeCloseTo(1.5, 15);
    expect(r.state.peers['3']!.binaryMovingAverage).toBeCloseTo(0.45, 15);
    expect(r.state.peers['4']!.finalScore).toBe(-1);
    expect(r.state.peers['4']!.binaryMovingAverage).toBe(-0.2);
    expect(r.reasons.filter((x) => x.rule === 'missing-gradient-slash').map((x) => x.uid)).toEqual([3, 4]);
  });

  it('invalid gradient: a positive final becomes 0, a negative one is kept', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6 }, 4: { final: -1, b: 0.1 } });
    const bad = { status: 'invalid' as const, detail: 'index out of range' };
    const r = scoreWindow(state, inputs(100, { submittedUids: [3, 4], evalUids: [3, 4], evaluations: { 3: bad, 4: bad } }), config);
    expect(r.state.peers['3']!.finalScore).toBe(0);
    expect(r.state.peers['3']!.binaryMovingAverage).toBe(0.6);
    expect(r.state.peers['4']!.finalScore).toBe(-1);
  });

  it('skipped gather peers: × 0.75, or × 0 below the success-rate threshold; then the 1e-4 zero threshold', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6 }, 4: { final: 1.2e-4, b: 0.5 }, 5: { final: -0.5, b: -0.1 } });
    const normal = scoreWindow(state, inputs(100, { submittedUids: [6], gather: { gatheredUids: [6], skippedUids: [3, 4, 5], successRate: 0.5 } }), config);
    expect(normal.state.peers['3']!.finalScore).toBeCloseTo(1.5, 15);
    expect(normal.state.peers['3']!.binaryMovingAverage).toBeCloseTo(0.45, 15);
    expect(normal.state.peers['4']!.finalScore).toBe(0); // 0.9e-4 < 1e-4 → 0
    expect(normal.state.peers['5']!.finalScore).toBe(-0.5);
    const poor = scoreWindow(state, inputs(100, { submittedUids: [6], gather: { gatheredUids: [6], skippedUids: [3, 4, 5], successRate: 0.3 } }), config);
    expect(poor.state.peers['3']!.finalScore).toBe(0);
    expect(poor.state.peers['3']!.binaryMovingAverage).toBe(0);
    expect(poor.state.peers['5']!.binaryMovingAverage).toBe(-0.1);
    // uid 6 was gathered without a debug slice, but it did not submit in window 99, so it could have none: not judged, not marked.
    expect(poor.state.evaluatedUids).toEqual([3, 4, 5]);
    expect(poor.reasons.filter((r) => r.uid === 6).map((r) => r.rule)).toEqual(['sync-score']);
  });

  it('sync: score from steps behind, and × 0.75 for gather peers more than 3 steps behind or without debug', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6 }, 4: { final: 2, b: 0.6 }, 5: { final: 2, b: 0.6 } });
    state.paramAvgChange = { a: [0.001, 0.001] };
    state.previousSlices = { a: [1, 2] };
    const r = scoreWindow(
      state,
      inputs(100, {
        submittedUids: [3, 4, 5],
        gather: { gatheredUids: [3, 4, 5], skippedUids: [], successRate: 1 },
        validatorSlices: { a: [1, 2] }, // unchanged: no outer step, the EMA is not updated
        peerSlices: { 3: { a: [1.004, 2.004] }, 4: { a: [1.002, 1.998] }, 5: null },
      }),
      config,
    );
    const p = r.state.peers;
    expect(r.state.paramAvgChange).toEqual({ a: [0.001, 0.001] });
    expect(p['3']!.syncScore).toBeCloseTo(Math.pow(1 - 4 / 5, 2.5), 6);
    expect(p['3']!.finalScore).toBeCloseTo(1.5, 15);
    expect(p['4']!.syncScore).toBeCloseTo(Math.pow(1 - 2 / 5, 2.5), 6);
    expect(p['4']!.finalScore).toBe(2);
    expect(p['5']!.syncScore).toBe(0);
    expect(p['5']!.finalScore).toBeCloseTo(1.5, 15);
  });

  it('inactivity: × 0.75 per window from the window the peer leaves, full reset after resetInactivityWindows', () => {
    let state = stateWith({ 3: { final: 2, b: 0.9, submitted: 100 } });
    state.peers['3']!.rating = { mu: 30, sigma: 2 };
    state.lastWindow = 100;
    const finals: number[] = [];
    for (let w = 101; w <= 107; w++) {
      state = scoreWindow(state, inputs(w), config).state;
      finals.push(state.peers['3']!.finalScore);
    }
    // active through 102 (100 + recentWindows), inactive since 103: slashed at 103..106, reset at 107 (107 − 103 > 3).
    expect(finals.slice(0, 2)).toEqual([2, 2]);
    expect(finals[2]).toBeCloseTo(2 * 0.75, 15);
    expect(finals[5]).toBeCloseTo(2 * 0.75 ** 4, 15);
    expect(finals[6]).toBe(0);
    expect(state.peers['3']!.rating).toBeNull();
    expect(state.peers['3']!.binaryMovingAverage).toBe(config.binaryScoreInitial); // min(0.9, 0.5)
    // Coming back before the reset clears the inactivity.
    let back = stateWith({ 3: { final: 2, b: 0.9, submitted: 100 } });
    back.lastWindow = 100;
    back = scoreWindow(back, inputs(103), config).state;
    expect(back.peers['3']!.inactiveSince).toBe(103);
    back = scoreWindow(back, inputs(104, { submittedUids: [3] }), config).state;
    expect(back.peers['3']!.inactiveSince).toBeNull();
    expect(back.peers['3']!.finalScore).toBeCloseTo(1.5, 15);
  });
});

describe('scoreWindow: stage 2, OpenSkill and final scores', () => {
  const ok = (own: [number, number], randomAfter: number) => ({ status: 'ok' as const, lossOwnBefore: own[0], lossOwnAfter: own[1], lossRandomAfter: randomAfter });

  it('a single evaluated peer waits; it joins the next window match', () => {
    const first = scoreWindow(createScoringState(), inputs(100, { submittedUids: [3], evalUids: [3], lossRandomBefore: 100, evaluations: { 3: ok([100, 97], 99) } }), config);
    expect(first.state.pendingScores).toEqual({ 3: (100 - 99) / 100 });
    expect(first.state.peers['3']!.rating).toBeNull();
    expect(first.reasons.some((x) => x.rule === 'openskill-pending' && x.uid === 3)).toBe(true);
    const second = scoreWindow(first.state, inputs(101, { submittedUids: [3, 4], evalUids: [4], lossRandomBefore: 100, evaluations: { 4: ok([100, 99.9], 99.5) } }), config);
    expect(second.state.pendingScores).toEqual({});
    const p3 = second.state.peers['3']!;
    const p4 = second.state.peers['4']!;
    expect(p3.rating).not.toBeNull();
    // uid 3's pending LossScore 0.01 beats uid 4's 0.005: the higher LossScore wins the match.
    expect(p3.rating!.mu).toBeGreaterThan(p4.rating!.mu);
  });

  it('final = ordinal × max(0, B) × sync for match players, with B from the binary indicator', () => {
    const r = scoreWindow(
      createScoringState(),
      inputs(100, {
        submittedUids: [3, 4],
        evalUids: [3, 4],
        peerSlices: { 3: {}, 4: {} },
        lossRandomBefore: 100,
        // uid 3: LossScore 0.02, own gain 0.05 > 0.02 → b = +1; uid 4: LossScore 0.01, own gain 0.001 → b = −1.
        evaluations: { 3: ok([200, 190], 98), 4: ok([100, 99.9], 99) },
      }),
      config,
    );
    const p3 = r.state.peers['3']!;
    const p4 = r.state.peers['4']!;
    expect(p3.gradientScore).toBeCloseTo(0.02, 14);
    expect(p3.binaryIndicator).toBe(1);
    expect(p3.binaryMovingAverage).toBeCloseTo(0.95 * 0.5 + 0.05, 15);
    expect(p4.binaryIndicator).toBe(-1);
    expect(p4.binaryMovingAverage).toBeCloseTo(0.95 * 0.5 - 0.05, 15);
    expect(p3.rating!.mu).toBeGreaterThan(p4.rating!.mu);
    for (const p of [p3, p4]) {
      // No sync reference yet (first window): sync = 1.
      expect(p.syncScore).toBe(1);
      expect(p.finalScore).toBeCloseTo((p.rating!.mu - 3 * p.rating!.sigma) * Math.max(0, p.binaryMovingAverage) * 1, 12);
    }
    // The winner's ordinal is already positive (β = 7), the loser's negative: one ranked peer takes
    // the whole miners' share (1 − burnRate), the burn uid the rest.
    expect(p3.finalScore).toBeGreaterThan(0);
    expect(p4.finalScore).toBeLessThan(0);
    expect(r.weights).toEqual({ 1: 0.5, 3: 0.5 });
    expect(r.chainWeights).toEqual({ uids: [1, 3], values: [65535, 65535] });
    expect(r.setWeightsDue).toBe(true);
  });
});

describe('scoreWindow: empty matches and skipped windows', () => {
  it('no successful evaluation: no match, no rating, no final-score change', () => {
    const state = stateWith({ 3: { final: 0.5, b: 0.6 }, 4: { final: 0.4, b: 0.6 } });
    const r = scoreWindow(state, inputs(100, { submittedUids: [3, 4], evalUids: [3, 4], evaluations: { 3: { status: 'missing' } } }), config);
    expect(r.reasons.some((x) => x.rule === 'openskill' || x.rule === 'final-score' || x.rule === 'openskill-pending')).toBe(false);
    expect(r.state.peers['3']!.rating).toBeNull();
    // uid 4 was selected but not reached (no outcome): not judged, its sampling weight keeps growing.
    expect(r.state.peers['4']!.finalScore).toBe(0.4);
    expect(r.state.peers['4']!.windowsSinceEval).toBe(2);
    expect(r.state.peers['3']!.windowsSinceEval).toBe(1);
    expect(r.state.globalStep).toBe(1);
  });

  it('no gather: only activity rules run and the global step does not advance', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6, submitted: 90 } });
    const ok = { status: 'ok' as const, lossOwnBefore: 10, lossOwnAfter: 9, lossRandomAfter: 9.5 };
    const r = scoreWindow(state, inputs(100, { gather: null, evalUids: [3], lossRandomBefore: 10, evaluations: { 3: ok } }), config);
    expect(r.state.globalStep).toBe(0);
    expect(r.state.peers['3']!.gradientScore).toBe(0);
    expect(r.state.peers['3']!.finalScore).toBeCloseTo(1.5, 15); // inactive since 100 (last submission 90)
  });

  it('explain names an unknown uid plainly', () => {
    expect(explain(createScoringState(), 42, [])).toBe('uid 42: no record (never active, evaluated or slashed)');
  });
});

describe('scoreWindow: copy detection (§7.5)', () => {
  const victim = { t: [[1, 2, 3, 4], [5, 6, 7, 8]] };
  function copyWindow(state: ValidatorScoringState, window: number, copy: Record<string, number[][]>): ValidatorScoringState {
    return scoreWindow(
      state,
      inputs(window, {
        submittedUids: [3, 4],
        gather: { gatheredUids: [3, 4], skippedUids: [], successRate: 1 },
        peerSlices: { 3: {}, 4: {} },
        indexSets: { 3: victim, 4: copy },
        uploadTimes: { 3: 1000, 4: 2000 },
      }),
      config,
    ).state;
  }

  it('is skipped during the grace period, then the later uploader is slashed by tier', () => {
    const base = stateWith({ 3: { final: 2, b: 0.6 }, 4: { final: 2, b: 0.6 } });
    base.globalStep = config.overlapGraceSteps - 1;
    expect(copyWindow(base, 100, victim).peers['4']!.finalScore).toBe(2);
    base.globalStep = config.overlapGraceSteps;
    // (2/4 + 3/4) / 2 = 0.625 ≥ 0.6 → mega: reset and banned.
    const mega = copyWindow(base, 100, { t: [[1, 2, 30, 40], [5, 6, 7, 80]] });
    // v2.1.3 `slash_from_overlap` sets the ban and counts this window off it at once.
    expect(mega.peers['4']!.naughtyWindowsLeft).toBe(config.naughtyPeerTimeout - 1);
    expect(mega.peers['4']!.finalScore).toBe(0);
    expect(mega.peers['3']!.finalScore).toBe(2);
    expect(evaluationCandidates(mega, [3, 4])).toEqual([3]);
    // (2/4 + 2/4) / 2 = 0.5 → max: reset, not banned.
    const max = copyWindow(base, 100, { t: [[1, 2, 30, 40], [5, 6, 70, 80]] });
    expect(max.peers['4']!.finalScore).toBe(0);
    expect(max.peers['4']!.binaryMovingAverage).toBe(0);
    expect(max.peers['4']!.naughtyWindowsLeft).toBe(0);
    // (2/4 + 1/4) / 2 = 0.375 < 0.4: not flagged.
    expect(copyWindow(base, 100, { t: [[1, 2, 30, 40], [5, 60, 70, 80]] }).peers['4']!.finalScore).toBe(2);
  });

  it('high tier (0.4 ≤ overlap < 0.5) halves final and B', () => {
    const base = stateWith({ 3: { final: 2, b: 0.6 }, 4: { final: 2, b: 0.6 } });
    base.globalStep = config.overlapGraceSteps;
    const five = { t: [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]] };
    const state = scoreWindow(
      base,
      inputs(100, {
        submittedUids: [3, 4],
        gather: { gatheredUids: [3, 4], skippedUids: [], successRate: 1 },
        peerSlices: { 3: {}, 4: {} },
        indexSets: { 3: five, 4: { t: [[1, 2, 30, 40, 50], [6, 7, 80, 90, 100]] } }, // 2/5 each → 0.4
        uploadTimes: { 3: 2000, 4: 1000 },
      }),
      config,
    ).state;
    expect(state.peers['3']!.finalScore).toBeCloseTo(1, 15); // uid 3 uploaded later
    expect(state.peers['3']!.binaryMovingAverage).toBeCloseTo(0.3, 15);
    expect(state.peers['4']!.finalScore).toBe(2);
  });
});

describe('scoreWindow: explainability and sync bookkeeping', () => {
  it('every change of final, B, sync or weight has a reason whose last "after" value is the new value', () => {
    const run = simulateRun(40, 31337, config);
    let previous = createScoringState();
    let checked = 0;
    for (const result of run.results) {
      for (const [uid, peer] of Object.entries(result.state.peers)) {
        const before = previous.peers[uid] ?? newPeerState(config); // a new uid starts from the defaults
        for (const field of ['finalScore', 'binaryMovingAverage', 'syncScore', 'weight'] as const) {
          if (before[field] === peer[field]) continue;
          const last = result.reasons.filter((r) => String(r.uid) === uid && field in r.after).at(-1);
          expect(last, `window ${result.state.lastWindow} uid ${uid} ${field}`).toBeDefined();
          expect(last!.after[field]).toBe(peer[field]);
          checked++;
        }
      }
      previous = result.state;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('the EMA of the validator step size follows its slices window by window', () => {
    let state = createScoringState();
    const slices = [[1, 2], [1.01, 2], [1.03, 2.01], [1.03, 2.01]];
    slices.forEach((a, i) => {
      state = scoreWindow(state, inputs(100 + i, { validatorSlices: { a } }), config).state;
    });
    // changes: [0.01, 0] (first: initialises), then [0.02, 0.01] (EMA α 0.2), then no movement (skipped).
    expect(state.paramAvgChange.a![0]).toBeCloseTo(0.8 * 0.01 + 0.2 * 0.02, 12);
    expect(state.paramAvgChange.a![1]).toBeCloseTo(0.8 * 0 + 0.2 * 0.01, 12);
    expect(state.previousSlices.a).toEqual([1.03, 2.01]);
  });
});

describe('validator state: serialisation and restart', () => {
  it('a restart from the serialised state mid-run gives identical results over 40 synthetic windows', () => {
    const uninterrupted = simulateRun(40, 2024, config);
    let state = deserializeState(serializeState(uninterrupted.results[14]!.state));
    for (let i = 15; i < 40; i++) {
      const r = scoreWindow(state, uninterrupted.inputs[i]!, config);
      expect(JSON.stringify(r)).toBe(JSON.stringify(uninterrupted.results[i]));
      state = deserializeState(serializeState(r.state));
    }
  });

  it('rejects another version, non-JSON and non-finite or mistyped fields with ScoringStateError', () => {
    const good = JSON.parse(serializeState(simulateRun(3, 5, config).results[2]!.state)) as Record<string, unknown>;
    expect(() => deserializeState('{')).toThrow(ScoringStateError);
    expect(() => deserializeState(JSON.stringify({ ...good, version: 2 }))).toThrow(/version/);
    const peers = good.peers as Record<string, Record<string, unknown>>;
    const firstUid = Object.keys(peers)[0]!;
    const broken = { ...good, peers: { ...peers, [firstUid]: { ...peers[firstUid], finalScore: 'high' } } };
    expect(() => deserializeState(JSON.stringify(broken))).toThrow(ScoringStateError);
    expect(() => deserializeState(JSON.stringify({ ...good, peers: { x: peers[firstUid] } }))).toThrow(/decimal uid/);
  });

  it('synthetic behaviours end where the rules say: lazy B < 0 and final 0, copier banned, lagging slashed, honest paid', () => {
    const run = simulateRun(40, 2024, config);
    const last = run.results[39]!;
    const p = last.state.peers;
    expect(p['5']!.binaryMovingAverage).toBeLessThan(0);
    expect(p['5']!.finalScore).toBeLessThanOrEqual(0);
    expect(p['8']!.naughtyWindowsLeft).toBeGreaterThan(0);
    expect(run.results.some((r) => r.reasons.some((x) => x.uid === 7 && x.rule === 'sync-slash'))).toBe(true);
    const honestWeight = [2, 3, 4].reduce((a, uid) => a + (last.weights[String(uid)] ?? 0), 0);
    expect(honestWeight).toBeGreaterThan(0);
    expect(last.weights['5'] ?? 0).toBe(0);
    const text = explain(last.state, 8, run.results.flatMap((r) => r.reasons));
    expect(text).toContain('overlap-slash');
    expect(text).toMatch(/^uid 8: final=/);
  });
});

describe('issue #18: the rules as Templar v2.1.3 applies them, and fairness to honest peers', () => {
  // The rates below are the run config's (v2.1.3 constants); each expected value is Templar's formula applied by hand.
  const r = config.missingGradientSlashRate;

  it('a slash multiplies final and B only while final > 0: a peer at or below 0 keeps its B', () => {
    const state = stateWith({ 3: { final: 0, b: 0.6 }, 4: { final: -0.5, b: 0.4 }, 5: { final: 2, b: 0.6 } });
    const res = scoreWindow(state, inputs(100, { submittedUids: [3, 4, 5], evalUids: [3, 4, 5], evaluations: { 3: { status: 'missing' }, 4: { status: 'missing' }, 5: { status: 'missing' } } }), config);
    expect(res.state.peers['3']!.binaryMovingAverage).toBe(0.6);
    expect(res.state.peers['4']!.binaryMovingAverage).toBe(0.4);
    expect(res.state.peers['5']!.finalScore).toBeCloseTo(2 * r, 15);
    expect(res.state.peers['5']!.binaryMovingAverage).toBeCloseTo(0.6 * r, 15);
  });

  it('a missing gradient of an evaluated peer: × r, then a final below scoreZeroThreshold is zeroed', () => {
    const justAbove = config.scoreZeroThreshold / r * 1.01; // × r lands just above the threshold: kept
    const justBelow = config.scoreZeroThreshold / r * 0.99; // × r lands just below it: zeroed
    const state = stateWith({ 3: { final: justAbove, b: 0.5 }, 4: { final: justBelow, b: 0.5 } });
    const res = scoreWindow(state, inputs(100, { submittedUids: [3, 4], evalUids: [3, 4], evaluations: { 3: { status: 'missing' }, 4: { status: 'missing' } } }), config);
    expect(res.state.peers['3']!.finalScore).toBeCloseTo(justAbove * r, 18);
    expect(res.state.peers['4']!.finalScore).toBe(0);
    expect(res.reasons.filter((x) => x.rule === 'score-zero-threshold').map((x) => x.uid)).toEqual([4]);
  });

  it('the sync slash hits the gather list, not the reserves that filled in (their sync score is still measured)', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6 }, 6: { final: 2, b: 0.6 } });
    state.paramAvgChange = { a: [0.001, 0.001] };
    state.previousSlices = { a: [1, 2] };
    const lagging = { a: [1.004, 2.004] }; // 4 steps behind: beyond syncMaxStepsBehind (3)
    const res = scoreWindow(state, inputs(100, {
      submittedUids: [3, 6],
      gather: { gatheredUids: [3, 6], skippedUids: [4], successRate: 1, gatherList: [3, 4] },
      validatorSlices: { a: [1, 2] },
      peerSlices: { 3: lagging, 6: lagging },
    }), config);
    const expectedSync = Math.pow(1 - 4 / config.syncWindowSteps, config.syncExponent);
    expect(res.state.peers['3']!.syncScore).toBeCloseTo(expectedSync, 6);
    expect(res.state.peers['6']!.syncScore).toBeCloseTo(expectedSync, 6);
    expect(res.reasons.filter((x) => x.rule === 'sync-slash').map((x) => x.uid)).toEqual([3]);
    expect(res.state.peers['6']!.finalScore).toBe(2);
  });

  it('a newcomer without a debug slice of the window before (it could not have one) is not slashed; a peer that submitted then is', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6, submitted: 99 }, 4: { final: 2, b: 0.6, submitted: 95 } });
    state.paramAvgChange = { a: [0.001, 0.001] };
    state.previousSlices = { a: [1, 2] };
    const res = scoreWindow(state, inputs(100, {
      submittedUids: [3, 4, 7],
      gather: { gatheredUids: [3, 4, 7], skippedUids: [], successRate: 1 },
      validatorSlices: { a: [1, 2] },
      peerSlices: { 3: null, 4: null, 7: null },
    }), config);
    // uid 3 submitted in window 99 and published no debug-99: sync 0 and × r. uid 4 (back after window 95) and uid 7 (new): not judged.
    expect(res.reasons.filter((x) => x.rule === 'sync-slash').map((x) => x.uid)).toEqual([3]);
    expect(res.state.peers['3']!.syncScore).toBe(0);
    expect(res.state.peers['4']!.finalScore).toBe(2);
    expect(res.state.peers['7']!.finalScore).toBe(0);
    expect(res.state.evaluatedUids).not.toContain(7);
  });

  it('a window without a gather sets no weights, even on a weight window', () => {
    const due = config.windowsPerWeights * 50;
    expect(scoreWindow(stateWith({ 3: { final: 1, b: 0.5 } }), inputs(due, { gather: null }), config).setWeightsDue).toBe(false);
    expect(scoreWindow(stateWith({ 3: { final: 1, b: 0.5 } }), inputs(due), config).setWeightsDue).toBe(true);
  });

  it('a banned copier is reset again in every window with a gather, and its ban counts down only then (v2.1.3 slash_from_overlap)', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6 }, 4: { final: 0, b: 0 } });
    state.globalStep = config.overlapGraceSteps;
    state.peers['4']!.naughtyWindowsLeft = 5;
    state.peers['4']!.binaryMovingAverage = 0.3; // whatever it gained while banned is reset again
    const withGather = scoreWindow(state, inputs(100, { submittedUids: [3], gather: { gatheredUids: [3], skippedUids: [], successRate: 1 } }), config);
    expect(withGather.state.peers['4']!.naughtyWindowsLeft).toBe(4);
    expect(withGather.state.peers['4']!.binaryMovingAverage).toBe(0);
    expect(withGather.reasons.find((r) => r.uid === 4 && r.rule === 'naughty-countdown')?.after).toMatchObject({ naughtyWindowsLeft: 4, binaryMovingAverage: 0 });
    const withoutGather = scoreWindow(state, inputs(100, { gather: null }), config);
    expect(withoutGather.state.peers['4']!.naughtyWindowsLeft).toBe(5);
  });

  it('a new hotkey on a known uid starts from a fresh record: no rating, scores or ban of the previous holder', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6 }, 4: { final: 1.5, b: 0.4 } });
    state.peers['3']!.hotkey = '5Old';
    state.peers['3']!.naughtyWindowsLeft = 7;
    state.peers['3']!.rating = { mu: 30, sigma: 5 };
    state.peers['4']!.hotkey = '5Same';
    const res = scoreWindow(state, inputs(100, { submittedUids: [3, 4], hotkeys: { 3: '5New', 4: '5Same' } }), config);
    expect(res.state.peers['3']).toMatchObject({ finalScore: 0, naughtyWindowsLeft: 0, rating: null, binaryMovingAverage: config.binaryScoreInitial, hotkey: '5New' });
    expect(res.state.peers['4']).toMatchObject({ finalScore: 1.5, binaryMovingAverage: 0.4, hotkey: '5Same' });
    expect(res.reasons.filter((r) => r.rule === 'new-hotkey').map((r) => [r.uid, r.inputs.previousHotkey, r.inputs.hotkey])).toEqual([[3, '5Old', '5New']]);
    // Its state survives a restart with the hotkey it remembers.
    expect(deserializeState(serializeState(res.state)).peers['3']!.hotkey).toBe('5New');
  });

  it('a window in which nobody submitted, after several peers were active, is the network\'s silence: no inactivity for anyone', () => {
    const state = stateWith({ 3: { final: 2, b: 0.6, submitted: 99 }, 4: { final: 2, b: 0.6, submitted: 99 } });
    let current = state;
    // Five silent windows (an outage longer than resetInactivityWindows): nobody is slashed or reset.
    for (let w = 100; w < 105; w++) {
      const res = scoreWindow(current, inputs(w, { gather: null }), config);
      expect(res.reasons.filter((r) => r.rule === 'inactivity-slash' || r.rule === 'inactivity-reset' || r.rule === 'activity')).toEqual([]);
      current = res.state;
    }
    expect(current.peers['3']!.finalScore).toBe(2);
    // Back: uid 3 submits, uid 4 does not. uid 4 goes inactive now and is slashed from here, as a peer that left.
    const back = scoreWindow(current, inputs(105, { submittedUids: [3], gather: null }), config);
    expect(back.state.peers['3']!.finalScore).toBe(2);
    expect(back.state.peers['4']!.inactiveSince).toBe(105);
    expect(back.state.peers['4']!.finalScore).toBeCloseTo(2 * config.inactivitySlashRate, 15);
    // A lone peer that leaves is not a silent network: it goes inactive at once.
    const lone = scoreWindow(stateWith({ 3: { final: 2, b: 0.6, submitted: 99 } }), inputs(102, { gather: null }), config);
    expect(lone.state.peers['3']!.inactiveSince).toBe(102);
  });
});

