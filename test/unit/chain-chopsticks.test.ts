import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '@polkadot/keyring';
import { WsProvider } from '@polkadot/api';
import type { Codec } from '@polkadot/types/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { chainSpec } from '@substrate/connect-known-chains/rococo_v2_2_asset_hub';
import { SubtensorChain, injectedAuthority, submitExtrinsic } from '../../src/net/subtensor-chain.ts';
import { ChainError } from '../../src/net/errors.ts';
import { pageExtrinsicAuthority } from '../../src/workers/page-signer.ts';
import { signPayloadWithKeys } from '../../src/cli/evaluate-wallet.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { injectedKeyringSigner, type SignLogEntry } from '../extension/injected-keyring-signer.ts';

/**
 * The chain client against a real Substrate runtime (chain.md §7): Rococo Asset Hub (statemine)
 * booted offline by chopsticks from the raw chain spec in @substrate/connect-known-chains, with no
 * database (in memory: chopsticks then never loads its native sqlite3 module, checked by blocking
 * that module's load) and one block per transaction. It exercises connection, head subscription,
 * block timestamps, storage reads, signing through the test wallet's `signPayload` (the injected
 * extension's code path), inclusion and dispatch-error decoding. It does **not** exercise subtensor
 * pallets; that is the opt-in developer check.
 */
process.env.LOG_LEVEL ??= 'error';
const { setupWithServer, BuildBlockMode } = await import('@acala-network/chopsticks');

type Server = Awaited<ReturnType<typeof setupWithServer>>;
let server: Server;
let rpc: WsProvider;
let chain: SubtensorChain;
const log: SignLogEntry[] = [];

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
const alice = keyring.addFromUri('//Alice').address;
const bob = keyring.addFromUri('//Bob').address;
const FUNDS = 10n ** 18n;

async function freeBalance(address: string): Promise<bigint> {
  const account = (await (chain.api.query.system as Record<string, (a: string) => Promise<Codec>>).account?.(address))?.toJSON() as { data: { free: string | number } };
  return BigInt(account.data.free);
}

beforeAll(async () => {
  server = await setupWithServer({ genesis: JSON.parse(chainSpec) as never, port: 0, host: '127.0.0.1', 'build-block-mode': BuildBlockMode.Instant });
  const url = `ws://${server.addr}`;
  rpc = new WsProvider(url);
  await rpc.isReady;
  // Fund Alice through chopsticks' dev RPC, as a test client would.
  await rpc.send('dev_setStorage', [{ System: { Account: [[[alice], { providers: 1, data: { free: FUNDS.toString() } }]] } }]);
  const wallet = injectedKeyringSigner(keyring, log);
  chain = await SubtensorChain.connect(url, injectedAuthority(() => Promise.resolve(wallet)));
}, 120_000);

afterAll(async () => {
  await chain.close();
  await rpc.disconnect();
  await server.close();
});

describe('chain client on Rococo Asset Hub under chopsticks', () => {
  it('connects to the real runtime and detects that it is not subtensor', () => {
    expect(chain.api.runtimeVersion.specName.toString()).toBe('statemine');
    expect(chain.features).toEqual({ runtimeMetagraph: false, selectiveMetagraph: false, setWeights: false, commitWeights: false, revealWeights: false, timelockedWeights: false, commitments: false });
  });

  it('follows new heads, reads increasing block timestamps and storage', async () => {
    const start = (await chain.currentBlock()).number;
    const seen: number[] = [];
    const unsubscribe = await chain.subscribeBlocks((h) => seen.push(h.number));
    await rpc.send('dev_newBlock', [{ count: 2 }]);
    await expect.poll(() => seen.includes(start + 2), { timeout: 30_000 }).toBe(true);
    unsubscribe();
    const t1 = await chain.blockTimestamp(start + 1);
    const t2 = await chain.blockTimestamp(start + 2);
    expect(t2).toBeGreaterThan(t1);
    expect(await freeBalance(alice)).toBe(FUNDS);
    await expect(chain.blockTimestamp(start + 1000)).rejects.toThrow(ChainError);
  });

  it('signs through the injected wallet signer, submits, and the transfer is included', async () => {
    const amount = 10n ** 13n;
    const bobBefore = await freeBalance(bob);
    const aliceBefore = await freeBalance(alice);
    const wallet = injectedKeyringSigner(keyring, log);
    const tx = chain.api.tx.balances?.transferKeepAlive?.(bob, amount);
    if (tx === undefined) throw new Error('no balances.transferKeepAlive');
    const result = await submitExtrinsic(chain.api, tx, { kind: 'injected', address: alice, signer: wallet }, 30_000);
    expect(result.block).toBe((await chain.currentBlock()).number);
    // The payload carries the chain's own SS58 prefix: compare public keys.
    const last = log.at(-1);
    expect(last?.kind).toBe('payload');
    expect(keyring.decodeAddress(last?.address ?? '')).toEqual(keyring.decodeAddress(alice));
    expect(await freeBalance(bob)).toBe(bobBefore + amount);
    // Alice paid the amount plus a positive fee.
    const spent = aliceBefore - (await freeBalance(alice));
    expect(spent > amount).toBe(true);
  });

  it("signs for a worker through the page's wallet (and the evaluate CLI's): the payload crosses a structured clone, as over Comlink, and the transfer is included", async () => {
    const amount = 10n ** 12n;
    const bobBefore = await freeBalance(bob);
    const wallet = injectedKeyringSigner(keyring, log);
    // What the validator worker holds: a callback to the page; the payload and the result are cloned both ways.
    const authority = pageExtrinsicAuthority(async (payload) => structuredClone(await wallet.signPayload!(structuredClone(payload))));
    const tx = chain.api.tx.balances?.transferKeepAlive?.(bob, amount);
    if (tx === undefined) throw new Error('no balances.transferKeepAlive');
    await submitExtrinsic(chain.api, tx, await authority(alice), 30_000);
    expect(await freeBalance(bob)).toBe(bobBefore + amount);

    // `npm run evaluate`'s wallet signs payloads in the CLI process the same way.
    const cliKeys = await KeyringSigner.fromUris(['//Alice']);
    const viaCli = pageExtrinsicAuthority((payload) => Promise.resolve(signPayloadWithKeys(cliKeys, structuredClone(payload), 1)));
    const second = chain.api.tx.balances?.transferKeepAlive?.(bob, amount);
    if (second === undefined) throw new Error('no balances.transferKeepAlive');
    await submitExtrinsic(chain.api, second, await viaCli(alice), 30_000);
    expect(await freeBalance(bob)).toBe(bobBefore + 2n * amount);
  });

  it('decodes a failed dispatch into a ChainError that names the pallet error', async () => {
    const tx = chain.api.tx.balances?.transferKeepAlive?.(bob, FUNDS * 2n);
    if (tx === undefined) throw new Error('no balances.transferKeepAlive');
    // chopsticks may answer inBlock a moment before its head (and so the nonce) moves on.
    const nextIndex = async (): Promise<number> => Number((await (chain.api.rpc as unknown as { system: { accountNextIndex: (a: string) => Promise<Codec> } }).system.accountNextIndex(alice)).toString());
    await expect.poll(nextIndex, { timeout: 10_000 }).toBe(3);
    const failure = submitExtrinsic(chain.api, tx, { kind: 'injected', address: alice, signer: injectedKeyringSigner(keyring, log) }, 30_000);
    await expect(failure).rejects.toThrow(ChainError);
    await expect(failure).rejects.toThrow(/failed in block .*(FundsUnavailable|InsufficientBalance)/);
  });

  it('rejects a transaction whose signature is made by another key', async () => {
    // The wallet signs Alice's payload with Bob's key: the pool must refuse it (bad proof).
    const honest = injectedKeyringSigner(keyring, log);
    const forger = { ...honest, signPayload: (payload: Parameters<NonNullable<typeof honest.signPayload>>[0]) => honest.signPayload!({ ...payload, address: bob }) };
    const tx = chain.api.tx.balances?.transferKeepAlive?.(bob, 10n ** 12n);
    if (tx === undefined) throw new Error('no balances.transferKeepAlive');
    await expect(submitExtrinsic(chain.api, tx, { kind: 'injected', address: alice, signer: forger }, 30_000)).rejects.toThrow(ChainError);
  });
});
