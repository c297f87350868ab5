/**
 * Publishing a bucket commitment (chain.md §3.5, Templar `ChainManager.try_commit`) through the
 * `Chain` interface on the real devnet coordinator (HTTP, sr25519-signed requests): the first call
 * commits Templar's 128-character layout, which `bucketDirectory` reads back as the bucket and its
 * read credentials; the same credentials again cost no transaction; new ones are committed.
 * (On subtensor the same function signs `commitments.setCommitment`: the opt-in developer check.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevnet, type RunningDevnet } from '../../src/devnet/server.ts';
import { bucketReadCredentials, publishBucketCommitment } from '../../src/net/bucket-commitment.ts';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import { BadRequestError, NotRegisteredError } from '../../src/net/errors.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { bucketDirectory } from '../../src/net/s3-storage.ts';

const NETUID = 7;
const signer = await KeyringSigner.fromUris([]);
const miner = signer.add('//CommitMiner');
const stranger = signer.add('//CommitStranger');

let dir: string;
let devnet: RunningDevnet;
let chain: DevnetChain;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bucket-commitment-'));
  devnet = await startDevnet({ dir, blockTimeMs: 100 });
  chain = new DevnetChain(devnet.url, signer);
  await chain.register(miner, NETUID);
});
afterAll(async () => {
  await devnet.close();
  rmSync(dir, { recursive: true, force: true });
});

const bucket = '0123456789abcdef0123456789abcdef';
const first = bucketReadCredentials(bucket, 'k'.repeat(32), 's'.repeat(64));
const rotated = bucketReadCredentials(bucket, 'K'.repeat(32), 'S'.repeat(64));

describe('bucket commitment', () => {
  it('commits once, reads back as the bucket directory entry, and costs nothing when unchanged', async () => {
    const published = await publishBucketCommitment(chain, miner, NETUID, first);
    expect(published.kind).toBe('published');
    const directory = bucketDirectory(await chain.commitments(NETUID));
    expect(directory.get(miner)).toEqual({ bucket, credentials: { accessKeyId: first.readKeyId, secretAccessKey: first.readSecret } });

    const again = await publishBucketCommitment(chain, miner, NETUID, first);
    expect(again).toEqual({ kind: 'unchanged', block: published.kind === 'published' ? published.tx.block : -1 });

    expect((await publishBucketCommitment(chain, miner, NETUID, rotated)).kind).toBe('published');
    expect(bucketDirectory(await chain.commitments(NETUID)).get(miner)?.credentials.accessKeyId).toBe(rotated.readKeyId);
  });

  it('refuses a bucket not named by a 32-character account id, bad credentials, and an unregistered hotkey', async () => {
    expect(() => bucketReadCredentials('my-bucket', 'k'.repeat(32), 's'.repeat(64))).toThrow(/32-character account id/);
    await expect(publishBucketCommitment(chain, miner, NETUID, bucketReadCredentials(bucket, 'short', 's'.repeat(64)))).rejects.toThrow(BadRequestError);
    await expect(publishBucketCommitment(chain, stranger, NETUID, first)).rejects.toThrow(NotRegisteredError);
  });
});
