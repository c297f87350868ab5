import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { DevnetOwnerError, startDevnet, type RunningDevnet } from '../../src/devnet/server.ts';
import { DevnetChain, DevnetStorage, type WebSocketConstructor } from '../../src/net/devnet-client.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { HEADER_HOTKEY, HEADER_NONCE, HEADER_SHA256, HEADER_SIGNATURE, devnetRequestMessage, sha256Hex } from '../../src/net/devnet-protocol.ts';
import { BadRequestError, NotRegisteredError, OversizedError, RateLimitedError, TooEarlyError, TooLateError } from '../../src/net/errors.ts';

const signer = await KeyringSigner.fromUris([]);
const alice = signer.add('//Alice');
const bob = signer.add('//Bob');
const charlie = signer.add('//Charlie');
const dave = signer.add('//Dave');
/** `npm run devnet`'s default subnet owner: it holds the tiny preset's burn uid (1) on netuid 3. */
const owner = signer.add('//Owner');

let dir: string;
let devnet: RunningDevnet;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'devnet-test-'));
  // Netuid 1 is this devnet's run: registering there unlocks storage writes.
  devnet = await startDevnet({ dir, blockTimeMs: 100, runNetuid: 1, maxObjectBytes: 4096, maxRegistrationsPerInterval: 3, registrationIntervalBlocks: 100_000 });
});
afterAll(async () => {
  await devnet.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rawPut(path: string, body: Uint8Array, headers: Record<string, string>): Promise<Response> {
  return fetch(devnet.url + path, { method: 'PUT', headers, body: new Blob([new Uint8Array(body)]) });
}

describe('devnet coordinator (real HTTP server, real sr25519 keys)', () => {
  it('registers hotkeys to consecutive uids, idempotently, with a rate limit', async () => {
    const chain = new DevnetChain(devnet.url, signer);
    expect(await chain.register(alice, 1)).toMatchObject({ uid: 0 });
    expect(await chain.register(bob, 1)).toMatchObject({ uid: 1 });
    expect(await chain.register(alice, 1)).toMatchObject({ uid: 0 });
    expect(await chain.register(charlie, 1)).toMatchObject({ uid: 2 });
    // Three registrations in the interval: the fourth is refused.
    await expect(chain.register(dave, 1)).rejects.toThrow(RateLimitedError);
    const mg = await chain.metagraph(1);
    expect(mg.uids).toEqual([0, 1, 2]);
    expect(mg.hotkeys).toEqual([alice, bob, charlie]);
  });

  it('stores with a server timestamp and gates reads by the put window', async () => {
    const storage = new DevnetStorage(devnet.url, signer, alice);
    const data = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
    const before = Date.now();
    const info = await storage.put('gradient-7-0', data);
    const after = Date.now();
    expect(info.lastModifiedMs).toBeGreaterThanOrEqual(before);
    expect(info.lastModifiedMs).toBeLessThanOrEqual(after);
    const inside = await storage.get(alice, 'gradient-7-0', { gate: { timeMinMs: before - 1000, timeMaxMs: after + 1000 } });
    expect(Array.from(inside.data)).toEqual(Array.from(data));
    expect(inside.info.lastModifiedMs).toBe(info.lastModifiedMs);
    await expect(storage.get(alice, 'gradient-7-0', { gate: { timeMinMs: info.lastModifiedMs + 1, timeMaxMs: info.lastModifiedMs + 5000 } })).rejects.toThrow(TooEarlyError);
    await expect(storage.get(alice, 'gradient-7-0', { gate: { timeMinMs: info.lastModifiedMs - 5000, timeMaxMs: info.lastModifiedMs - 1 } })).rejects.toThrow(TooLateError);
    expect(await storage.head(alice, 'gradient-7-0')).toMatchObject({ size: 1000, lastModifiedMs: info.lastModifiedMs });
    expect(await storage.head(alice, 'gradient-8-0')).toBeUndefined();
    await storage.put('debug-7-0', Uint8Array.of(1));
    expect((await storage.list(alice, 'gradient-')).map((o) => o.key)).toEqual(['gradient-7-0']);
    await expect(storage.put('gradient-8-0', new Uint8Array(4097))).rejects.toThrow(OversizedError);
  });

  it('rejects unsigned, wrongly signed, foreign-bucket and replayed writes', async () => {
    const path = `/api/storage/${alice}/gradient-9-0`;
    const body = Uint8Array.of(1, 2, 3);
    const unsigned = await rawPut(path, body, {});
    expect(unsigned.status).toBe(403);
    expect(((await unsigned.json()) as { code: string }).code).toBe('unauthorized');

    // Bob signs a request that claims to come from Alice.
    const nonce = Date.now();
    const sha = sha256Hex(body);
    const forged = await signer.signRaw(bob, devnetRequestMessage({ method: 'PUT', path, hotkey: alice, body, nonce }));
    const wrong = await rawPut(path, body, { [HEADER_HOTKEY]: alice, [HEADER_NONCE]: String(nonce), [HEADER_SIGNATURE]: forged, [HEADER_SHA256]: sha });
    expect(wrong.status).toBe(401);

    // Bob signs correctly as himself but targets Alice's bucket.
    const bobNonce = Date.now() + 1;
    const bobSig = await signer.signRaw(bob, devnetRequestMessage({ method: 'PUT', path, hotkey: bob, body, nonce: bobNonce }));
    const foreign = await rawPut(path, body, { [HEADER_HOTKEY]: bob, [HEADER_NONCE]: String(bobNonce), [HEADER_SIGNATURE]: bobSig, [HEADER_SHA256]: sha });
    expect(foreign.status).toBe(403);

    // A valid request goes through once; sending the same bytes again is a replay.
    const okNonce = Date.now() + 2;
    const okSig = await signer.signRaw(alice, devnetRequestMessage({ method: 'PUT', path, hotkey: alice, body, nonce: okNonce }));
    const headers = { [HEADER_HOTKEY]: alice, [HEADER_NONCE]: String(okNonce), [HEADER_SIGNATURE]: okSig, [HEADER_SHA256]: sha };
    expect((await rawPut(path, body, headers)).status).toBe(200);
    const replay = await rawPut(path, body, headers);
    expect(replay.status).toBe(409);
    // The same signature moved to another key (path) does not verify.
    expect((await rawPut(`/api/storage/${alice}/gradient-10-0`, body, headers)).status).toBe(401);
    // …nor with a tampered nonce, nor with a tampered body under the signed hash.
    expect((await rawPut(path, body, { ...headers, [HEADER_NONCE]: String(okNonce + 1) })).status).toBe(401);
    const tamperNonce = Date.now() + 3;
    const tamperSig = await signer.signRaw(alice, devnetRequestMessage({ method: 'PUT', path, hotkey: alice, body, nonce: tamperNonce }));
    const tampered = await rawPut(path, Uint8Array.of(1, 2, 4), { ...headers, [HEADER_NONCE]: String(tamperNonce), [HEADER_SIGNATURE]: tamperSig });
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { message: string }).message).toMatch(/sha256/);
  });

  it('keeps commitments and weights, and refuses them from unregistered hotkeys', async () => {
    const chain = new DevnetChain(devnet.url, signer);
    const commitment = new TextEncoder().encode('endpoint=http://127.0.0.1/bucket');
    await chain.setCommitment(bob, 1, commitment);
    const commitments = await chain.commitments(1);
    expect(Array.from(commitments.get(bob)?.data ?? [])).toEqual(Array.from(commitment));
    await expect(chain.setCommitment(dave, 1, commitment)).rejects.toThrow(NotRegisteredError);

    const result = await chain.setWeights(alice, 1, [1, 2], [0.7, 0.3], 0n);
    expect(result.method).toBe('setWeights');
    const mg = await chain.metagraph(1);
    expect(mg.lastUpdate[0]).toBe(result.block);
    // Alice's u16 weights [65535, 28086] normalised: incentive of uid 1 = 65535 / 93621.
    expect(mg.incentive[1]).toBeCloseTo(65535 / (65535 + 28086), 12);
    expect(mg.incentive[0]).toBe(0);
  });

  it('answers CORS preflights for signed writes and exposes the server timestamp headers', async () => {
    const preflight = await fetch(`${devnet.url}/api/storage/${alice}/gradient-1-0`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': `${HEADER_HOTKEY}, ${HEADER_NONCE}, ${HEADER_SIGNATURE}` },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').split(',').map((h) => h.trim());
    expect(allowed).toEqual(expect.arrayContaining([HEADER_HOTKEY, HEADER_NONCE, HEADER_SIGNATURE]));
    const head = await fetch(`${devnet.url}/api/chain/head`);
    expect(head.headers.get('access-control-expose-headers')).toContain('x-gauntlet-last-modified-ms');
    expect(head.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
  });

  it('streams increasing blocks whose timestamps match blockTimestamp', async () => {
    const chain = new DevnetChain(devnet.url, signer, WebSocket as unknown as WebSocketConstructor);
    const seen: { number: number; timestampMs?: number }[] = [];
    const done = new Promise<void>((resolve) => {
      void chain.subscribeBlocks((header) => {
        seen.push(header);
        if (seen.length === 3) resolve();
      }).then((unsubscribe) => done.then(unsubscribe));
    });
    await done;
    const numbers = seen.map((h) => h.number);
    expect(numbers[1]).toBeGreaterThan(numbers[0] ?? Infinity);
    expect(numbers[2]).toBeGreaterThan(numbers[1] ?? Infinity);
    const last = seen[2];
    if (last === undefined) throw new Error('no block');
    expect(await chain.blockTimestamp(last.number)).toBe(last.timestampMs);
    expect((await chain.hyperparams(1)).blockTimeMs).toBe(100);
  });
});

const children: ChildProcess[] = [];
afterAll(() => {
  // Whatever a failed assertion left running.
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `src/devnet/main.ts` (through tsx) as a real child process and waits for its URL. */
async function spawnDevnet(stateDir: string): Promise<{ child: ChildProcess; url: string }> {
  // `node --import tsx` runs the server in this very process, so SIGKILL hits the server itself
  // (the `tsx` CLI would put it in a grandchild that outlives the kill).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/devnet/main.ts', '--dir', stateDir, '--port', '0', '--app', 'does-not-exist'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.stderr?.on('data', (chunk: Buffer) => console.error(chunk.toString()));
    child.once('exit', (code) => reject(new Error(`devnet exited early with ${code}: ${out}`)));
  });
  return { child, url };
}

describe('devnet subnet owner (the burn uid is never a volunteer\'s)', () => {
  it('holds the owner at its uid from the start, gives volunteers the free uids, and refuses a state that gave the uid away', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'devnet-owner-'));
    const owners = [{ netuid: 4, hotkey: dave, uid: 1 }];
    try {
      const first = await startDevnet({ dir: stateDir, blockTimeMs: 100, subnetOwners: owners });
      try {
        const chain = new DevnetChain(first.url, signer);
        expect(await chain.metagraph(4)).toMatchObject({ uids: [1], hotkeys: [dave] });
        expect(await chain.register(alice, 4)).toMatchObject({ uid: 0 });
        expect(await chain.register(bob, 4)).toMatchObject({ uid: 2 });
        expect(await chain.register(dave, 4)).toMatchObject({ uid: 1 });
        expect(await chain.metagraph(4)).toMatchObject({ uids: [0, 1, 2], hotkeys: [alice, dave, bob] });
        // Weights may go to the owner's uid (the burn) and to registered uids only.
        await chain.setWeights(alice, 4, [1, 2], [0.5, 0.5], 0n);
        await expect(chain.setWeights(alice, 4, [3], [1], 0n)).rejects.toThrow(BadRequestError);
        // Another subnet has no owner: uids from 0 as before.
        expect(await chain.register(charlie, 5)).toMatchObject({ uid: 0 });
      } finally {
        await first.close();
      }
      // A restart with the same owner finds it in place; naming another owner for that uid is refused.
      const second = await startDevnet({ dir: stateDir, subnetOwners: owners });
      expect((await new DevnetChain(second.url, signer).metagraph(4)).hotkeys).toEqual([alice, dave, bob]);
      await second.close();
      await expect(startDevnet({ dir: stateDir, subnetOwners: [{ netuid: 4, hotkey: charlie, uid: 1 }] })).rejects.toThrow(DevnetOwnerError);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('devnet restart (child process, SIGKILL)', () => {
  it('keeps every stored object and registration across a kill and restart', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'devnet-restart-'));
    try {
      const first = await spawnDevnet(stateDir);
      const chain = new DevnetChain(first.url, signer);
      const storage = new DevnetStorage(first.url, signer, bob);
      // The owner holds uid 1 from the start, so the second registration skips it.
      expect((await chain.metagraph(3)).hotkeys).toEqual([owner]);
      expect(await chain.register(alice, 3)).toMatchObject({ uid: 0 });
      expect(await chain.register(bob, 3)).toMatchObject({ uid: 2 });
      const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
      // Not a gradient: `npm run devnet` serves those only after their put window (window 1's closes 13 s after genesis).
      const stored = await storage.put('aggregate-1', payload);
      await chain.setCommitment(bob, 3, Uint8Array.of(9, 9));
      const exited = new Promise((r) => first.child.once('exit', r));
      first.child.kill('SIGKILL');
      await exited;
      // The first server is really gone: its port refuses connections.
      await expect(fetch(`${first.url}/api/chain/head`)).rejects.toThrow();

      const second = await spawnDevnet(stateDir);
      try {
        const chain2 = new DevnetChain(second.url, signer);
        const storage2 = new DevnetStorage(second.url, signer, bob);
        expect((await chain2.metagraph(3)).hotkeys).toEqual([alice, owner, bob]);
        const got = await storage2.get(bob, 'aggregate-1');
        expect(Array.from(got.data)).toEqual(Array.from(payload));
        expect(got.info.lastModifiedMs).toBe(stored.lastModifiedMs);
        expect(Array.from((await chain2.commitments(3)).get(bob)?.data ?? [])).toEqual([9, 9]);
        // Nonces survived too: new writes still work, and the registration stays idempotent.
        expect(await chain2.register(bob, 3)).toMatchObject({ uid: 2 });
        expect(await chain2.register(owner, 3)).toMatchObject({ uid: 1 });
      } finally {
        const exitedSecond = new Promise((r) => second.child.once('exit', r));
        second.child.kill('SIGKILL');
        await exitedSecond;
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('devnet validator permits (top-k by stake, like max_allowed_validators)', () => {
  let permitDir: string;
  let permitNet: RunningDevnet;
  beforeAll(async () => {
    permitDir = mkdtempSync(join(tmpdir(), 'devnet-permit-'));
    permitNet = await startDevnet({ dir: permitDir, blockTimeMs: 100, maxAllowedValidators: 1, minValidatorStake: 10, faucet: true });
  }, 60_000);
  afterAll(async () => {
    await permitNet.close();
    rmSync(permitDir, { recursive: true, force: true });
  });

  it('grants no permit without enough stake, then only to the top staker', async () => {
    const chain = new DevnetChain(permitNet.url, signer);
    for (const hotkey of [alice, bob, charlie]) await chain.register(hotkey, 2);
    expect((await chain.metagraph(2)).validatorPermit).toEqual([false, false, false]);
    expect(await chain.addStake(bob, 2, 5)).toMatchObject({ stake: 5 });
    // 5 is below the threshold of 10.
    expect((await chain.metagraph(2)).validatorPermit).toEqual([false, false, false]);
    await chain.addStake(bob, 2, 10);
    await chain.addStake(charlie, 2, 12);
    const mg = await chain.metagraph(2);
    expect(mg.stake).toEqual([0, 15, 12]);
    // One permit at most: bob has the most stake.
    expect(mg.validatorPermit).toEqual([false, true, false]);
    await expect(chain.addStake(alice, 2, -1)).rejects.toThrow(/positive finite/);
    await expect(chain.addStake(dave, 2, 1)).rejects.toThrow(NotRegisteredError);
  });

  it('grants every uid a permit by default', async () => {
    // Its own netuid, so the test does not lean on registrations made by other tests.
    const chain = new DevnetChain(devnet.url, signer);
    await chain.register(alice, 6);
    await chain.register(bob, 6);
    const mg = await chain.metagraph(6);
    expect(mg.validatorPermit.length).toBe(2);
    expect(mg.validatorPermit.every((p) => p)).toBe(true);
  });
});
