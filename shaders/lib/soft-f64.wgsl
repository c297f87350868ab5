// Software binary64 (IEEE 754 double, round to nearest, ties to even) for the few sums and products
// where the CPU reference computes in float64 and every peer must reach the same bits: WGSL has no
// f64, and GPU f32 arithmetic may flush subnormals. Not a kernel: prepended to the kernels that use it
// (src/gpu/wgsl.ts `withSoftF64`). CPU twin: JavaScript's own number arithmetic.
//
// An unpacked value is (-1)^sign · M · 2^(e − 63) with the 64-bit M = hi·2^32 + lo normalised (bit 63
// set), or zero (M = 0). After every operation M is rounded to 53 significant bits (bits 11…63), so
// the 11 low bits serve as guard bits with the sticky bit jammed into bit 0. The operands here all
// come from float32 values and a few constants, far from binary64's exponent limits, so binary64
// subnormals and overflow are not modelled.

struct F64 {
  sign: u32,
  e: i32,
  hi: u32,
  lo: u32,
}

fn f64_zero() -> F64 {
  return F64(0u, 0, 0u, 0u);
}

fn f64_is_zero(a: F64) -> bool {
  return a.hi == 0u && a.lo == 0u;
}

// (hi, lo) << n for n in [0, 63].
fn shl64(hi: u32, lo: u32, n: u32) -> vec2<u32> {
  if (n == 0u) { return vec2<u32>(hi, lo); }
  if (n >= 32u) { return vec2<u32>(lo << (n - 32u), 0u); }
  return vec2<u32>((hi << n) | (lo >> (32u - n)), lo << n);
}

// (hi, lo) >> n with every shifted-out 1 jammed into bit 0 (sticky), for any n.
fn shr64_jam(hi: u32, lo: u32, n: u32) -> vec2<u32> {
  if (n == 0u) { return vec2<u32>(hi, lo); }
  if (n >= 64u) { return vec2<u32>(0u, select(0u, 1u, (hi | lo) != 0u)); }
  var rhi = 0u;
  var rlo = 0u;
  var lost = 0u;
  if (n >= 32u) {
    let m = n - 32u;
    if (m == 0u) {
      rlo = hi;
      lost = lo;
    } else {
      rlo = hi >> m;
      lost = lo | (hi << (32u - m));
    }
  } else {
    rhi = hi >> n;
    rlo = (lo >> n) | (hi << (32u - n));
    lost = lo << (32u - n);
  }
  return vec2<u32>(rhi, rlo | select(0u, 1u, lost != 0u));
}

fn f64_normalize(sign: u32, e: i32, hi: u32, lo: u32) -> F64 {
  if (hi == 0u && lo == 0u) { return f64_zero(); }
  var lz = countLeadingZeros(hi);
  if (hi == 0u) { lz = 32u + countLeadingZeros(lo); }
  let m = shl64(hi, lo, lz);
  return F64(sign, e - i32(lz), m.x, m.y);
}

// Rounds M to 53 significant bits, ties to even.
fn f64_round(a: F64) -> F64 {
  if (f64_is_zero(a)) { return a; }
  let low = a.lo & 0x7FFu;
  var lo = a.lo & ~0x7FFu;
  var hi = a.hi;
  var e = a.e;
  if (low > 0x400u || (low == 0x400u && (lo & 0x800u) != 0u)) {
    lo = lo + 0x800u;
    if (lo == 0u) {
      hi = hi + 1u;
      if (hi == 0u) {
        hi = 0x80000000u;
        e = e + 1;
      }
    }
  }
  return F64(a.sign, e, hi, lo);
}

// Exact float32 → binary64, from the float32's bits (never through f32 arithmetic).
fn f64_from_f32_bits(bits: u32) -> F64 {
  let sign = bits >> 31u;
  let ex = (bits >> 23u) & 0xFFu;
  let frac = bits & 0x7FFFFFu;
  if (ex == 0u) {
    // zero or subnormal: frac · 2^-149
    return f64_normalize(sign, -149 + 63, 0u, frac);
  }
  return F64(sign, i32(ex) - 127, (frac | 0x800000u) << 8u, 0u);
}

// binary64 bits (hi word, lo word) → unpacked; normal numbers and zero only.
fn f64_from_bits(hi_word: u32, lo_word: u32) -> F64 {
  let sign = hi_word >> 31u;
  let ex = (hi_word >> 20u) & 0x7FFu;
  if (ex == 0u) { return f64_zero(); }
  let frac_hi = (hi_word & 0xFFFFFu) | 0x100000u;
  return F64(sign, i32(ex) - 1023, (frac_hi << 11u) | (lo_word >> 21u), lo_word << 11u);
}

// Unpacked → binary64 bits (hi word, lo word); the value must already be rounded (f64_round).
fn f64_to_bits(a: F64) -> vec2<u32> {
  if (f64_is_zero(a)) { return vec2<u32>(a.sign << 31u, 0u); }
  let ex = u32(a.e + 1023);
  let hi = (a.sign << 31u) | (ex << 20u) | ((a.hi >> 11u) & 0xFFFFFu);
  let lo = (a.hi << 21u) | (a.lo >> 11u);
  return vec2<u32>(hi, lo);
}

fn f64_neg(a: F64) -> F64 {
  return F64(a.sign ^ 1u, a.e, a.hi, a.lo);
}

// |a| < |b| for normalised non-zero values.
fn f64_mag_less(a: F64, b: F64) -> bool {
  if (a.e != b.e) { return a.e < b.e; }
  if (a.hi != b.hi) { return a.hi < b.hi; }
  return a.lo < b.lo;
}

// a + b rounded to binary64. The sticky bit jammed into bit 0 makes the pre-rounding result odd
// whenever anything was shifted out, so it never sits on a rounding boundary: the rounding is that of
// the exact sum.
fn f64_add(a: F64, b: F64) -> F64 {
  if (f64_is_zero(a)) { return b; }
  if (f64_is_zero(b)) { return a; }
  var x = a;
  var y = b;
  if (f64_mag_less(x, y)) {
    x = b;
    y = a;
  }
  let ys = shr64_jam(y.hi, y.lo, u32(x.e - y.e));
  if (x.sign == y.sign) {
    let lo = x.lo + ys.y;
    let c = select(0u, 1u, lo < x.lo);
    let t = x.hi + ys.x;
    let hi = t + c;
    if (t < x.hi || hi < t) {
      // carry out of bit 63: shift right by one, keeping the lost bit as sticky
      let nlo = (lo >> 1u) | (hi << 31u) | (lo & 1u);
      return f64_round(F64(x.sign, x.e + 1, (hi >> 1u) | 0x80000000u, nlo));
    }
    return f64_round(F64(x.sign, x.e, hi, lo));
  }
  let borrow = select(0u, 1u, x.lo < ys.y);
  let lo = x.lo - ys.y;
  let hi = x.hi - ys.x - borrow;
  return f64_round(f64_normalize(x.sign, x.e, hi, lo));
}

// a · b rounded to binary64: the 128-bit product in 16-bit limbs, top 64 bits kept, the rest sticky.
fn f64_mul(a: F64, b: F64) -> F64 {
  let sign = a.sign ^ b.sign;
  if (f64_is_zero(a) || f64_is_zero(b)) { return F64(sign, 0, 0u, 0u); }
  var al = array<u32, 4>(a.lo & 0xFFFFu, a.lo >> 16u, a.hi & 0xFFFFu, a.hi >> 16u);
  var bl = array<u32, 4>(b.lo & 0xFFFFu, b.lo >> 16u, b.hi & 0xFFFFu, b.hi >> 16u);
  var col = array<u32, 9>(0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u, 0u);
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let p = al[i] * bl[j];
      col[i + j] += p & 0xFFFFu;
      col[i + j + 1u] += p >> 16u;
    }
  }
  var carry = 0u;
  for (var k = 0u; k < 8u; k++) {
    let v = col[k] + carry;
    col[k] = v & 0xFFFFu;
    carry = v >> 16u;
  }
  var hi = (col[7] << 16u) | col[6];
  var lo = (col[5] << 16u) | col[4];
  let sticky = (col[0] | col[1] | col[2] | col[3]) != 0u;
  var e = a.e + b.e + 1;
  if ((hi & 0x80000000u) == 0u) {
    // product in [2^126, 2^127): one more bit from below; it also stays inside the sticky OR
    hi = (hi << 1u) | (lo >> 31u);
    lo = (lo << 1u) | ((col[3] >> 15u) & 1u);
    e = e - 1;
  }
  return f64_round(F64(sign, e, hi, lo | select(0u, 1u, sticky)));
}

// a / c for an integer 1 ≤ c < 2^31, rounded to binary64: bit-serial long division until the
// quotient has 64 significant bits (at most 64 + 32 dividend bits), remainder as sticky.
fn f64_div_u32(a: F64, c: u32) -> F64 {
  if (f64_is_zero(a) || c == 1u) { return a; }
  var r = 0u;
  var qhi = 0u;
  var qlo = 0u;
  var steps = 0u;
  for (var s = 1u; s <= 96u; s++) {
    var bit = 0u;
    if (s <= 32u) {
      bit = (a.hi >> (32u - s)) & 1u;
    } else if (s <= 64u) {
      bit = (a.lo >> (64u - s)) & 1u;
    }
    r = 2u * r + bit;
    qhi = (qhi << 1u) | (qlo >> 31u);
    qlo = qlo << 1u;
    if (r >= c) {
      r = r - c;
      qlo = qlo | 1u;
    }
    if ((qhi & 0x80000000u) != 0u) {
      steps = s;
      break;
    }
  }
  // a = M·2^(e−63); after `steps` dividend bits q ≈ M·2^(steps−64)/c, so a/c = q·2^(e + 64 − steps − 63).
  return f64_round(F64(a.sign, a.e + 64 - i32(steps), qhi, qlo | select(0u, 1u, r != 0u)));
}

// Rounds a binary64 (already rounded to 53 bits) to float32 bits, ties to even, float32 subnormals
// and overflow to ±∞ included: the same double rounding as JavaScript's Math.fround(x).
fn f64_to_f32_bits(a: F64) -> u32 {
  let sign_bits = a.sign << 31u;
  if (f64_is_zero(a)) { return sign_bits; }
  var shift = 40u;
  if (a.e < -126) { shift = 40u + u32(-126 - a.e); }
  if (shift > 64u) { return sign_bits; }
  if (shift == 64u) {
    // below the smallest subnormal: rounds up only when strictly above half of it
    return sign_bits | select(0u, 1u, a.hi > 0x80000000u || a.lo != 0u);
  }
  let sh = shift - 32u; // 8 … 31
  var mant = a.hi >> sh;
  let rem_hi = a.hi & ((1u << sh) - 1u);
  let half_hi = 1u << (sh - 1u);
  let above = rem_hi > half_hi || (rem_hi == half_hi && a.lo != 0u);
  let tie = rem_hi == half_hi && a.lo == 0u;
  if (above || (tie && (mant & 1u) == 1u)) { mant = mant + 1u; }
  if (a.e < -126) {
    // subnormal; a carry into bit 23 is exactly the smallest normal's encoding
    return sign_bits | mant;
  }
  var e = a.e;
  if (mant == 0x1000000u) {
    mant = 0x800000u;
    e = e + 1;
  }
  if (e > 127) { return sign_bits | 0x7F800000u; }
  return sign_bits | (u32(e + 127) << 23u) | (mant & 0x7FFFFFu);
}

// float32 bits of fround(x + y) for float32 inputs (correctly rounded, no flush to zero).
fn f32_add_bits(x: u32, y: u32) -> u32 {
  return f64_to_f32_bits(f64_add(f64_from_f32_bits(x), f64_from_f32_bits(y)));
}

// float32 bits of fround(x − y) for float32 inputs.
fn f32_sub_bits(x: u32, y: u32) -> u32 {
  return f64_to_f32_bits(f64_add(f64_from_f32_bits(x), f64_neg(f64_from_f32_bits(y))));
}
