import { CompressionError } from './errors.ts';

/**
 * 12-bit index packing (gauntlet-spec §5.3, Templar v2.1.3 `pack_12bit_indices`): indices below 4096
 * taken in pairs `(a, b)` become 3 bytes `[a & 0xFF, (a >> 8 & 0xF) | (b & 0xF) << 4, b >> 4 & 0xFF]`.
 * The count must be even.
 */
export function pack12(indices: ArrayLike<number>): Uint8Array {
  const n = indices.length;
  if (n % 2 !== 0) throw new CompressionError('length-mismatch', `12-bit packing needs an even number of indices, got ${n}`);
  const out = new Uint8Array((n / 2) * 3);
  for (let p = 0; p < n / 2; p++) {
    const a = indices[2 * p]!;
    const b = indices[2 * p + 1]!;
    if (!(a >= 0 && a < 4096 && b >= 0 && b < 4096) || !Number.isInteger(a) || !Number.isInteger(b)) {
      throw new CompressionError('length-mismatch', `12-bit packing needs integers in [0, 4096), got ${a}, ${b} at pair ${p}`);
    }
    out[3 * p] = a & 0xff;
    out[3 * p + 1] = ((a >> 8) & 0xf) | ((b & 0xf) << 4);
    out[3 * p + 2] = (b >> 4) & 0xff;
  }
  return out;
}

/** Inverse of `pack12` (Templar `unpack_12bit_indices`): `count` indices from `count·3/2` bytes. */
export function unpack12(bytes: Uint8Array, count: number): Uint16Array {
  if (count % 2 !== 0 || bytes.length !== (count / 2) * 3) {
    throw new CompressionError('length-mismatch', `unpacking ${count} 12-bit indices needs ${(count / 2) * 3} bytes and an even count, got ${bytes.length}`);
  }
  const out = new Uint16Array(count);
  for (let p = 0; p < count / 2; p++) {
    const b0 = bytes[3 * p]!;
    const b1 = bytes[3 * p + 1]!;
    const b2 = bytes[3 * p + 2]!;
    out[2 * p] = b0 | ((b1 & 0xf) << 8);
    out[2 * p + 1] = (b1 >> 4) | (b2 << 4);
  }
  return out;
}

/** Bits per code for a number of quantisation bins (4 bins → 2 bits). */
export function bitsPerCode(bins: number): 1 | 2 | 4 | 8 {
  switch (bins) {
    case 2:
      return 1;
    case 4:
      return 2;
    case 16:
      return 4;
    case 256:
      return 8;
    default:
      throw new CompressionError('bad-config', `quantizationBins must be 2, 4, 16 or 256, got ${bins}`);
  }
}

/** Bytes that `count` codes of `bits` bits occupy when bit-packed. */
export function packedCodeBytes(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

/**
 * Bit-packs quantisation codes, `8/bits` per byte, code i in bits `bits·(i mod 8/bits)` upwards (for
 * 2-bit codes: four per byte, code i in bits 2·(i mod 4)). v2.1.3 stores one code per byte; packing is
 * what makes the published 146× real (gauntlet-spec §5.4). Unused high bits of the last byte are 0.
 */
export function packCodes(codes: Uint8Array, bits: 1 | 2 | 4 | 8): Uint8Array {
  const perByte = 8 / bits;
  const limit = 1 << bits;
  const out = new Uint8Array(packedCodeBytes(codes.length, bits));
  for (let i = 0; i < codes.length; i++) {
    const q = codes[i]!;
    if (q >= limit) throw new CompressionError('length-mismatch', `code ${q} at ${i} does not fit ${bits} bits`);
    const at = Math.floor(i / perByte);
    out[at] = out[at]! | (q << (bits * (i % perByte)));
  }
  return out;
}

/** Inverse of `packCodes`. */
export function unpackCodes(bytes: Uint8Array, count: number, bits: 1 | 2 | 4 | 8): Uint8Array {
  if (bytes.length !== packedCodeBytes(count, bits)) {
    throw new CompressionError('length-mismatch', `${count} codes of ${bits} bits need ${packedCodeBytes(count, bits)} bytes, got ${bytes.length}`);
  }
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[Math.floor(i / perByte)]! >> (bits * (i % perByte))) & mask;
  return out;
}
