/**
 * Benchmark reporting: every measurement is printed next to its baseline from the same run, as a
 * ratio, and appended to bench-results/<suite>.json. Absolute numbers describe only the device named.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where every suite saves its rows, and the summary goes. */
export const BENCH_RESULTS_DIR = 'bench-results';
/** The combined table of one `npm run bench`, written by scripts/bench-summary.ts. */
export const SUMMARY_FILE = 'summary.json';

export interface BenchRow {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly baselineName: string;
  readonly baseline: number;
  /** How a bigger value reads: 'higher' (throughput) or 'lower' (time, bytes). */
  readonly better: 'higher' | 'lower';
}

/** How many times better the value is than its baseline (> 1: ours is better), whichever way `better` points. */
export function benchRatio(row: Pick<BenchRow, 'value' | 'baseline' | 'better'>): number {
  return row.better === 'higher' ? row.value / row.baseline : row.baseline / row.value;
}

/** Two decimals, or three significant digits for ratios far from 1 in either direction. */
export function formatRatio(ratio: number): string {
  return ratio !== 0 && (Math.abs(ratio) < 0.1 || Math.abs(ratio) >= 1e4) ? ratio.toPrecision(3) : ratio.toFixed(2);
}

/** Three decimals, or exponent form for very large or small magnitudes. */
export function formatValue(x: number): string {
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-2) ? x.toExponential(3) : x.toFixed(3);
}

export function printBench(suite: string, device: string, rows: readonly BenchRow[]): void {
  console.log(`\n== ${suite} (device: ${device})`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(44)} ${formatValue(r.value).padStart(12)} ${r.unit.padEnd(10)} vs ${r.baselineName.padEnd(28)} ${formatValue(r.baseline).padStart(12)}  → ${formatRatio(benchRatio(r))}× better`,
    );
  }
  mkdirSync(BENCH_RESULTS_DIR, { recursive: true });
  writeFileSync(join(BENCH_RESULTS_DIR, `${suite}.json`), JSON.stringify({ suite, device, date: new Date().toISOString(), rows } satisfies SuiteResult, null, 2));
}

/** What `printBench` saves for one suite. */
export interface SuiteResult {
  readonly suite: string;
  readonly device: string;
  /** ISO time the suite finished. */
  readonly date: string;
  readonly rows: readonly BenchRow[];
}

/** One row of the combined table: a suite's row with its suite, device and ratio. */
export interface SummaryRow extends BenchRow {
  readonly suite: string;
  readonly device: string;
  /** `benchRatio`: > 1 means ours is better than the baseline. */
  readonly ratio: number;
}

function isSuiteResult(x: unknown): x is SuiteResult {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Partial<SuiteResult>;
  return typeof r.suite === 'string' && typeof r.device === 'string' && typeof r.date === 'string' && Array.isArray(r.rows);
}

/**
 * The suites saved in `dir` since `sinceMs` (one run of `npm run bench`; older files from earlier or
 * filtered runs are left out), oldest first, so the table follows the order the suites ran in.
 * Files that are not a suite's result (the summary itself, extra curves) are skipped.
 */
export function collectBenchResults(dir: string, sinceMs: number): SuiteResult[] {
  const results: SuiteResult[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return results;
  }
  for (const name of names.filter((n) => n.endsWith('.json') && n !== SUMMARY_FILE).sort()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    } catch {
      continue;
    }
    if (isSuiteResult(parsed) && Date.parse(parsed.date) >= sinceMs) results.push(parsed);
  }
  return results.sort((a, b) => Date.parse(a.date) - Date.parse(b.date) || a.suite.localeCompare(b.suite));
}

/** Every row of every suite with its ratio, in suite order. */
export function summaryRows(results: readonly SuiteResult[]): SummaryRow[] {
  return results.flatMap((r) => r.rows.map((row) => ({ ...row, suite: r.suite, device: r.device, ratio: benchRatio(row) })));
}

/** The combined table as text: one line per row, columns aligned, then each suite's device. */
export function formatSummaryTable(rows: readonly SummaryRow[]): string {
  const header = ['suite', 'figure', 'value', 'unit', 'baseline', 'baseline value', 'ratio'];
  const cells = rows.map((r) => [r.suite, r.name, formatValue(r.value), r.unit, r.baselineName, formatValue(r.baseline), `${formatRatio(r.ratio)}×`]);
  const numeric = new Set([2, 5, 6]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string => row.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const devices = [...new Map(rows.map((r) => [r.suite, r.device])).entries()].map(([suite, device]) => `  ${suite}: ${device}`);
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line), '', 'ratio > 1: ours better than the baseline (higher throughput, lower time/bytes/loss). Devices:', ...devices].join('\n');
}

/**
 * How big the Node-side suites run: 'quick' (`npm run bench -- --quick`, which sets
 * GAUNTLET_BENCH_SCALE) shrinks windows and peer counts for a smoke run; 'full' otherwise.
 */
export function benchScale(): 'quick' | 'full' {
  return process.env.GAUNTLET_BENCH_SCALE === 'quick' ? 'quick' : 'full';
}

/** Median of repeated timings of `fn` in milliseconds. */
export function medianMs(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
