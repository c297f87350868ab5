/**
 * Platform-free loading of the token stream: the caller supplies how to fetch one shard file (the
 * browser's `fetch` relative to the manifest URL, Node's `fs`, a cache), and this module checks
 * every shard against the manifest before anything trains on it (style.md lesson 10).
 */

import { verifyShardBytes, type ShardManifest } from './manifest.ts';

/** Fetches the bytes of a shard file named relative to the manifest (e.g. `shards/shard-00000.bin`). */
export type ShardFetcher = (file: string) => Promise<Uint8Array>;

/**
 * All shards, in manifest order, concatenated into one stream for `sequenceTokens` / `batchTokens`.
 * Throws `ShardIntegrityError` when any shard's length or sha256 differs from the manifest. Shards
 * are fetched at most `concurrency` at a time (default 4) so a tab does not open dozens of requests.
 */
export async function loadTokenStream(manifest: ShardManifest, fetchShard: ShardFetcher, concurrency = 4): Promise<Uint8Array> {
  const tokens = new Uint8Array(manifest.totalTokens);
  const offsets: number[] = [];
  manifest.shards.reduce((offset, entry) => {
    offsets.push(offset);
    return offset + entry.tokens;
  }, 0);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < manifest.shards.length) {
      const index = next++;
      const entry = manifest.shards[index];
      if (entry === undefined) return;
      const bytes = await fetchShard(entry.file);
      verifyShardBytes(entry, bytes);
      tokens.set(bytes, offsets[index]);
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(concurrency), manifest.shards.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return tokens;
}
