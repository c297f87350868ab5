import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Storage, bucketDirectory } from '../../src/net/s3-storage.ts';
import { HotkeyBucketStorage } from '../../src/net/hotkey-buckets.ts';
import { encodeBucketCommitment } from '../../src/net/subtensor-encoding.ts';
import { startDevnet, type RunningDevnet } from '../../src/devnet/server.ts';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { NotFoundError, OversizedError, TooEarlyError, TooLateError, UnauthorizedError } from '../../src/net/errors.ts';
import { accounts, S3rver, type S3rverInstance } from './s3rver.ts';

/**
 * s3rver (a local S3-compatible server) checks that the access key id exists but does not verify
 * SigV4 signatures or per-key permissions, so these tests show the S3 protocol (SigV4-signed
 * path-style PUT/GET/HEAD/ListObjectsV2, server Last-Modified) and the credential flow through the
 * commitment; read-only enforcement is the real endpoint's job (R2 read tokens).
 */
const BUCKET = '0123456789abcdef0123456789abcdef'; // Templar: the 32-char account id names the bucket
const WRITE = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const READ = { accessKeyId: 'r'.repeat(28) + 'read', secretAccessKey: 's'.repeat(60) + 'scrt' };

let dir: string;
let server: S3rverInstance;
let endpoint: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 's3rver-'));
  accounts.DUMMY_ACCOUNT.createKeyPair(READ.accessKeyId, READ.secretAccessKey);
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, vhostBuckets: false, configureBuckets: [{ name: BUCKET }] });
  const address = await server.run();
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('S3Storage on a local S3-compatible server (s3rver)', () => {
  it('puts, heads, lists and gets with the server Last-Modified and the put-window gate', async () => {
    const writer = new S3Storage({ endpoint, bucket: BUCKET, writeCredentials: WRITE, maxObjectBytes: 10_000 });
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13 + 1) & 0xff);
    const before = Date.now();
    const info = await writer.put('gradient-12-4-v1', data);
    const after = Date.now();
    expect(info.size).toBe(5000);
    // HTTP dates have 1 s precision: the server time lies within the second of the request.
    expect(info.lastModifiedMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(info.lastModifiedMs).toBeLessThanOrEqual(after);
    const got = await writer.get(BUCKET, 'gradient-12-4-v1', { gate: { timeMinMs: before - 2000, timeMaxMs: after + 2000 } });
    expect(Array.from(got.data)).toEqual(Array.from(data));
    await expect(writer.get(BUCKET, 'gradient-12-4-v1', { gate: { timeMinMs: info.lastModifiedMs + 1, timeMaxMs: info.lastModifiedMs + 60_000 } })).rejects.toThrow(TooEarlyError);
    await expect(writer.get(BUCKET, 'gradient-12-4-v1', { gate: { timeMinMs: info.lastModifiedMs - 60_000, timeMaxMs: info.lastModifiedMs - 1 } })).rejects.toThrow(TooLateError);
    await expect(writer.get(BUCKET, 'gradient-12-4-v1', { maxBytes: 4999 })).rejects.toThrow(OversizedError);
    await expect(writer.put('too-big', new Uint8Array(10_001))).rejects.toThrow(OversizedError);

    await writer.put('debug-12-4-v1', Uint8Array.of(7));
    const listed = await writer.list(BUCKET, 'gradient-');
    expect(listed.map((o) => [o.key, o.size])).toEqual([['gradient-12-4-v1', 5000]]);
    expect(Math.abs((listed[0]?.lastModifiedMs ?? 0) - info.lastModifiedMs)).toBeLessThan(1000);
    expect(await writer.head(BUCKET, 'gradient-13-4-v1')).toBeUndefined();
    await expect(writer.get(BUCKET, 'gradient-13-4-v1')).rejects.toThrow(NotFoundError);
  });

  describe('read credentials published through the chain commitment', () => {
    let devnet: RunningDevnet;
    let devnetDir: string;
    beforeAll(async () => {
      devnetDir = mkdtempSync(join(tmpdir(), 'devnet-s3-'));
      devnet = await startDevnet({ dir: devnetDir, blockTimeMs: 200 });
    });
    afterAll(async () => {
      await devnet.close();
      rmSync(devnetDir, { recursive: true, force: true });
    });

    it('a reader finds the bucket and read key in the commitment and reads the object', async () => {
      const signer = await KeyringSigner.fromUris([]);
      const miner = signer.add('//Alice');
      const chain = new DevnetChain(devnet.url, signer);
      await chain.register(miner, 2);
      await chain.setCommitment(miner, 2, encodeBucketCommitment({ accountId: BUCKET, readKeyId: READ.accessKeyId, readSecret: READ.secretAccessKey }));

      const writer = new S3Storage({ endpoint, bucket: BUCKET, writeCredentials: WRITE });
      await writer.put('gradient-20-0-v1', Uint8Array.of(1, 2, 3));

      const directory = bucketDirectory(await chain.commitments(2));
      const entry = directory.get(miner);
      expect(entry).toEqual({ bucket: BUCKET, credentials: READ });
      const reader = new S3Storage({ endpoint, bucket: 'ffffffffffffffffffffffffffffffff', readCredentials: (b) => directory.get(miner)?.bucket === b ? entry?.credentials : undefined });
      expect(Array.from((await reader.get(BUCKET, 'gradient-20-0-v1')).data)).toEqual([1, 2, 3]);
      // Without write credentials there is no put.
      await expect(reader.put('x', Uint8Array.of(1))).rejects.toThrow(UnauthorizedError);
      // An access key the endpoint does not know is refused with a typed error.
      const stranger = new S3Storage({ endpoint, bucket: 'ffffffffffffffffffffffffffffffff', readCredentials: () => ({ accessKeyId: 'UNKNOWNKEY', secretAccessKey: 'x' }) });
      await expect(stranger.get(BUCKET, 'gradient-20-0-v1')).rejects.toThrow(UnauthorizedError);
    });

    it('addressed by hotkey: a peer reads another hotkey\'s objects through its commitment, and an uncommitted hotkey is not found', async () => {
      const signer = await KeyringSigner.fromUris([]);
      const miner = signer.add('//Alice');
      const reader = signer.add('//Bob');
      const chain = new DevnetChain(devnet.url, signer);
      await chain.register(miner, 2);
      await chain.setCommitment(miner, 2, encodeBucketCommitment({ accountId: BUCKET, readKeyId: READ.accessKeyId, readSecret: READ.secretAccessKey }));
      const own = new HotkeyBucketStorage({ endpoint, ownHotkey: miner, ownBucket: BUCKET, writeCredentials: WRITE, commitments: () => chain.commitments(2) });
      await own.put('scores-3', Uint8Array.of(7, 8));
      expect((await own.list(miner, 'scores-')).map((o) => o.key)).toEqual(['scores-3']);
      const other = new HotkeyBucketStorage({ endpoint, ownHotkey: reader, ownBucket: 'ffffffffffffffffffffffffffffffff', writeCredentials: WRITE, commitments: () => chain.commitments(2), refreshIntervalMs: 0 });
      expect(Array.from((await other.get(miner, 'scores-3')).data)).toEqual([7, 8]);
      expect((await other.head(miner, 'scores-3'))?.size).toBe(2);
      await expect(other.get(signer.add('//Charlie'), 'scores-3')).rejects.toThrow(NotFoundError);
    });
  });
});
