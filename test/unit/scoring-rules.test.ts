import { describe, expect, it } from 'vitest';
import {
  binaryIndicator,
  binEvaluationPeers,
  compareWithDebugSlices,
  createScoringState,
  findOverlaps,
  finalScore,
  indexOverlap,
  lossScore,
  overlapTier,
  ownImprovement,
  powerWeights,
  rankWeights,
  ScoringInputError,
  selectEvaluationUids,
  selectGatherPeers,
  syncScoreFromSteps,
  toChainWeights,
  updateBinaryMovingAverage,
  updateParamAvgChange,
  type ValidatorScoringState,
} from '../../src/core/scoring/index.ts';
import { portablePow } from '../../src/core/scoring/portable-math.ts';
import { newPeerState } from '../../src/core/scoring/state.ts';
import { testScoringConfig } from './scoring-helpers.ts';

const config = testScoringConfig();

describe('stage 2 formulas (§7.2)', () => {
  it('LossScore, own improvement, binary indicator and B, by hand', () => {
    expect(lossScore(400, 396)).toBeCloseTo(4 / 400, 15);
    expect(ownImprovement(410, 402)).toBeCloseTo(8 / 410, 15);
    expect(binaryIndicator(8 / 410, 4 / 400)).toBe(1);
    expect(binaryIndicator(0.001, 0.01)).toBe(-1);
    // Equal improvements are not "better than random": −1.
    expect(binaryIndicator(0.01, 0.01)).toBe(-1);
    expect(updateBinaryMovingAverage(0.5, 1, 0.05)).toBeCloseTo(0.525, 15);
    expect(updateBinaryMovingAverage(0, -1, 0.05)).toBeCloseTo(-0.05, 15);
  });

  it('final = ordinal × max(0, B) × sync (§7.4)', () => {
    expect(finalScore(3, 0.5, 0.8)).toBeCloseTo(1.2, 15);
    expect(finalScore(3, -0.2, 1)).toBe(0);
    expect(finalScore(-2, 0.5, 1)).toBe(-1);
  });
});

describe('sync score (§7.1)', () => {
  it('sync = max(0, 1 − min(steps, 5)/5)^2.5', () => {
    expect(syncScoreFromSteps(0, config)).toBe(1);
    expect(syncScoreFromSteps(2.5, config)).toBeCloseTo(Math.pow(0.5, 2.5), 15);
    expect(syncScoreFromSteps(5, config)).toBe(0);
    expect(syncScoreFromSteps(12, config)).toBe(0);
  });

  it('stepsBehind is the median of |Δ| / max(avgChange, 1e-9) over compared elements', () => {
    const validator = { a: [1.0, 2.0], b: [0.5, -0.5] };
    const peer = { a: [1.003, 1.998], b: [0.505, -0.5] };
    const avg = { a: [0.001, 0.002], b: [0.001, 0.001] };
    // ratios: a → 3, 1; b → 5, 0. torch.median of an even count is the lower middle value: of [0, 1, 3, 5], 1 (not 2, their mean).
    const check = compareWithDebugSlices(peer, validator, avg);
    expect(check.ok).toBe(true);
    if (check.ok) {
      expect(check.stepsBehind).toBeCloseTo(1, 9);
      expect(check.compared).toBe(4);
    }
    // Of an odd count, the middle one: [0, 1, 3] → 1; [1, 3, 5] → 3.
    const odd = (peerSlice: number[]): number | null => {
      const result = compareWithDebugSlices({ a: peerSlice }, { a: [1, 2, 0.5] }, { a: [0.001, 0.002, 0.001] });
      return result.ok ? result.stepsBehind : null;
    };
    expect(odd([1.003, 1.998, 0.5])).toBeCloseTo(1, 9);
    expect(odd([1.003, 1.998, 0.505])).toBeCloseTo(3, 9);
    // avgChange floor 1e-9: a tiny difference over a zero average is huge.
    const floored = compareWithDebugSlices({ a: [1 + 1e-6, 2 + 2e-6] }, { a: [1, 2] }, { a: [0, 0] });
    expect(floored.ok && floored.stepsBehind).toBeCloseTo(1e-6 / 1e-9, 0);
  });

  it('missing debug, missing tensor, wrong length or non-finite values fail; no reference step is not judged', () => {
    const validator = { a: [1, 2] };
    const avg = { a: [0.1, 0.1] };
    expect(compareWithDebugSlices(null, validator, avg).ok).toBe(false);
    expect(compareWithDebugSlices({}, validator, avg).ok).toBe(false);
    expect(compareWithDebugSlices({ a: [1] }, validator, avg).ok).toBe(false);
    expect(compareWithDebugSlices({ a: [1, Number.NaN] }, validator, avg).ok).toBe(false);
    expect(compareWithDebugSlices({ a: [7, 7] }, validator, {})).toEqual({ ok: true, stepsBehind: null, compared: 0 });
  });

  it('avgChange is an EMA of |Δθ| initialised with the first change', () => {
    const first = updateParamAvgChange({}, { a: [1, 2] }, { a: [1.5, 1] }, 0.2);
    expect(first.a).toEqual([0.5, 1]);
    const second = updateParamAvgChange(first, { a: [1.5, 1] }, { a: [1.5, 1.1] }, 0.2);
    expect(second.a![0]).toBeCloseTo(0.8 * 0.5 + 0.2 * 0, 15);
    expect(second.a![1]).toBeCloseTo(0.8 * 1 + 0.2 * 0.1, 12);
    // No previous slice: nothing to difference yet.
    expect(updateParamAvgChange({}, {}, { a: [1, 2] }, 0.2)).toEqual({});
  });
});

describe('weights (§7.4)', () => {
  it('power normalisation over positive finals, by hand', () => {
    const w = powerWeights(new Map([[2, 1], [3, 2], [4, -1], [5, 0]]), 2);
    expect(w.get(2)).toBeCloseTo(1 / 5, 15);
    expect(w.get(3)).toBeCloseTo(4 / 5, 15);
    expect(w.has(4)).toBe(false);
    expect(powerWeights(new Map([[2, 1e-5]]), 2).size).toBe(0); // Σ final^p < 1e-8 → all zero
  });

  it('rank weights with burn: 4 gather + 2 reserve, computed by hand', () => {
    const finals = new Map([[10, 6], [11, 5], [12, 4], [13, 3], [14, 2], [15, 1], [16, -1], [1, 99]]);
    const w = rankWeights(finals, config);
    // gather linspace(2,1,4) = [2, 5/3, 4/3, 1] (Σ 6) × 0.75 → [1/4, 5/24, 1/6, 1/8]
    // reserve [1, 0.5] (Σ 1.5) × 0.25 → [1/6, 1/12]; max 1/6 > min gather 1/8 → × 0.5·(1/8)/(1/6) = 3/8
    // → [1/16, 1/32]; total 3/4 + 3/32 = 27/32; miners' share 0.5.
    const scale = 0.5 / (27 / 32);
    const expected: [number, number][] = [[10, 1 / 4], [11, 5 / 24], [12, 1 / 6], [13, 1 / 8], [14, 1 / 16], [15, 1 / 32]];
    for (const [uid, raw] of expected) expect(w.get(uid)).toBeCloseTo(raw * scale, 14);
    expect(w.get(1)).toBe(0.5); // burn uid: never ranked, gets burnRate
    expect(w.has(16)).toBe(false);
    expect([...w.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
  });

  it('rank weights: one positive peer gets all of the miners share; none → everything burned', () => {
    const one = rankWeights(new Map([[7, 0.3], [8, 0]]), config);
    expect(one.get(7)).toBeCloseTo(0.5, 15);
    expect(one.get(1)).toBe(0.5);
    const none = rankWeights(new Map([[7, -0.3]]), config);
    expect([...none.entries()]).toEqual([[1, 1]]);
  });

  it('u16 max-upscaling: round(w / max · 65535), zeros dropped', () => {
    const chain = toChainWeights(new Map([[5, 0], [4, 0.000001], [2, 0.25], [3, 0.5]]));
    expect(chain.uids).toEqual([2, 3]);
    expect(chain.values).toEqual([Math.round(0.5 * 65535), 65535]);
    expect(toChainWeights(new Map())).toEqual({ uids: [], values: [] });
  });
});

describe('index overlap (§7.5)', () => {
  const a = { t1: [[0, 1, 2, 3], [4, 5, 6, 7]], t2: [[1, 2]] };
  const b = { t1: [[10, 9, 1, 0], [7, 6, 5, 4]], t2: [[3, 4]] };

  it('per-chunk |I_a ∩ I_b| / k, averaged over chunks, weighted by #chunks·k over tensors', () => {
    // t1: chunks 2/4 and 4/4 → 0.75, weight 2·4 = 8; t2: 0/2 → 0, weight 1·2 = 2 → 6/10.
    expect(indexOverlap(a, b)).toBeCloseTo(0.6, 15);
    expect(indexOverlap(a, { t1: [Uint16Array.from([3, 2, 1, 0]), Uint16Array.from([4, 5, 6, 7])] })).toBe(1);
    expect(indexOverlap(a, { other: [[1]] })).toBeNull();
    // Duplicated indices inside a chunk count once.
    expect(indexOverlap({ t: [[1, 1, 2, 3]] }, { t: [[1, 2, 3, 4]] })).toBeCloseTo(3 / 4, 15);
    expect(() => indexOverlap({ t: [[70000]] }, { t: [[1]] })).toThrow(ScoringInputError);
  });

  it('tiers: high < 0.5 ≤ max < 0.6 ≤ mega, nothing below the threshold', () => {
    expect(overlapTier(0.39, config)).toBeNull();
    expect(overlapTier(0.4, config)).toBe('high');
    expect(overlapTier(0.55, config)).toBe('max');
    expect(overlapTier(0.6, config)).toBe('mega');
  });

  it('the later uploader is the offender; equal times blame both', () => {
    const later = findOverlaps({ 3: a, 9: b }, { 3: 2000, 9: 1000 }, config);
    expect(later).toEqual([{ uidA: 3, uidB: 9, overlap: expect.closeTo(0.6, 12) as number, tier: 'mega', offenders: [3] }]);
    expect(findOverlaps({ 3: a, 9: b }, { 3: 1000, 9: 1000 }, config)[0]!.offenders).toEqual([3, 9]);
    expect(findOverlaps({ 3: a, 9: { t1: [[20, 21, 22, 23], [24, 25, 26, 27]] } }, {}, config)).toEqual([]);
  });
});

function stateWithRatings(ratings: Record<number, number | null>): ValidatorScoringState {
  const state = createScoringState();
  for (const [uid, ord] of Object.entries(ratings)) {
    const peer = newPeerState(config);
    peer.rating = ord === null ? null : { mu: ord + 3, sigma: 1 }; // ordinal = μ − 3σ = ord
    state.peers[uid] = peer;
  }
  return state;
}

describe('evaluation selection (§7.2)', () => {
  it('bins by ordinal, descending, unrated = 0, first bins get the remainder', () => {
    const state = stateWithRatings({ 2: 5, 3: -1, 4: null, 5: 9, 6: 2, 7: 7, 8: 1 });
    const bins = binEvaluationPeers(state, [2, 3, 4, 5, 6, 7, 8], config);
    expect(bins).toEqual([[5, 7, 2, 6], [8, 4, 3]]);
    // Fewer than bins × uidsPerWindow (2 × 3) candidates: one bin.
    expect(binEvaluationPeers(state, [2, 3, 4, 5, 6], config)).toEqual([[5, 2, 6, 4, 3]]);
    expect(binEvaluationPeers(state, [], config)).toEqual([]);
  });

  it('is deterministic in the seed and returns distinct uids from one bin', () => {
    const state = stateWithRatings({ 2: 5, 3: -1, 4: null, 5: 9, 6: 2, 7: 7, 8: 1 });
    const candidates = [2, 3, 4, 5, 6, 7, 8];
    const first = selectEvaluationUids(state, candidates, config, 1234);
    expect(selectEvaluationUids(state, candidates, config, 1234)).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
    expect(first.length).toBe(3);
    const bins = binEvaluationPeers(state, candidates, config);
    expect(bins.some((bin) => first.every((uid) => bin.includes(uid)))).toBe(true);
    expect(selectEvaluationUids(state, [4], config, 1)).toEqual([4]);
  });

  it('samples in proportion to windows since last evaluation', () => {
    const state = stateWithRatings({ 2: null, 3: null, 4: null });
    state.peers['4']!.windowsSinceEval = 8; // weights 1, 1, 8 → P(first pick = 4) = 0.8
    const one = testScoringConfig({ uidsPerWindow: 1, numEvaluationBins: 1 });
    let hits = 0;
    const draws = 4000;
    for (let seed = 0; seed < draws; seed++) if (selectEvaluationUids(state, [2, 3, 4], one, seed)[0] === 4) hits++;
    expect(hits / draws).toBeGreaterThan(0.77);
    expect(hits / draws).toBeLessThan(0.83);
  });
});

describe('gather-peer selection (§5.7)', () => {
  it('ranks by weight, skips banned and burn uids, pads with a seeded shuffle of the rest', () => {
    const state = stateWithRatings({ 1: null, 2: null, 3: null, 4: null, 5: null, 6: null, 7: null, 8: null, 9: null });
    const weights: Record<number, number> = { 1: 0.5, 2: 0.1, 3: 0.3, 4: 0.3, 5: 0, 6: 0.05 };
    for (const [uid, w] of Object.entries(weights)) state.peers[uid]!.weight = w;
    state.peers['6']!.naughtyWindowsLeft = 10;
    const list = selectGatherPeers(state, [1, 2, 3, 4, 5, 6, 7, 8, 9], config, 99);
    // 4 gather + 2 reserves; positive weights first (3 and 4 tie → uid order), then 5, 7, 8, 9 shuffled.
    expect(list.peers.slice(0, 3)).toEqual([3, 4, 2]);
    expect(list.peers).toHaveLength(4);
    expect(list.reservePeers).toHaveLength(2);
    const padded = [list.peers[3]!, ...list.reservePeers];
    expect(new Set(padded).size).toBe(3);
    for (const uid of padded) expect([5, 7, 8, 9]).toContain(uid);
    expect(selectGatherPeers(state, [1, 2, 3, 4, 5, 6, 7, 8, 9], config, 99)).toEqual(list);
    expect(selectGatherPeers(state, [2], config, 1)).toEqual({ peers: [2], reservePeers: [] });
  });
});

describe('portablePow (engine-independent powers)', () => {
  it('is exact where the true power is representable, and within an ulp of Math.pow elsewhere', () => {
    expect(portablePow(2, 10)).toBe(1024);
    expect(portablePow(4, 2.5)).toBe(32);
    expect(portablePow(0.25, 0.5)).toBe(0.5);
    expect(portablePow(0.5, 3)).toBe(0.125);
    expect(portablePow(0, 2.5)).toBe(0);
    expect(portablePow(0, 0)).toBe(1);
    for (const [x, e] of [[0.75, 2.5], [0.2, 2.5], [1.7, 2.2], [3.1, 2], [0.93, 7]] as const) {
      expect(Math.abs(portablePow(x, e) - Math.pow(x, e)) / Math.pow(x, e)).toBeLessThan(4e-16 * Math.max(1, e));
    }
  });
});
