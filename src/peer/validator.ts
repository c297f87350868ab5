/**
 * The validator loop, one window at a time (gauntlet-spec §3.4 and §7.8, Templar v2.1.3
 * `neurons/validator.py::Validator.run`). For sync window s (the chain is in s + validatorOffset):
 *
 *  1. metagraph → miner uids and buckets; put window `[time_min, time_max]` from the chain timestamp
 *     of the first block of s+1 (§3.2);
 *  2. HEAD every miner's `gradient-{s}` → submitted uids → active uids → evaluation uids
 *     (`selectEvaluationUids`, seeded per window);
 *  3. gather the peer list's submissions with the time gate (`comms.gather`), each checked for size,
 *     signature and wire format; debug slices `debug-{s−1}` for the sync check (§5.9); index sets and
 *     upload times for copy detection (§7.5);
 *  4. stage 2 (§7.2, the evaluation block of `Validator.run`; the trial step is `Validator.update_model_with_gradient`): Σ loss on a random control set before, and per
 *     evaluated peer Σ loss on its own assigned data before and after the trial step
 *     θ − outerLr·evalLrFactor·clip(update), and on the random set after, through `TrainerEngine.evalLoss`;
 *  5. `scoreWindow` (OpenSkill, sync, slashes, final scores, weights); publish `scores-{s}` (the
 *     window's scores and reason records, `WindowScoresDocument`) for the volunteers' dashboards;
 *  6. outer step with the gathered set (`tplr.neurons.outer_step`); publish the window's aggregated
 *     update, a checkpoint every `checkpointFrequency` outer steps, and every
 *     `peerReplacementFrequency` windows the gather-peer list (`create_and_post_peers`);
 *  7. `set_weights` on `windowsPerWeights` windows; persist the state after every window. On a
 *     subnet with commit-reveal, the weights are committed (CR-v2) and the commit is kept in the
 *     persisted state until `revealDueWeights` reveals it in its reveal blocks, so a restart between
 *     commit and reveal still reveals (issue #15).
 *
 * Every validator of a run measures the model the run's miners train: a validator that is not the
 * lead (`leadValidator`) gathers by the lead's peer list, as the miners do, so its outer steps are
 * the lead's; each validator publishes the hash of the θ it scored a window with (`theta-{s}`), and
 * one whose θ differs from the lead's sets no weights for that window and takes θ from the lead
 * again before the next one (issue #17).
 *
 * A window the validator did not watch live (it was down; `catchUpWindow`) is gathered and stepped
 * like any other, so θ and the published aggregates stay the network's, but nothing is scored and no
 * weights are set for it.
 *
 * Nothing a peer uploads can stop the loop: every rejection is a typed reason in the events and in
 * the scoring inputs (missing / invalid), and the window goes on.
 */
import { AggregationError, clippedPeerUpdate, l2Norm, lowerMedian, medianNorms, type PeerSubmission } from '../core/aggregate.ts';
import { dequantizeTensor, type EncodedTensor } from '../core/compress/codec.ts';
import { CompressionError } from '../core/compress/errors.ts';
import { firstWindowAfterNullRounds, isNullRoundOf, putWindowAnchorBlock, putWindowBounds, peerListFirstEffectiveWindow, windowOfBlock } from '../core/clock.ts';
import type { FlatTensorSpec } from '../core/compress/error-feedback.ts';
import type { RunConfig } from '../core/config.ts';
import { batchTokens, evalSample, evalSampleSeed, minerPool, randomEvalPool, sequenceCount } from '../core/data/assignment.ts';
import { sampleDigest } from '../core/data/digest.ts';
import {
  activeUidsAt,
  createScoringState,
  skipWindow,
  deserializeState,
  evaluationCandidates,
  scoreWindow,
  selectEvaluationUids,
  selectGatherPeers,
  serializeState,
  windowScoresDocument,
  type ChunkIndexSets,
  type EvaluationOutcome,
  type ValidatorScoringState,
  type WindowScoringInputs,
  type WindowScoringResult,
} from '../core/scoring/index.ts';
import { NetError } from '../net/errors.ts';
import { registrationIn, type Registration } from '../net/metagraph.ts';
import type { BlockHeader, Chain, Metagraph, Signer, Storage, TimeGate } from '../net/types.ts';
import { MAX_PENDING_REVEALS, parseWeightCommit, revealTiming, serializeWeightCommit, type SerializedWeightCommit, type WeightCommit } from '../net/weight-commits.ts';
import { bytesEqual, parameterHash, toHex, type PublicationKind } from '../core/wire/index.ts';
import { TrainerInputError, type TokenBatch, type TrainerEngine } from '../model/engine.ts';
import type { SubmissionRejection, ValidatorEvent, WindowEventListener } from './events.ts';
import {
  AggregateFormatError, aggregateKey, checkpointKey, readThetaHash, thetaKey, type AggregateReplay, debugSlices, encodeJson, fetchSubmission, gatherPlanAt, gatherWithReserve, gradientKey, aggregatesToReplay, latestCheckpoint, peerListKey, publishedAggregates, readAggregate, readCheckpoint, readDebugSlices, replayAggregates, scoresKey,
  type AcceptedSubmission,
} from './gather.ts';
import { leadValidator } from './lead-validator.ts';
import { outerUpdate } from './miner.ts';
import { signPublication, type PeerListPayload } from './publications.ts';
import { errorMessage, GauntletError } from '../core/errors.ts';

/** Where the validator keeps its state between windows and across restarts (a file, IndexedDB, memory). */
export interface StatePersistence {
  load(): Promise<string | undefined>;
  save(text: string): Promise<void>;
}

/** Persistence that keeps the last saved text in memory (tests, demo mode). */
export class MemoryPersistence implements StatePersistence {
  text: string | undefined;
  load(): Promise<string | undefined> {
    return Promise.resolve(this.text);
  }
  save(text: string): Promise<void> {
    this.text = text;
    return Promise.resolve();
  }
}

export interface ValidatorOptions {
  readonly config: RunConfig;
  readonly layout: readonly FlatTensorSpec[];
  /** An engine holding the validator's θ (after the outer step of the previous window). */
  readonly engine: TrainerEngine;
  /** Storage writing into the validator's bucket. */
  readonly storage: Storage;
  /** Signs the validator's aggregates, checkpoints and peer lists (the wallet of `hotkey`). */
  readonly signer: Signer;
  readonly chain: Chain;
  readonly hotkey: string;
  readonly tokens: Uint8Array;
  readonly persistence: StatePersistence;
  /**
   * Per-window randomness (evaluation choice, random control set, own-data sample nonce). Templar
   * uses the wall clock; the simulation passes a deterministic function so runs are reproducible.
   */
  readonly randomness?: (window: number) => number;
  readonly onEvent?: WindowEventListener;
  /**
   * Set weights only while the metagraph grants this hotkey a validator permit (read every window);
   * without one the window is still scored and reported (`validator-weights-skipped`). Default
   * false: call `set_weights` and let the chain refuse.
   */
  readonly requireValidatorPermit?: boolean;
}

/**
 * How far back a validator that has no lead looks for the miners' first window (each window costs
 * one HEAD per miner): a run older than this without any validator is caught up from here.
 */
export const JOIN_LOOKBACK_WINDOWS = 64;

/** What one window did, for the CLI and the tests. */
export interface ValidatorWindowReport {
  readonly window: number;
  /** This validator's hotkey in the window's metagraph (the one its permit check read). */
  readonly own: Registration;
  readonly inputs: WindowScoringInputs;
  readonly result: WindowScoringResult;
  readonly gatherRejections: Readonly<Record<string, SubmissionRejection>>;
  readonly outerStepApplied: boolean;
}

/** The run config cannot drive the validator (e.g. evaluation sequences that do not fill whole batches). */
export class ValidatorConfigError extends GauntletError {
  readonly code: string = 'validator-config';
  override readonly name = 'ValidatorConfigError';
}

/** Persisted state layout; bump `version` when it changes (version 1 had no pending reveals). */
interface PersistedValidatorState {
  readonly version: 2;
  readonly scoring: string;
  /** The last checkpoint this validator published: θ after the outer step of `window`. */
  readonly checkpoint: { readonly globalStep: number; readonly window: number } | null;
  /** CR-v2 weight commits not revealed yet, oldest first, with the window whose weights they hold. */
  readonly pendingReveals: readonly { readonly window: number; readonly commit: SerializedWeightCommit }[];
}

/** A committed weight vector this validator still has to reveal. */
export interface PendingReveal {
  readonly window: number;
  readonly commit: WeightCommit;
}

/** What `catchUpWindow` did. */
export interface ValidatorCatchUpReport {
  readonly window: number;
  readonly gathered: readonly number[];
  readonly outerStepApplied: boolean;
}

/** A null round passed (`Validator.nullRoundWindow`); `trainsFrom` is the run's first window with an outer step. */
export interface ValidatorNullRoundReport {
  readonly window: number;
  readonly trainsFrom: number;
}

/** `runWindow` or `catchUpWindow` was asked for a null round of the run, which `nullRoundWindow` passes instead. */
export class NullRoundWindowError extends GauntletError {
  readonly code: string = 'null-round-window';
  override readonly name = 'NullRoundWindowError';
}

const MISSING_REJECTIONS: ReadonlySet<SubmissionRejection> = new Set(['missing', 'too-early', 'too-late']);

function defaultRandomness(): number {
  const out = new Uint32Array(1);
  crypto.getRandomValues(out);
  return out[0]!;
}

export class Validator {
  private state: ValidatorScoringState = createScoringState();
  private checkpoint: PersistedValidatorState['checkpoint'] = null;
  private pending: PendingReveal[] = [];
  /** The lead validator whose θ this one found it differs from: θ is taken from it again before the next window. */
  private resyncFrom: string | null = null;
  /** Head number of the last failed reveal, so a refused reveal is tried again a block later, not at every poll. */
  private lastRevealAttempt: number | null = null;
  private readonly parameterCount: number;
  private readonly totalSequences: number;

  constructor(private readonly options: ValidatorOptions) {
    const { config } = options;
    if (config.scoring.evalSequences % config.inner.batchSize !== 0) {
      throw new ValidatorConfigError(`scoring.evalSequences (${config.scoring.evalSequences}) must be a multiple of inner.batchSize (${config.inner.batchSize}) so evaluation batches are full; change the run config.`);
    }
    const last = options.layout[options.layout.length - 1];
    this.parameterCount = last === undefined ? 0 : last.offset + last.shape.reduce((a, b) => a * b, 1);
    this.totalSequences = sequenceCount(options.tokens.length, config.model.seqLen);
  }

  /** The current scoring state (a live reference; treat as read-only). */
  get scoringState(): ValidatorScoringState {
    return this.state;
  }

  /** Weight commits waiting for their reveal, oldest first. */
  get pendingReveals(): readonly PendingReveal[] {
    return [...this.pending];
  }

  /**
   * Loads the persisted scoring state, if any, and rebuilds θ from this validator's own
   * publications: its last checkpoint (or the engine's initial θ when there is none), then the
   * aggregated update of every later window up to the last scored one, in window order — the same
   * subtractions the uninterrupted validator made. Call once before the first window.
   */
  async restore(): Promise<boolean> {
    const { config, engine, storage, hotkey } = this.options;
    const text = await this.options.persistence.load();
    if (text === undefined) return false;
    const parsed = JSON.parse(text) as { version?: unknown; scoring?: unknown; checkpoint?: PersistedValidatorState['checkpoint']; pendingReveals?: unknown };
    if ((parsed.version !== 1 && parsed.version !== 2) || typeof parsed.scoring !== 'string') {
      throw new ValidatorConfigError('The persisted validator state has an unknown layout; delete it to start fresh.');
    }
    this.state = deserializeState(parsed.scoring);
    this.checkpoint = parsed.checkpoint ?? null;
    this.pending = parsed.version === 2 ? parsePendingReveals(parsed.pendingReveals) : [];
    // Its own publications, opened like anyone else's (signature, run, bounds). One that does not open cannot
    // rebuild the θ the state was scored on: the state is refused with what to do, not replayed in part.
    try {
      if (this.checkpoint !== null) await engine.init(config, await readCheckpoint(storage, hotkey, this.checkpoint.globalStep, this.options));
      const after = this.checkpoint?.window ?? -1;
      const lastWindow = this.state.lastWindow ?? -1;
      for (const { window } of await publishedAggregates(storage, hotkey)) {
        if (window > after && window <= lastWindow) await engine.applyOuter(await readAggregate(storage, hotkey, window, this.options));
      }
    } catch (error) {
      if (!(error instanceof AggregateFormatError)) throw error;
      throw new ValidatorConfigError(`The persisted validator state cannot be resumed: ${error.message} (an older version's unsigned publication, another run, or a corrupt object). Delete the state to start fresh.`);
    }
    return true;
  }

  /**
   * For a validator with no persisted state (`restore` returned false) on a running network: takes θ
   * from the network before the first window it scores, as a joining miner does (gauntlet-spec §3.5),
   * so it measures every peer's losses on the model the network trains, not on the run's init. The
   * lead validator (the run's named validators with a permit, `leadValidator`) publishes checkpoints
   * and aggregates; θ is its newest checkpoint that opens as its signed publication, then every
   * aggregate stored after it, in window order, and the outer-step count follows. Without a lead
   * (this validator is the first) θ stays at the run's init. Returns the window to schedule first:
   * the one after the last replayed aggregate (windows between it and the head are caught up by the
   * schedule), or null when nothing was replayed.
   */
  async joinNetwork(): Promise<{ readonly nextWindow: number | null }> {
    const { config, chain } = this.options;
    const { lead, minerUids, hotkeyOf } = await this.subnetView();
    if (lead === undefined) {
      // No validator to take θ from. The miners may have stepped without one (each gathers every miner
      // before any peer list): the windows they submitted in are caught up from their own uploads
      // (`catchUpWindow`, from the returned window on), so that this validator measures the model they hold.
      const current = windowOfBlock((await chain.currentBlock()).number, config.window.blocksPerWindow);
      const first = await this.firstWindowOfMiners(current - 1, minerUids, hotkeyOf);
      const message = first === null
        ? `No other validator of this run publishes θ and no miner has submitted yet, so this validator starts from the run's initial parameters (seed ${config.initSeed}).`
        : `No other validator of this run publishes θ; the miners have submitted since window ${first}, so this validator starts from the run's initial parameters (seed ${config.initSeed}) and catches θ up from their uploads of windows ${first}–${current - 1} before it scores.`;
      this.emit({ kind: 'validator-synced', window: -1, source: 'init', lead: null, globalStep: 0, replayed: [], message });
      return { nextWindow: first };
    }
    const head = await chain.currentBlock();
    const { last, malformed } = await this.syncFrom(lead, windowOfBlock(head.number, config.window.blocksPerWindow) - 1, Number.POSITIVE_INFINITY);
    const resumeAfter = malformed === undefined ? last : malformed.window - 1;
    return { nextWindow: resumeAfter === undefined ? null : resumeAfter + 1 };
  }

  /**
   * θ and the outer-step count taken from `lead`: its newest checkpoint that opens as its signed
   * publication, then every aggregate stored after it, in window order, up to `throughWindow`
   * (`validator-synced` says what). Since `restore` rebuilds θ from this validator's own publications, θ is then published
   * as its own checkpoint, after which only its aggregates of windows after `ownWindowsBefore` count.
   */
  private async syncFrom(lead: string, ownWindowsBefore: number, throughWindow: number): Promise<{ readonly last: number | undefined; readonly malformed: AggregateReplay['malformed'] }> {
    const { config, storage, engine } = this.options;
    const checkpoint = await latestCheckpoint(storage, lead, this.options, throughWindow);
    // From the lead's checkpoint, or from the run's init when it has none: never on top of a θ that has drifted.
    await engine.init(config, checkpoint?.params);
    const { replayed, malformed } = await replayAggregates(engine, storage, lead, await aggregatesToReplay(storage, lead, checkpoint, throughWindow), this.options);
    this.state = { ...this.state, globalStep: (checkpoint?.globalStep ?? 0) + replayed.length };
    const last = replayed.at(-1);
    const from = checkpoint === undefined ? "the run's initial parameters" : `its checkpoint of outer step ${checkpoint.globalStep}`;
    const stoppedAt = malformed === undefined ? '' : `; its aggregate of window ${malformed.window} does not open (${malformed.message}), so that window on is caught up live`;
    this.emit({
      kind: 'validator-synced', window: last ?? checkpoint?.window ?? -1, source: checkpoint === undefined ? 'init' : 'checkpoint', lead, globalStep: this.state.globalStep, replayed,
      message: `θ taken from the lead validator ${lead}: ${from}, then ${replayed.length} aggregate(s)${last === undefined ? '' : ` up to window ${last}`} (outer step ${this.state.globalStep})${stoppedAt}.`,
    });
    if (checkpoint !== undefined || replayed.length > 0) await this.publishCheckpoint(Math.max(last ?? -1, ownWindowsBefore));
    return { last, malformed };
  }

  /**
   * A null round of the run (`isNullRoundOf`, Templar's `null_round`): miners train and send
   * nothing, so nothing is gathered (an upload a peer made all the same is not read), evaluated,
   * rated, slashed or stepped, and no weights are set. The window is recorded as passed with nobody
   * gathered (`skipWindow`), so it counts toward no one's inactivity and the first real window's
   * sync check compares with the initial θ.
   */
  async nullRoundWindow(window: number): Promise<ValidatorNullRoundReport> {
    const { config, engine, layout } = this.options;
    const trainsFrom = firstWindowAfterNullRounds(config.window);
    if (trainsFrom === null || !isNullRoundOf(window, config.window)) throw new NullRoundWindowError(`Window ${window} is not a null round of run ${config.runId} (start window ${config.window.startWindow ?? 'none'}).`);
    this.state = skipWindow(this.state, window, [], debugSlices(await engine.exportParams(), layout), config.scoring);
    this.emit({ kind: 'validator-null-round', window, trainsFrom });
    await this.save(window);
    return { window, trainsFrom };
  }

  /** Scores sync window `window` (the chain must have produced the first block of `window + 1`). */
  async runWindow(window: number): Promise<ValidatorWindowReport> {
    const { config, chain, storage, engine, layout } = this.options;
    this.refuseNullRound(window);
    const scoring = config.scoring;
    const seed = (this.options.randomness ?? defaultRandomness)(window) >>> 0;

    const { metagraph, hotkeys, hotkeyOf, minerUids, lead } = await this.subnetView();
    if (this.resyncFrom !== null) {
      this.resyncFrom = null;
      // θ as the lead scored this window with: its steps through window − 1, not one it may already have taken for this window.
      if (lead !== undefined) await this.syncFrom(lead, window - 1, window - 1);
    }
    const anchor = await chain.blockTimestamp(putWindowAnchorBlock(window, config.window.blocksPerWindow));
    const gate: TimeGate = putWindowBounds(anchor, config.window.putWindowMs);

    const submitted = await this.submittedUids(window, minerUids, hotkeyOf);
    const active = activeUidsAt(this.state, window, submitted, scoring);
    const evalUids = selectEvaluationUids(this.state, evaluationCandidates(this.state, active), scoring, seed);
    this.emit({ kind: 'validator-window-start', window, submitted, evalUids });

    // The peer list in force decides the gather and carries the caps on the clip reference (issue #14), for the trial steps and the outer step alike:
    // the lead's, which the miners follow too, so that every validator of the run takes the same outer step.
    const plan = await gatherPlanAt(storage, lead ?? this.options.hotkey, window, minerUids, this.options);
    const { referenceCaps } = plan;
    const fetchContext = { config, layout, storage, window, gate };
    const gathered = await gatherWithReserve(fetchContext, plan, hotkeyOf);
    const gatherUids = [...plan.gatherUids, ...gathered.reservesAsked];
    this.emit({ kind: 'validator-gathered', window, gathered: gathered.accepted.map((s) => s.uid), rejected: gathered.rejected });
    for (const [uid, reason] of Object.entries(gathered.rejected)) {
      if (!MISSING_REJECTIONS.has(reason)) this.emit({ kind: 'validator-peer-fault', window, uid: Number(uid), stage: 'gather', reason: `${reason}: ${gathered.details[uid] ?? ''}` });
    }
    this.checkPoolReceipts(window, gathered.accepted);

    const theta = await engine.exportParams();
    const thetaHash = parameterHash(theta);
    await this.publish(window, thetaKey(window), await this.signed('theta', window, thetaHash)).catch((error: unknown) => {
      if (!(error instanceof NetError)) throw error;
      this.emit({ kind: 'validator-error', window, stage: 'publish-theta', message: error.message });
    });
    const peerSlices: Record<string, Record<string, number[]> | null> = {};
    for (const uid of [...new Set([...gatherUids, ...evalUids])].sort((a, b) => a - b)) {
      peerSlices[String(uid)] = window > 0 ? await readDebugSlices(storage, hotkeyOf(uid)!, uid, window - 1, layout) : null;
    }
    const peers: PeerSubmission[] = gathered.accepted.map((s) => ({ uid: s.uid, tensors: s.decoded.tensors }));
    const norms = medianNorms(peers, config.bounds, referenceCaps);
    const measured = await this.evaluate(window, seed, evalUids, gathered.accepted, norms, fetchContext, hotkeyOf);
    // A non-finite measurement of the validator's own (the random control set before any trial
    // step) says nothing about any peer: stage 2 of this window is skipped, with the reason (issue #14).
    const stage2 = measured.ownFault === null ? measured : { lossRandomBefore: 0, evaluations: {} };
    if (measured.ownFault !== null) this.emit({ kind: 'validator-error', window, stage: 'evaluate', message: measured.ownFault });
    const scoredEvalUids = measured.ownFault === null ? evalUids : [];
    const { lossRandomBefore, evaluations } = stage2;

    const inputs: WindowScoringInputs = {
      window,
      submittedUids: submitted,
      // Before any peer list nobody was asked for anything: a uid without a submission then skipped nothing.
      gather: gathered.accepted.length === 0 ? null : {
        gatheredUids: peers.map((p) => p.uid),
        skippedUids: plan.fromList ? [...gathered.skippedGatherUids] : [],
        successRate: gathered.successRate,
        gatherList: plan.fromList ? plan.gatherUids : peers.map((p) => p.uid),
      },
      validatorSlices: debugSlices(theta, layout),
      peerSlices,
      evalUids: scoredEvalUids,
      lossRandomBefore: scoredEvalUids.length === 0 ? null : lossRandomBefore,
      evaluations,
      // Every submission read this window, gathered or evaluated, is compared for copies (src/core/scoring/score-window.ts `applyOverlap`).
      indexSets: Object.fromEntries([...gathered.accepted, ...measured.read].map((s) => [String(s.uid), chunkIndexSets(s)])),
      uploadTimes: Object.fromEntries([...gathered.accepted, ...measured.read].map((s) => [String(s.uid), s.info.lastModifiedMs])),
      hotkeys: Object.fromEntries(metagraph.uids.map((uid, i) => [String(uid), metagraph.hotkeys[i]!])),
    };
    const result = scoreWindow(this.state, inputs, scoring);
    this.state = result.state;
    this.emit({ kind: 'validator-scored', window, weights: result.weights, reasons: result.reasons.length });
    // The window's scores and reasons, for the volunteers' dashboards (issue #8); a failed upload costs the dashboards one window, never the window itself.
    const scores = windowScoresDocument(result, window, { runId: config.runId, netuid: config.netuid, burnUid: scoring.burnUid });
    await this.publish(window, scoresKey(window), encodeJson(scores)).catch((error: unknown) => {
      if (!(error instanceof NetError)) throw error;
      this.emit({ kind: 'validator-error', window, stage: 'publish-scores', message: error.message });
    });

    const outerStepApplied = peers.length > 0 && (await this.outerStep(window, theta, peers, referenceCaps));
    const list = window % scoring.peerReplacementFrequency === 0 ? selectGatherPeers(this.state, active, scoring, seed) : null;
    // No active peers yet: post nothing, so miners keep gathering every miner (Templar skips the post without enough peers).
    if (list !== null && list.peers.length > 0) {
      const head = await chain.currentBlock();
      const effective = peerListFirstEffectiveWindow(windowOfBlock(head.number, config.window.blocksPerWindow), config.window.peerListWindowMargin);
      const normReference = positiveScoreReference(list.peers, peers, this.state, config.bounds.maxTensorNorm);
      const payload = encodeJson({ peers: list.peers, reservePeers: list.reservePeers, postedAtWindow: window, ...(normReference === undefined ? {} : { normReference }) } satisfies PeerListPayload);
      await this.publish(window, peerListKey(effective), await this.signed('peer-list', window, payload));
    }
    const own = registrationIn(metagraph, this.options.hotkey);
    const leadTheta = lead === undefined ? undefined : await readThetaHash(storage, lead, window, this.options);
    const thetaDiffers = leadTheta !== undefined && !bytesEqual(leadTheta, thetaHash);
    if (thetaDiffers) {
      this.resyncFrom = lead!;
      this.emit({
        kind: 'validator-theta-differs', window, lead: lead!, ownHash: toHex(thetaHash), leadHash: toHex(leadTheta),
        message: `θ differs from the lead validator ${lead!}'s for window ${window} (${toHex(thetaHash).slice(0, 12)}… against ${toHex(leadTheta).slice(0, 12)}…): this window's measurements are not the network's, so no weights are set; θ is taken from the lead again before window ${window + 1}.`,
      });
    }
    if (result.setWeightsDue && thetaDiffers) {
      this.emit({ kind: 'validator-weights-skipped', window, reason: `θ differs from the lead validator's (${toHex(thetaHash).slice(0, 12)}… against ${toHex(leadTheta).slice(0, 12)}…): weights wait until θ has caught up.` });
    } else if (result.setWeightsDue && this.options.requireValidatorPermit === true && !own.validatorPermit) {
      this.emit({ kind: 'validator-weights-skipped', window, reason: `${this.options.hotkey} holds no validator permit on netuid ${config.netuid}: scored, weights not set.` });
    } else if (result.setWeightsDue) {
      await this.setWeights(window, result, hotkeys, metagraph);
    }
    await this.save(window);
    return { window, own, inputs, result, gatherRejections: gathered.rejected, outerStepApplied };
  }

  /**
   * A window this validator did not watch live (issue #15: it was down, and is catching up to the
   * chain): the window's gather plan is gathered with its put window's time gate and the outer step
   * applied and published exactly as `runWindow` would, so θ, the aggregates that joining miners
   * replay and the global step stay the network's; no one is evaluated, rated or slashed and no
   * weights are set (`skipWindow`), since the validator cannot vouch for what it did not see.
   */
  async catchUpWindow(window: number): Promise<ValidatorCatchUpReport> {
    const { config, chain, storage, layout } = this.options;
    this.refuseNullRound(window);
    const { hotkeyOf, minerUids, lead } = await this.subnetView();
    const gate = putWindowBounds(await chain.blockTimestamp(putWindowAnchorBlock(window, config.window.blocksPerWindow)), config.window.putWindowMs);
    const plan = await gatherPlanAt(storage, lead ?? this.options.hotkey, window, minerUids, this.options);
    const { referenceCaps } = plan;
    const gathered = await gatherWithReserve({ config, layout, storage, window, gate }, plan, hotkeyOf);
    this.emit({ kind: 'validator-gathered', window, gathered: gathered.accepted.map((s) => s.uid), rejected: gathered.rejected });
    const peers: PeerSubmission[] = gathered.accepted.map((s) => ({ uid: s.uid, tensors: s.decoded.tensors }));
    const theta = await this.options.engine.exportParams();
    const outerStepApplied = peers.length > 0 && (await this.outerStep(window, theta, peers, referenceCaps));
    const after = outerStepApplied ? await this.options.engine.exportParams() : theta;
    this.state = skipWindow(this.state, window, peers.map((p) => p.uid), debugSlices(after, layout), config.scoring);
    this.emit({ kind: 'validator-caught-up', window, gathered: peers.map((p) => p.uid), outerStepApplied });
    await this.save(window);
    return { window, gathered: peers.map((p) => p.uid), outerStepApplied };
  }

  /**
   * Reveals every pending weight commit whose reveal blocks hold the next block (a call sent now is
   * included at the earliest in `head.number + 1`), oldest first, since a reveal drops the hotkey's
   * older commits on chain; drops the ones whose reveal blocks have passed (the chain refuses them as
   * expired). A refused reveal is reported and tried again a block later while it can still land.
   * Returns the number revealed.
   */
  async revealDueWeights(head: BlockHeader): Promise<number> {
    if (this.pending.length === 0 || this.lastRevealAttempt === head.number) return 0;
    let revealed = 0;
    let changed = false;
    const next = head.number + 1;
    for (const entry of [...this.pending].sort((a, b) => a.commit.commitBlock - b.commit.commitBlock)) {
      const timing = revealTiming(entry.commit, next);
      if (timing === 'early') continue;
      if (timing === 'expired') {
        this.pending = this.pending.filter((p) => p !== entry);
        changed = true;
        this.emit({ kind: 'validator-weights-expired', window: entry.window, commitBlock: entry.commit.commitBlock, lastRevealBlock: entry.commit.lastRevealBlock });
        continue;
      }
      try {
        const tx = await this.options.chain.revealWeights(entry.commit);
        // The chain dropped every older commit of this hotkey with it.
        this.pending = this.pending.filter((p) => p.commit.commitBlock > entry.commit.commitBlock);
        changed = true;
        revealed += 1;
        this.emit({ kind: 'validator-weights-set', window: entry.window, uids: entry.commit.uids, values: entry.commit.values, block: tx.block, method: 'revealWeights' });
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        this.lastRevealAttempt = head.number;
        this.emit({ kind: 'validator-error', window: entry.window, stage: 'reveal-weights', message: error.message });
        // The chain holds no such commit any more (another instance of this hotkey revealed it, or a
        // later reveal dropped it): trying again cannot succeed.
        if (/NoWeightsCommitFound|InvalidRevealCommitHashNotMatch/.test(error.message)) {
          this.pending = this.pending.filter((p) => p !== entry);
          changed = true;
          continue;
        }
        break;
      }
    }
    if (changed) await this.save(this.state.lastWindow ?? 0);
    return revealed;
  }

  /** A null round is passed by `nullRoundWindow`: gathering or stepping it would apply what no honest peer sent. */
  private refuseNullRound(window: number): void {
    const { config } = this.options;
    if (isNullRoundOf(window, config.window)) throw new NullRoundWindowError(`Window ${window} is a null round of run ${config.runId} (windows before ${firstWindowAfterNullRounds(config.window)} are): pass it with nullRoundWindow, which gathers and scores nothing.`);
  }

  private async save(window: number): Promise<void> {
    const text = JSON.stringify({
      version: 2, scoring: serializeState(this.state), checkpoint: this.checkpoint,
      pendingReveals: this.pending.map((p) => ({ window: p.window, commit: serializeWeightCommit(p.commit) })),
    } satisfies PersistedValidatorState);
    await this.options.persistence.save(text);
    this.emit({ kind: 'validator-state-saved', window, bytes: text.length });
  }

  /**
   * The miners whose `gradient-{window}` object exists (a HEAD per miner). A peer whose bucket cannot
   * be read is that peer's fault, recorded against its uid (issue #14: a hotkey without a bucket
   * commitment used to skip the whole window); when no miner's bucket can be reached at all, the
   * fault is ours (storage or our connection down) and the window is lost as a network failure.
   */
  /**
   * The first window of the miners' unbroken run of submissions that ends at `last` (walking back
   * at most `JOIN_LOOKBACK_WINDOWS`), or null when none of them submitted in `last`. A window
   * nobody submitted in ends the walk: before it the miners had nothing to step on.
   */
  private async firstWindowOfMiners(last: number, minerUids: readonly number[], hotkeyOf: (uid: number) => string | undefined): Promise<number | null> {
    let first: number | null = null;
    for (let window = last; window >= 0 && window > last - JOIN_LOOKBACK_WINDOWS; window--) {
      if ((await this.submittedUids(window, minerUids, hotkeyOf)).length === 0) break;
      first = window;
    }
    return first;
  }

  private async submittedUids(window: number, minerUids: readonly number[], hotkeyOf: (uid: number) => string | undefined): Promise<number[]> {
    const submitted: number[] = [];
    const transportFailures: NetError[] = [];
    for (const uid of minerUids) {
      try {
        if ((await this.options.storage.head(hotkeyOf(uid)!, gradientKey(window, uid))) !== undefined) submitted.push(uid);
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        if (error.code === 'unavailable') transportFailures.push(error);
        this.emit({ kind: 'validator-peer-fault', window, uid, stage: 'head', reason: error.message });
      }
    }
    const first = transportFailures[0];
    if (first !== undefined && transportFailures.length === minerUids.length) throw first;
    return submitted;
  }

  /**
   * The outer step of the gathered set (`tplr.neurons.outer_step`) and its publication, or a refusal
   * (issue #14): the reference `outerStep` drops peers outside the bounds and refuses an update
   * beyond `maxOuterStepNorm` (every miner makes the same decision on the same inputs); beyond that,
   * the validator checks that θ − update stays finite before it applies anything. A refused step is
   * neither applied nor published, so no peer and no restart can ever replay it. Returns whether θ moved.
   */
  private async outerStep(window: number, theta: Float32Array, peers: readonly PeerSubmission[], referenceCaps: readonly number[] | undefined): Promise<boolean> {
    const { config, engine, layout } = this.options;
    const { update, result } = outerUpdate(this.parameterCount, layout, peers, config, referenceCaps);
    for (const { uid, reason } of result.dropped) this.emit({ kind: 'validator-peer-fault', window, uid, stage: 'aggregate', reason });
    let refusal = result.refused;
    if (refusal === null && result.uids.length === 0) refusal = 'no gathered submission is within the run bounds';
    if (refusal === null && !theta.every((v, i) => Number.isFinite(v - update[i]!))) refusal = 'θ − update would not be finite';
    if (refusal !== null) {
      this.emit({ kind: 'validator-outer-step-refused', window, peers: result.uids, reason: refusal });
      return false;
    }
    await engine.applyOuter(update);
    this.emit({ kind: 'validator-outer-step', window, peers: result.uids, globalStep: this.state.globalStep });
    await this.publish(window, aggregateKey(window), await this.signed('aggregate', window, new Uint8Array(update.buffer, update.byteOffset, update.byteLength)));
    if (this.state.globalStep % config.scoring.checkpointFrequency === 0) await this.publishCheckpoint(window);
    return true;
  }

  /** θ as `checkpoint-{globalStep}`, θ after the outer step of `window` (what `restore` and joining peers start from). */
  private async publishCheckpoint(window: number): Promise<void> {
    const { config, engine } = this.options;
    const params = await engine.exportParams();
    if (params.every((v) => Math.abs(v) <= config.bounds.maxParameterValue)) {
      await this.publish(window, checkpointKey(this.state.globalStep), await this.signed('checkpoint', window, new Uint8Array(params.buffer, params.byteOffset, params.byteLength)));
      this.checkpoint = { globalStep: this.state.globalStep, window };
    } else {
      // Joining peers refuse such a checkpoint, so it is not published; they replay the aggregates instead.
      this.emit({ kind: 'validator-error', window, stage: 'publish-checkpoint', message: `θ has left the run's bound ±${config.bounds.maxParameterValue} (bounds.maxParameterValue): no checkpoint is published.` });
    }
  }

  /**
   * `set_weights` with the window's u16 weights, restricted to registered uids (a burn uid nobody
   * registered cannot receive weight). A refusal by the chain is reported and does not stop the
   * window: the state is still persisted and the next weight window tries again.
   */
  private async setWeights(window: number, result: WindowScoringResult, hotkeys: ReadonlyMap<number, string>, metagraph: Metagraph): Promise<void> {
    const { chain, config } = this.options;
    const keep = result.chainWeights.uids.map((uid, i) => [uid, result.chainWeights.values[i]!] as const).filter(([uid]) => hotkeys.has(uid));
    if (keep.length === 0) return;
    const uids = keep.map(([uid]) => uid);
    const values = keep.map(([, value]) => value);
    try {
      const hyper = await chain.hyperparams(config.netuid);
      // The chain refuses weights (and commits) within `WeightsSetRateLimit` blocks of this uid's
      // last update (subtensor `check_rate_limit`): say so instead of sending a call, which on a page
      // would be a wallet prompt, that can only fail.
      const index = metagraph.hotkeys.indexOf(this.options.hotkey);
      const lastUpdate = index < 0 ? 0 : (metagraph.lastUpdate[index] ?? 0);
      const nextAllowed = lastUpdate + hyper.weightsRateLimit;
      if (lastUpdate > 0 && metagraph.block + 1 < nextAllowed) {
        this.emit({ kind: 'validator-weights-skipped', window, reason: `the chain allows this hotkey's weights once every ${hyper.weightsRateLimit} blocks (WeightsSetRateLimit); last update at block ${lastUpdate}, next from block ${nextAllowed}.` });
        return;
      }
      const tx = await chain.setWeights(this.options.hotkey, config.netuid, uids, values, hyper.weightsVersionKey);
      if (tx.method === 'commitWeights') {
        // Kept (and persisted with this window's state) until `revealDueWeights` reveals it; the chain holds at most ten.
        this.pending = [...this.pending, { window, commit: tx.commit }].slice(-MAX_PENDING_REVEALS);
        this.emit({ kind: 'validator-weights-committed', window, uids: tx.commit.uids, values: tx.commit.values, block: tx.block, firstRevealBlock: tx.commit.firstRevealBlock, lastRevealBlock: tx.commit.lastRevealBlock });
        // Saved at once: a process that dies now must still know the salt, or the commit can never be revealed.
        await this.save(window);
      } else {
        this.emit({ kind: 'validator-weights-set', window, uids, values, block: tx.block, method: 'setWeights' });
      }
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      this.emit({ kind: 'validator-error', window, stage: 'set-weights', message: error.message });
    }
  }

  /** Stage 2 for `evalUids` (§7.2): losses before and after each peer's clipped trial step. */
  private async evaluate(
    window: number,
    seed: number,
    evalUids: readonly number[],
    gathered: readonly AcceptedSubmission[],
    norms: readonly number[],
    fetchContext: Parameters<typeof fetchSubmission>[0],
    hotkeyOf: (uid: number) => string | undefined,
  ): Promise<{ lossRandomBefore: number; evaluations: Record<string, EvaluationOutcome>; ownFault: string | null; read: AcceptedSubmission[] }> {
    const { config, engine } = this.options;
    const evaluations: Record<string, EvaluationOutcome> = {};
    /** Submissions read for evaluation that the gather did not already read: copy detection compares them too. */
    const read: AcceptedSubmission[] = [];
    if (evalUids.length === 0) return { lossRandomBefore: 0, evaluations, ownFault: null, read };
    const randomIds = randomEvalPool(seed, window, config, this.totalSequences).ids;
    const randomBatches = this.batches(randomIds);
    const lossRandomBefore = sum(await engine.evalLoss(randomBatches));
    if (!Number.isFinite(lossRandomBefore)) return { lossRandomBefore, evaluations, read, ownFault: `the loss of the random control set before any trial step is ${lossRandomBefore}: stage 2 of window ${window} is skipped` };
    for (const uid of evalUids) {
      let submission = gathered.find((s) => s.uid === uid);
      if (submission === undefined) {
        const hotkey = hotkeyOf(uid);
        const fetched = hotkey === undefined ? null : await fetchSubmission(fetchContext, uid, hotkey);
        if (fetched === null || !fetched.ok) {
          const reason = fetched === null ? 'missing' : fetched.reason;
          const detail = fetched === null ? `uid ${uid} is not registered` : fetched.detail;
          evaluations[String(uid)] = MISSING_REJECTIONS.has(reason) ? { status: 'missing' } : { status: 'invalid', detail: `${reason}: ${detail}` };
          this.emit({ kind: 'validator-evaluated', window, uid, status: MISSING_REJECTIONS.has(reason) ? 'missing' : 'invalid', detail: `${reason}: ${detail}` });
          continue;
        }
        submission = fetched.submission;
        read.push(submission);
      }
      const ownIds = evalSample(minerPool(uid, window, config, this.totalSequences), config.scoring.evalSequences, evalSampleSeed(uid, window, seed));
      const ownBatches = this.batches(ownIds);
      const losses = await this.trialLosses(submission, norms, ownBatches, randomBatches);
      if (typeof losses === 'string') {
        const detail = losses;
        evaluations[String(uid)] = { status: 'invalid', detail };
        this.emit({ kind: 'validator-evaluated', window, uid, status: 'invalid', detail });
        this.emit({ kind: 'validator-peer-fault', window, uid, stage: 'evaluate', reason: detail });
        continue;
      }
      const { lossOwnBefore, lossOwnAfter, lossRandomAfter } = losses;
      evaluations[String(uid)] = { status: 'ok', lossOwnBefore, lossOwnAfter, lossRandomAfter };
      this.emit({ kind: 'validator-evaluated', window, uid, status: 'ok', lossOwnBefore, lossOwnAfter, lossRandomBefore, lossRandomAfter });
    }
    return { lossRandomBefore, evaluations, ownFault: null, read };
  }

  /**
   * The three stage-2 losses of one peer, or why they say nothing: a loss that is not finite, or a
   * trial update the engine refuses (`TrainerInputError`, e.g. a non-finite value), which is that
   * peer's invalid evaluation, never the window's (issue #14: it used to end `npm run validator`).
   */
  private async trialLosses(
    submission: AcceptedSubmission,
    norms: readonly number[],
    ownBatches: readonly TokenBatch[],
    randomBatches: readonly TokenBatch[],
  ): Promise<{ lossOwnBefore: number; lossOwnAfter: number; lossRandomAfter: number } | string> {
    const { engine } = this.options;
    const lossOwnBefore = sum(await engine.evalLoss(ownBatches));
    try {
      const trial = trialStepUpdate(submission.decoded.tensors, norms, this.options.layout, this.options.config, this.parameterCount);
      const lossOwnAfter = sum(await engine.evalLoss(ownBatches, trial));
      const lossRandomAfter = sum(await engine.evalLoss(randomBatches, trial));
      if (![lossOwnBefore, lossOwnAfter, lossRandomAfter].every(Number.isFinite)) return 'a trial loss was not finite';
      return { lossOwnBefore, lossOwnAfter, lossRandomAfter };
    } catch (error) {
      if (error instanceof TrainerInputError || error instanceof AggregationError || error instanceof CompressionError) return `the trial step could not be evaluated: ${error.message}`;
      throw error;
    }
  }


  private batches(ids: readonly number[]): TokenBatch[] {
    const { batchSize } = this.options.config.inner;
    const out: TokenBatch[] = [];
    for (let i = 0; i + batchSize <= ids.length; i += batchSize) out.push(batchTokens(this.options.tokens, ids.slice(i, i + batchSize), this.options.config.model.seqLen));
    return out;
  }

  /**
   * Each gathered submission's training-pool receipt against the pool its uid was assigned for the
   * window (v2.1.3 `Validator.log_digest_match`): a mismatch (it trained on other data, or says it
   * did) is reported as a fault of that peer. As in Templar it is a record, not a slash: stage 2's
   * own-data losses are what score data laziness.
   */
  private checkPoolReceipts(window: number, accepted: readonly AcceptedSubmission[]): void {
    const { config } = this.options;
    for (const submission of accepted) {
      const pool = minerPool(submission.uid, window, config, this.totalSequences);
      // The receipt is 16 bytes: the whole blake2b-128 hex digest.
      const expected = sampleDigest(pool);
      const claimed = toHex(submission.decoded.sampleDigest);
      const { sampleCount } = submission.decoded;
      if (sampleCount === pool.length && claimed === expected) continue;
      this.emit({ kind: 'validator-peer-fault', window, uid: submission.uid, stage: 'digest', reason: `its training-pool receipt (${claimed}, ${sampleCount} sequences) is not that of the pool assigned to it (${expected}, ${pool.length} sequences)` });
    }
  }

  /**
   * The window's metagraph as the loop reads it: uid → hotkey, the miners (every uid but this
   * validator's, the run's named validators' and the burn uid: issue #18, one validator once slashed
   * another as a missing miner; the devnet grants every uid a permit, so the permit flag cannot tell
   * miners apart) and the lead validator whose peer lists and θ this one follows.
   */
  private async subnetView(): Promise<{ metagraph: Metagraph; hotkeys: ReadonlyMap<number, string>; hotkeyOf: (uid: number) => string | undefined; minerUids: number[]; lead: string | undefined }> {
    const { config, chain, hotkey } = this.options;
    const metagraph = await chain.metagraph(config.netuid);
    const runValidators = new Set(await chain.runValidators(config.netuid, metagraph));
    const hotkeys = new Map(metagraph.uids.map((uid, i) => [uid, metagraph.hotkeys[i]!]));
    const hotkeyOf = (uid: number): string | undefined => hotkeys.get(uid);
    const minerUids = metagraph.uids.filter((uid) => uid !== config.scoring.burnUid && hotkeyOf(uid) !== hotkey && !runValidators.has(hotkeyOf(uid) ?? ''));
    return { metagraph, hotkeys, hotkeyOf, minerUids, lead: leadValidator(metagraph, [...runValidators], config, hotkey) };
  }

  /** `payload` in the signed envelope peers open before they apply anything of ours (issue #14). */
  private async signed(kind: PublicationKind, window: number, payload: Uint8Array): Promise<Uint8Array> {
    return signPublication(this.options.signer, this.options.hotkey, this.options, kind, { window, globalStep: this.state.globalStep }, payload);
  }

  private async publish(window: number, key: string, data: Uint8Array): Promise<void> {
    await this.options.storage.put(key, data);
    this.emit({ kind: 'validator-published', window, key });
  }

  private emit(event: ValidatorEvent): void {
    this.options.onEvent?.(event);
  }
}

/**
 * The trial step of stage 2 as a flat vector θ is reduced by (gauntlet-spec §7.2): outer_lr ·
 * eval_lr_factor · clip(g), each tensor clipped to the gather's median norm (`norms`), as Templar
 * scales the peer's update by the outer learning rate the real outer step uses as well as by
 * eval_lr_factor (issue #18: ours once left out outer_lr, the same number only while it is 1). The
 * product is formed in float64 and rounded once.
 */
export function trialStepUpdate(tensors: readonly EncodedTensor[], norms: readonly number[], layout: readonly FlatTensorSpec[], config: RunConfig, parameterCount: number): Float32Array {
  const out = new Float32Array(parameterCount);
  const scale = config.compression.outerLr * config.scoring.evalLrFactor;
  layout.forEach((spec, t) => {
    const tensor = tensors[t]!;
    const median = norms[t];
    const dense = clippedPeerUpdate(tensor, median !== undefined && Number.isFinite(median) ? median : Number.POSITIVE_INFINITY, config.compression);
    for (let i = 0; i < dense.length; i++) out[spec.offset + i] = Math.fround(scale * dense[i]!);
  });
  return out;
}

/** The persisted pending reveals, each checked; a malformed list is a state that cannot be resumed. */
function parsePendingReveals(value: unknown): PendingReveal[] {
  if (!Array.isArray(value) || value.length > MAX_PENDING_REVEALS) throw new ValidatorConfigError(`The persisted validator state's pendingReveals is not a list of at most ${MAX_PENDING_REVEALS}; delete the state to start fresh.`);
  return value.map((entry: unknown, i) => {
    const { window, commit } = (typeof entry === 'object' && entry !== null ? entry : {}) as { window?: unknown; commit?: unknown };
    if (typeof window !== 'number' || !Number.isSafeInteger(window) || window < 0) throw new ValidatorConfigError(`pendingReveals[${i}].window is not a window number; delete the state to start fresh.`);
    try {
      return { window, commit: parseWeightCommit(commit, `pendingReveals[${i}].commit`) };
    } catch (error) {
      throw new ValidatorConfigError(`The persisted validator state cannot be resumed: ${errorMessage(error)}`);
    }
  });
}

/**
 * The norm reference a posted peer list carries (issue #14): per tensor, the lower median norm of
 * this window's gathered submissions from the listed peers whose final score is positive. Peers
 * the validator has not scored well (new hotkeys, sybils) have no say in it, so while the list is
 * in force they can raise the window's median but not its cap (`clipGrowth` × this). Undefined when
 * no such peer was gathered, or a tensor has no non-zero norm among them (a zero cap would stop
 * training).
 */
function positiveScoreReference(listed: readonly number[], gathered: readonly PeerSubmission[], state: ValidatorScoringState, maxTensorNorm: number): number[] | undefined {
  const trusted = gathered.filter((p) => listed.includes(p.uid) && (state.peers[String(p.uid)]?.finalScore ?? 0) > 0);
  const first = trusted[0];
  if (first === undefined) return undefined;
  const reference = first.tensors.map((_, t) => lowerMedian(trusted.map((p) => l2Norm(dequantizeTensor(p.tensors[t]!))).filter((n) => n > 0)));
  // Admitted norms may exceed maxTensorNorm by the decoder's rounding allowance; readers accept at most the bound.
  return reference.every((r) => Number.isFinite(r) && r > 0) ? reference.map((r) => Math.min(r, maxTensorNorm)) : undefined;
}

/**
 * Per 2-D tensor, the top-k index set of each chunk (`ChunkIndexSets`), as views into the decoded
 * indices. 1-D tensors are sent densely (k = the whole vector), so every peer's index sets coincide
 * there: counting them raised every pair's overlap towards 1 and hid a partial copier (issue #14
 * measured 0.383 for a copier of 30 % of each chunk). Templar's `check_uid_index_overlap` compares
 * every tensor; this is a deliberate difference.
 */
function chunkIndexSets(submission: AcceptedSubmission): Record<string, ChunkIndexSets> {
  const out: Record<string, ChunkIndexSets> = {};
  for (const tensor of submission.decoded.tensors) {
    if (tensor.shape.length < 2) continue;
    const chunks: Uint16Array[] = [];
    for (let start = 0; start < tensor.indices.length; start += tensor.k) chunks.push(tensor.indices.subarray(start, start + tensor.k));
    out[tensor.name] = chunks;
  }
  return out;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
