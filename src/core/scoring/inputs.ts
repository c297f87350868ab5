/**
 * Validation of `WindowScoringInputs`. `scoreWindow` runs it on every call (the values come from
 * peers, storage and the validator's own measurements), and `npm run score` uses it to turn replay
 * JSON into typed inputs. Rules: the validator's own measurements (losses, its slices, the success
 * rate) must be finite, or the window is rejected with a `ScoringInputError`; a peer's published
 * debug slices may be anything numeric (a malformed one fails that peer's sync check instead, see
 * `compareWithDebugSlices`). A non-finite loss caused by a peer's gradient is for the driver to
 * report as `{status: 'invalid'}`.
 */

import {
  expectArray,
  expectFinite,
  expectFiniteArray,
  expectInteger,
  expectRecord,
  expectUidKey,
  expectUidList,
  describe,
  type Fail,
} from './checks.ts';
import { ScoringInputError } from './errors.ts';
import type { ChunkIndexSets, EvaluationOutcome, GatherOutcome, WindowScoringInputs } from './types.ts';

const failInput: Fail = (field, problem) => new ScoringInputError(field, problem);
/** Far above an SS58 address (48 characters) or a hex public key. */
const MAX_HOTKEY_LENGTH = 128;

function positiveLoss(value: unknown, field: string): number {
  const loss = expectFinite(value, field, failInput);
  if (loss <= 0) throw new ScoringInputError(field, `a summed cross-entropy loss must be > 0, got ${loss}`);
  return loss;
}

function parseGather(value: unknown): GatherOutcome | null {
  if (value === null) return null;
  const g = expectRecord(value, 'gather', failInput);
  const gatheredUids = expectUidList(g.gatheredUids, 'gather.gatheredUids', failInput);
  const skippedUids = expectUidList(g.skippedUids, 'gather.skippedUids', failInput);
  const successRate = expectFinite(g.successRate, 'gather.successRate', failInput);
  if (successRate < 0 || successRate > 1) {
    throw new ScoringInputError('gather.successRate', `must be in [0, 1], got ${successRate}`);
  }
  const both = gatheredUids.find((uid) => skippedUids.includes(uid));
  if (both !== undefined) throw new ScoringInputError('gather', `uid ${both} is both gathered and skipped`);
  if (g.gatherList === undefined) return { gatheredUids, skippedUids, successRate };
  return { gatheredUids, skippedUids, successRate, gatherList: expectUidList(g.gatherList, 'gather.gatherList', failInput) };
}

function parseEvaluation(value: unknown, field: string): EvaluationOutcome {
  const e = expectRecord(value, field, failInput);
  switch (e.status) {
    case 'ok':
      return {
        status: 'ok',
        lossOwnBefore: positiveLoss(e.lossOwnBefore, `${field}.lossOwnBefore`),
        lossOwnAfter: expectFinite(e.lossOwnAfter, `${field}.lossOwnAfter`, failInput),
        lossRandomAfter: expectFinite(e.lossRandomAfter, `${field}.lossRandomAfter`, failInput),
      };
    case 'missing':
      return { status: 'missing' };
    case 'invalid':
      return { status: 'invalid', detail: typeof e.detail === 'string' ? e.detail : 'invalid gradient' };
    default:
      throw new ScoringInputError(`${field}.status`, `expected "ok", "missing" or "invalid", got ${JSON.stringify(e.status)}`);
  }
}

function parseSlices(value: unknown, field: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, slice] of Object.entries(expectRecord(value, field, failInput))) {
    out[name] = expectFiniteArray(slice, `${field}.${name}`, failInput);
  }
  return out;
}

/** Peer slices: structure is checked, values are passed through (non-finite ones fail the sync check). */
function parsePeerSlices(value: unknown, field: string): Record<string, number[]> | null {
  if (value === null) return null;
  const out: Record<string, number[]> = {};
  for (const [name, slice] of Object.entries(expectRecord(value, field, failInput))) {
    out[name] = expectArray(slice, `${field}.${name}`, failInput).map((v) => (typeof v === 'number' ? v : Number.NaN));
  }
  return out;
}

function parseChunkSets(value: unknown, field: string): ChunkIndexSets {
  if (!Array.isArray(value)) throw new ScoringInputError(field, 'expected an array of per-chunk index sets');
  return (value as unknown[]).map((chunk, c) => {
    // A Uint16Array holds u16 integers by construction: used as is (the scorer never mutates it).
    if (chunk instanceof Uint16Array) return chunk;
    const indices = expectArray(chunk, `${field}.${c}`, failInput);
    const out = new Uint16Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const v = indices[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) {
        throw new ScoringInputError(`${field}.${c}.${i}`, `expected an index in [0, 65535], got ${describe(v)}`);
      }
      out[i] = v;
    }
    return out;
  });
}

/** Validates an unknown value (e.g. parsed JSON) as one window's inputs. */
export function parseWindowScoringInputs(value: unknown): WindowScoringInputs {
  const raw = expectRecord(value, '(root)', failInput);
  const evalUids = expectUidList(raw.evalUids, 'evalUids', failInput);
  const evaluations: Record<string, EvaluationOutcome> = {};
  for (const [key, outcome] of Object.entries(expectRecord(raw.evaluations, 'evaluations', failInput))) {
    const uid = expectUidKey(key, `evaluations.${key}`, failInput);
    if (!evalUids.includes(uid)) throw new ScoringInputError(`evaluations.${key}`, `uid ${uid} is not in evalUids`);
    evaluations[key] = parseEvaluation(outcome, `evaluations.${key}`);
  }
  const anyOk = Object.values(evaluations).some((e) => e.status === 'ok');
  const lossRandomBefore =
    raw.lossRandomBefore === null || raw.lossRandomBefore === undefined
      ? null
      : positiveLoss(raw.lossRandomBefore, 'lossRandomBefore');
  if (anyOk && lossRandomBefore === null) {
    throw new ScoringInputError('lossRandomBefore', 'required when any evaluation has status "ok"');
  }
  const peerSlices: Record<string, Record<string, number[]> | null> = {};
  for (const [key, slices] of Object.entries(expectRecord(raw.peerSlices, 'peerSlices', failInput))) {
    expectUidKey(key, `peerSlices.${key}`, failInput);
    peerSlices[key] = parsePeerSlices(slices, `peerSlices.${key}`);
  }
  const indexSets: Record<string, Record<string, ChunkIndexSets>> = {};
  for (const [key, tensors] of Object.entries(expectRecord(raw.indexSets ?? {}, 'indexSets', failInput))) {
    expectUidKey(key, `indexSets.${key}`, failInput);
    const perTensor: Record<string, ChunkIndexSets> = {};
    for (const [name, chunks] of Object.entries(expectRecord(tensors, `indexSets.${key}`, failInput))) {
      perTensor[name] = parseChunkSets(chunks, `indexSets.${key}.${name}`);
    }
    indexSets[key] = perTensor;
  }
  const uploadTimes: Record<string, number> = {};
  for (const [key, time] of Object.entries(expectRecord(raw.uploadTimes ?? {}, 'uploadTimes', failInput))) {
    expectUidKey(key, `uploadTimes.${key}`, failInput);
    uploadTimes[key] = expectFinite(time, `uploadTimes.${key}`, failInput);
  }
  const hotkeys: Record<string, string> = {};
  for (const [key, hotkey] of Object.entries(expectRecord(raw.hotkeys ?? {}, 'hotkeys', failInput))) {
    expectUidKey(key, `hotkeys.${key}`, failInput);
    if (typeof hotkey !== 'string' || hotkey.length === 0 || hotkey.length > MAX_HOTKEY_LENGTH) throw new ScoringInputError(`hotkeys.${key}`, `must be an address of 1 to ${MAX_HOTKEY_LENGTH} characters`);
    hotkeys[key] = hotkey;
  }
  return {
    ...(raw.hotkeys === undefined ? {} : { hotkeys }),
    window: expectInteger(raw.window, 'window', failInput),
    submittedUids: expectUidList(raw.submittedUids, 'submittedUids', failInput),
    gather: parseGather(raw.gather ?? null),
    validatorSlices: parseSlices(raw.validatorSlices, 'validatorSlices'),
    peerSlices,
    evalUids,
    lossRandomBefore,
    evaluations,
    indexSets,
    uploadTimes,
  };
}
