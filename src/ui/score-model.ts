/**
 * The rewards dashboard's data model, built from the scoring module's own state and reason records
 * (src/core/scoring: `ValidatorScoringState`, `ScoreReason`), never from the DOM. Every number a
 * volunteer sees here is a field the scorer stored or a reason it logged, so the page can explain
 * each reward (style.md §1.2) and Playwright can read the same model from `window.gauntlet.ui`.
 *
 * The "why" panel follows gauntlet-spec §7.4 (`Validator.update_weights` inputs): the final score
 * is recomputed only when the peer is in a window's OpenSkill match, as
 * `final = ordinal × max(0, B) × sync` with the values of that moment (the `final-score` reason);
 * afterwards slashes (§7.1, §7.5) multiply it. So the panel shows that product with its inputs,
 * then every later change, ending at the current value.
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

/** The "why" of one uid's final score: the product and what changed it since. */
export interface WhyModel {
  readonly uid: Uid;
  /** Window of the last `final = ordinal × max(0, B) × sync`; null if the peer was never rated. */
  readonly computedInWindow: number | null;
  readonly ordinal: number | null;
  readonly binaryMovingAverage: number | null;
  /** max(0, B). */
  readonly clampedB: number | null;
  readonly syncScore: number | null;
  /** ordinal × max(0, B) × sync with the numbers above. */
  readonly product: number | null;
  /** The final score the scorer stored at that moment (equals `product`). */
  readonly finalAtComputation: number | null;
  /** Changes to the final score after that computation, oldest first. */
  readonly laterChanges: readonly SlashRecord[];
  readonly currentFinal: number;
  readonly weight: number;
  /** How the weight follows from the final scores, in plain words. */
  readonly weightText: string;
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

/** A reason record in plain words (what the peer did or missed, and the penalty). */
export function describeReason(reason: ScoreReason): string {
  const inputs = reason.inputs;
  const rate = numberField(inputs, 'rate');
  switch (reason.rule) {
    case 'inactivity-slash':
      return `No submission in the recent windows (inactive since window ${String(inputs.inactiveSince)}): final score${times(rate)}.`;
    case 'inactivity-reset':
      return `Inactive for more than ${String(inputs.resetInactivityWindows)} windows: scores and rating reset.`;
    case 'overlap-slash': {
      const tier = String(inputs.tier);
      const penalty = tier === 'high' ? 'final score and B × 0.5' : tier === 'max' ? 'all scores reset' : 'all scores reset and banned from evaluation';
      return `Top-k indices overlapped ${percent(numberField(inputs, 'overlap'))} with uid ${String(inputs.partner)}, uploaded later (copy, tier "${tier}"): ${penalty}.`;
    }
    case 'sync-slash': {
      const steps = numberField(inputs, 'stepsBehind');
      return steps === null
        ? `Sync check failed (debug slice missing or unreadable): final score and B${times(rate)}.`
        : `Out of sync: ${steps.toFixed(2)} outer steps behind (allowed ${String(inputs.syncMaxStepsBehind)}): final score and B${times(rate)}.`;
    }
    case 'gather-skip-slash':
      return `Missing from the gather (success rate ${percent(numberField(inputs, 'successRate'))}): final score and B${times(rate)}.`;
    case 'score-zero-threshold':
      return `Final score fell below ${String(inputs.scoreZeroThreshold)}: set to 0.`;
    case 'missing-gradient-slash':
      return `Chosen for evaluation but no gradient arrived inside the put window: final score and B${times(rate)}.`;
    case 'invalid-gradient-slash':
      return `The gradient failed validation (${String(inputs.detail)}): a positive final score becomes 0.`;
    case 'final-score':
      return `final = ordinal ${formatShort(numberField(inputs, 'ordinal'))} × max(0, B ${formatShort(numberField(inputs, 'binaryMovingAverage'))}) × sync ${formatShort(numberField(inputs, 'syncScore'))}.`;
    default:
      return `${reason.rule}`;
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

function weightText(config: Pick<ScoringConfig, 'weighting' | 'burnRate' | 'gatherPeers' | 'reservePeers' | 'gatherShare' | 'powerNormalisation'>, finalScore: number, weight: number): string {
  if (finalScore <= 0) return 'A final score of 0 or less earns no weight.';
  if (config.weighting === 'power') {
    return `Weight = final^${config.powerNormalisation} / Σ final^${config.powerNormalisation} over peers with a positive final score (${(weight * 100).toFixed(2)} %).`;
  }
  return (
    `Weights follow the rank of the final score, not its size: the top ${config.gatherPeers} share ${(config.gatherShare * 100).toFixed(0)} % ` +
    `of the miners' part (2:1 from first to last), the next ${config.reservePeers} the rest; ${(config.burnRate * 100).toFixed(0)} % of all weight is burned. ` +
    `This peer: ${(weight * 100).toFixed(2)} %.`
  );
}

/**
 * The "why" of one uid: the last `final-score` reason in `reasons` (the product and its inputs),
 * then every later change of the final score. `reasons` must be the uid's history in window order.
 */
export function buildWhy(
  state: ValidatorScoringState,
  reasons: readonly ScoreReason[],
  uid: Uid,
  config: Pick<ScoringConfig, 'weighting' | 'burnRate' | 'gatherPeers' | 'reservePeers' | 'gatherShare' | 'powerNormalisation'>,
): WhyModel {
  const own = reasons.filter((reason) => reason.uid === uid && FINAL_CHANGING_RULES.has(reason.rule));
  let lastComputation = -1;
  own.forEach((reason, i) => {
    if (reason.rule === 'final-score') lastComputation = i;
  });
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
      clampedB: null,
      syncScore: null,
      product: null,
      finalAtComputation: null,
      laterChanges: later.map(toSlashRecord),
      currentFinal,
      weight,
      weightText: weightText(config, currentFinal, weight),
    };
  }
  const ordinal = numberField(computation.inputs, 'ordinal');
  const b = numberField(computation.inputs, 'binaryMovingAverage');
  const sync = numberField(computation.inputs, 'syncScore');
  const clampedB = b === null ? null : Math.max(0, b);
  return {
    uid,
    computedInWindow: computation.window,
    ordinal,
    binaryMovingAverage: b,
    clampedB,
    syncScore: sync,
    product: ordinal === null || clampedB === null || sync === null ? null : ordinal * clampedB * sync,
    finalAtComputation: computation.after.finalScore ?? null,
    laterChanges: later.map(toSlashRecord),
    currentFinal,
    weight,
    weightText: weightText(config, currentFinal, weight),
  };
}
