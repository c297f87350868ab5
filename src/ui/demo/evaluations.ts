/**
 * "What the validator measured" (issue #9, the why panel's inputs): the last stage-2 evaluation of
 * each virtual peer, from the validator's own `validator-evaluated` events, with the quantities the
 * scorer derives from those four losses (gauntlet-spec §7.2, the evaluation block of Templar v2.1.3 `Validator.run`, its trial step `Validator.update_model_with_gradient`):
 * LossScore on random data, the improvement on the peer's own data, and the binary indicator b.
 * The derived numbers come from the scoring module's own functions, so the panel shows exactly
 * what was scored.
 */
import { binaryIndicator, lossScore, ownImprovement } from '../../core/scoring/index.ts';
import type { WindowEvent } from '../../peer/events.ts';

export interface PeerEvaluation {
  readonly uid: number;
  readonly window: number;
  /** 'missing': no valid upload in the put window; 'invalid': the upload failed validation. */
  readonly status: 'ok' | 'missing' | 'invalid';
  readonly lossRandomBefore: number | null;
  readonly lossRandomAfter: number | null;
  readonly lossOwnBefore: number | null;
  readonly lossOwnAfter: number | null;
  /** `(L_rand_before − L_rand_after) / L_rand_before`, null when not measured. */
  readonly lossScore: number | null;
  /** `(L_own_before − L_own_after) / L_own_before`, null when not measured. */
  readonly ownImprovement: number | null;
  /** `+1` if the update helped the peer's own data more than random data, else `−1`. */
  readonly indicator: 1 | -1 | null;
  readonly detail: string | null;
}

type EvaluatedEvent = Extract<WindowEvent, { kind: 'validator-evaluated' }>;

export function peerEvaluation(event: EvaluatedEvent): PeerEvaluation {
  const { lossRandomBefore: rb, lossRandomAfter: ra, lossOwnBefore: ob, lossOwnAfter: oa } = event;
  const random = rb !== undefined && ra !== undefined ? lossScore(rb, ra) : null;
  const own = ob !== undefined && oa !== undefined ? ownImprovement(ob, oa) : null;
  return {
    uid: event.uid,
    window: event.window,
    status: event.status,
    lossRandomBefore: rb ?? null,
    lossRandomAfter: ra ?? null,
    lossOwnBefore: ob ?? null,
    lossOwnAfter: oa ?? null,
    lossScore: random,
    ownImprovement: own,
    indicator: random !== null && own !== null ? binaryIndicator(own, random) : null,
    detail: event.detail ?? null,
  };
}

/** The latest evaluation of every uid seen so far (a peer is evaluated every few windows). */
export class LastEvaluations {
  private readonly byUid = new Map<number, PeerEvaluation>();

  record(events: readonly WindowEvent[]): void {
    for (const event of events) if (event.kind === 'validator-evaluated') this.byUid.set(event.uid, peerEvaluation(event));
  }

  clear(): void {
    this.byUid.clear();
  }

  /** Ordered by uid. */
  rows(): PeerEvaluation[] {
    return [...this.byUid.values()].sort((a, b) => a.uid - b.uid);
  }
}
