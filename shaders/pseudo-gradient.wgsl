// Pseudo-gradient and error feedback in one pass over the flat parameter vector (gauntlet-spec §5.2,
// Templar `tplr.neurons.prepare_gradient_dict`): Δ = θ0 − θH, e ← fround(β·e) + Δ.
// CPU twins: src/core/compress/error-feedback.ts `pseudoGradient`, `accumulateErrorFeedback`.
// β is the binary64 run-config value, as on the CPU; the arithmetic goes through lib/soft-f64.wgsl so
// that every GPU reaches the CPU's bits (the product β·e is rounded to binary64, then to float32).
// Needs lib/soft-f64.wgsl.

struct PseudoGradientUniforms {
  count: u32,
  beta_hi: u32,
  beta_lo: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> u: PseudoGradientUniforms;
@group(0) @binding(1) var<storage, read> theta0: array<u32>;
@group(0) @binding(2) var<storage, read> theta: array<u32>;
@group(0) @binding(3) var<storage, read_write> error_feedback: array<u32>;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let beta = f64_from_bits(u.beta_hi, u.beta_lo);
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < u.count; i += stride) {
    let delta = f32_sub_bits(theta0[i], theta[i]);
    let decayed = f64_to_f32_bits(f64_mul(beta, f64_from_f32_bits(error_feedback[i])));
    error_feedback[i] = f32_add_bits(decayed, delta);
  }
}
