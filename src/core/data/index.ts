/** Training data: byte tokenizer, Brown-corpus cleaning, shard manifest, deterministic assignment, digests. */
export * from './assignment.ts';
export * from './brown.ts';
export * from './digest.ts';
export * from './manifest.ts';
export * from './tokenizer.ts';
export * from './shard-loader.ts';
