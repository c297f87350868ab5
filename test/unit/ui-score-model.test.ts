import { describe, expect, it } from 'vitest';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { createScoringState, newPeerState, type ScoreReason, type ValidatorScoringState } from '../../src/core/scoring/index.ts';
import { buildBreakdowns, buildLeaderboard, buildWhy, describeReason } from '../../src/ui/score-model.ts';

const config = tinyRunConfig().scoring;

/** A state with uids 1 (burn), 2 and 3, numbers chosen by hand. */
function state(): ValidatorScoringState {
  const s = createScoringState();
  s.peers['1'] = { ...newPeerState(config), weight: 0.5 };
  s.peers['2'] = { ...newPeerState(config), rating: { mu: 29, sigma: 9 }, binaryMovingAverage: 0.375, syncScore: 1, finalScore: 0.75, weight: 0.2 };
  s.peers['3'] = { ...newPeerState(config), rating: { mu: 31, sigma: 8 }, binaryMovingAverage: 0.5, syncScore: 1, finalScore: 3.5, weight: 0.3 };
  return s;
}

const reason = (window: number, uid: number, rule: ScoreReason['rule'], inputs: ScoreReason['inputs'], before: ScoreReason['before'], after: ScoreReason['after']): ScoreReason => ({ window, uid, rule, inputs, before, after });

describe('rewards dashboard model', () => {
  // uid 2: final = (29 − 27) × max(0, 0.5) × 1 = 1 in window 10, then a sync slash × 0.75 → 0.75 (B 0.5 → 0.375).
  const reasons = [
    reason(10, 2, 'final-score', { ordinal: 2, binaryMovingAverage: 0.5, syncScore: 1 }, { finalScore: 0 }, { finalScore: 1 }),
    reason(11, 2, 'sync-slash', { rate: 0.75, stepsBehind: 4.5, syncMaxStepsBehind: 3 }, { finalScore: 1, binaryMovingAverage: 0.5 }, { finalScore: 0.75, binaryMovingAverage: 0.375 }),
    reason(11, 3, 'final-score', { ordinal: 7, binaryMovingAverage: 0.5, syncScore: 1 }, { finalScore: 0 }, { finalScore: 3.5 }),
  ];

  it('explains a final score by its product and every later change', () => {
    const why = buildWhy(state(), reasons, 2);
    expect(why.computedInWindow).toBe(10);
    expect(why.product).toBe(1);
    expect(why.finalAtComputation).toBe(1);
    expect(why.laterChanges).toHaveLength(1);
    expect(why.laterChanges[0]).toMatchObject({ window: 11, rule: 'sync-slash', finalBefore: 1, finalAfter: 0.75 });
    expect(why.laterChanges[0]!.text).toContain('4.50 outer steps behind');
    expect(why.currentFinal).toBe(0.75);
  });

  it('lists a copy reset after the computation even when final was already 0', () => {
    const reset = reason(12, 3, 'overlap-slash', { overlap: 0.55, tier: 'max', partner: 2, threshold: 0.4 }, { finalScore: 0, binaryMovingAverage: 0.5, naughtyWindowsLeft: 0 }, { finalScore: 0, binaryMovingAverage: 0, naughtyWindowsLeft: 0 });
    const why = buildWhy(state(), [...reasons, reset], 3);
    expect(why.product).toBe(3.5);
    expect(why.laterChanges.map((c) => c.rule)).toEqual(['overlap-slash']);
    expect(describeReason(reset)).toContain('55.0 % with uid 2');
  });

  it('puts the 2026 profile\'s rules in words with their numbers', () => {
    const p = { profile: 'templar-2026' };
    expect(describeReason(reason(12, 2, 'gather-skip-slash', { ...p, rate: 0.5, successRate: 0.8, gatherPeersSlashThreshold: 0.4, consecutiveSkips: 2 }, { finalScore: 1 }, { finalScore: 0.5 }))).toBe('Missing from the gather (2 windows in a row) (success rate 80.0 %): final score and B (× 0.5).');
    expect(describeReason(reason(12, 2, 'miss-ban', { ...p, missedWindows: 4, lookbackWindows: 8, banWindows: 8 }, {}, {}))).toContain('Missing in 4 of the last 8 windows');
    expect(describeReason(reason(12, 2, 'negative-evaluations-slash', { ...p, rate: 0.25, negatives: 3, evaluations: 4, lookbackWindows: 8 }, {}, {}))).toContain('3 of its 4 evaluations in the last 8 windows');
    expect(describeReason(reason(12, 2, 'gather-exclusion', { ...p, excluded: true, negativeStreak: 3, streakExcludesFromGather: 3 }, {}, {}))).toContain('3 negative evaluations in a row');
    expect(describeReason(reason(12, 2, 'final-score', { ...p, ordinal: 2, binaryMovingAverage: 0.05, syncScore: 1, binaryFloorApplies: true }, { finalScore: 1 }, { finalScore: 0 }))).toContain('counted as 0: below the floor');
    expect(describeReason(reason(12, 7, 'overlap-slash', { ...p, overlap: 0.35, tier: 'max', partner: 2, threshold: 0.4, baseline: 0.05, relativeMargin: 0.15 }, {}, {}))).toContain('35.0 % with uid 2 (both peers overlap 5.0 % or less with the others)');
  });

  it('says so when a peer was never rated', () => {
    const s = state();
    s.peers['4'] = newPeerState(config);
    const why = buildWhy(s, reasons, 4);
    expect(why.product).toBeNull();
    expect(why.weightText).toContain('earns no weight');
    expect(why.waitedAloneInWindow).toBeNull();
  });

  it('says in which window a peer waited alone for a match (an OpenSkill match needs two evaluated peers)', () => {
    const s = state();
    s.peers['4'] = newPeerState(config);
    const alone = [reason(20, 4, 'openskill-pending', { lossScore: 0.01, players: 1 }, {}, {}), reason(23, 4, 'openskill-pending', { lossScore: 0.02, players: 1 }, {}, {})];
    const why = buildWhy(s, [...reasons, ...alone], 4);
    expect(why.product).toBeNull();
    expect(why.waitedAloneInWindow).toBe(23);
    // Another uid's wait is not this one's.
    expect(buildWhy(s, [...reasons, ...alone], 2).waitedAloneInWindow).toBeNull();
  });

  it('builds breakdowns without the burn uid and ranks the leaderboard by weight', () => {
    const peers = buildBreakdowns(state(), reasons, config);
    expect(peers.map((p) => p.uid)).toEqual([2, 3]);
    expect(peers[0]!.ordinal).toBe(29 - 3 * 9);
    expect(peers[0]!.slashes.map((s) => s.rule)).toEqual(['sync-slash']);
    expect(peers[1]!.slashes).toEqual([]);
    expect(buildLeaderboard(peers).map((r) => [r.rank, r.uid])).toEqual([
      [1, 3],
      [2, 2],
    ]);
  });
});
