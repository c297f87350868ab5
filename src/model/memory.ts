/**
 * How much GPU memory training a run takes (issue #17: "can this device join this run?"), counted
 * from the run's shapes, before anything is built. Three parts, in bytes of float32:
 *
 * - **Our state**, the flat buffers the WebGPU engine keeps for the whole run (src/gpu/webgpu-engine.ts):
 *   θ, θ0, the two AdamW moments, the gradient and the error-feedback buffer: 6 · P.
 * - **onnxruntime's copies of the parameters**: the training and evaluation graphs take θ as inputs
 *   and the training graph returns the gradients, tensors ORT allocates itself: 3 · P. (Measured: right
 *   after init the worker holds 9.05 · P of GPU buffers for small, ours and ORT's together.)
 * - **Activations** of one forward + backward at the run's batch B × sequence S (the graph keeps
 *   every forward tensor the hand-derived backward reads, src/model/onnx): per layer about 12 B·S·D
 *   (norms, residuals, q, k, v, attention output and their gradients), 4 B·S·F (the SwiGLU gate, up
 *   and product with a gradient) and 3 B·H·S² (attention scores, probabilities and their gradient);
 *   plus 4 B·S·V for the logits, their softmax and gradients and 2 B·S·D for the embeddings.
 *
 * Against what the engine really allocates (every GPU buffer created in the trainer worker, ours
 * and ORT's, test/browser/memory-estimate.spec.ts; SwiftShader), the peak over init, two inner steps,
 * compression and an evaluation is 1.10× this estimate for tiny, 1.27× for small, 1.08× for medium
 * and 1.36× for small's widths at one layer: ORT also holds the backward's transient buffers and the compressor its scratch,
 * which this count leaves out. The gate therefore budgets twice the estimate.
 */
import type { RunConfig } from '../core/config.ts';
import { parameterCount } from './params.ts';

/** How much more than the estimate the engine may hold at its peak (see the file comment). */
export const ALLOCATION_HEADROOM = 2;

export interface TrainingMemoryEstimate {
  readonly parameters: number;
  readonly stateBytes: number;
  readonly runtimeCopyBytes: number;
  readonly activationBytes: number;
  readonly totalBytes: number;
  /** The total with the headroom the gate budgets (`ALLOCATION_HEADROOM`). */
  readonly budgetBytes: number;
  /** The single largest buffer (the flat θ, the logits or the attention scores of one batch) and which. */
  readonly largestBuffer: { readonly name: string; readonly bytes: number };
}

export function trainingMemoryEstimate(config: Pick<RunConfig, 'model' | 'inner'>): TrainingMemoryEstimate {
  const { model, inner } = config;
  const B = inner.batchSize;
  const S = model.seqLen;
  const D = model.dModel;
  const parameters = parameterCount(model);
  const stateBytes = 6 * parameters * 4;
  const runtimeCopyBytes = 3 * parameters * 4;
  const perLayer = 12 * B * S * D + 4 * B * S * model.dFF + 3 * B * model.nHeads * S * S;
  const activationBytes = (model.nLayers * perLayer + 4 * B * S * model.vocabSize + 2 * B * S * D) * 4;
  const totalBytes = stateBytes + runtimeCopyBytes + activationBytes;
  const candidates: [string, number][] = [
    ['the flat parameter vector θ (and its moments, θ0 and gradients)', parameters * 4],
    ['the logits of one batch', B * S * model.vocabSize * 4],
    ['the attention scores of one batch', B * model.nHeads * S * S * 4],
  ];
  let [name, bytes] = candidates[0]!;
  for (const [candidateName, candidateBytes] of candidates) {
    if (candidateBytes > bytes) [name, bytes] = [candidateName, candidateBytes];
  }
  return { parameters, stateBytes, runtimeCopyBytes, activationBytes, totalBytes, budgetBytes: Math.ceil(totalBytes * ALLOCATION_HEADROOM), largestBuffer: { name, bytes } };
}
