import { describe, expect, it } from 'vitest';
import type { ModelShape } from '../../src/core/config';
import { smallRunConfig, tinyRunConfig } from '../../src/core/run-config';
import {
  InvalidModelShapeError,
  ParameterLengthError,
  initParameters,
  parameterCount,
  parameterLayout,
  parameterViews,
} from '../../src/model/params';

const tiny: ModelShape = tinyRunConfig().model;

describe('parameterLayout', () => {
  it('counts the tiny preset by hand', () => {
    // embed 256·64; per layer 2 norms of 64 + 4 attention 64·64 + 3 MLP 64·256; final norm 64.
    const expected = 256 * 64 + 2 * (2 * 64 + 4 * 64 * 64 + 3 * 64 * 256) + 64;
    expect(parameterCount(tiny)).toBe(expected);
  });

  it('packs tensors back to back in the documented order', () => {
    const layout = parameterLayout(tiny);
    expect(layout[0]?.name).toBe('model.embed_tokens.weight');
    expect(layout[1]?.name).toBe('model.layers.0.input_layernorm.weight');
    expect(layout[layout.length - 1]?.name).toBe('model.norm.weight');
    let offset = 0;
    for (const spec of layout) {
      expect(spec.offset).toBe(offset);
      expect(spec.size).toBe(spec.shape.reduce((a, b) => a * b, 1));
      offset += spec.size;
    }
    expect(new Set(layout.map((s) => s.name)).size).toBe(layout.length);
  });

  it('adds learned positions, untied head and drops the gate for GELU', () => {
    const shape: ModelShape = { ...tiny, positional: 'learned', tiedEmbeddings: false, activation: 'gelu' };
    const names = parameterLayout(shape).map((s) => s.name);
    expect(names[1]).toBe('model.embed_positions.weight');
    expect(names[names.length - 1]).toBe('lm_head.weight');
    expect(names.some((n) => n.includes('gate_proj'))).toBe(false);
    const expected = 256 * 64 + 64 * 64 + 2 * (2 * 64 + 4 * 64 * 64 + 2 * 64 * 256) + 64 + 64 * 256;
    expect(parameterCount(shape)).toBe(expected);
  });

  it('rejects impossible shapes with a typed error', () => {
    expect(() => parameterLayout({ ...tiny, nHeads: 3 })).toThrow(InvalidModelShapeError);
    expect(() => parameterLayout({ ...tiny, dModel: 0 })).toThrow(InvalidModelShapeError);
    expect(() => parameterLayout({ ...tiny, dModel: 12, nHeads: 4 })).toThrow(InvalidModelShapeError); // head size 3, RoPE
  });
});

describe('initParameters', () => {
  it('is deterministic in the seed and differs across seeds', () => {
    const a = initParameters(tiny, 7);
    const b = initParameters(tiny, 7);
    const c = initParameters(tiny, 8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('sets norm gains to one and matrices to N(0, initStd²)', () => {
    const theta = initParameters(tiny, 1);
    const views = parameterViews(tiny, theta);
    expect(Array.from(views.get('model.norm.weight') ?? [])).toEqual(new Array(64).fill(1));
    const emb = views.get('model.embed_tokens.weight') ?? new Float32Array();
    let sum = 0;
    let sq = 0;
    for (const x of emb) {
      sum += x;
      sq += x * x;
    }
    const mean = sum / emb.length;
    const std = Math.sqrt(sq / emb.length - mean * mean);
    // 16384 samples: the standard error of the std estimate is ≈ 0.02/√(2·16384) ≈ 1.1e-4.
    expect(Math.abs(mean)).toBeLessThan(5 * 0.02 / Math.sqrt(emb.length));
    expect(Math.abs(std - 0.02)).toBeLessThan(1e-3);
  });

  it('parameterViews rejects a vector of the wrong length', () => {
    expect(() => parameterViews(tiny, new Float32Array(3))).toThrow(ParameterLengthError);
  });
});

describe('presets', () => {
  it('the small preset has ≈5M parameters (hand count)', () => {
    const d = 320;
    const f = 896;
    const expected = 256 * d + 4 * (2 * d + 4 * d * d + 3 * d * f) + d;
    expect(parameterCount(smallRunConfig().model)).toBe(expected);
    expect(expected).toBeGreaterThan(5e6);
    expect(expected).toBeLessThan(5.5e6);
  });
});
