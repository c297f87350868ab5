import { describe, expect, it } from 'vitest';
import { globalGradNorm } from '../../src/core/grad-norm';
import { innerLearningRate, WARMUP_START_FACTOR } from '../../src/core/inner-lr';

const cfg = { lr: 1e-3, warmupSteps: 10, cosineSteps: 100, minLrRatio: 0.1 };

describe('innerLearningRate (LinearLR warm-up then CosineAnnealingLR)', () => {
  it('hits the hand-computed points', () => {
    expect(innerLearningRate(cfg, 0)).toBeCloseTo(1e-3 * WARMUP_START_FACTOR, 15);
    expect(innerLearningRate(cfg, 5)).toBeCloseTo(1e-3 * (1e-6 + (1 - 1e-6) * 0.5), 15);
    expect(innerLearningRate(cfg, 10)).toBeCloseTo(1e-3, 15);
    // Half-way through the cosine: eta_min + (lr − eta_min)/2 = 0.55·lr.
    expect(innerLearningRate(cfg, 60)).toBeCloseTo(0.55e-3, 15);
    expect(innerLearningRate(cfg, 110)).toBeCloseTo(1e-4, 15);
    expect(innerLearningRate(cfg, 500)).toBeCloseTo(1e-4, 15);
  });

  it('without warm-up starts at lr, and rejects negative steps', () => {
    expect(innerLearningRate({ ...cfg, warmupSteps: 0 }, 0)).toBeCloseTo(1e-3, 15);
    expect(() => innerLearningRate(cfg, -1)).toThrow(RangeError);
  });
});

describe('globalGradNorm', () => {
  it('is the L2 norm over all tensors together (3-4-5 and 5-12-13)', () => {
    expect(globalGradNorm([Float32Array.of(3, 4)])).toBe(5);
    expect(globalGradNorm([Float32Array.of(3, 4), Float32Array.of(12)])).toBe(13);
    expect(globalGradNorm([])).toBe(0);
    expect(globalGradNorm([Float32Array.of(Number.NaN)])).toBeNaN();
  });
});
