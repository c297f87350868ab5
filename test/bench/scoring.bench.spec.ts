import { test } from '@playwright/test';
import { compressErrorFeedback } from '../../src/core/compress/index.ts';
import type { ScoringConfig } from '../../src/core/config.ts';
import { gaussianArray, Xoshiro128 } from '../../src/core/prng.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import {
  createScoringState,
  findOverlaps,
  scoreWindow,
  type ChunkIndexSets,
  type EvaluationOutcome,
  type ValidatorScoringState,
  type WindowScoringInputs,
} from '../../src/core/scoring/index.ts';
import { parameterLayout } from '../../src/model/params.ts';
import { debugSlices } from '../../src/peer/gather.ts';
import { benchScale, medianMs, printBench } from './report.ts';

/**
 * Scoring cost for 256 peers (issue #10): `scoreWindow` (src/core/scoring, pure TypeScript, the
 * same code in Node and in a tab) on SYNTHETIC inputs shaped like a real validator window of the
 * tiny preset, for 256 peers against 16 peers, as cost per peer. Worst case for the scorer: every
 * peer submits, is gathered (copy detection over all n(n−1)/2 pairs, gauntlet-spec §7.5) and is
 * evaluated (one OpenSkill match of n players, §7.3), with `overlapGraceSteps` 0 so copy detection
 * runs from the first window. The inputs are not measurements of a model:
 * - index sets: the real compressor (`compressErrorFeedback`) on Gaussian noise, one buffer per peer,
 *   split per chunk as the validator does; one peer in 16 is a copier sending its neighbour's sets;
 * - debug slices: θ[10:12] per tensor of a drifting θ; one peer in 8 lags three windows behind;
 * - losses: summed losses near ln 256 with per-peer skills, as stage 2 reports them.
 */
const PEER_COUNTS = [16, 256] as const;
const WARMUP_WINDOWS = 2;
const TIMED_WINDOWS = benchScale() === 'quick' ? 3 : 8;

const runConfig = tinyRunConfig();
const layout = parameterLayout(runConfig.model);
const parameterCount = layout.reduce((n, s) => n + s.size, 0);

/** Per tensor, the chunk index sets of one compressed buffer (as the validator's `chunkIndexSets`). */
function indexSetsOf(seed: number): Record<string, ChunkIndexSets> {
  const out: Record<string, ChunkIndexSets> = {};
  for (const tensor of compressErrorFeedback(gaussianArray(parameterCount, seed, 1e-3), layout, runConfig.compression)) {
    const chunks: Uint16Array[] = [];
    for (let start = 0; start < tensor.indices.length; start += tensor.k) chunks.push(tensor.indices.subarray(start, start + tensor.k));
    out[tensor.name] = chunks;
  }
  return out;
}

interface SyntheticSubnet {
  readonly uids: readonly number[];
  readonly indexSets: Readonly<Record<string, Record<string, ChunkIndexSets>>>;
  readonly skill: ReadonlyMap<number, number>;
}

function syntheticSubnet(peers: number): SyntheticSubnet {
  const uids = Array.from({ length: peers }, (_, i) => 2 + i);
  const rng = new Xoshiro128(peers);
  const indexSets: Record<string, Record<string, ChunkIndexSets>> = {};
  const skill = new Map<number, number>();
  for (const [i, uid] of uids.entries()) {
    // A copier (every 16th peer) re-sends the sets of the peer before it.
    indexSets[String(uid)] = i % 16 === 15 ? indexSetsOf(1000 + uid - 1) : indexSetsOf(1000 + uid);
    skill.set(uid, 0.005 + 0.02 * rng.nextFloat());
  }
  return { uids, indexSets, skill };
}

/** One window's inputs: θ drifts every window; slices, losses and upload times as described above. */
function windowInputs(subnet: SyntheticSubnet, window: number, thetaHistory: Float32Array[], rng: Xoshiro128): WindowScoringInputs {
  const current = thetaHistory.at(-1)!;
  const lagged = thetaHistory[Math.max(0, thetaHistory.length - 4)]!;
  const validatorSlices = debugSlices(current, layout);
  const peerSlices: Record<string, Record<string, number[]> | null> = {};
  const evaluations: Record<string, EvaluationOutcome> = {};
  const uploadTimes: Record<string, number> = {};
  const lossRandomBefore = 5.5 + 0.1 * rng.nextFloat();
  for (const [i, uid] of subnet.uids.entries()) {
    peerSlices[String(uid)] = debugSlices(i % 8 === 7 ? lagged : current, layout);
    const gain = subnet.skill.get(uid)! * (0.5 + rng.nextFloat());
    const lossOwnBefore = 5.5 + 0.1 * rng.nextFloat();
    evaluations[String(uid)] = { status: 'ok', lossOwnBefore, lossOwnAfter: lossOwnBefore * (1 - gain), lossRandomAfter: lossRandomBefore * (1 - 0.3 * gain) };
    uploadTimes[String(uid)] = window * 5000 + 10 * i;
  }
  return {
    window,
    submittedUids: subnet.uids,
    gather: { gatheredUids: subnet.uids, skippedUids: [], successRate: 1 },
    validatorSlices,
    peerSlices,
    evalUids: subnet.uids,
    lossRandomBefore,
    evaluations,
    indexSets: subnet.indexSets,
    uploadTimes,
  };
}

interface ScoringTimes {
  /** Median ms of one `scoreWindow` call. */
  readonly window: number;
  /** Median ms of the copy-detection pass alone (`findOverlaps` over every gathered pair). */
  readonly overlap: number;
  readonly flagged: number;
}

function timeScoring(peers: number): ScoringTimes {
  const subnet = syntheticSubnet(peers);
  const config: ScoringConfig = { ...runConfig.scoring, gatherPeers: peers, reservePeers: 0, uidsPerWindow: peers, overlapGraceSteps: 0 };
  const rng = new Xoshiro128(7 + peers);
  const theta = [gaussianArray(parameterCount, 3, 0.02)];
  let state: ValidatorScoringState = createScoringState();
  const windowMs: number[] = [];
  const overlapMs: number[] = [];
  let flagged = 0;
  for (let w = 1; w <= WARMUP_WINDOWS + TIMED_WINDOWS; w++) {
    const next = theta.at(-1)!.map((v) => v - 1e-3 * (rng.nextFloat() - 0.5));
    theta.push(next);
    const inputs = windowInputs(subnet, w, theta, rng);
    const started = performance.now();
    const result = scoreWindow(state, inputs, config);
    const scored = performance.now();
    flagged = findOverlaps(inputs.indexSets, inputs.uploadTimes, config).length;
    const overlapDone = performance.now();
    state = result.state;
    if (w > WARMUP_WINDOWS) {
      windowMs.push(scored - started);
      overlapMs.push(overlapDone - scored);
    }
  }
  return { window: medianMs(windowMs), overlap: medianMs(overlapMs), flagged };
}

test('scoring cost: scoreWindow for 256 peers vs 16 peers, per peer', () => {
  test.setTimeout(1_200_000);
  const [small, large] = PEER_COUNTS.map((n) => timeScoring(n)) as [ScoringTimes, ScoringTimes];
  const [nSmall, nLarge] = PEER_COUNTS;
  printBench('scoring-cost', `Node (pure TS); tiny-preset index sets (${layout.length} tensors), every peer gathered and evaluated, medians of ${TIMED_WINDOWS} windows; copy pairs flagged: ${small.flagged} of ${nSmall}, ${large.flagged} of ${nLarge}`, [
    { name: `scoreWindow per peer, ${nLarge} peers`, unit: 'ms', value: large.window / nLarge, baselineName: `per peer, ${nSmall} peers`, baseline: small.window / nSmall, better: 'lower' },
    { name: `copy detection per peer, ${nLarge} peers`, unit: 'ms', value: large.overlap / nLarge, baselineName: `per peer, ${nSmall} peers`, baseline: small.overlap / nSmall, better: 'lower' },
    { name: `scoreWindow, whole window, ${nLarge} peers`, unit: 'ms', value: large.window, baselineName: `whole window, ${nSmall} peers`, baseline: small.window, better: 'lower' },
  ]);
});
