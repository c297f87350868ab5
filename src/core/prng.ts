/**
 * Deterministic pseudo-random numbers that give the same sequence in Node, in workers and in every
 * browser: only 32-bit integer arithmetic (Math.imul, >>> 0), no platform RNG.
 *
 * Generator: xoshiro128** (Blackman & Vigna, 2018), 128-bit state, period 2^128 − 1.
 * Seeding: the 32-bit seed is expanded into four state words with SplitMix32
 * (the 32-bit variant of SplitMix64's finaliser), as the xoshiro authors recommend,
 * so that nearby seeds (uid 1 vs uid 2) give unrelated streams.
 */

/** One SplitMix32 step: returns [output, next state]. */
function splitMix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [(z ^ (z >>> 16)) >>> 0, next];
}

export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let state = seed >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [out, next] = splitMix32(state);
      words.push(out);
      state = next;
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    // An all-zero state would be a fixed point; SplitMix32 cannot produce it, but be explicit.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, bound) without modulo bias (Lemire's rejection method, 32-bit). */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0 || bound > 0x100000000) {
      throw new RangeError(`nextInt bound must be an integer in [1, 2^32], got ${bound}`);
    }
    const threshold = (0x100000000 - bound) % bound;
    for (;;) {
      const r = this.nextU32();
      if (r >= threshold) return r % bound;
    }
  }

  /** Standard normal sample (Box–Muller; uses two uniforms per call, no caching so streams stay simple). */
  nextGaussian(): number {
    const u1 = (this.nextU32() + 1) / 4294967297; // (0, 1]
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A Float32Array of `length` normal samples scaled by `std`, deterministic in `seed`. */
export function gaussianArray(length: number, seed: number, std = 1): Float32Array {
  const rng = new Xoshiro128(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.nextGaussian() * std;
  return out;
}
