/**
 * The in-memory network keeps the semantics the loops rely on: server timestamps from the store's
 * clock, the put-window time gate on reads, owner-only writes, size caps, uids in registration
 * order, blocks stamped by the clock, and validator-only weight setting with u16 max-upscaling.
 */
import { describe, expect, it } from 'vitest';
import {
  ChainError, NotFoundError, NotRegisteredError, OversizedError, TooEarlyError, TooLateError, UnauthorizedError,
} from '../../src/net/errors';
import { MemoryNetwork } from '../../src/net/memory-network';

function network(start = 1_000_000): { net: MemoryNetwork; clock: { now: number } } {
  const clock = { now: start };
  const net = new MemoryNetwork({
    netuid: 3,
    clock: () => clock.now,
    hyperparams: { tempo: 360, commitRevealEnabled: false, revealPeriodEpochs: 1, weightsRateLimit: 0, weightsVersionKey: 7n, minAllowedWeights: 1, blockTimeMs: 1000 },
    maxObjectBytes: 1000,
  });
  return { net, clock };
}

describe('MemoryNetwork storage', () => {
  it('stamps objects with the store clock and applies the time gate with inclusive bounds', async () => {
    const { net, clock } = network();
    net.register({ hotkey: 'alice' });
    const alice = net.storage('alice');
    clock.now = 5000;
    const info = await alice.put('gradient-1-0', new Uint8Array([1, 2, 3]));
    expect(info).toMatchObject({ bucket: 'alice', key: 'gradient-1-0', size: 3, lastModifiedMs: 5000 });
    const reader = net.storage();
    await expect(reader.get('alice', 'gradient-1-0', { gate: { timeMinMs: 5000, timeMaxMs: 5000 } })).resolves.toMatchObject({ data: new Uint8Array([1, 2, 3]) });
    await expect(reader.get('alice', 'gradient-1-0', { gate: { timeMinMs: 5001, timeMaxMs: 9000 } })).rejects.toBeInstanceOf(TooEarlyError);
    await expect(reader.get('alice', 'gradient-1-0', { gate: { timeMinMs: 1000, timeMaxMs: 4999 } })).rejects.toBeInstanceOf(TooLateError);
    // An overwrite gets a new server time: re-uploading late cannot keep the early stamp.
    clock.now = 9001;
    await alice.put('gradient-1-0', new Uint8Array([4]));
    await expect(reader.get('alice', 'gradient-1-0', { gate: { timeMinMs: 5000, timeMaxMs: 9000 } })).rejects.toBeInstanceOf(TooLateError);
  });

  it('lets only the owner write its bucket', async () => {
    const { net } = network();
    net.register({ hotkey: 'alice' });
    net.register({ hotkey: 'bob' });
    await net.storage('alice').put('k', new Uint8Array([1]));
    await net.storage('bob').put('k', new Uint8Array([2]));
    expect((await net.storage().get('alice', 'k')).data).toEqual(new Uint8Array([1]));
    expect((await net.storage().get('bob', 'k')).data).toEqual(new Uint8Array([2]));
    await expect(net.storage().put('k', new Uint8Array([3]))).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(net.storage('mallory').put('k', new Uint8Array([3]))).rejects.toBeInstanceOf(NotRegisteredError);
    expect(await net.storage().list('mallory')).toEqual([]);
  });

  it('caps sizes on put and on get, and reports missing objects', async () => {
    const { net } = network();
    net.register({ hotkey: 'alice' });
    const alice = net.storage('alice');
    await expect(alice.put('big', new Uint8Array(1001))).rejects.toBeInstanceOf(OversizedError);
    await alice.put('mid', new Uint8Array(100));
    await expect(alice.get('alice', 'mid', { maxBytes: 99 })).rejects.toBeInstanceOf(OversizedError);
    await expect(alice.get('alice', 'nothing')).rejects.toBeInstanceOf(NotFoundError);
    expect(await alice.head('alice', 'nothing')).toBeUndefined();
    expect((await alice.head('alice', 'mid'))?.size).toBe(100);
  });

  it('lists a bucket by prefix in key order', async () => {
    const { net } = network();
    net.register({ hotkey: 'alice' });
    const alice = net.storage('alice');
    for (const key of ['peers-9', 'debug-1-2', 'peers-10', 'peers-2']) await alice.put(key, new Uint8Array([0]));
    expect((await alice.list('alice', 'peers-')).map((i) => i.key)).toEqual(['peers-10', 'peers-2', 'peers-9']);
  });

  it('returns copies, so a caller cannot change stored bytes', async () => {
    const { net } = network();
    net.register({ hotkey: 'alice' });
    const data = new Uint8Array([1, 2]);
    await net.storage('alice').put('k', data);
    data[0] = 9;
    const got = await net.storage().get('alice', 'k');
    got.data[1] = 9;
    expect((await net.storage().get('alice', 'k')).data).toEqual(new Uint8Array([1, 2]));
  });
});

describe('MemoryNetwork chain', () => {
  it('hands out uids in registration order and lists them in the metagraph', async () => {
    const { net } = network();
    expect(net.register({ hotkey: 'v', stake: 10 })).toBe(0);
    expect(net.register({ hotkey: 'a' })).toBe(1);
    expect(net.register({ hotkey: 'v' })).toBe(0);
    const mg = await net.chain().metagraph(3);
    expect(mg.uids).toEqual([0, 1]);
    expect(mg.hotkeys).toEqual(['v', 'a']);
    expect(mg.validatorPermit).toEqual([true, false]);
    await expect(net.chain().metagraph(4)).rejects.toBeInstanceOf(ChainError);
  });

  it('stamps blocks with the clock, never backwards, and notifies subscribers until unsubscribed', async () => {
    const { net, clock } = network(1000);
    const chain = net.chain();
    const seen: number[] = [];
    const unsubscribe = await chain.subscribeBlocks((h) => seen.push(h.number));
    clock.now = 2000;
    net.produceBlock();
    clock.now = 1500; // a clock going backwards cannot produce an older block
    net.produceBlock();
    unsubscribe();
    net.produceBlock();
    expect(seen).toEqual([1, 2]);
    expect(await chain.blockTimestamp(0)).toBe(1000);
    expect(await chain.blockTimestamp(1)).toBe(2000);
    expect(await chain.blockTimestamp(2)).toBe(2000);
    await expect(chain.blockTimestamp(4)).rejects.toBeInstanceOf(ChainError);
    expect((await chain.currentBlock()).number).toBe(3);
  });

  it('accepts weights only from a validator and stores them max-upscaled to u16', async () => {
    const { net } = network();
    net.register({ hotkey: 'v', stake: 10 });
    net.register({ hotkey: 'a' });
    net.register({ hotkey: 'b' });
    const chain = net.chain();
    await expect(chain.setWeights('a', 3, [1], [1], 7n)).rejects.toBeInstanceOf(ChainError);
    await expect(chain.setWeights('nobody', 3, [1], [1], 7n)).rejects.toBeInstanceOf(NotRegisteredError);
    await expect(chain.setWeights('v', 3, [5], [1], 7n)).rejects.toBeInstanceOf(ChainError);
    await chain.setWeights('v', 3, [1, 2], [0.25, 0.5], 7n);
    // 0.25 / 0.5 · 65535 = 32767.5 → 32768 (round half up); the max becomes 65535.
    expect(net.weightsOf('v')).toMatchObject({ uids: [1, 2], values: [32768, 65535], versionKey: 7n });
    const mg = await chain.metagraph(3);
    expect(mg.incentive[1]).toBeCloseTo(32768 / (32768 + 65535), 12);
    expect(mg.incentive[2]).toBeCloseTo(65535 / (32768 + 65535), 12);
  });
});
