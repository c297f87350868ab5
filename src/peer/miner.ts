/**
 * One miner window (gauntlet-spec §2 and §5, Templar v2.1.3 `neurons/miner.py::Miner.run`) over
 * the `TrainerEngine`, `Storage` and `Signer` seams, so the same code drives the browser tab (WebGPU
 * engine in a worker, devnet or S3 storage, extension signer), the Node CLI and the simulation:
 *
 *   `prepare(w)`: assignment (`minerPool`, `batchesForPool`) → H inner steps (`trainInner`) →
 *   Δ = θ0 − θ_H → error feedback `e ← β·e + Δ` and compression with
 *   `e ← e − decompress(compress(e))` (`prepare_gradient_dict`) → wire bytes. When Δ goes from
 *   training to compression untouched (every behaviour but those that rewrite Δ), that middle part
 *   is the engine's `compressPseudoGradient` on the engine's own e: on WebGPU Δ and e never leave
 *   the GPU and only the packed blocks come back (issue #5);
 *   `upload(w)`: sign `signingMessage(run, netuid, w, uid, sha256(bytes))` → put bytes and signature
 *   inside the put window;
 *   `finishWindow(w, gate)`: gather the window's peer list with the time gate (`comms.gather`) →
 *   outer step θ ← θ − α·agg (`tplr.neurons.outer_step`) → publish `debug-{w}` (θ[10:12] per tensor);
 *   `nullRound(w)` instead of all three in a run's null rounds (`isNullRoundOf`): e ← 0, nothing else.
 *
 * The caller (a clock-driven loop or the simulation) decides when each phase runs; a `Behaviour`
 * (src/peer/behaviours.ts) changes one stage for the adversarial simulation.
 */
import { decodeAddress } from '@polkadot/util-crypto';
import { outerStep, type OuterStepResult, type PeerSubmission } from '../core/aggregate.ts';
import { accumulateErrorFeedback, compressErrorFeedback, type FlatTensorSpec } from '../core/compress/error-feedback.ts';
import type { RunConfig } from '../core/config.ts';
import { firstWindowAfterNullRounds, isNullRoundOf } from '../core/clock.ts';
import { batchesForPool, batchTokens, minerPool, sequenceCount } from '../core/data/assignment.ts';
import { sampleDigest } from '../core/data/digest.ts';
import type { EncodedTensor } from '../core/compress/codec.ts';
import { decodeSubmission, encodeSubmission } from '../core/wire/index.ts';
import { signSubmission } from '../net/submission.ts';
import type { ObjectInfo, Signer, Storage, TimeGate } from '../net/types.ts';
import type { TrainerEngine } from '../model/engine.ts';
import type { Behaviour } from './behaviours.ts';
import type { MinerEvent, WindowEventListener } from './events.ts';
import { debugKey, debugSlices, encodeJson, fetchSubmission, gatherPlanAt, gatherWithReserve, gradientKey, publishedAggregates, readAggregateIfWellFormed, signatureKey } from './gather.ts';
import { GauntletError } from '../core/errors.ts';
import { runConfigHash } from '../core/run-config.ts';

export interface MinerOptions {
  readonly config: RunConfig;
  /** The model's flat parameter layout (`parameterLayout(config.model)`). */
  readonly layout: readonly FlatTensorSpec[];
  /** An engine already initialised on the run's θ. */
  readonly engine: TrainerEngine;
  /** Storage writing into this miner's bucket (its hotkey). */
  readonly storage: Storage;
  readonly signer: Signer;
  readonly hotkey: string;
  readonly uid: number;
  /** The run's token stream (`loadAllTokens` in Node, `loadTokenStream` in a browser). */
  readonly tokens: Uint8Array;
  readonly behaviour: Behaviour;
  /** Hotkey of the validator whose gather-peer lists this miner follows. */
  readonly validatorHotkey: string;
  /** Resolves a uid to its hotkey (bucket name), from the metagraph. */
  readonly hotkeyOf: (uid: number) => string | undefined;
  /** Every miner uid, gathered before the first peer list exists. */
  readonly minerUids: () => readonly number[];
  readonly onEvent?: WindowEventListener;
}

/** What `catchUp` did for each missed window. */
export interface CatchUpResult {
  /** Windows whose published aggregate was applied (θ ← θ − update), as the validator applied it. */
  readonly replayed: readonly number[];
  /** Windows not published yet, gathered live from the peers' uploads and stepped like `finishWindow`. */
  readonly gatheredLive: readonly number[];
  /** Windows with no outer step: the validator published nothing for them although it published a later one. */
  readonly skipped: readonly number[];
}

/** The outcome of `upload`. */
export interface UploadReceipt {
  readonly window: number;
  readonly key: string;
  readonly info: ObjectInfo;
  readonly signature: string;
}

/** A miner step was called out of order (e.g. `upload` before `prepare`). */
export class MinerStateError extends GauntletError {
  readonly code: string = 'miner-state';
  override readonly name = 'MinerStateError';
}

export class Miner {
  /**
   * Where e lives: on the engine when Δ goes from training to compression untouched, else here (a
   * behaviour that rewrites Δ, or trains nothing, needs Δ on the CPU). One place per miner, for its life.
   */
  private readonly errorFeedbackOnEngine: boolean;
  /** e when it lives here (empty otherwise). */
  private readonly errorFeedback: Float32Array;
  private readonly parameterCount: number;
  private readonly prepared = new Map<number, Uint8Array>();

  constructor(private readonly options: MinerOptions) {
    const last = options.layout[options.layout.length - 1];
    this.parameterCount = last === undefined ? 0 : last.offset + last.shape.reduce((a, b) => a * b, 1);
    this.errorFeedbackOnEngine = options.behaviour.trains && options.behaviour.transformDelta === undefined;
    this.errorFeedback = new Float32Array(this.errorFeedbackOnEngine ? 0 : this.parameterCount);
  }

  get uid(): number {
    return this.options.uid;
  }

  get behaviour(): Behaviour {
    return this.options.behaviour;
  }

  /** A copy of the error-feedback buffer e (what a browser peer persists between windows and reloads). */
  async exportErrorFeedback(): Promise<Float32Array> {
    return this.errorFeedbackOnEngine ? this.options.engine.exportErrorFeedback() : this.errorFeedback.slice();
  }

  /** Replaces e with a persisted buffer (resume after a reload or a lost device); the length must match the layout. */
  async restoreErrorFeedback(buffer: Float32Array): Promise<void> {
    if (buffer.length !== this.parameterCount) throw new MinerStateError(`The persisted error-feedback buffer has ${buffer.length} entries, the model has ${this.parameterCount}; it belongs to another run. Use Forget saved state on Contribute to start fresh.`);
    if (this.errorFeedbackOnEngine) await this.options.engine.importErrorFeedback(buffer);
    else this.errorFeedback.set(buffer);
  }

  /**
   * A null round of the run (`isNullRoundOf`, Templar's `null_round`): no training, no upload, no
   * gather, no outer step, no debug slice, and the error feedback zeroed as
   * `prepare_gradient_dict(…, null_round=True)` leaves it. θ stays the run's initial θ.
   */
  async nullRound(window: number): Promise<void> {
    const { config, engine, uid } = this.options;
    const trainsFrom = firstWindowAfterNullRounds(config.window);
    if (trainsFrom === null || !isNullRoundOf(window, config.window)) throw new MinerStateError(`Window ${window} is not a null round of run ${config.runId} (start window ${config.window.startWindow ?? 'none'}).`);
    if (this.errorFeedbackOnEngine) await engine.resetErrorFeedback();
    else this.errorFeedback.fill(0);
    this.emit({ kind: 'miner-null-round', window, uid, trainsFrom });
  }

  /** Trains window `w` on the assigned data and compresses the error-feedback buffer into wire bytes. */
  async prepare(window: number): Promise<void> {
    const { config, engine, behaviour, uid } = this.options;
    if (behaviour.copyFrom !== undefined && behaviour.copyFraction === undefined) return; // a copier builds its bytes at upload time
    const trainingUid = behaviour.trainingUid(uid);
    const total = sequenceCount(this.options.tokens.length, config.model.seqLen);
    const pool = minerPool(trainingUid, window, config, total);
    const stepIds = batchesForPool(pool, config.inner.innerSteps, config.inner.batchSize);
    const trainedIds = stepIds.flat();
    // The receipt covers the pool it was assigned (v2.1.3 `Validator._training_pool_digest`), which the validator recomputes.
    const digest = sampleDigest(pool);
    this.emit({ kind: 'miner-assignment', window, uid, sequences: trainedIds.length, sampleDigest: digest, trainedDigest: sampleDigest(trainedIds) });

    if (behaviour.trains) {
      const batches = stepIds.map((ids) => batchTokens(this.options.tokens, ids, config.model.seqLen));
      const result = await engine.trainInner(batches, config.inner.innerSteps);
      const meanLoss = result.losses.reduce((a, b) => a + b, 0) / Math.max(1, result.losses.length);
      this.emit({ kind: 'miner-trained', window, uid, steps: result.losses.length, meanLoss, elapsedMs: result.elapsedMs });
    }
    const { tensors, updateNorm, denseOnCpu } = this.errorFeedbackOnEngine ? { ...(await engine.compressPseudoGradient()), updateNorm: null } : await this.compressOnCpu(window);
    const bytes = encodeSubmission(
      {
        runId: config.runId,
        netuid: config.netuid,
        window,
        uid,
        hotkey: decodeAddress(this.options.hotkey),
        sampleDigest: hexPrefixBytes(digest, 16),
        sampleCount: pool.length,
        tensors,
      },
      config.compression,
    );
    this.emit({ kind: 'miner-compressed', window, uid, bytes: bytes.length, updateNorm, denseOnCpu });
    this.prepared.set(window, bytes);
  }

  /** Δ on the CPU (trained, or zero), rewritten by the behaviour, then the reference error feedback and compression on this miner's e. */
  private async compressOnCpu(window: number): Promise<{ tensors: EncodedTensor[]; updateNorm: number; denseOnCpu: true }> {
    const { config, engine, behaviour, uid } = this.options;
    let delta = behaviour.trains ? await engine.pseudoGradient() : new Float32Array(this.parameterCount);
    if (behaviour.transformDelta !== undefined) delta = behaviour.transformDelta(delta, window, uid);
    accumulateErrorFeedback(this.errorFeedback, delta, config.compression.errorFeedbackDecay);
    const tensors = compressErrorFeedback(this.errorFeedback, this.options.layout, config.compression);
    let norm = 0;
    for (const v of delta) norm += v * v;
    return { tensors, updateNorm: Math.sqrt(norm), denseOnCpu: true };
  }

  /** Signs and uploads window `w`'s submission; a copier first fetches and re-labels its victim's bytes. */
  async upload(window: number, gate: TimeGate): Promise<UploadReceipt> {
    const { config, uid, behaviour } = this.options;
    let bytes = this.prepared.get(window);
    if (behaviour.copyFrom !== undefined) bytes = await this.copiedBytes(window, behaviour.copyFrom, gate, bytes);
    if (bytes === undefined) throw new MinerStateError(`Miner uid ${uid} has no prepared submission for window ${window}; call prepare(${window}) first.`);
    const key = gradientKey(window, uid);
    const signature = await signSubmission(this.options.signer, this.options.hotkey, { runId: config.runId, runHash: runConfigHash(config), netuid: config.netuid, window, uid }, bytes);
    this.emit({ kind: 'miner-signed', window, uid, key });
    const info = await this.options.storage.put(key, bytes);
    await this.options.storage.put(signatureKey(window, uid), new TextEncoder().encode(signature));
    // Kept until both objects are stored, so a failed put can be retried inside the put window.
    this.prepared.delete(window);
    this.emit({ kind: 'miner-uploaded', window, uid, key, serverTimeMs: info.lastModifiedMs });
    return { window, key, info, signature };
  }

  /**
   * Gathers window `w`, applies the outer step (unless the behaviour skips it) and publishes the
   * debug slices. Resolves with θ after the step, read back once for the slices, so a caller that
   * persists it needs no second readback.
   */
  async finishWindow(window: number, gate: TimeGate): Promise<Float32Array> {
    const { uid, engine } = this.options;
    const { accepted, referenceCaps } = await this.gather(window, gate);
    // A window whose gather came back empty takes no outer step and keeps the error feedback, as v2.1.3's
    // `Miner.run` does when `gather_result is None`. (Templar zeroes e only in a null round, before it
    // compresses; an empty gather is not one. Ours zeroed e here before issue #18.)
    const apply = this.options.behaviour.appliesOuterStep && accepted.length > 0;
    // On the engine (issue #5): the WebGPU engine decodes, aggregates and applies on the GPU with
    // `outerStep`'s bits; the wasm engine runs `outerStep` itself. Same θ as applyOuter(outerUpdate(…)).
    // The engine admits peers and may refuse the step by the run's bounds, exactly as the validator's reference step does (issue #14).
    const step = apply ? await engine.applyAggregate(accepted, referenceCaps) : undefined;
    const dropped = Object.fromEntries((step?.dropped ?? []).map((d) => [String(d.uid), d.reason]));
    const applied = step !== undefined && step.refused === null && step.uids.length > 0;
    this.emit({ kind: 'miner-outer-step', window, uid, applied, peers: accepted.length, dropped, refused: step?.refused ?? null });
    const theta = await engine.exportParams();
    await this.publishDebugSlice(window, theta);
    return theta;
  }

  /**
   * The accepted submissions of `window` from the uids the lead validator's peer list names (all
   * miners without one), and the list's caps on the clip reference, which the validator's step uses too.
   */
  private async gather(window: number, gate: TimeGate): Promise<{ accepted: PeerSubmission[]; referenceCaps: readonly number[] | undefined }> {
    const { config, uid, layout, storage } = this.options;
    const plan = await gatherPlanAt(storage, this.options.validatorHotkey, window, this.options.minerUids(), { config, layout });
    const gathered = await gatherWithReserve({ config, layout, storage, window, gate }, plan, this.options.hotkeyOf);
    this.emit({ kind: 'miner-gathered', window, uid, gathered: gathered.accepted.map((s) => s.uid), rejected: gathered.rejected });
    return { accepted: gathered.accepted.map((s) => ({ uid: s.uid, tensors: s.decoded.tensors })), referenceCaps: plan.referenceCaps };
  }

  /** θ's debug slice for `window`, which the validator's sync check reads (gauntlet-spec §5.9). */
  private async publishDebugSlice(window: number, theta: Float32Array): Promise<void> {
    const { uid, layout, storage } = this.options;
    const key = debugKey(window, uid);
    await storage.put(key, encodeJson({ window, slices: debugSlices(theta, layout) }));
    this.emit({ kind: 'miner-debug-published', window, uid, key });
  }

  /**
   * Brings θ through windows `from … to` (inclusive) that this miner did not finish (it was stopped,
   * its tab slept, its device was lost), as Templar's `catchup_with_aggregation_server`
   * (gauntlet-spec §3.5): each window's aggregated update published by the lead validator is applied
   * in window order, the same subtraction the validator made, so θ ends equal to the validator's.
   * Windows after the newest published aggregate may simply not be published yet: they are gathered
   * live (`gateOf` resolves with the window's put-window bounds once it has closed), as is a window
   * whose aggregate does not fit the model; a missing window before the newest published one had no
   * outer step and is skipped. The debug slice of
   * `to` is published so the validator's next sync check (§5.9) sees the caught-up θ. The
   * error-feedback buffer is left as it was (Templar's catch-up does not touch it).
   */
  async catchUp(from: number, to: number, gateOf: (window: number) => Promise<TimeGate>): Promise<CatchUpResult> {
    const { engine, storage, validatorHotkey } = this.options;
    const result = { replayed: [] as number[], gatheredLive: [] as number[], skipped: [] as number[] };
    if (to < from) return result;
    const published = new Set((await publishedAggregates(storage, validatorHotkey)).map((a) => a.window));
    const newest = Math.max(-1, ...published);
    for (let window = from; window <= to; window++) {
      // A null round has no outer step, whatever anyone uploaded in it: nothing to replay or gather.
      if (isNullRoundOf(window, this.options.config.window)) {
        result.skipped.push(window);
        continue;
      }
      // A published aggregate of the wrong size (another run, a corrupt object) is not replayed: the window is gathered live instead.
      const update = published.has(window) ? await readAggregateIfWellFormed(storage, validatorHotkey, window, this.options) : undefined;
      if (update instanceof Float32Array) {
        await engine.applyOuter(update);
        result.replayed.push(window);
      } else if (window > newest || published.has(window)) {
        const { accepted, referenceCaps } = await this.gather(window, await gateOf(window));
        const step = accepted.length > 0 ? await engine.applyAggregate(accepted, referenceCaps) : undefined;
        if (step !== undefined && step.refused === null && step.uids.length > 0) result.gatheredLive.push(window);
        else result.skipped.push(window);
      } else {
        result.skipped.push(window);
      }
    }
    await this.publishDebugSlice(to, await engine.exportParams());
    return result;
  }

  private async copiedBytes(window: number, victim: number, gate: TimeGate, own: Uint8Array | undefined): Promise<Uint8Array | undefined> {
    const { config, layout, storage, uid, behaviour } = this.options;
    const victimHotkey = this.options.hotkeyOf(victim);
    if (victimHotkey === undefined) return own;
    // The copier reads the victim's upload as any peer can, ignoring only the closing bound.
    const result = await fetchSubmission({ config, layout, storage, window, gate: { timeMinMs: gate.timeMinMs, timeMaxMs: Number.MAX_SAFE_INTEGER } }, victim, victimHotkey);
    if (!result.ok) return own;
    const victimSubmission = result.submission.decoded;
    if (behaviour.copyFraction === undefined || own === undefined) return encodeSubmission({ ...victimSubmission, uid, hotkey: decodeAddress(this.options.hotkey) }, config.compression);
    const fraction = behaviour.copyFraction;
    const mine = decodeSubmission(own, { layout, compression: config.compression, bounds: config.bounds, maxBytes: config.window.maxSubmissionBytes });
    const tensors = mine.tensors.map((tensor, t) => mixChunks(tensor, victimSubmission.tensors[t]!, fraction));
    return encodeSubmission({ ...mine, tensors }, config.compression);
  }

  private emit(event: MinerEvent): void {
    this.options.onEvent?.(event);
  }
}

/**
 * The dense outer update `α·agg` of gathered submissions (the quantity `applyOuter` subtracts): the
 * reference `outerStep` run on a zero vector gives `0 − α·agg`, so the update is its negation. With
 * the run's bounds: dropped peers and a refused step (all zeros) are reported in `result`.
 */
export function outerUpdate(
  parameterCount: number,
  layout: readonly FlatTensorSpec[],
  peers: Parameters<typeof outerStep>[2],
  config: Pick<RunConfig, 'compression' | 'bounds'>,
  referenceCaps?: readonly number[],
): { readonly update: Float32Array; readonly result: OuterStepResult } {
  const zero = new Float32Array(parameterCount);
  const result = outerStep(zero, layout, peers, config.compression, config.bounds, referenceCaps);
  // 0 − x negated gives x back exactly, and −0 for untouched entries, which subtracts as +0 does.
  for (let i = 0; i < zero.length; i++) zero[i] = -zero[i]!;
  return { update: zero, result };
}

/**
 * A partial copier's tensor: in each chunk, the last ⌊fraction·k⌋ kept entries are replaced by the
 * victim's first entries of that chunk that it does not keep already (with the victim's codes), so
 * no index appears twice.
 */
function mixChunks(own: EncodedTensor, victim: EncodedTensor, fraction: number): EncodedTensor {
  const { k } = own;
  const take = Math.floor(fraction * k);
  if (victim.k !== k || victim.indices.length !== own.indices.length || take === 0) return own;
  const indices = own.indices.slice();
  const codes = own.codes.slice();
  for (let chunk = 0; chunk * k < indices.length; chunk++) {
    const at = chunk * k;
    const kept = new Set(indices.subarray(at, at + k - take));
    let slot = at + k - take;
    for (let i = 0; i < k && slot < at + k; i++) {
      const index = victim.indices[at + i]!;
      if (kept.has(index)) continue;
      kept.add(index);
      indices[slot] = index;
      codes[slot] = victim.codes[at + i]!;
      slot++;
    }
  }
  return { ...own, indices, codes };
}

function hexPrefixBytes(hex: string, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
