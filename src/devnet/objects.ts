/**
 * The devnet's object storage: one bucket per hotkey under `objects/<bucket>/`, each object a
 * `<hex key>.bin` with its `<hex key>.json` metadata (the layout of earlier versions, so a restart
 * finds its objects). The metadata of every object is also kept in memory, so HEAD, listings and
 * quota checks never touch the disk, and bodies travel as streams in both directions: an upload is
 * hashed while it is written to a temporary file and renamed into place only when its hash and
 * length are the signed ones; a download is piped from the file.
 *
 * Bounds: only keys of `DEVNET_OBJECT_NAMES`; per bucket at most `maxBucketBytes` and
 * `maxBucketObjects`, all buckets together at most `maxStoredBytes`; each family keeps its newest
 * `keepNewest` numbers per bucket (storing a newer one deletes the oldest).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { BadRequestError, BadSignatureError, NotFoundError, OversizedError, UnavailableError } from '../net/errors.ts';
import { parseDevnetObjectKey, type ParsedObjectKey } from '../net/devnet-protocol.ts';
import type { ObjectInfo } from '../net/types.ts';

export interface ObjectStoreLimits {
  readonly maxObjectBytes: number;
  readonly maxBucketBytes: number;
  readonly maxBucketObjects: number;
  readonly maxStoredBytes: number;
}

function hexKey(key: string): string {
  return Buffer.from(key, 'utf8').toString('hex');
}

function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function isObjectInfo(x: unknown): x is ObjectInfo {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Partial<ObjectInfo>;
  return typeof o.bucket === 'string' && typeof o.key === 'string' && typeof o.size === 'number' && typeof o.lastModifiedMs === 'number';
}

/** An open object: its metadata and a stream of its bytes (the caller must consume or destroy it). */
export interface OpenObject {
  readonly info: ObjectInfo;
  readonly body: Readable;
}

export class ObjectStore {
  /** bucket → key → metadata: the whole index, loaded once at start. */
  private readonly buckets = new Map<string, Map<string, ObjectInfo>>();
  private readonly bucketBytes = new Map<string, number>();
  private storedBytes = 0;

  constructor(private readonly dir: string, readonly limits: ObjectStoreLimits) {
    mkdirSync(dir, { recursive: true });
    for (const bucket of readdirSync(dir)) {
      const bucketDir = join(dir, bucket);
      for (const file of readdirSync(bucketDir)) {
        // Uploads and metadata writes a killed process left half done.
        if (file.startsWith('.upload-') || file.includes('.tmp-')) {
          rmSync(join(bucketDir, file), { force: true });
          continue;
        }
        if (!file.endsWith('.json')) continue;
        let info: unknown;
        try {
          info = JSON.parse(readFileSync(join(bucketDir, file), 'utf8'));
        } catch {
          continue;
        }
        if (!isObjectInfo(info) || !existsSync(join(bucketDir, `${hexKey(info.key)}.bin`))) continue;
        this.index(info);
      }
    }
  }

  private index(info: ObjectInfo): void {
    let objects = this.buckets.get(info.bucket);
    if (objects === undefined) {
      objects = new Map();
      this.buckets.set(info.bucket, objects);
    }
    const old = objects.get(info.key);
    objects.set(info.key, info);
    const delta = info.size - (old?.size ?? 0);
    this.bucketBytes.set(info.bucket, (this.bucketBytes.get(info.bucket) ?? 0) + delta);
    this.storedBytes += delta;
  }

  private unindex(bucket: string, key: string): void {
    const objects = this.buckets.get(bucket);
    const old = objects?.get(key);
    if (objects === undefined || old === undefined) return;
    objects.delete(key);
    this.bucketBytes.set(bucket, (this.bucketBytes.get(bucket) ?? 0) - old.size);
    this.storedBytes -= old.size;
  }

  info(bucket: string, key: string): ObjectInfo | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  /** The bucket's objects whose key starts with `prefix`, by key; bounded by `maxBucketObjects`. */
  list(bucket: string, prefix: string): ObjectInfo[] {
    const objects = this.buckets.get(bucket);
    if (objects === undefined) return [];
    return [...objects.values()].filter((info) => info.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Bytes held by one bucket, and by all. */
  usage(bucket?: string): number {
    return bucket === undefined ? this.storedBytes : (this.bucketBytes.get(bucket) ?? 0);
  }

  /**
   * Checks that `bucket` can take `key` of `size` bytes, before any byte is read; returns the keys
   * storing it will delete (older numbers of its family past `keepNewest`). Throws
   * `BadRequestError` for a key the devnet does not store, `OversizedError` over a limit.
   */
  plan(bucket: string, key: string, size: number): string[] {
    return planObjectWrite(this.buckets.get(bucket) ?? new Map<string, ObjectInfo>(), { bucket: this.usage(bucket), total: this.storedBytes }, bucket, key, size, this.limits, 'The devnet');
  }

  /**
   * Streams `body` into `bucket/key`: hashed and counted as it is written to a temporary file, kept
   * only when it is exactly `size` bytes with sha256 `sha256Hex` (what the writer signed), then
   * renamed into place after `beforeCommit` (which may throw to refuse it) and a second `plan`
   * (concurrent uploads may have used the quota meanwhile). Returns the stored metadata.
   */
  async write(bucket: string, key: string, body: Readable, size: number, sha256Hex: string, beforeCommit: () => void): Promise<ObjectInfo> {
    const bucketDir = join(this.dir, bucket);
    mkdirSync(bucketDir, { recursive: true });
    const tmp = join(bucketDir, `.upload-${randomUUID()}`);
    const hash = createHash('sha256');
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (received > size) {
          done(OversizedError.of(received, size, `The body of ${key} (declared Content-Length)`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      try {
        await pipeline(body, counter, createWriteStream(tmp, { flags: 'wx' }));
      } catch (error) {
        if (error instanceof OversizedError) throw error;
        const code = (error as { code?: unknown }).code;
        // The disk failing is ours; a body that stopped early is the client's.
        if (code === 'ENOSPC' || code === 'EIO' || code === 'EDQUOT') throw new UnavailableError(`The devnet could not store ${key} (${String(code)}); retry later.`);
        throw new BadRequestError(`The body of ${key} ended after ${received} of ${size} bytes; nothing was stored.`);
      }
      if (received !== size) throw new BadRequestError(`The body of ${key} is ${received} bytes, not the ${size} of its Content-Length; nothing was stored.`);
      const digest = hash.digest('hex');
      if (digest !== sha256Hex.toLowerCase()) {
        throw new BadSignatureError(`The body of ${key} has sha256 ${digest}, not the ${sha256Hex} its signature covers: it was altered in transit or forged. Nothing was stored.`);
      }
      beforeCommit();
      const evict = this.plan(bucket, key, size);
      const info: ObjectInfo = { bucket, key, size, lastModifiedMs: Date.now(), sha256: digest };
      renameSync(tmp, join(bucketDir, `${hexKey(key)}.bin`));
      writeAtomic(join(bucketDir, `${hexKey(key)}.json`), JSON.stringify(info));
      this.index(info);
      for (const old of evict) this.remove(bucket, old);
      return info;
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Opens `bucket/key` for streaming; `NotFoundError` when it is not stored (or was just deleted). */
  async open(bucket: string, key: string): Promise<OpenObject> {
    const info = this.info(bucket, key);
    if (info === undefined) throw NotFoundError.of(`Object ${bucket}/${key}`);
    const handle = await open(join(this.dir, bucket, `${hexKey(key)}.bin`), 'r').catch(() => undefined);
    if (handle === undefined) throw NotFoundError.of(`Object ${bucket}/${key}`);
    return { info, body: handle.createReadStream({ autoClose: true }) };
  }

  private remove(bucket: string, key: string): void {
    this.unindex(bucket, key);
    for (const ext of ['.bin', '.json']) {
      try {
        unlinkSync(join(this.dir, bucket, `${hexKey(key)}${ext}`));
      } catch {
        // Already gone.
      }
    }
  }

  /** Deletes a whole bucket (its hotkey was pruned from the run's subnet and may no longer write). */
  removeBucket(bucket: string): void {
    for (const key of [...(this.buckets.get(bucket)?.keys() ?? [])]) this.unindex(bucket, key);
    this.buckets.delete(bucket);
    this.bucketBytes.delete(bucket);
    rmSync(join(this.dir, bucket), { recursive: true, force: true });
  }
}

/**
 * `key` parsed against `DEVNET_OBJECT_NAMES`; `BadRequestError` for a key outside them (the
 * protocol's allowlist, which the devnet and the subnet gateway both apply before reading a body).
 */
export function parsedStoredKey(key: string, server: string): ParsedObjectKey {
  const parsed = parseDevnetObjectKey(key);
  if (parsed === undefined) throw new BadRequestError(`Object key '${key.slice(0, 200)}' is not one ${server.toLowerCase()} stores (see DEVNET_OBJECT_NAMES: gradient-{w}-{uid}, debug-{w}-{uid}, peers-{n}, aggregate-{w}, checkpoint-{n}, scores-{w}, theta-{w}, run, each optionally with .sig).`);
  return parsed;
}

/**
 * Whether `bucket`, holding `objects`, can take `key` of `size` bytes, judged before any byte is
 * read; returns the keys storing it will delete (older numbers of its family past `keepNewest`).
 * `BadRequestError` for a key outside `DEVNET_OBJECT_NAMES`, `OversizedError` over a limit. Shared by
 * the devnet's store and the subnet gateway's (src/gateway), which name themselves in `server`.
 */
export function planObjectWrite(
  objects: ReadonlyMap<string, ObjectInfo>, usage: { readonly bucket: number; readonly total: number },
  bucket: string, key: string, size: number, limits: ObjectStoreLimits, server: string,
): string[] {
  const parsed = parsedStoredKey(key, server);
  if (size > limits.maxObjectBytes) throw OversizedError.of(size, limits.maxObjectBytes, `Object ${key}`);
  const evict: string[] = [];
  const { keepNewest } = parsed.name;
  if (keepNewest !== undefined && parsed.number !== undefined) {
    const members: { key: string; number: number }[] = [];
    for (const other of objects.keys()) {
      const p = parseDevnetObjectKey(other);
      if (p?.name === parsed.name && p.number !== undefined) members.push({ key: other, number: p.number });
    }
    const kept = new Set([...new Set([parsed.number, ...members.map((m) => m.number)])].sort((a, b) => b - a).slice(0, keepNewest));
    if (!kept.has(parsed.number)) {
      throw new BadRequestError(`Object ${key} is older than the newest ${keepNewest} ${parsed.name.family} numbers bucket ${bucket} holds; ${server} keeps only those.`);
    }
    for (const m of members) if (!kept.has(m.number)) evict.push(m.key);
  }
  const freed = evict.reduce((n, k) => n + (objects.get(k)?.size ?? 0), 0) + (objects.get(key)?.size ?? 0);
  const count = objects.size - evict.length - (objects.has(key) ? 1 : 0) + 1;
  const bucketAfter = usage.bucket - freed + size;
  if (count > limits.maxBucketObjects) {
    throw new OversizedError(`Bucket ${bucket} holds ${objects.size} objects; storing ${key} would exceed its quota of ${limits.maxBucketObjects} objects. It was not transferred.`);
  }
  if (bucketAfter > limits.maxBucketBytes) {
    throw new OversizedError(`Bucket ${bucket} holds ${usage.bucket} bytes; storing ${key} (${size} bytes) would exceed its quota of ${limits.maxBucketBytes} bytes. It was not transferred.`);
  }
  if (usage.total - freed + size > limits.maxStoredBytes) {
    throw new OversizedError(`${server} stores ${usage.total} bytes; ${key} (${size} bytes) would exceed its total of ${limits.maxStoredBytes} bytes. It was not transferred.`);
  }
  return evict;
}
