/**
 * AdamW, the inner optimiser of SparseLoCo (gauntlet-spec §5.1: v2.1.3 `Trainer.get_inner_optimizer`,
 * torch.optim.AdamW semantics), as the CPU reference that `shaders/adamw.wgsl` is tested against.
 *
 * Per element, in this order (as torch's single-tensor AdamW):
 *   g  = grad · clipScale                          (global-norm clipping, computed once per step)
 *   θ ← θ · (1 − lr·λ)                              (decoupled weight decay)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   θ ← θ − (lr / bc1) · m / (√v · (1/√bc2) + ε)    with bc_i = 1 − β_i^t
 *
 * All arithmetic is rounded to float32 after each operation (Math.fround) so the reference follows
 * the GPU's f32 data path; the per-step scalars are computed once in float64 and rounded, and the
 * very same rounded scalars are what the GPU receives as uniforms.
 */

export interface AdamWHyperparameters {
  /** Learning rate for this step (after warm-up/cosine scheduling). */
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Decoupled weight decay λ (torch's `weight_decay`). */
  readonly weightDecay: number;
}

/** The float32 scalars one AdamW step needs: exactly what `shaders/adamw.wgsl` reads as uniforms. */
export interface AdamWStepScalars {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** lr / (1 − β1^t) */
  readonly stepSize: number;
  /** 1 / √(1 − β2^t) */
  readonly invSqrtBiasCorrection2: number;
}

/** Step scalars for optimiser step `step` (1-based, as torch's `state['step']` after increment). */
export function adamwStepScalars(h: AdamWHyperparameters, step: number): AdamWStepScalars {
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`AdamW step must be a positive integer, got ${step}`);
  const f = Math.fround;
  const biasCorrection1 = 1 - Math.pow(h.beta1, step);
  const biasCorrection2 = 1 - Math.pow(h.beta2, step);
  return {
    lr: f(h.lr),
    beta1: f(h.beta1),
    beta2: f(h.beta2),
    eps: f(h.eps),
    weightDecay: f(h.weightDecay),
    stepSize: f(h.lr / biasCorrection1),
    invSqrtBiasCorrection2: f(1 / Math.sqrt(biasCorrection2)),
  };
}

/**
 * Global-norm clipping factor, as torch.nn.utils.clip_grad_norm_: min(1, maxNorm / (‖g‖₂ + 1e-6)),
 * the norm taken over every gradient tensor together. `maxNorm ≤ 0` disables clipping.
 */
export function clipScaleForNorm(totalNorm: number, maxNorm: number): number {
  if (maxNorm <= 0 || !Number.isFinite(totalNorm)) return 1;
  return Math.fround(Math.min(1, maxNorm / (totalNorm + 1e-6)));
}

/** In-place AdamW step over one tensor (float32 semantics). */
export function adamwStepReference(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  s: AdamWStepScalars,
  clipScale = 1,
): void {
  const n = param.length;
  if (grad.length !== n || m.length !== n || v.length !== n) {
    throw new RangeError(`AdamW: length mismatch (param ${n}, grad ${grad.length}, m ${m.length}, v ${v.length})`);
  }
  const f = Math.fround;
  const decay = f(1 - f(s.lr * s.weightDecay));
  const oneMinusBeta1 = f(1 - s.beta1);
  const oneMinusBeta2 = f(1 - s.beta2);
  const scale = f(clipScale);
  for (let i = 0; i < n; i++) {
    const g = f(grad[i]! * scale);
    const p = f(param[i]! * decay);
    const mi = f(f(s.beta1 * m[i]!) + f(oneMinusBeta1 * g));
    const vi = f(f(s.beta2 * v[i]!) + f(oneMinusBeta2 * f(g * g)));
    const denom = f(f(f(Math.sqrt(vi)) * s.invSqrtBiasCorrection2) + s.eps);
    param[i] = f(p - f(s.stepSize * f(mi / denom)));
    m[i] = mi;
    v[i] = vi;
  }
}
