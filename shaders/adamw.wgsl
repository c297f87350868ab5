// AdamW update over one parameter tensor (torch.optim.AdamW semantics, gauntlet-spec §5.1).
// CPU reference: src/core/adamw.ts `adamwStepReference`; the per-step scalars come from
// `adamwStepScalars` so that both paths use the very same float32 constants.
//
// The gradient is scaled by grad_scale[0], the global-norm clipping factor, which a reduction
// kernel writes on the GPU: the inner loop never reads gradients back to the CPU.

struct AdamWUniforms {
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32,
  step_size: f32,                   // lr / (1 - beta1^t)
  inv_sqrt_bias_correction2: f32,   // 1 / sqrt(1 - beta2^t)
  count: u32,                       // elements in this tensor
}

@group(0) @binding(0) var<uniform> u: AdamWUniforms;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> exp_avg: array<f32>;
@group(0) @binding(4) var<storage, read_write> exp_avg_sq: array<f32>;
@group(0) @binding(5) var<storage, read> grad_scale: array<f32>;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let scale = grad_scale[0];
  let decay = 1.0 - u.lr * u.weight_decay;
  // Grid-stride loop: any tensor size fits in at most 65535 workgroups.
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < u.count; i += stride) {
    let g = grad[i] * scale;
    let p = param[i] * decay;
    let m = u.beta1 * exp_avg[i] + (1.0 - u.beta1) * g;
    let v = u.beta2 * exp_avg_sq[i] + (1.0 - u.beta2) * (g * g);
    let denom = sqrt(v) * u.inv_sqrt_bias_correction2 + u.eps;
    param[i] = p - u.step_size * (m / denom);
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
  }
}
