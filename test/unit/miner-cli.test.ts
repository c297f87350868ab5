/**
 * `npm run miner` (issue #20): the headless miner's refusals come before it dials anything, each
 * with what to give instead: a subtensor miner needs its own hotkey (never a default), one hotkey
 * mines as one miner, and bucket flags, when given, follow the validator's rules (with none, the
 * miner uploads through the subnet's gateway, tested in test/browser/gateway-devcheck.spec.ts). Its runs on a real
 * subtensor runtime are in the developer check (chain-subtensor.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HotkeyUriError, resolveHotkeyUri } from '../../src/cli/hotkey-uri.ts';
import { MINER_URI_ENV } from '../../src/cli/miners.ts';

function miner(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; output: string } {
  // An address nothing listens on: a command that dialled would fail differently (and later).
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/miners.ts', ...args], { encoding: 'utf8', env: { ...process.env, [MINER_URI_ENV]: '', ...env }, timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const SUBTENSOR = ['--network', 'ws://127.0.0.1:9', '--netuid', '3'];

describe('npm run miner', () => {
  it('a miner\'s hotkey has no default: the message names the variable and the file flag', () => {
    expect(() => resolveHotkeyUri({}, {}, MINER_URI_ENV)).toThrow(HotkeyUriError);
    expect(() => resolveHotkeyUri({}, {}, MINER_URI_ENV)).toThrow(/set GAUNTLET_MINER_URI or pass --uri-file PATH/);
    expect(resolveHotkeyUri({}, { [MINER_URI_ENV]: '//Volunteer' }, MINER_URI_ENV)).toEqual({ uri: '//Volunteer', source: MINER_URI_ENV, warnings: [] });
  });

  it('refuses a subtensor network without a hotkey, two miners on one hotkey, and a bucket half given, before dialling', () => {
    const noKey = miner(SUBTENSOR);
    expect(noKey.status).toBe(2);
    expect(noKey.output).toContain('No hotkey given: set GAUNTLET_MINER_URI');
    const two = miner([...SUBTENSOR, '--count', '2'], { [MINER_URI_ENV]: '//Volunteer' });
    expect(two.status).toBe(2);
    expect(two.output).toContain('--count 2: a hotkey of your own mines as one miner (one hotkey, one bucket)');
    // No bucket flag at all means the subnet's gateway (found once connected); some of them must be all of them.
    const halfBucket = miner([...SUBTENSOR, '--bucket', 'my-bucket'], { [MINER_URI_ENV]: '//Volunteer' });
    expect(halfBucket.status).toBe(2);
    expect(halfBucket.output).toMatch(/miners: --s3-endpoint: /);
    expect(halfBucket.output).not.toMatch(/ECONNREFUSED|disconnected/);
  }, 120_000);
});
