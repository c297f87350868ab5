/**
 * The network a peer joins (issue #8), as the page's form and the CLIs' flags give it: the devnet
 * (default), or a subtensor network (a ws/wss endpoint and a netuid) with its storage: the peer's own
 * S3-compatible bucket (Templar's R2 layout, gauntlet-spec §5.5), or, when the form leaves every
 * storage field empty, the subnet's storage gateway (issue #21: a volunteer with only a wallet needs
 * no account at a storage provider; its URL is read from chain on Connect). The text is checked here,
 * each problem a `NetworkSettingsError` naming the field and what to enter. The storage secret lives
 * in this object only (memory): it is never logged, shown, or written to disk.
 */
import { GauntletError } from '../core/errors.ts';

/** Storage of a real network: the volunteer's own bucket and its write credentials. */
export interface S3Settings {
  /** Absent or 'bucket' (the shape `OwnBucketSettings` takes): tells it from the gateway. */
  readonly kind?: 'bucket';
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /**
   * A read-only token for the bucket, which the bucket commitment publishes so other peers can read
   * it (Templar's layout: a 32-character key id and a 64-character secret). Public by design; absent
   * when the volunteer has not made one (the page then cannot publish the commitment).
   */
  readonly read?: { readonly keyId: string; readonly secret: string };
}

/**
 * Storage through the subnet's gateway: no field of it is typed. Which gateway is not known until
 * Connect reads the URL the subnet's lead validator publishes (`readPublishedGateway`).
 */
export interface SubnetGatewayChoice {
  readonly kind: 'gateway';
}

export type SubtensorStorageChoice = S3Settings | SubnetGatewayChoice;

/** A subtensor network; `Storage` narrows it (the CLIs, which need a bucket, take `S3Settings`). */
export interface SubtensorNetworkSettings<Storage extends SubtensorStorageChoice = SubtensorStorageChoice> {
  readonly kind: 'subtensor';
  readonly endpoint: string;
  readonly netuid: number;
  readonly storage: Storage;
}

export type NetworkSettings = { readonly kind: 'devnet'; readonly url: string } | SubtensorNetworkSettings;

/** What the page may show about a network's storage: everything but the secret. */
export type StorageSummary =
  | { readonly kind: 'bucket'; readonly endpoint: string; readonly bucket: string; readonly readKeyId: string | null }
  /** `url`: null until Connect has read it from chain. */
  | { readonly kind: 'gateway'; readonly url: string | null };

/** What the page may show about a network: everything but the secret. */
export type NetworkSummary =
  | { readonly kind: 'devnet'; readonly url: string }
  | { readonly kind: 'subtensor'; readonly endpoint: string; readonly netuid: number; readonly storage: StorageSummary };

/** The form fields as typed (strings, possibly empty). */
export interface NetworkForm {
  readonly endpoint: string;
  readonly netuid: string;
  readonly storageEndpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Optional, together: the read-only token the bucket commitment publishes. */
  readonly readKeyId: string;
  readonly readSecret: string;
}

/** A network setting the page cannot use; `field` names the form field. */
export class NetworkSettingsError extends GauntletError {
  readonly code: string = 'network-settings';
  override readonly name = 'NetworkSettingsError';
  constructor(
    readonly field: keyof NetworkForm,
    message: string,
  ) {
    super(message);
  }
}

/** S3 bucket names (the rule `S3Storage` enforces): 3–63 of a-z, 0-9, '.', '-', starting with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{2,62}$/;

function url(text: string, field: keyof NetworkForm, protocols: readonly string[], example: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text.trim());
  } catch {
    throw new NetworkSettingsError(field, `"${text.trim()}" is not a URL: enter one like ${example}.`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new NetworkSettingsError(field, `${parsed.protocol}// is not accepted here: use ${protocols.map((p) => `${p}//`).join(' or ')} (like ${example}).`);
  }
  // As typed (a default port kept visible), without a trailing slash.
  return text.trim().replace(/\/+$/, '');
}

/** The form fields of the storage: all empty means the subnet's gateway (the region has a default, so it does not count). */
export const STORAGE_FIELDS = ['storageEndpoint', 'bucket', 'accessKeyId', 'secretAccessKey', 'readKeyId', 'readSecret'] as const satisfies readonly (keyof NetworkForm)[];

/** How `parseSubtensorSettings` treats a form without storage fields. */
export interface SubtensorParseOptions {
  /**
   * The caller writes to its own bucket only (the CLIs): empty storage fields are an error like any
   * other missing field, and the messages do not offer the gateway.
   */
  readonly bucketRequired?: boolean;
}

/**
 * Checks the subtensor form. Endpoint and netuid are required. Storage: every storage field empty is
 * the subnet's gateway (unless `bucketRequired`); otherwise the bucket fields are all required
 * (region defaults to R2's `auto`), and the read-only token is optional.
 */
export function parseSubtensorSettings(form: NetworkForm, options: SubtensorParseOptions & { readonly bucketRequired: true }): SubtensorNetworkSettings<S3Settings>;
export function parseSubtensorSettings(form: NetworkForm, options?: SubtensorParseOptions): SubtensorNetworkSettings;
export function parseSubtensorSettings(form: NetworkForm, options: SubtensorParseOptions = {}): SubtensorNetworkSettings {
  const endpoint = url(form.endpoint, 'endpoint', ['ws:', 'wss:'], 'wss://entrypoint-finney.opentensor.ai:443');
  const netuidText = form.netuid.trim();
  const netuid = Number(netuidText);
  if (netuidText === '' || !Number.isInteger(netuid) || netuid < 0 || netuid > 65_535) {
    throw new NetworkSettingsError('netuid', `netuid "${netuidText}" is not a subnet id: enter an integer from 0 to 65535.`);
  }
  const gatewayAllowed = options.bucketRequired !== true;
  if (gatewayAllowed && STORAGE_FIELDS.every((name) => form[name].trim() === '')) return { kind: 'subtensor', endpoint, netuid, storage: { kind: 'gateway' } };
  // Some storage field is filled: the volunteer means its own bucket, so each missing one is named.
  const orGateway = gatewayAllowed ? " Or leave every storage field empty to upload through the subnet's gateway." : '';
  const required = (name: keyof NetworkForm, what: string): string => {
    const text = form[name].trim();
    if (text === '') throw new NetworkSettingsError(name, `${what}${orGateway}`);
    return text;
  };
  const storageEndpoint = url(required('storageEndpoint', "Enter your bucket's storage endpoint, like https://<account>.r2.cloudflarestorage.com."), 'storageEndpoint', ['https:', 'http:'], 'https://<account>.r2.cloudflarestorage.com');
  const bucket = required('bucket', "Enter your bucket's name (an R2 bucket is named after its account id).");
  if (!BUCKET_NAME.test(bucket)) throw new NetworkSettingsError('bucket', `"${bucket}" is not an S3 bucket name: 3–63 characters of a-z, 0-9, '.' and '-' (an R2 bucket is named after its account id).`);
  const accessKeyId = required('accessKeyId', "Enter the bucket's access key id (its write credentials; they stay in this tab).");
  const secretAccessKey = required('secretAccessKey', "Enter the bucket's secret access key (kept in this tab's memory only, never logged or stored).");
  const storage = { endpoint: storageEndpoint, bucket, region: form.region.trim() || 'auto', accessKeyId, secretAccessKey };
  const readKeyId = form.readKeyId.trim();
  const readSecret = form.readSecret.trim();
  if (readKeyId === '' && readSecret === '') return { kind: 'subtensor', endpoint, netuid, storage };
  // Templar's commitment layout (chain.md §9): 32 + 64 printable characters, published on chain.
  if (!/^[\x21-\x7e]{32}$/.test(readKeyId)) throw new NetworkSettingsError('readKeyId', `The read key id must be 32 printable characters (an R2 read-only token id); got ${readKeyId.length}.`);
  if (!/^[\x21-\x7e]{64}$/.test(readSecret)) throw new NetworkSettingsError('readSecret', `The read secret must be 64 printable characters (the read-only token's secret); got ${readSecret.length}.`);
  if (readKeyId === accessKeyId) throw new NetworkSettingsError('readKeyId', 'The read key id is the write key id: the commitment is public, so publish a separate read-only token, never the write credentials.');
  return { kind: 'subtensor', endpoint, netuid, storage: { ...storage, read: { keyId: readKeyId, secret: readSecret } } };
}

/** The settings as the page may show them; `gatewayUrl`: the gateway Connect found, when the storage is the subnet's gateway. */
export function summarizeNetwork(settings: NetworkSettings, gatewayUrl?: string): NetworkSummary {
  if (settings.kind === 'devnet') return settings;
  const { endpoint, netuid, storage } = settings;
  return {
    kind: 'subtensor', endpoint, netuid,
    storage: storage.kind === 'gateway'
      ? { kind: 'gateway', url: gatewayUrl ?? null }
      : { kind: 'bucket', endpoint: storage.endpoint, bucket: storage.bucket, readKeyId: storage.read?.keyId ?? null },
  };
}

/** One line for the page and the log: where this network's uploads go (never the secret). */
export function describeStorage(storage: StorageSummary): string {
  if (storage.kind === 'bucket') return `storage in bucket ${storage.bucket} at ${storage.endpoint}`;
  return storage.url === null ? "storage through the subnet's gateway (its URL is read from chain on Connect)" : `storage through the subnet's gateway at ${storage.url}`;
}
