import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RunConfig } from '../../src/core/config.ts';
import { chunkSize } from '../../src/core/compress/chunking.ts';
import {
  RunConfigError,
  canonicalJson,
  runConfigHash,
  smallRunConfig,
  tinyRunConfig,
  withScoringProfile,
  validateRunConfig,
} from '../../src/core/run-config.ts';

type Json = Record<string, unknown>;

/** A deep, mutable copy of a preset with `section.field` replaced (or deleted when value is undefined). */
function withField(base: object, path: string, value: unknown): Json {
  const copy = JSON.parse(JSON.stringify(base)) as Json;
  const parts = path.split('.');
  const last = parts.pop() as string;
  let target = copy;
  for (const part of parts) target = target[part] as Json;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

/** The issues validateRunConfig reports for `x` (fails the test when it does not throw). */
function issuesOf(x: unknown): { path: string; message: string }[] {
  try {
    validateRunConfig(x);
  } catch (error) {
    expect(error).toBeInstanceOf(RunConfigError);
    return [...(error as RunConfigError).issues];
  }
  throw new Error('expected a RunConfigError');
}

/** Parameters of a tied LLaMA-style model, counted by hand: embedding, 4 attention and 3 SwiGLU matrices and 2 norms per layer, final norm. */
function parameterCount(cfg: RunConfig): number {
  const { vocabSize: v, dModel: d, dFF: f, nLayers: l } = cfg.model;
  return v * d + l * (4 * d * d + 3 * d * f + 2 * d) + d;
}

describe('presets (gauntlet-spec §8.2, §12.2)', () => {
  it('both presets validate and come back equal and frozen', () => {
    for (const preset of [tinyRunConfig(), smallRunConfig()]) {
      const validated = validateRunConfig(preset);
      expect(validated).toEqual(preset);
      expect(Object.isFrozen(validated)).toBe(true);
      expect(Object.isFrozen(validated.model)).toBe(true);
    }
  });

  it('carry the SparseLoCo v2.1.3 constants and the browser-scaled inner optimizer', () => {
    for (const cfg of [tinyRunConfig(), smallRunConfig()]) {
      expect(cfg.inner).toMatchObject({ lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradClipNorm: 1, minLrRatio: 0.1 });
      expect(cfg.compression).toEqual({
        codec: 'sparseloco', targetChunk: 64, topk: 64, quantizationBins: 4, quantizationRange: 6, errorFeedbackDecay: 0.95, outerLr: 1,
      });
      expect(cfg.scoring).toMatchObject({ evalLrFactor: 0.2, openskillBeta: 7, openskillTau: 0.1, binaryScoreMaAlpha: 0.05, syncExponent: 2.5 });
      // The presets play by the newest profile, with the constants it fixes (issue #18: sync window 3, slash above 2 steps, copy bans of 20 windows).
      expect(cfg.scoring).toMatchObject({ profile: 'templar-2026', syncWindowSteps: 3, syncMaxStepsBehind: 2, naughtyPeerTimeout: 20 });
      expect(withScoringProfile(cfg.scoring, 'templar-v2.1.3')).toMatchObject({ profile: 'templar-v2.1.3', syncWindowSteps: 5, syncMaxStepsBehind: 3, naughtyPeerTimeout: 200 });
      expect(cfg.window).toMatchObject({ validatorOffset: 1, peerListWindowMargin: 1 });
      expect(cfg.data.poolSequences).toBeGreaterThanOrEqual(cfg.inner.innerSteps * cfg.inner.batchSize);
    }
    expect(smallRunConfig().inner.warmupSteps).toBe(200);
  });

  it('tiny is the CI shape with devnet timing', () => {
    const { model, inner, window } = tinyRunConfig();
    expect(model).toMatchObject({ vocabSize: 256, dModel: 64, nLayers: 2, nHeads: 4, dFF: 256, seqLen: 64, activation: 'swiglu', positional: 'rope', tiedEmbeddings: true });
    expect([inner.innerSteps, inner.batchSize]).toEqual([4, 4]);
    expect(window.blocksPerWindow * window.blockTimeMs).toBe(5000);
    expect(window.putWindowMs).toBe(3000);
  });

  it('small is ≈5M parameters with 120 s windows and a 15 s put window', () => {
    const cfg = smallRunConfig();
    expect(cfg.model).toMatchObject({ dModel: 320, nLayers: 4, nHeads: 5, dFF: 896, seqLen: 256 });
    // 256·320 + 4·(4·320² + 3·320·896 + 2·320) + 320 = 81 920 + 4·1 270 400 + 320 = 5 163 840
    expect(parameterCount(cfg)).toBe(5_163_840);
    expect(cfg.window.blocksPerWindow * cfg.window.blockTimeMs).toBe(120_000);
    expect(cfg.window.putWindowMs).toBe(15_000);
    expect([cfg.inner.innerSteps, cfg.inner.batchSize]).toEqual([20, 8]);
  });
});

describe('chunkSize as the run config uses it (compress.py chunk rule, §5.3)', () => {
  it('is the largest divisor not above the target', () => {
    expect(chunkSize(320, 64)).toBe(64);
    expect(chunkSize(896, 64)).toBe(64);
    expect(chunkSize(100, 64)).toBe(50);
    expect(chunkSize(96, 64)).toBe(48);
    expect(chunkSize(67, 64)).toBe(1); // prime above the target
    expect(chunkSize(61, 64)).toBe(61); // prime below the target: one chunk
  });
});

describe('validateRunConfig error paths', () => {
  const tiny = tinyRunConfig();

  it('rejects a non-object and names the problem', () => {
    expect(issuesOf(null)).toEqual([{ path: '', message: 'the run config must be an object, got null' }]);
    expect(issuesOf([1])[0]?.message).toMatch(/an array/);
  });

  it('reports missing fields, unknown fields and non-object sections', () => {
    expect(issuesOf(withField(tiny, 'model.dFF', undefined))).toEqual([{ path: 'model.dFF', message: 'model.dFF is missing' }]);
    expect(issuesOf(withField(tiny, 'inner.learningRate', 0.1))[0]?.path).toBe('inner.learningRate');
    expect(issuesOf(withField(tiny, 'extra', 1))[0]?.path).toBe('extra');
    expect(issuesOf(withField(tiny, 'window', 5))).toEqual([{ path: 'window', message: 'window (5) must be an object' }]);
  });

  it('checks every kind of scalar rule', () => {
    const cases: [string, unknown, RegExp][] = [
      ['model.tiedEmbeddings', 'yes', /must be true or false/],
      ['model.activation', 'relu', /must be one of "gelu", "swiglu"/],
      ['runId', 'has space', /must be 1–64 characters/],
      ['version', 1, /must be one of 5/],
      ['bounds.maxTensorNorm', 0, /\(0\) must be > 0/],
      ['bounds.maxOuterStepNorm', 1e30, /must be ≤ 1000000000000/],
      ['model.nLayers', 2.5, /\(2.5\) must be an integer/],
      ['model.nLayers', 0, /\(0\) must be ≥ 1/],
      ['inner.lr', 0, /\(0\) must be > 0/],
      ['inner.lr', Number.NaN, /must be a finite number/],
      ['inner.lr', '0.001', /must be a finite number/],
      ['inner.beta2', 1, /\(1\) must be < 1/],
      ['inner.resetMomentsAtStep', -1, /\(-1\) must be ≥ 0/],
      ['inner.resetMomentsAtStep', 2.5, /\(2.5\) must be an integer/],
      ['inner.resetMomentsAtStep', '20', /must be a finite number|must be an integer/],
      ['inner.resetMomentsAtStep', 2 ** 32, /must be ≤ 4294967295/],
      ['compression.targetChunk', 128, /\(128\) must be ≤ 64/],
      ['scoring.burnRate', 1.5, /\(1.5\) must be ≤ 1/],
      ['initSeed', 2 ** 32, /must be ≤ 4294967295/],
    ];
    for (const [path, value, message] of cases) {
      const issues = issuesOf(withField(tiny, path, value));
      expect(issues.map((i) => i.path), path).toEqual([path]);
      expect(issues[0]?.message, path).toMatch(message);
    }
  });

  it('takes null for a step that never comes (runs before version 5), and a missing one is a missing field', () => {
    expect(validateRunConfig(withField(tiny, 'inner.resetMomentsAtStep', null)).inner.resetMomentsAtStep).toBeNull();
    expect(issuesOf(withField(tiny, 'inner.resetMomentsAtStep', undefined))).toEqual([{ path: 'inner.resetMomentsAtStep', message: 'inner.resetMomentsAtStep is missing' }]);
  });

  it('lists every problem at once', () => {
    const bad = withField(withField(withField(tiny, 'inner.lr', -1), 'model.normEps', 0), 'scoring.weighting', 'linear');
    expect(issuesOf(bad).map((i) => i.path).sort()).toEqual(['inner.lr', 'model.normEps', 'scoring.weighting']);
    expect(() => validateRunConfig(bad)).toThrow(/^Invalid run config \(3 problems\)/);
  });

  it('reports relation problems together with unrelated field problems, and skips them when their inputs are bad', () => {
    const mixed = withField(withField(tiny, 'scoring.openskillBeta', -7), 'data.poolSequences', 10);
    expect(issuesOf(mixed).map((i) => i.path)).toEqual(['scoring.openskillBeta', 'data.poolSequences']);
    // A non-numeric pool size is reported once, as a type problem, not again as a relation.
    expect(issuesOf(withField(tiny, 'data.poolSequences', 'many')).map((i) => i.path)).toEqual(['data.poolSequences']);
    // An unknown top-level field leaves the relations checked too.
    expect(issuesOf(withField(withField(tiny, 'extra', 1), 'compression.topk', 63)).map((i) => i.path)).toEqual(['extra', 'compression.topk']);
  });

  it('rejects dimensions that cannot be chunked and accepts those with a divisor ≥ 2', () => {
    const prime = issuesOf(withField(withField(tiny, 'model.dFF', 67), 'model.nHeads', 1));
    expect(prime).toEqual([
      {
        path: 'model.dFF',
        message: 'model.dFF (67) is not a multiple of compression.targetChunk 64 and has no divisor in [2, 64], so its chunks would be 1 wide (gauntlet-spec §5.3); use a multiple of 64',
      },
    ]);
    // 100 = 2·50: chunks of 50 are fine (Templar's rule), as are 1-D-only sizes like seqLen with rope.
    expect(() => validateRunConfig(withField(tiny, 'model.dFF', 100))).not.toThrow();
    expect(() => validateRunConfig(withField(tiny, 'model.seqLen', 67))).not.toThrow();
    // With learned positions seqLen is a matrix dimension too.
    const learned = withField(withField(tiny, 'model.seqLen', 67), 'model.positional', 'learned');
    expect(issuesOf(learned).map((i) => i.path)).toEqual(['model.seqLen']);
  });

  it('checks heads, rope pairs, top-k, pool, shard and put-window relations', () => {
    expect(issuesOf(withField(tiny, 'model.nHeads', 3))[0]?.message).toBe('model.dModel (64) is not divisible by model.nHeads (3)');
    // 64 / 64 = 1: odd head width cannot be rotated in pairs.
    expect(issuesOf(withField(tiny, 'model.nHeads', 64))[0]?.message).toMatch(/must be even for rotary positions/);
    expect(() => validateRunConfig(withField(withField(tiny, 'model.nHeads', 64), 'model.positional', 'learned'))).not.toThrow();
    expect(issuesOf(withField(tiny, 'compression.topk', 63))[0]?.message).toMatch(/must be even/);
    expect(issuesOf(withField(tiny, 'compression.topk', 4098))[0]?.message).toMatch(/exceeds the 64×64 = 4096 entries/);
    expect(issuesOf(withField(tiny, 'data.poolSequences', 15))[0]?.message).toMatch(/smaller than inner.innerSteps × inner.batchSize = 16/);
    expect(issuesOf(withField(tiny, 'data.shardTokens', 64))[0]?.message).toMatch(/seqLen \+ 1 = 65/);
    expect(issuesOf(withField(tiny, 'window.putWindowMs', 5000))[0]?.message).toMatch(/shorter than a window .* 5000 ms/);
    const pools = issuesOf(withField(withField(tiny, 'scoring.evalSequences', 100), 'data.poolSequences', 64));
    expect(pools[0]?.message).toBe('data.poolSequences (64) is smaller than scoring.evalSequences (100)');
  });
});

/** An independent canonical form: JSON.stringify with a replacer that rebuilds every object with sorted keys. */
function sortedStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The same value with every object's keys in reverse insertion order. */
function reverseKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value as Json).reverse().map(([k, v]) => [k, reverseKeys(v)]));
}

describe('canonical JSON and runConfigHash', () => {
  it('matches an independent sorted-key serialisation and node:crypto sha256', () => {
    for (const cfg of [tinyRunConfig(), smallRunConfig()]) {
      expect(canonicalJson(cfg)).toBe(sortedStringify(cfg));
      expect(runConfigHash(cfg)).toBe(createHash('sha256').update(sortedStringify(cfg)).digest('hex'));
    }
  });

  it('does not depend on key order and changes with any value', () => {
    const tiny = tinyRunConfig();
    const reversed = reverseKeys(tiny) as RunConfig;
    expect(Object.keys(reversed)[0]).toBe('bounds');
    expect(Object.keys(reversed.model)[0]).toBe('initStd');
    expect(runConfigHash(reversed)).toBe(runConfigHash(tiny));
    expect(runConfigHash(withField(tiny, 'inner.lr', 2e-3) as unknown as RunConfig)).not.toBe(runConfigHash(tiny));
    expect(runConfigHash(tinyRunConfig())).not.toBe(runConfigHash(smallRunConfig()));
  });

  it('writes nested values canonically and refuses non-finite numbers', () => {
    expect(canonicalJson({ b: [1, { d: 'x', c: null }], a: true })).toBe('{"a":true,"b":[1,{"c":null,"d":"x"}]}');
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});
