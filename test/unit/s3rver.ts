/**
 * s3rver (a local S3-compatible server, a dev dependency) for the tests of the S3 path: its
 * constructor and its account registry, typed once. s3rver checks that an access key id exists but
 * does not verify SigV4 signatures or per-key permissions; read-only enforcement is the real
 * endpoint's job (R2 read tokens).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

const require = createRequire(import.meta.url);

interface S3rverObject {
  readonly bucket: string;
  readonly key: string;
  readonly content: NodeJS.ReadableStream | Buffer;
  readonly metadata: Record<string, string>;
}

interface FilesystemStorePrototype {
  putObject(this: FilesystemStoreThis, object: S3rverObject): Promise<{ size: number; md5: string }>;
}

interface FilesystemStoreThis {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
}

/**
 * s3rver 3.7.1 answers a PUT once the request body has been read, not once the object's file is
 * written: its store resolves on the hashing stream's 'finish', while the file stream may not even
 * have opened. A HEAD or GET right after the PUT then sees no object, or a short one (observed in CI:
 * "PUT … succeeded but the object is not visible yet"). Real S3 and R2 give read-after-write
 * consistency, so the tests run on a store that acknowledges a PUT only after the file is closed.
 */
const filesystemStore = require('s3rver/lib/stores/filesystem.js') as { prototype: FilesystemStorePrototype };
filesystemStore.prototype.putObject = async function putObject(this: FilesystemStoreThis, object: S3rverObject): Promise<{ size: number; md5: string }> {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const md5 = createHash('md5');
  let size = 0;
  const chunks = Buffer.isBuffer(object.content) ? [object.content] : object.content;
  await pipeline(
    chunks,
    new Transform({
      transform(chunk: Buffer, _encoding, callback): void {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    }),
    createWriteStream(objectPath),
  );
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};

/** `new S3rver(options)`. */
export const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

/** s3rver's account registry: `accounts.DUMMY_ACCOUNT.createKeyPair(id, secret)` makes a key id known. */
export const accounts = require('s3rver/lib/models/account.js') as S3rverAccounts;

/** s3rver's built-in write key pair (s3rver checks that an access key id exists, not SigV4 signatures). */
export const S3_WRITE = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** The read credentials of bucket `i` (32 + 64 characters, Templar's commitment layout), registered on s3rver by `startS3rver`. */
export function readCredentials(i: number): { readKeyId: string; readSecret: string } {
  const c = String.fromCharCode(0x61 + i);
  return { readKeyId: c.repeat(28) + 'read', readSecret: c.repeat(60) + 'scrt' };
}
/** A read key s3rver does not know (it answers 403 InvalidAccessKeyId). */
export const UNKNOWN_READ = { readKeyId: 'x'.repeat(28) + 'nope', readSecret: 'x'.repeat(60) + 'nope' };

/** Bucket `i`'s name: a 32-hex account id, as Templar names buckets. */
export function bucketName(i: number): string {
  return (i + 1).toString(16).padStart(2, '0').repeat(16);
}

export interface RunningS3rver {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * A CORS rule as a volunteer sets one on an R2 bucket for the page (any origin; the methods and
 * SigV4 headers the tab sends; `ETag` readable), so a page on another origin can write and read.
 */
const BROWSER_CORS = `<CORSConfiguration><CORSRule>
<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedMethod>PUT</AllowedMethod>
<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds>
</CORSRule></CORSConfiguration>`;

/**
 * s3rver on a free port with buckets `bucketName(0…count−1)` and read keys `readCredentials(0…count−1)`;
 * with `browser`, every bucket carries a CORS rule, so a page (another origin) reads and writes it too.
 */
export async function startS3rver(count: number, options: { readonly browser?: boolean } = {}): Promise<RunningS3rver> {
  const dir = mkdtempSync(join(tmpdir(), 's3rver-hostile-'));
  for (let i = 0; i < count; i++) {
    const read = readCredentials(i);
    accounts.DUMMY_ACCOUNT.createKeyPair(read.readKeyId, read.readSecret);
  }
  const server = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: dir, vhostBuckets: false,
    configureBuckets: Array.from({ length: count }, (_, i) => ({ name: bucketName(i), configs: options.browser === true ? [BROWSER_CORS] : [] })),
  });
  const endpoint = `http://127.0.0.1:${(await server.run()).port}`;
  return {
    endpoint,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
