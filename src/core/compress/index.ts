/** Compression reference (gauntlet-spec §5.2–5.4): chunking, DCT, top-k, quantisation, packing, error feedback. */
export * from './errors.ts';
export * from './chunking.ts';
export * from './topk.ts';
export * from './quantize.ts';
export * from './pack.ts';
export * from './dct.ts';
export * from './codec.ts';
export * from './error-feedback.ts';
export * from './bounds.ts';
