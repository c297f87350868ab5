/**
 * Signed publications and the run's validators (issue #14), on the real loops: the validator's
 * aggregates, checkpoints and peer lists are opened, signature- and bounds-checked before anyone
 * applies them, and miners follow only the validators the subnet owner names. The attacker here is
 * a registered hotkey with a permit and the largest stake (what the faucet or a purchase gives
 * anyone), which used to make it the lead validator of every joining browser miner.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToU8a } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import { runConfigHash, tinyRunConfig } from '../../src/core/run-config.ts';
import { encodePublication, layoutHash, publicationHeader } from '../../src/core/wire/index.ts';
import { parameterCount, parameterLayout } from '../../src/model/params.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { honest } from '../../src/peer/behaviours.ts';
import {
  AggregateFormatError, aggregateKey, checkpointKey, encodeJson, gatherPlanAt, peerListAt, peerListKey, publishedAggregates, readAggregate, readCheckpoint, replayAggregates,
} from '../../src/peer/gather.ts';
import { leadValidator } from '../../src/peer/lead-validator.ts';
import { openPublication, PublicationError, signPublication } from '../../src/peer/publications.ts';
import { bitsOf } from './float-bits.ts';
import { MemoryNetwork } from '../../src/net/memory-network.ts';
import { Simulation, simulationConfig, VALIDATOR_UID } from './sim-harness.ts';

const config = tinyRunConfig();
const layout = parameterLayout(config.model);
const context = { config, layout };
const n = parameterCount(config.model);

describe('the signed envelope', () => {
  let signer: KeyringSigner;
  let validator: string;
  let attacker: string;
  beforeAll(async () => {
    signer = await KeyringSigner.fromUris(['//PubValidator', '//PubAttacker']);
    [validator, attacker] = (await signer.accounts()).map((a) => a.address) as [string, string];
  });

  const aggregateOf = (fill: number): Uint8Array => new Uint8Array(new Float32Array(n).fill(fill).buffer);
  const expectReason = (open: () => unknown, reason: PublicationError['reason']): void => {
    let caught: unknown;
    try {
      open();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PublicationError);
    expect((caught as PublicationError).reason).toBe(reason);
  };

  it('opens what the validator signed, and nothing that was changed, moved or signed by another key', async () => {
    const payload = aggregateOf(1e-4);
    const bytes = await signPublication(signer, validator, context, 'aggregate', { window: 7, globalStep: 3 }, payload);
    const opened = openPublication(bytes, context, 'aggregate', validator, { window: 7, payloadLength: payload.length, maxPayloadBytes: payload.length });
    expect([opened.window, opened.globalStep]).toEqual([7, 3]);
    expect(opened.payload).toEqual(payload);

    const tampered = bytes.slice();
    tampered[tampered.length - 100] = tampered[tampered.length - 100]! ^ 1; // a payload byte: its sha256 no longer matches the header
    expectReason(() => openPublication(tampered, context, 'aggregate', validator, { maxPayloadBytes: payload.length }), 'format');
    // Another window, another kind, another run: refused before any signature is checked.
    expectReason(() => openPublication(bytes, context, 'aggregate', validator, { window: 8, maxPayloadBytes: payload.length }), 'format');
    expectReason(() => openPublication(bytes, context, 'checkpoint', validator, { maxPayloadBytes: payload.length }), 'format');
    expectReason(() => openPublication(bytes, { config: { ...config, runId: 'other-run' }, layout }, 'aggregate', validator, { maxPayloadBytes: payload.length }), 'format');
    expectReason(() => openPublication(bytes, { config: { ...config, bounds: { ...config.bounds, maxOuterStepNorm: 99 } }, layout }, 'aggregate', validator, { maxPayloadBytes: payload.length }), 'format');
    // Found in the attacker's bucket: it names the validator as publisher, so it is not the attacker's.
    expectReason(() => openPublication(bytes, context, 'aggregate', attacker, { maxPayloadBytes: payload.length }), 'publisher');

    // The attacker builds an envelope that names the validator and signs it with its own key.
    const header = publicationHeader({ kind: 'aggregate', runId: config.runId, runConfigHash: hexToU8a(runConfigHash(config)), netuid: config.netuid, window: 7, globalStep: 3, layoutHash: layoutHash(layout), publisher: decodeAddress(validator) }, payload);
    const forgedSignature = hexToU8a(await signer.signRaw(attacker, new Uint8Array(32)));
    const forged = encodePublication(header, payload, forgedSignature);
    expectReason(() => openPublication(forged, context, 'aggregate', validator, { maxPayloadBytes: payload.length }), 'signature');
  });

  it('refuses validly signed aggregates, checkpoints and peer lists outside the run bounds', async () => {
    const network = new MemoryNetwork({
      netuid: config.netuid,
      clock: () => Date.UTC(2026, 0, 1),
      hyperparams: { tempo: 360, commitRevealEnabled: false, revealPeriodEpochs: 1, weightsRateLimit: 0, weightsVersionKey: 0n, minAllowedWeights: 1, blockTimeMs: 1000 },
    });
    network.register({ hotkey: validator });
    const storage = network.storage(validator);
    const put = async (key: string, kind: 'aggregate' | 'checkpoint' | 'peer-list', payload: Uint8Array, window = 5, globalStep = 5): Promise<void> => {
      await storage.put(key, await signPublication(signer, validator, context, kind, { window, globalStep }, payload));
    };
    // −1e30 everywhere: finite, signed, and 1e30·√n beyond maxOuterStepNorm.
    await put(aggregateKey(5), 'aggregate', aggregateOf(-1e30));
    await expect(readAggregate(storage, validator, 5, context)).rejects.toThrow(AggregateFormatError);
    await put(aggregateKey(6), 'aggregate', aggregateOf(Number.NaN), 6);
    await expect(readAggregate(storage, validator, 6, context)).rejects.toThrow(/non-finite/);
    // An update just inside the bound is applied: the bound, not the sign of the values, decides.
    const inside = config.bounds.maxOuterStepNorm / Math.sqrt(n) / 2;
    await put(aggregateKey(7), 'aggregate', aggregateOf(inside), 7);
    expect((await readAggregate(storage, validator, 7, context))[0]).toBe(Math.fround(inside));
    // A checkpoint of 3e38s: signed and finite, far outside ±maxParameterValue.
    await put(checkpointKey(10), 'checkpoint', aggregateOf(3e38), 9, 10);
    await expect(readCheckpoint(storage, validator, 10, context)).rejects.toThrow(/maxParameterValue/);
    // A peer list of 40 sybils (gatherPeers is 4): never followed, every miner is gathered instead.
    const sybils = Array.from({ length: 40 }, (_, i) => 100 + i);
    await put(peerListKey(3), 'peer-list', encodeJson({ peers: sybils, reservePeers: [], postedAtWindow: 2 }), 2);
    expect(await peerListAt(storage, validator, 3, context)).toBeNull();
    expect(await gatherPlanAt(storage, validator, 3, [2, 3, 4], context)).toMatchObject({ gatherUids: [2, 3, 4], reserveUids: [], fromList: false });
    // An unsigned list (the old format) is not followed either.
    await storage.put(peerListKey(4), encodeJson({ peers: [9], reservePeers: [], postedAtWindow: 3 }));
    expect(await peerListAt(storage, validator, 4, context)).toBeNull();
    // A signed list of the run's size is.
    await put(peerListKey(5), 'peer-list', encodeJson({ peers: [2, 4], reservePeers: [3], postedAtWindow: 4 }), 4);
    expect(await gatherPlanAt(storage, validator, 6, [2, 3, 4, 5], context)).toMatchObject({ gatherUids: [2, 4], reserveUids: [3], fromList: true });
    expect((await gatherPlanAt(storage, validator, 6, [2, 3, 4, 5], context)).referenceCaps).toBeUndefined();
    // Its norm reference, one positive norm per tensor within maxTensorNorm, caps the clip reference at clipGrowth × it.
    const reference = layout.map((_, t) => 0.01 * (t + 1));
    await put(peerListKey(7), 'peer-list', encodeJson({ peers: [2, 4], reservePeers: [3], postedAtWindow: 6, normReference: reference }), 6);
    expect((await gatherPlanAt(storage, validator, 7, [], context)).referenceCaps).toEqual(reference.map((r) => config.bounds.clipGrowth * r));
    // A reference of the wrong length, a zero (it would stop training) or one beyond the bound: the list is not followed.
    for (const [w, bad] of [[8, reference.slice(1)], [9, reference.map(() => 0)], [10, reference.map(() => config.bounds.maxTensorNorm * 2)]] as const) {
      await put(peerListKey(w), 'peer-list', encodeJson({ peers: [2], reservePeers: [], postedAtWindow: w - 1, normReference: bad }), w - 1);
      expect(await peerListAt(storage, validator, w, context)).toBeNull();
    }
  });
});

describe('a staked attacker cannot lead', () => {
  let sim: Simulation;
  afterAll(async () => {
    await sim.dispose();
  });

  it('miners follow the named validator, skip forged objects, and a joiner ends on the validator’s θ', async () => {
    sim = await Simulation.create(simulationConfig(), [honest(), honest(), honest()]);
    const validatorHotkey = sim.network.hotkeyOf(VALIDATOR_UID)!;
    const attackerSigner = await KeyringSigner.fromUris(['//StakedAttacker']);
    const attacker = (await attackerSigner.accounts())[0]!.address;
    // The largest stake and a permit: under the old rule, the lead of every joining miner.
    const attackerUid = sim.network.register({ hotkey: attacker, stake: 1e9 });
    sim.network.setRunValidators([validatorHotkey]);
    const chain = sim.network.chain();
    const metagraph = await chain.metagraph(sim.config.netuid);
    expect(leadValidator(metagraph, await chain.runValidators(sim.config.netuid), sim.config, 'nobody')).toBe(validatorHotkey);
    expect(leadValidator(metagraph, [], sim.config, 'nobody')).toBeUndefined();

    const simContext = { config: sim.config, layout: parameterLayout(sim.config.model) };
    const size = parameterCount(sim.config.model) * 4;
    const attackerStorage = sim.network.storage(attacker);
    for (let w = 0; w < 8; w++) {
      await sim.runWindow(w);
      // Every window the attacker publishes, in its own bucket, a validly signed poisoned aggregate, checkpoint and sybil list.
      await attackerStorage.put(aggregateKey(w), await signPublication(attackerSigner, attacker, simContext, 'aggregate', { window: w, globalStep: w + 1 }, new Uint8Array(new Float32Array(size / 4).fill(-1e30).buffer)));
      await attackerStorage.put(checkpointKey(w + 1), await signPublication(attackerSigner, attacker, simContext, 'checkpoint', { window: w, globalStep: w + 1 }, new Uint8Array(new Float32Array(size / 4).fill(3e38).buffer)));
      await attackerStorage.put(peerListKey(w + 2), await signPublication(attackerSigner, attacker, simContext, 'peer-list', { window: w, globalStep: w + 1 }, encodeJson({ peers: [attackerUid], reservePeers: [], postedAtWindow: w })));
    }
    // Storage that let the attacker write into the validator's bucket (a leaked key, a faulty gateway):
    // a forged aggregate in the validator's place is refused by its signature, not trusted for its place.
    const forged = await signPublication(attackerSigner, attacker, simContext, 'aggregate', { window: 3, globalStep: 4 }, new Uint8Array(size));
    await sim.network.storage(validatorHotkey).put(aggregateKey(3), forged);
    await expect(readAggregate(sim.network.storage(validatorHotkey), validatorHotkey, 3, simContext)).rejects.toThrow(/names another publisher/);

    // The validator scored every window and stepped θ with the honest peers; θ is finite and bounded.
    expect(sim.reports.map((r) => r.window)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sim.reports.every((r) => r.outerStepApplied)).toBe(true);
    const validatorTheta = await sim.validatorEngine.exportParams();
    expect(validatorTheta.every((v) => Math.abs(v) <= sim.config.bounds.maxParameterValue)).toBe(true);
    for (const peer of sim.peers) expect(bitsOf(await peer.engine.exportParams())).toEqual(bitsOf(validatorTheta));

    // A peer joining now, from the run's init, replays the named validator's aggregates: window 3's
    // forged object stops the replay, and the catch-up gathers that window live from the peers.
    const joiner = await sim.joiningPeer('//LateJoiner', honest());
    const validatorStorage = sim.network.storage(validatorHotkey);
    const windows = (await publishedAggregates(validatorStorage, validatorHotkey)).map((a) => a.window);
    const replay = await replayAggregates(joiner.engine, validatorStorage, validatorHotkey, windows, simContext);
    expect(replay.replayed).toEqual([0, 1, 2]);
    expect(replay.malformed?.window).toBe(3);
    const rest = await joiner.miner.catchUp(3, 7, (w) => Promise.resolve(sim.gateOf(w)));
    expect(rest.gatheredLive).toEqual([3]);
    expect(rest.replayed).toEqual([4, 5, 6, 7]);
    expect(bitsOf(await joiner.engine.exportParams())).toEqual(bitsOf(validatorTheta));
    // What a miner that followed stake would have read from the attacker's bucket is refused too.
    await expect(readCheckpoint(attackerStorage, attacker, 8, simContext)).rejects.toThrow(/maxParameterValue/);
    await expect(readAggregate(attackerStorage, attacker, 7, simContext)).rejects.toThrow(/maxOuterStepNorm/);
    expect(await peerListAt(attackerStorage, attacker, 9, simContext)).not.toBeNull(); // well-formed and signed: only leadValidator keeps miners off it
  }, 240_000);
});
