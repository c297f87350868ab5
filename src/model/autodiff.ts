/**
 * Layer-level reverse-mode autodiff over ONNX values (ort-webgpu.md §7). onnxruntime-web has no
 * gradient ops, so each macro op below emits its forward nodes and records a closure that, when
 * the tape is replayed backwards, emits the nodes of its hand-derived vector–Jacobian product
 * (VJP) using standard ops only. Gradient contributions to a value are summed lazily with a chain
 * of `Add` (never the variadic `Sum`, which falls back to the CPU).
 *
 * Conventions: activations are 2-D `[N, features]` with N = batch·seqLen, except inside attention
 * where they are `[B, heads, T, headDim]`. Linear weights are input-major `[in, out]`
 * (src/model/params.ts), so `y = x·W`, `dx = dy·Wᵀ`, `dW = xᵀ·dy`.
 */
import type { GraphBuilder } from './onnx/builder.ts';

export class Tape {
  private readonly backward: (() => void)[] = [];
  private readonly contributions = new Map<string, string[]>();

  constructor(readonly g: GraphBuilder) {}

  /** Records the VJP closure of a macro op (run later, in reverse order). */
  record(vjp: () => void): void {
    this.backward.push(vjp);
  }

  /** Adds `grad` to the gradient of `value`. */
  accumulate(value: string, grad: string): void {
    const list = this.contributions.get(value);
    if (list) list.push(grad);
    else this.contributions.set(value, [grad]);
  }

  /** The summed gradient of `value`, or undefined when nothing downstream depends on it. */
  grad(value: string): string | undefined {
    const list = this.contributions.get(value);
    if (!list || list.length === 0) return undefined;
    let sum = list[0] as string;
    for (let i = 1; i < list.length; i++) sum = this.g.add(sum, list[i] as string);
    this.contributions.set(value, [sum]);
    return sum;
  }

  /** Seeds d(value)/d(value) = `seed` and emits every recorded VJP, last op first. */
  runBackward(value: string, seed: string): void {
    this.accumulate(value, seed);
    for (let i = this.backward.length - 1; i >= 0; i--) (this.backward[i] as () => void)();
  }
}

/** Runs `vjp(dy)` during the backward pass if `y` received any gradient. */
function onGrad(t: Tape, y: string, vjp: (dy: string) => void): void {
  t.record(() => {
    const dy = t.grad(y);
    if (dy !== undefined) vjp(dy);
  });
}

/** y = x·W. VJP: dx = dy·Wᵀ, dW = xᵀ·dy (Transpose + MatMul, never Gemm: ort-webgpu.md §10). */
export function linear(t: Tape, x: string, w: string): string {
  const { g } = t;
  const y = g.matmul(x, w);
  onGrad(t, y, (dy) => {
    t.accumulate(x, g.matmul(dy, g.transpose(w, [1, 0])));
    t.accumulate(w, g.matmul(g.transpose(x, [1, 0]), dy));
  });
  return y;
}

/** y = a + b (residual). VJP: da = db = dy. */
export function residual(t: Tape, a: string, b: string): string {
  const y = t.g.add(a, b);
  onGrad(t, y, (dy) => {
    t.accumulate(a, dy);
    t.accumulate(b, dy);
  });
  return y;
}

/** 2-D transpose as a differentiable op (the tied LM head uses Eᵀ). VJP: dx = dyᵀ. */
export function transpose2d(t: Tape, x: string): string {
  const y = t.g.transpose(x, [1, 0]);
  onGrad(t, y, (dy) => t.accumulate(x, t.g.transpose(dy, [1, 0])));
  return y;
}

/**
 * Token embedding y = E[ids] (Gather). VJP: dE = onehotᵀ·dy with the one-hot emitted directly as
 * `[V, N]` (Equal against an int32 iota + Cast): deterministic and all-GPU on both WebGPU EPs,
 * unlike ScatterND/ScatterElements (ort-webgpu.md §6–§7).
 */
export function embedding(t: Tape, table: string, ids: string, vocabSize: number, n: number): string {
  const { g } = t;
  const y = g.op('Gather', [table, ids], { axis: 0 });
  onGrad(t, y, (dy) => {
    const iota = g.constInt32(Array.from({ length: vocabSize }, (_, i) => i), [vocabSize, 1]);
    const oneHotT = g.equalAsFloat(iota, g.reshape(ids, [1, n]));
    t.accumulate(table, g.matmul(oneHotT, dy));
  });
  return y;
}

/** Learned absolute positions: y[b,t] = x[b,t] + P[t]. VJP: dx = dy, dP = Σ_b dy[b]. */
export function addPositions(t: Tape, x: string, positions: string, batch: number, seqLen: number, dModel: number): string {
  const { g } = t;
  const y = g.reshape(g.add(g.reshape(x, [batch, seqLen, dModel]), positions), [batch * seqLen, dModel]);
  onGrad(t, y, (dy) => {
    t.accumulate(x, dy);
    t.accumulate(positions, g.reduceSum(g.reshape(dy, [batch, seqLen, dModel]), [0], false));
  });
  return y;
}

/**
 * RMSNorm over the last axis (HF `LlamaRMSNorm`): r = 1/√(mean(x²) + ε), x̂ = x·r, y = x̂·γ.
 * VJP: dγ = Σ_rows dy·x̂; dx = r·(dx̂ − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ. Built from Mul/ReduceMean
 * rather than SimplifiedLayerNormalization, whose `inv_std_var` output is wrong (ort-webgpu.md §6).
 */
export function rmsNorm(t: Tape, x: string, gain: string, eps: number): string {
  const { g } = t;
  const meanSquare = g.reduceMean(g.mul(x, x), [-1], true);
  const r = g.unary('Reciprocal', g.unary('Sqrt', g.add(meanSquare, g.constFloat([eps]))));
  const xHat = g.mul(x, r);
  const y = g.mul(xHat, gain);
  onGrad(t, y, (dy) => {
    const dxHat = g.mul(dy, gain);
    t.accumulate(gain, g.reduceSum(g.mul(dy, xHat), [0], false));
    const projection = g.reduceMean(g.mul(dxHat, xHat), [-1], true);
    t.accumulate(x, g.mul(r, g.sub(dxHat, g.mul(xHat, projection))));
  });
  return y;
}

/** [N, D] → [B, heads, T, headDim]. VJP: the inverse permutation and reshape. */
export function splitHeads(t: Tape, x: string, batch: number, seqLen: number, nHeads: number, headDim: number): string {
  const { g } = t;
  const y = g.transpose(g.reshape(x, [batch, seqLen, nHeads, headDim]), [0, 2, 1, 3]);
  onGrad(t, y, (dy) => t.accumulate(x, g.reshape(g.transpose(dy, [0, 2, 1, 3]), [batch * seqLen, nHeads * headDim])));
  return y;
}

/** [B, heads, T, headDim] → [N, D]. VJP: split again. */
export function mergeHeads(t: Tape, x: string, batch: number, seqLen: number, nHeads: number, headDim: number): string {
  const { g } = t;
  const y = g.reshape(g.transpose(x, [0, 2, 1, 3]), [batch * seqLen, nHeads * headDim]);
  onGrad(t, y, (dy) => t.accumulate(x, g.transpose(g.reshape(dy, [batch, seqLen, nHeads, headDim]), [0, 2, 1, 3])));
  return y;
}

/** rotate_half of HF LLaMA: [x₁, x₂] → [−x₂, x₁] over the last axis (Split + Neg + Concat). */
function rotateHalf(g: GraphBuilder, x: string): string {
  const [x1, x2] = g.node('Split', [x], { axis: -1, num_outputs: 2 }, 2) as [string, string];
  return g.op('Concat', [g.unary('Neg', x2), x1], { axis: -1 });
}

/**
 * Rotary position embedding, HF `apply_rotary_pos_emb` (rotate-half form): y = x·cos + R(x)·sin with
 * cos/sin constants `[T, headDim]`. R is a 90° rotation, so Rᵀ = −R and the VJP is
 * dx = dy·cos − R(dy·sin).
 */
export function rope(t: Tape, x: string, cos: string, sin: string): string {
  const { g } = t;
  const y = g.add(g.mul(x, cos), g.mul(rotateHalf(g, x), sin));
  onGrad(t, y, (dy) => t.accumulate(x, g.sub(g.mul(dy, cos), rotateHalf(g, g.mul(dy, sin)))));
  return y;
}

/** cos/sin tables of RoPE for positions 0…T−1 (θ base 10000, as HF LLaMA's default `rope_theta`). */
export function ropeTables(seqLen: number, headDim: number, base = 10000): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(seqLen * headDim);
  const sin = new Float32Array(seqLen * headDim);
  for (let pos = 0; pos < seqLen; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.pow(base, (-2 * i) / headDim);
      cos[pos * headDim + i] = cos[pos * headDim + i + half] = Math.cos(angle);
      sin[pos * headDim + i] = sin[pos * headDim + i + half] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** Additive causal mask `[T, T]`: 0 on and below the diagonal, −1e9 above (a constant, not Trilu). */
export function causalMask(seqLen: number): Float32Array {
  const mask = new Float32Array(seqLen * seqLen);
  for (let i = 0; i < seqLen; i++) for (let j = i + 1; j < seqLen; j++) mask[i * seqLen + j] = -1e9;
  return mask;
}

/**
 * Causal scaled dot-product attention on `[B, H, T, hd]`: S = q·kᵀ·s + mask, P = softmax(S), O = P·v.
 * VJP: dP = dO·vᵀ, dv = Pᵀ·dO, dS = P∘(dP − rowsum(dP∘P))·s, dq = dS·k, dk = dSᵀ·q.
 */
export function causalAttention(t: Tape, q: string, k: string, v: string, mask: string, headDim: number): string {
  const { g } = t;
  const s = 1 / Math.sqrt(headDim);
  const swap = [0, 1, 3, 2];
  const p = g.softmax(g.add(g.scale(g.matmul(q, g.transpose(k, swap)), s), mask));
  const o = g.matmul(p, v);
  onGrad(t, o, (dO) => {
    const dP = g.matmul(dO, g.transpose(v, swap));
    t.accumulate(v, g.matmul(g.transpose(p, swap), dO));
    const dS = g.scale(g.mul(p, g.sub(dP, g.reduceSum(g.mul(dP, p), [-1], true))), s);
    t.accumulate(q, g.matmul(dS, k));
    t.accumulate(k, g.matmul(g.transpose(dS, swap), q));
  });
  return o;
}

/** SwiGLU gate (HF `LlamaMLP`): h = silu(a)·b. VJP: da = dy·b·σ(a)·(1 + a·(1 − σ(a))), db = dy·silu(a). */
export function swiglu(t: Tape, a: string, b: string): string {
  const { g } = t;
  const sig = g.unary('Sigmoid', a);
  const silu = g.mul(a, sig);
  const y = g.mul(silu, b);
  onGrad(t, y, (dy) => {
    const one = g.constFloat([1]);
    const dSilu = g.mul(sig, g.add(one, g.mul(a, g.sub(one, sig))));
    t.accumulate(a, g.mul(g.mul(dy, b), dSilu));
    t.accumulate(b, g.mul(dy, silu));
  });
  return y;
}

/** Exact (erf) GELU: y = x·Φ(x). VJP: dx = dy·(Φ(x) + x·φ(x)). */
export function gelu(t: Tape, x: string): string {
  const { g } = t;
  const one = g.constFloat([1]);
  const cdf = g.scale(g.add(one, g.unary('Erf', g.scale(x, Math.SQRT1_2))), 0.5);
  const y = g.mul(x, cdf);
  onGrad(t, y, (dy) => {
    const pdf = g.scale(g.unary('Exp', g.scale(g.mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    t.accumulate(x, g.mul(dy, g.add(cdf, g.mul(x, pdf))));
  });
  return y;
}

/**
 * Mean token cross-entropy of `logits [N, V]` against int32 `targets [N]`, via logsumexp
 * (LogSoftmax and the SoftmaxCrossEntropyLoss function op fall back to the CPU): with z = logits −
 * max, loss = mean(log Σ eᶻ − z[target]). VJP: dlogits = (softmax − onehot)·dloss/N.
 */
export function crossEntropy(t: Tape, logits: string, targets: string, vocabSize: number, n: number): string {
  const { g } = t;
  const z = g.sub(logits, g.reduceMax(logits, [-1], true));
  const logSumExp = g.unary('Log', g.reduceSum(g.unary('Exp', z), [-1], true));
  const iota = g.constInt32(Array.from({ length: vocabSize }, (_, i) => i), [1, vocabSize]);
  const oneHot = g.equalAsFloat(g.reshape(targets, [n, 1]), iota);
  const targetLogit = g.reduceSum(g.mul(z, oneHot), [-1], true);
  const loss = g.reduceMeanAll(g.sub(logSumExp, targetLogit));
  onGrad(t, loss, (dLoss) => {
    const softmax = g.unary('Exp', g.sub(z, logSumExp));
    t.accumulate(logits, g.mul(g.sub(softmax, oneHot), g.scale(dLoss, 1 / n)));
  });
  return loss;
}
