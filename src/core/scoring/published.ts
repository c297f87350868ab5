/**
 * The per-window scores document a validator publishes in its own bucket (`scores-{window}`), so a
 * volunteer's page can show why it earned what it earned (style.md §1.2, issue #8) without running
 * the scorer. Templar has no such object (its dashboards read the validator's metrics service); we
 * publish the same numbers `scoreWindow` stored (gauntlet-spec §7.1–§7.4: `gradient_scores`,
 * `binary_indicator_scores`, `binary_moving_averages`, `sync_scores`, OpenSkill μ/σ, `final_scores`,
 * `weights`) and the window's reason records, so every slash comes with its rule and inputs.
 *
 * Only what explains scores travels: no sync EMA, no previous slices, no pending match scores, no
 * index sets. The document is read from another party's bucket, so `parseWindowScores` checks
 * every field and rejects anything malformed with a `WindowScoresError` naming the field.
 */
import { describe, expectArray, expectFinite, expectInteger, expectRecord, expectUid, isRecord, type Fail } from './checks.ts';
import { WindowScoresError } from './errors.ts';
import type { PeerScoreState, ScoreReason, ScoreRule, Uid, WindowScoringResult } from './types.ts';
import { errorMessage } from '../errors.ts';

/** Bump when the layout or meaning of `WindowScoresDocument` changes. */
export const WINDOW_SCORES_VERSION = 1;
/** The `kind` tag, so a document is never mistaken for another JSON object in the bucket. */
export const WINDOW_SCORES_KIND = 'gauntlet-window-scores';
/** Largest document a reader downloads (≈ 256 uids × a window's reasons fit with a wide margin). */
export const MAX_WINDOW_SCORES_BYTES = 4 * 1024 * 1024;
/** Longest string a reason input may hold (an invalid-gradient detail, a copy tier). */
const MAX_REASON_TEXT = 1_000;

/** Every rule a reason record may name (the runtime twin of `ScoreRule`). */
export const SCORE_RULES = [
  'activity', 'inactivity-slash', 'inactivity-reset', 'naughty-countdown', 'new-hotkey', 'overlap-slash', 'sync-score', 'sync-slash',
  'gather-skip-slash', 'score-zero-threshold', 'missing-gradient-slash', 'invalid-gradient-slash', 'loss-score',
  'binary-indicator', 'openskill-pending', 'openskill', 'final-score', 'weight', 'miss-ban', 'negative-evaluations-slash', 'gather-exclusion',
] as const satisfies readonly ScoreRule[];
// Fails to compile when `ScoreRule` grows a rule this list lacks.
const everyRuleListed: Exclude<ScoreRule, (typeof SCORE_RULES)[number]> extends never ? true : never = true;
void everyRuleListed;

/** Reason rules left out of the document: the `weight` change is the peer's `weight` field already. */
const OMITTED_RULES: ReadonlySet<ScoreRule> = new Set<ScoreRule>(['weight']);

/** One uid's scores after the window, as the validator stores them (gauntlet-spec §7.7). */
export interface PublishedPeerScores {
  readonly uid: Uid;
  /** LossScore, the last relative loss gain on random data (`gradient_scores`). */
  readonly lossScore: number;
  /** Last binary indicator: +1, −1, or 0 before the first evaluation. */
  readonly binaryIndicator: number;
  /** B, the EMA of the binary indicator (`binary_moving_averages`). */
  readonly binaryMovingAverage: number;
  readonly syncScore: number;
  /** OpenSkill rating; all three null while unrated. */
  readonly mu: number | null;
  readonly sigma: number | null;
  /** μ − 3σ. */
  readonly ordinal: number | null;
  readonly finalScore: number;
  /** Share of this validator's weights, in [0, 1]. */
  readonly weight: number;
  readonly lastEvalWindow: number | null;
  readonly inactiveSince: number | null;
  /** Windows left in a copy ban (`naughty_peers`). */
  readonly banWindowsLeft: number;
}

export interface WindowScoresDocument {
  readonly kind: typeof WINDOW_SCORES_KIND;
  readonly version: typeof WINDOW_SCORES_VERSION;
  readonly runId: string;
  readonly netuid: number;
  /** The sync window these scores are the result of. */
  readonly window: number;
  /** Outer steps applied by the validator so far. */
  readonly globalStep: number;
  readonly burnUid: Uid;
  /** Share of the weights burned to `burnUid`, in [0, 1]. */
  readonly burnShare: number;
  /** True when weights were due on chain this window. */
  readonly setWeightsDue: boolean;
  /** Every uid the validator holds a record of except the burn uid, ascending. */
  readonly peers: readonly PublishedPeerScores[];
  /** This window's reason records (all uids), in the order the scorer applied them. */
  readonly reasons: readonly ScoreReason[];
}

export interface WindowScoresContext {
  readonly runId: string;
  readonly netuid: number;
  readonly burnUid: Uid;
}

/** What explains one uid's reward, from the scorer's state (the breakdown the dashboards show, too). */
export function peerScores(uid: Uid, peer: PeerScoreState): PublishedPeerScores {
  return {
    uid,
    lossScore: peer.gradientScore,
    binaryIndicator: peer.binaryIndicator,
    binaryMovingAverage: peer.binaryMovingAverage,
    syncScore: peer.syncScore,
    mu: peer.rating?.mu ?? null,
    sigma: peer.rating?.sigma ?? null,
    ordinal: peer.rating === null ? null : peer.rating.mu - 3 * peer.rating.sigma,
    finalScore: peer.finalScore,
    weight: peer.weight,
    lastEvalWindow: peer.lastEvalWindow,
    inactiveSince: peer.inactiveSince,
    banWindowsLeft: peer.naughtyWindowsLeft,
  };
}

/** The document for `window` from a `scoreWindow` result. */
export function windowScoresDocument(result: WindowScoringResult, window: number, context: WindowScoresContext): WindowScoresDocument {
  const peers = Object.entries(result.state.peers)
    .map(([key, peer]) => ({ uid: Number(key), peer }))
    .filter(({ uid }) => uid !== context.burnUid)
    .sort((a, b) => a.uid - b.uid)
    .map(({ uid, peer }) => peerScores(uid, peer));
  return {
    kind: WINDOW_SCORES_KIND,
    version: WINDOW_SCORES_VERSION,
    runId: context.runId,
    netuid: context.netuid,
    window,
    globalStep: result.state.globalStep,
    burnUid: context.burnUid,
    burnShare: result.weights[String(context.burnUid)] ?? 0,
    setWeightsDue: result.setWeightsDue,
    peers,
    reasons: result.reasons.filter((reason) => !OMITTED_RULES.has(reason.rule)),
  };
}

const fail: Fail = (field, problem) => new WindowScoresError(field, problem);

function nullableFinite(value: unknown, field: string): number | null {
  return value === null ? null : expectFinite(value, field, fail);
}

function nullableWindow(value: unknown, field: string): number | null {
  return value === null ? null : expectInteger(value, field, fail);
}

function unitInterval(value: unknown, field: string): number {
  const n = expectFinite(value, field, fail);
  if (n < 0 || n > 1) throw fail(field, `expected a share in [0, 1], got ${n}`);
  return n;
}

function parsePeer(value: unknown, field: string): PublishedPeerScores {
  const p = expectRecord(value, field, fail);
  const mu = nullableFinite(p.mu, `${field}.mu`);
  const sigma = nullableFinite(p.sigma, `${field}.sigma`);
  const ordinalValue = nullableFinite(p.ordinal, `${field}.ordinal`);
  if ((mu === null) !== (sigma === null) || (mu === null) !== (ordinalValue === null)) {
    throw fail(`${field}.mu`, 'mu, sigma and ordinal must all be numbers (rated) or all null (unrated)');
  }
  if (sigma !== null && sigma <= 0) throw fail(`${field}.sigma`, `sigma must be positive, got ${sigma}`);
  const binaryIndicator = expectFinite(p.binaryIndicator, `${field}.binaryIndicator`, fail);
  if (![-1, 0, 1].includes(binaryIndicator)) throw fail(`${field}.binaryIndicator`, `expected −1, 0 or +1, got ${binaryIndicator}`);
  return {
    uid: expectUid(p.uid, `${field}.uid`, fail),
    lossScore: expectFinite(p.lossScore, `${field}.lossScore`, fail),
    binaryIndicator,
    binaryMovingAverage: expectFinite(p.binaryMovingAverage, `${field}.binaryMovingAverage`, fail),
    syncScore: unitInterval(p.syncScore, `${field}.syncScore`),
    mu,
    sigma,
    ordinal: ordinalValue,
    finalScore: expectFinite(p.finalScore, `${field}.finalScore`, fail),
    weight: unitInterval(p.weight, `${field}.weight`),
    lastEvalWindow: nullableWindow(p.lastEvalWindow, `${field}.lastEvalWindow`),
    inactiveSince: nullableWindow(p.inactiveSince, `${field}.inactiveSince`),
    banWindowsLeft: expectInteger(p.banWindowsLeft, `${field}.banWindowsLeft`, fail),
  };
}

function parseReasonValues(value: unknown, field: string): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [key, v] of Object.entries(expectRecord(value, field, fail))) out[key] = nullableFinite(v, `${field}.${key}`);
  return out;
}

function parseReasonInputs(value: unknown, field: string): Record<string, number | string | boolean | null> {
  const out: Record<string, number | string | boolean | null> = {};
  for (const [key, v] of Object.entries(expectRecord(value, field, fail))) {
    if (typeof v === 'string') {
      if (v.length > MAX_REASON_TEXT) throw fail(`${field}.${key}`, `text longer than ${MAX_REASON_TEXT} characters`);
      out[key] = v;
    } else if (typeof v === 'boolean' || v === null) out[key] = v;
    else out[key] = expectFinite(v, `${field}.${key}`, fail);
  }
  return out;
}

function parseReason(value: unknown, field: string, window: number): ScoreReason {
  const r = expectRecord(value, field, fail);
  if (r.window !== window) throw fail(`${field}.window`, `a reason of window ${describe(r.window)} in the document of window ${window}`);
  const rule = r.rule;
  if (typeof rule !== 'string' || !(SCORE_RULES as readonly string[]).includes(rule)) throw fail(`${field}.rule`, `unknown rule ${describe(rule)}`);
  return {
    window,
    uid: expectUid(r.uid, `${field}.uid`, fail),
    rule: rule as ScoreRule,
    inputs: parseReasonInputs(r.inputs, `${field}.inputs`),
    before: parseReasonValues(r.before, `${field}.before`),
    after: parseReasonValues(r.after, `${field}.after`),
  };
}

/**
 * Validates a parsed `scores-{window}` object. With `expected`, a document of another run, netuid
 * or window is rejected too (a validator's bucket may hold older runs' objects).
 */
export function parseWindowScores(raw: unknown, expected?: { readonly runId?: string; readonly netuid?: number; readonly window?: number }): WindowScoresDocument {
  if (!isRecord(raw)) throw fail('(root)', `expected an object, got ${describe(raw)}`);
  if (raw.kind !== WINDOW_SCORES_KIND) throw fail('kind', `expected "${WINDOW_SCORES_KIND}", got ${describe(raw.kind)}`);
  if (raw.version !== WINDOW_SCORES_VERSION) throw fail('version', `version ${describe(raw.version)} is not the supported version ${WINDOW_SCORES_VERSION}`);
  if (typeof raw.runId !== 'string' || raw.runId.length === 0 || raw.runId.length > 64) throw fail('runId', `expected a run id, got ${describe(raw.runId)}`);
  const netuid = expectUid(raw.netuid, 'netuid', fail);
  const window = expectInteger(raw.window, 'window', fail);
  if (expected?.runId !== undefined && raw.runId !== expected.runId) throw fail('runId', `the document is of run "${raw.runId}", not "${expected.runId}"`);
  if (expected?.netuid !== undefined && netuid !== expected.netuid) throw fail('netuid', `the document is of netuid ${netuid}, not ${expected.netuid}`);
  if (expected?.window !== undefined && window !== expected.window) throw fail('window', `the document is of window ${window}, not ${expected.window}`);
  if (typeof raw.setWeightsDue !== 'boolean') throw fail('setWeightsDue', `expected a boolean, got ${describe(raw.setWeightsDue)}`);
  const burnUid = expectUid(raw.burnUid, 'burnUid', fail);
  const peers = expectArray(raw.peers, 'peers', fail).map((p, i) => parsePeer(p, `peers.${i}`));
  peers.forEach((peer, i) => {
    if (peer.uid === burnUid) throw fail(`peers.${i}.uid`, `the burn uid ${burnUid} is not a peer`);
    if (i > 0 && peer.uid <= peers[i - 1]!.uid) throw fail(`peers.${i}.uid`, 'uids must be strictly ascending');
  });
  return {
    kind: WINDOW_SCORES_KIND,
    version: WINDOW_SCORES_VERSION,
    runId: raw.runId,
    netuid,
    window,
    globalStep: expectInteger(raw.globalStep, 'globalStep', fail),
    burnUid,
    burnShare: unitInterval(raw.burnShare, 'burnShare'),
    setWeightsDue: raw.setWeightsDue,
    peers,
    reasons: expectArray(raw.reasons, 'reasons', fail).map((r, i) => parseReason(r, `reasons.${i}`, window)),
  };
}

/** Parses the JSON text of a `scores-{window}` object (see `parseWindowScores`). */
export function deserializeWindowScores(text: string, expected?: Parameters<typeof parseWindowScores>[1]): WindowScoresDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new WindowScoresError('(root)', `not JSON (${errorMessage(error)})`);
  }
  return parseWindowScores(raw, expected);
}
