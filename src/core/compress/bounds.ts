import type { BoundsConfig } from '../config.ts';
import type { QuantParams } from './quantize.ts';

/** The part of `BoundsConfig` (issue #14) that one submitted tensor is checked against. */
export type SubmissionBounds = Pick<BoundsConfig, 'maxSubmissionValue' | 'maxTensorNorm'>;

/** Only the finiteness check: what the outer step enforces when no run bounds are given. */
export const FINITE_ONLY: SubmissionBounds = { maxSubmissionValue: Number.MAX_VALUE, maxTensorNorm: Number.POSITIVE_INFINITY };

/** Why a tensor is outside the bounds: the wire decoder's error code and a message naming the tensor. */
export interface BoundsViolation {
  readonly code: 'value-overflow' | 'value-out-of-bounds' | 'norm-out-of-bounds';
  readonly message: string;
}

/**
 * Checks one tensor's dequantised values against `bounds` (issue #14): every bin's value
 * `fround(lookup[b] + shift)`, which is what `dequantizeValues` and the GPU value tables compute,
 * finite and within ±`maxSubmissionValue`; and the L2 norm of the tensor's values within
 * `maxTensorNorm`. Checking each quantisation parameter finite is not enough: 3e38 + 3e38 overflows
 * float32, and one such tensor used to nullify a whole tensor of the aggregate for every peer.
 * Unused bins are checked too: an honest encoder writes 0 there, so |shift| is all they can hold.
 * The norm is Σ over bins of count·v² in float64: the same quantity `l2Norm(dequantizeTensor(t))`
 * sums in another order, so the bound allows a relative 1e-9 for rounding.
 *
 * Shared by the wire decoder (`decodeSubmission`) and the outer step's admission (`admitPeers`), so
 * a submission the decoder accepts is never dropped later, and CPU and GPU steps drop the same peers.
 */
export function tensorBoundsViolation(name: string, codes: Uint8Array, quant: QuantParams, bounds: SubmissionBounds): BoundsViolation | null {
  const { lookup, shift } = quant;
  const values = new Float64Array(lookup.length);
  for (let b = 0; b < lookup.length; b++) {
    const v = Math.fround(lookup[b]! + shift);
    if (!Number.isFinite(v)) return { code: 'value-overflow', message: `${name}: bin ${b} dequantises to ${v} (lookup ${lookup[b]} + shift ${shift} overflows float32)` };
    if (Math.abs(v) > bounds.maxSubmissionValue) {
      return { code: 'value-out-of-bounds', message: `${name}: bin ${b} dequantises to ${v.toExponential(3)}, beyond the run's bound ±${bounds.maxSubmissionValue} (bounds.maxSubmissionValue)` };
    }
    values[b] = v;
  }
  const counts = new Float64Array(lookup.length);
  for (const q of codes) {
    if (q >= lookup.length) return { code: 'value-overflow', message: `${name}: code ${q} has no quantisation bin (${lookup.length} bins)` };
    counts[q] = counts[q]! + 1;
  }
  let sumSq = 0;
  for (let b = 0; b < lookup.length; b++) sumSq += counts[b]! * values[b]! * values[b]!;
  const norm = Math.sqrt(sumSq);
  if (!(norm <= bounds.maxTensorNorm * (1 + 1e-9))) {
    return { code: 'norm-out-of-bounds', message: `${name}: the values have L2 norm ${norm.toExponential(3)}, beyond the run's bound ${bounds.maxTensorNorm} (bounds.maxTensorNorm)` };
  }
  return null;
}
