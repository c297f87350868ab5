/**
 * THE adversarial simulation (issues #6, #18): the real miner and validator loops on the tiny preset
 * (wasm EP in Node, Brown-corpus shards), six honest peers beside ten cheater classes:
 * free-rider, noise, exact copier, stale, data-lazy, poisoner, late uploader, a sybil pair (one
 * hotkey trains honestly, a second re-signs the same work and uploads it at the same moment), a
 * partial copier (trains, then takes 35 % of each chunk's entries from an honest peer, under the
 * 40 % overlap threshold), and a
 * window skipper (trains on data not assigned to it and takes part in every other window only, so
 * that fewer of its windows are judged). Nothing here is scripted: the losses come from the engine,
 * the scores from the scoring module, the weights from `scoreWindow`.
 *
 * Per class it prints the window from which it ranks below every honest peer for good, and its final
 * weight share. Under the presets' profile (templar-2026) it asserts issue #18's figures: every cheater
 * ranks below every honest peer within 20 windows and to the end of the run, honest peers hold ≥ 95 %
 * of the weight that is not burned, and no honest peer is slashed. CI runs 30 windows;
 * `SIMULATION_WINDOWS=100` runs the long version, and `SCORING_PROFILE=templar-v2.1.3` plays it by
 * v2.1.3's rules (asserting only that every class but the partial copier, which no v2.1.3 rule catches under
 * its 40 % threshold, ends below every honest peer, ≥ 75 % and no honest slash).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import type { ScoringProfile } from '../../src/core/config.ts';
import { withScoringProfile } from '../../src/core/run-config.ts';
import { ordinal, pairOverlaps } from '../../src/core/scoring/index.ts';
import { copier, dataLazy, freeRider, honest, lateUploader, noise, poisoner, stale, type Behaviour } from '../../src/peer/behaviours.ts';
import { FIRST_MINER_UID, OWNER_UID, Simulation, simulationConfig } from './sim-harness.ts';

const WINDOWS = Number(process.env.SIMULATION_WINDOWS ?? 30);
/** `SCORING_PROFILE=templar-v2.1.3` plays the suite by v2.1.3's rules; the default is the run config's (the presets' profile). */
const PROFILE = process.env.SCORING_PROFILE as ScoringProfile | undefined;
const FIRST_WINDOW = 2;

const HONEST = 6;
/** The sybil pair: its honest-training half, then the copy of it uploaded at the same moment. */
const SYBIL_WORKER = FIRST_MINER_UID + HONEST + 7;
const behaviours: Behaviour[] = [
  ...Array.from({ length: HONEST }, () => honest()),
  freeRider(), noise(), copier(FIRST_MINER_UID), stale(), dataLazy(), poisoner(3), lateUploader(),
  honest(), { ...copier(SYBIL_WORKER), uploadDelayMs: (putWindowMs: number) => honest().uploadDelayMs(putWindowMs) },
  // Trains its own update, then takes 35 % of each chunk's entries from the second honest peer: under the 40 % overlap threshold.
  { ...copier(FIRST_MINER_UID + 1), trains: true, copyFraction: 0.35 },
  dataLazy(),
];
/** The class of each miner uid, in `behaviours` order (the sybil pair and the skipper are named here, not by their behaviour). */
const CLASSES = [...Array.from({ length: HONEST }, () => 'honest'), 'free-rider', 'noise', 'copier', 'stale', 'data-lazy', 'poisoner', 'late', 'sybil', 'sybil', 'partial copier', 'skipper'];
const SKIPPER = FIRST_MINER_UID + CLASSES.length - 1;
const PARTIAL_COPIER = FIRST_MINER_UID + CLASSES.indexOf('partial copier');
const SLASHES = new Set(['sync-slash', 'gather-skip-slash', 'missing-gradient-slash', 'invalid-gradient-slash', 'overlap-slash', 'inactivity-slash', 'inactivity-reset']);

/**
 * Per behaviour: evaluations, share of b = +1 (own-data improvement above LossScore, §7.2) and the
 * mean margin imp_own − LossScore, from the validator's own evaluation events.
 */
function indicatorSummary(run: Simulation): string {
  const byBehaviour = new Map<string, number[]>();
  for (const e of run.events) {
    if (e.kind !== 'validator-evaluated' || e.status !== 'ok') continue;
    const { lossOwnBefore: ob, lossOwnAfter: oa, lossRandomBefore: rb, lossRandomAfter: ra } = e;
    if (ob === undefined || oa === undefined || rb === undefined || ra === undefined) continue;
    const name = run.peers.find((p) => p.uid === e.uid)?.behaviour.name ?? '?';
    const margins = byBehaviour.get(name) ?? [];
    margins.push((ob - oa) / ob - (rb - ra) / rb);
    byBehaviour.set(name, margins);
  }
  return [...byBehaviour.entries()]
    .map(([name, m]) => `${name.padEnd(10)} evaluations ${String(m.length).padStart(3)}  b=+1 ${((100 * m.filter((x) => x > 0).length) / m.length).toFixed(0).padStart(3)} %  mean(imp_own − LossScore) ${(m.reduce((a, b) => a + b, 0) / m.length).toExponential(2)}`)
    .join('\n');
}

let sim: Simulation | undefined;
afterAll(async () => {
  await sim?.dispose();
});

describe('adversarial simulation', () => {
  it(`separates every cheater class from honest peers over ${WINDOWS} windows`, async () => {
    const harness = simulationConfig();
    // Templar v2.1.3 evaluates up to uids_per_window = 15 peers a window (gauntlet-spec §7.2, §8.2): here 15 of the 17
    // miners. At the harness's 5, a newcomer waited 3–4 windows between evaluations and B, which alone tells data-lazy
    // peers from honest ones, moved that much slower (issue #18: 49 windows to separate them, against 15 here).
    const base = { ...harness, scoring: { ...harness.scoring, uidsPerWindow: 15 } };
    const config = PROFILE === undefined ? base : { ...base, scoring: withScoringProfile(base.scoring, PROFILE) };
    sim = await Simulation.create(config, behaviours);
    const classOf = (uid: number): string => CLASSES[uid - FIRST_MINER_UID] ?? '?';
    for (let w = FIRST_WINDOW; w < FIRST_WINDOW + WINDOWS; w++) {
      await sim.runWindow(w, true, w % 2 === 0 ? sim.peers : sim.peers.filter((p) => p.uid !== SKIPPER));
    }

    const last = sim.reports.at(-1)!;
    const state = last.result.state;
    const weights = last.result.weights;
    const rows = sim.peers.map(({ uid, behaviour }) => {
      const peer = state.peers[String(uid)];
      return {
        uid,
        behaviour: classOf(uid),
        behaviourName: behaviour.name,
        lossScore: peer?.gradientScore ?? 0,
        B: peer?.binaryMovingAverage ?? 0,
        sync: peer?.syncScore ?? 0,
        mu: peer?.rating?.mu ?? null,
        sigma: peer?.rating?.sigma ?? null,
        ordinal: ordinal(peer?.rating ?? null),
        final: peer?.finalScore ?? 0,
        weight: weights[String(uid)] ?? 0,
      };
    });
    const fmt = (v: number | null): string => (v === null ? '—' : v.toFixed(4));
    const table = [
      'uid  behaviour    LossScore        B     sync       μ       σ  ordinal     final   weight',
      ...rows.map((r) =>
        [String(r.uid).padStart(3), r.behaviour.padEnd(10), fmt(r.lossScore).padStart(10), fmt(r.B).padStart(8), fmt(r.sync).padStart(8), fmt(r.mu).padStart(7), fmt(r.sigma).padStart(7), fmt(r.ordinal).padStart(8), fmt(r.final).padStart(9), fmt(r.weight).padStart(8)].join(' '),
      ),
      `burn uid ${OWNER_UID}: ${fmt(weights[String(OWNER_UID)] ?? 0)}; outer steps ${state.globalStep}`,
    ].join('\n');
    console.log(`\n${table}\n\n${indicatorSummary(sim)}`);

    const honestRows = rows.filter((r) => r.behaviour === 'honest');
    const cheaterRows = rows.filter((r) => r.behaviour !== 'honest');
    expect(honestRows).toHaveLength(HONEST);
    expect([...new Set(cheaterRows.map((r) => r.behaviour))].sort()).toEqual(['copier', 'data-lazy', 'free-rider', 'late', 'noise', 'partial copier', 'poisoner', 'skipper', 'stale', 'sybil']);

    // Per class: the first window from which every one of its uids weighs less than every honest peer, to the end.
    const honestUids = honestRows.map((r) => r.uid);
    const belowFrom = new Map<number, number | null>();
    for (const cheater of cheaterRows) {
      let from: number | null = null;
      for (const report of sim.reports) {
        const w = report.result.weights;
        const minHonestThen = Math.min(...honestUids.map((uid) => w[String(uid)] ?? 0));
        const below = (w[String(cheater.uid)] ?? 0) < minHonestThen;
        if (below && from === null) from = report.window;
        if (!below) from = null;
      }
      belowFrom.set(cheater.uid, from);
    }
    // The first window from which every honest peer holds weight to the end: no class can rank below every honest peer before it.
    let allHonestWeightedFrom: number | null = null;
    for (const report of sim.reports) {
      const weighted = honestUids.every((uid) => (report.result.weights[String(uid)] ?? 0) > 0);
      if (weighted && allHonestWeightedFrom === null) allHonestWeightedFrom = report.window;
      if (!weighted) allHonestWeightedFrom = null;
    }
    // What the relative copy rule sees (`pairOverlaps`, src/core/scoring/overlap.ts): each compared pair's overlap above its
    // baseline, the largest among honest pairs and the range of the partial copier with its victim.
    const excessOf = (report: Simulation['reports'][number]): Map<string, number> =>
      new Map(pairOverlaps(report.inputs.indexSets).flatMap((p) => (p.baseline === null ? [] : [[`${p.uidA}-${p.uidB}`, p.overlap - p.baseline] as const])));
    let honestExcess = -Infinity;
    const copierExcess: number[] = [];
    for (const report of sim.reports) {
      for (const [pair, excess] of excessOf(report)) {
        const [a, b] = pair.split('-').map(Number);
        if (honestUids.includes(a!) && honestUids.includes(b!)) honestExcess = Math.max(honestExcess, excess);
        if (pair === `${FIRST_MINER_UID + 1}-${PARTIAL_COPIER}`) copierExcess.push(excess);
      }
    }
    console.log(`relative overlap: honest pairs at most ${honestExcess.toFixed(3)} above their baseline; the partial copier and its victim ${Math.min(...copierExcess).toFixed(3)}–${Math.max(...copierExcess).toFixed(3)} (${copierExcess.length} windows compared)`);
    const minerTotal = rows.reduce((a, r) => a + r.weight, 0);
    const classTable = [...new Set(cheaterRows.map((r) => r.behaviour))].map((name) => {
      const members = cheaterRows.filter((r) => r.behaviour === name);
      const froms = members.map((r) => belowFrom.get(r.uid) ?? null);
      const since = froms.some((f) => f === null) ? 'never' : `window ${Math.max(...(froms as number[]))} (${Math.max(...(froms as number[])) - FIRST_WINDOW + 1} windows in)`;
      const share = members.reduce((a, r) => a + r.weight, 0) / (minerTotal || 1);
      return `${name.padEnd(10)} below every honest peer from ${since.padEnd(26)} final share of miner weight ${(100 * share).toFixed(2)} %`;
    });
    const indicatorShare = (uids: readonly number[]): { evaluations: number; plusShare: number | null } => {
      const margins = sim!.events.flatMap((e) => (e.kind === 'validator-evaluated' && e.status === 'ok' && uids.includes(e.uid) && e.lossOwnBefore !== undefined && e.lossOwnAfter !== undefined && e.lossRandomBefore !== undefined && e.lossRandomAfter !== undefined
        ? [(e.lossOwnBefore - e.lossOwnAfter) / e.lossOwnBefore - (e.lossRandomBefore - e.lossRandomAfter) / e.lossRandomBefore] : []));
      return { evaluations: margins.length, plusShare: margins.length === 0 ? null : margins.filter((m) => m > 0).length / margins.length };
    };
    const honestSlashes = sim.reports.flatMap((r) => r.result.reasons.filter((reason) => honestUids.includes(reason.uid) && SLASHES.has(reason.rule)).map((reason) => `window ${reason.window} uid ${reason.uid} ${reason.rule}`));
    console.log(`\ncheater classes over ${WINDOWS} windows (windows ${FIRST_WINDOW}–${FIRST_WINDOW + WINDOWS - 1}):\n${classTable.join('\n')}\nhonest share of miner weight ${(100 * honestRows.reduce((a, r) => a + r.weight, 0) / (minerTotal || 1)).toFixed(2)} %; slashes of honest peers: ${honestSlashes.length}; every honest peer weighted from window ${allHonestWeightedFrom ?? 'never'}; scoring profile ${sim.config.scoring.profile}`);

    // The About page states what the rules did to each class from these results (UPDATE_CHEATER_SUITE_RESULTS=1 rewrites them).
    if (process.env.UPDATE_CHEATER_SUITE_RESULTS === '1') {
      const classes = ['honest', ...new Set(cheaterRows.map((r) => r.behaviour))].map((name) => {
        const members = rows.filter((r) => r.behaviour === name);
        const froms = members.map((r) => belowFrom.get(r.uid) ?? null);
        return {
          name,
          peers: members.length,
          ...indicatorShare(members.map((r) => r.uid)),
          windowsUntilBelowEveryHonestPeer: name === 'honest' ? null : froms.some((f) => f === null) ? null : Math.max(...(froms as number[])) - FIRST_WINDOW + 1,
          finalWeightShare: members.reduce((a, r) => a + r.weight, 0) / (minerTotal || 1),
          slashes: sim!.reports.flatMap((r) => r.result.reasons.filter((reason) => members.some((m) => m.uid === reason.uid) && SLASHES.has(reason.rule))).length,
        };
      });
      writeFileSync(new URL('../../src/ui/cheater-suite-results.json', import.meta.url), `${JSON.stringify({ source: 'test/unit/simulation.test.ts', windows: WINDOWS, preset: 'tiny', profile: sim.config.scoring.profile, evaluatedPerWindow: sim.config.scoring.uidsPerWindow, classes }, null, 2)}\n`);
    }

    // Every class ranks below every honest peer and stays there to the end of the run; under the 2026 rules within 20
    // windows of the first (issue #18). v2.1.3 has no rule that catches a partial copier under its 40 % threshold.
    const current = sim.config.scoring.profile === 'templar-2026';
    const judged = cheaterRows.filter((cheater) => current || cheater.behaviour !== 'partial copier');
    for (const cheater of judged) {
      const from = belowFrom.get(cheater.uid) ?? null;
      expect(from, `${cheater.behaviour} (uid ${cheater.uid}): below every honest peer to the end`).not.toBeNull();
      if (current) expect(from! - FIRST_WINDOW + 1, `${cheater.behaviour} (uid ${cheater.uid}): windows until below every honest peer`).toBeLessThanOrEqual(20);
    }
    const minHonest = Math.min(...honestRows.map((r) => r.weight));
    expect(minHonest).toBeGreaterThan(0);
    for (const cheater of judged) expect(cheater.weight, `${cheater.behaviour} (uid ${cheater.uid})`).toBeLessThan(minHonest);
    const honestShare = honestRows.reduce((a, r) => a + r.weight, 0);
    const minerShare = honestShare + cheaterRows.reduce((a, r) => a + r.weight, 0);
    expect(honestShare / minerShare).toBeGreaterThanOrEqual(current ? 0.95 : 0.75);
    expect(honestSlashes).toEqual([]);
    // The run trained: the validator's outer steps lowered its loss on random data.
    const randomLosses = sim.events.flatMap((e) => (e.kind === 'validator-evaluated' && e.lossRandomBefore !== undefined ? [e.lossRandomBefore] : []));
    expect(randomLosses.at(-1)!).toBeLessThan(randomLosses[0]!);
  }, 900_000);
});
