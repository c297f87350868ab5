import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';

/**
 * `npm start`'s network (scripts/start-network.mjs): the devnet coordinator and, beside it, a Node
 * validator that registers, scores windows and persists its state under the devnet's directory, and
 * two honest Node miners it evaluates, so a volunteer who joins is rated against them; each prints one
 * line per window; a SIGTERM stops every process and the script says what it stopped.
 */
const config = tinyRunConfig();
let dir = '';
let network: ChildProcess | undefined;

afterEach(async () => {
  if (network !== undefined && network.exitCode === null) {
    const exited = new Promise((resolve) => network?.once('exit', resolve));
    network.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start network', () => {
  it('runs the devnet with a validator and two miners it scores, one line per window each, and stops every process on SIGTERM', async () => {
    dir = mkdtempSync(join(tmpdir(), 'start-network-'));
    network = spawn(process.execPath, ['scripts/start-network.mjs', '--port', '0', '--dir', dir, '--app', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    network.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    network.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const waitFor = async (pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(log);
        if (match !== null) return match;
        if (Date.now() > deadline || network?.exitCode !== null) throw new Error(`no ${String(pattern)} in:\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    const url = (await waitFor(/\[devnet\] .*listening on (http:\/\/\S+)/, 30_000))[1]!;
    // One line per window from each process, not JSON: the miners' uploads, then the validator evaluating them.
    await waitFor(/\[miners\] window \d+: miners uid \d+, \d+ uploaded/, 120_000);
    await waitFor(/\[validator\] window \d+: [1-9]\d* submitted, [1-9]\d* gathered; evaluated uid \d+ ok/, 120_000);
    expect(log).toMatch(/Open http:\/\/\S+ in a browser with WebGPU to contribute beside a validator and 2 honest miners/);
    expect(log).not.toMatch(/\[validator\] \[window \d+\] validator-/);

    // The validator is registered on the subnet and the owner holds the burn uid.
    const signer = await KeyringSigner.fromUris(['//Alice', '//Owner']);
    const [alice, owner] = (await signer.accounts()).map((a) => a.address);
    const metagraph = await new DevnetChain(url, signer).metagraph(config.netuid);
    expect(metagraph.hotkeys[metagraph.uids.indexOf(config.scoring.burnUid)]).toBe(owner);
    expect(metagraph.hotkeys).toContain(alice);
    const statePath = join(dir, 'validator', 'state.json');
    expect(existsSync(statePath)).toBe(true);
    expect((JSON.parse(readFileSync(statePath, 'utf8')) as { version: number }).version).toBe(2);

    const exited = new Promise<number | null>((resolve) => network?.once('exit', resolve));
    network.kill('SIGTERM');
    await exited;
    // Every child is gone (the port no longer answers), and the script said what it stopped.
    await expect(fetch(url)).rejects.toThrow();
    expect(log).toMatch(/Stopped devnet, validator, miners\. The network's state stays in/);
  }, 300_000);
});
