import { CompressionError } from './errors.ts';

/** One tensor's quantisation parameters (Templar `quant_params` without `offset`/`dtype`, which the config fixes). */
export interface QuantParams {
  readonly shift: number;
  readonly scale: number;
  /** Reconstruction of each bin relative to `shift`: the mean of its members (0 for an empty bin). */
  readonly lookup: Float32Array;
}

export interface QuantizedValues {
  readonly codes: Uint8Array;
  readonly params: QuantParams;
}

/** Round to nearest, ties to even (torch.round semantics, which Templar's quantiser uses). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties go towards +∞
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Per-tensor quantisation of the selected values (gauntlet-spec §5.3, Templar
 * `TopKCompressor._quantize_values`):
 * ```
 * shift = mean(val);  c = val − shift;  std = ‖c‖₂ / sqrt(n − 1);  scale = range·std / bins  (0, NaN, Inf → 1)
 * q = clamp(round_half_even(c / scale + bins/2), 0, bins − 1);  lookup[b] = mean(c | q = b) (0 if empty)
 * ```
 * Statistics are computed in float64 in index order and then stored as float32 (`shift`, `scale`,
 * `lookup`); `c` and `q` use the stored float32 `shift` and `scale`, so anyone holding the wire
 * parameters can recompute the codes. Templar computes in the tensor's float32; the float64 sums are
 * a deliberate change that makes the result independent of the reduction order of any library.
 * One value (n − 1 = 0) gives a non-finite std and so scale 1, as in Templar.
 */
export function quantizeValues(values: Float32Array, bins: number, range: number): QuantizedValues {
  const n = values.length;
  if (n === 0) throw new CompressionError('length-mismatch', 'cannot quantise an empty set of values');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const shift = Math.fround(sum / n);
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const c = values[i]! - shift;
    sumSq += c * c;
  }
  const std = Math.sqrt(sumSq) / Math.sqrt(n - 1);
  let scale = Math.fround((range * std) / bins);
  if (scale === 0 || !Number.isFinite(scale)) scale = 1;
  const codes = new Uint8Array(n);
  const binSum = new Float64Array(bins);
  const binCount = new Float64Array(bins);
  const offset = bins / 2;
  for (let i = 0; i < n; i++) {
    const c = values[i]! - shift;
    const q = Math.min(bins - 1, Math.max(0, roundHalfEven(c / scale + offset)));
    codes[i] = q;
    binSum[q] = binSum[q]! + c;
    binCount[q] = binCount[q]! + 1;
  }
  const lookup = new Float32Array(bins);
  for (let b = 0; b < bins; b++) lookup[b] = binCount[b]! > 0 ? binSum[b]! / binCount[b]! : 0;
  return { codes, params: { shift, scale, lookup } };
}

/** `dequant(q) = lookup[q] + shift` in float32 (Templar `_dequantize_values`). */
export function dequantizeValues(codes: Uint8Array, params: QuantParams): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const q = codes[i]!;
    if (q >= params.lookup.length) {
      throw new CompressionError('length-mismatch', `code ${q} at ${i} has no lookup entry (${params.lookup.length} bins)`);
    }
    out[i] = params.lookup[q]! + params.shift;
  }
  return out;
}
