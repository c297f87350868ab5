import { WireFormatError } from './errors.ts';

/**
 * Little-endian byte writer and a strict, bounds-checked reader. The reader never reads past the end
 * and never allocates more than it was asked to read, so hostile lengths cannot crash or exhaust us:
 * every failure is a `WireFormatError('truncated' | 'bad-string')`.
 */
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Longest string field (run id, tensor name) in UTF-8 bytes. */
export const MAX_STRING_BYTES = 256;

function checkInteger(value: number, max: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new WireFormatError('bad-field', `${field} must be an integer in [0, ${max}], got ${value}`);
  }
}

export class ByteWriter {
  private buffer = new Uint8Array(1024);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  /**
   * Claims `extra` bytes and returns where they start. It may replace `buffer` and `view`, so callers
   * must call it before reading either (in `this.buffer.set(x, this.reserve(n))` the old buffer would
   * already have been read).
   */
  private reserve(extra: number): number {
    const at = this.length;
    if (at + extra > this.buffer.length) {
      const grown = new Uint8Array(Math.max(this.buffer.length * 2, at + extra));
      grown.set(this.buffer.subarray(0, at));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length += extra;
    return at;
  }

  u8(value: number, field = 'u8'): void {
    checkInteger(value, 0xff, field);
    const at = this.reserve(1);
    this.buffer[at] = value;
  }

  u16(value: number, field = 'u16'): void {
    checkInteger(value, 0xffff, field);
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }

  u32(value: number, field = 'u32'): void {
    checkInteger(value, 0xffffffff, field);
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }

  f32(value: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, value, true);
  }

  bytes(data: Uint8Array): void {
    const at = this.reserve(data.length);
    this.buffer.set(data, at);
  }

  fixedBytes(data: Uint8Array, length: number, field: string): void {
    if (data.length !== length) throw new WireFormatError('bad-field', `${field} must be ${length} bytes, got ${data.length}`);
    this.bytes(data);
  }

  /** `u16 byteLength` then the UTF-8 bytes. */
  string(value: string): void {
    const encoded = utf8Encoder.encode(value);
    if (encoded.length > MAX_STRING_BYTES) throw new WireFormatError('bad-field', `string "${value.slice(0, 40)}…" is ${encoded.length} UTF-8 bytes; at most ${MAX_STRING_BYTES}`);
    this.u16(encoded.length);
    this.bytes(encoded);
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.data.length - this.offset;
  }

  private take(n: number, field: string): number {
    if (n > this.remaining) {
      throw new WireFormatError('truncated', `${field} needs ${n} bytes at offset ${this.offset}, only ${this.remaining} left`);
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(field: string): number {
    return this.view.getUint8(this.take(1, field));
  }

  u16(field: string): number {
    return this.view.getUint16(this.take(2, field), true);
  }

  u32(field: string): number {
    return this.view.getUint32(this.take(4, field), true);
  }

  f32(field: string): number {
    return this.view.getFloat32(this.take(4, field), true);
  }

  /** A copy of the next `n` bytes. */
  bytes(n: number, field: string): Uint8Array {
    const at = this.take(n, field);
    return this.data.slice(at, at + n);
  }

  string(field: string): string {
    const length = this.u16(`${field} length`);
    if (length > MAX_STRING_BYTES) throw new WireFormatError('bad-string', `${field} claims ${length} bytes; at most ${MAX_STRING_BYTES}`);
    const raw = this.bytes(length, field);
    try {
      return utf8Decoder.decode(raw);
    } catch {
      throw new WireFormatError('bad-string', `${field} is not valid UTF-8`);
    }
  }
}

/** Whether two byte strings are equal (hashes, commitments, public keys). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
