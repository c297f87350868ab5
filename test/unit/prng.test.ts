import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from '../../src/core/prng.ts';

/** Independent BigInt implementation of SplitMix32 seeding + xoshiro128** (the published algorithms). */
function referenceStream(seed: number, count: number): number[] {
  const M = 0xffffffffn;
  let state = BigInt(seed >>> 0);
  const s: bigint[] = [];
  for (let i = 0; i < 4; i++) {
    state = (state + 0x9e3779b9n) & M;
    let z = state;
    z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M;
    z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M;
    s.push((z ^ (z >> 16n)) & M);
  }
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    out.push(Number((rotl((s[1]! * 5n) & M, 7n) * 9n) & M));
    const t = (s[1]! << 9n) & M;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11n);
  }
  return out;
}

describe('Xoshiro128 (src/core/prng.ts)', () => {
  it('matches an independent BigInt implementation for several seeds', () => {
    for (const seed of [0, 1, 42, 0xdeadbeef, 2 ** 32 - 1]) {
      const rng = new Xoshiro128(seed);
      const got = Array.from({ length: 1000 }, () => rng.nextU32());
      expect(got).toEqual(referenceStream(seed, 1000));
    }
  });

  it('nextInt is uniform enough and always in range', () => {
    const rng = new Xoshiro128(7);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = rng.nextInt(10);
      expect(x).toBeGreaterThanOrEqual(0);
      counts[x]!++;
    }
    // Chi-square with 9 degrees of freedom; 27.9 is the 0.999 quantile.
    const chi2 = counts.reduce((acc, c) => acc + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(27.9);
    expect(() => rng.nextInt(0)).toThrow(RangeError);
  });

  it('nextGaussian has mean ≈ 0 and variance ≈ 1', () => {
    const rng = new Xoshiro128(3);
    const n = 50_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.nextGaussian();
      sum += x;
      sq += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
  });
});
