// 12-bit index packing of one tensor's kept indices (gauntlet-spec §5.3, Templar v2.1.3
// `pack_12bit_indices`); CPU twin src/core/compress/pack.ts `pack12`: pairs (a, b) become the bytes
// [a & 0xFF, (a >> 8 & 0xF) | (b & 0xF) << 4, b >> 4 & 0xFF]. One invocation per output word; the
// block is padded with zero bytes to whole words. Needs lib/tensor-layout.wgsl.

@group(0) @binding(0) var<uniform> t: TensorLayout;
@group(0) @binding(1) var<storage, read> sel_index: array<u32>;
@group(0) @binding(2) var<storage, read_write> packed: array<u32>;

const WORKGROUP_SIZE: u32 = 256u;

fn index_byte(b: u32) -> u32 {
  let p = b / 3u;
  let a = sel_index[t.entry_offset + 2u * p];
  let c = sel_index[t.entry_offset + 2u * p + 1u];
  switch (b % 3u) {
    case 0u: { return a & 0xFFu; }
    case 1u: { return ((a >> 8u) & 0xFu) | ((c & 0xFu) << 4u); }
    default: { return (c >> 4u) & 0xFFu; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let byte_count = (t.chunk_count * t.k / 2u) * 3u;
  let word_count = (byte_count + 3u) / 4u;
  let stride = groups.x * WORKGROUP_SIZE;
  for (var w = gid.x; w < word_count; w += stride) {
    var word = 0u;
    for (var i = 0u; i < 4u; i++) {
      let b = 4u * w + i;
      if (b < byte_count) { word = word | (index_byte(b) << (8u * i)); }
    }
    packed[t.index_word_offset + w] = word;
  }
}
