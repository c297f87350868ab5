/**
 * Benchmark reporting: every measurement is printed next to its baseline from the same run, as a
 * ratio, and appended to bench-results/<suite>.json. Absolute numbers describe only the device named.
 */
import { mkdirSync, writeFileSync } from 'node:fs';

export interface BenchRow {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly baselineName: string;
  readonly baseline: number;
  /** How a bigger value reads: 'higher' (throughput) or 'lower' (time, bytes). */
  readonly better: 'higher' | 'lower';
}

export function printBench(suite: string, device: string, rows: readonly BenchRow[]): void {
  const fmt = (x: number) => (Math.abs(x) >= 1e4 || Math.abs(x) < 1e-2 ? x.toExponential(3) : x.toFixed(3));
  console.log(`\n== ${suite} (device: ${device})`);
  for (const r of rows) {
    const ratio = r.better === 'higher' ? r.value / r.baseline : r.baseline / r.value;
    console.log(
      `${r.name.padEnd(44)} ${fmt(r.value).padStart(12)} ${r.unit.padEnd(10)} vs ${r.baselineName.padEnd(28)} ${fmt(r.baseline).padStart(12)}  → ${ratio.toFixed(2)}× ${r.better === 'higher' ? 'faster' : 'better'}`,
    );
  }
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(`bench-results/${suite}.json`, JSON.stringify({ suite, device, date: new Date().toISOString(), rows }, null, 2));
}

/** Median of repeated timings of `fn` in milliseconds. */
export function medianMs(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
