/**
 * One validator window of scoring (gauntlet-spec §7.8, the scoring half of v2.1.3
 * `Validator.run`): a pure function from (state, everything measured this window, config) to
 * (new state, weights, reason records). The validator loop (src/peer/validator.ts) is a thin
 * driver: it gathers, measures losses and slices, calls `selectEvaluationUids` and then
 * `scoreWindow`, and publishes the weights. Same inputs, same outputs, in Node and in browsers.
 *
 * The driver, per window s (what src/peer/validator.ts is expected to do around this module):
 *   1. HEAD `gradient-{s}-*` → `submittedUids`; `active = activeUidsAt(state, s, submittedUids, config)`.
 *   2. `evalUids = selectEvaluationUids(state, evaluationCandidates(state, active), config, seed(s))`;
 *      every `peerReplacementFrequency` windows post `selectGatherPeers(state, active, config, seed)`.
 *   3. Gather → `gather`; read every `debug-{s−1}` → `peerSlices`; own θ[10:12] → `validatorSlices`;
 *      decoded top-k indices → `indexSets` (see `ChunkIndexSets`); storage times → `uploadTimes`.
 *   4. Stage-2 losses for `evalUids` → `lossRandomBefore`, `evaluations` (non-finite loss → 'invalid').
 *   5. `scoreWindow(state, inputs, config)`; persist `serializeState(result.state)`; if
 *      `setWeightsDue`, `set_weights(result.chainWeights)`; show `result.reasons` to peers.
 *
 * Order of the rules, as in §7.8: new hotkeys on known uids → activity and inactivity → (no gather:
 * stop, no weights) → index-overlap slashing (with the copy bans' reset and countdown) → sync score
 * and sync slash → skipped-gather slash → stage 2 per evaluated uid → OpenSkill match → final
 * scores → weights. docs/templar-mapping.md maps each rule to its Templar v2.1.3 function.
 */

import type { ScoringConfig } from '../config.ts';
import { ScoringConfigError, ScoringInputError } from './errors.ts';
import { parseWindowScoringInputs } from './inputs.ts';
import { binaryIndicator, lossScore, ownImprovement, updateBinaryMovingAverage } from './loss-score.ts';
import { ordinal, rateMatch } from './openskill.ts';
import { findOverlaps, OVERLAP_HIGH_SLASH_RATE, type OverlapFinding, type OverlapTier } from './overlap.ts';
import { profileRules, SCORING_PROFILES, type ProfileRules } from './profiles.ts';
import { ReasonLog, slashPositive } from './reasons.ts';
import { cloneState, knownUids, markEvaluated, newPeerState, peerState } from './state.ts';
import { compareWithDebugSlices, syncScoreFromSteps, updateParamAvgChange } from './sync.ts';
import type {
  GatherOutcome,
  PeerScoreState,
  Uid,
  ValidatorScoringState,
  WindowScoringInputs,
  WindowScoringResult,
} from './types.ts';
import { computeWeights, finalScore, toChainWeights } from './weights.ts';

const UNIT_INTERVAL_FIELDS = [
  'binaryScoreMaAlpha',
  'syncAvgChangeAlpha',
  'inactivitySlashRate',
  'missingGradientSlashRate',
  'syncScoreSlashRate',
  'gatherPeersSlashThreshold',
  'idxOverlapThreshold',
  'burnRate',
  'gatherShare',
] as const;

const POSITIVE_INTEGER_FIELDS = ['uidsPerWindow', 'numEvaluationBins', 'windowsPerWeights', 'gatherPeers'] as const;

/** Rejects a config for which a scoring formula is meaningless. */
export function validateScoringConfig(config: ScoringConfig): void {
  if (!(SCORING_PROFILES as readonly string[]).includes(config.profile)) {
    throw new ScoringConfigError('profile', `must be one of ${SCORING_PROFILES.join(', ')}, got ${JSON.stringify(config.profile)}`);
  }
  for (const field of UNIT_INTERVAL_FIELDS) {
    const v = config[field];
    if (!Number.isFinite(v) || v < 0 || v > 1) throw new ScoringConfigError(field, `must be in [0, 1], got ${v}`);
  }
  for (const field of POSITIVE_INTEGER_FIELDS) {
    const v = config[field];
    if (!Number.isInteger(v) || v < 1) throw new ScoringConfigError(field, `must be an integer ≥ 1, got ${v}`);
  }
  if (!(config.syncWindowSteps > 0)) throw new ScoringConfigError('syncWindowSteps', 'must be > 0');
  if (!(config.openskillBeta > 0)) throw new ScoringConfigError('openskillBeta', 'must be > 0');
  if (!Number.isInteger(config.burnUid) || config.burnUid < 0 || config.burnUid > 0xffff) {
    throw new ScoringConfigError('burnUid', `must be a uid in [0, 65535], got ${config.burnUid}`);
  }
  for (const [field, v] of Object.entries(config)) {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new ScoringConfigError(field, `must be finite, got ${v}`);
  }
}

/**
 * Uids active at `window` (§5.6 `is_miner_active`): a submission seen in `[window − recentWindows,
 * window]`, counting `submittedUids` of this window. The driver uses it before `scoreWindow` to
 * choose evaluation candidates.
 */
export function activeUidsAt(
  state: ValidatorScoringState,
  window: number,
  submittedUids: readonly Uid[],
  config: Pick<ScoringConfig, 'recentWindows'>,
): Uid[] {
  const active = new Set<Uid>(submittedUids);
  for (const uid of knownUids(state)) {
    const last = state.peers[String(uid)]!.lastSubmittedWindow;
    if (last !== null && window - last <= config.recentWindows) active.add(uid);
  }
  return [...active].sort((a, b) => a - b);
}

/** Scores a peer loses on a copy-detection reset ("max"/"mega", `Validator.reset_peer`): B goes to 0. */
function resetScores(peer: PeerScoreState): void {
  peer.gradientScore = 0;
  peer.binaryIndicator = 0;
  peer.binaryMovingAverage = 0;
  peer.syncScore = 0;
  peer.rating = null;
  peer.finalScore = 0;
}

const TIER_ORDER: Record<OverlapTier, number> = { high: 0, max: 1, mega: 2 };

/**
 * A uid whose hotkey changed since it was last seen has a new owner: the record starts fresh
 * (`new-hotkey`). Templar v2.1.3 does this for copy bans only (`Validator.check_deregistered_uids`:
 * a new hotkey on a banned uid is not banned, unless this window finds it copying at the mega tier);
 * deliberately, ours also gives it no rating, B or weight of the previous holder, since it is another peer.
 */
function applyHotkeys(state: ValidatorScoringState, inputs: WindowScoringInputs, config: ScoringConfig, log: ReasonLog): void {
  if (inputs.hotkeys === undefined) return;
  for (const uid of knownUids(state)) {
    const key = String(uid);
    const peer = state.peers[key]!;
    const hotkey = inputs.hotkeys[key];
    if (hotkey === undefined || peer.hotkey === undefined || peer.hotkey === hotkey) continue;
    const fresh = newPeerState(config);
    fresh.weight = peer.weight; // recomputed (and explained) by the weight step at the end of the window
    log.record(uid, 'new-hotkey', { hotkey, previousHotkey: peer.hotkey }, { finalScore: peer.finalScore, binaryMovingAverage: peer.binaryMovingAverage, syncScore: peer.syncScore, naughtyWindowsLeft: peer.naughtyWindowsLeft }, { finalScore: 0, binaryMovingAverage: fresh.binaryMovingAverage, syncScore: fresh.syncScore, naughtyWindowsLeft: 0 });
    state.peers[key] = fresh;
    delete state.pendingScores[key];
  }
}

/** Activity / inactivity (§7.1 `penalize_inactive_peers`, `reset_peer`). */
function applyActivity(state: ValidatorScoringState, inputs: WindowScoringInputs, config: ScoringConfig, log: ReasonLog): Set<Uid> {
  const w = inputs.window;
  // Nobody submitted although several peers were active when the network was last heard: the network (its chain,
  // its storage, or the validator's view of them) was silent, not the peers. Such a window does not
  // count toward anyone's inactivity: no one becomes inactive in it, no inactivity slash or reset,
  // and the inactivity clocks pause (deliberately unlike v2.1.3, which counted an outage against
  // every peer). A lone peer that leaves still goes inactive as before.
  const lastHeard = Math.max(-1, ...knownUids(state).map((uid) => state.peers[String(uid)]!.lastSubmittedWindow ?? -1));
  if (inputs.submittedUids.length === 0 && lastHeard >= 0 && activeUidsAt(state, lastHeard, [], config).length >= 2) {
    for (const uid of knownUids(state)) {
      const peer = state.peers[String(uid)]!;
      if (peer.inactiveSince !== null) peer.inactiveSince += 1;
    }
    return new Set(activeUidsAt(state, w, [], config));
  }
  for (const uid of inputs.submittedUids) peerState(state, uid, config).lastSubmittedWindow = w;
  const active = new Set(activeUidsAt(state, w, [], config));
  for (const uid of knownUids(state)) {
    const key = String(uid);
    const peer = state.peers[key]!;
    const isActive = active.has(uid);
    if (isActive && peer.inactiveSince !== null) {
      log.record(uid, 'activity', { active: true }, { inactiveSince: peer.inactiveSince }, { inactiveSince: null });
      peer.inactiveSince = null;
    } else if (!isActive && peer.inactiveSince === null && peer.lastSubmittedWindow !== null) {
      log.record(uid, 'activity', { active: false, lastSubmittedWindow: peer.lastSubmittedWindow }, { inactiveSince: null }, { inactiveSince: w });
      peer.inactiveSince = w;
    }
    if (peer.inactiveSince === null) continue;
    if (w - peer.inactiveSince > config.resetInactivityWindows) {
      // Full reset (PR #293: the OpenSkill rating too). B may not rise above the initial value,
      // so going inactive cannot wash out a negative B (deliberate; Templar resets B to 0).
      const fresh = newPeerState(config);
      fresh.binaryMovingAverage = Math.min(peer.binaryMovingAverage, config.binaryScoreInitial);
      fresh.naughtyWindowsLeft = peer.naughtyWindowsLeft;
      fresh.weight = peer.weight; // recomputed (and explained) by the weight step at the end of the window
      log.record(
        uid,
        'inactivity-reset',
        { inactiveSince: peer.inactiveSince, resetInactivityWindows: config.resetInactivityWindows },
        { finalScore: peer.finalScore, binaryMovingAverage: peer.binaryMovingAverage, mu: peer.rating?.mu ?? null },
        { finalScore: 0, binaryMovingAverage: fresh.binaryMovingAverage, mu: null },
      );
      state.peers[key] = fresh;
      delete state.pendingScores[key];
    } else if (peer.finalScore > 0) {
      const before = peer.finalScore;
      peer.finalScore *= config.inactivitySlashRate;
      log.record(uid, 'inactivity-slash', { rate: config.inactivitySlashRate, inactiveSince: peer.inactiveSince }, { finalScore: before }, { finalScore: peer.finalScore });
    }
  }
  return active;
}

/**
 * Index-overlap slashing (`Validator.slash_from_overlap`), after the grace period: high × 0.5, max
 * and mega reset, mega bans for `naughtyPeerTimeout`. Every banned peer (a copy ban, or the 2026
 * missing-submission ban) counts as a `max` offender again (its scores are reset once more) unless
 * this window finds it at another tier; then each ban counts down by one, so a ban runs down only in
 * windows with a gather.
 *
 * Deliberately unlike v2.1.3, which compares its gather only, every submission the validator read
 * this window is compared (the driver passes the index sets of the gathered and the evaluated
 * peers): a copier whose victim was not gathered with it, or who was evaluated without being
 * gathered, is compared all the same. Since the 2026 missing-submission ban can start before the
 * grace period ends, bans count down during it too (v2.1.3 has no ban then).
 */
function applyOverlap(state: ValidatorScoringState, inputs: WindowScoringInputs, compared: readonly Uid[], config: ScoringConfig, rules: ProfileRules, log: ReasonLog): void {
  const sets: Record<string, WindowScoringInputs['indexSets'][string]> = {};
  for (const uid of compared) {
    const peerSets = inputs.indexSets[String(uid)];
    if (peerSets !== undefined) sets[String(uid)] = peerSets;
  }
  const worst = new Map<Uid, OverlapFinding>();
  const findings = state.globalStep < config.overlapGraceSteps ? [] : findOverlaps(sets, inputs.uploadTimes, config, rules.relativeOverlapMargin);
  for (const finding of findings) {
    for (const uid of finding.offenders) {
      const current = worst.get(uid);
      if (current === undefined || TIER_ORDER[finding.tier] > TIER_ORDER[current.tier] || (finding.tier === current.tier && finding.overlap > current.overlap)) {
        worst.set(uid, finding);
      }
    }
  }
  const banned = knownUids(state).filter((uid) => state.peers[String(uid)]!.naughtyWindowsLeft > 0);
  for (const uid of [...new Set([...banned, ...worst.keys()])].sort((a, b) => a - b)) {
    const finding = worst.get(uid);
    const peer = peerState(state, uid, config);
    const before = { finalScore: peer.finalScore, binaryMovingAverage: peer.binaryMovingAverage, syncScore: peer.syncScore, naughtyWindowsLeft: peer.naughtyWindowsLeft };
    const tier: OverlapTier = finding?.tier ?? 'max';
    if (tier === 'high') {
      slashPositive(peer, OVERLAP_HIGH_SLASH_RATE);
    } else {
      resetScores(peer);
      delete state.pendingScores[String(uid)];
      if (tier === 'mega') peer.naughtyWindowsLeft = config.naughtyPeerTimeout;
    }
    if (peer.naughtyWindowsLeft > 0) peer.naughtyWindowsLeft -= 1;
    const after = { finalScore: peer.finalScore, binaryMovingAverage: peer.binaryMovingAverage, syncScore: peer.syncScore, naughtyWindowsLeft: peer.naughtyWindowsLeft };
    if (finding === undefined) {
      log.record(uid, 'naughty-countdown', { reset: true }, before, after);
      continue;
    }
    const partner = finding.uidA === uid ? finding.uidB : finding.uidA;
    log.record(uid, 'overlap-slash', { overlap: finding.overlap, tier: finding.tier, partner, threshold: config.idxOverlapThreshold, ...(finding.baseline === undefined ? {} : { baseline: finding.baseline, relativeMargin: rules.relativeOverlapMargin }) }, before, after);
    markEvaluated(state, uid);
  }
}

/**
 * Sync score for gathered and evaluated uids, and the sync slash for the gather list's peers (§7.1;
 * Templar slashes its gather list, not the reserves that filled in). A peer that did not submit in
 * the window before cannot have published that window's debug slice (it had just joined, or came
 * back): its missing slice is not judged, its sync score stays as it was and nothing is slashed
 * (deliberately unlike v2.1.3, which slashed every newcomer on its first scored window).
 */
function applySync(state: ValidatorScoringState, inputs: WindowScoringInputs, gathered: readonly Uid[], submittedBefore: ReadonlyMap<Uid, number | null>, config: ScoringConfig, rules: ProfileRules, log: ReasonLog): void {
  const checked = [...new Set([...gathered, ...inputs.evalUids])].sort((a, b) => a - b);
  const gatherList = new Set(inputs.gather?.gatherList ?? [...gathered, ...(inputs.gather?.skippedUids ?? [])]);
  for (const uid of checked) {
    const peer = peerState(state, uid, config);
    const slices = inputs.peerSlices[String(uid)];
    const before = peer.syncScore;
    if ((slices === null || slices === undefined) && submittedBefore.get(uid) !== inputs.window - 1) {
      log.record(uid, 'sync-score', { stepsBehind: null, compared: 0, failure: null, notJudged: `no submission in window ${inputs.window - 1}, so no debug slice of it could exist` }, { syncScore: before }, { syncScore: before });
      continue;
    }
    const check = compareWithDebugSlices(slices, inputs.validatorSlices, state.paramAvgChange, rules.syncStatistic);
    let failed = false;
    let stepsBehind: number | null = null;
    if (!check.ok) {
      peer.syncScore = 0;
      failed = true;
    } else if (check.stepsBehind === null) {
      peer.syncScore = 1; // no reference step size yet: nothing says the peer is out of sync
    } else {
      stepsBehind = check.stepsBehind;
      peer.syncScore = syncScoreFromSteps(stepsBehind, config);
    }
    log.record(
      uid,
      'sync-score',
      { stepsBehind, compared: check.ok ? check.compared : 0, failure: check.ok ? null : check.detail },
      { syncScore: before },
      { syncScore: peer.syncScore },
    );
    if (gatherList.has(uid) && (failed || (stepsBehind !== null && stepsBehind > config.syncMaxStepsBehind))) {
      const change = slashPositive(peer, config.syncScoreSlashRate);
      log.record(uid, 'sync-slash', { rate: config.syncScoreSlashRate, stepsBehind, syncMaxStepsBehind: config.syncMaxStepsBehind }, change.before, change.after);
      markEvaluated(state, uid);
    }
  }
}

/** After a missing-gradient slash, a final score left below `scoreZeroThreshold` (1e-4) is zeroed, as v2.1.3 does after both such slashes. */
function zeroBelowThreshold(state: ValidatorScoringState, uid: Uid, config: ScoringConfig, log: ReasonLog): void {
  const peer = peerState(state, uid, config);
  if (peer.finalScore > 0 && peer.finalScore < config.scoreZeroThreshold) {
    log.record(uid, 'score-zero-threshold', { scoreZeroThreshold: config.scoreZeroThreshold }, { finalScore: peer.finalScore }, { finalScore: 0 });
    peer.finalScore = 0;
  }
}

/** Records that `uid` was asked for a submission in `window` and had nothing valid (the missing-submission ban's look-back). */
function recordMiss(peer: PeerScoreState, window: number, rules: ProfileRules): void {
  if (rules.missBan === null) return;
  const kept = (peer.missedWindows ?? []).filter((w) => w > window - rules.missBan!.windows && w !== window);
  peer.missedWindows = [...kept, window];
}

/** A missing, invalid or skipped peer's LossScore in this window's match (`templar-2026`): the floor, unless it already has a measured one. */
function enterAtFloor(state: ValidatorScoringState, uid: Uid, rules: ProfileRules, floorEntrants: Set<Uid>): void {
  if (rules.matchFloorScore === null || state.pendingScores[String(uid)] !== undefined) return;
  state.pendingScores[String(uid)] = rules.matchFloorScore;
  floorEntrants.add(uid);
}

/**
 * Skipped gather peers (§7.1): × r, r = 0 when the success rate is below the threshold; then the
 * zero threshold. Under `templar-2026` the n-th skip in a row escalates (× 0.75, × 0.5, × 0) and the
 * peer enters the match at the floor score.
 */
function applyGatherSkips(state: ValidatorScoringState, inputs: WindowScoringInputs, gather: GatherOutcome, config: ScoringConfig, rules: ProfileRules, floorEntrants: Set<Uid>, log: ReasonLog): void {
  const skipped = new Set(gather.skippedUids);
  for (const uid of gather.gatherList ?? gather.gatheredUids) {
    const peer = state.peers[String(uid)];
    if (peer !== undefined && !skipped.has(uid) && peer.consecutiveSkips !== undefined) peer.consecutiveSkips = 0;
  }
  for (const uid of [...skipped].sort((a, b) => a - b)) {
    const peer = peerState(state, uid, config);
    const consecutiveSkips = (peer.consecutiveSkips ?? 0) + 1;
    peer.consecutiveSkips = consecutiveSkips;
    const escalation = rules.gatherSkipEscalation;
    const usual = escalation === null ? config.missingGradientSlashRate : escalation[Math.min(consecutiveSkips, escalation.length) - 1]!;
    const rate = gather.successRate < config.gatherPeersSlashThreshold ? 0 : usual;
    const change = slashPositive(peer, rate);
    log.record(uid, 'gather-skip-slash', { rate, successRate: gather.successRate, gatherPeersSlashThreshold: config.gatherPeersSlashThreshold, consecutiveSkips }, change.before, change.after);
    zeroBelowThreshold(state, uid, config, log);
    markEvaluated(state, uid);
    recordMiss(peer, inputs.window, rules);
    enterAtFloor(state, uid, rules, floorEntrants);
  }
}

/**
 * `templar-2026`'s negative-evaluation rules, after the peer's B has taken this evaluation: more than
 * half of its evaluations in the look-back negative (from `minEvaluations` on) slashes final and B
 * × 0.25; the streak of negative evaluations in a row is kept for the gather exclusion
 * (`selectGatherPeers`), which a positive evaluation ends.
 */
function applyNegativeEvaluations(peer: PeerScoreState, uid: Uid, window: number, indicator: number, rules: ProfileRules, log: ReasonLog): void {
  if (rules.binaryFloor !== null) peer.firstEvalWindow ??= window;
  const rule = rules.negativeEvaluations;
  if (rule === null) return;
  const recent = [...(peer.recentEvaluations ?? []).filter((e) => e.window > window - rule.windows && e.window !== window), { window, indicator }];
  peer.recentEvaluations = recent;
  const streakBefore = peer.negativeStreak ?? 0;
  peer.negativeStreak = indicator < 0 ? streakBefore + 1 : 0;
  if (peer.negativeStreak === rule.streakExcludesFromGather || (streakBefore >= rule.streakExcludesFromGather && indicator > 0)) {
    const excluded = peer.negativeStreak >= rule.streakExcludesFromGather;
    log.record(uid, 'gather-exclusion', { excluded, negativeStreak: peer.negativeStreak, streakExcludesFromGather: rule.streakExcludesFromGather }, {}, {});
  }
  const negatives = recent.filter((e) => e.indicator < 0).length;
  if (recent.length >= rule.minEvaluations && negatives > recent.length / 2) {
    const change = slashPositive(peer, rule.slashRate);
    log.record(uid, 'negative-evaluations-slash', { rate: rule.slashRate, negatives, evaluations: recent.length, lookbackWindows: rule.windows }, change.before, change.after);
  }
}

/**
 * `templar-2026`'s missing-submission ban: a peer missing in at least half of the look-back's windows
 * is reset (as a copy reset) and banned from the gather and evaluation for `banWindows`; the ban
 * counts down with the copy bans (`applyBans`).
 */
function applyMissBans(state: ValidatorScoringState, window: number, rules: ProfileRules, log: ReasonLog): void {
  const rule = rules.missBan;
  if (rule === null) return;
  const needed = Math.ceil(rule.fraction * rule.windows);
  for (const uid of knownUids(state)) {
    const peer = state.peers[String(uid)]!;
    const missed = (peer.missedWindows ?? []).filter((w) => w > window - rule.windows);
    if (missed.length < needed) continue;
    const before = { finalScore: peer.finalScore, binaryMovingAverage: peer.binaryMovingAverage, syncScore: peer.syncScore, naughtyWindowsLeft: peer.naughtyWindowsLeft };
    resetScores(peer);
    delete state.pendingScores[String(uid)];
    peer.naughtyWindowsLeft = Math.max(peer.naughtyWindowsLeft, rule.banWindows);
    peer.missedWindows = [];
    log.record(uid, 'miss-ban', { missedWindows: missed.length, lookbackWindows: rule.windows, banWindows: rule.banWindows }, before, { finalScore: peer.finalScore, binaryMovingAverage: peer.binaryMovingAverage, syncScore: peer.syncScore, naughtyWindowsLeft: peer.naughtyWindowsLeft });
    markEvaluated(state, uid);
  }
}

/** Stage 2 for each evaluated uid (§7.2); an attempted uid's sampling weight goes back to 1. */
function applyEvaluations(state: ValidatorScoringState, inputs: WindowScoringInputs, candidates: ReadonlySet<Uid>, config: ScoringConfig, rules: ProfileRules, floorEntrants: Set<Uid>, log: ReasonLog): void {
  const attempted = new Set<Uid>();
  for (const uid of inputs.evalUids) {
    const outcome = inputs.evaluations[String(uid)];
    if (outcome === undefined) continue; // selected but not reached (the window ended): no judgement
    attempted.add(uid);
    const peer = peerState(state, uid, config);
    peer.windowsSinceEval = 1;
    peer.lastEvalWindow = inputs.window;
    markEvaluated(state, uid);
    if (outcome.status === 'missing') {
      const change = slashPositive(peer, config.missingGradientSlashRate);
      log.record(uid, 'missing-gradient-slash', { rate: config.missingGradientSlashRate }, change.before, change.after);
      zeroBelowThreshold(state, uid, config, log);
      recordMiss(peer, inputs.window, rules);
      enterAtFloor(state, uid, rules, floorEntrants);
      continue;
    }
    if (outcome.status === 'invalid') {
      const before = peer.finalScore;
      if (peer.finalScore > 0) peer.finalScore = 0;
      log.record(uid, 'invalid-gradient-slash', { detail: outcome.detail }, { finalScore: before }, { finalScore: peer.finalScore });
      recordMiss(peer, inputs.window, rules);
      enterAtFloor(state, uid, rules, floorEntrants);
      continue;
    }
    const lossRandomBefore = inputs.lossRandomBefore!;
    const score = lossScore(lossRandomBefore, outcome.lossRandomAfter);
    const improvement = ownImprovement(outcome.lossOwnBefore, outcome.lossOwnAfter);
    const indicator = binaryIndicator(improvement, score);
    log.record(
      uid,
      'loss-score',
      { lossRandomBefore, lossRandomAfter: outcome.lossRandomAfter },
      { gradientScore: peer.gradientScore },
      { gradientScore: score },
    );
    const beforeB = peer.binaryMovingAverage;
    const beforeIndicator = peer.binaryIndicator;
    peer.gradientScore = score;
    peer.binaryIndicator = indicator;
    peer.binaryMovingAverage = updateBinaryMovingAverage(beforeB, indicator, config.binaryScoreMaAlpha);
    log.record(
      uid,
      'binary-indicator',
      { lossOwnBefore: outcome.lossOwnBefore, lossOwnAfter: outcome.lossOwnAfter, ownImprovement: improvement, lossScore: score, alpha: config.binaryScoreMaAlpha },
      { binaryIndicator: beforeIndicator, binaryMovingAverage: beforeB },
      { binaryIndicator: indicator, binaryMovingAverage: peer.binaryMovingAverage },
    );
    state.pendingScores[String(uid)] = score;
    floorEntrants.delete(uid);
    applyNegativeEvaluations(peer, uid, inputs.window, indicator, rules, log);
  }
  for (const uid of candidates) {
    if (attempted.has(uid)) continue;
    const peer = state.peers[String(uid)];
    if (peer !== undefined) peer.windowsSinceEval += 1;
  }
}

/**
 * OpenSkill over the pending scores (≥ 2 players), then `final = ordinal × max(0, B) × sync` (§7.3,
 * §7.4). Under `templar-2026` a peer that entered at the floor score cannot gain from the match (its
 * final score is at most what its slash left), and B below the profile's floor counts as 0 once the
 * peer's first evaluation is `afterWindows` windows old.
 */
function applyMatch(state: ValidatorScoringState, window: number, config: ScoringConfig, rules: ProfileRules, floorEntrants: ReadonlySet<Uid>, log: ReasonLog): void {
  // A floor score is a result only against a measured one: floor entrants without a measured
  // player in the match leave it (they do not wait for a later match as a LossScore does).
  const pending = Object.keys(state.pendingScores).map(Number);
  if (pending.every((uid) => floorEntrants.has(uid))) for (const uid of pending) delete state.pendingScores[String(uid)];
  const players = Object.keys(state.pendingScores)
    .map(Number)
    .sort((a, b) => a - b);
  if (players.length === 1) {
    const uid = players[0]!;
    log.record(uid, 'openskill-pending', { lossScore: state.pendingScores[String(uid)]!, players: 1 }, {}, {});
    return;
  }
  if (players.length === 0) return;
  const peers = players.map((uid) => peerState(state, uid, config));
  const scores = players.map((uid) => state.pendingScores[String(uid)]!);
  const updated = rateMatch(peers.map((p) => p.rating), scores, config);
  players.forEach((uid, i) => {
    const peer = peers[i]!;
    const rating = updated[i]!;
    log.record(
      uid,
      'openskill',
      { lossScore: scores[i]!, players: players.length, beta: config.openskillBeta, tau: config.openskillTau, floorEntry: floorEntrants.has(uid) },
      { mu: peer.rating?.mu ?? null, sigma: peer.rating?.sigma ?? null },
      { mu: rating.mu, sigma: rating.sigma },
    );
    peer.rating = rating;
    const before = peer.finalScore;
    const ord = ordinal(rating);
    const floor = rules.binaryFloor;
    const binaryFloorApplies = floor !== null && peer.firstEvalWindow !== undefined && window - peer.firstEvalWindow >= floor.afterWindows && peer.binaryMovingAverage < floor.threshold;
    const matched = finalScore(ord, binaryFloorApplies ? 0 : peer.binaryMovingAverage, peer.syncScore);
    const final = floorEntrants.has(uid) ? Math.min(before, matched) : matched;
    peer.finalScore = final === 0 ? 0 : final; // never −0, which the state's JSON would not keep

    log.record(
      uid,
      'final-score',
      { ordinal: ord, binaryMovingAverage: peer.binaryMovingAverage, syncScore: peer.syncScore, binaryFloorApplies, floorEntry: floorEntrants.has(uid) },
      { finalScore: before },
      { finalScore: peer.finalScore },
    );
  });
  state.pendingScores = {};
}

/** Weights over every uid ever evaluated or slashed (§7.4 `update_weights`). */
function applyWeights(state: ValidatorScoringState, config: ScoringConfig, log: ReasonLog): Map<Uid, number> {
  const finals = new Map<Uid, number>();
  for (const uid of state.evaluatedUids) {
    const peer = state.peers[String(uid)];
    if (peer !== undefined) finals.set(uid, peer.finalScore);
  }
  const weights = computeWeights(finals, config);
  for (const uid of knownUids(state)) {
    const peer = state.peers[String(uid)]!;
    const next = weights.get(uid) ?? 0;
    if (next !== peer.weight) {
      log.record(uid, 'weight', { finalScore: peer.finalScore, weighting: config.weighting }, { weight: peer.weight }, { weight: next });
      peer.weight = next;
    }
  }
  return weights;
}

/**
 * Scores one window. Does not mutate `previous`. Throws `ScoringInputError` for malformed inputs
 * (nothing is applied then) and `ScoringConfigError` for a meaningless config.
 */
export function scoreWindow(previous: ValidatorScoringState, rawInputs: WindowScoringInputs, config: ScoringConfig): WindowScoringResult {
  validateScoringConfig(config);
  const inputs = parseWindowScoringInputs(rawInputs);
  if (previous.lastWindow !== null && inputs.window <= previous.lastWindow) {
    throw new ScoringInputError('window', `window ${inputs.window} is not after the last scored window ${previous.lastWindow}`);
  }
  const state = cloneState(previous);
  const rules = profileRules(config.profile);
  const log = new ReasonLog(inputs.window, config.profile);
  applyHotkeys(state, inputs, config, log);
  const submittedBefore = new Map(knownUids(state).map((uid) => [uid, state.peers[String(uid)]!.lastSubmittedWindow]));
  const active = applyActivity(state, inputs, config, log);

  // EMA of the validator's own per-step change (§7.1); a tensor that did not move (no outer step
  // between the two slices) is not a step and does not pull the average down.
  const moved: Record<string, readonly number[]> = {};
  for (const [name, slice] of Object.entries(inputs.validatorSlices)) {
    const previousSlice = state.previousSlices[name];
    if (previousSlice === undefined || slice.some((v, i) => v !== previousSlice[i])) moved[name] = slice;
  }
  state.paramAvgChange = updateParamAvgChange(state.paramAvgChange, state.previousSlices, moved, config.syncAvgChangeAlpha);
  for (const [name, slice] of Object.entries(inputs.validatorSlices)) state.previousSlices[name] = [...slice];

  if (inputs.gather !== null) {
    const gathered = [...inputs.gather.gatheredUids].sort((a, b) => a - b);
    applyOverlap(state, inputs, [...new Set([...gathered, ...inputs.evalUids])], config, rules, log);
    applySync(state, inputs, gathered, submittedBefore, config, rules, log);
    const floorEntrants = new Set<Uid>();
    applyGatherSkips(state, inputs, inputs.gather, config, rules, floorEntrants, log);
    const candidates = new Set([...active].filter((uid) => (state.peers[String(uid)]?.naughtyWindowsLeft ?? 0) === 0));
    applyEvaluations(state, inputs, candidates, config, rules, floorEntrants, log);
    applyMissBans(state, inputs.window, rules, log);
    applyMatch(state, inputs.window, config, rules, floorEntrants, log);
    state.globalStep += 1;
  }
  const weights = applyWeights(state, config, log);
  // Each record remembers its uid's holder, so a new hotkey on the uid is seen next window.
  for (const uid of knownUids(state)) {
    const hotkey = inputs.hotkeys?.[String(uid)];
    if (hotkey !== undefined) state.peers[String(uid)]!.hotkey = hotkey;
  }
  state.lastWindow = inputs.window;
  const weightRecord: Record<string, number> = {};
  for (const uid of [...weights.keys()].sort((a, b) => a - b)) weightRecord[String(uid)] = weights.get(uid)!;
  return {
    state,
    weights: weightRecord,
    chainWeights: toChainWeights(weights),
    // A window without a gather sets no weights (v2.1.3 `Validator.run` skips such windows before `set_weights`).
    setWeightsDue: inputs.gather !== null && inputs.window % config.windowsPerWeights === 0,
    reasons: log.reasons,
  };
}

/**
 * A window the validator did not score live: it was down and is catching up (issue #15). The outer
 * step of the window's gathered set still happened, so the global step moves as `scoreWindow` moves
 * it, and the gathered peers count as having submitted; nothing is rated, slashed or weighted, since
 * no one can be judged on a window its validator did not watch. `validatorSlices` (θ's debug slices
 * after the window) replace the remembered ones without entering the per-step change average: the
 * gap spans many steps, and one of them would inflate it. Does not mutate `previous`.
 */
export function skipWindow(
  previous: ValidatorScoringState,
  window: number,
  gatheredUids: readonly Uid[],
  validatorSlices: Readonly<Record<string, readonly number[]>>,
  config: ScoringConfig,
): ValidatorScoringState {
  if (!Number.isSafeInteger(window) || window < 0) throw new ScoringInputError('window', `window ${window} is not a non-negative integer`);
  if (previous.lastWindow !== null && window <= previous.lastWindow) {
    throw new ScoringInputError('window', `window ${window} is not after the last scored window ${previous.lastWindow}`);
  }
  const state = cloneState(previous);
  for (const uid of gatheredUids) peerState(state, uid, config).lastSubmittedWindow = window;
  if (gatheredUids.length > 0) state.globalStep += 1;
  for (const [name, slice] of Object.entries(validatorSlices)) state.previousSlices[name] = [...slice];
  state.lastWindow = window;
  return state;
}
