/**
 * The rewards dashboard's data model, built from the scoring module's own state and reason records
 * (src/core/scoring: `ValidatorScoringState`, `ScoreReason`), never from the DOM. Every number a
 * volunteer sees here is a field the scorer stored or a reason it logged, so the page can explain
 * each reward (style.md §1.2) and Playwright can read the same model from `window.gauntlet.ui`.
 *
 * The "why" panel follows gauntlet-spec §7.4 (`Validator.update_weights` inputs) through the
 * scorer's own records, never recomputing them: the final score is set only when the peer is in a
 * window's OpenSkill match (the `final-score` record: its inputs ordinal, B and sync, and the value
 * the scorer stored), and afterwards slashes (§7.1, §7.5) change it (their records). So the panel
 * shows that record, every later change, and every record of the peer's last scored window in
 * words; the weight is the scorer's `weight` record where the page has it (a published
 * `scores-{window}` document leaves it out: its `weight` field is that value).
 */
import type { ScoringConfig } from '../core/config.ts';
import { PENALTY_RULES as SLASH_RULES, peerScores, type PublishedPeerScores, type ScoreReason, type ScoreRule, type Uid, type ValidatorScoringState } from '../core/scoring/index.ts';


/** Rules that change `finalScore` (so the "why" panel lists them after the last computation). */
const FINAL_CHANGING_RULES: ReadonlySet<ScoreRule> = new Set<ScoreRule>([...SLASH_RULES, 'final-score']);

export interface SlashRecord {
  readonly window: number;
  readonly rule: ScoreRule;
  /** What happened, in plain words. */
  readonly text: string;
  readonly finalBefore: number | null;
  readonly finalAfter: number | null;
}

/** One uid's score breakdown (gauntlet-spec §7.1–§7.4), as the validator holds it now. */
export interface PeerBreakdown extends PublishedPeerScores {
  /** Every penalty in the kept history, oldest first. */
  readonly slashes: readonly SlashRecord[];
}

/** One reason record of the scorer, in words. */
export interface ReasonLine {
  readonly window: number;
  readonly rule: ScoreRule;
  readonly text: string;
}

/** The "why" of one uid's final score: the scorer's records of it, and what changed it since. */
export interface WhyModel {
  readonly uid: Uid;
  /** Window of the last `final-score` record; null if the peer was never rated. */
  readonly computedInWindow: number | null;
  /** That record's inputs, as the scorer logged them. */
  readonly ordinal: number | null;
  readonly binaryMovingAverage: number | null;
  readonly syncScore: number | null;
  /** The final score that record set (`final = ordinal × max(0, B) × sync`, computed by the scorer). */
  readonly product: number | null;
  /** The same value: the final score the scorer stored at that moment. */
  readonly finalAtComputation: number | null;
  /** Changes to the final score after that computation, oldest first. */
  readonly laterChanges: readonly SlashRecord[];
  /** Every record of this uid in the last window the scorer recorded one, in the order it applied them. */
  readonly lastWindowRecords: readonly ReasonLine[];
  readonly currentFinal: number;
  readonly weight: number;
  /** Where the weight comes from: the scorer's `weight` record, or the published share. */
  readonly weightText: string;
  /**
   * The last window in which this peer's loss score waited alone for a match (the scorer's
   * `openskill-pending` record: an OpenSkill match needs at least two evaluated peers); null if never.
   */
  readonly waitedAloneInWindow: number | null;
}

export interface LeaderboardRow {
  readonly rank: number;
  readonly uid: Uid;
  readonly finalScore: number;
  readonly weight: number;
  readonly ordinal: number | null;
  readonly binaryMovingAverage: number;
  readonly syncScore: number;
}

/** A number from a reason record, or null. */
function numberField(record: Readonly<Record<string, number | string | boolean | null>>, key: string): number | null {
  const value = record[key];
  return typeof value === 'number' ? value : null;
}

function percent(value: number | null): string {
  return value === null ? '?' : `${(value * 100).toFixed(1)} %`;
}

function times(rate: number | null): string {
  return rate === null ? '' : ` (× ${rate})`;
}

/** A reason record in plain words (what the peer did or missed, what was measured, and the penalty). */
export function describeReason(reason: ScoreReason): string {
  const { inputs, before, after } = reason;
  const rate = numberField(inputs, 'rate');
  switch (reason.rule) {
    case 'activity':
      return inputs.active === true ? 'Submitted in this window: active.' : `No submission in this window (the last in window ${String(inputs.lastSubmittedWindow ?? 'none')}): inactive from here.`;
    case 'naughty-countdown':
      return `Banned from evaluation for copying: scores reset again, ${String(after.naughtyWindowsLeft)} window(s) left.`;
    case 'new-hotkey':
      return `A new hotkey holds this uid (${String(inputs.hotkey)}, before ${String(inputs.previousHotkey)}): it starts from a fresh record, without the previous holder's rating, scores or ban.`;
    case 'sync-score':
      return typeof inputs.failure === 'string'
        ? `Sync check failed (${inputs.failure}): sync ${formatShort(numberField(after, 'syncScore'))}.`
        : `Sync ${formatShort(numberField(before, 'syncScore'))} → ${formatShort(numberField(after, 'syncScore'))}${numberField(inputs, 'stepsBehind') === null ? ' (no reference step size yet)' : ` (${formatShort(numberField(inputs, 'stepsBehind'))} outer steps behind, ${String(inputs.compared)} values compared)`}.`;
    case 'loss-score':
      return `Trial step on random data: loss ${formatShort(numberField(inputs, 'lossRandomBefore'))} → ${formatShort(numberField(inputs, 'lossRandomAfter'))}, LossScore ${formatShort(numberField(after, 'gradientScore'))}.`;
    case 'binary-indicator':
      return `On its own data the loss went ${formatShort(numberField(inputs, 'lossOwnBefore'))} → ${formatShort(numberField(inputs, 'lossOwnAfter'))} (improvement ${formatShort(numberField(inputs, 'ownImprovement'))} against LossScore ${formatShort(numberField(inputs, 'lossScore'))}): b = ${formatShort(numberField(after, 'binaryIndicator'))}, B ${formatShort(numberField(before, 'binaryMovingAverage'))} → ${formatShort(numberField(after, 'binaryMovingAverage'))}.`;
    case 'openskill-pending':
      return 'The only peer evaluated in this window: it is rated once a match has two players.';
    case 'openskill':
      return `OpenSkill match of ${String(inputs.players)} ranked by LossScore: μ ${formatShort(numberField(before, 'mu'))} → ${formatShort(numberField(after, 'mu'))}, σ ${formatShort(numberField(before, 'sigma'))} → ${formatShort(numberField(after, 'sigma'))}.`;
    case 'weight':
      return `Weight ${percent(numberField(before, 'weight'))} → ${percent(numberField(after, 'weight'))} (${String(inputs.weighting)} weighting of the final scores).`;
    case 'inactivity-slash':
      return `No submission in the recent windows (inactive since window ${String(inputs.inactiveSince)}): final score${times(rate)}.`;
    case 'inactivity-reset':
      return `Inactive for more than ${String(inputs.resetInactivityWindows)} windows: scores and rating reset.`;
    case 'overlap-slash': {
      const tier = String(inputs.tier);
      const penalty = tier === 'high' ? 'final score and B × 0.5' : tier === 'max' ? 'all scores reset' : 'all scores reset and banned from evaluation';
      const baseline = numberField(inputs, 'baseline');
      const against = baseline === null ? '' : ` (both peers overlap ${percent(baseline)} or less with the others)`;
      return `Top-k indices overlapped ${percent(numberField(inputs, 'overlap'))} with uid ${String(inputs.partner)}${against}, uploaded later (copy, tier "${tier}"): ${penalty}.`;
    }
    case 'sync-slash': {
      const steps = numberField(inputs, 'stepsBehind');
      return steps === null
        ? `Sync check failed (debug slice missing or unreadable): final score and B${times(rate)}.`
        : `Out of sync: ${steps.toFixed(2)} outer steps behind (allowed ${String(inputs.syncMaxStepsBehind)}): final score and B${times(rate)}.`;
    }
    case 'gather-skip-slash': {
      const inARow = numberField(inputs, 'consecutiveSkips');
      return `Missing from the gather${inARow !== null && inARow > 1 ? ` (${inARow} windows in a row)` : ''} (success rate ${percent(numberField(inputs, 'successRate'))}): final score and B${times(rate)}.`;
    }
    case 'miss-ban':
      return `Missing in ${String(inputs.missedWindows)} of the last ${String(inputs.lookbackWindows)} windows it was asked for: scores reset and banned from the gather and evaluation for ${String(inputs.banWindows)} windows.`;
    case 'negative-evaluations-slash':
      return `${String(inputs.negatives)} of its ${String(inputs.evaluations)} evaluations in the last ${String(inputs.lookbackWindows)} windows made the loss on its own data no better than on random data: final score and B${times(rate)}.`;
    case 'gather-exclusion':
      return inputs.excluded === true
        ? `${String(inputs.negativeStreak)} negative evaluations in a row: left out of the gather list until an evaluation is positive.`
        : 'A positive evaluation after a negative streak: back in the gather list.';
    case 'score-zero-threshold':
      return `Final score fell below ${String(inputs.scoreZeroThreshold)}: set to 0.`;
    case 'missing-gradient-slash':
      return `Chosen for evaluation but no gradient arrived inside the put window: final score and B${times(rate)}.`;
    case 'invalid-gradient-slash':
      return `The gradient failed validation (${String(inputs.detail)}): a positive final score becomes 0.`;
    case 'final-score':
      return `final = ordinal ${formatShort(numberField(inputs, 'ordinal'))} × max(0, B ${formatShort(numberField(inputs, 'binaryMovingAverage'))}${inputs.binaryFloorApplies === true ? ', counted as 0: below the floor' : ''}) × sync ${formatShort(numberField(inputs, 'syncScore'))} = ${formatShort(numberField(after, 'finalScore'))}.`;
  }
}

function formatShort(value: number | null): string {
  return value === null ? '?' : value.toPrecision(4);
}

function toSlashRecord(reason: ScoreReason): SlashRecord {
  return {
    window: reason.window,
    rule: reason.rule,
    text: describeReason(reason),
    finalBefore: reason.before.finalScore ?? null,
    finalAfter: reason.after.finalScore ?? null,
  };
}

/** Per-uid breakdowns, ascending uid; the burn uid is left out (it is not a peer). */
export function buildBreakdowns(state: ValidatorScoringState, reasons: readonly ScoreReason[], config: Pick<ScoringConfig, 'burnUid'>): PeerBreakdown[] {
  const slashesByUid = new Map<Uid, SlashRecord[]>();
  for (const reason of reasons) {
    if (!SLASH_RULES.has(reason.rule)) continue;
    const list = slashesByUid.get(reason.uid) ?? [];
    list.push(toSlashRecord(reason));
    slashesByUid.set(reason.uid, list);
  }
  return Object.keys(state.peers)
    .map(Number)
    .filter((uid) => uid !== config.burnUid)
    .sort((a, b) => a - b)
    .map((uid) => ({ ...peerScores(uid, state.peers[String(uid)]!), slashes: slashesByUid.get(uid) ?? [] }));
}

/** The leaderboard: by weight, then final score, then uid. */
export function buildLeaderboard(breakdowns: readonly PeerBreakdown[]): LeaderboardRow[] {
  return [...breakdowns]
    .sort((a, b) => b.weight - a.weight || b.finalScore - a.finalScore || a.uid - b.uid)
    .map((peer, i) => ({
      rank: i + 1,
      uid: peer.uid,
      finalScore: peer.finalScore,
      weight: peer.weight,
      ordinal: peer.ordinal,
      binaryMovingAverage: peer.binaryMovingAverage,
      syncScore: peer.syncScore,
    }));
}

/** The weight as the scorer recorded it (its last `weight` record of the uid), else as published. */
function weightText(records: readonly ScoreReason[], finalScore: number, weight: number): string {
  const last = records.findLast((reason) => reason.rule === 'weight');
  if (last !== undefined) return `Window ${last.window}: ${describeReason(last)}`;
  if (finalScore <= 0) return `A final score of 0 or less earns no weight: ${percent(weight)} of the validator's weights.`;
  return `${percent(weight)} of the validator's weights, as it published them.`;
}

/** The uid's records of the last window the scorer recorded any for it, in words. */
function lastWindowRecords(records: readonly ScoreReason[]): ReasonLine[] {
  const last = records.at(-1)?.window;
  return records.filter((reason) => reason.window === last).map((reason) => ({ window: reason.window, rule: reason.rule, text: describeReason(reason) }));
}

/**
 * The "why" of one uid: the last `final-score` reason in `reasons` (the product and its inputs),
 * then every later change of the final score. `reasons` must be the uid's history in window order.
 */
export function buildWhy(
  state: ValidatorScoringState,
  reasons: readonly ScoreReason[],
  uid: Uid,
): WhyModel {
  const records = reasons.filter((reason) => reason.uid === uid);
  const own = records.filter((reason) => FINAL_CHANGING_RULES.has(reason.rule));
  let lastComputation = -1;
  own.forEach((reason, i) => {
    if (reason.rule === 'final-score') lastComputation = i;
  });
  const waitedAloneInWindow = records.filter((reason) => reason.rule === 'openskill-pending').at(-1)?.window ?? null;
  const peer = state.peers[String(uid)];
  const currentFinal = peer?.finalScore ?? 0;
  const weight = peer?.weight ?? 0;
  const computation = lastComputation >= 0 ? own[lastComputation]! : null;
  // A reset (inactivity, or a copy of tier max/mega) wipes the rating even when final was already 0: always listed.
  const isReset = (reason: ScoreReason): boolean => reason.rule === 'inactivity-reset' || (reason.rule === 'overlap-slash' && reason.inputs.tier !== 'high');
  const later = own.slice(lastComputation + 1).filter((reason) => reason.before.finalScore !== reason.after.finalScore || isReset(reason));
  if (computation === null) {
    return {
      uid,
      computedInWindow: null,
      ordinal: null,
      binaryMovingAverage: null,
      syncScore: null,
      product: null,
      finalAtComputation: null,
      laterChanges: later.map(toSlashRecord),
      lastWindowRecords: lastWindowRecords(records),
      currentFinal,
      weight,
      weightText: weightText(records, currentFinal, weight),
      waitedAloneInWindow,
    };
  }
  const recordedFinal = computation.after.finalScore ?? null;
  return {
    uid,
    computedInWindow: computation.window,
    ordinal: numberField(computation.inputs, 'ordinal'),
    binaryMovingAverage: numberField(computation.inputs, 'binaryMovingAverage'),
    syncScore: numberField(computation.inputs, 'syncScore'),
    product: recordedFinal,
    finalAtComputation: recordedFinal,
    laterChanges: later.map(toSlashRecord),
    lastWindowRecords: lastWindowRecords(records),
    currentFinal,
    weight,
    weightText: weightText(records, currentFinal, weight),
    waitedAloneInWindow,
  };
}
