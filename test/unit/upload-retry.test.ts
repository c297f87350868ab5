/**
 * Upload retry inside the put window (gauntlet-spec §3.2; issue #8 "Resilience") on the real miner,
 * the in-memory network and the real validator: a storage that fails its first N writes (as an
 * unreachable devnet, an HTTP 5xx or rate limiting do) still gets the submission stored inside the put
 * window and gathered; one that keeps failing ends in `UploadWindowClosedError` with no attempt
 * started after the window closed, and the miner's next window is unaffected; a failure that a retry
 * cannot fix (a refused signature) is thrown at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadSignatureError, NetError, RateLimitedError, UnavailableError } from '../../src/net/errors';
import type { ObjectInfo, Storage, TimeGate } from '../../src/net/types';
import { honest } from '../../src/peer/behaviours';
import { gradientKey } from '../../src/peer/gather';
import { UploadWindowClosedError, uploadWithRetry } from '../../src/peer/upload-retry';
import { Simulation, simulationConfig, type SimulatedPeer } from './sim-harness';

/** A real Storage that makes its next `failures` writes fail with `error()`, then writes through. */
class FailingStorage implements Storage {
  failures = 0;
  error: () => NetError = () => new UnavailableError('PUT failed with HTTP 503: Service Unavailable');
  attemptedAtMs: number[] = [];

  constructor(
    private readonly inner: Storage,
    private readonly clock: () => number,
  ) {}

  put(key: string, data: Uint8Array): Promise<ObjectInfo> {
    if (key.startsWith('gradient-') && !key.endsWith('.sig')) this.attemptedAtMs.push(this.clock());
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(this.error());
    }
    return this.inner.put(key, data);
  }
  get: Storage['get'] = (bucket, key, options) => this.inner.get(bucket, key, options);
  head: Storage['head'] = (bucket, key) => this.inner.head(bucket, key);
  list: Storage['list'] = (bucket, prefix) => this.inner.list(bucket, prefix);
}

const BASE_DELAY_MS = 250;
let sim: Simulation;
let storage: FailingStorage;
let peer: SimulatedPeer;

beforeAll(async () => {
  let wrapped: FailingStorage | undefined;
  // The first miner's storage fails on demand; the second peer keeps the validator's gather non-empty.
  sim = await Simulation.create(simulationConfig(), [honest(), honest()], (inner) => {
    if (wrapped !== undefined) return inner;
    wrapped = new FailingStorage(inner, () => sim.nowMs);
    return wrapped;
  });
  storage = wrapped!;
  peer = sim.peers[0]!;
  await sim.runWindow(0);
}, 120_000);
afterAll(async () => {
  await sim.dispose();
});

/** Trains window `w` for every peer and opens its put window; returns the gate. */
async function openPutWindow(window: number): Promise<TimeGate> {
  const { blocksPerWindow } = sim.config.window;
  sim.advanceToBlock(window * blocksPerWindow);
  for (const p of sim.peers) await p.miner.prepare(window);
  sim.advanceToBlock((window + 1) * blocksPerWindow);
  const gate = sim.gateOf(window);
  sim.nowMs = gate.timeMinMs;
  return gate;
}

/** The retrying upload of the failing peer, on the simulation's clock (a pause advances it). */
function retryingUpload(window: number, gate: TimeGate, retries: { attempt: number; delayMs: number }[]): Promise<unknown> {
  return uploadWithRetry({
    attempt: () => peer.miner.upload(window, gate),
    window,
    gate,
    nowMs: () => Promise.resolve(sim.nowMs),
    sleep: (ms) => {
      sim.nowMs += ms;
      return Promise.resolve();
    },
    baseDelayMs: BASE_DELAY_MS,
    onRetry: ({ attempt, delayMs }) => retries.push({ attempt, delayMs }),
  });
}

/** The other peers upload, the put window closes, the validator scores and everyone steps. */
async function closeWindow(window: number, gate: TimeGate): Promise<readonly number[]> {
  for (const p of sim.peers.slice(1)) await p.miner.upload(window, gate);
  sim.nowMs = gate.timeMaxMs + 1;
  const report = await sim.validator.runWindow(window);
  for (const p of sim.peers) await p.miner.finishWindow(window, gate);
  return report.inputs.gather?.gatheredUids ?? [];
}

describe('upload retry inside the put window', () => {
  it('retries transient failures with doubling pauses and lands inside the put window', async () => {
    const window = 1;
    const gate = await openPutWindow(window);
    storage.failures = 3;
    const retries: { attempt: number; delayMs: number }[] = [];
    await retryingUpload(window, gate, retries);
    expect(retries).toEqual([
      { attempt: 1, delayMs: BASE_DELAY_MS },
      { attempt: 2, delayMs: 2 * BASE_DELAY_MS },
      { attempt: 3, delayMs: 4 * BASE_DELAY_MS },
    ]);
    const info = await sim.network.storage().head(sim.network.hotkeyOf(peer.uid)!, gradientKey(window, peer.uid));
    expect(info!.lastModifiedMs).toBeGreaterThanOrEqual(gate.timeMinMs);
    expect(info!.lastModifiedMs).toBeLessThanOrEqual(gate.timeMaxMs);
    expect(await closeWindow(window, gate)).toContain(peer.uid);
  }, 120_000);

  it('gives up with a typed error once the put window closes, and the next window is unaffected', async () => {
    const window = 2;
    const gate = await openPutWindow(window);
    storage.failures = Number.POSITIVE_INFINITY;
    storage.error = () => new RateLimitedError('Too many requests from this hotkey; slow down.');
    storage.attemptedAtMs = [];
    const retries: { attempt: number; delayMs: number }[] = [];
    const error = await retryingUpload(window, gate, retries).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadWindowClosedError);
    const closed = error as UploadWindowClosedError;
    expect(closed.window).toBe(window);
    expect(closed.lastError).toBeInstanceOf(RateLimitedError);
    expect(closed.attempts).toBe(retries.length + 1);
    expect(retries.length).toBeGreaterThan(1);
    // Every attempt started inside the put window; none was made after it closed.
    expect(storage.attemptedAtMs).toHaveLength(closed.attempts);
    for (const at of storage.attemptedAtMs) expect(at).toBeLessThan(gate.timeMaxMs);
    // The loop goes on: the storage recovers, the window is gathered without this peer, and its next window is stored and gathered.
    storage.failures = 0;
    expect(await closeWindow(window, gate)).not.toContain(peer.uid);
    const next = await openPutWindow(window + 1);
    const nextRetries: { attempt: number; delayMs: number }[] = [];
    await retryingUpload(window + 1, next, nextRetries);
    expect(nextRetries).toEqual([]);
    expect(await closeWindow(window + 1, next)).toContain(peer.uid);
  }, 120_000);

  it('does not retry a failure that another attempt cannot fix', async () => {
    const window = 4;
    const gate = await openPutWindow(window);
    storage.failures = 1;
    storage.error = () => new BadSignatureError('The request signature does not verify for this hotkey.');
    storage.attemptedAtMs = [];
    const retries: { attempt: number; delayMs: number }[] = [];
    await expect(retryingUpload(window, gate, retries)).rejects.toBeInstanceOf(BadSignatureError);
    expect(retries).toEqual([]);
    expect(storage.attemptedAtMs).toHaveLength(1);
  }, 120_000);
});
