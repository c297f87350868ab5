import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import { putWindowAnchorBlock } from '../../src/core/clock.ts';
import { DevnetStorage } from '../../src/net/devnet-client.ts';
import { HEADER_LAST_MODIFIED_MS } from '../../src/net/devnet-protocol.ts';
import { ReplayedError, TooEarlyError } from '../../src/net/errors.ts';
import { fetchGatewayInfo, GatewayBucketReader } from '../../src/net/gateway-client.ts';
import { HotkeyBucketStorage, subnetBucketStorage } from '../../src/net/hotkey-buckets.ts';
import { S3Endpoint } from '../../src/net/s3-storage.ts';
import { assertValidSignature } from '../../src/net/verify.ts';
import { devnetRequestMessageOfHash } from '../../src/net/devnet-protocol.ts';
import { hexToU8a } from '@polkadot/util';
import type { RunningGateway } from '../../src/gateway/server.ts';
import { headAtLeast, GATEWAY_NETUID, rawRequest, signedPutHeaders, startGatewayBench, storagePath, type GatewayBench } from './gateway-harness.ts';
import { readCredentials, S3_WRITE, UNKNOWN_READ } from './s3rver.ts';

/**
 * The subnet's storage gateway (issue #21) in front of s3rver, on a devnet chain: what it stores,
 * where, with which timestamp and proof, and each refusal a hostile peer meets, with the typed code
 * the client rebuilds. Every request here is a real signed HTTP request on loopback.
 */
const MAX_OBJECT_BYTES = 64 * 1024;
const QUOTA_BYTES = 200 * 1024;

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

describe('the storage gateway in front of s3rver, on a devnet chain', () => {
  let bench: GatewayBench;
  let gateway: RunningGateway;
  let alice: string;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    bench = await startGatewayBench(3);
    [alice, bob, carol] = bench.registered as [string, string, string];
    gateway = await bench.gateway({ maxObjectBytes: MAX_OBJECT_BYTES, quotaBytes: QUOTA_BYTES });
  }, 60_000);

  afterAll(async () => {
    await bench?.close();
  });

  it('stores a registered hotkey\'s signed upload under its prefix with the gateway\'s time and the writer\'s proof, and serves it back', async () => {
    const storage = new DevnetStorage(gateway.url, bench.keys, alice);
    const body = bytes(5000, 1);
    const before = Date.now();
    const stored = await storage.put('debug-3-1', body);
    expect(stored).toMatchObject({ bucket: alice, key: 'debug-3-1', size: 5000, sha256: bytesToHex(sha256(body)) });
    expect(stored.lastModifiedMs).toBeGreaterThanOrEqual(before);
    expect(stored.lastModifiedMs).toBeLessThanOrEqual(Date.now());
    const read = await storage.get(alice, 'debug-3-1');
    expect(Buffer.from(read.data).equals(Buffer.from(body))).toBe(true);
    expect(read.info.lastModifiedMs).toBe(stored.lastModifiedMs);
    expect((await storage.head(alice, 'debug-3-1'))?.lastModifiedMs).toBe(stored.lastModifiedMs);
    expect((await storage.list(alice, 'debug-')).map((o) => o.key)).toEqual(['debug-3-1']);
    expect(await storage.head(bob, 'debug-3-1')).toBeUndefined();

    // In the operator's bucket: under the hotkey's prefix, with metadata that lets anyone check the hotkey authorised this very write.
    const direct = await new S3Endpoint({ endpoint: bench.s3.endpoint }).headWithMetadata(bench.bucket, `${alice}/debug-3-1`, { credentials: S3_WRITE });
    expect(direct?.info.size).toBe(5000);
    const metadata = direct!.metadata;
    expect(metadata.get('gauntlet-received-ms')).toBe(String(stored.lastModifiedMs));
    const message = devnetRequestMessageOfHash({
      method: 'PUT', path: storagePath(alice, 'debug-3-1'), hotkey: alice, nonce: Number(metadata.get('gauntlet-nonce')), bodySha256: hexToU8a(`0x${metadata.get('gauntlet-sha256')}`),
    });
    expect(metadata.get('gauntlet-sha256')).toBe(bytesToHex(sha256(body)));
    expect(() => assertValidSignature(message, metadata.get('gauntlet-signature') as `0x${string}`, alice, 'the stored write')).not.toThrow();
    expect(() => assertValidSignature(message, metadata.get('gauntlet-signature') as `0x${string}`, bob, 'the stored write')).toThrow();

    const info = await fetchGatewayInfo(gateway.url, GATEWAY_NETUID);
    expect(info).toMatchObject({ netuid: GATEWAY_NETUID, s3Endpoint: bench.s3.endpoint, maxObjectBytes: MAX_OBJECT_BYTES, quotaBytes: QUOTA_BYTES });
    await expect(fetchGatewayInfo(gateway.url, GATEWAY_NETUID + 1)).rejects.toThrow(/serves netuid 3, not 4/);
  });

  it('a validator with a read key of the gateway\'s bucket reads the peers without a bucket straight from it, the gateway aside', async () => {
    const body = bytes(2000, 11);
    await new DevnetStorage(gateway.url, bench.keys, bob).put('debug-9-2', body);
    const read = readCredentials(0);
    const validator = subnetBucketStorage({
      netuid: GATEWAY_NETUID, storage: { endpoint: bench.s3.endpoint, bucket: 'unused-own-bucket', region: 'us-east-1', accessKeyId: S3_WRITE.accessKeyId, secretAccessKey: S3_WRITE.secretAccessKey },
      gatewayBucket: { bucket: bench.bucket, credentials: { accessKeyId: read.readKeyId, secretAccessKey: read.readSecret } },
    }, alice, { commitments: () => Promise.resolve(new Map()) });
    const got = await validator.get(bob, 'debug-9-2');
    expect(Buffer.from(got.data).equals(Buffer.from(body))).toBe(true);
    expect(got.info).toMatchObject({ bucket: bob, key: 'debug-9-2', size: 2000 });
    expect((await validator.list(bob, 'debug-9')).map((o) => o.key)).toEqual(['debug-9-2']);
    expect(await validator.head(carol, 'debug-9-2')).toBeUndefined();
    // A key the bucket does not know is refused by S3, as a typed error of that read.
    const wrong = new GatewayBucketReader({ endpoint: bench.s3.endpoint, bucket: bench.bucket, credentials: { accessKeyId: UNKNOWN_READ.readKeyId, secretAccessKey: UNKNOWN_READ.readSecret } });
    await expect(wrong.get(bob, 'debug-9-2')).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses an unsigned write (403 unauthorized), and a write signed by another hotkey than the path\'s', async () => {
    const body = bytes(100, 2);
    const unsigned = await rawRequest(gateway.port, 'PUT', storagePath(alice, 'debug-4-1'), {}, body);
    expect([unsigned.status, unsigned.code]).toEqual([403, 'unauthorized']);
    expect(unsigned.message).toContain('unsigned');
    const path = storagePath(alice, 'debug-4-1');
    const byBob = await rawRequest(gateway.port, 'PUT', path, await signedPutHeaders(bench.keys, bob, path, body), body);
    expect([byBob.status, byBob.code]).toEqual([403, 'unauthorized']);
    expect(byBob.message).toContain(`Hotkey ${bob} may not write under ${alice}`);
    // A signature of the right hotkey over another body: refused when the body arrives.
    const swapped = await rawRequest(gateway.port, 'PUT', path, await signedPutHeaders(bench.keys, alice, path, body), bytes(100, 3));
    expect([swapped.status, swapped.code]).toEqual([401, 'bad-signature']);
    expect(await new DevnetStorage(gateway.url, undefined, undefined).head(alice, 'debug-4-1')).toBeUndefined();
  });

  it('refuses an unregistered hotkey before reading its body, and accepts it once it registers', async () => {
    const { stranger } = bench;
    const path = storagePath(stranger, 'debug-5-9');
    const body = bytes(100, 4);
    const refused = await rawRequest(gateway.port, 'PUT', path, await signedPutHeaders(bench.keys, stranger, path, body), body);
    expect([refused.status, refused.code]).toEqual([403, 'not-registered']);
    expect(refused.message).toContain(`not registered on netuid ${GATEWAY_NETUID}`);
    await bench.chain.register(stranger, GATEWAY_NETUID);
    // The gateway re-reads the metagraph for a hotkey it did not know (at most once per registrationMinRefreshMs).
    const accepted = await rawRequest(gateway.port, 'PUT', path, await signedPutHeaders(bench.keys, stranger, path, body), body);
    expect(accepted.status).toBe(200);
  });

  it('refuses a replayed write, in the replica that took it and in another replica on the same bucket, and the stored time does not move', async () => {
    const path = storagePath(bob, 'debug-6-2');
    const body = bytes(300, 5);
    const headers = await signedPutHeaders(bench.keys, bob, path, body);
    const first = await rawRequest(gateway.port, 'PUT', path, headers, body);
    expect(first.status).toBe(200);
    const storedAt = (JSON.parse(first.body) as { lastModifiedMs: number }).lastModifiedMs;
    const again = await rawRequest(gateway.port, 'PUT', path, headers, body);
    expect([again.status, again.code]).toEqual([409, 'replayed']);
    const replica = await bench.gateway({ maxObjectBytes: MAX_OBJECT_BYTES, quotaBytes: QUOTA_BYTES });
    await new Promise((r) => setTimeout(r, 20));
    const elsewhere = await rawRequest(replica.port, 'PUT', path, headers, body);
    expect([elsewhere.status, elsewhere.code]).toEqual([409, 'replayed']);
    expect(elsewhere.message).toContain('another replica');
    const head = await fetch(gateway.url + path, { method: 'HEAD' });
    expect(Number(head.headers.get(HEADER_LAST_MODIFIED_MS))).toBe(storedAt);
    // The hotkey's own next write (a newer nonce) goes through either replica.
    await expect(new DevnetStorage(replica.url, bench.keys, bob).put('debug-6-2', body)).resolves.toMatchObject({ size: 300 });
    await expect(rawRequest(replica.port, 'PUT', path, headers, body)).resolves.toMatchObject({ status: 409, code: new ReplayedError('').code });
  });

  it('refuses an oversized upload from its declared length, and a name outside the allowlist', async () => {
    const path = storagePath(carol, 'checkpoint-1');
    const big = bytes(2048, 6);
    const oversized = await rawRequest(gateway.port, 'PUT', path, await signedPutHeaders(bench.keys, carol, path, big), big, 10 * MAX_OBJECT_BYTES);
    expect([oversized.status, oversized.code]).toEqual([413, 'oversized']);
    for (const key of ['evil.exe', 'gradient-01-2', '../x', 'run.json']) {
      const p = storagePath(carol, key);
      const answer = await rawRequest(gateway.port, 'PUT', p, await signedPutHeaders(bench.keys, carol, p, big), big);
      expect([key, answer.status, answer.code]).toEqual([key, 400, 'bad-request']);
    }
  });

  it('refuses a write over the hotkey\'s quota, while a family\'s retention keeps an honest peer under it', async () => {
    const storage = new DevnetStorage(gateway.url, bench.keys, carol);
    const third = Math.floor(QUOTA_BYTES / 3.5);
    // checkpoint keeps its newest 4: three fit, the fourth would pass the quota.
    for (const n of [1, 2, 3]) await storage.put(`checkpoint-${n}`, bytes(third, n));
    await expect(storage.put('checkpoint-4', bytes(third, 4))).rejects.toMatchObject({ code: 'oversized', message: expect.stringContaining('quota') as unknown });
    // Debug slices keep 16 windows: the 17th evicts the oldest, so a long-running peer never fills its quota with them.
    for (let w = 0; w < 17; w++) await storage.put(`debug-${w}-7`, bytes(100, w));
    const keys = (await storage.list(carol, 'debug-')).map((o) => o.key);
    expect(keys).toHaveLength(16);
    expect(keys).not.toContain('debug-0-7');
  });

  it('refuses writes past the hotkey\'s rate', async () => {
    const limited = await bench.gateway({ writesPerMinute: 40 });
    const storage = new DevnetStorage(limited.url, bench.keys, alice);
    const results: unknown[] = [];
    // 40 a minute, in bursts of 10.
    for (let i = 0; i < 12; i++) results.push(await storage.put('peers-1', bytes(10, i)).then(() => 'ok', (e: { code?: string }) => e.code));
    expect(results.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => 'ok'));
    expect(results.slice(10)).toEqual(['rate-limited', 'rate-limited']);
    // Another hotkey has its own allowance.
    await expect(new DevnetStorage(limited.url, bench.keys, bob).put('peers-1', bytes(10, 0))).resolves.toMatchObject({ size: 10 });
  });
});

describe('the gateway\'s read gate', () => {
  let bench: GatewayBench;

  beforeAll(async () => {
    bench = await startGatewayBench(2);
  }, 60_000);

  afterAll(async () => {
    await bench?.close();
  });

  it('answers 425 to a GET of another peer\'s gradient until the chain says its put window has closed; HEAD answers meanwhile; readers through HotkeyBucketStorage see the same', async () => {
    const putWindowMs = 4000;
    const gateway = await bench.gateway({ window: { blocksPerWindow: 1, putWindowMs } });
    const [alice, bob] = bench.registered as [string, string];
    // The window whose put window opened with the head block (one block per window): uploads count now.
    const head = await headAtLeast(bench.chain, 2);
    const window = head.number - 1;
    expect(putWindowAnchorBlock(window, 1)).toBe(head.number);
    const closesAt = (await bench.chain.blockTimestamp(head.number)) + putWindowMs;
    const body = bytes(700, 9);
    await new DevnetStorage(gateway.url, bench.keys, alice).put(`gradient-${window}-1`, body);
    const asBob = new HotkeyBucketStorage({
      endpoint: bench.s3.endpoint, ownHotkey: bob, gateway: new DevnetStorage(gateway.url, bench.keys, bob), commitments: () => Promise.resolve(new Map()),
    });
    // The head block is at most a second old, so more than half of the put window is left.
    expect(Date.now()).toBeLessThan(closesAt - 500);
    await expect(asBob.get(alice, `gradient-${window}-1`)).rejects.toBeInstanceOf(TooEarlyError);
    const raw = await rawRequest(gateway.port, 'GET', storagePath(alice, `gradient-${window}-1`), {});
    expect([raw.status, raw.code]).toEqual([425, 'too-early']);
    expect((await asBob.head(alice, `gradient-${window}-1`))?.size).toBe(700);
    // A window whose put window has not even begun: gated as well.
    const future = await rawRequest(gateway.port, 'GET', storagePath(alice, `gradient-${window + 1000}-1`), {});
    expect(future.status).toBe(425);
    await new Promise((r) => setTimeout(r, Math.max(0, closesAt - Date.now() + 50)));
    const read = await asBob.get(alice, `gradient-${window}-1`);
    expect(Buffer.from(read.data).equals(Buffer.from(body))).toBe(true);
  }, 30_000);
});

describe('the gateway\'s read gate and the chain', () => {
  let bench: GatewayBench;

  beforeAll(async () => {
    bench = await startGatewayBench(1);
  }, 60_000);

  afterAll(async () => {
    await bench?.close();
  });

  it('looks up block timestamps for unauthenticated reads only within its budget, and answers the rest busy (503, retry)', async () => {
    // 4 a minute: a burst of one lookup.
    const gateway = await bench.gateway({ window: { blocksPerWindow: 1, putWindowMs: 1 }, chainLookupsPerMinute: 4 });
    await headAtLeast(bench.chain, 3);
    const [alice] = bench.registered as [string];
    const first = await rawRequest(gateway.port, 'GET', storagePath(alice, 'gradient-0-1'), {});
    // Past the gate (its put window closed long ago): the object simply does not exist.
    expect([first.status, first.code]).toEqual([404, 'not-found']);
    const second = await rawRequest(gateway.port, 'GET', storagePath(alice, 'gradient-1-1'), {});
    expect([second.status, second.code]).toEqual([503, 'unavailable']);
    // A cached anchor costs no lookup.
    expect((await rawRequest(gateway.port, 'GET', storagePath(alice, 'gradient-0-1'), {})).status).toBe(404);
  }, 30_000);
});

describe('the gateway and hotkeys that leave the subnet', () => {
  let bench: GatewayBench;

  beforeAll(async () => {
    // A subnet of two uids without immunity: a third registration prunes one of them.
    bench = await startGatewayBench(2, { maxUidsPerSubnet: 2, immunityPeriodBlocks: 0 });
  }, 60_000);

  afterAll(async () => {
    await bench?.close();
  });

  it('deletes what a pruned hotkey stored and refuses its writes, while the others\' objects stay', async () => {
    const gateway = await bench.gateway({ departedAfterMs: 0, registrationRefreshMs: 200 });
    const [first, second] = bench.registered as [string, string];
    for (const hotkey of [first, second]) await new DevnetStorage(gateway.url, bench.keys, hotkey).put('debug-1-0', bytes(100, 1));
    await bench.chain.register(bench.stranger, GATEWAY_NETUID);
    const hotkeys = (await bench.chain.metagraph(GATEWAY_NETUID)).hotkeys;
    const pruned = [first, second].filter((h) => !hotkeys.includes(h));
    expect(pruned).toHaveLength(1);
    const kept = [first, second].find((h) => hotkeys.includes(h))!;
    const direct = new S3Endpoint({ endpoint: bench.s3.endpoint });
    const listed = (hotkey: string) => direct.list(bench.bucket, `${hotkey}/`, { credentials: S3_WRITE });
    const deadline = Date.now() + 10_000;
    while ((await listed(pruned[0]!)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await listed(pruned[0]!)).toEqual([]);
    expect((await listed(kept)).map((o) => o.key)).toEqual([`${kept}/debug-1-0`]);
    await expect(new DevnetStorage(gateway.url, bench.keys, pruned[0]).put('debug-2-0', bytes(10, 2))).rejects.toMatchObject({ code: 'not-registered' });
  }, 30_000);
});
