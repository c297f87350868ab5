/**
 * Float64 reference forward of the model in plain loops: the oracle the generated ONNX graphs are
 * tested against (loss directly, gradients through central finite differences). It shares nothing
 * with the graph builder except the parameter layout, and is written from the HF LLaMA definitions
 * (`LlamaRMSNorm`, `apply_rotary_pos_emb`, `LlamaAttention` with a causal mask, `LlamaMLP`).
 * Slow by design; only for tiny shapes in tests.
 */
import type { ModelShape } from '../core/config.ts';
import { ParameterLengthError, parameterLayout } from './params.ts';

/** erf to ≈1e-15: Maclaurin series for |x| < 3, Lentz continued fraction of erfc beyond. */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))), evaluated backwards.
  let frac = 0;
  for (let k = 120; k >= 1; k--) frac = k / 2 / (ax + frac);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + frac);
  return Math.sign(x) * (1 - erfc);
}

type Matrix = Float64Array;

/** out[N, M] = a[N, K] · b[K, M] with b read from `theta` at `offset` (input-major weights). */
function matmul(a: Matrix, n: number, k: number, theta: Float64Array, offset: number, m: number): Matrix {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      for (let j = 0; j < m; j++) out[i * m + j]! += aip * theta[offset + p * m + j]!;
    }
  }
  return out;
}

function rmsNorm(x: Matrix, n: number, d: number, theta: Float64Array, offset: number, eps: number): Matrix {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let ms = 0;
    for (let j = 0; j < d; j++) ms += x[i * d + j]! ** 2;
    const r = 1 / Math.sqrt(ms / d + eps);
    for (let j = 0; j < d; j++) out[i * d + j] = x[i * d + j]! * r * theta[offset + j]!;
  }
  return out;
}

/** HF rotate-half RoPE, in place, on one head vector `v` (length hd) at position `pos`. */
function applyRope(v: Float64Array, pos: number, hd: number): void {
  const half = hd / 2;
  for (let i = 0; i < half; i++) {
    const angle = pos * Math.pow(10000, (-2 * i) / hd);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const x1 = v[i]!;
    const x2 = v[i + half]!;
    v[i] = x1 * c - x2 * s;
    v[i + half] = x2 * c + x1 * s;
  }
}

/**
 * Mean token cross-entropy of the model with flat parameters `theta` (float64) on `batch`
 * sequences of `ids` → `targets` (each `batch · seqLen` long).
 */
export function referenceLoss(shape: ModelShape, theta: Float64Array, ids: Int32Array, targets: Int32Array, batch: number): number {
  const layout = parameterLayout(shape);
  const total = layout.reduce((s, p) => s + p.size, 0);
  if (theta.length !== total) throw new ParameterLengthError(theta.length, total);
  const off = new Map(layout.map((p) => [p.name, p.offset]));
  const at = (name: string): number => {
    const o = off.get(name);
    if (o === undefined) throw new Error(`reference: no parameter ${name}`);
    return o;
  };
  const { vocabSize: vs, dModel: d, nHeads: nh, dFF: f, seqLen: tl, normEps: eps } = shape;
  const hd = d / nh;
  const n = batch * tl;

  let x = new Float64Array(n * d);
  const emb = at('model.embed_tokens.weight');
  const pos = shape.positional === 'learned' ? at('model.embed_positions.weight') : -1;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      x[i * d + j] = theta[emb + ids[i]! * d + j]!;
      if (pos >= 0) x[i * d + j]! += theta[pos + (i % tl) * d + j]!;
    }
  }

  for (let layer = 0; layer < shape.nLayers; layer++) {
    const p = `model.layers.${layer}`;
    const h = rmsNorm(x, n, d, theta, at(`${p}.input_layernorm.weight`), eps);
    const q = matmul(h, n, d, theta, at(`${p}.self_attn.q_proj.weight`), d);
    const k = matmul(h, n, d, theta, at(`${p}.self_attn.k_proj.weight`), d);
    const v = matmul(h, n, d, theta, at(`${p}.self_attn.v_proj.weight`), d);
    if (shape.positional === 'rope') {
      for (let i = 0; i < n; i++) {
        for (let head = 0; head < nh; head++) {
          applyRope(q.subarray(i * d + head * hd, i * d + (head + 1) * hd), i % tl, hd);
          applyRope(k.subarray(i * d + head * hd, i * d + (head + 1) * hd), i % tl, hd);
        }
      }
    }
    const attn = new Float64Array(n * d);
    const scores = new Float64Array(tl);
    for (let b = 0; b < batch; b++) {
      for (let head = 0; head < nh; head++) {
        for (let ti = 0; ti < tl; ti++) {
          const qi = (b * tl + ti) * d + head * hd;
          let max = -Infinity;
          for (let tj = 0; tj <= ti; tj++) {
            const kj = (b * tl + tj) * d + head * hd;
            let dot = 0;
            for (let e = 0; e < hd; e++) dot += q[qi + e]! * k[kj + e]!;
            scores[tj] = dot / Math.sqrt(hd);
            max = Math.max(max, dot / Math.sqrt(hd));
          }
          let denom = 0;
          for (let tj = 0; tj <= ti; tj++) denom += Math.exp(scores[tj]! - max);
          for (let tj = 0; tj <= ti; tj++) {
            const w = Math.exp(scores[tj]! - max) / denom;
            const vj = (b * tl + tj) * d + head * hd;
            for (let e = 0; e < hd; e++) attn[qi + e]! += w * v[vj + e]!;
          }
        }
      }
    }
    const o = matmul(attn, n, d, theta, at(`${p}.self_attn.o_proj.weight`), d);
    for (let i = 0; i < n * d; i++) x[i]! += o[i]!;

    const h2 = rmsNorm(x, n, d, theta, at(`${p}.post_attention_layernorm.weight`), eps);
    const up = matmul(h2, n, d, theta, at(`${p}.mlp.up_proj.weight`), f);
    const hidden = new Float64Array(n * f);
    if (shape.activation === 'swiglu') {
      const gate = matmul(h2, n, d, theta, at(`${p}.mlp.gate_proj.weight`), f);
      for (let i = 0; i < n * f; i++) hidden[i] = (gate[i]! / (1 + Math.exp(-gate[i]!))) * up[i]!;
    } else {
      for (let i = 0; i < n * f; i++) hidden[i] = 0.5 * up[i]! * (1 + erf64(up[i]! / Math.SQRT2));
    }
    const down = matmul(hidden, n, f, theta, at(`${p}.mlp.down_proj.weight`), d);
    const next = new Float64Array(n * d);
    for (let i = 0; i < n * d; i++) next[i] = x[i]! + down[i]!;
    x = next;
  }

  const hFinal = rmsNorm(x, n, d, theta, at('model.norm.weight'), eps);
  const head = shape.tiedEmbeddings ? -1 : at('lm_head.weight');
  let total2 = 0;
  const logits = new Float64Array(vs);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < vs; c++) {
      let dot = 0;
      for (let j = 0; j < d; j++) {
        const w = head < 0 ? theta[emb + c * d + j]! : theta[head + j * vs + c]!;
        dot += hFinal[i * d + j]! * w;
      }
      logits[c] = dot;
    }
    let max = -Infinity;
    for (const z of logits) max = Math.max(max, z);
    let sum = 0;
    for (const z of logits) sum += Math.exp(z - max);
    total2 += max + Math.log(sum) - logits[targets[i]!]!;
  }
  return total2 / n;
}

/**
 * Central finite-difference gradient of `referenceLoss` over every parameter (float64, step `eps`):
 * the oracle of the gradient checks. 2·P reference forwards: tiny shapes only.
 */
export function finiteDifferenceGradient(
  shape: ModelShape,
  theta: Float64Array,
  ids: Int32Array,
  targets: Int32Array,
  batch: number,
  eps = 1e-5,
): Float64Array {
  const work = theta.slice();
  const grad = new Float64Array(theta.length);
  for (let j = 0; j < work.length; j++) {
    const saved = work[j]!;
    work[j] = saved + eps;
    const up = referenceLoss(shape, work, ids, targets, batch);
    work[j] = saved - eps;
    const down = referenceLoss(shape, work, ids, targets, batch);
    work[j] = saved;
    grad[j] = (up - down) / (2 * eps);
  }
  return grad;
}

/** ‖g − g_ref‖₂ / ‖g_ref‖₂ over `[offset, offset + size)`: the per-tensor error the gradient checks bound. */
export function relativeError(g: ArrayLike<number>, ref: ArrayLike<number>, offset: number, size: number): number {
  let diff2 = 0;
  let ref2 = 0;
  for (let i = offset; i < offset + size; i++) {
    diff2 += (g[i]! - ref[i]!) ** 2;
    ref2 += ref[i]! ** 2;
  }
  return ref2 === 0 ? (diff2 === 0 ? 0 : Infinity) : Math.sqrt(diff2 / ref2);
}
