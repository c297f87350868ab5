/** Wire format (gauntlet-spec §5.4, §5.8): container, hashes, signing message, typed errors. */
export * from './errors.ts';
export * from './bytes.ts';
export * from './hashes.ts';
export * from './container.ts';
export * from './publication.ts';
