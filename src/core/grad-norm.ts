/**
 * Global gradient L2 norm over every parameter tensor together, as torch.nn.utils.clip_grad_norm_
 * computes it before each inner AdamW step (gauntlet-spec §5.1, `Trainer.inner_steps`). CPU twin of
 * `shaders/grad-norm.wgsl`: the shader reduces in float32 in a different order, so the two agree to
 * rounding, not bit for bit. Summed here in float64.
 */

/** ‖g‖₂ over all tensors. Returns NaN/Infinity when any element is non-finite (no clipping then). */
export function globalGradNorm(grads: readonly Float32Array[]): number {
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  return Math.sqrt(sum);
}
