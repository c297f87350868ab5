/**
 * Powers that give the same bits in every JavaScript engine. `Math.pow` / `**` with a fractional
 * exponent is not correctly rounded and its last bit differs between V8 versions (the isomorphism
 * harness caught `0.75 ** 2.5` differing between Node 20 and current Chromium). Scores must replay
 * bit-identically everywhere (audits with `npm run score`, a validator in a tab vs in Node), so:
 * - integer exponents use exponentiation by squaring (only correctly rounded multiplications);
 * - half-integer exponents (the sync exponent 2.5) multiply that by `Math.sqrt`, which IEEE 754
 *   requires to be correctly rounded;
 * - other exponents (e.g. the power normalisation 2.2) use `exp(e·ln x)`; V8's `Math.exp` and
 *   `Math.log` are fdlibm ports that have not changed across the versions we test, but this is the
 *   one path not guaranteed by IEEE 754 — the golden cases would reveal a divergence.
 */

function integerPower(x: number, n: number): number {
  let result = 1;
  let base = x;
  let e = n;
  while (e > 0) {
    if (e & 1) result *= base;
    base *= base;
    e = Math.floor(e / 2);
  }
  return result;
}

/** `x^e` for x ≥ 0 and e ≥ 0, bit-identical across engines for integer and half-integer `e`. */
export function portablePow(x: number, e: number): number {
  if (x === 0) return e === 0 ? 1 : 0;
  if (Number.isInteger(e) && e <= 1024) return integerPower(x, e);
  if (Number.isInteger(2 * e) && e <= 1024) return integerPower(x, e - 0.5) * Math.sqrt(x);
  return Math.exp(e * Math.log(x));
}
