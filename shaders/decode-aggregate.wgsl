// Decode one peer's sparse update of one tensor and add it into the scatter-mean accumulators
// (gauntlet-spec §6, Templar `tplr.neurons.outer_step` → `scatter_reduce(mean, include_self=False)`).
// CPU twin: src/core/compress/codec.ts `scatterMean` over src/core/aggregate.ts `clipToMedian` values.
//
// The host dispatches this once per (tensor, peer) with peers in ascending uid order, in one command
// stream, so every accumulator receives its values in uid order: no float atomics, no scheduling
// dependence. The accumulator is a binary64 sum (lib/soft-f64.wgsl) plus a count, as the CPU's
// Float64Array sum and Uint32Array count. The value of code q is the peer's clipped, dequantised value
// fround(fround(lookup[q] + shift) · clip), computed on the CPU (src/core/compress/gpu-layout.ts
// `clippedValueTable`): it depends only on q, so a table of `bins` floats per peer and tensor carries it.
// Needs lib/soft-f64.wgsl, lib/tensor-layout.wgsl, lib/packed.wgsl.

@group(0) @binding(0) var<uniform> t: TensorLayout;
@group(0) @binding(1) var<storage, read> packed: array<u32>;
@group(0) @binding(2) var<storage, read> value_table: array<u32>;
@group(0) @binding(3) var<storage, read_write> sum: array<vec2<u32>>; // binary64 bits (hi, lo) per chunked coordinate
@group(0) @binding(4) var<storage, read_write> count: array<u32>;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let n = t.chunk_count * t.k;
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < n; i += stride) {
    let j = unpack_index(t.index_word_offset, i);
    let q = unpack_code(t.code_word_offset, i, t.code_bits);
    let at = (i / t.k) * t.totalk + j;
    let acc = sum[at];
    let total = f64_add(f64_from_bits(acc.x, acc.y), f64_from_f32_bits(value_table[t.table_offset + q]));
    sum[at] = f64_to_bits(total);
    count[at] = count[at] + 1u;
  }
}
