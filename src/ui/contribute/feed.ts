/**
 * Turns the peer worker's events into the Contribute dashboard: the window timeline as the stages
 * happen, the local loss, tokens/s, bytes sent against the dense float32 size (compression ratio),
 * the validator's per-window score breakdown as it published it (`scores-{window}`), and its verdict
 * as the chain shows it (its weights, as incentive shares).
 */
import type { ScoreReason, WindowScoresDocument } from '../../core/scoring/index.ts';
import type { DashboardStore, WindowPhase } from '../dashboard/model.ts';
import { describeReason } from '../score-model.ts';
import type { PeerEvent } from '../../peer/events.ts';

/** The run's shape: tokens of one inner step (batch × sequence length) and Δ as dense float32 bytes. */
export interface FeedShape {
  readonly tokensPerStep: number;
  readonly denseBytes: number;
}

/** A number as the timeline shows it (four significant digits). */
function short(value: unknown): string {
  return typeof value === 'number' ? value.toPrecision(4) : '?';
}

/**
 * What the validator's published scores of one window (`scores-{window}`) say about `uid`, stage by
 * stage, in its own reason records (src/core/scoring/score-window.ts): the sync check and any gather
 * slash, the stage-2 evaluation or its slash, the OpenSkill match and the final score, and the weight.
 */
export function scoredStages(document: WindowScoresDocument, uid: number): Readonly<Record<Extract<WindowPhase, 'gather' | 'evaluate' | 'rate' | 'weights'>, string>> {
  const own = document.peers.find((p) => p.uid === uid);
  const weightsNote = document.setWeightsDue ? 'weights were due on the chain this window' : 'not a weight window';
  if (own === undefined) {
    const absent = `uid ${uid} is not in the validator's scores of window ${document.window}`;
    return { gather: absent, evaluate: absent, rate: absent, weights: `${absent}; ${weightsNote}` };
  }
  const reasons = document.reasons.filter((r) => r.uid === uid);
  const find = (...rules: readonly ScoreReason['rule'][]): ScoreReason | undefined => reasons.find((r) => rules.includes(r.rule));
  const sync = find('sync-score');
  const skipped = find('gather-skip-slash', 'sync-slash');
  const gather = [
    sync === undefined ? 'no sync check of this uid' : `sync ${short(sync.after.syncScore)}${typeof sync.inputs.stepsBehind === 'number' ? ` (${short(sync.inputs.stepsBehind)} outer steps behind)` : ''}`,
    skipped === undefined ? null : describeReason(skipped),
  ];
  const loss = find('loss-score');
  const indicator = find('binary-indicator');
  const evaluationSlash = find('missing-gradient-slash', 'invalid-gradient-slash');
  const evaluate =
    evaluationSlash !== undefined
      ? `evaluated: ${describeReason(evaluationSlash)}`
      : loss === undefined
        ? `not picked for evaluation in window ${document.window}`
        : `evaluated: LossScore ${short(loss.after.gradientScore)}, b ${short(indicator?.after.binaryIndicator)}, B ${short(indicator?.after.binaryMovingAverage)}`;
  const match = find('openskill');
  const pending = find('openskill-pending');
  const final = find('final-score');
  const rating =
    match !== undefined
      ? `rated among ${String(match.inputs.players)}: μ ${short(match.after.mu)}, σ ${short(match.after.sigma)}`
      : pending !== undefined
        ? 'not rated: the only peer evaluated this window (a match needs two)'
        : 'not rated this window';
  const rate = `${rating}; final score ${final === undefined ? `${short(own.finalScore)} (unchanged)` : short(final.after.finalScore)}`;
  const weights = `${(own.weight * 100).toFixed(1)}% of this validator's weights; ${weightsNote}`;
  return { gather: gather.filter((part) => part !== null).join('; '), evaluate, rate, weights };
}

export class DashboardFeed {
  /** Per window, what training took, so the traffic point keeps tokens/s when the bytes arrive. */
  private readonly trained = new Map<number, { tokens: number; elapsedMs: number }>();
  /** Whether the "why" panel was pointed at this volunteer's uid yet (once, so the user's own pick stays). */
  private ownSelected = false;

  constructor(
    private readonly store: DashboardStore,
    private readonly shape: FeedShape,
  ) {}

  /**
   * The validator has finished `document.window`: its stages are done, with what the document says
   * about this uid. Only a window this peer took part in has a row on the timeline; a window scored
   * before it started gets none.
   */
  private markScored(document: WindowScoresDocument, ownUid: number): void {
    const window = document.window;
    if (this.store.phaseOf(window, 'train') === undefined) return;
    const stages = scoredStages(document, ownUid);
    for (const phase of ['gather', 'evaluate', 'rate', 'weights'] as const) {
      const own = this.store.phaseOf(window, phase);
      const detail = phase === 'gather' && own?.status === 'done' && own.detail !== '' ? `${own.detail} · validator: ${stages.gather}` : stages[phase];
      this.store.setPhase(window, phase, 'done', detail);
    }
  }

  take(event: PeerEvent, ownUid: number): void {
    const store = this.store;
    switch (event.kind) {
      case 'peer-inner-step':
        // The engines count inner steps from 1 (src/model/engine.ts `TrainerEvent`).
        store.setPhase(event.window, 'train', 'active', `inner step ${event.step} of ${event.of}, loss ${event.loss.toFixed(3)}`);
        return;
      case 'miner-trained': {
        const run = { tokens: event.steps * this.shape.tokensPerStep, elapsedMs: event.elapsedMs };
        this.trained.set(event.window, run);
        store.setPhase(event.window, 'train', 'done', `${event.steps} steps, mean loss ${event.meanLoss.toFixed(3)}`);
        store.recordLoss(event.window, { local: event.meanLoss });
        store.recordTraffic(event.window, run);
        return;
      }
      case 'miner-compressed':
        store.setPhase(event.window, 'compress', 'done', `${event.bytes} bytes, ${event.updateNorm !== null ? `‖Δ‖ ${event.updateNorm.toExponential(2)}` : event.denseOnCpu ? 'compressed in the engine' : 'Δ never left the GPU'}`);
        store.recordTraffic(event.window, { ...this.trained.get(event.window), bytesSent: event.bytes, denseBytes: this.shape.denseBytes });
        this.trained.delete(event.window);
        return;
      case 'miner-signed':
        store.setPhase(event.window, 'sign', 'done', 'signed by the wallet');
        return;
      case 'miner-uploaded':
        store.setPhase(event.window, 'submit', 'done', 'stored inside the put window');
        return;
      case 'peer-window-failed':
        store.setPhase(event.window, 'submit', 'failed', event.message);
        return;
      case 'miner-null-round':
        store.setPhase(event.window, 'train', 'skipped', `null round of the run: training starts in window ${event.trainsFrom}`);
        return;
      case 'miner-gathered':
        store.setPhase(event.window, 'gather', 'done', `${event.gathered.length} gathered, ${Object.keys(event.rejected).length} rejected`);
        return;
      case 'peer-window-scores': {
        store.recordPublishedScores(event.document);
        this.markScored(event.document, ownUid);
        if (!this.ownSelected && event.document.peers.some((p) => p.uid === ownUid)) {
          this.ownSelected = true;
          store.select(ownUid);
        }
        return;
      }
      case 'peer-chain-scores': {
        const own = event.rows.find((r) => r.uid === ownUid);
        const earned = own !== undefined && own.incentive > 0;
        // The validator's scores of this window may have arrived first: they already say what its weights stage did.
        if (!earned && store.phaseOf(event.window, 'weights')?.status === 'done') return;
        store.setPhase(event.window, 'weights', earned ? 'done' : 'pending', own === undefined ? '' : `incentive share ${(own.incentive * 100).toFixed(1)}%`);
        return;
      }
      default:
        return;
    }
  }
}
