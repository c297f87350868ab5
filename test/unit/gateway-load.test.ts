import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyUploadTime, putWindowAnchorBlock, putWindowBounds } from '../../src/core/clock.ts';
import { DevnetStorage } from '../../src/net/devnet-client.ts';
import { devnetSignedHeaders } from '../../src/net/devnet-protocol.ts';
import { NetError } from '../../src/net/errors.ts';
import type { ObjectInfo } from '../../src/net/types.ts';
import { bigUpload, Tally } from '../bench/devnet-load.ts';
import { headAtLeast, rawRequest, signedPutHeaders, startGatewayBench, storagePath, type GatewayBench } from './gateway-harness.ts';

/**
 * Bounded load test of the storage gateway on loopback (issue #21): 16 honest peers upload their
 * window's submission (gradient and signature) while an attacker floods the gateway with every
 * kind of request it refuses, and a registered attacker fills its own allowance. Asserted:
 * - every honest upload is stamped inside its put window (read by the chain's block timestamps);
 * - no answer to the attacker is a 5xx other than the in-flight cap's 503 "busy, retry";
 * - memory: the upload bodies the gateway holds never exceed its `maxBytesInFlight` (sampled every
 *   few ms), and this process's RSS, attacker included, grows by less than `MAX_RSS_GROWTH_MIB`.
 *   (the 4 MiB bodies a stranger claims are refused from their headers and never read).
 */
const HONEST_PEERS = 16;
const PUT_WINDOW_MS = 15_000;
const MAX_OBJECT_BYTES = 4 * 1024 * 1024;
const MAX_BYTES_IN_FLIGHT = 12 * 1024 * 1024;
const MAX_RSS_GROWTH_MIB = 300;
describe('the storage gateway under a flood (loopback)', () => {
  let bench: GatewayBench;

  beforeAll(async () => {
    bench = await startGatewayBench(HONEST_PEERS + 1);
  }, 120_000);

  afterAll(async () => {
    await bench?.close();
  });

  it('lands 16 honest submissions inside their put window while an attacker floods it, holding at most its in-flight bytes', async () => {
    const gateway = await bench.gateway({
      window: { blocksPerWindow: 1, putWindowMs: PUT_WINDOW_MS }, maxObjectBytes: MAX_OBJECT_BYTES, maxBytesInFlight: MAX_BYTES_IN_FLIGHT, writesPerMinute: 120,
    });
    const honest = bench.registered.slice(0, HONEST_PEERS);
    const attacker = bench.registered[HONEST_PEERS]!;
    const head = await headAtLeast(bench.chain, 2);
    const window = head.number - 1;
    const bounds = putWindowBounds(await bench.chain.blockTimestamp(putWindowAnchorBlock(window, 1)), PUT_WINDOW_MS);

    let peakInFlight = 0;
    let peakRss = process.memoryUsage().rss;
    const rssBefore = peakRss;
    const sampler = setInterval(() => {
      peakInFlight = Math.max(peakInFlight, gateway.bytesInFlight());
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 5);

    const tally = new Tally();
    const count = (status: number): void => tally.status(status);
    let attacking = true;
    const MIN_ROUNDS = 3;
    const flood = async (lane: number): Promise<void> => {
      const victim = honest[0]!;
      for (let r = 0; attacking || r < MIN_ROUNDS; r++) {
        const round = lane * 1000 + r;
        const junk = new Uint8Array(64);
        const jobs: Promise<unknown>[] = [];
        // Unsigned, forged (a well-formed signature by nobody), an unknown name, and a stranger's claimed 8 MiB bodies.
        jobs.push(rawRequest(gateway.port, 'PUT', storagePath(victim, `gradient-${window}-0`), {}, junk).then((a) => count(a.status), () => count(0)));
        const forged = devnetSignedHeaders(victim, Date.now(), `0x${'ab'.repeat(64)}`, junk);
        jobs.push(rawRequest(gateway.port, 'PUT', storagePath(victim, `gradient-${window}-0`), forged, junk).then((a) => count(a.status), () => count(0)));
        const evilPath = storagePath(attacker, 'evil.bin');
        jobs.push(rawRequest(gateway.port, 'PUT', evilPath, await signedPutHeaders(bench.keys, attacker, evilPath, junk), junk).then((a) => count(a.status), () => count(0)));
        const strangerPath = storagePath(bench.stranger, `checkpoint-${round}`);
        jobs.push(bigUpload(gateway.port, strangerPath, await signedPutHeaders(bench.keys, bench.stranger, strangerPath, junk), MAX_OBJECT_BYTES, tally));
        // The registered attacker: real 3 MiB bodies at its allowance (uploads per hotkey, in-flight bytes, rate).
        for (let i = 0; i < 3; i++) {
          const big = new Uint8Array(3 * 1024 * 1024);
          const path = storagePath(attacker, `checkpoint-${round * 3 + i}`);
          jobs.push(rawRequest(gateway.port, 'PUT', path, await signedPutHeaders(bench.keys, attacker, path, big), big).then((a) => count(a.status), () => count(0)));
        }
        await Promise.all(jobs);
      }
    };
    // Four concurrent lanes, each at least MIN_ROUNDS rounds, and on until every honest upload is in.
    const attack = Promise.all([0, 1, 2, 3].map((lane) => flood(lane)));

    // The honest peers, all at once, each with the miner's retry on "busy" (src/peer/upload-retry.ts does the same).
    await new Promise((r) => setTimeout(r, 300));
    const uploads = await Promise.all(honest.map(async (hotkey, uid): Promise<ObjectInfo[]> => {
      const storage = new DevnetStorage(gateway.url, bench.keys, hotkey);
      const out: ObjectInfo[] = [];
      for (const [key, bytes] of [[`gradient-${window}-${uid}`, 6145], [`gradient-${window}-${uid}.sig`, 130]] as const) {
        for (let attempt = 0; ; attempt++) {
          try {
            out.push(await storage.put(key, new Uint8Array(bytes).fill(uid)));
            break;
          } catch (error) {
            if (!(error instanceof NetError && error.code === 'unavailable') || attempt >= 20) throw error;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      }
      return out;
    }));
    attacking = false;
    await attack;
    clearInterval(sampler);

    const stamped = uploads.flat();
    expect(stamped).toHaveLength(2 * HONEST_PEERS);
    expect(stamped.filter((u) => classifyUploadTime(u.lastModifiedMs, bounds) !== 'on-time')).toEqual([]);
    const statuses = new Map(Object.entries(tally.statuses).map(([status, n]) => [Number(status), n]));
    const fiveXX = [...statuses].filter(([status]) => status >= 500 && status !== 503);
    expect(fiveXX).toEqual([]);
    // The flood really ran, and each kind of refusal came back.
    expect(statuses.get(403) ?? 0).toBeGreaterThan(0);
    expect((statuses.get(401) ?? 0) + (statuses.get(429) ?? 0)).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    // The registered attacker ran into its per-hotkey limits (uploads at once / in-flight bytes: 503; rate: 429).
    expect((statuses.get(503) ?? 0) + (statuses.get(429) ?? 0)).toBeGreaterThan(0);
    expect(peakInFlight).toBeLessThanOrEqual(MAX_BYTES_IN_FLIGHT);
    expect((peakRss - rssBefore) / 2 ** 20).toBeLessThan(MAX_RSS_GROWTH_MIB);
    console.log(`gateway load: ${stamped.length} honest objects on time; attacker answers ${JSON.stringify(Object.fromEntries(statuses))}; peak in flight ${(peakInFlight / 2 ** 20).toFixed(1)} MiB (cap ${MAX_BYTES_IN_FLIGHT / 2 ** 20}); RSS +${((peakRss - rssBefore) / 2 ** 20).toFixed(0)} MiB`);
  }, 120_000);
});
