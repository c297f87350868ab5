/**
 * Copy detection by top-k index overlap (gauntlet-spec §7.5, `tplr.neurons.check_uid_index_overlap`,
 * `Validator.slash_from_overlap`). Two honest peers training on different data pick nearly disjoint
 * top-k positions (random baseline ≈ k/totalk); a copier's positions coincide with its victim's.
 */

import type { ScoringConfig } from '../config.ts';
import { ScoringInputError } from './errors.ts';
import type { ChunkIndexSets, Uid } from './types.ts';

/** Overlap at or above which a flagged pair is "max" (reset, × 0): Templar's constant. */
export const OVERLAP_MAX_THRESHOLD = 0.5;
/** Overlap at or above which a flagged pair is "mega" (reset and banned for `naughtyPeerTimeout`). */
export const OVERLAP_MEGA_THRESHOLD = 0.6;
/** Templar's `idx_overlap_threshold`, the foot of its ladder: the tiers are 0.1 apart from it. */
const OVERLAP_HIGH_THRESHOLD_IN_LADDER = 0.4;
/** Multiplier of the "high" tier (flagged, below `OVERLAP_MAX_THRESHOLD`). */
export const OVERLAP_HIGH_SLASH_RATE = 0.5;

export type OverlapTier = 'high' | 'max' | 'mega';
const TIER_RANK: Record<OverlapTier, number> = { high: 0, max: 1, mega: 2 };

/** Copy-detection inputs of one peer: per tensor, its chunk index sets. */
export type PeerIndexSets = Readonly<Record<string, ChunkIndexSets>>;

function sortedUnique(chunk: ArrayLike<number>): Int32Array {
  const values = Int32Array.from(chunk).sort();
  for (let i = 0; i < chunk.length; i++) {
    const v = chunk[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
      throw new ScoringInputError('indexSets', `chunk index ${v} is not an integer in [0, 65535]`);
    }
  }
  let n = 0;
  for (let i = 0; i < values.length; i++) if (i === 0 || values[i] !== values[i - 1]) values[n++] = values[i]!;
  return values.subarray(0, n);
}

/** Scratch marks for intersections: indices are u16, sets within a chunk are de-duplicated. */
const marks = new Uint8Array(65536);

function intersectionSize(a: Int32Array, b: Int32Array): number {
  for (let i = 0; i < a.length; i++) marks[a[i]!] = 1;
  let shared = 0;
  for (let j = 0; j < b.length; j++) shared += marks[b[j]!]!;
  for (let i = 0; i < a.length; i++) marks[a[i]!] = 0;
  return shared;
}

/** A peer's index sets with every chunk sorted and de-duplicated once (pairwise checks reuse it). */
export type NormalizedIndexSets = ReadonlyMap<string, readonly Int32Array[]>;

export function normalizeIndexSets(sets: PeerIndexSets): NormalizedIndexSets {
  const out = new Map<string, Int32Array[]>();
  for (const name of Object.keys(sets).sort()) out.set(name, sets[name]!.map(sortedUnique));
  return out;
}

function normalizedOverlap(a: NormalizedIndexSets, b: NormalizedIndexSets): number | null {
  let weighted = 0;
  let totalWeight = 0;
  for (const [name, chunksA] of a) {
    const chunksB = b.get(name);
    if (chunksB === undefined || chunksB.length !== chunksA.length || chunksA.length === 0) continue;
    let sum = 0;
    let k = 0;
    for (let c = 0; c < chunksA.length; c++) {
      const setA = chunksA[c]!;
      const setB = chunksB[c]!;
      const chunkK = Math.max(setA.length, setB.length);
      if (chunkK === 0) continue;
      k = Math.max(k, chunkK);
      sum += intersectionSize(setA, setB) / chunkK;
    }
    if (k === 0) continue;
    const weight = chunksA.length * k;
    weighted += (sum / chunksA.length) * weight;
    totalWeight += weight;
  }
  return totalWeight === 0 ? null : weighted / totalWeight;
}

/**
 * Overlap of two peers: per tensor the mean over chunks of `|I_a ∩ I_b| / k`
 * (k = the larger set of the chunk), then the tensors averaged with weight `#chunks · k`.
 * Tensors present in only one peer, or with different chunk counts, are not comparable and are
 * skipped. Returns `null` when nothing was comparable.
 */
export function indexOverlap(a: PeerIndexSets, b: PeerIndexSets): number | null {
  return normalizedOverlap(normalizeIndexSets(a), normalizeIndexSets(b));
}

/** Severity of a flagged overlap (≥ `idxOverlapThreshold`); `null` when below the threshold. */
export function overlapTier(overlap: number, config: Pick<ScoringConfig, 'idxOverlapThreshold'>): OverlapTier | null {
  if (overlap < config.idxOverlapThreshold) return null;
  if (overlap >= OVERLAP_MEGA_THRESHOLD) return 'mega';
  if (overlap >= OVERLAP_MAX_THRESHOLD) return 'max';
  return 'high';
}

/** One flagged pair and who is blamed for it. */
export interface OverlapFinding {
  readonly uidA: Uid;
  readonly uidB: Uid;
  readonly overlap: number;
  readonly tier: OverlapTier;
  /** The later uploader; both uids when the upload times are equal or unknown (no way to tell who copied). */
  readonly offenders: readonly Uid[];
  /**
   * Set when the pair was flagged by the relative rule (its tier above what the fixed threshold
   * gives): the pair's baseline, the most either peer overlaps with a third.
   */
  readonly baseline?: number;
}

/** Fewest other peers each peer of a pair must be compared with before the pair has a baseline. */
export const RELATIVE_OVERLAP_MIN_PEERS = 4;

/**
 * The relative rule's tier: Templar's ladder (high from the threshold, max 0.1 above it, mega 0.2
 * above it), measured as the excess over the pair's baseline from the margin on.
 */
export function relativeTier(excess: number, margin: number): OverlapTier | null {
  if (excess < margin) return null;
  const above = OVERLAP_MAX_THRESHOLD - OVERLAP_HIGH_THRESHOLD_IN_LADDER;
  if (excess >= margin + 2 * above) return 'mega';
  if (excess >= margin + above) return 'max';
  return 'high';
}

/** One compared pair: its overlap and, when both peers were compared with enough others, its baseline. */
export interface PairOverlap {
  readonly uidA: Uid;
  readonly uidB: Uid;
  readonly overlap: number;
  /**
   * The most either peer overlaps with any third peer: what the pair would share if neither had
   * copied the other. `null` when either was compared with fewer than `RELATIVE_OVERLAP_MIN_PEERS`
   * others.
   */
  readonly baseline: number | null;
}

/**
 * Every comparable pair of the given peers (ascending uid order) with its overlap and baseline.
 * The baseline is a maximum, not a median, so that uploads which share nothing with anyone (free
 * riders, noise) cannot pull it down and make two honest peers look like a copy: with a median,
 * four honest peers beside six such uploads had baselines of 0.02–0.03 against honest pairs at
 * 0.17–0.20 (measured in the Demo's setup). Two honest peers are told apart from a copy only when a
 * third peer that trained is in the comparison.
 */
export function pairOverlaps(indexSets: Readonly<Record<string, PeerIndexSets>>): PairOverlap[] {
  const uids = Object.keys(indexSets)
    .map(Number)
    .sort((x, y) => x - y);
  const normalized = new Map(uids.map((uid) => [uid, normalizeIndexSets(indexSets[String(uid)]!)]));
  const raw: { uidA: Uid; uidB: Uid; overlap: number }[] = [];
  // Per peer: how many others it was compared with, and its two largest overlaps with whom, so that
  // "the most it shares with anyone but its partner" is read in O(1) per pair.
  const counts = new Map<Uid, number>(uids.map((uid) => [uid, 0]));
  const top = new Map<Uid, { first: { uid: Uid; overlap: number } | null; second: number | null }>(uids.map((uid) => [uid, { first: null, second: null }]));
  const note = (uid: Uid, other: Uid, overlap: number): void => {
    counts.set(uid, counts.get(uid)! + 1);
    const t = top.get(uid)!;
    if (t.first === null || overlap > t.first.overlap) {
      t.second = t.first?.overlap ?? null;
      t.first = { uid: other, overlap };
    } else if (t.second === null || overlap > t.second) {
      t.second = overlap;
    }
  };
  for (let i = 0; i < uids.length; i++) {
    for (let j = i + 1; j < uids.length; j++) {
      const uidA = uids[i]!;
      const uidB = uids[j]!;
      const overlap = normalizedOverlap(normalized.get(uidA)!, normalized.get(uidB)!);
      if (overlap === null) continue;
      raw.push({ uidA, uidB, overlap });
      note(uidA, uidB, overlap);
      note(uidB, uidA, overlap);
    }
  }
  /** The most `uid` overlaps with any peer but `except`; null with too few others. */
  const highestOther = (uid: Uid, except: Uid): number | null => {
    if (counts.get(uid)! - 1 < RELATIVE_OVERLAP_MIN_PEERS - 1) return null;
    const t = top.get(uid)!;
    return t.first!.uid === except ? t.second : t.first!.overlap;
  };
  return raw.map(({ uidA, uidB, overlap }) => {
    const a = highestOther(uidA, uidB);
    const b = highestOther(uidB, uidA);
    return { uidA, uidB, overlap, baseline: a === null || b === null ? null : Math.max(a, b) };
  });
}

/**
 * Checks every pair of the given peers (ascending uid order) and returns the flagged pairs.
 * The offender is the later uploader (`uploadTimes`, server ms); equal or missing times blame both.
 *
 * `relativeMargin` (the `templar-2026` profile's, src/core/scoring/profiles.ts; ours, beyond
 * Templar): a pair under the threshold is still flagged when its overlap exceeds its baseline
 * (`pairOverlaps`: the most either peer shares with a third) by at least the margin, at the tier
 * `relativeTier` gives the excess. Honest peers trained from the same θ
 * share some top-k positions, and that share drifts over a run (measured 0.07–0.25 on the tiny
 * preset), so a fixed threshold is either loose early or tight late: a copier that takes 35 % of a
 * victim's entries sat at 0.38–0.50 and fell under 0.40 once the honest baseline had fallen, while
 * honest pairs stayed within 0.013 of their baseline over 100 windows of the cheater suite.
 */
export function findOverlaps(
  indexSets: Readonly<Record<string, PeerIndexSets>>,
  uploadTimes: Readonly<Record<string, number>>,
  config: Pick<ScoringConfig, 'idxOverlapThreshold'>,
  relativeMargin: number | null = null,
): OverlapFinding[] {
  const findings: OverlapFinding[] = [];
  for (const pair of pairOverlaps(indexSets)) {
    const { uidA, uidB, overlap } = pair;
    let tier = overlapTier(overlap, config);
    let baseline: number | undefined;
    if (relativeMargin !== null && pair.baseline !== null) {
      // The worse of the two ladders: the fixed one from 0 and the relative one from the pair's baseline.
      const relative = relativeTier(overlap - pair.baseline, relativeMargin);
      if (relative !== null && (tier === null || TIER_RANK[relative] > TIER_RANK[tier])) {
        tier = relative;
        baseline = pair.baseline;
      }
    }
    if (tier === null) continue;
    const ta = uploadTimes[String(uidA)];
    const tb = uploadTimes[String(uidB)];
    const offenders = ta === undefined || tb === undefined || ta === tb ? [uidA, uidB] : ta > tb ? [uidA] : [uidB];
    findings.push({ uidA, uidB, overlap, tier, offenders, ...(baseline === undefined ? {} : { baseline }) });
  }
  return findings;
}
