import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { putWindowAnchorBlock, putWindowBounds } from '../../src/core/clock.ts';
import { startDevnet, type DevnetOptions, type RunningDevnet } from '../../src/devnet/server.ts';
import { DevnetChain, DevnetStorage } from '../../src/net/devnet-client.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import {
  DEVNET_OBJECT_NAMES, HEADER_SHA256, devnetRequestMessage, devnetSignedHeaders, parseDevnetObjectKey,
} from '../../src/net/devnet-protocol.ts';
import { NotRegisteredError, RateLimitedError, TooEarlyError, UnauthorizedError } from '../../src/net/errors.ts';
import { aggregateKey, checkpointKey, debugKey, gradientKey, peerListKey, scoresKey, signatureKey, thetaKey } from '../../src/peer/gather.ts';

/**
 * The devnet coordinator against hostile traffic (issue #14): every refusal is a real HTTP request
 * to a real `startDevnet` on loopback, with real sr25519 keys. Short blocks (100 ms) and a short
 * put window keep it to seconds.
 */
const signer = await KeyringSigner.fromUris([]);
const alice = signer.add('//HostileAlice');
const bob = signer.add('//HostileBob');
const mallory = signer.add('//HostileMallory');
const validator = signer.add('//HostileValidator');
const owner = signer.add('//HostileOwner');
/** Signs the far-future nonces: after one is accepted, its own clock-based nonces are refused for a while. */
const carol = signer.add('//HostileCarol');

const RUN = 3;
const BLOCK_MS = 100;
const WINDOW = { blocksPerWindow: 10, putWindowMs: 800 } as const;

const dirs: string[] = [];
const nets: RunningDevnet[] = [];
async function devnet(options: Omit<DevnetOptions, 'dir'>): Promise<RunningDevnet> {
  const dir = mkdtempSync(join(tmpdir(), 'devnet-hostile-'));
  dirs.push(dir);
  const net = await startDevnet({ dir, blockTimeMs: BLOCK_MS, ...options });
  nets.push(net);
  return net;
}
afterAll(async () => {
  for (const net of nets) await net.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    return { status: response.status, ...(body.code === undefined ? {} : { code: body.code }), ...(body.message === undefined ? {} : { message: body.message }) };
  } catch {
    return { status: response.status };
  }
}

let nonceClock = 0;
/** A signed request as the client makes it, with parts the test may falsify. */
async function signed(net: RunningDevnet, method: string, path: string, body: Uint8Array, as: string, tweak: { nonce?: number; signWith?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const nonce = tweak.nonce ?? (nonceClock = Math.max(Date.now(), nonceClock + 1));
  const signature = await signer.signRaw(tweak.signWith ?? as, devnetRequestMessage({ method, path, hotkey: as, body, nonce }));
  const headers = { ...devnetSignedHeaders(as, nonce, signature, body), ...tweak.headers };
  return answer(await fetch(net.url + path, { method, headers, body: new Blob([new Uint8Array(body)]) }));
}

const storagePath = (bucket: string, key: string): string => `/api/storage/${bucket}/${encodeURIComponent(key)}`;

/** A raw HTTP/1.1 request line and headers, for what fetch refuses to send. */
function raw(net: RunningDevnet, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(net.port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (chunk: Buffer) => (out += chunk.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

describe('devnet storage refuses before reading the body', () => {
  let net: RunningDevnet;
  let chain: DevnetChain;
  beforeAll(async () => {
    net = await devnet({ runNetuid: RUN, window: WINDOW, maxObjectBytes: 1 << 20, maxBucketBytes: 64 * 1024 });
    chain = new DevnetChain(net.url, signer);
    await chain.register(alice, RUN);
    await chain.register(bob, RUN);
    await chain.register(carol, RUN);
    // Mallory is registered, but on another subnet only: that does not unlock storage.
    await chain.register(mallory, 9);
  });

  it('unsigned PUT: 403 unauthorized, the 8 MiB body never read', async () => {
    const started = Date.now();
    const refused = await answer(await fetch(net.url + storagePath(alice, 'gradient-1-0'), { method: 'PUT', body: new Uint8Array(8 << 20) }));
    expect(refused).toMatchObject({ status: 403, code: 'unauthorized' });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(net.objects.info(alice, 'gradient-1-0')).toBeUndefined();
  });

  it('fake signature: 401 bad-signature, checked from the headers', async () => {
    const body = Uint8Array.of(1, 2, 3);
    // Signed by Mallory, claiming Alice's hotkey and bucket.
    expect(await signed(net, 'PUT', storagePath(alice, 'gradient-1-0'), body, alice, { signWith: mallory })).toMatchObject({ status: 401, code: 'bad-signature' });
    // Garbage that is not even a signature.
    const junk = await fetch(net.url + storagePath(alice, 'gradient-1-0'), { method: 'PUT', body, headers: { ...devnetSignedHeaders(alice, Date.now(), '0x1234', body) } });
    expect((await answer(junk)).status).toBe(401);
    // A valid signature over another body hash than the one declared.
    expect(await signed(net, 'PUT', storagePath(alice, 'gradient-1-0'), body, alice, { headers: { [HEADER_SHA256]: '00'.repeat(32) } })).toMatchObject({ status: 401 });
  });

  it('wrong bucket: 403 unauthorized', async () => {
    expect(await signed(net, 'PUT', storagePath(alice, 'gradient-1-1'), Uint8Array.of(1), bob)).toMatchObject({ status: 403, code: 'unauthorized' });
  });

  it('unregistered hotkey, or one registered only on another subnet: 403 not-registered', async () => {
    const stranger = signer.add('//HostileStranger');
    expect(await signed(net, 'PUT', storagePath(stranger, 'gradient-1-0'), Uint8Array.of(1), stranger)).toMatchObject({ status: 403, code: 'not-registered' });
    expect(await signed(net, 'PUT', storagePath(mallory, 'gradient-1-0'), Uint8Array.of(1), mallory)).toMatchObject({ status: 403, code: 'not-registered' });
    await expect(new DevnetStorage(net.url, signer, mallory).put('gradient-1-0', Uint8Array.of(1))).rejects.toThrow(NotRegisteredError);
    // Refusals record no nonce for a stranger.
    expect(net.state.state.lastNonce[stranger]).toBeUndefined();
  });

  it('keys outside the allowlist: 400; every name the peers use, and its .sig, is stored', async () => {
    for (const key of ['big', 'gradient-01-0', 'gradient-1', 'gradient-1-0.sig.sig', 'checkpoint-x', 'a/b', '../state.json', 'run2']) {
      expect(await signed(net, 'PUT', storagePath(alice, key), Uint8Array.of(1), alice), key).toMatchObject({ status: 400, code: 'bad-request' });
    }
    for (const key of [gradientKey(7, 3), signatureKey(7, 3), debugKey(7, 3), peerListKey(8), aggregateKey(7), checkpointKey(20), scoresKey(7), thetaKey(7), 'run', 'run.sig', `${aggregateKey(7)}.sig`, `${checkpointKey(20)}.sig`, `${peerListKey(8)}.sig`]) {
      expect(parseDevnetObjectKey(key), key).toBeDefined();
    }
    expect(DEVNET_OBJECT_NAMES.map((n) => n.family)).toEqual(expect.arrayContaining(['gradient', 'debug', 'peers', 'aggregate', 'checkpoint', 'scores', 'run']));
    expect(await signed(net, 'PUT', storagePath(alice, 'run.sig'), Uint8Array.of(1), alice)).toMatchObject({ status: 200 });
  });

  it('oversized: 413 from the Content-Length alone; no length (chunked): 411', async () => {
    expect(await signed(net, 'PUT', storagePath(alice, 'gradient-2-0'), new Uint8Array((1 << 20) + 1), alice)).toMatchObject({ status: 413, code: 'oversized' });
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(net.url + storagePath(alice, 'gradient-2-0'), { method: 'PUT', headers: devnetSignedHeaders(alice, Date.now(), `0x${'11'.repeat(64)}`, Uint8Array.of(1)) });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('x');
      req.end();
    });
    // Unsigned-equivalent (the signature is junk) is refused first; with a real signature the missing length is 411.
    expect([401, 411]).toContain(chunked);
    const path = storagePath(alice, 'gradient-2-0');
    const body = Uint8Array.of(1);
    const nonce = Date.now() + 1;
    const signature = await signer.signRaw(alice, devnetRequestMessage({ method: 'PUT', path, hotkey: alice, body, nonce }));
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(net.url + path, { method: 'PUT', headers: devnetSignedHeaders(alice, nonce, signature, body) });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(body);
      req.end();
    });
    expect(status).toBe(411);
  });

  it('over quota: 413 once the bucket is full; each family keeps its newest windows', async () => {
    const storage = new DevnetStorage(net.url, signer, bob);
    // 16 windows of gradients kept: storing window 20 after 1…19 leaves 5…20.
    for (let w = 1; w <= 20; w++) await storage.put(gradientKey(w, 1), Uint8Array.of(w));
    const kept = (await storage.list(bob, 'gradient-')).map((o) => Number(o.key.split('-')[1])).sort((a, b) => a - b);
    expect(kept).toEqual(Array.from({ length: 16 }, (_, i) => i + 5));
    // …and window 4 is older than all it keeps: refused.
    expect(await signed(net, 'PUT', storagePath(bob, gradientKey(4, 1)), Uint8Array.of(1), bob)).toMatchObject({ status: 400 });
  });

  it('over quota: objects and bytes per bucket', async () => {
    const quota = await devnet({ runNetuid: RUN, maxBucketObjects: 3, maxBucketBytes: 10_000 });
    const qchain = new DevnetChain(quota.url, signer);
    await qchain.register(alice, RUN);
    const storage = new DevnetStorage(quota.url, signer, alice);
    await storage.put('scores-1', Uint8Array.of(1));
    await storage.put('scores-2', Uint8Array.of(1));
    await storage.put('scores-3', Uint8Array.of(1));
    const full = await signed(quota, 'PUT', storagePath(alice, 'scores-4'), Uint8Array.of(1), alice);
    expect(full).toMatchObject({ status: 413, code: 'oversized' });
    expect(full.message).toMatch(/quota of 3 objects/);
    // Overwriting an object it holds fits.
    await storage.put('scores-3', new Uint8Array(9_000));
    const bytes = await signed(quota, 'PUT', storagePath(alice, 'scores-2'), new Uint8Array(2_000), alice);
    expect(bytes).toMatchObject({ status: 413 });
    expect(bytes.message).toMatch(/quota of 10000 bytes/);
  });

  it('malformed %-escapes and other malformed input: 400, never 5xx', async () => {
    for (const path of ['/api/storage/%E0%A4%A', `/api/storage/${alice}/%ZZ`, '/api/chain/%/metagraph', '/%E0%A4%A', '/api/chain/99999999/metagraph', '/api/chain/1e3/metagraph', '/api/chain/blocks/-1/timestamp', '/api/storage/not-an-address/run']) {
      const a = await answer(await fetch(net.url + path));
      expect(a.status, path).toBeGreaterThanOrEqual(400);
      expect(a.status, path).toBeLessThan(500);
    }
    expect((await fetch(`${net.url}/api/storage/${alice}/%ZZ`)).status).toBe(400);
    // A JSON body that is not an object, a body that is not JSON.
    expect(await signed(net, 'POST', `/api/chain/${RUN}/weights`, new TextEncoder().encode('null'), alice)).toMatchObject({ status: 400 });
    expect(await signed(net, 'POST', `/api/chain/${RUN}/weights`, new TextEncoder().encode('{"uids":'), alice)).toMatchObject({ status: 400 });
    // Absolute-form and broken request targets at the HTTP level.
    expect(await raw(net, 'GET http://[::1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 4\d\d/);
    expect(await raw(net, 'GET /api/chain/head HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 4\d\d/);
  });

  it('nonces: at most a few seconds in the future; replays refused', async () => {
    const path = `/api/chain/${RUN}/commitment`;
    const body = Uint8Array.of(7);
    expect(await signed(net, 'POST', path, body, carol, { nonce: Date.now() + 59_000 })).toMatchObject({ status: 409, code: 'replayed' });
    expect(await signed(net, 'POST', path, body, carol, { nonce: Date.now() - 120_000 })).toMatchObject({ status: 409, code: 'replayed' });
    const nonce = Date.now() + 2_000;
    expect(await signed(net, 'POST', path, body, carol, { nonce })).toMatchObject({ status: 200 });
    expect(await signed(net, 'POST', path, body, carol, { nonce })).toMatchObject({ status: 409 });
  });

  it('reads create nothing: GET of an unknown netuid, refused registrations and refused writes leave state.json untouched', async () => {
    const statePath = join(dirs[0]!, 'state.json');
    const before = readFileSync(statePath, 'utf8');
    const mtime = statSync(statePath).mtimeMs;
    const subnets = Object.keys(net.state.state.subnets).length;
    for (let netuid = 1000; netuid < 1050; netuid++) {
      const mg = await chain.metagraph(netuid);
      expect(mg.uids).toEqual([]);
      expect((await chain.commitments(netuid)).size).toBe(0);
      expect(await chain.runValidators(netuid)).toEqual([]);
      await chain.hyperparams(netuid);
    }
    // Weights from an unregistered hotkey, a stake with the faucet off, a forged write.
    await expect(chain.setWeights(signer.add('//HostileNobody'), RUN, [0], [1], 0n)).rejects.toThrow(NotRegisteredError);
    await expect(chain.addStake(alice, RUN, 5)).rejects.toThrow(UnauthorizedError);
    await signed(net, 'PUT', storagePath(alice, 'gradient-3-0'), Uint8Array.of(1), alice, { signWith: mallory });
    expect(Object.keys(net.state.state.subnets).length).toBe(subnets);
    expect(readFileSync(statePath, 'utf8')).toBe(before);
    expect(statSync(statePath).mtimeMs).toBe(mtime);
  });

  it('the faucet is off by default', async () => {
    const refused = await signed(net, 'POST', `/api/chain/${RUN}/stake`, new TextEncoder().encode('{"amount":5}'), alice);
    expect(refused).toMatchObject({ status: 403, code: 'unauthorized' });
    expect(refused.message).toMatch(/--faucet/);
  });

  it('early read of another peer\'s gradient: 425 too-early until the put window closes, then served; HEAD answers meanwhile', async () => {
    const head = await chain.currentBlock();
    // The window now running: its put window opens with the next window and lasts 800 ms.
    const w = Math.floor(head.number / WINDOW.blocksPerWindow);
    const gate = putWindowBounds(await chain.blockTimestamp(0) + putWindowAnchorBlock(w, WINDOW.blocksPerWindow) * BLOCK_MS, WINDOW.putWindowMs);
    await new Promise((r) => setTimeout(r, gate.timeMinMs - Date.now() + 5));
    const storage = new DevnetStorage(net.url, signer, alice);
    const info = await storage.put(gradientKey(w, 0), Uint8Array.of(1, 2, 3));
    await storage.put(signatureKey(w, 0), Uint8Array.of(9));
    const reader = new DevnetStorage(net.url, undefined, undefined);
    expect(Date.now()).toBeLessThanOrEqual(gate.timeMaxMs);
    await expect(reader.get(alice, gradientKey(w, 0))).rejects.toThrow(TooEarlyError);
    await expect(reader.get(alice, signatureKey(w, 0))).rejects.toThrow(TooEarlyError);
    const early = await answer(await fetch(net.url + storagePath(alice, gradientKey(w, 0))));
    expect(early).toMatchObject({ status: 425, code: 'too-early' });
    expect(await reader.head(alice, gradientKey(w, 0))).toMatchObject({ size: 3, lastModifiedMs: info.lastModifiedMs });
    expect((await reader.list(alice, 'gradient-')).some((o) => o.key === gradientKey(w, 0))).toBe(true);
    // Other families are not gated.
    await storage.put(debugKey(w, 0), Uint8Array.of(5));
    expect(Array.from((await reader.get(alice, debugKey(w, 0))).data)).toEqual([5]);
    await new Promise((r) => setTimeout(r, gate.timeMaxMs - Date.now() + 20));
    const got = await reader.get(alice, gradientKey(w, 0), { gate });
    expect(Array.from(got.data)).toEqual([1, 2, 3]);
  });
});

describe('devnet uploads in flight', () => {
  it('caps the bytes being received across uploads: 503 with Retry-After while full, accepted once the first finishes', async () => {
    const net = await devnet({ runNetuid: RUN, maxBytesInFlight: 3_000, maxObjectBytes: 4_096 });
    await new DevnetChain(net.url, signer).register(alice, RUN);
    // A slow, honest upload of 2 000 bytes: half its body sent, the rest held back.
    const path = storagePath(alice, 'aggregate-1');
    const body = new Uint8Array(2_000).fill(4);
    const nonce = Date.now();
    const signature = await signer.signRaw(alice, devnetRequestMessage({ method: 'PUT', path, hotkey: alice, body, nonce }));
    let finish: () => void = () => {};
    const slow = new Promise<number>((resolve, reject) => {
      const req = request(net.url + path, { method: 'PUT', headers: { ...devnetSignedHeaders(alice, nonce, signature, body), 'content-length': String(body.length) } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(body.subarray(0, 1_000));
      finish = () => req.end(body.subarray(1_000));
    });
    await new Promise((r) => setTimeout(r, 200));
    const second = storagePath(alice, 'aggregate-2');
    const secondNonce = nonce + 1;
    const secondSignature = await signer.signRaw(alice, devnetRequestMessage({ method: 'PUT', path: second, hotkey: alice, body, nonce: secondNonce }));
    const full = await fetch(net.url + second, { method: 'PUT', headers: devnetSignedHeaders(alice, secondNonce, secondSignature, body), body });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('1');
    expect((await answer(full)).code).toBe('unavailable');
    finish();
    expect(await slow).toBe(200);
    expect(net.objects.info(alice, 'aggregate-1')?.size).toBe(2_000);
    await new DevnetStorage(net.url, signer, alice).put('aggregate-2', body);
  });
});

describe('devnet chain refusals', () => {
  it('weights only from a validator permit; stake clamped to a finite maximum', async () => {
    const net = await devnet({ runNetuid: RUN, maxAllowedValidators: 1, minValidatorStake: 1, faucet: true });
    const chain = new DevnetChain(net.url, signer);
    await chain.register(alice, RUN);
    await chain.register(validator, RUN);
    await expect(chain.setWeights(validator, RUN, [0], [1], 0n)).rejects.toThrow(UnauthorizedError);
    await chain.addStake(validator, RUN, 10);
    await chain.setWeights(validator, RUN, [0], [1], 0n);
    await expect(chain.setWeights(alice, RUN, [1], [1], 0n)).rejects.toThrow(/no validator permit/);
    const huge = await chain.addStake(validator, RUN, Number.MAX_VALUE);
    const more = await chain.addStake(validator, RUN, Number.MAX_VALUE);
    expect(Number.isFinite(huge.stake)).toBe(true);
    expect(more.stake).toBe(huge.stake);
  });

  it('serves the run validators the operator named, and only on the run netuid', async () => {
    const net = await devnet({ runNetuid: RUN, runValidators: [validator] });
    const chain = new DevnetChain(net.url, signer);
    expect(await chain.runValidators(RUN)).toEqual([validator]);
    expect(await chain.runValidators(RUN + 1)).toEqual([]);
    await expect(devnet({ runValidators: ['not-ss58'] })).rejects.toThrow(/SS58/);
  });

  it('registration flood: a full subnet prunes the lowest-incentive uid past its immunity, never the owner; honest registration is never locked out', async () => {
    const IMMUNITY = 8;
    const net = await devnet({
      runNetuid: RUN, maxUidsPerSubnet: 5, immunityPeriodBlocks: IMMUNITY, maxRegistrationsPerInterval: 1000, maxRegistrationsPerIntervalTotal: 1000,
      runValidators: [validator], subnetOwners: [{ netuid: RUN, hotkey: owner, uid: 1 }],
    });
    const chain = new DevnetChain(net.url, signer);
    await chain.register(validator, RUN);
    const sybils = Array.from({ length: 12 }, (_, i) => signer.add(`//Sybil${i}`));
    // Owner + validator + 3 sybils fill the 5 uids; the other sybils are refused while all are immune.
    const accepted: string[] = [];
    for (const s of sybils) {
      try {
        await chain.register(s, RUN);
        accepted.push(s);
      } catch (error) {
        expect(error).toBeInstanceOf(RateLimitedError);
        expect((error as Error).message).toMatch(/immunity/);
      }
    }
    expect(accepted.length).toBe(3);
    await expect(chain.register(alice, RUN)).rejects.toThrow(/immunity/);
    const sybilStorage = new DevnetStorage(net.url, signer, accepted[0]);
    await sybilStorage.put('scores-1', Uint8Array.of(1));
    // Once their immunity ends, honest registration takes the oldest zero-incentive sybil's uid.
    await new Promise((r) => setTimeout(r, (IMMUNITY + 2) * BLOCK_MS));
    const honest = await chain.register(alice, RUN);
    let mg = await chain.metagraph(RUN);
    expect(mg.hotkeys).toContain(alice);
    expect(mg.hotkeys).toContain(owner);
    expect(mg.hotkeys).toContain(validator);
    expect(mg.hotkeys).not.toContain(accepted[0]);
    expect(mg.hotkeys[mg.uids.indexOf(1)]).toBe(owner);
    // The pruned sybil lost its bucket and its write access.
    expect(net.objects.usage(accepted[0])).toBe(0);
    await expect(sybilStorage.put('scores-2', Uint8Array.of(1))).rejects.toThrow(NotRegisteredError);
    // The validator pays the honest peer: after its immunity, sybils displace each other, not it.
    await chain.setWeights(validator, RUN, [honest.uid], [1], 0n);
    await new Promise((r) => setTimeout(r, (IMMUNITY + 2) * BLOCK_MS));
    for (const s of sybils.slice(3, 7)) {
      await chain.register(s, RUN).catch(() => undefined);
      await new Promise((r) => setTimeout(r, (IMMUNITY + 1) * BLOCK_MS));
    }
    mg = await chain.metagraph(RUN);
    expect(mg.hotkeys).toContain(alice);
    expect(mg.hotkeys).toContain(owner);
    expect(mg.hotkeys).toContain(validator);
    expect(mg.uids.length).toBe(5);
  });

  it('registration caps across subnets: per interval in total, and a bounded number of subnets', async () => {
    const net = await devnet({ runNetuid: RUN, maxRegistrationsPerIntervalTotal: 4, registrationIntervalBlocks: 100_000, maxSubnets: 3 });
    const chain = new DevnetChain(net.url, signer);
    const keys = Array.from({ length: 6 }, (_, i) => signer.add(`//Flood${i}`));
    await chain.register(keys[0]!, 10);
    await chain.register(keys[1]!, 11);
    await chain.register(keys[2]!, 12);
    // A fourth subnet is not created.
    await expect(chain.register(keys[3]!, 13)).rejects.toThrow(/subnets/);
    await chain.register(keys[3]!, 10);
    // Four registrations in the interval across subnets: the fifth is refused wherever it goes.
    await expect(chain.register(keys[4]!, 11)).rejects.toThrow(/across its subnets/);
    expect(Object.keys(net.state.state.subnets).sort()).toEqual(['10', '11', '12']);
    // Nonces are kept for registered hotkeys only.
    expect(Object.keys(net.state.state.lastNonce).sort()).toEqual(keys.slice(0, 4).sort());
  });
});

describe('devnet WebSocket and connection caps', () => {
  it('closes a socket that sends an oversized message, refuses sockets past the cap, and keeps serving', async () => {
    const net = await devnet({ maxWebSockets: 2 });
    const url = net.url.replace(/^http/, 'ws') + '/api/chain/ws';
    const open = (): Promise<WebSocket> => new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
    const first = await open();
    const closed = new Promise<number>((resolve) => first.once('close', (code) => resolve(code)));
    first.send(new Uint8Array(64 * 1024));
    expect(await closed).toBe(1009);
    const a = await open();
    const b = await open();
    await expect(open()).rejects.toThrow(/503/);
    a.close();
    b.close();
    expect((await fetch(`${net.url}/api/chain/head`)).status).toBe(200);
  });
});
