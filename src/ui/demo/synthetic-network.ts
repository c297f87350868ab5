/**
 * SYNTHETIC validator measurements for the Demo view while the real peers (src/peer with the
 * trainer engine and the in-memory network) are not wired into it. Every number this file makes
 * is drawn from a seeded Xoshiro128 stream with a simple model of each behaviour below; none is a
 * measurement of any model. What is real is everything downstream: the inputs go through the
 * scoring module (`selectEvaluationUids`, `scoreWindow`: stage 1, stage 2, OpenSkill, overlap,
 * weights) exactly as a validator's would, so the Demo shows how the rules treat each behaviour.
 *
 * The behaviours are the real ones (`src/peer/behaviours.ts`: the same names, each with the meaning
 * `BEHAVIOUR_MEANINGS` states); this file models what a validator would measure of each, per window
 * (g = relative loss gain from the trial step, gauntlet-spec §7.2):
 * - honest: uploads in time, in sync, g_random ≈ 1 %, g_own ≈ g_random + 0.8 % (own data helps more);
 * - free-rider: its zero update does nothing: g_random = g_own = 0;
 * - noise: random update: g_random ≈ −2 %, g_own ≈ g_random;
 * - copier: re-uploads an honest peer's update later: same top-k indices, g_random of the victim,
 *   g_own ≈ g_random − 0.2 % (the copy was not trained on the copier's data);
 * - stale: never applies the outer step, so its debug slices stay at the model of the window it turned
 *   stale while the network's move on (one more outer step behind each window); weaker gains;
 * - data-lazy: trains on data other than its assignment: good g_random, g_own ≈ g_random − 0.1 %;
 * - poisoner: the negated, tripled update of a peer that trained: g_random ≈ −5 %, g_own ≈ g_random;
 * - late: uploads after the put window: skipped in the gather, "missing" when evaluated.
 * Gains scale linearly with `evalLrFactor` / 0.2 (a small trial step; a modelling choice).
 */
import type { ScoringConfig } from '../../core/config.ts';
import { Xoshiro128 } from '../../core/prng.ts';
import type { BehaviourName } from '../../peer/behaviours.ts';
import {
  activeUidsAt,
  evaluationCandidates,
  selectEvaluationUids,
  selectGatherPeers,
  type EvaluationOutcome,
  type GatherPeerList,
  type Uid,
  type ValidatorScoringState,
  type WindowScoringInputs,
} from '../../core/scoring/index.ts';

export const BEHAVIOUR_LABELS: Readonly<Record<BehaviourName, string>> = {
  honest: 'honest',
  'free-rider': 'free-rider',
  noise: 'noise',
  copier: 'copier',
  stale: 'stale',
  'data-lazy': 'data-lazy',
  poisoner: 'poisoner',
  late: 'late uploader',
};

/** The default line-up of 8 peers: half honest, one of each main adversary. */
export const DEFAULT_BEHAVIOURS: readonly BehaviourName[] = ['honest', 'honest', 'honest', 'honest', 'free-rider', 'copier', 'noise', 'late'];

/** uid of the first virtual peer (0 is the validator, 1 the burn uid in the presets). */
export const FIRST_PEER_UID = 2;

export interface SyntheticNetworkOptions {
  readonly behaviours: readonly BehaviourName[];
  readonly seed: number;
  /** Top-k positions per chunk in the simulated index sets (of `CHUNK_ENTRIES`). */
  readonly topk: number;
  readonly evalLrFactor: number;
}

/** Entries of one simulated chunk (a 64×64 chunk has 4096; 256 keeps the demo light). */
export const CHUNK_ENTRIES = 256;
const CHUNKS = 8;
const TENSORS = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.mlp.up_proj.weight'] as const;
const LOSS_FLOOR = 1.8;

/** What the simulation says happened in one window besides the scorer's inputs (for the timeline and charts). */
export interface SyntheticWindow {
  readonly inputs: WindowScoringInputs;
  /** The simulated network loss per token before this window's outer step. */
  readonly networkLoss: number;
}

export class SyntheticNetwork {
  private readonly rng: Xoshiro128;
  private window: number;
  private networkLoss = 5.5;
  /** The validator's slice history (most recent last), per tensor, 2 values each (§5.9). */
  private validatorSlices: Record<string, number[]>;
  /** A stale peer's slices, frozen at the model of the window it turned stale (dropped when it stops being stale). */
  private readonly frozenSlices = new Map<Uid, Record<string, number[]>>();
  private readonly drift: Record<string, number[]> = {};
  private peerList: GatherPeerList | null = null;
  private peerListWindow = 0;
  /** Each peer's behaviour now (`setBehaviour` changes one between windows). */
  private behaviours: readonly BehaviourName[];

  constructor(
    private readonly options: SyntheticNetworkOptions,
    firstWindow = 1,
  ) {
    this.behaviours = options.behaviours;
    this.rng = new Xoshiro128(options.seed);
    this.window = firstWindow;
    const start: Record<string, number[]> = {};
    for (const name of TENSORS) {
      start[name] = [this.gauss(0, 0.02), this.gauss(0, 0.02)];
      this.drift[name] = [this.gauss(0, 0.004), this.gauss(0, 0.004)];
    }
    this.validatorSlices = start;
  }

  uidOf(index: number): Uid {
    return FIRST_PEER_UID + index;
  }

  behaviourOf(uid: Uid): BehaviourName | undefined {
    return this.behaviours[uid - FIRST_PEER_UID];
  }

  /**
   * From the next window on, `uid` behaves as `behaviour`: the run goes on (same window count, the
   * validator's state, every other peer's behaviour), as a real peer that starts cheating would.
   */
  setBehaviour(uid: Uid, behaviour: BehaviourName): void {
    const index = uid - FIRST_PEER_UID;
    if (this.behaviours[index] === undefined) throw new RangeError(`uid ${uid} is not a peer of this demo network (uids ${FIRST_PEER_UID}–${FIRST_PEER_UID + this.behaviours.length - 1}).`);
    this.behaviours = this.behaviours.map((b, i) => (i === index ? behaviour : b));
  }

  private gauss(mean: number, std: number): number {
    return mean + std * this.rng.nextGaussian();
  }

  private indexSets(seed: number): Record<string, number[][]> {
    const rng = new Xoshiro128(seed);
    const k = Math.min(this.options.topk, CHUNK_ENTRIES);
    const out: Record<string, number[][]> = {};
    for (const name of TENSORS) {
      out[name] = Array.from({ length: CHUNKS }, () => {
        const chosen = new Set<number>();
        while (chosen.size < k) chosen.add(rng.nextInt(CHUNK_ENTRIES));
        return [...chosen];
      });
    }
    return out;
  }

  /** Relative loss gains (random, own) of one peer's trial step, before scaling by the eval lr factor. */
  private gains(behaviour: BehaviourName, victimRandomGain: number): { random: number; own: number } {
    switch (behaviour) {
      case 'honest': {
        const random = this.gauss(0.01, 0.003);
        return { random, own: random + this.gauss(0.008, 0.003) };
      }
      case 'free-rider':
        return { random: 0, own: 0 };
      case 'noise': {
        const random = this.gauss(-0.02, 0.005);
        return { random, own: random + this.gauss(0, 0.002) };
      }
      case 'copier':
        return { random: victimRandomGain, own: victimRandomGain + this.gauss(-0.002, 0.002) };
      case 'stale': {
        const random = this.gauss(0.004, 0.002);
        return { random, own: random + this.gauss(0.006, 0.003) };
      }
      case 'data-lazy': {
        const random = this.gauss(0.01, 0.003);
        return { random, own: random + this.gauss(-0.001, 0.002) };
      }
      case 'poisoner': {
        const random = this.gauss(-0.05, 0.01);
        return { random, own: random + this.gauss(0, 0.003) };
      }
      case 'late':
        return { random: 0, own: 0 };
    }
  }

  /** The inputs of the next window, scored against `state` (used for the evaluation choice). */
  next(state: ValidatorScoringState, config: ScoringConfig): SyntheticWindow {
    const w = this.window;
    this.window += 1;
    const uids = this.behaviours.map((_, i) => this.uidOf(i));
    const firstHonest = uids.find((uid) => this.behaviourOf(uid) === 'honest');

    // The validator's own slices after the outer step of w − 1: a steady drift per element.
    const previous = this.validatorSlices;
    const current: Record<string, number[]> = {};
    for (const name of TENSORS) current[name] = previous[name]!.map((v, i) => v - this.drift[name]![i]! * (1 + this.gauss(0, 0.05)));
    this.validatorSlices = current;
    for (const uid of uids) {
      if (this.behaviourOf(uid) !== 'stale') this.frozenSlices.delete(uid);
      else if (!this.frozenSlices.has(uid)) this.frozenSlices.set(uid, previous);
    }

    const submitted = uids;
    const active = activeUidsAt(state, w, submitted, config);
    // The gather-peer list (§5.7): re-posted every `peerReplacementFrequency` windows by the real selection;
    // a late gather peer is skipped and replaced by the next reserve that uploaded in time (`gather_with_reserve`).
    if (this.peerList === null || (w - this.peerListWindow) % config.peerReplacementFrequency === 0) {
      this.peerList = selectGatherPeers(state, active, config, (this.options.seed * 17 + w) >>> 0);
      this.peerListWindow = w;
    }
    const inTime = (uid: Uid): boolean => this.behaviourOf(uid) !== 'late';
    const gathered = this.peerList.peers.filter(inTime);
    const skipped = this.peerList.peers.filter((uid) => !inTime(uid));
    const reserves = this.peerList.reservePeers.filter(inTime);
    const skippedReserves = this.peerList.reservePeers.slice(0, skipped.length).filter((uid) => !inTime(uid));
    gathered.push(...reserves.slice(0, skipped.length));
    skipped.push(...skippedReserves);
    gathered.sort((a, b) => a - b);
    const attempted = gathered.length + skipped.length;

    const peerSlices: Record<string, Record<string, number[]>> = {};
    const indexSets: Record<string, Record<string, number[][]>> = {};
    const uploadTimes: Record<string, number> = {};
    for (const uid of uids) {
      const behaviour = this.behaviourOf(uid)!;
      peerSlices[String(uid)] = this.frozenSlices.get(uid) ?? current;
      const victim = behaviour === 'copier' && firstHonest !== undefined ? firstHonest : uid;
      indexSets[String(uid)] = this.indexSets((this.options.seed ^ Math.imul(w, 0x9e3779b1) ^ Math.imul(victim, 0x85ebca6b)) >>> 0);
      uploadTimes[String(uid)] = w * 10_000 + (behaviour === 'copier' ? 5_000 : uid * 10);
    }

    const evalUids = selectEvaluationUids(state, evaluationCandidates(state, active), config, (this.options.seed * 31 + w) >>> 0);
    const scale = this.options.evalLrFactor / 0.2;
    const evalSequences = config.evalSequences;
    const lossRandomBefore = this.networkLoss * evalSequences;
    const victimGain = this.gains('honest', 0).random;
    const evaluations: Record<string, EvaluationOutcome> = {};
    for (const uid of evalUids) {
      const behaviour = this.behaviourOf(uid)!;
      if (behaviour === 'late') {
        evaluations[String(uid)] = { status: 'missing' };
        continue;
      }
      const g = this.gains(behaviour, victimGain);
      const lossOwnBefore = this.networkLoss * evalSequences * (1 + this.gauss(0, 0.02));
      evaluations[String(uid)] = {
        status: 'ok',
        lossOwnBefore,
        lossOwnAfter: lossOwnBefore * (1 - scale * g.own),
        lossRandomAfter: lossRandomBefore * (1 - scale * g.random),
      };
    }

    // A toy model of the outer step: the network loss moves by the mean of the gathered peers' gains on
    // random data, each clipped to the median magnitude (as median-norm clipping bounds one peer's pull, §6).
    const networkLoss = this.networkLoss;
    const gains = gathered.map((uid) => this.gains(this.behaviourOf(uid)!, victimGain).random);
    const magnitudes = gains.map(Math.abs).sort((a, b) => a - b);
    const median = magnitudes.length === 0 ? 0 : magnitudes[Math.floor((magnitudes.length - 1) / 2)]!;
    const meanGain = gains.length === 0 ? 0 : gains.reduce((sum, g) => sum + Math.sign(g) * Math.min(Math.abs(g), median), 0) / gains.length;
    this.networkLoss = LOSS_FLOOR + (this.networkLoss - LOSS_FLOOR) * (1 - 4 * meanGain);

    return {
      networkLoss,
      inputs: {
        window: w,
        submittedUids: submitted,
        gather: attempted === 0 ? null : { gatheredUids: gathered, skippedUids: skipped, successRate: gathered.length / attempted },
        validatorSlices: current,
        peerSlices,
        evalUids,
        lossRandomBefore: evalUids.length === 0 ? null : lossRandomBefore,
        evaluations,
        indexSets,
        uploadTimes,
      },
    };
  }
}
