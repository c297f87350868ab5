/**
 * OpenSkill Plackett–Luce ratings (gauntlet-spec §7.3, `Validator.update_openskill_ratings`):
 * one free-for-all match per window among the evaluated peers, one player per team, ranked by
 * LossScore (higher is better), β = `openskillBeta` (7), τ = `openskillTau` (0.1), μ₀ = 25,
 * σ₀ = 25/3, κ = 1e-4, no margin, no sigma limit, no balance.
 *
 * Tie handling (deliberate, tested): the npm `openskill` 5.0.1 package gives tied players a
 * shared rank but then updates each tied player's μ from its own rating, while openskill.py
 * 6.1.3 (the library Templar pins) replaces each tied player's μ change by the average change of
 * its tie group. We follow openskill.py, because we mirror the Templar validator: we call the npm
 * package and then average the μ changes within each group of exactly equal scores (σ is left as
 * the package computes it, as in openskill.py). We do NOT copy openskill.py's quirk of replacing
 * a score of exactly 0.0 by the team index (a falsy-value bug): a LossScore of 0 ranks like any
 * other number.
 */

import { rate } from 'openskill';
import type { ScoringConfig } from '../config.ts';
import type { SkillRating } from './types.ts';

/** Initial rating of an unrated player (openskill defaults, §7.3). */
export const OPENSKILL_MU0 = 25;
export const OPENSKILL_SIGMA0 = 25 / 3;

/** `ordinal = μ − 3σ` (openskill `ordinal`, z = 3); unrated players count as 0 (§7.2 binning). */
export function ordinal(rating: SkillRating | null): number {
  return rating === null ? 0 : rating.mu - 3 * rating.sigma;
}

/**
 * Rates one match. `ratings[i]` is player i's prior (`null` = unrated), `scores[i]` its LossScore.
 * Needs at least two players: a single evaluated peer waits for the next window (the caller keeps
 * its score pending), so a one-player match is a programming error here.
 */
export function rateMatch(
  ratings: readonly (SkillRating | null)[],
  scores: readonly number[],
  config: Pick<ScoringConfig, 'openskillBeta' | 'openskillTau'>,
): SkillRating[] {
  if (ratings.length !== scores.length) {
    throw new RangeError(`rateMatch: ${ratings.length} ratings but ${scores.length} scores`);
  }
  if (ratings.length < 2) throw new RangeError('rateMatch: an OpenSkill match needs at least two players');
  const priors = ratings.map((r) => r ?? { mu: OPENSKILL_MU0, sigma: OPENSKILL_SIGMA0 });
  const teams = priors.map((r) => [{ mu: r.mu, sigma: r.sigma }]);
  const rated = rate(teams, {
    score: [...scores],
    beta: config.openskillBeta,
    tau: config.openskillTau,
    mu: OPENSKILL_MU0,
    sigma: OPENSKILL_SIGMA0,
    kappa: 1e-4,
    limitSigma: false,
    balance: false,
  });
  const updated = rated.map((team, i) => {
    const player = team[0];
    if (player === undefined) throw new RangeError(`rateMatch: openskill returned an empty team ${i}`);
    return { mu: player.mu, sigma: player.sigma };
  });
  // openskill.py tie rule: every member of a tie group gets the group's average μ change.
  const groups = new Map<number, number[]>();
  scores.forEach((score, i) => {
    const members = groups.get(score) ?? [];
    members.push(i);
    groups.set(score, members);
  });
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    let sum = 0;
    for (const i of members) sum += updated[i]!.mu - priors[i]!.mu;
    const averageChange = sum / members.length;
    for (const i of members) updated[i] = { mu: priors[i]!.mu + averageChange, sigma: updated[i]!.sigma };
  }
  return updated;
}
