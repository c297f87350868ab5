// Top-k by magnitude inside every chunk of one tensor (gauntlet-spec §5.3, Templar
// `TopKCompressor.compress`), with the CPU reference's total order: larger |x| first, then the lower
// index (src/core/compress/topk.ts `topkPerChunk`). One workgroup per chunk (≤ 4096 entries):
//  1. radix select on the magnitude bits (|x| as u32 orders like |x| for finite x), 8 bits per pass
//     from the top, finds the k-th largest key T and how many entries equal to T are still needed;
//  2. every entry above T is kept, and entries equal to T by increasing index until k are kept;
//  3. each kept entry's rank among the kept ones (by the same order) is its output position.
// Histograms use integer workgroup atomics, whose totals do not depend on scheduling; no float is
// ever summed, so the output is the CPU's, bit for bit. A non-finite entry sets status bit 0 (the host
// raises CompressionError 'non-finite', as the CPU reference does).
// Needs lib/tensor-layout.wgsl.

@group(0) @binding(0) var<uniform> t: TensorLayout;
@group(0) @binding(1) var<storage, read> values: array<u32>;
@group(0) @binding(2) var<storage, read_write> sel_index: array<u32>;
@group(0) @binding(3) var<storage, read_write> sel_value: array<u32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<u32>>;

const WORKGROUP_SIZE: u32 = 256u;
const MAX_K: u32 = 1024u;

var<workgroup> histogram: array<atomic<u32>, 256>;
var<workgroup> tie_before: array<u32, WORKGROUP_SIZE>;
var<workgroup> kept_key: array<u32, MAX_K>;
var<workgroup> kept_index: array<u32, MAX_K>;
var<workgroup> kept_count: atomic<u32>;
var<workgroup> select_state: vec2<u32>; // (prefix of T so far, entries still needed at the prefix)

fn magnitude_key(chunk: u32, j: u32) -> u32 {
  return values[dense_index(t, chunk, j)] & 0x7FFFFFFFu;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let chunk = wid.x + wid.y * groups.x;
  // Uniform across the workgroup, so the early return keeps barriers uniform.
  if (chunk >= t.chunk_count) { return; }
  let totalk = t.totalk;

  if (lid == 0u) {
    select_state = vec2<u32>(0u, t.k);
    atomicStore(&kept_count, 0u);
  }
  for (var pass_ = 0u; pass_ < 4u; pass_++) {
    let shift = 24u - 8u * pass_;
    var high_mask = 0u;
    if (pass_ > 0u) { high_mask = 0xFFFFFFFFu << (32u - 8u * pass_); }
    atomicStore(&histogram[lid], 0u);
    workgroupBarrier();
    let prefix = select_state.x;
    for (var j = lid; j < totalk; j += WORKGROUP_SIZE) {
      let key = magnitude_key(chunk, j);
      if (pass_ == 0u && key >= 0x7F800000u) { atomicOr(&status[0], 1u); }
      if ((key & high_mask) == prefix) { atomicAdd(&histogram[(key >> shift) & 0xFFu], 1u); }
    }
    workgroupBarrier();
    if (lid == 0u) {
      var remaining = select_state.y;
      var digit = 0u;
      for (var b = 255i; b >= 0i; b--) {
        let n = atomicLoad(&histogram[u32(b)]);
        if (n >= remaining) {
          digit = u32(b);
          break;
        }
        remaining -= n;
      }
      select_state = vec2<u32>(prefix | (digit << shift), remaining);
    }
    workgroupBarrier();
  }
  let threshold = select_state.x;
  let ties_needed = select_state.y;

  // Entries equal to the threshold, kept by increasing index: each thread owns a contiguous range.
  let per_thread = (totalk + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
  let begin = min(lid * per_thread, totalk);
  let end = min(begin + per_thread, totalk);
  var ties = 0u;
  for (var j = begin; j < end; j++) {
    if (magnitude_key(chunk, j) == threshold) { ties++; }
  }
  tie_before[lid] = ties;
  workgroupBarrier();
  if (lid == 0u) {
    var running = 0u;
    for (var i = 0u; i < WORKGROUP_SIZE; i++) {
      let n = tie_before[i];
      tie_before[i] = running;
      running += n;
    }
  }
  workgroupBarrier();
  var tie_rank = tie_before[lid];
  for (var j = begin; j < end; j++) {
    let key = magnitude_key(chunk, j);
    var keep = key > threshold;
    if (key == threshold) {
      keep = tie_rank < ties_needed;
      tie_rank++;
    }
    if (keep) {
      let slot = atomicAdd(&kept_count, 1u);
      kept_key[slot] = key;
      kept_index[slot] = j;
    }
  }
  workgroupBarrier();

  // The slots above depend on scheduling; the rank does not.
  let k = t.k;
  let out_base = t.entry_offset + chunk * k;
  for (var s = lid; s < k; s += WORKGROUP_SIZE) {
    let key = kept_key[s];
    let index = kept_index[s];
    var rank = 0u;
    for (var r = 0u; r < k; r++) {
      let other = kept_key[r];
      if (other > key || (other == key && kept_index[r] < index)) { rank++; }
    }
    sel_index[out_base + rank] = index;
    sel_value[out_base + rank] = values[dense_index(t, chunk, index)];
  }
}
