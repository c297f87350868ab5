// Prints one closing line over both test runners ("tests: N passed, N failed, N skipped"), read from
// the JSON reports that vitest (reports/unit.json) and Playwright (reports/browser.json) write.
import { existsSync, readFileSync } from 'node:fs';

/** @typedef {{ numPassedTests: number, numFailedTests: number, numPendingTests?: number, numTodoTests?: number }} VitestReport */
/** @typedef {{ stats: { expected: number, unexpected: number, flaky?: number, skipped: number } }} PlaywrightReport */

const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

if (existsSync('reports/unit.json')) {
  /** @type {VitestReport} */
  const unit = JSON.parse(readFileSync('reports/unit.json', 'utf8'));
  const skipped = (unit.numPendingTests ?? 0) + (unit.numTodoTests ?? 0);
  totals.passed += unit.numPassedTests;
  totals.failed += unit.numFailedTests;
  totals.skipped += skipped;
  lines.push(`unit (vitest): ${unit.numPassedTests} passed, ${unit.numFailedTests} failed, ${skipped} skipped`);
} else {
  lines.push('unit (vitest): no report (did not run)');
}
if (existsSync('reports/browser.json')) {
  /** @type {PlaywrightReport} */
  const { stats } = JSON.parse(readFileSync('reports/browser.json', 'utf8'));
  const failed = stats.unexpected;
  totals.passed += stats.expected + (stats.flaky ?? 0);
  totals.failed += failed;
  totals.skipped += stats.skipped;
  lines.push(`browser (playwright): ${stats.expected + (stats.flaky ?? 0)} passed, ${failed} failed, ${stats.skipped} skipped`);
} else {
  lines.push('browser (playwright): no report (did not run)');
}
for (const line of lines) console.log(line);
console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
