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
 *
 * A subnet's storage gateway (src/gateway, issue #21) holds the objects of every hotkey that has no
 * bucket of its own: with `gateway`, a hotkey without a usable bucket commitment is read there, a
 * hotkey whose committed bucket lacks the object is looked up there too (a volunteer who moved from
 * its own bucket to the gateway leaves its old commitment on chain), and a peer without a bucket
 * writes there, each write signed by its hotkey. The gateway is trusted for availability and
 * timestamps only: every submission carries its hotkey's own signature, checked by the reader.
 */
import { NetError, NotFoundError, UnavailableError } from './errors.ts';
import { BucketDirectory, bucketDirectory, S3Endpoint, type S3Credentials, type S3Read } from './s3-storage.ts';
import { InvalidBucketCommitmentError } from './subtensor-encoding.ts';
import { DevnetStorage } from './devnet-client.ts';
import type { S3Settings } from './network-settings.ts';
import { GatewayBucketReader } from './gateway-client.ts';
import type { Chain, Commitment, GetOptions, ObjectInfo, Signer, Storage } from './types.ts';
import { errorMessage, registerErrorClasses } from '../core/errors.ts';

export interface HotkeyBucketOptions {
  readonly endpoint: string;
  readonly region?: string;
  /** This peer's hotkey. */
  readonly ownHotkey: string;
  /** Its own bucket and write credentials (which never leave this object); absent: it writes through `gateway`. */
  readonly ownBucket?: string;
  readonly writeCredentials?: S3Credentials;
  /**
   * The subnet's gateway (a `DevnetStorage` client of its URL, signing as `ownHotkey`): where hotkeys
   * without a bucket of their own are read, and where this peer writes when it has no bucket.
   */
  readonly gateway?: Storage;
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
    const { ownBucket, writeCredentials, gateway } = this.options;
    if (ownBucket !== undefined && writeCredentials !== undefined) return this.s3.put(ownBucket, key, data, writeCredentials);
    if (gateway !== undefined) return gateway.put(key, data);
    return Promise.reject(new UnavailableError(`Hotkey ${this.options.ownHotkey} has neither a bucket of its own nor a gateway to write ${key} into.`));
  }

  get(hotkey: string, key: string, options: GetOptions = {}): Promise<{ info: ObjectInfo; data: Uint8Array }> {
    return this.read(hotkey, `GET ${key}`, ({ bucket, read }) => this.s3.get(bucket, key, options, read), (gateway) => gateway.get(hotkey, key, options));
  }

  head(hotkey: string, key: string): Promise<ObjectInfo | undefined> {
    return this.read(hotkey, `HEAD ${key}`, async ({ bucket, read }) => {
      const info = await this.s3.head(bucket, key, read);
      if (info === undefined && this.options.gateway !== undefined) throw NotFoundError.of(`Object ${key}`);
      return info;
    }, (gateway) => gateway.head(hotkey, key));
  }

  list(hotkey: string, prefix = ''): Promise<ObjectInfo[]> {
    return this.read(hotkey, `LIST ${prefix}`, ({ bucket, read }) => this.s3.list(bucket, prefix, read), (gateway) => gateway.list(hotkey, prefix));
  }

  /**
   * Resolves `hotkey` and runs `run` on its bucket with its credentials. Anything that is not already a
   * NetError (there should be none; this is the last line) becomes UnavailableError naming the hotkey,
   * so a caller can always charge a failure to the hotkey it read.
   */
  private async read<T>(hotkey: string, what: string, run: (target: { bucket: string; read: S3Read }) => Promise<T>, throughGateway: (gateway: Storage) => Promise<T>): Promise<T> {
    const gateway = this.options.gateway;
    try {
      const target = await this.resolve(hotkey);
      if (target === undefined) return await throughGateway(gateway!);
      try {
        return await run(target);
      } catch (error) {
        // Not in its bucket: a hotkey that moved to the gateway may have it there.
        if (gateway === undefined || !(error instanceof NotFoundError)) throw error;
        return await throughGateway(gateway);
      }
    } catch (error) {
      if (error instanceof NetError) throw error;
      throw new UnavailableError(`${what} in the bucket of hotkey ${hotkey} failed: ${String(error)}.`);
    }
  }

  /** The bucket to read `hotkey` in, or undefined: read it through the gateway. */
  private async resolve(hotkey: string): Promise<{ bucket: string; read: S3Read } | undefined> {
    const { ownBucket, writeCredentials, gateway } = this.options;
    if (hotkey === this.options.ownHotkey) return ownBucket === undefined || writeCredentials === undefined ? undefined : { bucket: ownBucket, read: { credentials: writeCredentials } };
    await this.refreshIfStale();
    const owner = `hotkey ${hotkey}`;
    const entry = this.directory.get(hotkey);
    if (entry !== undefined) return { bucket: entry.bucket, read: { credentials: entry.credentials, owner } };
    if (gateway !== undefined && this.refreshFailure === undefined) return undefined;
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

/** A peer's own S3 bucket with its write key (today's path: the volunteer brings a bucket), as the network settings give it. */
export type OwnBucketSettings = Omit<S3Settings, 'read'>;

/**
 * No bucket of its own: the peer writes through the subnet's gateway (its URL from the lead
 * validator's commitment, `readPublishedGateway`) and reads the peers that have buckets on the
 * subnet's S3 endpoint (from the gateway's info, `fetchGatewayInfo`).
 */
export interface GatewayStorageSettings {
  readonly kind: 'gateway';
  readonly url: string;
  readonly s3Endpoint: string;
  readonly region: string;
}

/** Where a subtensor peer keeps its objects: the subnet, and its own bucket with the write key or the subnet's gateway. */
export interface SubnetBucket {
  readonly netuid: number;
  readonly storage: OwnBucketSettings | GatewayStorageSettings;
  /** The subnet's gateway, where peers without a bucket are read (a peer with a bucket may still name it). */
  readonly gatewayUrl?: string;
  /**
   * A validator's direct read of the gateway's bucket (a read key its operator handed it), used for
   * the peers without a bucket instead of the gateway's HTTP API (`GatewayBucketReader`).
   */
  readonly gatewayBucket?: { readonly bucket: string; readonly credentials: S3Credentials };
}

/**
 * The storage of `ownHotkey` on a subtensor subnet: writes to its own bucket (or, without one,
 * through the gateway, signed by `signer`), reads every other hotkey's bucket through the
 * commitments `chain` holds for the subnet, and the hotkeys without one through the gateway.
 */
export function subnetBucketStorage(network: SubnetBucket, ownHotkey: string, chain: Pick<Chain, 'commitments'>, maxObjectBytes?: number, signer?: Signer): HotkeyBucketStorage {
  const { storage, netuid } = network;
  const gatewayUrl = storage.kind === 'gateway' ? storage.url : network.gatewayUrl;
  const endpoint = storage.kind === 'gateway' ? storage.s3Endpoint : storage.endpoint;
  const direct = network.gatewayBucket === undefined || storage.kind === 'gateway' ? undefined : new GatewayBucketReader({ endpoint, region: storage.region, ...network.gatewayBucket, ...(maxObjectBytes === undefined ? {} : { maxObjectBytes }) });
  const gateway = direct ?? (gatewayUrl === undefined ? undefined : new DevnetStorage(gatewayUrl, signer, storage.kind === 'gateway' ? ownHotkey : undefined, maxObjectBytes));
  const own = storage.kind === 'gateway' ? {} : { ownBucket: storage.bucket, writeCredentials: { accessKeyId: storage.accessKeyId, secretAccessKey: storage.secretAccessKey } };
  return new HotkeyBucketStorage({
    endpoint, region: storage.region, ownHotkey, ...own,
    ...(gateway === undefined ? {} : { gateway }),
    commitments: () => chain.commitments(netuid),
    ...(maxObjectBytes === undefined ? {} : { maxObjectBytes }),
  });
}
