/**
 * A devnet that scores its volunteers, for the end-to-end specs: a private build of the app (see
 * private-build.ts) served by a devnet on the tiny preset's clock (1 s blocks, 5-block windows), the
 * subnet owner at the run's burn uid from the start as `npm start` sets it up, and a Node validator
 * (`npm run validator`, `//Alice`, uid 0) as a child process; volunteers take the next free uids.
 */
import { createRunDocument } from '../../src/core/run-document.ts';
import type { TestInfo } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { startDevnet, type RunningDevnet } from '../../src/devnet/server.ts';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { buildAppInto } from './private-build.ts';

export interface ScoredDevnet {
  readonly devnet: RunningDevnet;
  /** The Node validator's hotkey (`//Alice`). */
  readonly validatorHotkey: string;
  /** Everything the validator printed so far (its `[window N] kind {json}` lines among them). */
  validatorLog(): string;
  /** Writes the validator's log beside a test's other outputs and attaches it to the report. */
  attachValidatorLog(testInfo: TestInfo): Promise<void>;
  /** Stops the validator and the devnet and deletes their files. */
  close(): Promise<void>;
}

/** Builds the app into a fresh directory named after `purpose` and starts the devnet and its validator there. */
export async function startScoredDevnet(purpose: string): Promise<ScoredDevnet> {
  const config = tinyRunConfig();
  const dir = mkdtempSync(join(tmpdir(), `${purpose}-`));
  const appDir = buildAppInto(join(dir, 'app'));
  const keys = await KeyringSigner.fromUris(['//Alice', '//Owner']);
  const [alice, owner] = (await keys.accounts()).map((a) => a.address) as [string, string];
  const devnet = await startDevnet({ dir: join(dir, 'state'), appDir, run: createRunDocument(config), subnetOwners: [{ netuid: config.netuid, hotkey: owner, uid: config.scoring.burnUid }], runValidators: [alice] });
  await new DevnetChain(devnet.url, keys).register(alice, config.netuid);
  const validator = spawn(process.execPath, ['--import', 'tsx', 'src/cli/validator.ts', '--devnet', devnet.url, '--uri', '//Alice', '--verbose', '--state', join(dir, 'validator.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  validator.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  validator.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  return {
    devnet,
    validatorHotkey: alice,
    validatorLog: () => log,
    async attachValidatorLog(testInfo) {
      writeFileSync(testInfo.outputPath('validator.log'), log);
      await testInfo.attach('validator-log', { path: testInfo.outputPath('validator.log'), contentType: 'text/plain' });
    },
    async close() {
      if (validator.pid !== undefined && validator.exitCode === null) {
        const exited = new Promise((resolve) => validator.once('exit', resolve));
        validator.kill('SIGTERM');
        await exited;
      }
      await devnet.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
