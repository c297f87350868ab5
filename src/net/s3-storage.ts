/**
 * `Storage` on any S3-compatible endpoint (Cloudflare R2 as Templar uses, MinIO, AWS S3), signed
 * with SigV4 by `aws4fetch`, path-style URLs (`<endpoint>/<bucket>/<key>`). As in Templar
 * (gauntlet-spec §5.5): each peer writes only into its own bucket with write credentials it keeps
 * to itself, and publishes **read** credentials through its chain commitment
 * (`encodeBucketCommitment`); readers sign with those. Timeliness is judged on the server's
 * `Last-Modified` (1 s precision over HTTP, as Templar's `s3_get_object`).
 *
 * The network is permissionless, so every bucket but our own is hostile: `S3Endpoint` reads with the
 * credentials it is handed for that one read, caps what it reads (body bytes while streaming, list
 * pages and keys), and turns every fault into a typed `NetError` of that read.
 */
import { AwsClient } from 'aws4fetch';
import { NetError, NotFoundError, OversizedError, UnauthorizedError, UnavailableError, BadRequestError } from './errors.ts';
import { bucketNameProblem, decodeBucketCommitment, InvalidBucketCommitmentError } from './subtensor-encoding.ts';
import { checkTimeGate } from './time-gate.ts';
import type { Commitment, GetOptions, ObjectInfo, Storage } from './types.ts';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface S3EndpointOptions {
  /** e.g. `https://<account>.r2.cloudflarestorage.com`, or a local endpoint in tests. */
  readonly endpoint: string;
  /** `auto` for R2; any region the endpoint accepts. */
  readonly region?: string;
  /** Largest object written, and read when the read names no `maxBytes` (default 64 MiB). */
  readonly maxObjectBytes?: number;
  /** Most keys one `list` returns before it is refused as oversized (default 50 000). */
  readonly maxListKeys?: number;
  /** Most ListObjectsV2 pages one `list` follows (default 100). */
  readonly maxListPages?: number;
  /** Longest a request may take, body included (default 300 s). */
  readonly requestTimeoutMs?: number;
}

export interface S3StorageOptions extends S3EndpointOptions {
  /** This peer's own bucket (where `put` writes). */
  readonly bucket: string;
  /** Write credentials of the own bucket; never published. Without them the storage is read-only. */
  readonly writeCredentials?: S3Credentials;
  /** Read credentials of a bucket (usually from its owner's commitment); `undefined` → unsigned request. */
  readonly readCredentials?: (bucket: string) => S3Credentials | undefined;
}

/** How one read is made: the credentials to sign it with, and whose bucket it is (named in errors). */
export interface S3Read {
  readonly credentials: S3Credentials | undefined;
  /** e.g. `hotkey 5F…`: errors of the read say whose bucket failed. */
  readonly owner?: string;
}

export interface BucketDirectoryEntry {
  readonly bucket: string;
  readonly credentials: S3Credentials;
}

/**
 * Hotkey → bucket and read credentials of every usable commitment; `invalid` holds, for each hotkey
 * whose commitment is not (garbage, another layout, a bad bucket name), the reason.
 */
export class BucketDirectory extends Map<string, BucketDirectoryEntry> {
  /** Hotkey → why its commitment cannot be used (the hotkey is not in the map itself). */
  readonly invalid = new Map<string, string>();
}

/**
 * Hotkey → bucket and read credentials, from the subnet's commitments in Templar's 128-char layout
 * (`tplr.chain.ChainManager.get_commitments`). Each commitment is judged on its own: whatever one
 * hotkey committed lands in `invalid` for that hotkey and never stops the others' entries.
 */
export function bucketDirectory(commitments: ReadonlyMap<string, Commitment>): BucketDirectory {
  const out = new BucketDirectory();
  for (const [hotkey, commitment] of commitments) {
    try {
      const c = decodeBucketCommitment(commitment.data, hotkey);
      out.set(hotkey, { bucket: c.accountId, credentials: { accessKeyId: c.readKeyId, secretAccessKey: c.readSecret } });
    } catch (error) {
      // Not only InvalidBucketCommitmentError: a commitment object of the wrong shape must not end the build either.
      out.invalid.set(hotkey, error instanceof InvalidBucketCommitmentError ? error.reason : `unreadable commitment (${String(error)})`);
    }
  }
  return out;
}

const ERROR_BODY_BYTES = 64 * 1024;
const METADATA_PREFIX = 'x-amz-meta-';

/** An object's user metadata: its `x-amz-meta-<name>` headers, by `<name>`. */
function userMetadata(headers: Headers): Map<string, string> {
  const out = new Map<string, string>();
  headers.forEach((value, name) => {
    if (name.startsWith(METADATA_PREFIX)) out.set(name.slice(METADATA_PREFIX.length), value);
  });
  return out;
}
/** HEADs after a PUT before it is called failed: 25 + 50 + 100 + 200 ms of pauses at most. */
const PUT_VISIBILITY_ATTEMPTS = 5;
const PUT_VISIBILITY_FIRST_PAUSE_MS = 25;
/** A ListObjectsV2 page of 1000 keys of up to 1024 bytes each fits with room to spare. */
const LIST_PAGE_BYTES = 4 * 1024 * 1024;
const LIST_PAGE_KEYS = 1000;

function lastModifiedOf(headers: Headers, what: string): number {
  const ms = Date.parse(headers.get('last-modified') ?? '');
  if (!Number.isFinite(ms)) throw new UnavailableError(`${what}: the S3 endpoint sent no valid Last-Modified header; cannot judge the put window.`);
  return ms;
}

/** The declared body size, or `undefined` when the header is missing or not a plain decimal. */
function contentLengthOf(headers: Headers): number | undefined {
  const text = headers.get('content-length');
  return text !== null && /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] ?? '');
}

/**
 * The contents of each `<tag>…</tag>`, scanned with indexOf so the time is linear in the text (a lazy
 * regex over a hostile page of unclosed tags would be quadratic).
 */
function* xmlElements(text: string, tag: string): Generator<string> {
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  let from = 0;
  for (;;) {
    const start = text.indexOf(open, from);
    if (start < 0) return;
    const end = text.indexOf(close, start + open.length);
    if (end < 0) return;
    yield text.slice(start + open.length, end);
    from = end + close.length;
  }
}

function xmlTag(block: string, tag: string): string | undefined {
  for (const inner of xmlElements(block, tag)) return decodeXml(inner);
  return undefined;
}

async function cancelBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/**
 * Reads the body while counting, and stops as soon as it passes `limit`: Content-Length may be
 * missing, or smaller than what arrives (a compressed body is decoded on the fly), so the header alone
 * bounds nothing.
 */
async function readCapped(response: Response, limit: number, what: string): Promise<Uint8Array> {
  const body = response.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        throw new OversizedError(`${what} is more than ${limit} bytes, over the limit; the rest was not transferred.`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof NetError) throw error;
    throw new UnavailableError(`${what}: the body could not be read (${String(error)}).`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * The S3 protocol against one endpoint, each request signed with the credentials passed for it: this
 * is what lets a view read every peer's bucket with that peer's own read key (`HotkeyBucketStorage`).
 */
export class S3Endpoint {
  readonly endpoint: string;
  readonly maxObjectBytes: number;
  private readonly maxListKeys: number;
  private readonly maxListPages: number;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: S3EndpointOptions) {
    this.endpoint = options.endpoint.replace(/\/+$/, '');
    this.maxObjectBytes = options.maxObjectBytes ?? 64 * 1024 * 1024;
    this.maxListKeys = options.maxListKeys ?? 50_000;
    this.maxListPages = options.maxListPages ?? 100;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 300_000;
  }

  private objectUrl(bucket: string, key: string): string {
    const problem = bucketNameProblem(bucket);
    if (problem !== undefined) throw new BadRequestError(`'${bucket}' is not a valid S3 bucket name: ${problem}.`);
    return `${this.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private static label(what: string, read: S3Read | undefined): string {
    return read?.owner === undefined ? what : `${what} (bucket of ${read.owner})`;
  }

  /**
   * Runs one request's whole handling and turns anything that is not a NetError (a TypeError from a
   * broken response, an AbortError from the timeout) into UnavailableError, so a reader of a hostile
   * bucket sees nothing but typed errors.
   */
  private static async guard<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof NetError) throw error;
      throw new UnavailableError(`${what} failed: ${String(error)}.`);
    }
  }

  private async send(url: string, init: RequestInit, credentials: S3Credentials | undefined, what: string): Promise<Response> {
    let response: Response;
    try {
      const signal = AbortSignal.timeout(this.requestTimeoutMs);
      if (credentials === undefined) {
        response = await fetch(url, { ...init, signal });
      } else {
        const client = new AwsClient({ ...credentials, service: 's3', region: this.options.region ?? 'us-east-1', retries: 0 });
        response = await client.fetch(url, { ...init, signal });
      }
    } catch (error) {
      throw new UnavailableError(`${what}: the S3 endpoint ${this.endpoint} cannot be reached (${String(error)}).`);
    }
    if (response.ok) return response;
    // The error document only names the S3 code; a hostile or broken body is read no further than that.
    const text = await readCapped(response, ERROR_BODY_BYTES, what).then((bytes) => new TextDecoder().decode(bytes), () => '');
    const code = xmlTag(text, 'Code') ?? '';
    if (response.status === 404) throw NotFoundError.of(what);
    if (response.status === 403 || response.status === 401 || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
      throw new UnauthorizedError(`${what} was refused by the S3 endpoint (${code || response.status}): check the bucket's credentials.`);
    }
    throw new UnavailableError(`${what} failed with HTTP ${response.status} ${code}.`);
  }

  /** `metadata`: user metadata stored with the object (`x-amz-meta-<name>`; names lower-case, values ASCII). */
  async put(bucket: string, key: string, data: Uint8Array, credentials: S3Credentials, metadata: Readonly<Record<string, string>> = {}): Promise<ObjectInfo> {
    const what = `PUT ${bucket}/${key}`;
    if (data.length > this.maxObjectBytes) throw OversizedError.of(data.length, this.maxObjectBytes, `Object ${key}`);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    for (const [name, value] of Object.entries(metadata)) headers[`${METADATA_PREFIX}${name}`] = value;
    await S3Endpoint.guard(what, async () => {
      const response = await this.send(this.objectUrl(bucket, key), { method: 'PUT', body: new Uint8Array(data), headers }, credentials, what);
      await cancelBody(response);
    });
    // The server's Last-Modified is what the put-window gate judges, so it is read back. S3 and R2
    // give read-after-write consistency; some S3-compatible stores acknowledge a PUT a moment before
    // the object can be read, so a missing object is asked for again a few times.
    for (let attempt = 0; ; attempt++) {
      const info = await this.head(bucket, key, { credentials });
      if (info !== undefined) return info;
      if (attempt + 1 >= PUT_VISIBILITY_ATTEMPTS) throw new UnavailableError(`${what} succeeded but the object is still not visible after ${PUT_VISIBILITY_ATTEMPTS} reads.`);
      await new Promise((resolve) => setTimeout(resolve, PUT_VISIBILITY_FIRST_PAUSE_MS * 2 ** attempt));
    }
  }

  /**
   * GET with the put-window gate and the size cap judged on the headers first (the body is then not
   * downloaded), and the cap enforced again while the body streams in.
   */
  get(bucket: string, key: string, options: GetOptions, read: S3Read): Promise<{ info: ObjectInfo; data: Uint8Array }> {
    const what = S3Endpoint.label(`GET ${bucket}/${key}`, read);
    const object = S3Endpoint.label(`Object ${bucket}/${key}`, read);
    return S3Endpoint.guard(what, async () => {
      // The read's own cap when it names one (a checkpoint may exceed the default), else the storage's.
      const limit = options.maxBytes ?? this.maxObjectBytes;
      const response = await this.send(this.objectUrl(bucket, key), { method: 'GET' }, read.credentials, what);
      let info: ObjectInfo;
      try {
        const declared = contentLengthOf(response.headers);
        info = { bucket, key, size: declared ?? 0, lastModifiedMs: lastModifiedOf(response.headers, what) };
        if (declared !== undefined && declared > limit) throw OversizedError.of(declared, limit, object);
        checkTimeGate(info, options.gate);
      } catch (error) {
        await cancelBody(response);
        throw error;
      }
      const data = await readCapped(response, limit, object);
      return { info: { ...info, size: data.length }, data };
    });
  }

  /** Metadata only; `undefined` when the object does not exist. */
  async head(bucket: string, key: string, read: S3Read): Promise<ObjectInfo | undefined> {
    return (await this.headWithMetadata(bucket, key, read))?.info;
  }

  /** HEAD with the object's user metadata (`x-amz-meta-*`, names without the prefix); `undefined` when it does not exist. */
  headWithMetadata(bucket: string, key: string, read: S3Read): Promise<{ readonly info: ObjectInfo; readonly metadata: ReadonlyMap<string, string> } | undefined> {
    const what = S3Endpoint.label(`HEAD ${bucket}/${key}`, read);
    return S3Endpoint.guard(what, async () => {
      let response: Response;
      try {
        response = await this.send(this.objectUrl(bucket, key), { method: 'HEAD' }, read.credentials, what);
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
      await cancelBody(response);
      return { info: { bucket, key, size: contentLengthOf(response.headers) ?? 0, lastModifiedMs: lastModifiedOf(response.headers, what) }, metadata: userMetadata(response.headers) };
    });
  }

  /**
   * GET whose body the caller streams on (and must consume or cancel): the response with its size and
   * user metadata, the size cap judged on the headers. `NotFoundError` when it does not exist.
   */
  open(bucket: string, key: string, read: S3Read, maxBytes = this.maxObjectBytes): Promise<{ readonly info: ObjectInfo; readonly metadata: ReadonlyMap<string, string>; readonly response: Response }> {
    const what = S3Endpoint.label(`GET ${bucket}/${key}`, read);
    return S3Endpoint.guard(what, async () => {
      const response = await this.send(this.objectUrl(bucket, key), { method: 'GET' }, read.credentials, what);
      const declared = contentLengthOf(response.headers);
      if (declared === undefined || declared > maxBytes) {
        await cancelBody(response);
        throw declared === undefined ? new UnavailableError(`${what}: the S3 endpoint sent no Content-Length.`) : OversizedError.of(declared, maxBytes, `Object ${bucket}/${key}`);
      }
      return { info: { bucket, key, size: declared, lastModifiedMs: lastModifiedOf(response.headers, what) }, metadata: userMetadata(response.headers), response };
    });
  }

  /** Deletes an object (S3 answers 204 whether or not it existed). */
  delete(bucket: string, key: string, credentials: S3Credentials): Promise<void> {
    const what = `DELETE ${bucket}/${key}`;
    return S3Endpoint.guard(what, async () => {
      await cancelBody(await this.send(this.objectUrl(bucket, key), { method: 'DELETE' }, credentials, what));
    });
  }

  /**
   * ListObjectsV2, following continuation tokens; `LastModified` here has ms precision. Bounded: each
   * page's body, the number of pages and the number of keys (past either, OversizedError: a bucket
   * cannot make a reader loop or fill its memory).
   */
  list(bucket: string, prefix: string, read: S3Read): Promise<ObjectInfo[]> {
    const what = S3Endpoint.label(`LIST ${bucket}/${prefix}`, read);
    return S3Endpoint.guard(what, async () => {
      const out: ObjectInfo[] = [];
      let token: string | undefined;
      for (let page = 0; ; page++) {
        if (page >= this.maxListPages) throw new OversizedError(`${what} has more than ${this.maxListPages} pages of keys; it was not listed.`);
        const query = new URLSearchParams({ 'list-type': '2', prefix, 'max-keys': String(LIST_PAGE_KEYS), ...(token === undefined ? {} : { 'continuation-token': token }) });
        const url = `${this.objectUrl(bucket, '').replace(/\/$/, '')}?${query.toString()}`;
        const response = await this.send(url, { method: 'GET' }, read.credentials, what);
        const xml = new TextDecoder().decode(await readCapped(response, LIST_PAGE_BYTES, `${what} page ${page + 1}`));
        for (const block of xmlElements(xml, 'Contents')) {
          const key = xmlTag(block, 'Key');
          const lastModifiedMs = Date.parse(xmlTag(block, 'LastModified') ?? '');
          const size = Number(xmlTag(block, 'Size') ?? '');
          // An entry we cannot read fully is skipped: listing serves to find objects, which a GET then checks.
          if (key === undefined || !Number.isFinite(lastModifiedMs) || !Number.isSafeInteger(size) || size < 0) continue;
          if (out.length >= this.maxListKeys) throw new OversizedError(`${what} holds more than ${this.maxListKeys} keys; it was not listed.`);
          out.push({ bucket, key, size, lastModifiedMs });
        }
        const next = xmlTag(xml, 'IsTruncated') === 'true' ? xmlTag(xml, 'NextContinuationToken') : undefined;
        if (next === undefined) return out;
        if (next === token) throw new UnavailableError(`${what}: the endpoint returned the same continuation token twice.`);
        token = next;
      }
    });
  }
}

/** `Storage` on one S3 endpoint, buckets named directly; the own bucket is signed with the write credentials. */
export class S3Storage implements Storage {
  private readonly s3: S3Endpoint;

  constructor(private readonly options: S3StorageOptions) {
    this.s3 = new S3Endpoint(options);
  }

  put(key: string, data: Uint8Array): Promise<ObjectInfo> {
    const credentials = this.options.writeCredentials;
    if (credentials === undefined) return Promise.reject(new UnauthorizedError('This S3 storage has no write credentials: it can only read.'));
    return this.s3.put(this.options.bucket, key, data, credentials);
  }

  private readOf(bucket: string): S3Read {
    const own = bucket === this.options.bucket && this.options.writeCredentials !== undefined;
    return { credentials: own ? this.options.writeCredentials : this.options.readCredentials?.(bucket) };
  }

  get(bucket: string, key: string, options: GetOptions = {}): Promise<{ info: ObjectInfo; data: Uint8Array }> {
    return this.s3.get(bucket, key, options, this.readOf(bucket));
  }

  head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    return this.s3.head(bucket, key, this.readOf(bucket));
  }

  list(bucket: string, prefix = ''): Promise<ObjectInfo[]> {
    return this.s3.list(bucket, prefix, this.readOf(bucket));
  }
}
