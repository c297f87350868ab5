import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parameterCount } from '../../src/model/params.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { createRunDocument } from '../../src/core/run-document.ts';
import { startDevnet } from '../../src/devnet/server.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { PEER_SNAPSHOT_STORE } from '../../src/peer/browser-persistence.ts';
import type { ContributeStatus } from '../../src/ui/contribute/session.ts';

/**
 * Issue #8 "Resilience", without a clock (issue #16: no real-clock test for a loop branch; the
 * miner loop's recovery, resume and catch-up after a lost device are tested on the virtual clock in
 * test/unit/miner-loop.test.ts). Here, what only a browser can show:
 * - the engine recovery the peer worker uses (src/workers/kept-engine.ts) on a real WebGPU device
 *   destroyed as a driver reset would: a new engine on a new device, then, with no adapter left, on
 *   the CPU (wasm) with the reason, on the θ it was given;
 * - a snapshot of an older layout in this browser's IndexedDB is named as unreadable when the hotkey
 *   is selected, and can be forgotten.
 */
const config = tinyRunConfig();

test('a lost GPU device: the engine comes back on a new device, then on wasm when no GPU is left', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/');
  const capability = await page.evaluate(() => window.gauntlet!.capability);
  expect(capability.available, `WebGPU unavailable: ${capability.reason}`).toBe(true);
  const drill = await page.evaluate((run) => window.gauntlet!.trainer!.keptEngineLossDrill(run), config);
  expect(drill.first.backend).toBe('webgpu');
  expect(drill.lostReason).toBeDefined();
  expect(drill.afterLoss.backend).toBe('webgpu');
  expect(drill.afterLossWithoutGpu.backend).toBe('wasm');
  expect(drill.afterLossWithoutGpu.reason).toContain('no GPU device could be created after the loss');
  expect(drill.paramsKept).toBe(true);
});

test('a saved snapshot of an older layout is named as unreadable when the hotkey is selected, and can be forgotten', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'old-snapshot-'));
  const devnet = await startDevnet({ dir, appDir: resolve('dist'), run: createRunDocument(config) });
  try {
    const hotkey = (await (await KeyringSigner.fromUris(['//Volunteer'])).accounts())[0]!.address;
    await page.goto(`${devnet.url}/#/contribute`);
    await page.evaluate(
      ({ database, schemaVersion, store, key, runId, hotkey, parameterCount }) =>
        new Promise<void>((resolveWrite, reject) => {
          const open = indexedDB.open(database, schemaVersion);
          open.onupgradeneeded = () => open.result.createObjectStore(store);
          open.onerror = () => reject(open.error ?? new Error('indexedDB.open failed'));
          open.onsuccess = () => {
            const tx = open.result.transaction(store, 'readwrite');
            const zeros = new Float32Array(parameterCount);
            // Layout version 1: no `version` field and no optimiser state.
            tx.objectStore(store).put({ runId, hotkey, window: 0, params: zeros, errorFeedback: zeros, savedAtMs: Date.now() }, key);
            tx.oncomplete = () => {
              open.result.close();
              resolveWrite();
            };
            tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
          };
        }),
      { ...PEER_SNAPSHOT_STORE, key: PEER_SNAPSHOT_STORE.key(config.runId, hotkey), runId: config.runId, hotkey, parameterCount: parameterCount(config.model) },
    );
    const view = page.locator('[data-view="contribute"]');
    await view.getByRole('button', { name: /^Use devnet development key/ }).click();
    await expect(view.locator('[data-role="message"]')).toContainText('cannot resume');
    await expect(view.locator('[data-role="message"]')).toContainText('layout version 1');
    const forget = view.getByRole('button', { name: 'Forget saved state' });
    await expect(forget).toBeEnabled();
    await forget.click();
    const status = (): Promise<ContributeStatus> => page.evaluate(() => window.gauntlet!.ui.contribute().session.status());
    await expect.poll(async () => (await status()).saved).toBeNull();
  } finally {
    await devnet.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
