import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import type { ModelShape } from '../../src/core/config.ts';

/**
 * The app shell: every view renders from its hash route, the capability gate shows the adapter and
 * the preset chosen from the adapter's limits, and without navigator.gpu the CPU (WASM) path is
 * offered in plain words.
 */

/** Flat parameter count by hand for the presets' shape (SwiGLU, RoPE, tied embeddings; params.ts order). */
function parametersByHand(m: ModelShape): number {
  const perLayer = 2 * m.dModel + 4 * m.dModel * m.dModel + 3 * m.dModel * m.dFF;
  return m.vocabSize * m.dModel + m.nLayers * perLayer + m.dModel;
}

test('every view renders from its route and the navigation marks the current one', async ({ page }) => {
  await page.goto('/');
  await expect.poll(() => page.evaluate(() => window.gauntlet?.ui.view())).toBe('contribute');
  const headings: Record<string, RegExp> = { contribute: /Contribute/, validate: /Validate/, demo: /Demo/, about: /How permissionless training stays honest/ };
  for (const [view, heading] of Object.entries(headings)) {
    await page.getByRole('link', { name: new RegExp(`^${view}$`, 'i') }).click();
    await expect.poll(() => page.evaluate(() => window.gauntlet!.ui.view())).toBe(view);
    const section = page.locator(`[data-view="${view}"]`);
    await expect(section).toBeVisible();
    await expect(section.getByRole('heading', { level: 2 })).toHaveText(heading);
    await expect(page.locator(`[data-view-link="${view}"]`)).toHaveAttribute('aria-current', 'page');
    // Only the current view is shown.
    await expect(page.locator('[data-view]:visible')).toHaveCount(1);
  }
  // A deep link opens its view directly; an unknown route falls back to Contribute.
  await page.goto('/#/about');
  await expect(page.locator('[data-view="about"] article')).toHaveCount(13);
  // The rules against gaming are the run's scoring profile, named and written from its constants.
  await expect(page.locator('[data-view="about"] article[data-topic="profile"] h3')).toHaveText(`Rules against gaming: the ${tinyRunConfig().scoring.profile} profile`);
  await expect(page.locator('[data-view="about"] article[data-topic="profile"]')).toContainText('enters the window\'s rating match with a score of -99');
  // What the rules did to each cheater class, one row per class of the suite's recorded results.
  const suite = JSON.parse(readFileSync(new URL('../../src/ui/cheater-suite-results.json', import.meta.url), 'utf8')) as { classes: { name: string }[] };
  await expect(page.locator('table.cheater-suite tbody tr')).toHaveCount(suite.classes.length);
  await expect(page.locator('table.cheater-suite tbody tr td:first-child')).toHaveText(suite.classes.map((c) => c.name));
  // The Demo says the same beside each behaviour: what it does, then what the suite measured of it.
  await page.goto('/#/demo');
  const noise = suite.classes.find((c) => c.name === 'noise') as unknown as { evaluations: number } | undefined;
  await expect(page.locator('li', { has: page.locator('select option[value="noise"]:checked') }).first()).toContainText(`of ${String(noise?.evaluations)} evaluations`);
  await page.goto('/#/nowhere');
  await expect.poll(() => page.evaluate(() => window.gauntlet?.ui.view())).toBe('contribute');
});

test('the capability check shows the adapter and whether it can hold the run the page serves', async ({ page }) => {
  await page.goto('/');
  const gate = await page.evaluate(() => window.gauntlet!.gate);
  expect(gate.capability.available, `WebGPU unavailable: ${gate.capability.reason}`).toBe(true);
  expect(gate.kind).toBe('webgpu');
  if (gate.kind !== 'webgpu') return;
  const limits = gate.capability.limits!;
  // The page serves the tiny run (the Playwright server's build has no run document, so the Demo's tiny
  // preset); its largest buffer, by hand, is the flat θ, which fits any real adapter's limits.
  const tinyBytes = parametersByHand(tinyRunConfig().model) * 4;
  expect(gate.needs.largestBufferBytes).toBe(tinyBytes);
  expect(tinyBytes).toBeLessThanOrEqual(Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize));
  const expected = 'tiny';
  expect(gate.preset).toBe(expected);

  await expect(page.locator('#gpu-summary')).toContainText('WebGPU works');
  const facts = page.locator('#gpu-facts');
  const adapter = [gate.capability.vendor, gate.capability.architecture, gate.capability.description].filter(Boolean).join(' · ');
  await expect(facts).toContainText(adapter || 'not disclosed by the browser');
  await expect(facts.locator(`[data-preset="${expected}"]`)).toContainText(expected);
  // The Contribute view shows the run's needs and that this GPU holds them.
  await expect(page.locator('[data-gate="webgpu"] tr', { hasText: 'fits this GPU' })).toContainText(expected);
});

test('without navigator.gpu the page offers the CPU (WASM) path in plain words', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined });
  });
  await page.goto('/');
  const gate = await page.evaluate(() => window.gauntlet!.gate);
  expect(gate.kind).toBe('wasm');
  if (gate.kind !== 'wasm') return;
  expect(gate.error.name).toBe('WebGPUUnavailableError');
  expect(gate.preset).toBe('tiny');
  await expect(page.locator('#gpu-summary')).toContainText('WebGPU is not available here');
  await expect(page.locator('#gpu-details')).toContainText('You can still take part');
  const offer = page.getByRole('button', { name: 'Use the CPU (WASM) path' });
  await expect(offer).toBeVisible();
  expect(await page.evaluate(() => window.gauntlet!.ui.backend())).toBe('auto');
  await offer.click();
  expect(await page.evaluate(() => window.gauntlet!.ui.backend())).toBe('wasm');
});
