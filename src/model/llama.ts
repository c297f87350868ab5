/**
 * The LLaMA-style causal LM as ONNX graphs (gauntlet-spec §8.1, ort-webgpu.md §7):
 * embedding (+ learned positions) → L × [RMSNorm → causal MHA (RoPE) → residual → RMSNorm →
 * SwiGLU/GELU MLP → residual] → RMSNorm → tied or untied LM head → mean cross-entropy.
 *
 * - `buildTrainingGraph`: inputs `input_ids` and `targets` (int32 `[B, T]`) and every parameter of
 *   `parameterLayout` (as graph inputs, not initializers, so they can be our GPU buffers);
 *   outputs `loss` (scalar) and `grad.<param>` for every parameter.
 * - `buildEvaluationGraph`: the same forward, output `loss` only (validators, gauntlet-spec §7).
 */
import type { ModelShape } from '../core/config.ts';
import * as ad from './autodiff.ts';
import { assertGraphRunsOnWebGpu } from './lint.ts';
import { GraphBuilder } from './onnx/builder.ts';
import { DataType, encodeModel, type ModelProto } from './onnx/proto.ts';
import { parameterLayout, type ParamSpec } from './params.ts';
import { GauntletError } from '../core/errors.ts';

export const INPUT_IDS = 'input_ids';
export const TARGETS = 'targets';
export const LOSS = 'loss';
export const gradName = (param: string): string => `grad.${param}`;

/** A graph ready for `InferenceSession.create`, with the names of its inputs and outputs. */
export interface BuiltGraph {
  readonly model: ModelProto;
  readonly bytes: Uint8Array;
  readonly params: readonly ParamSpec[];
  /** Sequences per run (the graph has static shapes). */
  readonly batchSize: number;
  readonly seqLen: number;
  /** `grad.<param>` names in layout order; empty for the evaluation graph. */
  readonly gradNames: readonly string[];
  readonly nodeCount: number;
}

/** Bad batch size for a graph. */
export class InvalidBatchSizeError extends GauntletError {
  readonly code: string = 'invalid-batch-size';
  constructor(batchSize: number) {
    super(`Graph batch size must be a positive integer, got ${batchSize}; check the run config's inner.batchSize.`);
    this.name = 'InvalidBatchSizeError';
  }
}

function emitForward(t: ad.Tape, shape: ModelShape, batchSize: number, params: readonly ParamSpec[]): string {
  const { g } = t;
  const { vocabSize, dModel, nHeads, nLayers, seqLen, normEps } = shape;
  const n = batchSize * seqLen;
  const headDim = dModel / nHeads;
  for (const spec of params) g.input(spec.name, DataType.FLOAT, spec.shape);
  const ids = g.reshape(g.input(INPUT_IDS, DataType.INT32, [batchSize, seqLen]), [n]);
  const targets = g.reshape(g.input(TARGETS, DataType.INT32, [batchSize, seqLen]), [n]);

  let x = ad.embedding(t, 'model.embed_tokens.weight', ids, vocabSize, n);
  if (shape.positional === 'learned') x = ad.addPositions(t, x, 'model.embed_positions.weight', batchSize, seqLen, dModel);
  const mask = g.constFloat(ad.causalMask(seqLen), [seqLen, seqLen]);
  const tables = shape.positional === 'rope' ? ad.ropeTables(seqLen, headDim) : undefined;
  const cos = tables ? g.constFloat(tables.cos, [seqLen, headDim]) : '';
  const sin = tables ? g.constFloat(tables.sin, [seqLen, headDim]) : '';
  const heads = (z: string): string => {
    const split = ad.splitHeads(t, z, batchSize, seqLen, nHeads, headDim);
    return tables ? ad.rope(t, split, cos, sin) : split;
  };

  for (let i = 0; i < nLayers; i++) {
    const p = `model.layers.${i}`;
    const attnIn = ad.rmsNorm(t, x, `${p}.input_layernorm.weight`, normEps);
    const q = heads(ad.linear(t, attnIn, `${p}.self_attn.q_proj.weight`));
    const k = heads(ad.linear(t, attnIn, `${p}.self_attn.k_proj.weight`));
    const v = ad.splitHeads(t, ad.linear(t, attnIn, `${p}.self_attn.v_proj.weight`), batchSize, seqLen, nHeads, headDim);
    const attn = ad.mergeHeads(t, ad.causalAttention(t, q, k, v, mask, headDim), batchSize, seqLen, nHeads, headDim);
    x = ad.residual(t, x, ad.linear(t, attn, `${p}.self_attn.o_proj.weight`));
    const mlpIn = ad.rmsNorm(t, x, `${p}.post_attention_layernorm.weight`, normEps);
    const up = ad.linear(t, mlpIn, `${p}.mlp.up_proj.weight`);
    const hidden = shape.activation === 'swiglu' ? ad.swiglu(t, ad.linear(t, mlpIn, `${p}.mlp.gate_proj.weight`), up) : ad.gelu(t, up);
    x = ad.residual(t, x, ad.linear(t, hidden, `${p}.mlp.down_proj.weight`));
  }
  const final = ad.rmsNorm(t, x, 'model.norm.weight', normEps);
  const head = shape.tiedEmbeddings ? ad.transpose2d(t, 'model.embed_tokens.weight') : 'lm_head.weight';
  const logits = ad.linear(t, final, head);
  return ad.crossEntropy(t, logits, targets, vocabSize, n);
}

function finish(g: GraphBuilder, params: readonly ParamSpec[], batchSize: number, seqLen: number, gradNames: readonly string[]): BuiltGraph {
  const model = g.toModel();
  assertGraphRunsOnWebGpu(model);
  return { model, bytes: encodeModel(model), params, batchSize, seqLen, gradNames, nodeCount: g.nodeCount };
}

function checkBatch(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new InvalidBatchSizeError(batchSize);
}

/** Forward + backward graph: `loss` and `grad.<param>` for every parameter. */
export function buildTrainingGraph(shape: ModelShape, batchSize: number): BuiltGraph {
  checkBatch(batchSize);
  const params = parameterLayout(shape);
  const g = new GraphBuilder('gauntlet_llama_train');
  const t = new ad.Tape(g);
  const loss = emitForward(t, shape, batchSize, params);
  t.runBackward(loss, g.constFloat([1]));
  g.rename(loss, LOSS);
  g.output(LOSS, DataType.FLOAT, []);
  const gradNames: string[] = [];
  for (const spec of params) {
    const grad = t.grad(spec.name);
    if (grad === undefined) throw new Error(`internal: parameter ${spec.name} received no gradient`);
    const name = gradName(spec.name);
    g.rename(grad, name);
    g.output(name, DataType.FLOAT, spec.shape);
    gradNames.push(name);
  }
  return finish(g, params, batchSize, shape.seqLen, gradNames);
}

/** Forward-only graph with the single output `loss` (mean token cross-entropy). */
export function buildEvaluationGraph(shape: ModelShape, batchSize: number): BuiltGraph {
  checkBatch(batchSize);
  const params = parameterLayout(shape);
  const g = new GraphBuilder('gauntlet_llama_eval');
  // The tape records VJPs that are never replayed: the evaluation graph holds forward nodes only.
  const loss = emitForward(new ad.Tape(g), shape, batchSize, params);
  g.rename(loss, LOSS);
  g.output(LOSS, DataType.FLOAT, []);
  return finish(g, params, batchSize, shape.seqLen, []);
}
