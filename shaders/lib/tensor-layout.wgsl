// Where one tensor's entries live, shared by the compression and outer-step kernels. Not a kernel:
// prepended to the kernels that use it. Host side: src/core/compress/gpu-layout.ts `GpuTensorLayout`
// (same field order), chunk geometry as src/core/compress/chunking.ts `chunkLayout`.

struct TensorLayout {
  offset: u32,            // first entry of the tensor in the flat parameter / error-feedback buffer
  cols: u32,              // columns of the 2-D view (1-D: the length)
  h: u32,                 // chunk height (1 for 1-D)
  w: u32,                 // chunk width
  chunk_cols: u32,
  chunk_count: u32,
  totalk: u32,            // entries per chunk, h·w
  k: u32,                 // entries kept per chunk
  entry_offset: u32,      // first kept entry of the tensor in the selection arrays
  index_word_offset: u32, // first u32 of the tensor's 12-bit index block in the packed buffer
  code_word_offset: u32,  // first u32 of the tensor's bit-packed code block in the packed buffer
  tensor: u32,            // row of the tensor's quantisation parameters
  bins: u32,
  code_bits: u32,
  const_hi: u32,          // a binary64 constant (β, α or range, per kernel), high word
  const_lo: u32,
  table_offset: u32,      // decode: first entry of this peer's value table
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

// Position in the flat buffer of entry j of chunk `chunk` (chunk (cy, cx), row-major inside the chunk).
fn dense_index(t: TensorLayout, chunk: u32, j: u32) -> u32 {
  let cy = chunk / t.chunk_cols;
  let cx = chunk % t.chunk_cols;
  let r = j / t.w;
  let c = j % t.w;
  return t.offset + (cy * t.h + r) * t.cols + cx * t.w + c;
}
