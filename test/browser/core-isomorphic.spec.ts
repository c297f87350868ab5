import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { build, type Rolldown } from 'vite';
import { runGoldenCases, type GoldenBundle } from '../golden/golden.ts';
import { goldenDir, loadGoldenAreas } from '../golden/node-loader.ts';

/**
 * Browser half of the isomorphism harness (see test/golden/golden.ts): bundles every golden case file
 * with Vite's JS build API into one IIFE, injects it into the app page and requires each case's JSON to
 * be identical to what the same case gives in Node. This is what proves `src/core` is isomorphic: the
 * same bytes from the compressor, the wire format and the outer step on both sides.
 */
async function bundleGoldenCases(): Promise<string> {
  const output = await build({
    configFile: false,
    logLevel: 'warn',
    root: goldenDir,
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      lib: { entry: join(goldenDir, 'browser-entry.ts'), formats: ['iife'], name: 'gauntletGoldenBundle', fileName: 'golden' },
    },
  });
  const outputs = (Array.isArray(output) ? output : [output]) as Rolldown.RolldownOutput[];
  const chunk = outputs.flatMap((o) => o.output).find((o) => o.type === 'chunk');
  if (!chunk || chunk.type !== 'chunk') throw new Error('the golden bundle produced no JavaScript chunk');
  return chunk.code;
}

test('every golden case gives the same JSON in Chromium as in Node', async ({ page }) => {
  const [code, areas] = await Promise.all([bundleGoldenCases(), loadGoldenAreas()]);
  const node = await runGoldenCases(areas);

  await page.goto('/');
  await page.addScriptTag({ content: code });
  const browserAreas = await page.evaluate(() => (globalThis as { gauntletGolden?: GoldenBundle }).gauntletGolden?.areas ?? []);
  expect(browserAreas).toEqual(Object.keys(node).sort());
  const browser = await page.evaluate(async () => {
    const bundle = (globalThis as { gauntletGolden?: GoldenBundle }).gauntletGolden;
    if (!bundle) throw new Error('golden bundle missing');
    return bundle.run();
  });

  let compared = 0;
  for (const [area, cases] of Object.entries(node)) {
    for (const [name, result] of Object.entries(cases)) {
      expect(result, `${area} / ${name} failed in Node`).not.toHaveProperty('error');
      expect(JSON.stringify(browser[area]?.[name]), `${area} / ${name}`).toBe(JSON.stringify(result));
      compared++;
    }
  }
  expect(compared).toBeGreaterThan(0);
});
