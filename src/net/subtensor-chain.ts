/**
 * `Chain` on subtensor (Bittensor) through @polkadot/api 16.5.6 (chain.md §3). Everything that
 * changed between runtime versions is feature-detected from metadata, never assumed: the runtime
 * metagraph API (with a storage fallback), the weight calls (plain `setWeights`, CR-v2
 * `commitWeights`/`revealWeights`, timelocked commits we cannot produce), and the
 * `ChargeTransactionPaymentWrapper` extension (declared for every connection). The generic parts
 * (heads, timestamps, submission with dispatch-error decoding) work on any Substrate runtime and
 * are tested on Rococo Asset Hub under chopsticks; the subtensor-specific parts run in the opt-in
 * developer check.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Codec, ISubmittableResult, Signer as PolkadotSigner } from '@polkadot/types/types';
import { u8aToU8a } from '@polkadot/util';
import { BadRequestError, ChainError, NetError, UnavailableError } from './errors.ts';
import type { KeyringSigner } from './keyring-signer.ts';
import { blocksUntilNextEpoch, crV2CommitHash, rawDataField, SUBTENSOR_SIGNED_EXTENSIONS } from './subtensor-encoding.ts';
import { normalizeMaxWeight } from './subnet-rules.ts';
import { MAX_MORE_COMMITMENT_FIELDS, type BlockHeader, type Chain, type Commitment, type Hyperparams, type Metagraph, type TxResult, type Unsubscribe, type WeightsResult } from './types.ts';
import { crV2RevealBlocks, type WeightCommit } from './weight-commits.ts';
import { errorMessage } from '../core/errors.ts';

/** How an address signs extrinsics: a local key pair, or an extension's signer. */
export type ExtrinsicAuthority = { readonly kind: 'pair'; readonly pair: KeyringPair } | { readonly kind: 'injected'; readonly address: string; readonly signer: PolkadotSigner };
export type AuthorityFor = (address: string) => Promise<ExtrinsicAuthority>;

/** Extrinsics signed by a local keyring (devnet tooling, headless validators, tests). */
export function keyringAuthority(signer: KeyringSigner): AuthorityFor {
  return (address) => Promise.resolve({ kind: 'pair', pair: signer.pair(address) });
}

/** Extrinsics signed by a wallet extension (`ExtensionSigner.polkadotSigner`), via its `signPayload`. */
export function injectedAuthority(signerFor: (address: string) => Promise<PolkadotSigner>): AuthorityFor {
  return async (address) => ({ kind: 'injected', address, signer: await signerFor(address) });
}

/** How long a dropped connection waits before polkadot-js dials again. */
const RECONNECT_MS = 2500;

/**
 * Opens an ApiPromise with the subtensor extension declarations (harmless on other runtimes). The
 * first connection must succeed (an unreachable endpoint fails at once with the reason); after that
 * the provider dials again whenever the connection drops, so a validator or a miner that runs for
 * days survives a node restart (its reads fail as `UnavailableError` meanwhile, and the loops wait).
 */
export async function connectSubstrate(url: string, timeoutMs = 30_000): Promise<ApiPromise> {
  const provider = new WsProvider(url, RECONNECT_MS);
  // Cleared on every path, so a refused connection does not keep a Node process alive for the timeout.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const unsubscribe: (() => void)[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      unsubscribe.push(provider.on('connected', () => resolve()));
      unsubscribe.push(provider.on('error', (error: unknown) => reject(error instanceof Error ? error : new Error(connectFailure(error)))));
      timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    });
    for (const off of unsubscribe.splice(0)) off();
    clearTimeout(timer);
    const api = await Promise.race([
      ApiPromise.create({ provider, noInitWarn: true, signedExtensions: SUBTENSOR_SIGNED_EXTENSIONS, throwOnConnect: true }),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return api;
  } catch (error) {
    for (const off of unsubscribe) off();
    await provider.disconnect().catch(() => undefined);
    throw new UnavailableError(`Cannot connect to the chain at ${url} (${connectFailure(error)}); check the endpoint.`);
  } finally {
    clearTimeout(timer);
  }
}

/** A WebSocket failure is an event, not an Error, in browsers and Node alike: say what it was. */
function connectFailure(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null) {
    const { message, type } = error as { message?: unknown; type?: unknown };
    if (typeof message === 'string' && message !== '') return message;
    if (typeof type === 'string') return `WebSocket ${type}: nothing answered`;
  }
  return String(error);
}

/**
 * Signs and submits `tx`, resolving once it is in a block (or finalized, should the in-block update
 * be missed); a failed dispatch becomes a `ChainError` naming the pallet error (e.g.
 * `subtensorModule.CommitRevealEnabled`) and its documentation. Never waits longer than `timeoutMs`:
 * the error then names the last status seen.
 */
export function submitExtrinsic(api: ApiPromise, tx: SubmittableExtrinsic<'promise'>, authority: ExtrinsicAuthority, timeoutMs = 180_000): Promise<TxResult> {
  const name = `${tx.method.section}.${tx.method.method}`;
  return new Promise<TxResult>((resolve, reject) => {
    let unsubscribe: (() => void) | undefined;
    let settled = false;
    let lastStatus = 'none';
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe?.();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(new ChainError(`${name} was not included within ${timeoutMs / 1000} s (last status: ${lastStatus}); the node may be stalled or the fee too low.`))), timeoutMs);
    const onStatus = (result: ISubmittableResult): void => {
      const { status, dispatchError } = result;
      lastStatus = status.type;
      if (status.isInBlock || status.isFinalized) {
        const blockHash = (status.isInBlock ? status.asInBlock : status.asFinalized).toHex();
        if (dispatchError !== undefined) {
          // Module errors name the pallet and error; others (Token, Arithmetic, …) print as their variant.
          let detail = `${dispatchError.type}: ${JSON.stringify(dispatchError.toHuman())}`;
          if (dispatchError.isModule) {
            const meta = api.registry.findMetaError(dispatchError.asModule);
            detail = `${meta.section}.${meta.name}: ${meta.docs.join(' ')}`;
          }
          finish(() => reject(new ChainError(`${name} failed in block ${blockHash}: ${detail}`)));
          return;
        }
        void api.rpc.chain.getHeader(blockHash).then(
          (header) => finish(() => resolve({ block: header.number.toNumber(), id: blockHash })),
          (error: unknown) => finish(() => reject(new ChainError(`${name} was included in ${blockHash}, but its header could not be read: ${String(error)}`))),
        );
      } else if (status.isInvalid || status.isDropped || status.isUsurped) {
        finish(() => reject(new ChainError(`${name} was ${status.type.toLowerCase()} by the transaction pool.`)));
      }
    };
    // nonce -1: ask the runtime (AccountNonceApi at the best block) rather than polkadot-js's default, a
    // storage subscription that can still hold the previous nonce just after our last inclusion,
    // which the pool then refuses as stale.
    const sent = authority.kind === 'pair' ? tx.signAndSend(authority.pair, { nonce: -1 }, onStatus) : tx.signAndSend(authority.address, { signer: authority.signer, nonce: -1 }, onStatus);
    sent.then(
      (u) => {
        unsubscribe = u;
        if (settled) u();
      },
      (error: unknown) => finish(() => reject(new ChainError(`${name} could not be signed or submitted: ${errorMessage(error)}`))),
    );
  });
}

/** What this runtime offers, read from its metadata (chain.md §3.3–3.4, §4). */
export interface SubtensorFeatures {
  readonly runtimeMetagraph: boolean;
  readonly selectiveMetagraph: boolean;
  readonly setWeights: boolean;
  readonly commitWeights: boolean;
  readonly revealWeights: boolean;
  readonly timelockedWeights: boolean;
  readonly commitments: boolean;
}

export function detectFeatures(api: ApiPromise): SubtensorFeatures {
  const tx = api.tx as Record<string, Record<string, unknown> | undefined>;
  const call = api.call as Record<string, Record<string, unknown> | undefined>;
  const sub = tx.subtensorModule;
  return {
    runtimeMetagraph: call.subnetInfoRuntimeApi?.getMetagraph !== undefined,
    selectiveMetagraph: call.subnetInfoRuntimeApi?.getSelectiveMetagraph !== undefined,
    setWeights: sub?.setWeights !== undefined,
    commitWeights: sub?.commitWeights !== undefined,
    revealWeights: sub?.revealWeights !== undefined,
    timelockedWeights: sub?.commitCrv3Weights !== undefined || sub?.commitTimelockedWeights !== undefined || sub?.commitTimelockedMechanismWeights !== undefined,
    commitments: tx.commitments?.setCommitment !== undefined,
  };
}

function toNumber(codec: unknown): number {
  const json = (codec as Codec).toJSON();
  return typeof json === 'number' ? json : Number(json);
}

function jsonArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export class SubtensorChain implements Chain {
  readonly features: SubtensorFeatures;

  constructor(readonly api: ApiPromise, private readonly authorityFor?: AuthorityFor) {
    this.features = detectFeatures(api);
  }

  static async connect(url: string, authorityFor?: AuthorityFor): Promise<SubtensorChain> {
    return new SubtensorChain(await connectSubstrate(url), authorityFor);
  }

  private query(section: string, item: string): ((...args: unknown[]) => Promise<Codec>) & { entries: (...args: unknown[]) => Promise<[{ args: Codec[] }, Codec][]> } {
    const fn = (this.api.query as Record<string, Record<string, unknown> | undefined>)[section]?.[item];
    if (fn === undefined) throw new ChainError(`This runtime has no storage ${section}.${item}; it is not a subtensor runtime this client knows.`);
    return fn as ReturnType<SubtensorChain['query']>;
  }

  private async authority(address: string): Promise<ExtrinsicAuthority> {
    if (this.authorityFor === undefined) throw new ChainError('This chain client was opened read-only (no signer).');
    return this.authorityFor(address);
  }

  /**
   * New heads, each with its `Timestamp.Now` read at that block's hash (one storage read per head),
   * delivered in order. A head whose timestamp cannot be read is left out: the next one comes a
   * block later, and a head without a timestamp could not close a put window anyway.
   */
  async subscribeBlocks(onBlock: (header: BlockHeader) => void): Promise<Unsubscribe> {
    let delivered = Promise.resolve();
    return this.api.rpc.chain.subscribeNewHeads((header) => {
      const number = header.number.toNumber();
      delivered = delivered
        .then(async () => onBlock({ number, timestampMs: await this.timestampAt(header.hash.toHex()) }))
        .catch((error: unknown) => console.warn(`subtensor: head ${number} skipped: ${errorMessage(error)}`));
    });
  }

  /** The best head with its timestamp (issue #15: without it no put window ever closed on subtensor). */
  currentBlock(): Promise<BlockHeader> {
    return this.guard('the head', async () => {
      const header = await this.api.rpc.chain.getHeader();
      return { number: header.number.toNumber(), timestampMs: await this.timestampAt(header.hash.toHex()) };
    });
  }

  /** `Timestamp.Now` at block `n` (Templar `time_min` source; old blocks need an archive node). */
  blockTimestamp(n: number): Promise<number> {
    return this.guard(`the timestamp of block ${n}`, () => this.readBlockTimestamp(n));
  }

  private async readBlockTimestamp(n: number): Promise<number> {
    const hash = await this.api.rpc.chain.getBlockHash(n);
    if (hash.isEmpty) throw new ChainError(`Block ${n} is unknown to this node (not produced yet, or pruned).`);
    return this.timestampAt(hash.toHex());
  }

  private async timestampAt(hash: string): Promise<number> {
    const now = (this.api.query as Record<string, Record<string, { at?: (hash: string) => Promise<Codec> } | undefined> | undefined>).timestamp?.now;
    if (now?.at === undefined) throw new ChainError('This runtime has no timestamp pallet; block times are unknown.');
    const ms = toNumber(await now.at(hash));
    if (!Number.isSafeInteger(ms) || ms <= 0) throw new ChainError(`Block ${hash} carries no timestamp (Timestamp.Now = ${ms}).`);
    return ms;
  }

  metagraph(netuid: number): Promise<Metagraph> {
    return this.guard(`the metagraph of netuid ${netuid}`, () => this.readMetagraph(netuid));
  }

  private async readMetagraph(netuid: number): Promise<Metagraph> {
    const block = (await this.currentBlock()).number;
    if (this.features.runtimeMetagraph) {
      try {
        const call = (this.api.call as unknown as Record<string, Record<string, (n: number) => Promise<Codec>>>).subnetInfoRuntimeApi;
        const result = (await call?.getMetagraph?.(netuid))?.toJSON() as Record<string, unknown> | null | undefined;
        if (result !== null && result !== undefined) return this.metagraphFromRuntime(netuid, block, result);
      } catch (error) {
        console.warn(`subtensor: getMetagraph failed (${String(error)}); reading storage instead.`);
      }
    }
    return this.metagraphFromStorage(netuid, block);
  }

  private metagraphFromRuntime(netuid: number, block: number, m: Record<string, unknown>): Metagraph {
    const hotkeys = jsonArray(m.hotkeys).map(String);
    const n = hotkeys.length;
    const num = (key: string): number[] => jsonArray(m[key]).map(Number);
    const incentives = num('incentives');
    const stake = num('totalStake');
    return {
      netuid, block, uids: hotkeys.map((_, i) => i), hotkeys,
      coldkeys: jsonArray(m.coldkeys).map(String),
      stake: stake.length === n ? stake : hotkeys.map(() => 0),
      validatorPermit: jsonArray(m.validatorPermit).map(Boolean),
      // Incentive is a u16 fixed-point share on chain.
      incentive: incentives.map((x) => x / 65_535),
      lastUpdate: num('lastUpdate'),
      active: jsonArray(m.active).map(Boolean),
    };
  }

  private async metagraphFromStorage(netuid: number, block: number): Promise<Metagraph> {
    const entries = await this.query('subtensorModule', 'keys').entries(netuid);
    const rows = entries.map(([key, value]) => ({ uid: toNumber(key.args[1]), hotkey: String(value.toString()) })).sort((a, b) => a.uid - b.uid);
    const hotkeys = rows.map((r) => r.hotkey);
    const vec = async (item: string): Promise<unknown[]> => jsonArray((await this.query('subtensorModule', item)(netuid)).toJSON());
    const [permits, incentive, lastUpdate, active] = await Promise.all([vec('validatorPermit'), vec('incentive'), vec('lastUpdate'), vec('active')]);
    const stake = await Promise.all(hotkeys.map(async (h) => toNumber(await this.query('subtensorModule', 'totalHotkeyAlpha')(h, netuid))));
    const coldkeys = await Promise.all(hotkeys.map(async (h) => (await this.query('subtensorModule', 'owner')(h)).toString()));
    return {
      netuid, block, uids: rows.map((r) => r.uid), hotkeys, coldkeys, stake,
      validatorPermit: permits.map(Boolean),
      incentive: incentive.map((x) => Number(x) / 65_535),
      lastUpdate: lastUpdate.map(Number),
      active: active.map(Boolean),
    };
  }

  /**
   * The run's validators on subtensor: the permit holders whose hotkey is owned by the subnet
   * owner's coldkey (`SubnetOwner(netuid)`). The owner names a validator by registering its hotkey
   * under that coldkey, which no one else can do; stake, which anyone can buy, names no one.
   */
  runValidators(netuid: number, known?: Metagraph): Promise<readonly string[]> {
    return this.guard(`the validators of netuid ${netuid}`, async () => {
      const owner = (await this.query('subtensorModule', 'subnetOwner')(netuid)).toString();
      const metagraph = known?.netuid === netuid ? known : await this.readMetagraph(netuid);
      return metagraph.hotkeys.filter((_, i) => metagraph.coldkeys[i] === owner && metagraph.validatorPermit[i] === true);
    });
  }

  /**
   * Runs one read; whatever fails under it that is not already a typed error of ours (a dropped
   * WebSocket, a node that answers with an RPC error) becomes `UnavailableError` naming what was
   * read, so the loops above pause and retry instead of dying on a raw polkadot-js error.
   */
  private async guard<T>(what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof NetError) throw error;
      throw new UnavailableError(`The chain did not answer for ${what}: ${errorMessage(error)}.`);
    }
  }

  hyperparams(netuid: number): Promise<Hyperparams> {
    return this.guard(`the hyperparameters of netuid ${netuid}`, () => this.readHyperparams(netuid));
  }

  private async readHyperparams(netuid: number): Promise<Hyperparams> {
    const q = (item: string): Promise<Codec> => this.query('subtensorModule', item)(netuid);
    const [tempo, cr, reveal, rate, version, minWeights] = await Promise.all([q('tempo'), q('commitRevealWeightsEnabled'), q('revealPeriodEpochs'), q('weightsSetRateLimit'), q('weightsVersionKey'), q('minAllowedWeights')]);
    const consts = this.api.consts as Record<string, Record<string, Codec | undefined> | undefined>;
    const slot = consts.aura?.slotDuration ?? consts.babe?.expectedBlockTime;
    const minimumPeriod = consts.timestamp?.minimumPeriod;
    const blockTimeMs = slot !== undefined ? toNumber(slot) : minimumPeriod !== undefined ? 2 * toNumber(minimumPeriod) : 12_000;
    return {
      tempo: toNumber(tempo), commitRevealEnabled: cr.toJSON() === true, revealPeriodEpochs: toNumber(reveal),
      weightsRateLimit: toNumber(rate), weightsVersionKey: BigInt(version.toString()), minAllowedWeights: toNumber(minWeights), blockTimeMs,
    };
  }

  /** `commitments.commitmentOf` entries whose first field is `RawN` (chain.md §3.5), with their later `RawN` fields. */
  commitments(netuid: number): Promise<Map<string, Commitment>> {
    return this.guard(`the commitments of netuid ${netuid}`, () => this.readCommitments(netuid));
  }

  private async readCommitments(netuid: number): Promise<Map<string, Commitment>> {
    const out = new Map<string, Commitment>();
    for (const [key, value] of await this.query('commitments', 'commitmentOf').entries(netuid)) {
      const json = value.toJSON() as { block?: number; info?: { fields?: Record<string, string>[] } } | null;
      const raws = (json?.info?.fields ?? []).slice(0, 1 + MAX_MORE_COMMITMENT_FIELDS).map((field) => {
        const raw = typeof field === 'object' && field !== null ? Object.entries(field).find(([variant]) => variant.toLowerCase().startsWith('raw')) : undefined;
        return raw === undefined ? undefined : u8aToU8a(raw[1]);
      });
      const [data, ...more] = raws;
      if (data === undefined || json === null) continue;
      // A later field of another kind (a hash variant) reads as empty: it holds nothing these readers use.
      out.set(String(key.args[1]?.toString()), { block: Number(json.block ?? 0), data, moreFields: more.map((f) => f ?? new Uint8Array(0)) });
    }
    return out;
  }

  async setCommitment(hotkey: string, netuid: number, data: Uint8Array, moreFields: readonly Uint8Array[] = []): Promise<TxResult> {
    if (!this.features.commitments) throw new ChainError('This runtime has no commitments pallet.');
    if (moreFields.length > MAX_MORE_COMMITMENT_FIELDS) throw new BadRequestError(`A commitment holds at most ${1 + MAX_MORE_COMMITMENT_FIELDS} fields.`);
    const fields = [data, ...moreFields].map(rawDataField);
    const tx = (this.api.tx as unknown as Record<string, Record<string, (...a: unknown[]) => SubmittableExtrinsic<'promise'>>>).commitments?.setCommitment?.(netuid, { fields });
    if (tx === undefined) throw new ChainError('commitments.setCommitment is missing.');
    return submitExtrinsic(this.api, tx, await this.authority(hotkey));
  }

  private subtensorTx(call: string, ...args: unknown[]): SubmittableExtrinsic<'promise'> {
    const fn = (this.api.tx as unknown as Record<string, Record<string, ((...a: unknown[]) => SubmittableExtrinsic<'promise'>) | undefined> | undefined>).subtensorModule?.[call];
    if (fn === undefined) throw new ChainError(`This runtime has no subtensorModule.${call}.`);
    return fn(...args);
  }

  /** What `burnedRegister` costs on `netuid` now, in rao (`Burn(netuid)`; it moves with demand, so read it just before asking). */
  registrationCost(netuid: number): Promise<bigint> {
    return this.guard(`the registration cost of netuid ${netuid}`, async () => BigInt((await this.query('subtensorModule', 'burn')(netuid)).toString()));
  }

  /** The free balance of `address` in rao (`System.Account`). */
  freeBalance(address: string): Promise<bigint> {
    return this.guard(`the balance of ${address}`, async () => {
      const account = (await this.query('system', 'account')(address)).toJSON() as { data?: { free?: number | string } } | null;
      return BigInt(account?.data?.free ?? 0);
    });
  }

  /**
   * Registers `hotkey` on `netuid`, paid for and signed by `coldkey` (subtensor `burned_register`:
   * the coldkey burns the registration cost; the hotkey needs no funds). Resolves with the uid the
   * chain gave the hotkey. Refusals are the runtime's errors in a `ChainError` (e.g.
   * `NotEnoughBalanceToStake`, `TooManyRegistrationsThisBlock`).
   */
  async burnedRegister(coldkey: string, netuid: number, hotkey: string): Promise<{ uid: number; block: number; cost: bigint }> {
    const cost = await this.registrationCost(netuid);
    const result = await submitExtrinsic(this.api, this.subtensorTx('burnedRegister', netuid, hotkey), await this.authority(coldkey));
    const uid = await this.guard(`the uid of ${hotkey}`, async () => (await this.query('subtensorModule', 'uids')(netuid, hotkey)).toJSON());
    if (typeof uid !== 'number') throw new ChainError(`burnedRegister was included in block ${result.block}, but ${hotkey} holds no uid on netuid ${netuid}.`);
    return { uid, block: result.block, cost };
  }

  /**
   * Commit-reveal off → `setWeights`. On → CR-v2 `commitWeights` with a random salt; the returned
   * commit carries its reveal blocks as the chain recorded them (`WeightCommits`), for the caller to
   * keep (a validator persists it) and to reveal with `revealWeights`. Where the runtime offers only
   * timelocked commits (CR-v3 `commitCrv3Weights`, `commitTimelockedWeights`), refuses: their drand
   * timelock encryption has no JavaScript implementation (chain.md §3.4).
   */
  async setWeights(hotkey: string, netuid: number, uids: readonly number[], weights: readonly number[], versionKey: bigint): Promise<WeightsResult> {
    const u16 = normalizeMaxWeight(uids, weights);
    const hp = await this.hyperparams(netuid);
    const authority = await this.authority(hotkey);
    if (!hp.commitRevealEnabled) {
      return { ...(await submitExtrinsic(this.api, this.subtensorTx('setWeights', netuid, u16.uids, u16.weights, versionKey), authority)), method: 'setWeights' };
    }
    if (!this.features.commitWeights || !this.features.revealWeights) {
      throw new ChainError(`Subnet ${netuid} has commit-reveal on and this runtime accepts only timelocked (drand) commits, which cannot be produced in JavaScript yet.`);
    }
    const salt = Array.from(crypto.getRandomValues(new Uint16Array(8)));
    const commitHash = crV2CommitHash({ hotkey, netuidIndex: netuid, uids: u16.uids, values: u16.weights, salt, versionKey });
    const result = await submitExtrinsic(this.api, this.subtensorTx('commitWeights', netuid, commitHash), authority);
    const blocks = (await this.recordedRevealBlocks(netuid, hotkey, commitHash)) ?? crV2RevealBlocks(netuid, hp.tempo, hp.revealPeriodEpochs, result.block);
    const commit: WeightCommit = { hotkey, netuid, uids: u16.uids, values: u16.weights, salt, versionKey, commitBlock: result.block, ...blocks };
    return { ...result, method: 'commitWeights', commit };
  }

  /** The reveal blocks the chain stored with commit `hash` (`WeightCommits(netuid, hotkey)`: hash, commit, first and last reveal block). */
  private async recordedRevealBlocks(netuid: number, hotkey: string, hash: string): Promise<{ firstRevealBlock: number; lastRevealBlock: number } | undefined> {
    try {
      const queue = jsonArray((await this.query('subtensorModule', 'weightCommits')(netuid, hotkey)).toJSON());
      for (const entry of queue) {
        const [entryHash, , first, last] = jsonArray(entry);
        if (String(entryHash) === hash) return { firstRevealBlock: Number(first), lastRevealBlock: Number(last) };
      }
    } catch (error) {
      console.warn(`subtensor: weightCommits could not be read (${String(error)}); computing the reveal blocks instead.`);
    }
    return undefined;
  }

  /** Reveals a CR-v2 commit; the chain answers `RevealTooEarly` before its reveal blocks and `ExpiredWeightCommit` after them. */
  async revealWeights(commit: WeightCommit): Promise<TxResult> {
    const tx = this.subtensorTx('revealWeights', commit.netuid, commit.uids, commit.values, commit.salt, commit.versionKey);
    return submitExtrinsic(this.api, tx, await this.authority(commit.hotkey));
  }

  /**
   * First block of the subnet's next epoch: the runtime's `getNextEpochStartBlock` where it exists
   * (stateful epochs, current subtensor), else the legacy stateless rule (chain.md §4).
   */
  nextEpochStartBlock(netuid: number): Promise<number> {
    return this.guard(`the next epoch of netuid ${netuid}`, () => this.readNextEpochStartBlock(netuid));
  }

  private async readNextEpochStartBlock(netuid: number): Promise<number> {
    const call = (this.api.call as unknown as Record<string, Record<string, ((n: number) => Promise<Codec>) | undefined> | undefined>).subnetInfoRuntimeApi?.getNextEpochStartBlock;
    if (call !== undefined) {
      const value = (await call(netuid)).toJSON();
      if (value !== null && value !== undefined) return Number(value);
    }
    const [block, hp] = await Promise.all([this.currentBlock(), this.hyperparams(netuid)]);
    const remaining = blocksUntilNextEpoch(netuid, hp.tempo, block.number);
    if (remaining === undefined) throw new ChainError(`Subnet ${netuid} has tempo 0: it runs no epochs.`);
    return block.number + remaining;
  }

  async close(): Promise<void> {
    await this.api.disconnect();
  }
}
