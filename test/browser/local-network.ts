/**
 * `npm start`'s network as a newcomer meets it (issue #17): scripts/start-network.mjs itself, as a
 * child process, serving a private build of the app from a fresh state directory: the devnet with
 * the run document of the tiny preset, the Node validator and the two honest Node miners.
 */
import type { TestInfo } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAppInto } from './private-build.ts';

export interface LocalNetwork {
  readonly url: string;
  /** Everything the network printed so far (one line per window from the validator and the miners). */
  log(): string;
  attachLog(testInfo: TestInfo): Promise<void>;
  /** Ctrl-C for the network (SIGTERM), then its files are deleted. */
  close(): Promise<void>;
}

export async function startLocalNetwork(purpose: string): Promise<LocalNetwork> {
  const dir = mkdtempSync(join(tmpdir(), `${purpose}-`));
  const appDir = buildAppInto(join(dir, 'app'));
  const child = spawn(process.execPath, ['scripts/start-network.mjs', '--port', '0', '--dir', join(dir, 'state'), '--app', appDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (url === undefined) {
    url = /^Open (http:\/\/\S+) in a browser/m.exec(log)?.[1];
    if (url !== undefined) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start's network did not print its address:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    log: () => log,
    async attachLog(testInfo) {
      writeFileSync(testInfo.outputPath('network.log'), log);
      await testInfo.attach('network-log', { path: testInfo.outputPath('network.log'), contentType: 'text/plain' });
    },
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
