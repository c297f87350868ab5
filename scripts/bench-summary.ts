// The last step of `npm run bench`: ONE table of every suite's rows from this run (name, value,
// unit, baseline, ratio), printed and saved as bench-results/summary.json.
// Usage: tsx scripts/bench-summary.ts --since <epoch ms>   (suites saved before that are left out)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_RESULTS_DIR, SUMMARY_FILE, collectBenchResults, formatSummaryTable, summaryRows } from '../test/bench/report.ts';

const at = process.argv.indexOf('--since');
const since = at >= 0 ? Number(process.argv[at + 1]) : 0;
if (!Number.isFinite(since)) {
  console.error('bench-summary: --since needs a time in epoch milliseconds');
  process.exit(2);
}
const results = collectBenchResults(BENCH_RESULTS_DIR, since);
if (results.length === 0) {
  console.error(`bench-summary: no suite saved results under ${BENCH_RESULTS_DIR}/ in this run`);
  process.exit(1);
}
const rows = summaryRows(results);
console.log(`\n== summary: ${rows.length} figures from ${results.length} suites\n${formatSummaryTable(rows)}`);
writeFileSync(join(BENCH_RESULTS_DIR, SUMMARY_FILE), JSON.stringify({ date: new Date().toISOString(), suites: results.map((r) => r.suite), rows }, null, 2));
console.log(`\nsaved ${BENCH_RESULTS_DIR}/${SUMMARY_FILE}`);
