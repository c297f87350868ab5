/**
 * `Storage` on any S3-compatible endpoint (Cloudflare R2 as Templar uses, MinIO, AWS S3), signed
 * with SigV4 by `aws4fetch`, path-style URLs (`<endpoint>/<bucket>/<key>`). As in Templar
 * (gauntlet-spec §5.5): each peer writes only into its own bucket with write credentials it keeps
 * to itself, and publishes **read** credentials through its chain commitment
 * (`encodeBucketCommitment`); readers sign with those. Timeliness is judged on the server's
 * `Last-Modified` (1 s precision over HTTP, as Templar's `s3_get_object`).
 */
import { AwsClient } from 'aws4fetch';
import { BadRequestError, NotFoundError, OversizedError, UnauthorizedError, UnavailableError } from './errors.ts';
import { decodeBucketCommitment } from './subtensor-encoding.ts';
import { readGatedObject } from './time-gate.ts';
import type { Commitment, GetOptions, ObjectInfo, Storage } from './types.ts';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface S3StorageOptions {
  /** e.g. `https://<account>.r2.cloudflarestorage.com`, or a local endpoint in tests. */
  readonly endpoint: string;
  /** `auto` for R2; any region the endpoint accepts. */
  readonly region?: string;
  /** This peer's own bucket (where `put` writes). */
  readonly bucket: string;
  /** Write credentials of the own bucket; never published. Without them the storage is read-only. */
  readonly writeCredentials?: S3Credentials;
  /** Read credentials of a bucket (usually from its owner's commitment); `undefined` → unsigned request. */
  readonly readCredentials?: (bucket: string) => S3Credentials | undefined;
  readonly maxObjectBytes?: number;
}

export interface BucketDirectoryEntry {
  readonly bucket: string;
  readonly credentials: S3Credentials;
}

/**
 * Hotkey → bucket and read credentials, from the subnet's commitments in Templar's 128-char layout
 * (`tplr.chain.ChainManager.get_commitments`); commitments in another format are skipped.
 */
export function bucketDirectory(commitments: ReadonlyMap<string, Commitment>): Map<string, BucketDirectoryEntry> {
  const out = new Map<string, BucketDirectoryEntry>();
  for (const [hotkey, commitment] of commitments) {
    try {
      const c = decodeBucketCommitment(commitment.data);
      out.set(hotkey, { bucket: c.accountId, credentials: { accessKeyId: c.readKeyId, secretAccessKey: c.readSecret } });
    } catch (error) {
      if (!(error instanceof BadRequestError)) throw error;
    }
  }
  return out;
}

function lastModifiedOf(headers: Headers): number {
  const ms = Date.parse(headers.get('last-modified') ?? '');
  if (!Number.isFinite(ms)) throw new UnavailableError('The S3 endpoint sent no valid Last-Modified header; cannot judge the put window.');
  return ms;
}

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] ?? '');
}

function xmlTag(block: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(block);
  return match?.[1] === undefined ? undefined : decodeXml(match[1]);
}

export class S3Storage implements Storage {
  private readonly endpoint: string;
  private readonly maxObjectBytes: number;

  constructor(private readonly options: S3StorageOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.maxObjectBytes = options.maxObjectBytes ?? 64 * 1024 * 1024;
  }

  private objectUrl(bucket: string, key: string): string {
    if (!/^[a-z0-9][a-z0-9.-]{1,62}$/.test(bucket)) throw new BadRequestError(`'${bucket}' is not a valid S3 bucket name (3–63 of a-z, 0-9, '.', '-').`);
    return `${this.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async send(url: string, init: RequestInit, credentials: S3Credentials | undefined, what: string): Promise<Response> {
    let response: Response;
    try {
      if (credentials === undefined) {
        response = await fetch(url, init);
      } else {
        const client = new AwsClient({ ...credentials, service: 's3', region: this.options.region ?? 'us-east-1', retries: 0 });
        response = await client.fetch(url, init);
      }
    } catch (error) {
      throw new UnavailableError(`${what}: the S3 endpoint ${this.endpoint} cannot be reached (${String(error)}).`);
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    const code = xmlTag(text, 'Code') ?? '';
    if (response.status === 404) throw NotFoundError.of(what);
    if (response.status === 403 || response.status === 401 || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
      throw new UnauthorizedError(`${what} was refused by the S3 endpoint (${code || response.status}): check the bucket's credentials.`);
    }
    throw new UnavailableError(`${what} failed with HTTP ${response.status} ${code}.`);
  }

  async put(key: string, data: Uint8Array): Promise<ObjectInfo> {
    const credentials = this.options.writeCredentials;
    if (credentials === undefined) throw new UnauthorizedError('This S3 storage has no write credentials: it can only read.');
    if (data.length > this.maxObjectBytes) throw OversizedError.of(data.length, this.maxObjectBytes, `Object ${key}`);
    const bucket = this.options.bucket;
    await this.send(this.objectUrl(bucket, key), { method: 'PUT', body: new Uint8Array(data), headers: { 'content-type': 'application/octet-stream' } }, credentials, `PUT ${bucket}/${key}`);
    const info = await this.head(bucket, key);
    if (info === undefined) throw new UnavailableError(`PUT ${bucket}/${key} succeeded but the object is not visible yet.`);
    return info;
  }

  private credentialsFor(bucket: string): S3Credentials | undefined {
    return bucket === this.options.bucket && this.options.writeCredentials !== undefined ? this.options.writeCredentials : this.options.readCredentials?.(bucket);
  }

  async get(bucket: string, key: string, options: GetOptions = {}): Promise<{ info: ObjectInfo; data: Uint8Array }> {
    const response = await this.send(this.objectUrl(bucket, key), { method: 'GET' }, this.credentialsFor(bucket), `GET ${bucket}/${key}`);
    const info: ObjectInfo = { bucket, key, size: Number(response.headers.get('content-length') ?? '0'), lastModifiedMs: lastModifiedOf(response.headers) };
    return readGatedObject(response, info, options, this.maxObjectBytes);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const response = await this.send(this.objectUrl(bucket, key), { method: 'HEAD' }, this.credentialsFor(bucket), `HEAD ${bucket}/${key}`);
      return { bucket, key, size: Number(response.headers.get('content-length') ?? '0'), lastModifiedMs: lastModifiedOf(response.headers) };
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /** ListObjectsV2, following continuation tokens; `LastModified` here has ms precision. */
  async list(bucket: string, prefix = ''): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ 'list-type': '2', prefix, ...(token === undefined ? {} : { 'continuation-token': token }) });
      const url = `${this.objectUrl(bucket, '').replace(/\/$/, '')}?${query.toString()}`;
      const xml = await (await this.send(url, { method: 'GET' }, this.credentialsFor(bucket), `LIST ${bucket}/${prefix}`)).text();
      for (const match of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const block = match[1] ?? '';
        const key = xmlTag(block, 'Key');
        const lastModifiedMs = Date.parse(xmlTag(block, 'LastModified') ?? '');
        if (key !== undefined && Number.isFinite(lastModifiedMs)) out.push({ bucket, key, size: Number(xmlTag(block, 'Size') ?? '0'), lastModifiedMs });
      }
      token = xmlTag(xml, 'IsTruncated') === 'true' ? xmlTag(xml, 'NextContinuationToken') : undefined;
    } while (token !== undefined);
    return out;
  }
}
