/**
 * The baselines a distributed run is judged against (issues #10, #19): AdamW on one engine, on the
 * same data and the same number of tokens as the distributed compressed run, with loss measured
 * after every window on one fixed evaluation set that both sides share.
 *
 * Why this is the fair comparison. DiLoCo (arXiv 2311.08105), DeMo and SparseLoCo (arXiv
 * 2508.15706, gauntlet-spec §10) judge a communication-efficient run against **data-parallel AdamW**
 * trained on the same data for the same number of tokens and the same number of optimiser steps,
 * because what a distributed optimiser gives up is loss per token, not wall-clock time. Per window `w`:
 *
 * - the distributed run: each miner `u` trains H inner AdamW steps on its assigned batches
 *   (`minerPool(u, w)` → `batchesForPool`, gauntlet-spec §4.1), compresses its pseudo-gradient
 *   (§5.2–5.4) and every peer applies the aggregated outer step (§6);
 * - data-parallel AdamW (the primary baseline; `trainDataParallelBaseline`, the Demo, the swarm
 *   report, the convergence suite): H optimiser steps, step s on the union of the peers' step-s
 *   batches (`dataParallelConfig`: a batch of peers × batchSize): same optimiser and
 *   hyper-parameters, same initial θ, same sequences, same tokens, same optimiser steps, and no
 *   compression, error feedback or outer step. It is what the peers would reach if they exchanged
 *   dense gradients every step;
 * - dense DiLoCo (`trainDenseDiLoCoWindow`): the distributed loop without compression, which
 *   isolates what the top-k and 2-bit values cost;
 * - small-batch AdamW (`trainCentralisedBaseline`, the only baseline before issue #19): peers × H
 *   steps of one peer's batch per window, step-major, so at equal tokens it takes peers times the
 *   optimiser steps and moves along the lr schedule peers times as fast. Kept and labelled for
 *   what it is; it overstates the network's cost.
 *
 * The evaluation set (`evaluationBatches`) is drawn from the whole token stream with a fixed seed;
 * miners also draw from the whole stream, so a few evaluation sequences may also have been trained
 * on (expected count ≈ evaluated × trained / total sequences; `CentralisedBaselineResult` reports the
 * actual number). Both runs are measured on the same set, so any such overlap favours neither.
 */
import type { RunConfig } from '../core/config.ts';
import { assignPool, batchesForPool, batchTokens, minerPool, sequenceCount } from '../core/data/assignment.ts';
import type { InnerOptimizerState, TokenBatch, TrainerEngine } from '../model/engine.ts';
import { GauntletError } from '../core/errors.ts';

/** Seed of the shared evaluation set unless a caller picks another (any fixed uint32 will do). */
export const EVALUATION_SEED = 0xe7a15eed;

/** Default size of the evaluation set, in batches of `inner.batchSize` sequences. */
export const DEFAULT_EVALUATION_BATCHES = 4;

/** An argument the baseline cannot work with: the message names it and what was expected. */
export class CentralisedBaselineError extends GauntletError {
  readonly code: string = 'centralised-baseline';
  override readonly name = 'CentralisedBaselineError';
}

/** The fixed evaluation set: its batches and the sequence ids they hold. */
export interface EvaluationSet {
  readonly batches: readonly TokenBatch[];
  /** Sequence ids (`sequenceTokens`), batch by batch. */
  readonly sequenceIds: readonly number[];
}

/**
 * `batches × inner.batchSize` distinct sequences drawn from the whole stream by `seed` (the seeded
 * partial shuffle of `assignPool`), as batches the engine's `evalLoss` takes. The same arguments
 * give the same set in Node and in a browser, so the distributed run and the baseline measure on
 * identical tokens.
 */
export function evaluationBatches(
  config: Pick<RunConfig, 'model' | 'inner'>,
  tokens: Uint8Array,
  seed: number = EVALUATION_SEED,
  batches: number = DEFAULT_EVALUATION_BATCHES,
): EvaluationSet {
  if (!Number.isSafeInteger(batches) || batches < 1) throw new CentralisedBaselineError(`the evaluation set needs at least one batch, got ${batches}`);
  const total = sequenceCount(tokens.length, config.model.seqLen);
  const { batchSize } = config.inner;
  const needed = batches * batchSize;
  if (needed > total) throw new CentralisedBaselineError(`the evaluation set needs ${needed} sequences but the token stream holds ${total}; use fewer batches`);
  const sequenceIds = assignPool(seed, total, needed);
  const out: TokenBatch[] = [];
  for (let b = 0; b < batches; b++) out.push(batchTokens(tokens, sequenceIds.slice(b * batchSize, (b + 1) * batchSize), config.model.seqLen));
  return { batches: out, sequenceIds };
}

/**
 * The same evaluation set as batches of `group` of its batches each, for an engine with a `group`
 * times larger batch (the data-parallel baseline's), with the same mean loss: every batch holds as
 * many tokens and every sequence counts equally. When the set's batch count is not a multiple of
 * `group`, the set is laid out `group / gcd(count, group)` times over (at most `group` times), so
 * each sequence is evaluated as often as every other and the mean is still the set's.
 */
export function regroupEvaluation(evaluation: EvaluationSet, group: number): EvaluationSet {
  if (!Number.isSafeInteger(group) || group < 1 || group > MAX_EVALUATION_GROUP) throw new CentralisedBaselineError(`cannot regroup evaluation batches in groups of ${group} (1 to ${MAX_EVALUATION_GROUP})`);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const repeats = group / gcd(evaluation.batches.length, group);
  const laid = Array.from({ length: repeats }, () => evaluation.batches).flat();
  const count = laid.length;
  const batches: TokenBatch[] = [];
  for (let start = 0; start < count; start += group) {
    const parts = laid.slice(start, start + group);
    const join = (pick: (b: TokenBatch) => Int32Array): Int32Array => {
      const out = new Int32Array(parts.reduce((n, b) => n + pick(b).length, 0));
      let at = 0;
      for (const b of parts) {
        out.set(pick(b), at);
        at += pick(b).length;
      }
      return out;
    };
    batches.push({ inputs: join((b) => b.inputs), targets: join((b) => b.targets) });
  }
  return { batches, sequenceIds: evaluation.sequenceIds };
}

/** The largest batch multiple an evaluation set is regrouped for: a baseline of at most this many peers. */
export const MAX_EVALUATION_GROUP = 256;

/** Mean token loss of the engine's current θ over the evaluation set (batches weigh equally: all hold `batchSize × seqLen` tokens). */
export async function evaluationLoss(engine: TrainerEngine, evaluation: EvaluationSet): Promise<number> {
  const losses = await engine.evalLoss(evaluation.batches);
  return losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length);
}

/**
 * The sequence ids of window `window`'s optimiser steps in the baseline: for inner step `s` of every
 * miner in `minerUids` order, that miner's step-`s` batch (`batchesForPool(minerPool(uid, window))`),
 * step-major. `peers × H` batches of `batchSize` ids: exactly what the miners train that window.
 */
export function centralisedWindowBatches(config: Pick<RunConfig, 'data' | 'inner'>, totalSequences: number, minerUids: readonly number[], window: number): number[][] {
  const { innerSteps, batchSize } = config.inner;
  const perMiner = minerUids.map((uid) => batchesForPool(minerPool(uid, window, config, totalSequences), innerSteps, batchSize));
  const steps: number[][] = [];
  for (let s = 0; s < innerSteps; s++) for (const batches of perMiner) steps.push(batches[s] as number[]);
  return steps;
}

/**
 * The data-parallel baseline's window (issue #19): H optimiser steps, step `s` on the union of every
 * miner's step-`s` batch (`peers × batchSize` sequences, in `minerUids` order). The same sequences
 * and tokens as the miners and as `centralisedWindowBatches`, but the optimiser steps of one miner:
 * what the peers would do if they could average dense gradients after every inner step. This is the
 * comparison DiLoCo, DeMo and SparseLoCo make.
 */
export function dataParallelWindowBatches(config: Pick<RunConfig, 'data' | 'inner'>, totalSequences: number, minerUids: readonly number[], window: number): number[][] {
  const { innerSteps, batchSize } = config.inner;
  const perMiner = minerUids.map((uid) => batchesForPool(minerPool(uid, window, config, totalSequences), innerSteps, batchSize));
  return Array.from({ length: innerSteps }, (_, s) => perMiner.flatMap((batches) => batches[s] as number[]));
}

/**
 * The run config of a data-parallel engine for `peers` miners: the same run with `peers ×
 * batchSize` sequences per step (the same initial θ: it depends on the model and the seed only).
 * The pool is widened when needed so that the config still validates; no pool is drawn from it.
 */
export function dataParallelConfig(config: RunConfig, peers: number): RunConfig {
  if (!Number.isSafeInteger(peers) || peers < 1) throw new CentralisedBaselineError(`peers must be a positive integer, got ${peers}`);
  const batchSize = config.inner.batchSize * peers;
  return {
    ...config,
    inner: { ...config.inner, batchSize },
    data: { ...config.data, poolSequences: Math.max(config.data.poolSequences, config.inner.innerSteps * batchSize) },
  };
}

/** Tokens trained per window by `peers` miners, and so by the baseline: peers × H × batchSize × seqLen. */
export function tokensPerWindow(config: Pick<RunConfig, 'model' | 'inner'>, peers: number): number {
  return peers * config.inner.innerSteps * config.inner.batchSize * config.model.seqLen;
}

export interface CentralisedBaselineOptions {
  readonly config: RunConfig;
  /** An engine initialised with `init(config)` (the run's initial θ), owned by the caller; θ is trained in place. */
  readonly engine: TrainerEngine;
  /** The run's token stream (`loadAllTokens` in Node, `loadTokenStream` in a browser). */
  readonly tokens: Uint8Array;
  /** The uids of the distributed run's training miners, whose assigned batches make up each window. */
  readonly minerUids: readonly number[];
  /**
   * The uids whose batches a window holds, when not every miner trained every window (a swarm's
   * browser peers can miss one under load): equal tokens then means the same batches the peers
   * really trained. `minerUids` for every window when omitted.
   */
  readonly trainersAt?: (window: number) => readonly number[];
  /** The distributed run's first window (assignments depend on the window number). */
  readonly firstWindow: number;
  readonly windows: number;
  /** The shared evaluation set (`evaluationBatches`). */
  readonly evaluation: EvaluationSet;
  /** Called after each window, e.g. to print progress. */
  readonly onWindow?: (result: CentralisedWindowResult) => void;
}

/** One window of the baseline. */
export interface CentralisedWindowResult {
  readonly window: number;
  /** Optimiser steps taken this window (peers × H). */
  readonly steps: number;
  /** Tokens trained from the first window through this one. */
  readonly cumulativeTokens: number;
  /** Mean training loss of this window's steps (each before its update); NaN when nobody trained in it. */
  readonly meanTrainLoss: number;
  /** Loss on the evaluation set after this window. */
  readonly evaluationLoss: number;
  readonly elapsedMs: number;
}

export interface CentralisedBaselineResult {
  /** Loss on the evaluation set at the initial θ, before any training. */
  readonly initialEvaluationLoss: number;
  readonly windows: readonly CentralisedWindowResult[];
  readonly totalTokens: number;
  /** How many evaluation sequences were also trained on (by the baseline, hence by the miners). */
  readonly trainedEvaluationSequences: number;
}

/** How a baseline lays a window's sequences out in optimiser steps. */
export type BaselineSteps = 'small-batch' | 'data-parallel';

/** What one baseline window trained. */
export interface BaselineWindow {
  readonly tokens: number;
  readonly losses: readonly number[];
  readonly elapsedMs: number;
  readonly sequenceIds: readonly number[];
}

/**
 * One window of a baseline on `engine` in place, over exactly the sequences `trainerUids` trained
 * in `window`: `small-batch`, peers × H AdamW steps of one peer's batch (`centralisedWindowBatches`,
 * step-major); `data-parallel`, H steps of the peers' union batch (`dataParallelWindowBatches`, on
 * an engine initialised with `dataParallelConfig`). A window nobody trained adds no tokens (its loss
 * is NaN). Shared by the benchmarks, the swarm report and the Demo's curve.
 */
export async function trainCentralisedWindow(
  engine: TrainerEngine,
  config: Pick<RunConfig, 'data' | 'inner' | 'model'>,
  tokens: Uint8Array,
  trainerUids: readonly number[],
  window: number,
  totalSequences: number = sequenceCount(tokens.length, config.model.seqLen),
  steps: BaselineSteps = 'small-batch',
): Promise<BaselineWindow> {
  if (trainerUids.length === 0) return { tokens: 0, losses: [NaN], elapsedMs: 0, sequenceIds: [] };
  const stepIds = (steps === 'small-batch' ? centralisedWindowBatches : dataParallelWindowBatches)(config, totalSequences, trainerUids, window);
  const batches = stepIds.map((ids) => batchTokens(tokens, ids, config.model.seqLen));
  // θ stays where the steps took it: the next window starts from there, as one machine's training does.
  const trained = await engine.trainInner(batches, batches.length);
  return { ...trained, sequenceIds: stepIds.flat() };
}

/** One data-parallel window (`trainCentralisedWindow` with `data-parallel` steps). */
export function trainDataParallelWindow(
  engine: TrainerEngine,
  config: Pick<RunConfig, 'data' | 'inner' | 'model'>,
  tokens: Uint8Array,
  trainerUids: readonly number[],
  window: number,
): Promise<BaselineWindow> {
  return trainCentralisedWindow(engine, config, tokens, trainerUids, window, undefined, 'data-parallel');
}

/**
 * Dense DiLoCo (arXiv 2311.08105) on the same data: each peer's engine trains its own H inner steps
 * from the shared θ (its AdamW state its own, as a miner's), the full pseudo-gradients are averaged
 * and every engine takes the outer SGD step θ ← θ − outerLr · mean(Δ). The distributed run without
 * compression, error feedback or scoring: the gap between the two is what the 1.56 % top-k and
 * 2-bit values cost. `engines[i]` trains `minerUids[i]`'s batches; all start from the same θ.
 */
export async function trainDenseDiLoCoWindow(
  engines: readonly TrainerEngine[],
  config: Pick<RunConfig, 'data' | 'inner' | 'model' | 'compression'>,
  tokens: Uint8Array,
  minerUids: readonly number[],
  window: number,
  totalSequences: number = sequenceCount(tokens.length, config.model.seqLen),
): Promise<{ readonly tokens: number; readonly losses: readonly number[] }> {
  if (engines.length !== minerUids.length) throw new CentralisedBaselineError(`dense DiLoCo needs one engine per miner, got ${engines.length} for ${minerUids.length}`);
  const { innerSteps, batchSize } = config.inner;
  let mean: Float32Array | undefined;
  const losses: number[] = [];
  let trainedTokens = 0;
  for (const [i, engine] of engines.entries()) {
    const ids = batchesForPool(minerPool(minerUids[i]!, window, config, totalSequences), innerSteps, batchSize);
    const trained = await engine.trainInner(ids.map((batch) => batchTokens(tokens, batch, config.model.seqLen)), innerSteps);
    losses.push(...trained.losses);
    trainedTokens += trained.tokens;
    const delta = await engine.pseudoGradient(); // θ0 − θH, and θ back at θ0
    mean ??= new Float32Array(delta.length);
    for (let j = 0; j < delta.length; j++) mean[j] = mean[j]! + delta[j]! / engines.length;
  }
  if (mean !== undefined) {
    for (let j = 0; j < mean.length; j++) mean[j] = config.compression.outerLr * mean[j]!;
    for (const engine of engines) await engine.applyOuter(mean);
  }
  return { tokens: trainedTokens, losses };
}

/** Refuses options a baseline cannot train with. */
function checkBaselineOptions(options: Pick<CentralisedBaselineOptions, 'minerUids' | 'firstWindow' | 'windows'>): void {
  const { minerUids, firstWindow, windows } = options;
  if (minerUids.length === 0) throw new CentralisedBaselineError('the baseline needs the uids of at least one training miner');
  if (new Set(minerUids).size !== minerUids.length) throw new CentralisedBaselineError(`miner uids must be distinct, got [${minerUids.join(', ')}]`);
  if (!Number.isSafeInteger(firstWindow) || firstWindow < 0) throw new CentralisedBaselineError(`firstWindow must be a non-negative integer, got ${firstWindow}`);
  if (!Number.isSafeInteger(windows) || windows < 1) throw new CentralisedBaselineError(`windows must be a positive integer, got ${windows}`);
}

/** Trains the small-batch AdamW baseline window by window (`small-batch` steps: peers × H optimiser steps per window). */
export async function trainCentralisedBaseline(options: CentralisedBaselineOptions): Promise<CentralisedBaselineResult> {
  const { config, engine, tokens, minerUids, evaluation } = options;
  checkBaselineOptions(options);
  const total = sequenceCount(tokens.length, config.model.seqLen);
  return baselineWindows(options, (window) => trainCentralisedWindow(engine, config, tokens, options.trainersAt?.(window) ?? minerUids, window, total), () => evaluationLoss(engine, evaluation));
}

/**
 * The loop both baselines share: the initial loss, then per window `trainWindow` and the loss after
 * it, with the running token count and the evaluation sequences that were also trained on.
 */
async function baselineWindows(
  options: Pick<CentralisedBaselineOptions, 'firstWindow' | 'windows' | 'evaluation' | 'onWindow'>,
  trainWindow: (window: number) => Promise<BaselineWindow>,
  evaluate: () => Promise<number>,
): Promise<CentralisedBaselineResult> {
  const { firstWindow, windows, evaluation } = options;
  const evaluated = new Set(evaluation.sequenceIds);
  const trainedEvaluation = new Set<number>();
  const initialEvaluationLoss = await evaluate();
  const results: CentralisedWindowResult[] = [];
  let cumulativeTokens = 0;
  for (let window = firstWindow; window < firstWindow + windows; window++) {
    const trained = await trainWindow(window);
    for (const id of trained.sequenceIds) if (evaluated.has(id)) trainedEvaluation.add(id);
    cumulativeTokens += trained.tokens;
    const result: CentralisedWindowResult = {
      window,
      steps: trained.tokens === 0 ? 0 : trained.losses.length,
      cumulativeTokens,
      meanTrainLoss: trained.losses.reduce((a, b) => a + b, 0) / Math.max(1, trained.losses.length),
      evaluationLoss: await evaluate(),
      elapsedMs: trained.elapsedMs,
    };
    results.push(result);
    options.onWindow?.(result);
  }
  return { initialEvaluationLoss, windows: results, totalTokens: cumulativeTokens, trainedEvaluationSequences: trainedEvaluation.size };
}

export interface DataParallelBaselineOptions extends Omit<CentralisedBaselineOptions, 'engine'> {
  /**
   * A new engine initialised for `config` (a `dataParallelConfig`), at `params` and `optimizerState`
   * when given, else at the run's initial θ. The baseline disposes every engine it makes.
   */
  readonly createEngine: (config: RunConfig, params?: Float32Array, optimizerState?: InnerOptimizerState) => Promise<TrainerEngine>;
}

/**
 * The primary baseline (issue #19) window by window: data-parallel AdamW, H optimiser steps per
 * window, each on the union of the step's batches of the peers that trained in that window. When
 * that number of peers changes (a swarm's peer missed a window, a Demo peer stopped being honest) θ
 * and the AdamW state move to an engine whose batch holds them all, as the Demo's curve does, so
 * every window still has equal tokens and equal optimiser steps. Evaluation batches are regrouped to
 * the engine's batch (`regroupEvaluation`): the same set, the same mean.
 */
export async function trainDataParallelBaseline(options: DataParallelBaselineOptions): Promise<CentralisedBaselineResult> {
  const { config, tokens, minerUids, firstWindow, evaluation } = options;
  checkBaselineOptions(options);
  const trainersAt = (window: number): readonly number[] => options.trainersAt?.(window) ?? minerUids;
  let peers = Math.max(1, trainersAt(firstWindow).length);
  let engine = await options.createEngine(dataParallelConfig(config, peers));
  try {
    const trainWindow = async (window: number): Promise<BaselineWindow> => {
      const uids = trainersAt(window);
      if (uids.length > 0 && uids.length !== peers) {
        const previous = engine;
        engine = await options.createEngine(dataParallelConfig(config, uids.length), await previous.exportParams(), await previous.exportOptimizerState());
        peers = uids.length;
        await previous.dispose();
      }
      return trainDataParallelWindow(engine, config, tokens, uids, window);
    };
    return await baselineWindows(options, trainWindow, () => evaluationLoss(engine, regroupEvaluation(evaluation, peers)));
  } finally {
    await engine.dispose();
  }
}
