/**
 * Reason records: every change `scoreWindow` makes to a uid's scores is logged as
 * {window, uid, rule, inputs, before, after}, so a volunteer can see exactly why they earned what
 * they earned (style.md §1.2: "explainable rewards"), and `explain` renders them as text.
 */

import type { ScoringProfile } from '../config.ts';
import type { PeerScoreState, ScoreReason, ScoreRule, Uid, ValidatorScoringState } from './types.ts';

type ReasonInputs = ScoreReason['inputs'];
type ReasonValues = ScoreReason['after'];

/** Collects the reason records of one window; each names the scoring profile it was applied under. */
export class ReasonLog {
  readonly reasons: ScoreReason[] = [];
  constructor(
    readonly window: number,
    readonly profile: ScoringProfile,
  ) {}

  record(uid: Uid, rule: ScoreRule, inputs: ReasonInputs, before: ReasonValues, after: ReasonValues): void {
    this.reasons.push({ window: this.window, uid, rule, inputs: { ...inputs, profile: this.profile }, before, after });
  }
}

/**
 * Multiplies `finalScore` and `B` by `rate`, both only when the final score is positive, as every
 * slash of Templar v2.1.3 `Validator.run` does (`if self.final_scores[uid] > 0: final *= rate;
 * binary_moving_averages *= rate`): a negative score never moves up (Templar #45), and a peer whose
 * final score is not positive keeps its B, so a peer at 0 is not pushed further down by slashes it
 * can no longer feel.
 */
export function slashPositive(
  peer: PeerScoreState,
  rate: number,
): { before: ReasonValues; after: ReasonValues } {
  const before = { finalScore: peer.finalScore, binaryMovingAverage: peer.binaryMovingAverage };
  if (peer.finalScore > 0) {
    peer.finalScore *= rate;
    peer.binaryMovingAverage *= rate;
  }
  return { before, after: { finalScore: peer.finalScore, binaryMovingAverage: peer.binaryMovingAverage } };
}

function formatValue(value: number | string | boolean | null): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(6);
  return String(value);
}

function formatRecord(values: Readonly<Record<string, number | string | boolean | null>>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(', ');
}

/**
 * A readable breakdown of one uid: its current scores and, window by window, every rule that
 * touched it with the inputs used and the values before → after.
 */
export function explain(state: ValidatorScoringState, uid: Uid, reasons: readonly ScoreReason[]): string {
  const peer = state.peers[String(uid)];
  const lines: string[] = [];
  if (peer === undefined) {
    lines.push(`uid ${uid}: no record (never active, evaluated or slashed)`);
  } else {
    const ordinal = peer.rating === null ? null : peer.rating.mu - 3 * peer.rating.sigma;
    lines.push(
      `uid ${uid}: final=${formatValue(peer.finalScore)} weight=${formatValue(peer.weight)} ` +
        `(ordinal=${formatValue(ordinal)} × max(0, B=${formatValue(peer.binaryMovingAverage)}) × sync=${formatValue(peer.syncScore)})`,
      `  LossScore=${formatValue(peer.gradientScore)} binary=${formatValue(peer.binaryIndicator)} ` +
        `mu=${formatValue(peer.rating?.mu ?? null)} sigma=${formatValue(peer.rating?.sigma ?? null)} ` +
        `windowsSinceEval=${peer.windowsSinceEval} inactiveSince=${formatValue(peer.inactiveSince)} ` +
        `banWindowsLeft=${peer.naughtyWindowsLeft}`,
    );
  }
  for (const reason of reasons) {
    if (reason.uid !== uid) continue;
    const changes = Object.keys(reason.after)
      .map((key) => `${key} ${formatValue(reason.before[key] ?? null)} → ${formatValue(reason.after[key] ?? null)}`)
      .join('; ');
    lines.push(`  window ${reason.window} ${reason.rule}: ${changes} [${formatRecord(reason.inputs)}]`);
  }
  return lines.join('\n');
}
