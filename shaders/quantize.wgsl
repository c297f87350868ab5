// Per-tensor 2-bit (generally `bins`-level) quantisation of the kept values (gauntlet-spec §5.3,
// Templar `TopKCompressor._quantize_values`); CPU twin src/core/compress/quantize.ts `quantizeValues`:
//   shift = fround(mean(val)); c = val − shift; std = ‖c‖₂ / sqrt(n − 1); scale = fround(range·std/bins)
//   q = clamp(round_half_even(c/scale + bins/2), 0, bins − 1); lookup[b] = fround(mean(c | q = b))
// One invocation per tensor walks its values in index order, as the CPU does: the sums (Σval, Σc²,
// Σc per bin) and the divisions by counts go through lib/soft-f64.wgsl and equal the CPU's float64
// results bit for bit. Two steps stay in float32: std/scale from the exact Σc² (sqrt and division,
// within a few float32 ulps of the CPU's scale) and c/scale (WGSL division, 2.5 ulp). A code can
// therefore differ from the CPU's only where c/scale + bins/2 lies within a few 1e-7 (relative) of a
// bin edge; shift and the lookup table are exact whenever the codes agree.
// The codes are written bit-packed (src/core/compress/pack.ts `packCodes`) straight into `packed`.
// Needs lib/soft-f64.wgsl and lib/tensor-layout.wgsl; `const_hi/lo` carry `quantizationRange`.

@group(0) @binding(0) var<uniform> t: TensorLayout;
@group(0) @binding(1) var<storage, read> sel_value: array<u32>;
@group(0) @binding(2) var<storage, read_write> packed: array<u32>;
@group(0) @binding(3) var<storage, read_write> quant: array<u32>; // per tensor: shift, scale, lookup[bins]

@compute @workgroup_size(1)
fn main() {
  let n = t.chunk_count * t.k;
  let base = t.entry_offset;
  var sum = f64_zero();
  for (var i = 0u; i < n; i++) {
    sum = f64_add(sum, f64_from_f32_bits(sel_value[base + i]));
  }
  let shift_bits = f64_to_f32_bits(f64_div_u32(sum, n));
  let shift = f64_from_f32_bits(shift_bits);
  var sum_sq = f64_zero();
  for (var i = 0u; i < n; i++) {
    let c = f64_add(f64_from_f32_bits(sel_value[base + i]), f64_neg(shift));
    sum_sq = f64_add(sum_sq, f64_mul(c, c));
  }
  let range = bitcast<f32>(f64_to_f32_bits(f64_from_bits(t.const_hi, t.const_lo)));
  let std_dev = sqrt(bitcast<f32>(f64_to_f32_bits(sum_sq))) / sqrt(f32(n - 1u));
  var scale = range * std_dev / f32(t.bins);
  let scale_bits = bitcast<u32>(scale);
  if (scale_bits == 0u || scale_bits == 0x80000000u || (scale_bits & 0x7F800000u) == 0x7F800000u || n < 2u) {
    scale = 1.0;
  }

  var bin_sum: array<F64, 256>;
  var bin_count: array<u32, 256>;
  let offset = f32(t.bins / 2u);
  let per_word = 32u / t.code_bits;
  var word = 0u;
  for (var i = 0u; i < n; i++) {
    let c = f64_add(f64_from_f32_bits(sel_value[base + i]), f64_neg(shift));
    let x = bitcast<f32>(f64_to_f32_bits(c)) / scale + offset;
    let q = u32(clamp(round(x), 0.0, f32(t.bins - 1u)));
    bin_sum[q] = f64_add(bin_sum[q], c);
    bin_count[q] += 1u;
    word = word | (q << (t.code_bits * (i % per_word)));
    if ((i + 1u) % per_word == 0u || i + 1u == n) {
      packed[t.code_word_offset + i / per_word] = word;
      word = 0u;
    }
  }
  let row = t.tensor * (2u + t.bins);
  quant[row] = shift_bits;
  quant[row + 1u] = bitcast<u32>(scale);
  for (var b = 0u; b < t.bins; b++) {
    var mean_bits = 0u;
    if (bin_count[b] > 0u) { mean_bits = f64_to_f32_bits(f64_div_u32(bin_sum[b], bin_count[b])); }
    quant[row + 2u + b] = mean_bits;
  }
}
