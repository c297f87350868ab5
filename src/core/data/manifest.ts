/**
 * The shard manifest written by `npm run data` (`public/data/manifest.json`) and read by the Node
 * loader (`src/cli/data-files.ts`) and the browser. Shards are flat byte files of tokens; the
 * manifest pins each one by sha256 so a truncated download or a stale build is caught before
 * training (style.md lesson 10). This plays the role of Templar's `sharded_dataset.py` file layout
 * (`train_{shard:06d}.npy`), at browser scale (gauntlet-spec §4.1).
 */

import { sha256Hex } from './digest.ts';
import { BYTE_TOKENIZER_ID } from './tokenizer.ts';
import { GauntletError } from '../errors.ts';

/** Bump when the shard format or the cleaning changes meaning, so old builds are rebuilt. */
export const SHARD_MANIFEST_VERSION = 1;

export interface ShardEntry {
  /** Path relative to the manifest, e.g. `shards/shard-00000.bin`. */
  readonly file: string;
  /** Tokens in the file (one byte each). Every shard but the last holds exactly `shardTokens`. */
  readonly tokens: number;
  /** sha256 of the file, lower-case hex. */
  readonly sha256: string;
}

/** Where the tokens came from, so the build can tell whether its output is current. */
export interface ShardSource {
  readonly corpus: string;
  readonly corpusVersion: string;
  readonly documents: number;
}

export interface ShardManifest {
  readonly version: typeof SHARD_MANIFEST_VERSION;
  readonly tokenizer: string;
  readonly shardTokens: number;
  readonly shards: readonly ShardEntry[];
  readonly totalTokens: number;
  readonly source: ShardSource;
}

/** File name of shard `index`, relative to the manifest. */
export function shardFileName(index: number): string {
  return `shards/shard-${String(index).padStart(5, '0')}.bin`;
}

/** A manifest that is malformed or does not describe usable shards. */
export class ShardManifestError extends GauntletError {
  readonly code: string = 'shard-manifest';
  override readonly name = 'ShardManifestError';
  constructor(readonly problems: readonly string[]) {
    super(`The data manifest is invalid: ${problems.join('; ')}. Rebuild the shards with \`npm run data\`.`);
  }
}

/** A shard whose bytes do not match the manifest (corrupt, truncated or from another build). */
export class ShardIntegrityError extends GauntletError {
  readonly code: string = 'shard-integrity';
  override readonly name = 'ShardIntegrityError';
  constructor(
    readonly file: string,
    readonly expected: { readonly tokens: number; readonly sha256: string },
    readonly actual: { readonly tokens: number; readonly sha256: string },
  ) {
    super(
      `Shard ${file} does not match the manifest (expected ${expected.tokens} tokens, sha256 ${expected.sha256}; ` +
        `got ${actual.tokens} tokens, sha256 ${actual.sha256}). Delete public/data and run \`npm run data\`, or reload the page.`,
    );
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** Checks parsed JSON and returns it as a `ShardManifest`, or throws `ShardManifestError` listing every problem. */
export function parseShardManifest(x: unknown): ShardManifest {
  if (!isRecord(x)) throw new ShardManifestError(['it is not a JSON object']);
  const problems: string[] = [];
  if (x.version !== SHARD_MANIFEST_VERSION) problems.push(`version is ${String(x.version)}, expected ${SHARD_MANIFEST_VERSION}`);
  if (x.tokenizer !== BYTE_TOKENIZER_ID) problems.push(`tokenizer is ${JSON.stringify(x.tokenizer)}, expected "${BYTE_TOKENIZER_ID}"`);
  const shardTokens = x.shardTokens;
  if (!isCount(shardTokens) || shardTokens === 0) problems.push('shardTokens must be a positive integer');
  if (!isCount(x.totalTokens)) problems.push('totalTokens must be a non-negative integer');
  const source = x.source;
  if (!isRecord(source) || typeof source.corpus !== 'string' || typeof source.corpusVersion !== 'string' || !isCount(source.documents)) {
    problems.push('source must be {corpus, corpusVersion, documents}');
  }
  if (!Array.isArray(x.shards) || x.shards.length === 0) {
    problems.push('shards must be a non-empty array');
  } else {
    let sum = 0;
    x.shards.forEach((entry: unknown, i) => {
      if (!isRecord(entry) || typeof entry.file !== 'string' || !isCount(entry.tokens) || typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256)) {
        problems.push(`shards[${i}] must be {file, tokens, sha256 (64 hex digits)}`);
        return;
      }
      if (entry.file.includes('..') || entry.file.startsWith('/')) problems.push(`shards[${i}].file (${entry.file}) must be a relative path inside the data folder`);
      const last = i === (x.shards as unknown[]).length - 1;
      if (isCount(shardTokens) && (last ? entry.tokens === 0 || entry.tokens > shardTokens : entry.tokens !== shardTokens)) {
        problems.push(`shards[${i}].tokens (${entry.tokens}) must be ${last ? `in [1, ${shardTokens}] for the last shard` : `exactly shardTokens ${shardTokens}`}`);
      }
      sum += entry.tokens;
    });
    if (isCount(x.totalTokens) && problems.length === 0 && sum !== x.totalTokens) problems.push(`totalTokens (${x.totalTokens}) is not the sum of the shards' tokens (${sum})`);
  }
  if (problems.length > 0) throw new ShardManifestError(problems);
  return x as unknown as ShardManifest;
}

/** Throws `ShardIntegrityError` unless `bytes` are exactly the shard the manifest entry describes. */
export function verifyShardBytes(entry: ShardEntry, bytes: Uint8Array): void {
  const actual = { tokens: bytes.length, sha256: sha256Hex(bytes) };
  if (actual.tokens !== entry.tokens || actual.sha256 !== entry.sha256) throw new ShardIntegrityError(entry.file, entry, actual);
}
