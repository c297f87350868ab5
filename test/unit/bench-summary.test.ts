/**
 * The combined table of `npm run bench` (test/bench/report.ts): only the suites saved during this
 * run are collected (older files and non-suite JSON are left out), ratios read "> 1: ours better"
 * whichever way a figure improves, and every row appears in the printed table.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectBenchResults, formatSummaryTable, summaryRows, SUMMARY_FILE, type SuiteResult } from '../bench/report.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const since = Date.parse('2026-01-02T00:00:00Z');
function save(file: string, value: unknown): void {
  writeFileSync(join(dir, file), JSON.stringify(value));
}
const throughput: SuiteResult = {
  suite: 'engine', device: 'dev A', date: '2026-01-02T00:00:05Z',
  rows: [{ name: 'fwd+bwd', unit: 'tokens/s', value: 300, baselineName: 'wasm', baseline: 100, better: 'higher' }],
};
const cost: SuiteResult = {
  suite: 'scoring-cost', device: 'dev B', date: '2026-01-02T00:00:02Z',
  rows: [
    { name: 'per peer, 256', unit: 'ms', value: 4, baselineName: 'per peer, 16', baseline: 1, better: 'lower' },
    { name: 'bytes', unit: 'bytes', value: 10, baselineName: 'dense', baseline: 1000, better: 'lower' },
  ],
};

describe('bench summary', () => {
  it('collects this run’s suites in the order they ran and computes every ratio as ours-better', () => {
    save('engine.json', throughput);
    save('scoring-cost.json', cost);
    save('stale.json', { ...throughput, suite: 'stale', date: '2026-01-01T23:59:59Z' });
    save('convergence-curve.json', { distributed: [1, 2], centralised: [1, 2] });
    save(SUMMARY_FILE, { date: '2026-01-02T00:00:09Z', suites: [], rows: [] });
    writeFileSync(join(dir, 'broken.json'), '{ not json');

    const results = collectBenchResults(dir, since);
    expect(results.map((r) => r.suite)).toEqual(['scoring-cost', 'engine']);
    const rows = summaryRows(results);
    expect(rows.map((r) => [r.suite, r.name, r.ratio])).toEqual([
      ['scoring-cost', 'per peer, 256', 0.25],
      ['scoring-cost', 'bytes', 100],
      ['engine', 'fwd+bwd', 3],
    ]);
    const table = formatSummaryTable(rows);
    for (const r of rows) expect(table).toContain(r.name);
    expect(table).toContain('0.25×');
    expect(table).toContain('scoring-cost: dev B');
    expect(table).not.toContain('stale');
  });

  it('returns nothing for a folder that does not exist', () => {
    expect(collectBenchResults(join(dir, 'missing'), 0)).toEqual([]);
  });
});
