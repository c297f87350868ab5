// Prints one closing line over both test runners ("tests: N passed, N failed, N skipped"), read from
// the JSON reports that vitest (reports/unit.json) and Playwright (reports/browser.json) write.
import { existsSync, readFileSync } from 'node:fs';

/** @typedef {{ numPassedTests: number, numFailedTests: number, numPendingTests?: number, numTodoTests?: number }} VitestReport */
/** @typedef {{ stats: { expected: number, unexpected: number, flaky?: number, skipped: number } }} PlaywrightReport */

/** @param {string} path @returns {unknown} */
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

if (existsSync('reports/unit.json')) {
  const unit = /** @type {VitestReport} */ (readJson('reports/unit.json'));
  const skipped = (unit.numPendingTests ?? 0) + (unit.numTodoTests ?? 0);
  totals.passed += unit.numPassedTests;
  totals.failed += unit.numFailedTests;
  totals.skipped += skipped;
  lines.push(`unit (vitest): ${unit.numPassedTests} passed, ${unit.numFailedTests} failed, ${skipped} skipped`);
} else {
  lines.push('unit (vitest): no report (did not run)');
}
if (existsSync('reports/browser.json')) {
  const { stats } = /** @type {PlaywrightReport} */ (readJson('reports/browser.json'));
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
