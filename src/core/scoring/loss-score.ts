/**
 * Stage 2 (gauntlet-spec §7.2, the evaluation block of v2.1.3 `Validator.run`): from the losses
 * before and after a 0.2× trial step with one peer's pseudo-gradient, the LossScore on random data,
 * the improvement on the peer's own data, and the binary "unique computation" indicator.
 */

/** `LossScore = (L_rand_before − L_rand_after) / L_rand_before` (`gradient_scores`). */
export function lossScore(lossRandomBefore: number, lossRandomAfter: number): number {
  return (lossRandomBefore - lossRandomAfter) / lossRandomBefore;
}

/** `imp_own = (L_own_before − L_own_after) / L_own_before`. */
export function ownImprovement(lossOwnBefore: number, lossOwnAfter: number): number {
  return (lossOwnBefore - lossOwnAfter) / lossOwnBefore;
}

/** `b = +1 if imp_own > LossScore else −1`: a peer must help its own assigned data more than random data. */
export function binaryIndicator(ownImprovementValue: number, lossScoreValue: number): 1 | -1 {
  return ownImprovementValue > lossScoreValue ? 1 : -1;
}

/** `B ← (1 − α)·B + α·b` with α = `binaryScoreMaAlpha` (0.05) (`binary_moving_averages`). */
export function updateBinaryMovingAverage(previous: number, indicator: number, alpha: number): number {
  return (1 - alpha) * previous + alpha * indicator;
}
