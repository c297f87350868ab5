// Error-feedback subtraction of what was sent (gauntlet-spec §5.2): e ← e − decode(q), where the
// decoded value of a kept entry is fround(lookup[q] + shift) (Templar `_dequantize_values`) at its
// position, so the quantisation error stays in e. CPU twin: src/core/compress/error-feedback.ts
// `compressErrorFeedback` (subtract step). Both additions go through lib/soft-f64.wgsl, so the result
// is the CPU's float32, bit for bit, on every GPU. One invocation per kept entry; the entries of one
// chunk have distinct positions, so no two invocations write the same e.
// Needs lib/soft-f64.wgsl, lib/tensor-layout.wgsl, lib/packed.wgsl.

@group(0) @binding(0) var<uniform> t: TensorLayout;
@group(0) @binding(1) var<storage, read> sel_index: array<u32>;
@group(0) @binding(2) var<storage, read> packed: array<u32>;
@group(0) @binding(3) var<storage, read> quant: array<u32>;
@group(0) @binding(4) var<storage, read_write> error_feedback: array<u32>;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let n = t.chunk_count * t.k;
  let row = t.tensor * (2u + t.bins);
  let shift = quant[row];
  let stride = groups.x * WORKGROUP_SIZE;
  for (var i = gid.x; i < n; i += stride) {
    let q = unpack_code(t.code_word_offset, i, t.code_bits);
    let sent = f32_add_bits(quant[row + 2u + q], shift);
    let at = dense_index(t, i / t.k, sel_index[t.entry_offset + i]);
    error_feedback[at] = f32_sub_bits(error_feedback[at], sent);
  }
}
