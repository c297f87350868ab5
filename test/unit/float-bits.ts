/** The IEEE-754 bit patterns of `values`: `toEqual` on them is a bit-for-bit comparison (−0 ≠ +0, NaN payloads count). */
export function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}
