/**
 * Peer behaviours for the adversarial simulation (gauntlet-spec §7, the attacks the Gauntlet
 * validator is built to resist; style.md §1.4). A behaviour changes one stage of the honest miner
 * window in `src/peer/miner.ts` and nothing else, so every cheater runs the real pipeline around
 * its cheat: real data loading, compression, wire format, signatures, storage and time gate.
 *
 * - honest: the miner window as specified.
 * - free-rider: uploads a zero pseudo-gradient and trains nothing (contributes no computation).
 * - noise: trains, then replaces Δ with Gaussian noise of the same L2 norm (a plausible-looking update).
 * - copier: trains nothing; re-signs another peer's submission of the same window as its own
 *   (Templar "copy miners", PR #111), uploading shortly after its victim.
 * - stale: trains honestly but never applies outer steps, so its θ falls out of sync (§5.9).
 * - data-lazy: trains on a pool that was not assigned to it (another uid's data), so its update helps
 *   its own assigned data no more than random data (the binary indicator, §7.2).
 * - poisoner: trains, then uploads −amplification·Δ (negated and scaled update).
 * - late: trains honestly but uploads after the put window closed (Templar TOO_LATE).
 */
import { GauntletError } from '../core/errors.ts';
import { Xoshiro128 } from '../core/prng.ts';

/** Every behaviour, by name: the one vocabulary of the simulations, the swarm, the peer worker and the Demo. */
export const BEHAVIOUR_NAMES = ['honest', 'free-rider', 'noise', 'copier', 'stale', 'data-lazy', 'poisoner', 'late'] as const;
export type BehaviourName = (typeof BEHAVIOUR_NAMES)[number];

export const CHEATER_BEHAVIOURS: readonly BehaviourName[] = BEHAVIOUR_NAMES.filter((name) => name !== 'honest');

/**
 * What each behaviour does, in words: the meaning every model of it keeps, the real one below and the
 * Demo's synthetic one (`src/ui/demo/synthetic-network.ts`), and what the Demo shows beside its name.
 */
export const BEHAVIOUR_MEANINGS: Readonly<Record<BehaviourName, string>> = {
  honest: 'trains on its assigned data and uploads in the put window',
  'free-rider': 'trains nothing and uploads a zero update',
  noise: 'uploads Gaussian noise with the norm of a real update',
  copier: "re-signs another peer's submission of the same window, uploaded after it",
  stale: 'trains honestly but never applies the outer step, so it falls further out of sync each window',
  'data-lazy': 'trains on data not assigned to it',
  poisoner: 'uploads its real update negated and tripled',
  late: 'trains honestly but uploads after the put window closed',
};

/** A behaviour name that is not one of `BEHAVIOUR_NAMES`. */
export class UnknownBehaviourError extends GauntletError {
  readonly code: string = 'unknown-behaviour';
  override readonly name = 'UnknownBehaviourError';
}

export function isBehaviourName(name: string): name is BehaviourName {
  return (BEHAVIOUR_NAMES as readonly string[]).includes(name);
}

export interface Behaviour {
  readonly name: BehaviourName;
  /** Whether the miner runs the inner steps at all. */
  readonly trains: boolean;
  /** The uid whose assigned data is trained on (its own for everyone but data-lazy). */
  trainingUid(ownUid: number): number;
  /**
   * Replaces the pseudo-gradient before error feedback; `window` seeds any randomness. Absent: Δ is
   * compressed as trained, so it can stay on the engine (the GPU) from training to the packed bytes.
   */
  readonly transformDelta?: (delta: Float32Array, window: number, uid: number) => Float32Array;
  /** For a copier: the uid whose submission it re-signs. */
  readonly copyFrom?: number;
  /**
   * A partial copier (the cheater suite's): it trains and compresses its own update, then replaces
   * this fraction of each chunk's kept entries with `copyFrom`'s, staying under the overlap
   * threshold. Absent: a copier re-signs the whole submission.
   */
  readonly copyFraction?: number;
  /** Whether the miner applies the window's outer step. */
  readonly appliesOuterStep: boolean;
  /**
   * When to upload, in ms after the put window opens (`time_min`). Honest peers upload at once;
   * a copier waits for its victim; a late uploader misses `time_max`.
   */
  uploadDelayMs(putWindowMs: number): number;
}

function base(name: BehaviourName): Behaviour {
  return {
    name,
    trains: true,
    trainingUid: (uid) => uid,
    appliesOuterStep: true,
    uploadDelayMs: (putWindowMs) => Math.min(500, putWindowMs / 4),
  };
}

export function honest(): Behaviour {
  return base('honest');
}

export function freeRider(): Behaviour {
  // Trains nothing, so its Δ is zero: the miner compresses a zero vector (and its decayed e).
  return { ...base('free-rider'), trains: false };
}

/** Gaussian noise with the L2 norm of the real Δ, drawn from `Xoshiro128(seed ^ window ^ uid)`. */
export function noise(seed = 0x5eed): Behaviour {
  return {
    ...base('noise'),
    transformDelta: (delta, window, uid) => {
      let norm = 0;
      for (const v of delta) norm += v * v;
      norm = Math.sqrt(norm);
      const rng = new Xoshiro128((seed ^ Math.imul(window, 0x9e3779b1) ^ uid) >>> 0);
      const out = new Float32Array(delta.length);
      let outNorm = 0;
      for (let i = 0; i < out.length; i++) {
        out[i] = rng.nextGaussian();
        outNorm += out[i]! * out[i]!;
      }
      const scale = outNorm > 0 ? norm / Math.sqrt(outNorm) : 0;
      for (let i = 0; i < out.length; i++) out[i] = out[i]! * scale;
      return out;
    },
  };
}

export function copier(copyFrom: number): Behaviour {
  return { ...base('copier'), trains: false, copyFrom, uploadDelayMs: (putWindowMs) => Math.min(1500, putWindowMs / 2) };
}

export function stale(): Behaviour {
  return { ...base('stale'), appliesOuterStep: false };
}

/** Trains on the pool of `uid + offset` instead of its own (a uid far outside the subnet by default). */
export function dataLazy(offset = 5000): Behaviour {
  return { ...base('data-lazy'), trainingUid: (uid) => uid + offset };
}

export function poisoner(amplification = 3): Behaviour {
  return { ...base('poisoner'), transformDelta: (delta) => delta.map((v) => -amplification * v) };
}

export function lateUploader(): Behaviour {
  return { ...base('late'), uploadDelayMs: (putWindowMs) => putWindowMs + 1000 };
}

/**
 * The behaviour called `name` with the simulation's parameters (poisoner ×3, data-lazy offset 5000);
 * a copier re-signs `copyVictim`'s submissions. One mapping for the demo, the swarm and the peer worker.
 */
export function behaviourByName(name: BehaviourName, copyVictim: number): Behaviour {
  switch (name) {
    case 'honest':
      return honest();
    case 'free-rider':
      return freeRider();
    case 'noise':
      return noise();
    case 'copier':
      return copier(copyVictim);
    case 'stale':
      return stale();
    case 'data-lazy':
      return dataLazy();
    case 'poisoner':
      return poisoner(3);
    case 'late':
      return lateUploader();
  }
  // Only reachable with a name from outside the type system (a message from the page).
  throw new UnknownBehaviourError(`'${String(name)}' is not a behaviour; use one of ${BEHAVIOUR_NAMES.join(', ')}.`);
}
