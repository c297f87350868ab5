/**
 * THE adversarial simulation (issue #6): 30 windows of the real miner and validator loops on the
 * tiny preset (wasm EP in Node, Brown-corpus shards), six honest peers and one of each cheater
 * class. Every cheater must end with a lower weight than every honest peer, and the honest peers
 * must hold ≥ 90 % of the weight that is not burned. Nothing here is scripted: the losses come from
 * the engine, the scores from the scoring module, the weights from `scoreWindow`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ordinal } from '../../src/core/scoring/index.ts';
import { copier, dataLazy, freeRider, honest, lateUploader, noise, poisoner, stale, type Behaviour } from '../../src/peer/behaviours.ts';
import { FIRST_MINER_UID, OWNER_UID, Simulation, simulationConfig } from './sim-harness.ts';

const WINDOWS = 30;
const FIRST_WINDOW = 2;

const behaviours: Behaviour[] = [
  honest(), honest(), honest(), honest(), honest(), honest(),
  freeRider(), noise(), copier(FIRST_MINER_UID), stale(), dataLazy(), poisoner(3), lateUploader(),
];

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
    sim = await Simulation.create(simulationConfig(), behaviours);
    for (let w = FIRST_WINDOW; w < FIRST_WINDOW + WINDOWS; w++) await sim.runWindow(w);

    const last = sim.reports.at(-1)!;
    const state = last.result.state;
    const weights = last.result.weights;
    const rows = sim.peers.map(({ uid, behaviour }) => {
      const peer = state.peers[String(uid)];
      return {
        uid,
        behaviour: behaviour.name,
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
    expect(honestRows).toHaveLength(6);
    expect(cheaterRows.map((r) => r.behaviour).sort()).toEqual(['copier', 'data-lazy', 'free-rider', 'late', 'noise', 'poisoner', 'stale']);
    const minHonest = Math.min(...honestRows.map((r) => r.weight));
    expect(minHonest).toBeGreaterThan(0);
    for (const cheater of cheaterRows) expect(cheater.weight, `${cheater.behaviour} (uid ${cheater.uid})`).toBeLessThan(minHonest);
    const honestShare = honestRows.reduce((a, r) => a + r.weight, 0);
    const minerShare = honestShare + cheaterRows.reduce((a, r) => a + r.weight, 0);
    expect(honestShare / minerShare).toBeGreaterThanOrEqual(0.9);
    // The run trained: the validator's outer steps lowered its loss on random data.
    const randomLosses = sim.events.flatMap((e) => (e.kind === 'validator-evaluated' && e.lossRandomBefore !== undefined ? [e.lossRandomBefore] : []));
    expect(randomLosses.at(-1)!).toBeLessThan(randomLosses[0]!);
  }, 900_000);
});
