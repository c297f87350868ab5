/**
 * Creation, (de)serialisation and per-uid access of the validator scoring state
 * (gauntlet-spec §7.7, `Validator._state_dict` / `Validator.load_state`). Unlike Templar, which keeps
 * part of its state in memory only (`eval_peers`, `inactive_scores`, `naughty_peers`,
 * `param_avg_change`), we persist all of it, so that a validator restarted mid-run scores the next
 * window exactly as an uninterrupted one would (tested over 30+ windows).
 */

import type { ScoringConfig } from '../config.ts';
import {
  expectFinite,
  expectFiniteArray,
  expectInteger,
  expectRecord,
  expectUidKey,
  expectUidList,
  type Fail,
} from './checks.ts';
import { ScoringStateError } from './errors.ts';
import {
  SCORING_STATE_VERSION,
  type PeerScoreState,
  type SkillRating,
  type Uid,
  type ValidatorScoringState,
} from './types.ts';
import { errorMessage } from '../errors.ts';

export function createScoringState(): ValidatorScoringState {
  return {
    version: SCORING_STATE_VERSION,
    lastWindow: null,
    globalStep: 0,
    peers: {},
    paramAvgChange: {},
    previousSlices: {},
    evaluatedUids: [],
    pendingScores: {},
  };
}

/** The record of a uid the validator has never seen: B starts at `binaryScoreInitial` (§7.2, §12.2). */
export function newPeerState(config: ScoringConfig): PeerScoreState {
  return {
    gradientScore: 0,
    binaryIndicator: 0,
    binaryMovingAverage: config.binaryScoreInitial,
    syncScore: 0,
    rating: null,
    finalScore: 0,
    weight: 0,
    windowsSinceEval: 1,
    lastEvalWindow: null,
    lastSubmittedWindow: null,
    inactiveSince: null,
    naughtyWindowsLeft: 0,
  };
}

/** The uid's record, created on first use. */
export function peerState(state: ValidatorScoringState, uid: Uid, config: ScoringConfig): PeerScoreState {
  const key = String(uid);
  let peer = state.peers[key];
  if (peer === undefined) {
    peer = newPeerState(config);
    state.peers[key] = peer;
  }
  return peer;
}

/** Uids with a record, ascending: every loop over peers uses this order, so results are deterministic. */
export function knownUids(state: ValidatorScoringState): Uid[] {
  return Object.keys(state.peers)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Marks a uid as evaluated-or-slashed: from now on it is eligible for weights while final > 0. */
export function markEvaluated(state: ValidatorScoringState, uid: Uid): void {
  if (state.evaluatedUids.includes(uid)) return;
  state.evaluatedUids.push(uid);
  state.evaluatedUids.sort((a, b) => a - b);
}

/** A deep copy, so `scoreWindow` never mutates its caller's state. */
export function cloneState(state: ValidatorScoringState): ValidatorScoringState {
  return deserializeState(serializeState(state));
}

/** JSON text of the state; every number in it is finite, so the round trip is exact. */
export function serializeState(state: ValidatorScoringState): string {
  return JSON.stringify(state);
}

const failState: Fail = (field, problem) => new ScoringStateError(field, problem);

/** Parses and validates a state written by `serializeState`; rejects other versions and non-finite values. */
export function deserializeState(text: string): ValidatorScoringState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ScoringStateError('(root)', `not JSON (${errorMessage(error)})`);
  }
  return parseState(raw);
}

/** Validates an already-parsed state object (e.g. the `initialState` of a replay file). */
export function parseState(raw: unknown): ValidatorScoringState {
  const root = expectRecord(raw, '(root)', failState);
  if (root.version !== SCORING_STATE_VERSION) {
    throw new ScoringStateError(
      'version',
      `state version ${JSON.stringify(root.version)} is not the supported version ${SCORING_STATE_VERSION}`,
    );
  }
  const lastWindow = root.lastWindow === null ? null : expectInteger(root.lastWindow, 'lastWindow', failState);
  const peers: Record<string, PeerScoreState> = {};
  for (const [key, value] of Object.entries(expectRecord(root.peers, 'peers', failState))) {
    expectUidKey(key, `peers.${key}`, failState);
    peers[key] = parsePeer(value, `peers.${key}`);
  }
  const pendingScores: Record<string, number> = {};
  for (const [key, value] of Object.entries(expectRecord(root.pendingScores, 'pendingScores', failState))) {
    expectUidKey(key, `pendingScores.${key}`, failState);
    pendingScores[key] = expectFinite(value, `pendingScores.${key}`, failState);
  }
  return {
    version: SCORING_STATE_VERSION,
    lastWindow,
    globalStep: expectInteger(root.globalStep, 'globalStep', failState),
    peers,
    paramAvgChange: parseSliceRecord(root.paramAvgChange, 'paramAvgChange'),
    previousSlices: parseSliceRecord(root.previousSlices, 'previousSlices'),
    evaluatedUids: expectUidList(root.evaluatedUids, 'evaluatedUids', failState).sort((a, b) => a - b),
    pendingScores,
  };
}

function parseSliceRecord(value: unknown, field: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, slice] of Object.entries(expectRecord(value, field, failState))) {
    out[name] = expectFiniteArray(slice, `${field}.${name}`, failState);
  }
  return out;
}

function expectHotkey(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) throw new ScoringStateError(field, 'must be an address of 1 to 128 characters');
  return value;
}

function nullableInteger(value: unknown, field: string): number | null {
  return value === null ? null : expectInteger(value, field, failState);
}

function parsePeer(value: unknown, field: string): PeerScoreState {
  const p = expectRecord(value, field, failState);
  const num = (key: string): number => expectFinite(p[key], `${field}.${key}`, failState);
  let rating: SkillRating | null = null;
  if (p.rating !== null) {
    const r = expectRecord(p.rating, `${field}.rating`, failState);
    rating = { mu: expectFinite(r.mu, `${field}.rating.mu`, failState), sigma: expectFinite(r.sigma, `${field}.rating.sigma`, failState) };
    if (rating.sigma <= 0) throw new ScoringStateError(`${field}.rating.sigma`, 'sigma must be positive');
  }
  return {
    gradientScore: num('gradientScore'),
    binaryIndicator: num('binaryIndicator'),
    binaryMovingAverage: num('binaryMovingAverage'),
    syncScore: num('syncScore'),
    rating,
    finalScore: num('finalScore'),
    weight: num('weight'),
    windowsSinceEval: expectInteger(p.windowsSinceEval, `${field}.windowsSinceEval`, failState, 1),
    lastEvalWindow: nullableInteger(p.lastEvalWindow, `${field}.lastEvalWindow`),
    lastSubmittedWindow: nullableInteger(p.lastSubmittedWindow, `${field}.lastSubmittedWindow`),
    inactiveSince: nullableInteger(p.inactiveSince, `${field}.inactiveSince`),
    naughtyWindowsLeft: expectInteger(p.naughtyWindowsLeft, `${field}.naughtyWindowsLeft`, failState),
    ...(p.hotkey === undefined ? {} : { hotkey: expectHotkey(p.hotkey, `${field}.hotkey`) }),
    ...(p.consecutiveSkips === undefined ? {} : { consecutiveSkips: expectInteger(p.consecutiveSkips, `${field}.consecutiveSkips`, failState) }),
    ...(p.missedWindows === undefined ? {} : { missedWindows: expectWindowList(p.missedWindows, `${field}.missedWindows`) }),
    ...(p.recentEvaluations === undefined ? {} : { recentEvaluations: parseEvaluations(p.recentEvaluations, `${field}.recentEvaluations`) }),
    ...(p.negativeStreak === undefined ? {} : { negativeStreak: expectInteger(p.negativeStreak, `${field}.negativeStreak`, failState) }),
    ...(p.firstEvalWindow === undefined ? {} : { firstEvalWindow: expectInteger(p.firstEvalWindow, `${field}.firstEvalWindow`, failState) }),
  };
}

/** Look-backs hold a few windows each; a longer list is not a state this module wrote. */
const MAX_HISTORY = 1024;

function expectWindowList(value: unknown, field: string): number[] {
  if (!Array.isArray(value) || value.length > MAX_HISTORY) throw new ScoringStateError(field, `must be an array of at most ${MAX_HISTORY} windows`);
  return value.map((v, i) => expectInteger(v, `${field}[${i}]`, failState));
}

function parseEvaluations(value: unknown, field: string): { window: number; indicator: number }[] {
  if (!Array.isArray(value) || value.length > MAX_HISTORY) throw new ScoringStateError(field, `must be an array of at most ${MAX_HISTORY} evaluations`);
  return value.map((entry, i) => {
    const e = expectRecord(entry, `${field}[${i}]`, failState);
    const indicator = expectFinite(e.indicator, `${field}[${i}].indicator`, failState);
    if (indicator !== 1 && indicator !== -1) throw new ScoringStateError(`${field}[${i}].indicator`, `must be +1 or -1, got ${indicator}`);
    return { window: expectInteger(e.window, `${field}[${i}].window`, failState), indicator };
  });
}
