import { rate } from 'openskill';
import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../src/core/prng.ts';
import { OPENSKILL_MU0, OPENSKILL_SIGMA0, ordinal, rateMatch, type SkillRating } from '../../src/core/scoring/index.ts';

const CONFIG = { openskillBeta: 7, openskillTau: 0.1 };
const KAPPA = 1e-4;

/**
 * Independent float64 implementation of gauntlet-spec §7.3 (Plackett–Luce, one player per team),
 * written from the formulas, including openskill.py's tie rule (a tie group shares its average μ change).
 */
function referencePlackettLuce(priors: SkillRating[], scores: number[], beta: number, tau: number, averageTies: boolean): SkillRating[] {
  const n = priors.length;
  const sigma = priors.map((p) => Math.sqrt(p.sigma * p.sigma + tau * tau));
  const mu = priors.map((p) => p.mu);
  const order = scores.map((_, i) => i).sort((a, b) => -scores[a]! - -scores[b]!);
  const rank = new Array<number>(n);
  order.forEach((player, position) => {
    const first = order.findIndex((p) => scores[p] === scores[player]);
    rank[player] = first <= position ? first : position;
  });
  let c2 = 0;
  for (let k = 0; k < n; k++) c2 += sigma[k]! ** 2 + beta * beta;
  const c = Math.sqrt(c2);
  const e = mu.map((m) => Math.exp(m / c));
  const S = rank.map((rq) => e.reduce((acc, ek, k) => (rank[k]! >= rq ? acc + ek : acc), 0));
  const A = rank.map((rq) => rank.filter((rk) => rk === rq).length);
  const out: SkillRating[] = [];
  for (let i = 0; i < n; i++) {
    let omega = 0;
    let delta = 0;
    for (let q = 0; q < n; q++) {
      if (rank[q]! > rank[i]!) continue;
      const quotient = e[i]! / S[q]!;
      omega += ((q === i ? 1 : 0) - quotient) / A[q]!;
      delta += (quotient * (1 - quotient)) / A[q]!;
    }
    const s2 = sigma[i]! ** 2;
    const newMu = mu[i]! + (s2 / c) * omega;
    const newSigma = sigma[i]! * Math.sqrt(Math.max(1 - (s2 / c2) * (sigma[i]! / c) * delta, KAPPA));
    out.push({ mu: newMu, sigma: newSigma });
  }
  if (averageTies) {
    const unaveraged = out.map((r) => ({ ...r }));
    for (let i = 0; i < n; i++) {
      const group = scores.map((s, k) => (s === scores[i] ? k : -1)).filter((k) => k >= 0);
      if (group.length < 2) continue;
      const avg = group.reduce((acc, k) => acc + (unaveraged[k]!.mu - mu[k]!), 0) / group.length;
      out[i] = { mu: mu[i]! + avg, sigma: out[i]!.sigma };
    }
  }
  return out;
}

function randomMatch(seed: number, players: number): { priors: SkillRating[]; scores: number[] } {
  const rng = new Xoshiro128(seed);
  const priors = Array.from({ length: players }, () => ({ mu: 15 + rng.nextFloat() * 20, sigma: 1 + rng.nextFloat() * 7 }));
  const scores = Array.from({ length: players }, () => (rng.nextFloat() - 0.3) * 0.05);
  return { priors, scores };
}

describe('rateMatch (OpenSkill Plackett–Luce, §7.3)', () => {
  it('matches the float64 formulas of §7.3 for random matches without ties', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const { priors, scores } = randomMatch(seed, 2 + (seed % 9));
      const ours = rateMatch(priors, scores, CONFIG);
      const reference = referencePlackettLuce(priors, scores, 7, 0.1, true);
      ours.forEach((r, i) => {
        expect(r.mu).toBeCloseTo(reference[i]!.mu, 10);
        expect(r.sigma).toBeCloseTo(reference[i]!.sigma, 10);
      });
    }
  });

  it('unrated players start at μ0 = 25, σ0 = 25/3, and the best LossScore gains the most', () => {
    const ours = rateMatch([null, null, null], [0.01, 0.03, -0.02], CONFIG);
    const prior = { mu: OPENSKILL_MU0, sigma: OPENSKILL_SIGMA0 };
    const reference = referencePlackettLuce([prior, prior, prior], [0.01, 0.03, -0.02], 7, 0.1, true);
    ours.forEach((r, i) => expect(r.mu).toBeCloseTo(reference[i]!.mu, 10));
    expect(ours[1]!.mu).toBeGreaterThan(ours[0]!.mu);
    expect(ours[0]!.mu).toBeGreaterThan(ours[2]!.mu);
    // Zero-sum in μ for equal priors and sigmas (symmetric PL update).
    expect(ours.reduce((a, r) => a + r.mu - 25, 0)).toBeCloseTo(0, 9);
  });

  it('tie rule: tied players share the tie group average μ change (openskill.py), unlike the raw npm package', () => {
    const priors = [
      { mu: 30, sigma: 4 },
      { mu: 20, sigma: 6 },
      { mu: 25, sigma: 5 },
      { mu: 22, sigma: 3 },
    ];
    const scores = [0.02, 0.02, -0.01, 0.005];
    const ours = rateMatch(priors, scores, CONFIG);
    const reference = referencePlackettLuce(priors, scores, 7, 0.1, true);
    ours.forEach((r, i) => {
      expect(r.mu).toBeCloseTo(reference[i]!.mu, 10);
      expect(r.sigma).toBeCloseTo(reference[i]!.sigma, 10);
    });
    // Tied players moved by the same amount.
    expect(ours[0]!.mu - 30).toBeCloseTo(ours[1]!.mu - 20, 12);
    // The npm package alone does not average: its μ differs for the tied pair (documented difference).
    const raw = rate(priors.map((p) => [p]), { score: scores, beta: 7, tau: 0.1 });
    const rawNoAverage = referencePlackettLuce(priors, scores, 7, 0.1, false);
    expect(raw[0]![0]!.mu).toBeCloseTo(rawNoAverage[0]!.mu, 10);
    expect(Math.abs(raw[0]![0]!.mu - ours[0]!.mu)).toBeGreaterThan(1e-3);
  });

  it('a LossScore of exactly 0 ranks as a number (no openskill.py falsy-zero quirk)', () => {
    const priors = [
      { mu: 25, sigma: 5 },
      { mu: 25, sigma: 5 },
      { mu: 25, sigma: 5 },
    ];
    const scores = [-0.01, 0, 0.01];
    const ours = rateMatch(priors, scores, CONFIG);
    const reference = referencePlackettLuce(priors, scores, 7, 0.1, true);
    ours.forEach((r, i) => expect(r.mu).toBeCloseTo(reference[i]!.mu, 10));
    expect(ours[2]!.mu).toBeGreaterThan(ours[1]!.mu);
    expect(ours[1]!.mu).toBeGreaterThan(ours[0]!.mu);
  });

  it('all players tied: every μ moves by the same average change', () => {
    const priors = [
      { mu: 28, sigma: 4 },
      { mu: 22, sigma: 6 },
    ];
    const ours = rateMatch(priors, [0.01, 0.01], CONFIG);
    const reference = referencePlackettLuce(priors, [0.01, 0.01], 7, 0.1, true);
    ours.forEach((r, i) => expect(r.mu).toBeCloseTo(reference[i]!.mu, 10));
    expect(ours[0]!.mu - 28).toBeCloseTo(ours[1]!.mu - 22, 12);
  });

  it('refuses matches of fewer than two players and mismatched lengths', () => {
    expect(() => rateMatch([], [], CONFIG)).toThrow(RangeError);
    expect(() => rateMatch([null], [0.1], CONFIG)).toThrow(/at least two/);
    expect(() => rateMatch([null, null], [0.1], CONFIG)).toThrow(RangeError);
  });

  it('ordinal = μ − 3σ, unrated = 0', () => {
    expect(ordinal(null)).toBe(0);
    expect(ordinal({ mu: 25, sigma: 25 / 3 })).toBeCloseTo(0, 12);
    expect(ordinal({ mu: 30, sigma: 2 })).toBe(24);
  });
});
