// The outer step on one tensor (gauntlet-spec §6, Templar `tplr.neurons.outer_step`, codec
// 'sparseloco'): agg = fround(sum / count) where any peer chose the coordinate, then
// θ ← θ − fround(α·agg). CPU twin: src/core/aggregate.ts `outerStep` (scatterMean + the update loop).
// All arithmetic goes through lib/soft-f64.wgsl with the CPU's binary64 α, so every GPU writes the
// CPU's parameter bits. Coordinates nobody chose keep θ (θ − fround(α·0) = θ). The accumulators are
// cleared for the next tensor. Needs lib/soft-f64.wgsl, lib/tensor-layout.wgsl; `const_hi/lo` is α.

@group(0) @binding(0) var<uniform> t: TensorLayout;
@group(0) @binding(1) var<storage, read_write> sum: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> count: array<u32>;
@group(0) @binding(3) var<storage, read_write> params: array<u32>;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let size = t.chunk_count * t.totalk;
  let alpha = f64_from_bits(t.const_hi, t.const_lo);
  let stride = groups.x * WORKGROUP_SIZE;
  for (var c = gid.x; c < size; c += stride) {
    let n = count[c];
    if (n == 0u) { continue; }
    let acc = sum[c];
    let mean_bits = f64_to_f32_bits(f64_div_u32(f64_from_bits(acc.x, acc.y), n));
    let step_bits = f64_to_f32_bits(f64_mul(alpha, f64_from_f32_bits(mean_bits)));
    let at = dense_index(t, c / t.totalk, c % t.totalk);
    params[at] = f32_sub_bits(params[at], step_bits);
    sum[c] = vec2<u32>(0u, 0u);
    count[c] = 0u;
  }
}
