/**
 * `Storage` addressed by hotkey on S3-compatible buckets. The miner and validator loops name a
 * peer's bucket by its hotkey (as the devnet does); on a real network each hotkey's bucket and read
 * credentials come from its chain commitment (Templar `ChainManager.get_commitments`,
 * gauntlet-spec §5.5). This view resolves hotkey → bucket through that directory (re-read from the
 * chain when a hotkey is unknown) and writes into the peer's own bucket with its own credentials.
 */
import { NotFoundError } from './errors.ts';
import { bucketDirectory, S3Storage, type BucketDirectoryEntry, type S3Credentials } from './s3-storage.ts';
import type { Commitment, GetOptions, ObjectInfo, Storage } from './types.ts';

export interface HotkeyBucketOptions {
  readonly endpoint: string;
  readonly region?: string;
  /** This peer's hotkey and its own bucket (write credentials never leave this object). */
  readonly ownHotkey: string;
  readonly ownBucket: string;
  readonly writeCredentials: S3Credentials;
  /** The subnet's commitments (hotkey → commitment), read from the chain. */
  readonly commitments: () => Promise<ReadonlyMap<string, Commitment>>;
  readonly maxObjectBytes?: number;
  /** Least time between two directory reads caused by unknown hotkeys. */
  readonly refreshIntervalMs?: number;
}

export class HotkeyBucketStorage implements Storage {
  private directory = new Map<string, BucketDirectoryEntry>();
  private refreshedAtMs = Number.NEGATIVE_INFINITY;
  private readonly s3: S3Storage;

  constructor(private readonly options: HotkeyBucketOptions) {
    this.s3 = new S3Storage({
      endpoint: options.endpoint,
      region: options.region,
      bucket: options.ownBucket,
      writeCredentials: options.writeCredentials,
      readCredentials: (bucket) => [...this.directory.values()].find((entry) => entry.bucket === bucket)?.credentials,
      maxObjectBytes: options.maxObjectBytes,
    });
  }

  put(key: string, data: Uint8Array): Promise<ObjectInfo> {
    return this.s3.put(key, data);
  }

  async get(hotkey: string, key: string, options?: GetOptions): Promise<{ info: ObjectInfo; data: Uint8Array }> {
    return this.s3.get(await this.bucketOf(hotkey), key, options);
  }

  async head(hotkey: string, key: string): Promise<ObjectInfo | undefined> {
    return this.s3.head(await this.bucketOf(hotkey), key);
  }

  async list(hotkey: string, prefix?: string): Promise<ObjectInfo[]> {
    return this.s3.list(await this.bucketOf(hotkey), prefix);
  }

  private async bucketOf(hotkey: string): Promise<string> {
    if (hotkey === this.options.ownHotkey) return this.options.ownBucket;
    let entry = this.directory.get(hotkey);
    if (entry === undefined && Date.now() - this.refreshedAtMs >= (this.options.refreshIntervalMs ?? 10_000)) {
      this.refreshedAtMs = Date.now();
      this.directory = bucketDirectory(await this.options.commitments());
      entry = this.directory.get(hotkey);
    }
    if (entry === undefined) throw NotFoundError.of(`The bucket of ${hotkey} (it has committed no bucket on chain)`);
    return entry.bucket;
  }
}
