// Reading the packed blocks of the wire format (src/core/compress/pack.ts `pack12`, `packCodes`) from a
// u32 storage array named `packed` that the including kernel declares. Bytes are little-endian inside
// each word, so the blocks are byte for byte what the wire container holds.

fn packed_byte(word_offset: u32, b: u32) -> u32 {
  return (packed[word_offset + b / 4u] >> (8u * (b % 4u))) & 0xFFu;
}

// Index i of a 12-bit block: pairs (a, b) in 3 bytes [a & 0xFF, (a >> 8 & 0xF) | (b & 0xF) << 4, b >> 4].
fn unpack_index(word_offset: u32, i: u32) -> u32 {
  let p = i / 2u;
  let b1 = packed_byte(word_offset, 3u * p + 1u);
  if ((i & 1u) == 0u) {
    return packed_byte(word_offset, 3u * p) | ((b1 & 0xFu) << 8u);
  }
  return (b1 >> 4u) | (packed_byte(word_offset, 3u * p + 2u) << 4u);
}

// Code i of a block of `bits`-bit codes, code i in bits bits·(i mod 8/bits) of byte i·bits/8.
fn unpack_code(word_offset: u32, i: u32, bits: u32) -> u32 {
  let per_word = 32u / bits;
  return (packed[word_offset + i / per_word] >> (bits * (i % per_word))) & ((1u << bits) - 1u);
}
