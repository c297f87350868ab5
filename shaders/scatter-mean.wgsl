// The scatter-mean's division (gauntlet-spec §6): mean = fround(sum / count) where any peer chose the
// coordinate, 0 elsewhere, into a chunked float32 view; clears the accumulators for the next tensor.
// CPU twin: the last loop of src/core/compress/codec.ts `scatterMean` (binary64 sum / count, one
// rounding), bit for bit through lib/soft-f64.wgsl. Needs lib/soft-f64.wgsl, lib/tensor-layout.wgsl.

@group(0) @binding(0) var<uniform> t: TensorLayout;
@group(0) @binding(1) var<storage, read_write> sum: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> count: array<u32>;
@group(0) @binding(3) var<storage, read_write> mean: array<u32>; // float32 bits, chunked view

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let size = t.chunk_count * t.totalk;
  let stride = groups.x * WORKGROUP_SIZE;
  for (var c = gid.x; c < size; c += stride) {
    let n = count[c];
    var bits = 0u;
    if (n > 0u) {
      let acc = sum[c];
      bits = f64_to_f32_bits(f64_div_u32(f64_from_bits(acc.x, acc.y), n));
    }
    mean[c] = bits;
    sum[c] = vec2<u32>(0u, 0u);
    count[c] = 0u;
  }
}
