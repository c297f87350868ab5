import { test } from '@playwright/test';
import { cpus } from 'node:os';
import { CI_SCALE, describeLoad, median, percentile, runDevnetLoad, type LoadScale } from './devnet-load.ts';
import { benchScale, printBench } from './report.ts';

/**
 * The devnet coordinator under attack (issue #14), beside the same coordinator unattacked: honest
 * signed uploads (gradient + .sig, 256 KiB) during 16 unauthenticated and 16 forged 60 MiB bodies,
 * oversized WebSocket messages, 300 idle sockets, a registration flood across netuids and 10,000
 * malformed requests, against the same uploads with nothing else going on; and the coordinator's
 * RSS (its own process, /proc) at its peak and after, against before. Node only: the harness
 * (devnet-load.ts) is the one the unit test test/unit/devnet-load.test.ts asserts bounds with.
 */
const quick = benchScale() === 'quick';
const SCALE: LoadScale = quick
  ? { ...CI_SCALE, idleSockets: 100, sybils: 50, malformedRequests: 2_000, baselineWindows: 1, attackWindows: 1 }
  : { ...CI_SCALE, baselineWindows: 2, attackWindows: 3 };

test(`devnet load: honest uploads and coordinator RSS under attack vs unattacked (${SCALE.malformedRequests} malformed requests, ${SCALE.bigBodies}+${SCALE.bigBodies} × 60 MiB bodies)`, async () => {
  test.setTimeout(300_000);
  const f = await runDevnetLoad(SCALE);
  console.log(describeLoad(f));
  const attacked = f.underAttack.map((u) => u.latencyMs);
  const calm = f.baseline.map((u) => u.latencyMs);
  const noAttack = 'same uploads, no attack';
  printBench('devnet-load', `Node ${process.version}, ${cpus().length} CPU cores, loopback; coordinator, attacker and honest peers in three processes; ${f.underAttack.filter((u) => u.onTime).length}/${f.underAttack.length} uploads under attack on time`, [
    { name: 'honest upload under attack, median', unit: 'ms', value: median(attacked), baselineName: `${noAttack}, median`, baseline: median(calm), better: 'lower' },
    { name: 'honest upload under attack, p95', unit: 'ms', value: percentile(attacked, 0.95), baselineName: `${noAttack}, p95`, baseline: percentile(calm, 0.95), better: 'lower' },
    { name: `coordinator RSS peak under attack (${f.peakSource})`, unit: 'MiB', value: f.rssPeakMiB, baselineName: 'RSS before the attack', baseline: f.rssBeforeMiB, better: 'lower' },
    { name: 'coordinator RSS after the attack', unit: 'MiB', value: f.rssAfterMiB, baselineName: 'RSS before the attack', baseline: f.rssBeforeMiB, better: 'lower' },
  ]);
});
