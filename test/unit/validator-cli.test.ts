/**
 * `npm run validator`'s hotkey secret (issue #14): a flag shows in the process list, so a real secret
 * comes from GAUNTLET_VALIDATOR_URI or a file (`--uri-file`), `--uri` is for development keys and
 * warns otherwise, and the devnet default stays `//Alice`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_PHRASE } from '@polkadot/keyring';
import { isDevelopmentUri } from '../../src/cli/hotkey-uri.ts';
import { DEFAULT_VALIDATOR_URI, resolveValidatorUri, ValidatorUsageError } from '../../src/cli/validator.ts';

const REAL = 'legal winner thank year wave sausage worth useful legal winner thank yellow';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'validator-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the validator hotkey secret URI', () => {
  it('knows development derivations from real secrets', () => {
    for (const dev of ['//Alice', '//Volunteer//validator', '//Alice/soft', `${DEV_PHRASE}//Bob`, DEV_PHRASE]) expect(isDevelopmentUri(dev), dev).toBe(true);
    for (const secret of [REAL, `${REAL}//Alice`, '//Alice///password', '0x' + 'ab'.repeat(32), '', '//', 'Alice']) expect(isDevelopmentUri(secret), secret).toBe(false);
  });

  it('defaults to //Alice, reads GAUNTLET_VALIDATOR_URI, and lets a flag win over the environment', () => {
    expect(resolveValidatorUri({}, {})).toEqual({ uri: DEFAULT_VALIDATOR_URI, source: 'default', warnings: [] });
    expect(resolveValidatorUri({}, { GAUNTLET_VALIDATOR_URI: ` ${REAL}\n` })).toEqual({ uri: REAL, source: 'GAUNTLET_VALIDATOR_URI', warnings: [] });
    expect(resolveValidatorUri({ uri: '//Bob' }, { GAUNTLET_VALIDATOR_URI: REAL })).toEqual({ uri: '//Bob', source: '--uri', warnings: [] });
  });

  it('warns when --uri holds a real secret, without printing it', () => {
    const { uri, warnings } = resolveValidatorUri({ uri: REAL }, {});
    expect(uri).toBe(REAL);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/process list.*GAUNTLET_VALIDATOR_URI.*--uri-file/);
    expect(warnings[0]).not.toContain('legal');
  });

  it('reads the first line of --uri-file, warns when others can read it, and refuses bad choices', () => {
    const file = join(dir, 'hotkey');
    writeFileSync(file, `${REAL}\r\nsecond line is ignored\n`);
    chmodSync(file, 0o600);
    expect(resolveValidatorUri({ uriFile: file }, { GAUNTLET_VALIDATOR_URI: '//Alice' })).toEqual({ uri: REAL, source: '--uri-file', warnings: [] });
    chmodSync(file, 0o644);
    if (process.platform !== 'win32') expect(resolveValidatorUri({ uriFile: file }, {}).warnings[0]).toMatch(/readable by other users \(mode 644\); chmod 600/);

    const empty = join(dir, 'empty');
    writeFileSync(empty, '\nsecret on the second line\n');
    expect(() => resolveValidatorUri({ uriFile: empty }, {})).toThrow(/first line is empty/);
    expect(() => resolveValidatorUri({ uriFile: join(dir, 'missing') }, {})).toThrow(ValidatorUsageError);
    expect(() => resolveValidatorUri({ uri: '//Alice', uriFile: file }, {})).toThrow(/not both/);
  });
});
