/**
 * One chain model: the devnet (real HTTP server, real sr25519 signatures) and the in-memory network
 * give the same subnet the same validator permits, incentive and weight rate limit, because both
 * apply `src/net/subnet-rules.ts`. The expected incentive is worked out by hand below from the rule
 * the module states (stake-weighted mean of max-upscaled rows), not read from either network.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevnet, type RunningDevnet } from '../../src/devnet/server.ts';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import { RateLimitedError } from '../../src/net/errors.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { MemoryNetwork } from '../../src/net/memory-network.ts';
import { incentiveShares, validatorPermits } from '../../src/net/subnet-rules.ts';
import type { Chain, Metagraph } from '../../src/net/types.ts';

const NETUID = 4;
const RATE_LIMIT = 1000;
const PERMITS = { maxAllowedValidators: 2, minValidatorStake: 10 };
const signer = await KeyringSigner.fromUris([]);
const [alice, bob, charlie, dave] = ['//Alice', '//Bob', '//Charlie', '//Dave'].map((uri) => signer.add(uri)) as [string, string, string, string];
/** uid 0..3 in registration order; charlie's 12 is above the threshold but third by stake. */
const STAKES: readonly [string, number][] = [[alice, 30], [bob, 15], [charlie, 12], [dave, 0]];

let dir: string;
let devnet: RunningDevnet;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'subnet-rules-'));
  devnet = await startDevnet({ dir, blockTimeMs: 100, ...PERMITS, weightsRateLimitBlocks: RATE_LIMIT, faucet: true });
}, 60_000);
afterAll(async () => {
  await devnet.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Alice weights uids 2 and 3 as 1 : 2, bob only uid 3; charlie (no permit) and a second call from alice are refused. */
async function playWeights(chain: Chain): Promise<{ charlie: unknown; again: unknown }> {
  await chain.setWeights(alice, NETUID, [2, 3], [0.25, 0.5], 0n);
  await chain.setWeights(bob, NETUID, [3], [1], 0n);
  const charlieRefusal = await chain.setWeights(charlie, NETUID, [0], [1], 0n).then(() => null, (error: unknown) => error);
  const again = await chain.setWeights(alice, NETUID, [2], [1], 0n).then(() => null, (error: unknown) => error);
  return { charlie: charlieRefusal, again };
}

function chainView(m: Metagraph): { permits: boolean[]; stake: number[]; incentive: number[] } {
  return { permits: [...m.validatorPermit], stake: [...m.stake], incentive: [...m.incentive] };
}

describe('the devnet and the in-memory network apply the same subnet rules', () => {
  it('same permits, same incentive, same rate limit for the same registrations, stakes and weights', async () => {
    const devnetChain = new DevnetChain(devnet.url, signer);
    for (const [hotkey, stake] of STAKES) {
      await devnetChain.register(hotkey, NETUID);
      if (stake > 0) await devnetChain.addStake(hotkey, NETUID, stake);
    }
    const devnetRefusals = await playWeights(devnetChain);

    const memory = new MemoryNetwork({
      netuid: NETUID, clock: () => 1_000_000, permits: PERMITS,
      hyperparams: { tempo: 360, commitRevealEnabled: false, revealPeriodEpochs: 1, weightsRateLimit: RATE_LIMIT, weightsVersionKey: 0n, minAllowedWeights: 0, blockTimeMs: 100 },
    });
    for (const [hotkey, stake] of STAKES) memory.register({ hotkey, stake });
    const memoryRefusals = await playWeights(memory.chain());

    const fromDevnet = chainView(await devnetChain.metagraph(NETUID));
    const fromMemory = chainView(await memory.chain().metagraph(NETUID));
    // The top two stakers with ≥ 10 hold permits; charlie (12) is third.
    expect(fromDevnet.permits).toEqual([true, true, false, false]);
    expect(fromDevnet.stake).toEqual([30, 15, 12, 0]);
    // Alice's row max-upscales to [32768, 65535] (0.25/0.5 · 65535 = 32767.5 → 32768, half to even);
    // bob's to [65535]. Weighted by stake 30 : 15 and normalised over both setters:
    const aliceRow = 32768 + 65535;
    const uid2 = (30 * 32768) / aliceRow / 45;
    const uid3 = ((30 * 65535) / aliceRow + 15) / 45;
    expect(fromDevnet.incentive[0]).toBe(0);
    expect(fromDevnet.incentive[1]).toBe(0);
    expect(fromDevnet.incentive[2]).toBeCloseTo(uid2, 12);
    expect(fromDevnet.incentive[3]).toBeCloseTo(uid3, 12);
    expect(fromMemory).toEqual(fromDevnet);
    // Both refuse charlie (no permit) and alice's second row inside the rate limit.
    expect(devnetRefusals.charlie).toBeInstanceOf(Error);
    expect(memoryRefusals.charlie).toBeInstanceOf(Error);
    expect(devnetRefusals.again).toBeInstanceOf(RateLimitedError);
    expect(memoryRefusals.again).toBeInstanceOf(RateLimitedError);
  });

  it('counts every setter the same while none holds stake, and drops a zero row', () => {
    const neurons = [{ uid: 0, stake: 0 }, { uid: 1, stake: 0 }, { uid: 2, stake: 0 }];
    const shares = incentiveShares(neurons, [{ setterUid: 0, uids: [2], values: [65535] }, { setterUid: 1, uids: [1, 2], values: [65535, 65535] }, { setterUid: 2, uids: [0], values: [0] }]);
    // Setter 0 gives uid 2 all of its 1; setter 1 half to each: uid 2 = 1.5 / 2, uid 1 = 0.5 / 2.
    expect(shares.get(2)).toBeCloseTo(0.75, 15);
    expect(shares.get(1)).toBeCloseTo(0.25, 15);
    expect(shares.get(0) ?? 0).toBe(0);
    // With no stake threshold and no count limit every uid holds a permit (the devnet's default).
    expect([...validatorPermits(neurons, { maxAllowedValidators: Number.POSITIVE_INFINITY, minValidatorStake: 0 })]).toEqual([0, 1, 2]);
  });
});
