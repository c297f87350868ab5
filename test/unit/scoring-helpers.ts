/**
 * Test-side helpers of the scoring tests, the golden cases and the replay fixture: the v2.1.3
 * scoring constants (gauntlet-spec §7.6, §8.2, with small peer counts) and a SYNTHETIC run
 * generator. The generator's losses, slices and index sets are drawn from Xoshiro128 with simple
 * behaviour models (honest, lazy, flaky, lagging, copier); they are not measurements of any model.
 */

import type { ScoringConfig } from '../../src/core/config.ts';
import { Xoshiro128 } from '../../src/core/prng.ts';
import { tinyRunConfig, withScoringProfile } from '../../src/core/run-config.ts';
import {
  activeUidsAt,
  createScoringState,
  evaluationCandidates,
  scoreWindow,
  selectEvaluationUids,
  type EvaluationOutcome,
  type ValidatorScoringState,
  type WindowScoringInputs,
  type WindowScoringResult,
} from '../../src/core/scoring/index.ts';

/**
 * The `tiny` preset's scoring constants (browser-sized peer counts) under the `templar-v2.1.3`
 * profile, whose rules these tests derive from Templar v2.1.3's formulas; the `templar-2026`
 * profile's rules have their own tests (scoring-profile-2026.test.ts).
 */
export function testScoringConfig(overrides: Partial<ScoringConfig> = {}): ScoringConfig {
  return { ...withScoringProfile(tinyRunConfig().scoring, 'templar-v2.1.3'), ...overrides };
}

/** Behaviour model of one synthetic peer. */
export type SyntheticBehaviour = 'honest' | 'lazy' | 'flaky' | 'lagging' | 'copier' | 'leaver';

export const SYNTHETIC_PEERS: ReadonlyArray<{ uid: number; behaviour: SyntheticBehaviour; skill: number }> = [
  { uid: 2, behaviour: 'honest', skill: 0.02 },
  { uid: 3, behaviour: 'honest', skill: 0.015 },
  { uid: 4, behaviour: 'honest', skill: 0.01 },
  { uid: 5, behaviour: 'lazy', skill: 0.012 },
  { uid: 6, behaviour: 'flaky', skill: 0.018 },
  { uid: 7, behaviour: 'lagging', skill: 0.016 },
  { uid: 8, behaviour: 'copier', skill: 0.02 },
  { uid: 9, behaviour: 'leaver', skill: 0.014 },
];

/**
 * A uniform draw in [−1, 1): integer arithmetic and one exact division, so the same bits in every
 * engine (Box–Muller's log/cos are not correctly rounded and differ in the last bit between V8 versions).
 */
export function signedUniform(rng: Xoshiro128): number {
  return 2 * rng.nextFloat() - 1;
}

const TENSORS = { 'layers.0.attn.wq': 2, 'layers.0.mlp.w1': 3 } as const;
const CHUNKS = 4;
const TOTALK = 256;
const TOPK = 8;

function randomChunkSets(rng: Xoshiro128): number[][] {
  return Array.from({ length: CHUNKS }, () => {
    const picked = new Set<number>();
    while (picked.size < TOPK) picked.add(rng.nextInt(TOTALK));
    return [...picked].sort((a, b) => a - b);
  });
}

/** One simulated run: the recorded inputs of every window and the scorer's results. */
export interface SyntheticRun {
  readonly inputs: WindowScoringInputs[];
  readonly results: WindowScoringResult[];
}

/**
 * Simulates `windows` validator windows, choosing the evaluated uids as the validator loop would
 * (activity → candidates → `selectEvaluationUids` with seed `seed ^ window`) and scoring each.
 */
export function simulateRun(windows: number, seed: number, config: ScoringConfig, firstWindow = 100): SyntheticRun {
  const rng = new Xoshiro128(seed);
  let state: ValidatorScoringState = createScoringState();
  const history: Record<string, number[]>[] = [];
  let theta: Record<string, number[]> = {};
  for (const name of Object.keys(TENSORS)) theta[name] = [signedUniform(rng) * 0.02, signedUniform(rng) * 0.02];
  const inputs: WindowScoringInputs[] = [];
  const results: WindowScoringResult[] = [];
  for (let i = 0; i < windows; i++) {
    const window = firstWindow + i;
    history.push(theta);
    const submitted = SYNTHETIC_PEERS.filter((p) => {
      if (p.behaviour === 'leaver') return i < 12 || i >= 22;
      if (p.behaviour === 'flaky') return rng.nextFloat() < 0.7;
      return true;
    }).map((p) => p.uid);
    const gathered = submitted.slice(0, 6);
    const skipped = SYNTHETIC_PEERS.map((p) => p.uid).filter((uid) => !submitted.includes(uid)).slice(0, 2);
    const active = activeUidsAt(state, window, submitted, config);
    const evalUids = selectEvaluationUids(state, evaluationCandidates(state, active), config, (seed ^ window) >>> 0);
    const lossRandomBefore = 400 + rng.nextFloat() * 20;
    const evaluations: Record<string, EvaluationOutcome> = {};
    for (const uid of evalUids) {
      const peer = SYNTHETIC_PEERS.find((p) => p.uid === uid)!;
      if (!submitted.includes(uid)) {
        evaluations[String(uid)] = { status: 'missing' };
        continue;
      }
      const gain = peer.skill * (0.8 + 0.4 * rng.nextFloat());
      const lossOwnBefore = 400 + rng.nextFloat() * 20;
      const ownFactor = peer.behaviour === 'lazy' || peer.behaviour === 'copier' ? 0.7 : 1.6;
      evaluations[String(uid)] = {
        status: 'ok',
        lossOwnBefore,
        lossOwnAfter: lossOwnBefore * (1 - gain * ownFactor),
        lossRandomAfter: lossRandomBefore * (1 - gain),
      };
    }
    const peerSlices: Record<string, Record<string, number[]> | null> = {};
    for (const p of SYNTHETIC_PEERS) {
      if (!submitted.includes(p.uid)) continue;
      // Twelve windows behind: θ moves as a random walk, so a lag of n windows reads as about √n typical steps (the sync check's unit).
      const lag = p.behaviour === 'lagging' ? Math.min(12, history.length - 1) : 0;
      peerSlices[String(p.uid)] = history[history.length - 1 - lag]!;
    }
    const indexSets: Record<string, Record<string, number[][]>> = {};
    const uploadTimes: Record<string, number> = {};
    for (const uid of gathered) {
      const sets: Record<string, number[][]> = {};
      for (const name of Object.keys(TENSORS)) sets[name] = randomChunkSets(rng);
      indexSets[String(uid)] = sets;
      uploadTimes[String(uid)] = 1_700_000_000_000 + window * 60_000 + rng.nextInt(5000);
    }
    const copierKey = '8';
    const victimKey = '2';
    if (indexSets[copierKey] !== undefined && indexSets[victimKey] !== undefined) {
      indexSets[copierKey] = indexSets[victimKey];
      uploadTimes[copierKey] = uploadTimes[victimKey]! + 1500;
    }
    const windowInputs: WindowScoringInputs = {
      window,
      submittedUids: submitted,
      gather: { gatheredUids: gathered, skippedUids: skipped, successRate: gathered.length / (gathered.length + skipped.length) },
      validatorSlices: theta,
      peerSlices,
      evalUids,
      lossRandomBefore: evalUids.length > 0 ? lossRandomBefore : null,
      evaluations,
      indexSets,
      uploadTimes,
    };
    const result = scoreWindow(state, windowInputs, config);
    inputs.push(windowInputs);
    results.push(result);
    state = result.state;
    const next: Record<string, number[]> = {};
    for (const [name, slice] of Object.entries(theta)) next[name] = slice.map((v) => v - 1e-3 * signedUniform(rng));
    theta = next;
  }
  return { inputs, results };
}
