import { describe, expect, it } from 'vitest';
import { runGoldenCases } from '../golden/golden.ts';
import { loadGoldenAreas } from '../golden/node-loader.ts';

/**
 * Node half of the isomorphism harness: every case file under test/golden runs here; the browser half
 * (test/browser/core-isomorphic.spec.ts) runs the same files in Chromium and compares the JSON.
 */
describe('golden cases (Node)', async () => {
  const areas = await loadGoldenAreas();

  it('finds the case files', () => {
    expect(Object.keys(areas)).toEqual(expect.arrayContaining(['compress', 'wire', 'aggregate']));
  });

  it('runs every case without error, deterministically', async () => {
    const first = await runGoldenCases(areas);
    const second = await runGoldenCases(areas);
    for (const [area, cases] of Object.entries(first)) {
      for (const [name, result] of Object.entries(cases)) {
        expect(result, `${area} / ${name}`).not.toHaveProperty('error');
        expect(result, `${area} / ${name}`).not.toBeUndefined();
      }
    }
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
  });
});
