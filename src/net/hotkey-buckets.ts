/**
 * `Storage` addressed by hotkey on S3-compatible buckets. The miner and validator loops name a
 * peer's bucket by its hotkey (as the devnet does); on a real network each hotkey's bucket and read
 * credentials come from its chain commitment (Templar `ChainManager.get_commitments`,
 * gauntlet-spec §5.5). This view resolves hotkey → (bucket, read credentials) through that directory
 * and writes into the peer's own bucket with its own credentials.
 *
 * Every registered hotkey may be hostile, so each is isolated from the others: a hotkey's reads are
 * signed with the credentials of **its own** commitment, never with those another hotkey committed for
 * the same bucket name (a shadowing commitment breaks only the shadower's reads), and whatever goes
 * wrong with one hotkey (no commitment, an invalid one, a refusing or broken bucket) is a typed
 * `NetError` of that hotkey's read and nothing else.
 */
import { NetError, NotFoundError, UnavailableError } from './errors.ts';
import { BucketDirectory, bucketDirectory, S3Endpoint, type S3Credentials, type S3Read } from './s3-storage.ts';
import { InvalidBucketCommitmentError } from './subtensor-encoding.ts';
import type { Chain, Commitment, GetOptions, ObjectInfo, Storage } from './types.ts';
import { errorMessage, registerErrorClasses } from '../core/errors.ts';

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
  /** Most keys and pages one `list` follows (see `S3EndpointOptions`). */
  readonly maxListKeys?: number;
  readonly maxListPages?: number;
  /**
   * Least time between two directory reads (default 10 s). A read of another hotkey re-reads the
   * commitments when the directory is older than this, so a new hotkey's commitment and a rotated
   * one (new bucket or read key) are used within this time, at one chain query per interval at most.
   */
  readonly refreshIntervalMs?: number;
}

/** The hotkey has no commitment on the subnet: nothing of it can be found (code `not-found`). */
export class NoBucketCommittedError extends NotFoundError {
  override readonly name: string = 'NoBucketCommittedError';
  constructor(readonly hotkey: string) {
    super(`Hotkey ${hotkey} has committed no bucket on chain: none of its objects can be read.`);
  }
}
registerErrorClasses({ NoBucketCommittedError });

export class HotkeyBucketStorage implements Storage {
  private directory = new BucketDirectory();
  private refreshedAtMs = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;
  /** Why the last directory read failed, while the directory in use is an older one (or empty). */
  private refreshFailure: string | undefined;
  private readonly s3: S3Endpoint;

  constructor(private readonly options: HotkeyBucketOptions) {
    this.s3 = new S3Endpoint({
      endpoint: options.endpoint,
      region: options.region,
      maxObjectBytes: options.maxObjectBytes,
      maxListKeys: options.maxListKeys,
      maxListPages: options.maxListPages,
    });
  }

  put(key: string, data: Uint8Array): Promise<ObjectInfo> {
    return this.s3.put(this.options.ownBucket, key, data, this.options.writeCredentials);
  }

  get(hotkey: string, key: string, options: GetOptions = {}): Promise<{ info: ObjectInfo; data: Uint8Array }> {
    return this.read(hotkey, `GET ${key}`, ({ bucket, read }) => this.s3.get(bucket, key, options, read));
  }

  head(hotkey: string, key: string): Promise<ObjectInfo | undefined> {
    return this.read(hotkey, `HEAD ${key}`, ({ bucket, read }) => this.s3.head(bucket, key, read));
  }

  list(hotkey: string, prefix = ''): Promise<ObjectInfo[]> {
    return this.read(hotkey, `LIST ${prefix}`, ({ bucket, read }) => this.s3.list(bucket, prefix, read));
  }

  /**
   * Resolves `hotkey` and runs `run` on its bucket with its credentials. Anything that is not already a
   * NetError (there should be none; this is the last line) becomes UnavailableError naming the hotkey,
   * so a caller can always charge a failure to the hotkey it read.
   */
  private async read<T>(hotkey: string, what: string, run: (target: { bucket: string; read: S3Read }) => Promise<T>): Promise<T> {
    try {
      return await run(await this.resolve(hotkey));
    } catch (error) {
      if (error instanceof NetError) throw error;
      throw new UnavailableError(`${what} in the bucket of hotkey ${hotkey} failed: ${String(error)}.`);
    }
  }

  private async resolve(hotkey: string): Promise<{ bucket: string; read: S3Read }> {
    if (hotkey === this.options.ownHotkey) return { bucket: this.options.ownBucket, read: { credentials: this.options.writeCredentials } };
    await this.refreshIfStale();
    const owner = `hotkey ${hotkey}`;
    const entry = this.directory.get(hotkey);
    if (entry !== undefined) return { bucket: entry.bucket, read: { credentials: entry.credentials, owner } };
    const invalid = this.directory.invalid.get(hotkey);
    if (invalid !== undefined) throw new InvalidBucketCommitmentError(invalid, hotkey);
    // Unknown because the chain could not be read is not the hotkey's fault: say so instead of "no commitment".
    if (this.refreshFailure !== undefined) throw new UnavailableError(`The bucket of ${owner} is unknown: the commitments could not be read from the chain (${this.refreshFailure}).`);
    throw new NoBucketCommittedError(hotkey);
  }

  /** Re-reads the directory when it is older than the interval; concurrent reads share one chain query. */
  private async refreshIfStale(): Promise<void> {
    if (this.refreshing === undefined && Date.now() - this.refreshedAtMs >= (this.options.refreshIntervalMs ?? 10_000)) {
      this.refreshedAtMs = Date.now();
      this.refreshing = this.readDirectory().finally(() => {
        this.refreshing = undefined;
      });
    }
    await this.refreshing;
  }

  /** Never rejects: on a chain failure the last directory stays in use (a hiccup must not make known peers unreadable). */
  private async readDirectory(): Promise<void> {
    try {
      this.directory = bucketDirectory(await this.options.commitments());
      this.refreshFailure = undefined;
    } catch (error) {
      this.refreshFailure = errorMessage(error);
    }
  }
}

/** Where a subtensor peer keeps its objects: the subnet, and its own bucket with the write key. */
export interface SubnetBucket {
  readonly netuid: number;
  readonly storage: { readonly endpoint: string; readonly bucket: string; readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: string };
}

/**
 * The storage of `ownHotkey` on a subtensor subnet: writes to its own bucket, reads every other
 * hotkey's bucket through the commitments `chain` holds for the subnet.
 */
export function subnetBucketStorage(network: SubnetBucket, ownHotkey: string, chain: Pick<Chain, 'commitments'>, maxObjectBytes?: number): HotkeyBucketStorage {
  const { storage, netuid } = network;
  return new HotkeyBucketStorage({
    endpoint: storage.endpoint, region: storage.region, ownHotkey, ownBucket: storage.bucket,
    writeCredentials: { accessKeyId: storage.accessKeyId, secretAccessKey: storage.secretAccessKey },
    commitments: () => chain.commitments(netuid),
    ...(maxObjectBytes === undefined ? {} : { maxObjectBytes }),
  });
}

