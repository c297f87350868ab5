/**
 * Inner learning-rate schedule (gauntlet-spec §5.1, v2.1.3 `Trainer.get_inner_scheduler`): torch's
 * `SequentialLR([LinearLR(start_factor, 1, warmupSteps), CosineAnnealingLR(cosineSteps, eta_min)])`,
 * stepped once per inner step, written in closed form so every peer computes the same lr from the
 * step count alone (the scheduler state is never transmitted; §2 "replayed").
 *
 * Deliberate difference: past the end of the cosine the lr stays at eta_min, where torch's closed
 * form would rise again along the periodic cosine.
 */
import type { InnerOptimizerConfig } from './config.ts';

/** LinearLR's start factor in v2.1.3 (1e-6 → 1). */
export const WARMUP_START_FACTOR = 1e-6;

/**
 * Learning rate of the optimizer step that follows `schedulerSteps` scheduler steps (0 for the
 * very first inner step of a run).
 */
export function innerLearningRate(cfg: Pick<InnerOptimizerConfig, 'lr' | 'warmupSteps' | 'cosineSteps' | 'minLrRatio'>, schedulerSteps: number): number {
  if (!Number.isInteger(schedulerSteps) || schedulerSteps < 0) {
    throw new RangeError(`scheduler step must be a non-negative integer, got ${schedulerSteps}`);
  }
  if (schedulerSteps < cfg.warmupSteps) {
    return cfg.lr * (WARMUP_START_FACTOR + ((1 - WARMUP_START_FACTOR) * schedulerSteps) / cfg.warmupSteps);
  }
  const etaMin = cfg.minLrRatio * cfg.lr;
  if (cfg.cosineSteps <= 0) return cfg.lr;
  const progress = Math.min(1, (schedulerSteps - cfg.warmupSteps) / cfg.cosineSteps);
  return etaMin + ((cfg.lr - etaMin) * (1 + Math.cos(Math.PI * progress))) / 2;
}
