import type { CompressionConfig } from '../config.ts';
import type { TensorSpec } from './chunking.ts';
import { decodeTensor, encodeTensor, type EncodedTensor } from './codec.ts';
import { CompressionError } from './errors.ts';

/** A tensor inside the flat parameter vector (the subset of `src/model`'s `ParamSpec` that core needs). */
export interface FlatTensorSpec extends TensorSpec {
  readonly offset: number;
}

/**
 * Pseudo-gradient `Δ = θ_before − θ_after` (gauntlet-spec §5.2, Templar v2.1.3
 * `tplr.neurons.prepare_gradient_dict`): positive is the direction to subtract. float32 like torch.
 */
export function pseudoGradient(before: Float32Array, after: Float32Array): Float32Array {
  if (before.length !== after.length) {
    throw new CompressionError('length-mismatch', `parameters before (${before.length}) and after (${after.length}) the inner steps differ in length`);
  }
  const out = new Float32Array(before.length);
  for (let i = 0; i < out.length; i++) out[i] = before[i]! - after[i]!;
  return out;
}

/**
 * `e ← β·e + Δ` in place (gauntlet-spec §5.2 and §10.1, `prepare_gradient_dict`: `error_feedback.mul_(β).add_(Δ)`).
 * Each operation rounds to float32 as torch does. The outer learning rate is applied in the outer step.
 */
export function accumulateErrorFeedback(errorFeedback: Float32Array, delta: Float32Array, beta: number): void {
  if (errorFeedback.length !== delta.length) {
    throw new CompressionError('length-mismatch', `error feedback (${errorFeedback.length}) and pseudo-gradient (${delta.length}) differ in length`);
  }
  for (let i = 0; i < delta.length; i++) errorFeedback[i] = Math.fround(beta * errorFeedback[i]!) + delta[i]!;
}

/** A null round (no outer step taken) zeroes the error feedback (gauntlet-spec §5.2). */
export function resetErrorFeedback(errorFeedback: Float32Array): void {
  errorFeedback.fill(0);
}

/**
 * Compresses every tensor of the error-feedback buffer and subtracts what was sent:
 * `e ← e − decode(decompress(compress(encode(e))))` (gauntlet-spec §5.2). The *quantised*
 * reconstruction is subtracted, so the quantisation error stays in `e` and is sent later.
 */
export function compressErrorFeedback(
  errorFeedback: Float32Array,
  layout: readonly FlatTensorSpec[],
  compression: CompressionConfig,
): EncodedTensor[] {
  return layout.map((spec) => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.offset < 0 || spec.offset + size > errorFeedback.length) {
      throw new CompressionError('length-mismatch', `tensor ${spec.name} [${spec.offset}, ${spec.offset + size}) lies outside the ${errorFeedback.length}-entry buffer`);
    }
    const view = errorFeedback.subarray(spec.offset, spec.offset + size);
    const encoded = encodeTensor(spec, view, compression);
    const sent = decodeTensor(encoded, compression);
    for (let i = 0; i < size; i++) view[i] = view[i]! - sent[i]!;
    return encoded;
  });
}
