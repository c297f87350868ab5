// Add one peer's already-normalised sparse values of one tensor into the scatter-mean accumulators
// (gauntlet-spec §6, paper-era 'dct-sign' outer step: `scatter_reduce(mean, include_self=False)` over
// per-chunk L2-normalised values). CPU twin: src/core/compress/codec.ts `scatterMean` over
// src/core/aggregate.ts `normalizePerChunk` values.
//
// Unlike decode-aggregate.wgsl (where a value depends only on its code), a normalised value depends on
// its chunk's norm, so the host sends (index, float32 bits) pairs, computed with the CPU's float64
// norms. Dispatched once per (tensor, peer) in ascending uid order in one command stream: each
// accumulator sees its values in uid order; binary64 sums (lib/soft-f64.wgsl) as the CPU's
// Float64Array. `table_offset` is the peer's first pair. Needs lib/soft-f64.wgsl, lib/tensor-layout.wgsl.

@group(0) @binding(0) var<uniform> t: TensorLayout;
@group(0) @binding(1) var<storage, read> entries: array<vec2<u32>>; // (index inside the chunk, value bits)
@group(0) @binding(2) var<storage, read_write> sum: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> count: array<u32>;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let n = t.chunk_count * t.k;
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < n; i += stride) {
    let e = entries[t.table_offset + i];
    let at = (i / t.k) * t.totalk + e.x;
    let acc = sum[at];
    sum[at] = f64_to_bits(f64_add(f64_from_bits(acc.x, acc.y), f64_from_f32_bits(e.y)));
    count[at] = count[at] + 1u;
  }
}
