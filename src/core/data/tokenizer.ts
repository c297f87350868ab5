/**
 * Byte-level tokenizer: a token is one byte of the UTF-8 encoding (vocabulary 256, no merges, no
 * special tokens). It needs no vocabulary file, encodes every string, and gives identical tokens in
 * Node and every browser. Templar uses subword tokenizers (gauntlet-spec §4.1, §8.1); a byte
 * vocabulary keeps the embedding of a few-million-parameter model small (§12.2 deviates knowingly).
 */

/** Vocabulary size of the byte tokenizer. */
export const BYTE_VOCAB_SIZE = 256;

/** Identifier written into shard manifests, so shards built by another tokenizer are refused. */
export const BYTE_TOKENIZER_ID = 'bytes-utf8-v1';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Text → tokens (the UTF-8 bytes). */
export function encodeText(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Tokens → text. Any token array decodes: invalid UTF-8 (e.g. a sequence cut inside a multi-byte
 * character, or a model's sample) becomes U+FFFD instead of an exception.
 */
export function decodeTokens(tokens: ArrayLike<number>): string {
  const bytes = tokens instanceof Uint8Array ? tokens : Uint8Array.from(tokens, (t) => t & 0xff);
  return decoder.decode(bytes);
}
