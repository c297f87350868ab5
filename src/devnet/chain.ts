/**
 * The devnet's chain model: registration with subtensor-like limits and pruning, validator
 * permits, incentive, weights, commitments and the stake faucet. Permits, incentive, the weights
 * rate limit and the u16 weight rows follow `src/net/subnet-rules.ts`, as the in-memory network does.
 * Every method checks first and changes `DevnetState` only when the call is accepted; the caller
 * saves. Reads (`metagraph`, `commitments`) change nothing.
 *
 * Registration limits, all enforced together:
 * - per subnet, at most `maxRegistrationsPerInterval` in `registrationIntervalBlocks` (subtensor's
 *   registrations per interval), and across all subnets at most `maxRegistrationsPerIntervalTotal`;
 * - at most `maxSubnets` subnets (registration on a new netuid creates it);
 * - at most `maxUidsPerSubnet` uids: a full subnet prunes the uid with the lowest incentive (ties:
 *   the oldest registration, then the lower uid) among those past `immunityPeriodBlocks` since their
 *   registration, as subtensor prunes the lowest pruning score past `immunity_period`; the subnet
 *   owner and the run's named validators are never pruned. So sybils that fill a subnet lose their
 *   uids to newcomers once their immunity ends, while peers that earn incentive keep theirs.
 */
import { BadRequestError, NotRegisteredError, OversizedError, RateLimitedError, UnauthorizedError } from '../net/errors.ts';
import type { DevnetWeightsBody } from '../net/devnet-protocol.ts';
import { checkWeightsRateLimit, incentiveShares, validatorPermits, type PermitRule, type StakedUid } from '../net/subnet-rules.ts';
import type { Metagraph } from '../net/types.ts';
import type { DevnetState, Neuron } from './state.ts';

export interface ChainLimits extends PermitRule {
  readonly maxRegistrationsPerInterval: number;
  readonly maxRegistrationsPerIntervalTotal: number;
  readonly registrationIntervalBlocks: number;
  readonly maxUidsPerSubnet: number;
  readonly maxSubnets: number;
  readonly immunityPeriodBlocks: number;
  readonly weightsRateLimitBlocks: number;
  /** Stake per hotkey never exceeds this (finite, so no sum overflows to Infinity). */
  readonly maxStake: number;
}

/** Largest stake the faucet gives one hotkey: 1e15, far above any permit threshold, far below overflow. */
export const DEFAULT_MAX_STAKE = 1e15;

/** The largest commitment, in bytes (subtensor's `Data::Raw` fields hold at most 128). */
export const MAX_COMMITMENT_BYTES = 128;

export class DevnetChainModel {
  /** Blocks of recent registrations, per netuid and across all (not persisted: a restart forgets the rate window). */
  private readonly recentBySubnet = new Map<number, number[]>();
  private readonly recentAll: number[] = [];

  constructor(
    private readonly state: DevnetState,
    private readonly limits: ChainLimits,
    /** Hotkeys never pruned from a netuid: its owner (and, on the run's netuid, its named validators). */
    private readonly protectedHotkeys: (netuid: number) => ReadonlySet<string>,
    /** Called after a neuron lost its uid to pruning (the server drops its bucket). */
    private readonly onPruned: (netuid: number, neuron: Neuron) => void,
  ) {}

  metagraph(netuid: number, block: number): Metagraph {
    const subnet = this.state.subnet(netuid);
    const neurons = [...subnet.neurons].sort((a, b) => a.uid - b.uid);
    const incentive = this.incentives(netuid);
    const permitted = this.permits(netuid);
    return {
      netuid,
      block,
      uids: neurons.map((n) => n.uid),
      hotkeys: neurons.map((n) => n.hotkey),
      coldkeys: neurons.map((n) => n.hotkey),
      stake: neurons.map((n) => n.stake ?? 0),
      validatorPermit: neurons.map((n) => permitted.has(n.uid)),
      incentive: neurons.map((n) => incentive.get(n.uid) ?? 0),
      lastUpdate: neurons.map((n) => subnet.weights[String(n.uid)]?.block ?? 0),
      active: neurons.map(() => true),
    };
  }

  /** Incentive and permits by the rules the in-memory network applies too (`src/net/subnet-rules.ts`). */
  private incentives(netuid: number): Map<number, number> {
    const subnet = this.state.subnet(netuid);
    const rows = Object.entries(subnet.weights).map(([uid, w]) => ({ setterUid: Number(uid), uids: w.uids, values: w.weights }));
    return incentiveShares(this.stakedUids(netuid), rows);
  }

  private permits(netuid: number): Set<number> {
    return validatorPermits(this.stakedUids(netuid), this.limits);
  }

  private stakedUids(netuid: number): StakedUid[] {
    return this.state.subnet(netuid).neurons.map((n) => ({ uid: n.uid, stake: n.stake ?? 0 }));
  }

  private requireNeuron(netuid: number, hotkey: string): Neuron {
    const neuron = this.state.neuron(netuid, hotkey);
    if (neuron === undefined) throw NotRegisteredError.of(hotkey, netuid);
    return neuron;
  }

  /** Recent registration blocks within the interval ending at `block` (older ones are dropped). */
  private recent(list: number[], block: number): number[] {
    const from = block - this.limits.registrationIntervalBlocks;
    while (list.length > 0 && (list[0] ?? 0) <= from) list.shift();
    return list;
  }

  /**
   * Registers `hotkey` on `netuid` at `block`; registering again returns the same uid and changes
   * nothing (`changed: false`, so the caller need not save).
   */
  register(netuid: number, hotkey: string, block: number): { uid: number; block: number; changed: boolean } {
    const existing = this.state.neuron(netuid, hotkey);
    if (existing !== undefined) return { uid: existing.uid, block: existing.registeredAtBlock, changed: false };
    const { limits } = this;
    if (!this.state.hasSubnet(netuid) && this.state.subnetCount() >= limits.maxSubnets) {
      throw new RateLimitedError(`The devnet holds ${this.state.subnetCount()} subnets, its most (${limits.maxSubnets}); netuid ${netuid} does not exist and is not created. Register on an existing subnet.`);
    }
    const bySubnet = this.recent(this.recentBySubnet.get(netuid) ?? [], block);
    this.recentBySubnet.set(netuid, bySubnet);
    if (bySubnet.length >= limits.maxRegistrationsPerInterval) {
      throw new RateLimitedError(`Subnet ${netuid} accepted ${bySubnet.length} registrations in the last ${limits.registrationIntervalBlocks} blocks (limit ${limits.maxRegistrationsPerInterval}); retry in a few blocks.`);
    }
    const all = this.recent(this.recentAll, block);
    if (all.length >= limits.maxRegistrationsPerIntervalTotal) {
      throw new RateLimitedError(`The devnet accepted ${all.length} registrations across its subnets in the last ${limits.registrationIntervalBlocks} blocks (limit ${limits.maxRegistrationsPerIntervalTotal}); retry in a few blocks.`);
    }
    const subnet = this.state.subnet(netuid);
    let uid: number;
    let pruned: Neuron | undefined;
    if (subnet.neurons.length >= limits.maxUidsPerSubnet) {
      pruned = this.pruneCandidate(netuid, block);
      uid = pruned.uid;
    } else {
      const taken = new Set(subnet.neurons.map((n) => n.uid));
      uid = 0;
      while (taken.has(uid)) uid++;
    }
    // Every check passed: from here on the state changes.
    if (pruned !== undefined) {
      this.state.removeNeuron(netuid, pruned);
      this.onPruned(netuid, pruned);
    }
    this.state.subnetForWrite(netuid).neurons.push({ uid, hotkey, registeredAtBlock: block });
    bySubnet.push(block);
    all.push(block);
    return { uid, block, changed: true };
  }

  /** The uid a registration on the full `netuid` replaces; `RateLimitedError` while every uid is immune or protected. */
  private pruneCandidate(netuid: number, block: number): Neuron {
    const protectedHotkeys = this.protectedHotkeys(netuid);
    const incentive = this.incentives(netuid);
    const { immunityPeriodBlocks } = this.limits;
    const candidates = this.state.subnet(netuid).neurons.filter((n) => !protectedHotkeys.has(n.hotkey) && n.registeredAtBlock + immunityPeriodBlocks <= block);
    candidates.sort((a, b) => (incentive.get(a.uid) ?? 0) - (incentive.get(b.uid) ?? 0) || a.registeredAtBlock - b.registeredAtBlock || a.uid - b.uid);
    const chosen = candidates[0];
    if (chosen === undefined) {
      const immuneUntil = Math.min(...this.state.subnet(netuid).neurons.filter((n) => !protectedHotkeys.has(n.hotkey)).map((n) => n.registeredAtBlock + immunityPeriodBlocks));
      const when = Number.isFinite(immuneUntil) ? `retry at block ${immuneUntil}, when the first immunity ends` : 'every uid is held by the owner or a named validator';
      throw new RateLimitedError(`Subnet ${netuid} is full (${this.limits.maxUidsPerSubnet} uids) and no uid can be pruned yet (immunity period ${immunityPeriodBlocks} blocks): ${when}.`);
    }
    return chosen;
  }

  /** Faucet: adds stake to a registered hotkey, clamped to `maxStake`. */
  addStake(netuid: number, hotkey: string, amount: unknown): number {
    const neuron = this.requireNeuron(netuid, hotkey);
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) throw new BadRequestError('Stake needs {amount}: a positive finite number.');
    neuron.stake = Math.min(this.limits.maxStake, (neuron.stake ?? 0) + amount);
    return neuron.stake;
  }

  setCommitment(netuid: number, hotkey: string, data: Uint8Array, dataHex: string, block: number): void {
    this.requireNeuron(netuid, hotkey);
    if (data.length > MAX_COMMITMENT_BYTES) throw OversizedError.of(data.length, MAX_COMMITMENT_BYTES, 'A commitment');
    this.state.subnetForWrite(netuid).commitments[hotkey] = { block, dataHex };
  }

  /** Weights of a registered hotkey that holds a validator permit, at most once per `weightsRateLimitBlocks`. */
  setWeights(netuid: number, hotkey: string, body: Partial<DevnetWeightsBody>, block: number): void {
    const neuron = this.requireNeuron(netuid, hotkey);
    const subnet = this.state.subnet(netuid);
    const { uids, weights, versionKey } = body;
    if (!Array.isArray(uids) || !Array.isArray(weights) || uids.length !== weights.length || typeof versionKey !== 'string' || versionKey.length > 40
      || !uids.every((u) => subnet.neurons.some((n) => n.uid === u))
      || !weights.every((w) => Number.isInteger(w) && w >= 0 && w <= 65_535) || new Set(uids).size !== uids.length) {
      throw new BadRequestError('Weights need {uids, weights, versionKey}: equal lengths, distinct registered uids, u16 weights.');
    }
    if (!this.permits(netuid).has(neuron.uid)) {
      throw new UnauthorizedError(`Hotkey ${hotkey} (uid ${neuron.uid}) holds no validator permit on netuid ${netuid}: only the top ${this.limits.maxAllowedValidators} stakers with at least ${this.limits.minValidatorStake} stake may set weights.`);
    }
    checkWeightsRateLimit(neuron.uid, subnet.weights[String(neuron.uid)]?.block, block, this.limits.weightsRateLimitBlocks);
    this.state.subnetForWrite(netuid).weights[String(neuron.uid)] = { block, uids, weights, versionKey };
  }
}
