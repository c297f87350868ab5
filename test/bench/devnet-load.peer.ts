/**
 * The honest peers of the devnet load test (devnet-load.ts), in a process of their own so their
 * upload latency is the coordinator's and the machine's, not the attacker's event loop. Started by
 * `fork` with an IPC channel: it registers its hotkeys on the run's netuid, then for each
 * `{ kind: 'window', window, gate }` it uploads `gradient-{w}-{uid}` and its `.sig` again and again
 * while the put window is open and answers `{ kind: 'uploads', uploads }`.
 */
import type { PutWindowBounds } from '../../src/core/clock.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { DevnetChain, DevnetStorage } from '../../src/net/devnet-client.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { gradientKey, signatureKey } from '../../src/peer/gather.ts';

export type PeerCommand = { readonly kind: 'window'; readonly window: number; readonly gate: PutWindowBounds } | { readonly kind: 'exit' };
export type PeerReport =
  | { readonly kind: 'ready'; readonly hotkeys: readonly string[] }
  | { readonly kind: 'uploads'; readonly uploads: readonly { window: number; latencyMs: number; serverTimeMs: number }[] }
  | { readonly kind: 'failed'; readonly message: string };

const [url, peersText, bytesText] = process.argv.slice(2);
const send = (report: PeerReport): void => void process.send?.(report);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

try {
  if (url === undefined) throw new Error('usage: devnet-load.peer.ts <devnet url> <peers> <upload bytes>');
  const signer = await KeyringSigner.fromUris([]);
  const chain = new DevnetChain(url, signer);
  const config = tinyRunConfig();
  const hotkeys = Array.from({ length: Number(peersText ?? '2') }, (_, i) => signer.add(`//LoadHonest${i}`));
  const uids = new Map<string, number>();
  for (const hotkey of hotkeys) uids.set(hotkey, (await chain.register(hotkey, config.netuid)).uid);
  const payload = Uint8Array.from({ length: Number(bytesText ?? String(256 * 1024)) }, (_, i) => (i * 131) & 0xff);
  const signature = new TextEncoder().encode(`0x${'00'.repeat(64)}`);

  process.on('message', (command: PeerCommand) => {
    if (command.kind === 'exit') process.exit(0);
    const { window, gate } = command;
    void (async () => {
      const uploads: { window: number; latencyMs: number; serverTimeMs: number }[] = [];
      await sleep(gate.timeMinMs - Date.now() + 20);
      await Promise.all(hotkeys.map(async (hotkey) => {
        const storage = new DevnetStorage(url, signer, hotkey);
        const uid = uids.get(hotkey)!;
        // Leave room for one slow upload before time_max: one that started later would be late by design.
        while (Date.now() < gate.timeMaxMs - 1_000) {
          const t0 = performance.now();
          const info = await storage.put(gradientKey(window, uid), payload);
          await storage.put(signatureKey(window, uid), signature);
          uploads.push({ window, latencyMs: performance.now() - t0, serverTimeMs: info.lastModifiedMs });
          await sleep(100);
        }
      }));
      send({ kind: 'uploads', uploads });
    })().catch((error: unknown) => send({ kind: 'failed', message: String(error) }));
  });
  send({ kind: 'ready', hotkeys });
} catch (error) {
  send({ kind: 'failed', message: String(error) });
  process.exit(1);
}
