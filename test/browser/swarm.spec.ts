import { expect, test } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { runSwarm } from '../../src/cli/swarm-run.ts';
import type { SwarmReport } from '../../src/cli/swarm-report.ts';

/**
 * `npm run swarm` end to end at a small size (issue #10): the devnet, the in-process validator and
 * three headless Chromium peers (two honest, one free-rider) running the real miner loop in their
 * workers, for four judged windows. The report must hold measured values (losses from the
 * validator's θ and from centralised AdamW, submission sizes, phase times) and say that the
 * free-rider ranks below both honest peers; the HTML must exist with its plots. Nothing about time
 * is asserted beyond "it was measured".
 */
const SWARM_PORT = Number(process.env.GAUNTLET_SWARM_PORT ?? 0);

// eslint-disable-next-line no-empty-pattern -- Playwright reads fixtures from a destructuring pattern; this test needs none.
test('a 3-peer swarm with a free-rider writes a report that ranks the free-rider below every honest peer', async ({}, testInfo) => {
  test.setTimeout(420_000);
  const lines: string[] = [];
  const { report, jsonPath, htmlPath } = await runSwarm({
    peers: 3,
    adversaries: [['free-rider', 1]],
    windows: 4,
    backend: 'wasm',
    outDir: testInfo.outputPath('swarm'),
    port: SWARM_PORT,
    log: (line) => lines.push(line),
  });
  await testInfo.attach('swarm-log', { body: lines.join('\n'), contentType: 'text/plain' });
  await testInfo.attach('report', { path: htmlPath, contentType: 'text/html' });

  const saved = JSON.parse(readFileSync(jsonPath, 'utf8')) as SwarmReport;
  expect(saved.detection).toEqual(report.detection);
  expect(report.run.measuredWindows).toHaveLength(4);
  expect(report.peers.map((p) => p.label).sort()).toEqual(['adversary', 'honest', 'honest']);
  for (const peer of report.peers) expect(peer.backend).toBe('wasm');
  // Every peer submitted in at least one judged window, so the verdict below rests on evaluations.
  for (const peer of report.peers) expect(peer.uploadedWindows).toBeGreaterThanOrEqual(1);

  // Loss: the validator's θ moved and improved on the evaluation set; the baseline ran on the same tokens.
  const points = report.loss.points;
  expect(points.length).toBeGreaterThanOrEqual(report.run.measuredWindows.length);
  for (const p of points) {
    expect(Number.isFinite(p.distributed)).toBe(true);
    expect(p.centralised).not.toBeNull();
    expect(p.centralisedTokens).toBeGreaterThan(0);
  }
  expect(points.at(-1)!.distributed).toBeLessThan(report.loss.initial);
  expect(points.at(-1)!.centralised!).toBeLessThan(report.loss.initial);

  // Leaderboard and detection: the free-rider's weight is below each honest peer's.
  const freeRider = report.leaderboard.find((r) => r.behaviour === 'free-rider')!;
  const honest = report.leaderboard.filter((r) => r.label === 'honest');
  for (const h of honest) expect(freeRider.weight).toBeLessThan(h.weight);
  expect(report.detection.everyAdversaryBelowEveryHonest).toBe(true);
  expect(report.detection.statement).toMatch(/^Yes: every adversary/);

  // Bytes on the wire: compressed submissions, far below dense float32 θ.
  expect(report.wire.windows.length).toBeGreaterThan(0);
  expect(report.wire.compressionRatio!).toBeGreaterThan(1);
  // Phase times were measured for every phase an honest peer goes through.
  for (const phase of ['train', 'compress', 'sign', 'upload', 'gather', 'outer-step'] as const) expect(report.phases.meanMs[phase]).not.toBeNull();

  expect(existsSync(htmlPath)).toBe(true);
  const html = readFileSync(htmlPath, 'utf8');
  for (const chart of ['line', 'bar', 'stacked-bar']) expect(html).toContain(`data-chart="${chart}"`);
  expect(html).toContain('data-series="distributed (validator θ)"');
  expect(html).toContain('data-series="data-parallel AdamW"');
  expect(html).not.toContain('<script');
});
