import { describe, expect, it } from 'vitest';
import { adamwStepReference, adamwStepScalars, clipScaleForNorm, type AdamWHyperparameters } from '../../src/core/adamw.ts';
import { gaussianArray } from '../../src/core/prng.ts';

const hyper: AdamWHyperparameters = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

/**
 * Independent float64 AdamW written from the textbook form (Loshchilov & Hutter; torch docs):
 * bias-corrected moments m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), θ ← θ(1−lrλ) − lr·m̂/(√v̂ + ε).
 * Note this form puts ε outside √v̂, as torch does (ε is added after dividing √v by √bc2).
 */
function adamwFloat64(param: number[], grads: number[][], h: AdamWHyperparameters, clip: number): number[] {
  const p = [...param];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((grad, s) => {
    const t = s + 1;
    for (let i = 0; i < p.length; i++) {
      const g = grad[i]! * clip;
      p[i] = p[i]! * (1 - h.lr * h.weightDecay);
      m[i] = h.beta1 * m[i]! + (1 - h.beta1) * g;
      v[i] = h.beta2 * v[i]! + (1 - h.beta2) * g * g;
      const mHat = m[i]! / (1 - h.beta1 ** t);
      const vHat = v[i]! / (1 - h.beta2 ** t);
      p[i] = p[i]! - (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
    }
  });
  return p;
}

describe('AdamW reference (src/core/adamw.ts)', () => {
  it('matches an independent float64 AdamW over 20 steps', () => {
    const n = 1000;
    const param = gaussianArray(n, 1, 0.5);
    const grads = Array.from({ length: 20 }, (_, s) => gaussianArray(n, 100 + s, 0.1));
    const expected = adamwFloat64(Array.from(param), grads.map((g) => Array.from(g)), hyper, 0.7);
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    grads.forEach((g, s) => adamwStepReference(param, g, m, v, adamwStepScalars(hyper, s + 1), 0.7));
    let maxRel = 0;
    for (let i = 0; i < n; i++) maxRel = Math.max(maxRel, Math.abs(param[i]! - expected[i]!) / Math.max(1e-3, Math.abs(expected[i]!)));
    expect(maxRel).toBeLessThan(1e-5);
  });

  it('moves the first step by lr·sign(g) when weight decay is off (bias correction makes m̂/√v̂ = ±1)', () => {
    const param = new Float32Array([0.5, -0.25, 2]);
    const grad = new Float32Array([3, -0.001, 40]);
    const noDecay = { ...hyper, weightDecay: 0, eps: 0 };
    adamwStepReference(param, grad, new Float32Array(3), new Float32Array(3), adamwStepScalars(noDecay, 1));
    expect(param[0]).toBeCloseTo(0.5 - 1e-3, 6);
    expect(param[1]).toBeCloseTo(-0.25 + 1e-3, 6);
    expect(param[2]).toBeCloseTo(2 - 1e-3, 6);
  });

  it('rejects mismatched lengths and invalid step numbers', () => {
    const a = new Float32Array(3);
    expect(() => adamwStepReference(a, new Float32Array(2), a, a, adamwStepScalars(hyper, 1))).toThrow(RangeError);
    expect(() => adamwStepScalars(hyper, 0)).toThrow(RangeError);
  });

  it('clips by global norm like torch.nn.utils.clip_grad_norm_', () => {
    expect(clipScaleForNorm(0.5, 1)).toBe(1);
    expect(clipScaleForNorm(4, 1)).toBeCloseTo(1 / (4 + 1e-6), 7);
    expect(clipScaleForNorm(4, 0)).toBe(1);
  });
});
