/**
 * The `templar-2026` scoring profile (issue #18, src/core/scoring/profiles.ts): each production rule
 * Templar adopted after v2.1.3, with the expected values worked out here from the rule's statement,
 * and the same inputs under `templar-v2.1.3` to show what the profile changes.
 */
import { describe, expect, it } from 'vitest';
import type { ScoringConfig } from '../../src/core/config.ts';
import { tinyRunConfig, withScoringProfile } from '../../src/core/run-config.ts';
import {
  compareWithDebugSlices,
  createScoringState,
  deserializeState,
  findOverlaps,
  interquartileMean,
  pairOverlaps,
  ordinal,
  profileRules,
  scoreWindow,
  selectGatherPeers,
  serializeState,
  type ValidatorScoringState,
  type WindowScoringInputs,
} from '../../src/core/scoring/index.ts';
import { rateMatch } from '../../src/core/scoring/openskill.ts';

import { newPeerState } from '../../src/core/scoring/state.ts';

const v2026: ScoringConfig = tinyRunConfig().scoring;
const v213: ScoringConfig = withScoringProfile(v2026, 'templar-v2.1.3');

/** A window's inputs; every submitter and evaluated peer published a debug slice that matches (nothing to compare yet: sync 1). */
function inputs(window: number, overrides: Partial<WindowScoringInputs> = {}): WindowScoringInputs {
  const published = [...(overrides.submittedUids ?? []), ...(overrides.evalUids ?? [])];
  return {
    window,
    submittedUids: [],
    gather: null,
    validatorSlices: {},
    peerSlices: Object.fromEntries(published.map((uid) => [String(uid), {}])),
    evalUids: [],
    lossRandomBefore: null,
    evaluations: {},
    indexSets: {},
    uploadTimes: {},
    ...overrides,
  };
}

/** Known peers, active (they submit every window), with the given final, B, rating and sync. */
function stateWith(config: ScoringConfig, peers: Record<number, { final?: number; b?: number; mu?: number; sigma?: number; sync?: number }>): ValidatorScoringState {
  const state = createScoringState();
  for (const [uid, p] of Object.entries(peers)) {
    const peer = newPeerState(config);
    peer.finalScore = p.final ?? 0;
    peer.binaryMovingAverage = p.b ?? config.binaryScoreInitial;
    if (p.mu !== undefined) peer.rating = { mu: p.mu, sigma: p.sigma ?? 1 };
    peer.syncScore = p.sync ?? 1;
    peer.lastSubmittedWindow = 0;
    state.peers[uid] = peer;
    state.evaluatedUids.push(Number(uid));
  }
  state.lastWindow = 0;
  return state;
}

/** Stage-2 losses whose indicator is `sign`: random-data loss 10 → 9 (LossScore 0.1), own-data 10 → 10 − 10·(0.1 ± 0.05). */
function evaluation(sign: 1 | -1): WindowScoringInputs['evaluations'][string] {
  return { status: 'ok', lossOwnBefore: 10, lossOwnAfter: 10 - 10 * (0.1 + sign * 0.05), lossRandomAfter: 9 };
}

/** Window `w`: uids 2 and 3 gathered and evaluated, 2 with b = −1 and 3 with b = +1. */
function uid2NegativeUid3Positive(w: number): WindowScoringInputs {
  return inputs(w, {
    submittedUids: [2, 3],
    gather: { gatheredUids: [2, 3], skippedUids: [], successRate: 1, gatherList: [2, 3] },
    evalUids: [2, 3],
    lossRandomBefore: 10,
    evaluations: { 2: evaluation(-1), 3: evaluation(1) },
  });
}

function rules(result: ReturnType<typeof scoreWindow>, uid: number): string[] {
  return result.reasons.filter((r) => r.uid === uid).map((r) => r.rule);
}

describe('templar-2026 profile', () => {
  it('is the presets’ profile, and every reason record names the profile it was applied under', () => {
    expect(v2026.profile).toBe('templar-2026');
    const state = stateWith(v2026, { 2: { final: 1, b: 0.5 }, 3: { final: 1, b: 0.5 } });
    const step = inputs(1, { submittedUids: [2], gather: { gatheredUids: [2], skippedUids: [3], successRate: 0.5, gatherList: [2, 3] } });
    for (const [config, profile] of [[v2026, 'templar-2026'], [v213, 'templar-v2.1.3']] as const) {
      const result = scoreWindow(state, step, config);
      expect(result.reasons.length).toBeGreaterThan(0);
      for (const reason of result.reasons) expect(reason.inputs.profile, reason.rule).toBe(profile);
    }
    expect(() => scoreWindow(state, step, { ...v2026, profile: 'templar-1999' as ScoringConfig['profile'] })).toThrow(/profile/);
  });

  it('a missing or skipped peer enters the OpenSkill match at the floor score −99 and cannot gain from it', () => {
    // uid 2 and 3 are evaluated (LossScores 0.1 each), 4 is evaluated but sent nothing, 5 was a gather peer and skipped.
    const state = stateWith(v2026, { 2: { mu: 25, sigma: 8 }, 3: { mu: 25, sigma: 8 }, 4: { final: 0.2, b: 0.5, mu: 30, sigma: 2 }, 5: { final: 0.2, b: 0.5, mu: 30, sigma: 2 } });
    const step = inputs(1, {
      submittedUids: [2, 3],
      gather: { gatheredUids: [2, 3], skippedUids: [5], successRate: 2 / 3, gatherList: [2, 3, 5] },
      evalUids: [2, 3, 4],
      lossRandomBefore: 10,
      evaluations: { 2: evaluation(1), 3: evaluation(1), 4: { status: 'missing' } },
    });
    const result = scoreWindow(state, step, v2026);
    const peers = [2, 3, 4, 5].map((uid) => state.peers[String(uid)]!);
    const expected = rateMatch(peers.map((p) => p.rating), [0.1, 0.1, -99, -99], v2026);
    for (const [i, uid] of [2, 3, 4, 5].entries()) {
      expect(result.state.peers[String(uid)]!.rating!.mu).toBeCloseTo(expected[i]!.mu, 12);
      expect(result.state.peers[String(uid)]!.rating!.sigma).toBeCloseTo(expected[i]!.sigma, 12);
    }
    // Both non-submitters lose rating; their final is what the slash left (0.2 × 0.75), never more.
    for (const uid of [4, 5]) {
      expect(result.state.peers[String(uid)]!.rating!.mu).toBeLessThan(30);
      expect(result.state.peers[String(uid)]!.finalScore).toBeCloseTo(Math.min(0.2 * 0.75, ordinal(expected[uid - 2]!) * 0.5 * 0.75 * 1), 12);
    }
    // v2.1.3: the non-submitters are not in the match; their rating stays.
    const old = scoreWindow(stateWith(v213, { 2: { mu: 25, sigma: 8 }, 3: { mu: 25, sigma: 8 }, 4: { final: 0.2, b: 0.5, mu: 30, sigma: 2 }, 5: { final: 0.2, b: 0.5, mu: 30, sigma: 2 } }), step, v213);
    expect(old.state.peers['4']!.rating).toEqual({ mu: 30, sigma: 2 });
    expect(old.state.peers['5']!.rating).toEqual({ mu: 30, sigma: 2 });
  });

  it('a floor entrant with no measured player in the window leaves the match instead of waiting', () => {
    const state = stateWith(v2026, { 2: { final: 1, b: 0.5 }, 3: { final: 1, b: 0.5 } });
    const result = scoreWindow(state, inputs(1, { submittedUids: [2], gather: { gatheredUids: [2], skippedUids: [3], successRate: 0.5, gatherList: [2, 3] } }), v2026);
    expect(result.state.pendingScores).toEqual({});
    expect(result.state.peers['3']!.rating).toBeNull();
  });

  it('gather skips in a row escalate × 0.75, × 0.5, × 0; ≥ 4 missing windows of the last 8 reset and ban for 8 windows', () => {
    let state = stateWith(v2026, { 2: { final: 1, b: 0.5 }, 3: { final: 1, b: 0.5 }, 4: { final: 1, b: 0.5 } });
    const gather = (skipped: number[]): WindowScoringInputs['gather'] => ({ gatheredUids: [2, 3, 4].filter((u) => !skipped.includes(u)), skippedUids: skipped, successRate: (3 - skipped.length) / 3, gatherList: [2, 3, 4] });
    const expectedFinal = [1 * 0.75, 1 * 0.75 * 0.5, 0];
    const expectedB = [0.5 * 0.75, 0.5 * 0.75 * 0.5, 0.5 * 0.75 * 0.5 * 0]; // B follows the final score's slash while final > 0
    for (let w = 1; w <= 3; w++) {
      const result = scoreWindow(state, inputs(w, { submittedUids: [2, 3, 4], gather: gather([4]) }), v2026);
      state = result.state;
      expect(state.peers['4']!.finalScore).toBeCloseTo(expectedFinal[w - 1]!, 12);
      expect(state.peers['4']!.binaryMovingAverage).toBeCloseTo(expectedB[w - 1]!, 12);
      const skip = result.reasons.find((r) => r.uid === 4 && r.rule === 'gather-skip-slash')!;
      expect(skip.inputs).toMatchObject({ consecutiveSkips: w, rate: [0.75, 0.5, 0][w - 1] });
    }
    // Gathered in window 4: the streak ends; skipped in 5: × 0.75 again, and its 4th miss in windows 1–5 (≤ 8 back) bans it.
    state = scoreWindow(state, inputs(4, { submittedUids: [2, 3, 4], gather: gather([]) }), v2026).state;
    expect(state.peers['4']!.consecutiveSkips).toBe(0);
    const fifth = scoreWindow(state, inputs(5, { submittedUids: [2, 3, 4], gather: gather([4]) }), v2026);
    expect(fifth.reasons.find((r) => r.uid === 4 && r.rule === 'gather-skip-slash')!.inputs).toMatchObject({ consecutiveSkips: 1, rate: 0.75 });
    const ban = fifth.reasons.find((r) => r.uid === 4 && r.rule === 'miss-ban')!;
    expect(ban.inputs).toMatchObject({ missedWindows: 4, lookbackWindows: 8, banWindows: 8 });
    expect(fifth.state.peers['4']).toMatchObject({ naughtyWindowsLeft: 8, finalScore: 0, binaryMovingAverage: 0, rating: null });
    // Banned: no evaluation and no gather list; the ban counts down in each window with a gather.
    expect(selectGatherPeers(fifth.state, [2, 3, 4], v2026, 1).peers).not.toContain(4);
    const sixth = scoreWindow(fifth.state, inputs(6, { submittedUids: [2, 3, 4], gather: gather([]) }), v2026);
    expect(sixth.state.peers['4']!.naughtyWindowsLeft).toBe(7);

    // v2.1.3 on the same windows: × 0.75 every time and no ban.
    let old = stateWith(v213, { 2: { final: 1, b: 0.5 }, 3: { final: 1, b: 0.5 }, 4: { final: 1, b: 0.5 } });
    for (let w = 1; w <= 3; w++) old = scoreWindow(old, inputs(w, { submittedUids: [2, 3, 4], gather: gather([4]) }), v213).state;
    expect(old.peers['4']!.finalScore).toBeCloseTo(0.75 ** 3, 12);
    old = scoreWindow(old, inputs(4, { submittedUids: [2, 3, 4], gather: gather([]) }), v213).state;
    const oldFifth = scoreWindow(old, inputs(5, { submittedUids: [2, 3, 4], gather: gather([4]) }), v213);
    expect(rules(oldFifth, 4)).not.toContain('miss-ban');
    expect(oldFifth.state.peers['4']!.naughtyWindowsLeft).toBe(0);
  });

  it('more than half of 8 evaluations in 8 windows negative: final and B × 0.25; three negative in a row leave the gather list', () => {
    const alpha = v2026.binaryScoreMaAlpha;
    let state = stateWith(v2026, { 2: { final: 1, b: 0.9, mu: 40, sigma: 1 }, 3: { final: 1, b: 0.5, mu: 30, sigma: 1 } });
    let b = 0.9;
    for (let w = 1; w <= 8; w++) {
      const result = scoreWindow(state, uid2NegativeUid3Positive(w), v2026);
      state = result.state;
      b = (1 - alpha) * b - alpha;
      if (w < 8) {
        // Fewer than 8 evaluations in the look-back: a negative majority is not judged yet.
        expect(state.peers['2']!.binaryMovingAverage, `window ${w}`).toBeCloseTo(b, 12);
        expect(rules(result, 2)).not.toContain('negative-evaluations-slash');
      } else {
        // 8 of 8 negative > half: B × 0.25 (final was positive), then final = ordinal × B × sync from the match.
        b *= 0.25;
        expect(result.reasons.find((r) => r.uid === 2 && r.rule === 'negative-evaluations-slash')!.inputs).toMatchObject({ negatives: 8, evaluations: 8, rate: 0.25 });
        expect(state.peers['2']!.binaryMovingAverage).toBeCloseTo(b, 12);
        expect(state.peers['2']!.finalScore).toBeCloseTo(ordinal(state.peers['2']!.rating) * b * 1, 12);
      }
      if (w === 3) expect(result.reasons.find((r) => r.uid === 2 && r.rule === 'gather-exclusion')?.inputs).toMatchObject({ excluded: true, negativeStreak: 3 });
    }
    // Highest rated, yet out of the gather list while its streak lasts.
    expect(state.peers['2']!.weight).toBeGreaterThan(0);
    expect(selectGatherPeers(state, [2, 3], { ...v2026, gatherPeers: 2 }, 1).peers).toEqual([3]);
    expect(selectGatherPeers(state, [2, 3], { ...v213, gatherPeers: 2 }, 1).peers).toContain(2);
    // The state keeps the history through a save and load.
    expect(deserializeState(serializeState(state)).peers['2']).toMatchObject({ negativeStreak: 8, firstEvalWindow: 1 });
  });

  it('B below 0.10 counts as 0 in the final score from 10 windows after the first evaluation', () => {
    // First evaluated in window 1 with B just below the floor; evaluated positive again in windows 10 and 11.
    const alpha = v2026.binaryScoreMaAlpha;
    let state = stateWith(v2026, { 2: { b: 0.02, mu: 40, sigma: 1 }, 3: { b: 0.5, mu: 30, sigma: 1 } });
    const evaluate = (w: number, s: ValidatorScoringState): ReturnType<typeof scoreWindow> => scoreWindow(s, uid2NegativeUid3Positive(w), v2026);
    state = evaluate(1, state).state;
    // B = 0.95 · 0.02 − 0.05 < 0 here; lift it to 0.05 (above 0, below the floor) to see the rule alone.
    state.peers['2']!.binaryMovingAverage = (0.05 + alpha) / (1 - alpha);
    const tenth = evaluate(10, state); // 9 windows after the first evaluation: B still counts
    const bAt10 = 0.05;
    expect(tenth.state.peers['2']!.binaryMovingAverage).toBeCloseTo(bAt10, 12);
    expect(tenth.state.peers['2']!.finalScore).toBeCloseTo(ordinal(tenth.state.peers['2']!.rating) * bAt10, 12);
    const next = tenth.state;
    next.peers['2']!.binaryMovingAverage = (0.05 + alpha) / (1 - alpha);
    const eleventh = evaluate(11, next); // 10 windows after: B 0.05 < 0.10 counts as 0
    expect(eleventh.state.peers['2']!.binaryMovingAverage).toBeCloseTo(0.05, 12);
    expect(eleventh.state.peers['2']!.finalScore).toBe(0);
    expect(eleventh.reasons.find((r) => r.uid === 2 && r.rule === 'final-score')!.inputs).toMatchObject({ binaryFloorApplies: true });
  });

  it('sync: the interquartile mean of steps behind, the window-3 curve, a slash above 2 steps', () => {
    // Steps behind per element: |peer − validator| / avgChange with avgChange 1.
    const steps = [0.1, 0.2, 2.4, 2.5, 2.6, 2.7, 9, 50];
    const validator = { t: steps.map(() => 0) };
    const peer = { t: steps };
    const avg = { t: steps.map(() => 1) };
    // IQM of 8 values: drop the 2 lowest and 2 highest, mean of 2.4, 2.5, 2.6, 2.7 = 2.55; the lower median is 2.5.
    expect(interquartileMean(steps)).toBeCloseTo(2.55, 12);
    expect(compareWithDebugSlices(peer, validator, avg, 'interquartile-mean')).toMatchObject({ ok: true, stepsBehind: 2.55 });
    expect(compareWithDebugSlices(peer, validator, avg)).toMatchObject({ ok: true, stepsBehind: 2.5 });

    const state = stateWith(v2026, { 2: { final: 1, b: 0.5 }, 3: { final: 1, b: 0.5 } });
    state.paramAvgChange = avg;
    state.previousSlices = validator;
    const step = inputs(1, {
      submittedUids: [2, 3],
      gather: { gatheredUids: [2, 3], skippedUids: [], successRate: 1, gatherList: [2, 3] },
      validatorSlices: validator,
      peerSlices: { 2: peer, 3: validator },
    });
    const now = scoreWindow(state, step, v2026);
    expect(now.state.peers['2']!.syncScore).toBeCloseTo((1 - 2.55 / 3) ** 2.5, 12);
    expect(rules(now, 2)).toContain('sync-slash'); // 2.55 > 2
    const old = scoreWindow({ ...state, peers: { ...state.peers } }, step, v213);
    expect(old.state.peers['2']!.syncScore).toBeCloseTo((1 - 2.5 / 5) ** 2.5, 12);
    expect(rules(old, 2)).not.toContain('sync-slash'); // 2.5 ≤ 3
  });

  it('a copier is compared with every submission read, evaluated or gathered, and its ban lasts 20 windows', () => {
    const chunks = [[1, 2, 3, 4], [5, 6, 7, 8]];
    const other = [[9, 10, 11, 12], [13, 14, 15, 16]];
    const step = (config: ScoringConfig): ReturnType<typeof scoreWindow> => {
      const state = stateWith(config, { 2: { final: 1, b: 0.5 }, 3: { final: 1, b: 0.5 }, 4: { final: 1, b: 0.5 } });
      state.globalStep = config.overlapGraceSteps;
      // uid 4 was evaluated, not gathered; its indices are uid 2's and it uploaded later.
      return scoreWindow(state, inputs(1, {
        submittedUids: [2, 3, 4],
        gather: { gatheredUids: [2, 3], skippedUids: [], successRate: 1, gatherList: [2, 3] },
        evalUids: [4],
        indexSets: { 2: { t: chunks }, 3: { t: other }, 4: { t: chunks } },
        uploadTimes: { 2: 1000, 3: 1000, 4: 2000 },
      }), config);
    };
    const now = step(v2026);
    expect(now.reasons.find((r) => r.uid === 4 && r.rule === 'overlap-slash')!.inputs).toMatchObject({ overlap: 1, tier: 'mega', partner: 2 });
    expect(now.state.peers['4']!.naughtyWindowsLeft).toBe(20 - 1);
    expect(now.state.peers['2']!.finalScore).toBe(1);
    expect(step(v213).state.peers['4']!.naughtyWindowsLeft).toBe(200 - 1);
  });
});

describe('relative overlap (ours, in the 2026 profile)', () => {
  /**
   * Five honest peers (uids 2–6) of k = 20 entries in one chunk, each pair sharing `shared` entries
   * (overlap shared/20); uid 7 shares as many with each of 3–6 and takes `copied` of uid 2's own
   * entries: overlap copied/20 with uid 2.
   */
  function population(shared: number, copied: number): Record<string, { t: number[][] }> {
    let next = 1000;
    const uids = [2, 3, 4, 5, 6, 7];
    const entries = new Map<number, number[]>(uids.map((uid) => [uid, []]));
    for (let i = 0; i < uids.length; i++) {
      for (let j = i + 1; j < uids.length; j++) {
        if (uids[i] === 2 && uids[j] === 7) continue;
        const common = Array.from({ length: shared }, () => next++);
        entries.get(uids[i]!)!.push(...common);
        entries.get(uids[j]!)!.push(...common);
      }
    }
    const two = entries.get(2)!;
    const sharedByTwo = two.length;
    while (two.length < 20) two.push(next++);
    entries.get(7)!.push(...two.slice(sharedByTwo, sharedByTwo + copied));
    for (const list of entries.values()) while (list.length < 20) list.push(next++);
    return Object.fromEntries([...entries].map(([uid, list]) => [String(uid), { t: [list] }]));
  }
  const times = { 2: 1000, 3: 1000, 4: 1000, 5: 1000, 6: 1000, 7: 2000 };
  const margin = profileRules('templar-2026').relativeOverlapMargin;

  it('flags a pair 0.15 above both peers’ median overlap, on Templar’s ladder shifted to the baseline; no honest pair', () => {
    expect(margin).toBe(0.15);
    // Honest pairs at 0.10; uid 7 takes 6 of uid 2's entries: 0.30. The baseline is the most either shares with a third peer, 0.1: excess 0.2, high.
    const high = findOverlaps(population(2, 6), times, v2026, margin);
    expect(high).toHaveLength(1);
    expect(high[0]).toMatchObject({ uidA: 2, uidB: 7, tier: 'high', offenders: [7], baseline: 0.1 });
    expect(high[0]!.overlap).toBeCloseTo(0.3, 12);
    // Honest pairs at 0.05, 7 entries taken: 0.35, excess 0.30 ≥ 0.15 + 0.1: max (a reset), still under the fixed 0.40 threshold.
    expect(findOverlaps(population(1, 7), times, v2026, margin)[0]).toMatchObject({ uidA: 2, uidB: 7, tier: 'max', baseline: 0.05 });
    // The fixed threshold alone (v2.1.3) flags neither; nor does the margin with fewer than 4 others to compare with.
    expect(findOverlaps(population(2, 6), times, v213, profileRules('templar-v2.1.3').relativeOverlapMargin)).toEqual([]);
    expect(findOverlaps(population(1, 7), times, v213, null)).toEqual([]);
    const few = population(2, 6);
    expect(findOverlaps({ 2: few['2']!, 3: few['3']!, 7: few['7']! }, times, v2026, margin)).toEqual([]);
  });

  it('uploads that share nothing with anyone cannot make honest peers look like copies', () => {
    // Three honest peers sharing 4 of 20 entries pairwise (0.2), beside six uploads of entries of their own (overlap 0):
    // a median baseline would be 0 and every honest pair 0.2 above it; the baseline is the most a peer shares with a third, 0.2.
    let next = 5000;
    const honestUids = [2, 3, 4];
    const entries = new Map<number, number[]>(honestUids.map((uid) => [uid, []]));
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) {
      const common = Array.from({ length: 4 }, () => next++);
      entries.get(honestUids[i]!)!.push(...common);
      entries.get(honestUids[j]!)!.push(...common);
    }
    for (const list of entries.values()) while (list.length < 20) list.push(next++);
    for (let uid = 10; uid < 16; uid++) entries.set(uid, Array.from({ length: 20 }, () => next++));
    const sets = Object.fromEntries([...entries].map(([uid, list]) => [String(uid), { t: [list] }]));
    const pairs = pairOverlaps(sets).filter((p) => honestUids.includes(p.uidA) && honestUids.includes(p.uidB));
    expect(pairs.map((p) => [p.overlap, p.baseline])).toEqual([[0.2, 0.2], [0.2, 0.2], [0.2, 0.2]]);
    expect(findOverlaps(sets, {}, v2026, margin)).toEqual([]);
  });
});
