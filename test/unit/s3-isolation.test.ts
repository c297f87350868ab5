/**
 * S3 mode isolation (issue #14): on a permissionless subnet every other hotkey may be hostile, so
 * whatever one hotkey committed or serves must fail only that hotkey's reads, as a typed NetError,
 * and never the reads of an honest peer. Shown on s3rver (a real S3-compatible server; it answers 403
 * InvalidAccessKeyId for an access key id it does not know, and does not verify SigV4 signatures) with
 * commitments held by a MemoryNetwork chain, and on a plain HTTP server that misbehaves on purpose
 * (no or lying Content-Length, a gzip bomb, endless or huge listings, a cut connection).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { HotkeyBucketStorage, NoBucketCommittedError } from '../../src/net/hotkey-buckets.ts';
import { MemoryNetwork } from '../../src/net/memory-network.ts';
import { bucketDirectory, S3Storage } from '../../src/net/s3-storage.ts';
import { bucketNameProblem, encodeBucketCommitment, InvalidBucketCommitmentError } from '../../src/net/subtensor-encoding.ts';
import { NetError, NotFoundError, OversizedError, UnauthorizedError, UnavailableError, type NetErrorCode } from '../../src/net/errors.ts';
import type { Commitment } from '../../src/net/types.ts';
import { accounts, S3rver, type S3rverInstance } from './s3rver.ts';

const NETUID = 3;
const WRITE = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/** Buckets named as Templar names them: a 32-hex account id. */
const HONEST_BUCKET = '0123456789abcdef0123456789abcdef';
const FORBIDDEN_BUCKET = 'fedcba9876543210fedcba9876543210';
const READER_BUCKET = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const ROTATED_BUCKET = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
/** Read keys s3rver knows (registered below) and one it does not (→ 403 InvalidAccessKeyId). */
const HONEST_READ = { readKeyId: 'h'.repeat(28) + 'read', readSecret: 'h'.repeat(60) + 'scrt' };
const ROTATED_READ = { readKeyId: 'n'.repeat(28) + 'read', readSecret: 'n'.repeat(60) + 'scrt' };
const UNKNOWN_READ = { readKeyId: 'x'.repeat(28) + 'nope', readSecret: 'x'.repeat(60) + 'nope' };

const HONEST = '5HonestPeer';
const NO_COMMITMENT = '5NoCommitment';
const INVALID = '5InvalidBucketName';
const FORBIDDEN = '5ForbiddenBucket';
const SHADOW = '5ShadowsHonest';
const SHADOW_OF_READER = '5ShadowsTheReader';
const READER = '5Reader';

const commit = (accountId: string, read: { readKeyId: string; readSecret: string }): Uint8Array => encodeBucketCommitment({ accountId, ...read });
/** A commitment the encoder would refuse (uppercase and '_' in the bucket name), as a hostile hotkey can still write any bytes. */
const invalidBucketCommitment = (): Uint8Array => new TextEncoder().encode('BAD_BUCKET_NAME_'.repeat(2) + HONEST_READ.readKeyId + HONEST_READ.readSecret);

function memoryChain(): MemoryNetwork {
  return new MemoryNetwork({
    netuid: NETUID,
    clock: () => Date.now(),
    hyperparams: { tempo: 360, commitRevealEnabled: false, revealPeriodEpochs: 1, weightsRateLimit: 0, weightsVersionKey: 1n, minAllowedWeights: 1, blockTimeMs: 1000 },
  });
}

/**
 * Awaits `promise`, which must reject with exactly a `type` of `code` whose message names `hotkey`:
 * anything else (a TypeError, a SyntaxError, an AbortError, a NetError of another kind) fails here.
 */
async function expectNetError(promise: Promise<unknown>, type: abstract new (...args: never[]) => NetError, code: NetErrorCode, hotkey?: string): Promise<NetError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'the read must reject').toBeInstanceOf(type);
  const error = caught as NetError;
  expect(error.code).toBe(code);
  if (hotkey !== undefined) expect(error.message).toContain(hotkey);
  return error;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let dir: string;
let s3rver: S3rverInstance;
let endpoint: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 's3rver-isolation-'));
  for (const read of [HONEST_READ, ROTATED_READ]) accounts.DUMMY_ACCOUNT.createKeyPair(read.readKeyId, read.readSecret);
  s3rver = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: dir, vhostBuckets: false,
    configureBuckets: [HONEST_BUCKET, FORBIDDEN_BUCKET, READER_BUCKET, ROTATED_BUCKET].map((name) => ({ name })),
  });
  endpoint = `http://127.0.0.1:${(await s3rver.run()).port}`;
  // Every bucket holds an object, so a failed read is the credentials' doing, never a missing object.
  for (const bucket of [HONEST_BUCKET, FORBIDDEN_BUCKET, READER_BUCKET, ROTATED_BUCKET]) {
    await new S3Storage({ endpoint, bucket, writeCredentials: WRITE }).put('gradient-5-1', new TextEncoder().encode(bucket));
  }
});
afterAll(async () => {
  await s3rver.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HotkeyBucketStorage isolates every hotkey on s3rver', () => {
  it('reads the honest hotkey with its own credentials while each faulty hotkey rejects with its own typed error', async () => {
    const chain = memoryChain();
    for (const hotkey of [READER, HONEST, NO_COMMITMENT, INVALID, FORBIDDEN, SHADOW, SHADOW_OF_READER]) chain.register({ hotkey });
    // The shadower commits first: a lookup of credentials by bucket name (first match wins) would sign the honest peer's reads with its key.
    chain.setCommitment(SHADOW, NETUID, commit(HONEST_BUCKET, UNKNOWN_READ));
    chain.setCommitment(HONEST, NETUID, commit(HONEST_BUCKET, HONEST_READ));
    chain.setCommitment(INVALID, NETUID, invalidBucketCommitment());
    chain.setCommitment(FORBIDDEN, NETUID, commit(FORBIDDEN_BUCKET, UNKNOWN_READ));
    // Names the reader's own bucket: its reads must not be signed with the reader's write credentials.
    chain.setCommitment(SHADOW_OF_READER, NETUID, commit(READER_BUCKET, UNKNOWN_READ));
    const storage = new HotkeyBucketStorage({
      endpoint, ownHotkey: READER, ownBucket: READER_BUCKET, writeCredentials: WRITE,
      commitments: () => chain.chain().commitments(NETUID),
    });

    const honest = await storage.get(HONEST, 'gradient-5-1');
    expect(new TextDecoder().decode(honest.data)).toBe(HONEST_BUCKET);
    expect((await storage.head(HONEST, 'gradient-5-1'))?.size).toBe(32);
    expect(await storage.head(HONEST, 'gradient-6-1')).toBeUndefined();
    expect((await storage.list(HONEST, 'gradient-')).map((o) => o.key)).toEqual(['gradient-5-1']);
    expect(new TextDecoder().decode((await storage.get(READER, 'gradient-5-1')).data)).toBe(READER_BUCKET);

    for (const read of [
      (h: string) => storage.get(h, 'gradient-5-1'),
      (h: string) => storage.head(h, 'gradient-5-1'),
      (h: string) => storage.list(h, 'gradient-'),
    ]) {
      const none = await expectNetError(read(NO_COMMITMENT), NoBucketCommittedError, 'not-found', NO_COMMITMENT);
      expect(none).toBeInstanceOf(NotFoundError);
      expect(none.message).toMatch(/committed no bucket/);
      const invalid = await expectNetError(read(INVALID), InvalidBucketCommitmentError, 'bad-request', INVALID);
      expect(invalid.message).toMatch(/invalid bucket commitment \(accountId "BAD_BUCKET_NAME_BAD_BUCKET_NAME_": bucket name holds "B"/);
      await expectNetError(read(FORBIDDEN), UnauthorizedError, 'unauthorized', FORBIDDEN);
      await expectNetError(read(SHADOW), UnauthorizedError, 'unauthorized', SHADOW);
      await expectNetError(read(SHADOW_OF_READER), UnauthorizedError, 'unauthorized', SHADOW_OF_READER);
    }
    // After all the faults, the honest peer and the reader's own bucket still read as before.
    expect(new TextDecoder().decode((await storage.get(HONEST, 'gradient-5-1')).data)).toBe(HONEST_BUCKET);
    expect((await storage.list(READER, '')).map((o) => o.key)).toEqual(['gradient-5-1']);
  });

  it('a network failure is UnavailableError of the read', async () => {
    const closed = createServer();
    const url = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const commitments = new Map<string, Commitment>([[HONEST, { block: 1, data: commit(HONEST_BUCKET, HONEST_READ), moreFields: [] }]]);
    const storage = new HotkeyBucketStorage({ endpoint: url, ownHotkey: READER, ownBucket: READER_BUCKET, writeCredentials: WRITE, commitments: () => Promise.resolve(commitments) });
    await expectNetError(storage.get(HONEST, 'gradient-5-1'), UnavailableError, 'unavailable', HONEST);
    await expectNetError(storage.head(HONEST, 'gradient-5-1'), UnavailableError, 'unavailable', HONEST);
    await expectNetError(storage.list(HONEST, ''), UnavailableError, 'unavailable', HONEST);
  });

  it('re-reads the directory at most once per interval and then picks up a new and a rotated commitment', async () => {
    const chain = memoryChain();
    for (const hotkey of [READER, HONEST, NO_COMMITMENT]) chain.register({ hotkey });
    chain.setCommitment(HONEST, NETUID, commit(HONEST_BUCKET, HONEST_READ));
    let reads = 0;
    const storage = new HotkeyBucketStorage({
      endpoint, ownHotkey: READER, ownBucket: READER_BUCKET, writeCredentials: WRITE, refreshIntervalMs: 300,
      commitments: () => {
        reads++;
        return chain.chain().commitments(NETUID);
      },
    });
    // Concurrent first reads share one chain query.
    const first = await Promise.all([storage.get(HONEST, 'gradient-5-1'), storage.head(HONEST, 'gradient-5-1'), storage.list(HONEST, '')]);
    expect(new TextDecoder().decode(first[0].data)).toBe(HONEST_BUCKET);
    expect(reads).toBe(1);

    // Rotation to another bucket and read key, and a late commitment: not seen within the interval…
    chain.setCommitment(HONEST, NETUID, commit(ROTATED_BUCKET, ROTATED_READ));
    chain.setCommitment(NO_COMMITMENT, NETUID, commit(FORBIDDEN_BUCKET, HONEST_READ));
    expect(new TextDecoder().decode((await storage.get(HONEST, 'gradient-5-1')).data)).toBe(HONEST_BUCKET);
    await expectNetError(storage.get(NO_COMMITMENT, 'gradient-5-1'), NoBucketCommittedError, 'not-found', NO_COMMITMENT);
    expect(reads).toBe(1);

    // …and used once it has passed.
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(new TextDecoder().decode((await storage.get(HONEST, 'gradient-5-1')).data)).toBe(ROTATED_BUCKET);
    expect(new TextDecoder().decode((await storage.get(NO_COMMITMENT, 'gradient-5-1')).data)).toBe(FORBIDDEN_BUCKET);
    expect(reads).toBe(2);
  });

  it('a chain failure keeps the last directory for known hotkeys and is UnavailableError for unknown ones', async () => {
    let failing = false;
    const commitments = new Map<string, Commitment>([[HONEST, { block: 1, data: commit(HONEST_BUCKET, HONEST_READ), moreFields: [] }]]);
    const storage = new HotkeyBucketStorage({
      endpoint, ownHotkey: READER, ownBucket: READER_BUCKET, writeCredentials: WRITE, refreshIntervalMs: 0,
      commitments: () => (failing ? Promise.reject(new TypeError('socket hang up')) : Promise.resolve(commitments)),
    });
    expect((await storage.head(HONEST, 'gradient-5-1'))?.size).toBe(32);
    failing = true;
    expect((await storage.head(HONEST, 'gradient-5-1'))?.size).toBe(32);
    const unknown = await expectNetError(storage.head(NO_COMMITMENT, 'gradient-5-1'), UnavailableError, 'unavailable', NO_COMMITMENT);
    expect(unknown.message).toMatch(/could not be read from the chain \(socket hang up\)/);
  });
});

describe('bucketDirectory on hostile commitments', () => {
  it('keeps every valid entry and records each garbage commitment for its own hotkey only', () => {
    const random = Uint8Array.from({ length: 128 }, (_, i) => (i * 151 + 7) & 0xff);
    const nonUtf8 = new TextEncoder().encode('a'.repeat(128));
    nonUtf8.set([0xc3, 0x28, 0xff], 40);
    const commitments = new Map<string, Commitment>([
      ['5Random', { block: 1, data: random, moreFields: [] }],
      ['5Short', { block: 1, data: Uint8Array.of(1, 2, 3, 4, 5), moreFields: [] }],
      ['5Empty', { block: 1, data: new Uint8Array(0), moreFields: [] }],
      ['5NonUtf8', { block: 1, data: nonUtf8, moreFields: [] }],
      [HONEST, { block: 2, data: commit(HONEST_BUCKET, HONEST_READ), moreFields: [] }],
      ['5DoubleDot', { block: 1, data: new TextEncoder().encode('a'.repeat(15) + '..' + 'a'.repeat(15) + HONEST_READ.readKeyId + HONEST_READ.readSecret), moreFields: [] }],
      ['5NotBytes', { block: 1, data: 'a string, not bytes' as unknown as Uint8Array, moreFields: [] }],
      [SHADOW, { block: 3, data: commit(HONEST_BUCKET, UNKNOWN_READ), moreFields: [] }],
    ]);
    const directory = bucketDirectory(commitments);
    expect([...directory.keys()].sort()).toEqual([HONEST, SHADOW].sort());
    expect(directory.get(HONEST)).toEqual({ bucket: HONEST_BUCKET, credentials: { accessKeyId: HONEST_READ.readKeyId, secretAccessKey: HONEST_READ.readSecret } });
    // Both name the same bucket, each with its own credentials: nothing is merged by bucket name.
    expect(directory.get(SHADOW)?.credentials.accessKeyId).toBe(UNKNOWN_READ.readKeyId);
    expect(Object.fromEntries(directory.invalid)).toEqual({
      '5Random': expect.stringMatching(/^byte 0 is 0x07, not printable ASCII$/) as unknown,
      '5Short': expect.stringMatching(/128 printable ASCII bytes; got 5 bytes/) as unknown,
      '5Empty': expect.stringMatching(/got 0 bytes/) as unknown,
      '5NonUtf8': expect.stringMatching(/^byte 40 is 0xc3/) as unknown,
      '5DoubleDot': expect.stringMatching(/bucket name holds '\.\.'/) as unknown,
      '5NotBytes': expect.stringMatching(/not a byte string/) as unknown,
    });
  });

  it('applies S3 bucket-name rules, and the encoder refuses what readers would refuse', () => {
    expect(bucketNameProblem(HONEST_BUCKET)).toBeUndefined();
    expect(bucketNameProblem('my.bucket-1')).toBeUndefined();
    for (const bad of ['ab', 'a'.repeat(64), 'Upper', 'under_score', '-start', 'end-', 'two..dots', 'dot.-dash', '192.168.1.1', 'a/b', 'a b']) {
      expect(bucketNameProblem(bad), bad).toBeDefined();
    }
    expect(() => encodeBucketCommitment({ accountId: 'A'.repeat(32), ...HONEST_READ })).toThrow(InvalidBucketCommitmentError);
    expect(() => encodeBucketCommitment({ accountId: HONEST_BUCKET, readKeyId: 'k'.repeat(31) + ' ', readSecret: HONEST_READ.readSecret })).toThrow(/readKeyId must be printable ASCII/);
  });
});

describe('bounded reads from a misbehaving endpoint', () => {
  const TOTAL_BYTES = 256 * 1024 * 1024;
  let server: Server;
  let url: string;
  let streamedBytes = 0;
  let listPages = 0;
  /** HEADs seen per key, for the PUT read-back. */
  const heads = new Map<string, number>();

  /** Writes `total` bytes in 64 KiB chunks, honouring backpressure, and stops when the client goes away. */
  function stream(res: ServerResponse, total: number): void {
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    let sent = 0;
    res.on('close', () => {
      streamedBytes = sent;
    });
    const pump = (): void => {
      while (sent < total && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const lastModified = { 'last-modified': new Date().toUTCString() };
      const key = path.split('/').slice(2).join('/');
      if (req.method === 'PUT') {
        req.resume();
        req.on('end', () => {
          res.writeHead(200);
          res.end();
        });
      } else if (req.method === 'HEAD' && key.startsWith('visible-after-')) {
        // Acknowledged PUTs that a store shows only from the n-th HEAD on (n in the key).
        const seen = (heads.get(key) ?? 0) + 1;
        heads.set(key, seen);
        res.writeHead(seen >= Number(key.slice('visible-after-'.length)) ? 200 : 404, { ...lastModified, 'content-length': '3' });
        res.end();
      } else if (key === 'no-length') {
        res.writeHead(200, { ...lastModified, 'content-type': 'application/octet-stream' });
        stream(res, TOTAL_BYTES);
      } else if (key === 'gzip-bomb') {
        const bomb = gzipSync(new Uint8Array(16 * 1024 * 1024));
        res.writeHead(200, { ...lastModified, 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
        res.end(bomb);
      } else if (key === 'cut') {
        res.writeHead(200, { ...lastModified, 'content-length': '1000' });
        res.write('0123456789');
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (key === 'no-date') {
        res.writeHead(200, { 'content-length': '3' });
        res.end('abc');
      } else if (key === 'huge-error') {
        res.writeHead(500);
        stream(res, TOTAL_BYTES);
      } else if (key === '' && path.startsWith('/endless')) {
        listPages++;
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(`<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t${listPages}</NextContinuationToken></ListBucketResult>`);
      } else if (key === '' && path.startsWith('/crowded')) {
        const contents = Array.from({ length: 1000 }, (_, i) => `<Contents><Key>k${i}</Key><LastModified>2025-01-01T00:00:00.000Z</LastModified><Size>1</Size></Contents>`).join('');
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(`<ListBucketResult>${contents}<IsTruncated>true</IsTruncated><NextContinuationToken>t${Math.random()}</NextContinuationToken></ListBucketResult>`);
      } else if (key === '' && path.startsWith('/garbage')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end('<Contents><Contents><Key>unclosed'.repeat(20_000) + '<Contents><Key>ok</Key><Size>x</Size></Contents>\u0000\uffff');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    url = await listen(server);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const BUCKETS = { endless: 'endless' + '0'.repeat(25), crowded: 'crowded' + '0'.repeat(25), garbage: 'garbage' + '0'.repeat(25), plain: 'plain' + '0'.repeat(27) };
  function storageOn(): HotkeyBucketStorage {
    const commitments = new Map<string, Commitment>(Object.entries(BUCKETS).map(([name, bucket]) => [`5${name}`, { block: 1, data: commit(bucket, HONEST_READ), moreFields: [] }]));
    return new HotkeyBucketStorage({
      endpoint: url, ownHotkey: READER, ownBucket: READER_BUCKET, writeCredentials: WRITE, maxListPages: 5, maxListKeys: 2500,
      commitments: () => Promise.resolve(commitments),
    });
  }

  it('stops a body without Content-Length at maxBytes instead of buffering it', async () => {
    streamedBytes = 0;
    await expectNetError(storageOn().get('5plain', 'no-length', { maxBytes: 1000 }), OversizedError, 'oversized', '5plain');
    await expect.poll(() => streamedBytes, { timeout: 5000 }).toBeGreaterThan(0);
    // The server was cut off long before the end: what the socket buffers held, not 256 MiB.
    expect(streamedBytes).toBeLessThan(TOTAL_BYTES / 4);
  });

  it('stops a body that decodes past its Content-Length (gzip bomb) at maxBytes', async () => {
    await expectNetError(storageOn().get('5plain', 'gzip-bomb', { maxBytes: 1024 * 1024 }), OversizedError, 'oversized', '5plain');
  });

  it('a cut connection, a missing Last-Modified and a 500 with an endless body are UnavailableError', async () => {
    const storage = storageOn();
    await expectNetError(storage.get('5plain', 'cut'), UnavailableError, 'unavailable', '5plain');
    await expectNetError(storage.get('5plain', 'no-date'), UnavailableError, 'unavailable', '5plain');
    await expectNetError(storage.get('5plain', 'huge-error'), UnavailableError, 'unavailable', '5plain');
  });

  it('reads a PUT back until the store shows it, and gives up with UnavailableError after five HEADs', async () => {
    const storage = storageOn();
    const info = await storage.put('visible-after-3', new Uint8Array(3));
    expect(heads.get('visible-after-3')).toBe(3);
    expect(info.size).toBe(3);
    await expectNetError(storage.put('visible-after-6', new Uint8Array(3)), UnavailableError, 'unavailable');
    expect(heads.get('visible-after-6')).toBe(5);
  });

  it('caps list pages and keys, and skips what it cannot parse', async () => {
    const storage = storageOn();
    listPages = 0;
    await expectNetError(storage.list('5endless', ''), OversizedError, 'oversized', '5endless');
    expect(listPages).toBe(5);
    await expectNetError(storage.list('5crowded', ''), OversizedError, 'oversized', '5crowded');
    const started = Date.now();
    expect(await storage.list('5garbage', '')).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
