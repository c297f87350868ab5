/**
 * One miner window on the real wasm engine, in-memory network and keyring signer: the upload is a
 * wire submission that decodes against the run layout, carries the digest of the assigned samples,
 * and verifies for exactly its hotkey, window, uid and bytes; the gather-and-step applies the
 * reference outer step to θ and publishes θ[10:12] per tensor.
 */
import { decodeAddress } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outerStep } from '../../src/core/aggregate';
import { batchesForPool, minerPool, sequenceCount } from '../../src/core/data/assignment';
import { sampleDigest } from '../../src/core/data/digest';
import { decodeSubmission, toHex } from '../../src/core/wire/index';
import { parameterLayout } from '../../src/model/params';
import { BadSignatureError } from '../../src/net/errors';
import { verifySubmission } from '../../src/net/submission';
import type { HexString } from '../../src/net/types';
import { honest } from '../../src/peer/behaviours';
import type { WindowEvent } from '../../src/peer/events';
import { debugKey, gradientKey, signatureKey } from '../../src/peer/gather';
import { MinerStateError } from '../../src/peer/miner';
import { Simulation, simulationConfig } from './sim-harness';
import { runConfigHash } from '../../src/core/run-config.ts';

const WINDOW = 4;
let sim: Simulation;

beforeAll(async () => {
  sim = await Simulation.create(simulationConfig(), [honest()]);
}, 120_000);
afterAll(async () => {
  await sim.dispose();
});

describe('Miner window', () => {
  it('uploads a signed submission that verifies only for its own window, uid and bytes', async () => {
    const { miner, uid } = sim.peers[0]!;
    const config = sim.config;
    const hotkey = sim.network.hotkeyOf(uid)!;
    await expect(miner.upload(WINDOW, { timeMinMs: 0, timeMaxMs: 1 })).rejects.toBeInstanceOf(MinerStateError);
    await miner.prepare(WINDOW);
    const receipt = await miner.upload(WINDOW, { timeMinMs: 0, timeMaxMs: Number.MAX_SAFE_INTEGER });
    expect(receipt.info.lastModifiedMs).toBe(sim.nowMs);

    const reader = sim.network.storage();
    const { data } = await reader.get(hotkey, gradientKey(WINDOW, uid));
    const signature = new TextDecoder().decode((await reader.get(hotkey, signatureKey(WINDOW, uid))).data) as HexString;
    const context = { runId: config.runId, runHash: runConfigHash(config), netuid: config.netuid, window: WINDOW, uid };
    expect(() => verifySubmission(context, data, signature, hotkey)).not.toThrow();
    expect(() => verifySubmission({ ...context, window: WINDOW + 1 }, data, signature, hotkey)).toThrow(BadSignatureError);
    expect(() => verifySubmission({ ...context, uid: uid + 1 }, data, signature, hotkey)).toThrow(BadSignatureError);
    const tampered = data.slice();
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    expect(() => verifySubmission(context, tampered, signature, hotkey)).toThrow(BadSignatureError);

    const layout = parameterLayout(config.model);
    const decoded = decodeSubmission(data, { layout, compression: config.compression, bounds: config.bounds, maxBytes: config.window.maxSubmissionBytes, ...context });
    expect(decoded.hotkey).toEqual(decodeAddress(hotkey));
    // The digest of the assigned, trained sequences, recomputed from the assignment rules.
    const trained = batchesForPool(minerPool(uid, WINDOW, config, sequenceCount(sim.tokens.length, config.model.seqLen)), config.inner.innerSteps, config.inner.batchSize).flat();
    expect(decoded.sampleCount).toBe(config.inner.innerSteps * config.inner.batchSize);
    expect(toHex(decoded.sampleDigest)).toBe(sampleDigest(trained).slice(0, 32));
    expect(decoded.tensors.every((t) => t.indices.length > 0)).toBe(true);

    const kinds = sim.events.filter((e): e is Extract<WindowEvent, { uid: number }> => 'uid' in e && e.uid === uid).map((e) => e.kind);
    expect(kinds).toEqual(['miner-assignment', 'miner-trained', 'miner-compressed', 'miner-signed', 'miner-uploaded']);
  });

  it('applies the reference outer step of the gathered submission and publishes its debug slices', async () => {
    const { miner, uid } = sim.peers[0]!;
    const config = sim.config;
    const layout = parameterLayout(config.model);
    const engine = sim.validatorEngine; // an untouched engine holding the same initial θ as the miner's
    const before = await engine.exportParams();
    const hotkey = sim.network.hotkeyOf(uid)!;
    const { data } = await sim.network.storage().get(hotkey, gradientKey(WINDOW, uid));
    const decoded = decodeSubmission(data, { layout, compression: config.compression, bounds: config.bounds, maxBytes: config.window.maxSubmissionBytes });
    const expected = before.slice();
    outerStep(expected, layout, [{ uid, tensors: decoded.tensors }], config.compression);

    await miner.finishWindow(WINDOW, { timeMinMs: 0, timeMaxMs: Number.MAX_SAFE_INTEGER });
    const debug = JSON.parse(new TextDecoder().decode((await sim.network.storage().get(hotkey, debugKey(WINDOW, uid))).data)) as { slices: Record<string, number[]> };
    let changed = 0;
    for (const spec of layout) {
      const slice = debug.slices[spec.name]!;
      expect(slice).toHaveLength(2);
      for (let i = 0; i < 2; i++) {
        const want = expected[spec.offset + 10 + i]!;
        expect(Math.abs(slice[i]! - want)).toBeLessThanOrEqual(Math.abs(want) * 2 ** -22);
        if (slice[i] !== before[spec.offset + 10 + i]) changed++;
      }
    }
    expect(changed).toBeGreaterThan(0);
    const gathered = sim.events.find((e) => e.kind === 'miner-gathered');
    expect(gathered).toMatchObject({ gathered: [uid], rejected: {} });
  });

  it('does not count an upload made outside the put window', async () => {
    const { miner, uid } = sim.peers[0]!;
    await miner.prepare(WINDOW + 1);
    await miner.upload(WINDOW + 1, { timeMinMs: 0, timeMaxMs: 1 });
    const before = sim.events.length;
    await miner.finishWindow(WINDOW + 1, { timeMinMs: 0, timeMaxMs: sim.nowMs - 1 });
    const gathered = sim.events.slice(before).find((e) => e.kind === 'miner-gathered');
    expect(gathered).toMatchObject({ gathered: [], rejected: { [String(uid)]: 'too-late' } });
    expect(sim.events.slice(before).find((e) => e.kind === 'miner-outer-step')).toMatchObject({ applied: false, peers: 0 });
  });

  it('keeps its error feedback through a window whose gather came back empty (v2.1.3: no outer step, e kept)', async () => {
    const { miner } = sim.peers[0]!;
    await miner.prepare(WINDOW + 2);
    await miner.upload(WINDOW + 2, { timeMinMs: 0, timeMaxMs: 1 });
    const errorFeedback = await miner.exportErrorFeedback();
    expect(errorFeedback.some((v) => v !== 0)).toBe(true);
    const before = sim.events.length;
    await miner.finishWindow(WINDOW + 2, { timeMinMs: 0, timeMaxMs: sim.nowMs - 1 });
    expect(sim.events.slice(before).find((e) => e.kind === 'miner-outer-step')).toMatchObject({ applied: false, peers: 0 });
    expect(await miner.exportErrorFeedback()).toEqual(errorFeedback);
  });
});
