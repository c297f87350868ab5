// The paper-era sign outer step on one tensor (gauntlet-spec §6, 'dct-sign', Templar v0.2.88
// `outer_step` with `sign`): θ ← θ − fround(α·sign(agg)), θ unchanged where agg = 0. `agg` is the
// chunked aggregate after the inverse DCT (shaders/dct.wgsl, float32 sums); this kernel un-chunks it
// (lib/tensor-layout.wgsl `dense_index`). CPU twin: src/core/aggregate.ts `outerStep`'s 'dct-sign'
// loop. fround(α·±1) is fround(α) with a sign, and the subtraction is lib/soft-f64.wgsl's correctly
// rounded float32 subtraction, so given the same signs every GPU writes the CPU's bits.
// Needs lib/soft-f64.wgsl, lib/tensor-layout.wgsl; `const_hi/lo` is α.

@group(0) @binding(0) var<uniform> t: TensorLayout;
@group(0) @binding(1) var<storage, read> agg: array<f32>;
@group(0) @binding(2) var<storage, read_write> params: array<u32>;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let size = t.chunk_count * t.totalk;
  let alpha_bits = f64_to_f32_bits(f64_from_bits(t.const_hi, t.const_lo));
  let stride = groups.x * WORKGROUP_SIZE;
  for (var c = gid.x; c < size; c += stride) {
    let v = agg[c];
    if (!(v > 0.0) && !(v < 0.0)) { continue; }
    var step_bits = alpha_bits;
    if (v < 0.0) { step_bits = alpha_bits ^ 0x80000000u; }
    let at = dense_index(t, c / t.totalk, c % t.totalk);
    params[at] = f32_sub_bits(params[at], step_bits);
  }
}
