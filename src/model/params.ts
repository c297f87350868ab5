/**
 * Parameter layout of the LLaMA-style causal LM (gauntlet-spec §8.1, §12.2): one flat float32
 * vector θ, cut into named tensors in a fixed order. The optimiser (AdamW over the flat vector),
 * the compressor (chunked per 2-D tensor), the wire format (parameter index → name) and the ONNX
 * graph (one graph input per tensor) all read this one table, so a peer and a validator agree on
 * what byte `offset` of θ means.
 *
 * Names mirror Hugging Face `LlamaForCausalLM` as Templar trains it (`model.embed_tokens.weight`,
 * `model.layers.{i}.self_attn.q_proj.weight`, …), so a reviewer can map them onto Templar's
 * `model.named_parameters()`. One deliberate difference: every linear weight is stored
 * **input-major** `[in, out]`, so the forward pass is a plain `MatMul(x, W)`; HF stores `[out, in]`
 * (the transpose). Embeddings are `[vocab, dModel]` as in HF.
 *
 * Order (fixed; changing it is a new `RUN_CONFIG_VERSION`):
 *  1. `model.embed_tokens.weight`                    [vocabSize, dModel]
 *  2. `model.embed_positions.weight`                 [seqLen, dModel]   (only `positional: 'learned'`)
 *  3. for each layer i = 0 … nLayers − 1:
 *     `model.layers.{i}.input_layernorm.weight`          [dModel]
 *     `model.layers.{i}.self_attn.q_proj.weight`         [dModel, dModel]
 *     `model.layers.{i}.self_attn.k_proj.weight`         [dModel, dModel]
 *     `model.layers.{i}.self_attn.v_proj.weight`         [dModel, dModel]
 *     `model.layers.{i}.self_attn.o_proj.weight`         [dModel, dModel]
 *     `model.layers.{i}.post_attention_layernorm.weight` [dModel]
 *     `model.layers.{i}.mlp.gate_proj.weight`            [dModel, dFF]      (only `activation: 'swiglu'`)
 *     `model.layers.{i}.mlp.up_proj.weight`              [dModel, dFF]
 *     `model.layers.{i}.mlp.down_proj.weight`            [dFF, dModel]
 *  4. `model.norm.weight`                            [dModel]
 *  5. `lm_head.weight`                               [dModel, vocabSize] (only untied; input-major)
 *
 * Tensors are packed back to back with no padding: `offset` is in elements of the flat vector.
 */
import type { ModelShape } from '../core/config';
import { Xoshiro128 } from '../core/prng';
import { GauntletError } from '../core/errors.ts';

export interface ParamSpec {
  /** HF-style name, also the ONNX graph input name; the gradient output is `grad.<name>`. */
  readonly name: string;
  readonly shape: readonly number[];
  /** First element of this tensor in the flat parameter vector. */
  readonly offset: number;
  /** Number of elements (product of `shape`). */
  readonly size: number;
  /** How `initParameters` fills it: RMSNorm gains start at 1, every matrix at N(0, initStd²). */
  readonly init: 'ones' | 'normal';
}

/** A ModelShape that cannot describe a model (non-positive or non-integer sizes, heads not dividing dModel, odd head size with RoPE). */
export class InvalidModelShapeError extends GauntletError {
  readonly code: string = 'invalid-model-shape';
  constructor(message: string) {
    super(`Invalid model shape: ${message}. Fix the run config's \`model\` section (src/core/config.ts ModelShape).`);
    this.name = 'InvalidModelShapeError';
  }
}

/** A flat parameter vector whose length does not match the layout of the run's model shape. */
export class ParameterLengthError extends GauntletError {
  readonly code: string = 'parameter-length';
  constructor(
    readonly actual: number,
    readonly expected: number,
  ) {
    super(`Flat parameter vector has ${actual} elements but the model shape needs ${expected}; the parameters belong to a different run config.`);
    this.name = 'ParameterLengthError';
  }
}

/** Throws InvalidModelShapeError unless every dimension is usable by the graph builder. */
export function validateModelShape(shape: ModelShape): void {
  const dims: [string, number][] = [
    ['vocabSize', shape.vocabSize],
    ['dModel', shape.dModel],
    ['nLayers', shape.nLayers],
    ['nHeads', shape.nHeads],
    ['dFF', shape.dFF],
    ['seqLen', shape.seqLen],
  ];
  for (const [key, value] of dims) {
    if (!Number.isInteger(value) || value <= 0) throw new InvalidModelShapeError(`${key} must be a positive integer, got ${value}`);
  }
  if (shape.dModel % shape.nHeads !== 0) {
    throw new InvalidModelShapeError(`nHeads (${shape.nHeads}) must divide dModel (${shape.dModel})`);
  }
  if (shape.positional === 'rope' && (shape.dModel / shape.nHeads) % 2 !== 0) {
    throw new InvalidModelShapeError(`RoPE needs an even head size, got dModel/nHeads = ${shape.dModel / shape.nHeads}`);
  }
  if (!(shape.normEps > 0) || !Number.isFinite(shape.normEps)) throw new InvalidModelShapeError(`normEps must be > 0, got ${shape.normEps}`);
  if (!(shape.initStd > 0) || !Number.isFinite(shape.initStd)) throw new InvalidModelShapeError(`initStd must be > 0, got ${shape.initStd}`);
}

/** The parameter table in the fixed order documented at the top of this file. */
export function parameterLayout(shape: ModelShape): ParamSpec[] {
  validateModelShape(shape);
  const { vocabSize: v, dModel: d, dFF: f } = shape;
  const specs: ParamSpec[] = [];
  let offset = 0;
  const add = (name: string, dims: readonly number[], init: ParamSpec['init']): void => {
    const size = dims.reduce((a, b) => a * b, 1);
    specs.push({ name, shape: dims, offset, size, init });
    offset += size;
  };
  add('model.embed_tokens.weight', [v, d], 'normal');
  if (shape.positional === 'learned') add('model.embed_positions.weight', [shape.seqLen, d], 'normal');
  for (let i = 0; i < shape.nLayers; i++) {
    const p = `model.layers.${i}`;
    add(`${p}.input_layernorm.weight`, [d], 'ones');
    add(`${p}.self_attn.q_proj.weight`, [d, d], 'normal');
    add(`${p}.self_attn.k_proj.weight`, [d, d], 'normal');
    add(`${p}.self_attn.v_proj.weight`, [d, d], 'normal');
    add(`${p}.self_attn.o_proj.weight`, [d, d], 'normal');
    add(`${p}.post_attention_layernorm.weight`, [d], 'ones');
    if (shape.activation === 'swiglu') add(`${p}.mlp.gate_proj.weight`, [d, f], 'normal');
    add(`${p}.mlp.up_proj.weight`, [d, f], 'normal');
    add(`${p}.mlp.down_proj.weight`, [f, d], 'normal');
  }
  add('model.norm.weight', [d], 'ones');
  if (!shape.tiedEmbeddings) add('lm_head.weight', [d, v], 'normal');
  return specs;
}

/** Total number of parameters (length of the flat vector). */
export function parameterCount(shape: ModelShape): number {
  const layout = parameterLayout(shape);
  const last = layout[layout.length - 1];
  return last === undefined ? 0 : last.offset + last.size;
}

/**
 * Deterministic initial θ (every peer of a run starts from the same vector, gauntlet-spec §8.2
 * `initSeed`): RMSNorm gains = 1; every matrix N(0, initStd²), drawn from one xoshiro128** stream
 * (src/core/prng.ts) seeded with `seed`, in layout order. As HF `LlamaPreTrainedModel._init_weights`
 * (normal with `initializer_range`), without GPT-2's residual-projection rescaling.
 */
export function initParameters(shape: ModelShape, seed: number): Float32Array {
  const layout = parameterLayout(shape);
  const total = layout.reduce((n, spec) => n + spec.size, 0);
  const theta = new Float32Array(total);
  const rng = new Xoshiro128(seed);
  for (const spec of layout) {
    const view = theta.subarray(spec.offset, spec.offset + spec.size);
    if (spec.init === 'ones') view.fill(1);
    else for (let i = 0; i < view.length; i++) view[i] = rng.nextGaussian() * shape.initStd;
  }
  return theta;
}

/** The named tensor views of a flat vector (no copy), for tests, checkpoints and debugging. */
export function parameterViews(shape: ModelShape, theta: Float32Array): Map<string, Float32Array> {
  const layout = parameterLayout(shape);
  const total = layout.reduce((n, spec) => n + spec.size, 0);
  if (theta.length !== total) {
    throw new ParameterLengthError(theta.length, total);
  }
  return new Map(layout.map((spec) => [spec.name, theta.subarray(spec.offset, spec.offset + spec.size)]));
}
