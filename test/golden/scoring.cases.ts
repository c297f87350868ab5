import { Xoshiro128 } from '../../src/core/prng.ts';
import {
  compareWithDebugSlices,
  indexOverlap,
  parseWindowScoringInputs,
  powerWeights,
  rankWeights,
  rateMatch,
  ScoringInputError,
  selectEvaluationUids,
  serializeState,
  syncScoreFromSteps,
  toChainWeights,
} from '../../src/core/scoring/index.ts';
import { signedUniform, simulateRun, testScoringConfig } from '../unit/scoring-helpers.ts';
import { sha256Hex, type GoldenCases } from './golden.ts';

const config = testScoringConfig();

function utf8Sha256(text: string): string {
  return sha256Hex(new TextEncoder().encode(text));
}

const cases: GoldenCases = {
  'openskill match, 6 players with a tie': () => {
    const rng = new Xoshiro128(11);
    const ratings = Array.from({ length: 6 }, () => ({ mu: 15 + 20 * rng.nextFloat(), sigma: 1 + 7 * rng.nextFloat() }));
    const scores = [0.012, -0.004, 0.012, 0.0, 0.031, 0.007];
    return rateMatch(ratings, scores, config);
  },
  'evaluation selection, 12 candidates, 5 seeds': () => {
    const run = simulateRun(8, 3, config);
    const state = run.results.at(-1)!.state;
    const candidates = [2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 22, 23];
    return [1, 2, 3, 4, 5].map((seed) => selectEvaluationUids(state, candidates, config, seed));
  },
  'index overlap of random chunk sets': () => {
    const rng = new Xoshiro128(5);
    const sets = (n: number) => Array.from({ length: n }, () => Uint16Array.from({ length: 16 }, () => rng.nextInt(64)));
    const a = { w1: sets(8), w2: sets(3) };
    const b = { w1: sets(8), w2: a.w2 };
    return indexOverlap(a, b);
  },
  'weights: power, rank with burn, u16': () => {
    const rng = new Xoshiro128(9);
    const finals = new Map(Array.from({ length: 9 }, (_, i) => [i + 2, rng.nextFloat() * 4 - 1] as [number, number]));
    const rank = rankWeights(finals, config);
    const power = powerWeights(finals, 2.2);
    return { rank: [...rank.entries()], power: [...power.entries()], chain: toChainWeights(rank) };
  },
  'sync score from debug slices': () => {
    const rng = new Xoshiro128(21);
    const validator = { a: [signedUniform(rng), signedUniform(rng)], b: [signedUniform(rng), signedUniform(rng)] };
    const avg = { a: [0.001, 0.002], b: [0.0015, 0.0005] };
    const peer = { a: validator.a.map((v) => v + 0.003 * signedUniform(rng)), b: validator.b.map((v) => v + 0.003 * signedUniform(rng)) };
    const check = compareWithDebugSlices(peer, validator, avg);
    return { check, sync: check.ok && check.stepsBehind !== null ? syncScoreFromSteps(check.stepsBehind, config) : null };
  },
  'synthetic run, 30 windows: state, weights and reasons': () => {
    const run = simulateRun(30, 77, config);
    const last = run.results.at(-1)!;
    return {
      state: utf8Sha256(serializeState(last.state)),
      reasons: utf8Sha256(JSON.stringify(run.results.map((r) => r.reasons))),
      weights: last.weights,
      chainWeights: last.chainWeights,
    };
  },
  'NaN loss is a typed input error': () => {
    try {
      parseWindowScoringInputs({
        window: 1,
        submittedUids: [],
        gather: null,
        validatorSlices: {},
        peerSlices: {},
        evalUids: [3],
        lossRandomBefore: 10,
        evaluations: { 3: { status: 'ok', lossOwnBefore: 10, lossOwnAfter: Number.NaN, lossRandomAfter: 9 } },
      });
      return 'accepted';
    } catch (error) {
      return error instanceof ScoringInputError ? { name: error.name, field: error.field } : 'other error';
    }
  },
};

export default cases;
