/**
 * `npm run swarm` arguments: how many browser peers, which of them cheat and how (the behaviours of
 * src/peer/behaviours.ts), and which uid each gets. Pure, so the parsing is unit-tested apart from
 * the browsers.
 */
import { CHEATER_BEHAVIOURS, isBehaviourName, type BehaviourName } from '../peer/behaviours.ts';
import { GauntletError } from '../core/errors.ts';

/** A swarm argument that cannot be used; the message says what to pass instead. */
export class SwarmArgumentError extends GauntletError {
  readonly code: string = 'swarm-argument';
  override readonly name = 'SwarmArgumentError';
}

/**
 * `free-rider:1,copier:1` → [['free-rider', 1], ['copier', 1]] in the order given. A name without a
 * count means one; '' and 'none' mean no adversaries.
 */
export function parseAdversarySpec(spec: string): [BehaviourName, number][] {
  const trimmed = spec.trim();
  if (trimmed === '' || trimmed === 'none') return [];
  const out = new Map<BehaviourName, number>();
  for (const part of trimmed.split(',')) {
    const [rawName = '', rawCount, ...extra] = part.trim().split(':');
    const name = rawName.trim();
    if (!isBehaviourName(name) || name === 'honest') {
      throw new SwarmArgumentError(`--adversaries: '${name}' is not a cheating behaviour; use one of ${CHEATER_BEHAVIOURS.join(', ')} (e.g. free-rider:1,copier:1).`);
    }
    const count = rawCount === undefined ? 1 : Number(rawCount.trim());
    if (extra.length > 0 || !Number.isInteger(count) || count < 1) {
      throw new SwarmArgumentError(`--adversaries: '${part.trim()}' must be name:count with a whole count ≥ 1 (e.g. ${name}:1).`);
    }
    out.set(name, (out.get(name) ?? 0) + count);
  }
  return [...out.entries()];
}

/** One browser peer of the swarm: its devnet development key and what it runs. */
export interface SwarmPeerPlan {
  /** Position in the swarm, 0-based; uids follow registration order. */
  readonly index: number;
  /** Devnet development key (public by design; distinct per peer). */
  readonly uri: string;
  readonly behaviour: BehaviourName;
}

/**
 * Honest peers first, then the adversaries in the order given, so honest peers register first and
 * a copier's victim (the first honest peer) exists before it. Needs at least one honest peer: the
 * report compares adversaries with honest peers, and a copier needs someone to copy.
 */
export function planPeers(peers: number, adversaries: readonly (readonly [BehaviourName, number])[]): SwarmPeerPlan[] {
  if (!Number.isInteger(peers) || peers < 2) throw new SwarmArgumentError(`--peers must be a whole number ≥ 2 (OpenSkill ranks at least two peers), got ${peers}.`);
  const cheaters = adversaries.flatMap(([name, count]) => Array.from({ length: count }, () => name));
  if (cheaters.length >= peers) {
    throw new SwarmArgumentError(`--adversaries asks for ${cheaters.length} cheating peer(s) but --peers is ${peers}; leave at least one honest peer (raise --peers).`);
  }
  const behaviours: BehaviourName[] = [...Array.from({ length: peers - cheaters.length }, (): BehaviourName => 'honest'), ...cheaters];
  return behaviours.map((behaviour, index) => ({ index, uri: `//SwarmPeer${index}`, behaviour }));
}
