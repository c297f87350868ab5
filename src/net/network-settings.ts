/**
 * The network a peer joins (issue #8), as the page's form and the CLIs' flags give it: the devnet
 * (default), or a subtensor network (a ws/wss endpoint and a netuid) with S3-compatible storage for
 * the peer's own bucket (Templar's R2 layout, gauntlet-spec §5.5). The text is checked here, each
 * problem a `NetworkSettingsError` naming the field and what to enter. The storage secret lives in
 * this object only (memory): it is never logged, shown, or written to disk.
 */
import { GauntletError } from '../core/errors.ts';

/** Storage of a real network: the volunteer's own bucket and its write credentials. */
export interface S3Settings {
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

export type NetworkSettings =
  | { readonly kind: 'devnet'; readonly url: string }
  | { readonly kind: 'subtensor'; readonly endpoint: string; readonly netuid: number; readonly storage: S3Settings };

/** What the page may show about a network: everything but the secret. */
export type NetworkSummary =
  | { readonly kind: 'devnet'; readonly url: string }
  | { readonly kind: 'subtensor'; readonly endpoint: string; readonly netuid: number; readonly storageEndpoint: string; readonly bucket: string; readonly readKeyId: string | null };

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

/** Checks the subtensor form; every field is required (region defaults to R2's `auto`). */
export function parseSubtensorSettings(form: NetworkForm): NetworkSettings {
  const endpoint = url(form.endpoint, 'endpoint', ['ws:', 'wss:'], 'wss://entrypoint-finney.opentensor.ai:443');
  const netuidText = form.netuid.trim();
  const netuid = Number(netuidText);
  if (netuidText === '' || !Number.isInteger(netuid) || netuid < 0 || netuid > 65_535) {
    throw new NetworkSettingsError('netuid', `netuid "${netuidText}" is not a subnet id: enter an integer from 0 to 65535.`);
  }
  const storageEndpoint = url(form.storageEndpoint, 'storageEndpoint', ['https:', 'http:'], 'https://<account>.r2.cloudflarestorage.com');
  const bucket = form.bucket.trim();
  if (!BUCKET_NAME.test(bucket)) throw new NetworkSettingsError('bucket', `"${bucket}" is not an S3 bucket name: 3–63 characters of a-z, 0-9, '.' and '-' (an R2 bucket is named after its account id).`);
  const accessKeyId = form.accessKeyId.trim();
  const secretAccessKey = form.secretAccessKey.trim();
  if (accessKeyId === '') throw new NetworkSettingsError('accessKeyId', "Enter the bucket's access key id (its write credentials; they stay in this tab).");
  if (secretAccessKey === '') throw new NetworkSettingsError('secretAccessKey', "Enter the bucket's secret access key (kept in this tab's memory only, never logged or stored).");
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

export function summarizeNetwork(settings: NetworkSettings): NetworkSummary {
  return settings.kind === 'devnet'
    ? settings
    : { kind: 'subtensor', endpoint: settings.endpoint, netuid: settings.netuid, storageEndpoint: settings.storage.endpoint, bucket: settings.storage.bucket, readKeyId: settings.storage.read?.keyId ?? null };
}
