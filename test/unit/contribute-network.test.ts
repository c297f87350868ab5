import { describe, expect, it } from 'vitest';
import { NetworkSettingsError, parseSubtensorSettings, summarizeNetwork, type NetworkForm } from '../../src/net/network-settings.ts';

/** The Contribute page's real-network form (src/ui/contribute/network.ts): every bad field is named, the secret never leaves the settings. */
const good: NetworkForm = {
  endpoint: ' wss://entrypoint-finney.opentensor.ai:443 ',
  netuid: '3',
  storageEndpoint: 'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com/',
  bucket: '0123456789abcdef0123456789abcdef',
  region: '',
  accessKeyId: 'AKID',
  secretAccessKey: 'very-secret',
  readKeyId: '',
  readSecret: '',
};

function problemField(form: Partial<NetworkForm>): string {
  try {
    parseSubtensorSettings({ ...good, ...form });
  } catch (error) {
    expect(error).toBeInstanceOf(NetworkSettingsError);
    return (error as NetworkSettingsError).field;
  }
  throw new Error('the form was accepted');
}

describe('Contribute network settings', () => {
  it('accepts a complete form, trims it, defaults the region to R2 auto, and summarises it without the secret', () => {
    const settings = parseSubtensorSettings(good);
    expect(settings).toEqual({
      kind: 'subtensor',
      endpoint: 'wss://entrypoint-finney.opentensor.ai:443',
      netuid: 3,
      storage: { endpoint: 'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com', bucket: good.bucket, region: 'auto', accessKeyId: 'AKID', secretAccessKey: 'very-secret' },
    });
    expect(JSON.stringify(summarizeNetwork(settings))).not.toContain('very-secret');
    expect(parseSubtensorSettings({ ...good, endpoint: 'ws://127.0.0.1:9944', region: 'us-east-1' })).toMatchObject({ endpoint: 'ws://127.0.0.1:9944', storage: { region: 'us-east-1' } });
  });

  it('names the field of every problem, with what to enter', () => {
    expect(problemField({ endpoint: '' })).toBe('endpoint');
    expect(problemField({ endpoint: 'https://entrypoint-finney.opentensor.ai' })).toBe('endpoint');
    expect(() => parseSubtensorSettings({ ...good, endpoint: 'http://x' })).toThrow(/use ws:\/\/ or wss:\/\//);
    for (const netuid of ['', '-1', '65536', '2.5', 'three']) expect(problemField({ netuid })).toBe('netuid');
    expect(problemField({ storageEndpoint: 'ftp://bucket' })).toBe('storageEndpoint');
    for (const bucket of ['', 'ab', 'Upper', 'a_b_c', 'x'.repeat(64)]) expect(problemField({ bucket })).toBe('bucket');
    expect(problemField({ accessKeyId: ' ' })).toBe('accessKeyId');
    expect(problemField({ secretAccessKey: '' })).toBe('secretAccessKey');
    // The read-only token for the bucket commitment: both or neither, Templar's lengths, never the write key.
    expect(problemField({ readKeyId: 'r'.repeat(32) })).toBe('readSecret');
    expect(problemField({ readSecret: 's'.repeat(64) })).toBe('readKeyId');
    expect(problemField({ readKeyId: 'r'.repeat(31), readSecret: 's'.repeat(64) })).toBe('readKeyId');
    expect(problemField({ readKeyId: 'r'.repeat(32), readSecret: 's'.repeat(63) })).toBe('readSecret');
    expect(problemField({ accessKeyId: 'w'.repeat(32), readKeyId: 'w'.repeat(32), readSecret: 's'.repeat(64) })).toBe('readKeyId');
  });

  it('keeps a read-only token for the bucket commitment, and summarises its public key id only', () => {
    const settings = parseSubtensorSettings({ ...good, readKeyId: ` ${'r'.repeat(32)} `, readSecret: 's'.repeat(64) });
    expect(settings.kind === 'subtensor' && settings.storage.read).toEqual({ keyId: 'r'.repeat(32), secret: 's'.repeat(64) });
    expect(summarizeNetwork(settings)).toMatchObject({ readKeyId: 'r'.repeat(32) });
    expect(summarizeNetwork(parseSubtensorSettings(good))).toMatchObject({ readKeyId: null });
  });
});
