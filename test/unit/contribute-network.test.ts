import { describe, expect, it } from 'vitest';
import { describeStorage, NetworkSettingsError, parseSubtensorSettings, STORAGE_FIELDS, summarizeNetwork, type NetworkForm } from '../../src/net/network-settings.ts';
import { NetworkFlagError, subtensorSettingsFromFlags } from '../../src/cli/network-flags.ts';

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

/** A volunteer with only a wallet: endpoint and netuid, every storage field empty (the region keeps its default). */
const walletOnly: NetworkForm = { ...good, storageEndpoint: '', bucket: '', region: 'auto', accessKeyId: '', secretAccessKey: '', readKeyId: '', readSecret: '' };

function problem(form: Partial<NetworkForm>, base: NetworkForm = good): NetworkSettingsError {
  try {
    parseSubtensorSettings({ ...base, ...form });
  } catch (error) {
    expect(error).toBeInstanceOf(NetworkSettingsError);
    return error as NetworkSettingsError;
  }
  throw new Error('the form was accepted');
}

function problemField(form: Partial<NetworkForm>): string {
  return problem(form).field;
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
    expect(settings.storage.kind !== 'gateway' && settings.storage.read).toEqual({ keyId: 'r'.repeat(32), secret: 's'.repeat(64) });
    expect(summarizeNetwork(settings)).toMatchObject({ storage: { kind: 'bucket', readKeyId: 'r'.repeat(32) } });
    expect(summarizeNetwork(parseSubtensorSettings(good))).toEqual({
      kind: 'subtensor', endpoint: 'wss://entrypoint-finney.opentensor.ai:443', netuid: 3,
      storage: { kind: 'bucket', endpoint: 'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com', bucket: good.bucket, readKeyId: null },
    });
  });
});

describe("Storage through the subnet's gateway (issue #21)", () => {
  it('every storage field empty (blank counts as empty, the region does not count) is the subnet\'s gateway, found on Connect', () => {
    const settings = parseSubtensorSettings({ ...walletOnly, storageEndpoint: '  ', readSecret: ' ', region: 'eu' });
    expect(settings).toEqual({ kind: 'subtensor', endpoint: 'wss://entrypoint-finney.opentensor.ai:443', netuid: 3, storage: { kind: 'gateway' } });
    // Endpoint and netuid are still required and checked first.
    expect(problem({ endpoint: '' }, walletOnly).field).toBe('endpoint');
    expect(problem({ netuid: 'x' }, walletOnly).field).toBe('netuid');
  });

  it('summarises which storage: the gateway before and after Connect found its URL, or the bucket', () => {
    const settings = parseSubtensorSettings(walletOnly);
    expect(summarizeNetwork(settings)).toEqual({ kind: 'subtensor', endpoint: 'wss://entrypoint-finney.opentensor.ai:443', netuid: 3, storage: { kind: 'gateway', url: null } });
    const found = summarizeNetwork(settings, 'https://gateway.example.org');
    expect(found).toMatchObject({ storage: { kind: 'gateway', url: 'https://gateway.example.org' } });
    expect(found.kind === 'subtensor' && describeStorage(found.storage)).toBe("storage through the subnet's gateway at https://gateway.example.org");
    const bucket = summarizeNetwork(parseSubtensorSettings(good), 'https://gateway.example.org');
    expect(bucket.kind === 'subtensor' && describeStorage(bucket.storage)).toBe(`storage in bucket ${good.bucket} at https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com`);
  });

  it('any storage field filled means a bucket of your own: each missing bucket field is named, with the gateway offered instead', () => {
    for (const name of STORAGE_FIELDS) {
      const filled = name === 'storageEndpoint' ? 'https://s3.example.org' : name === 'bucket' ? 'my-bucket' : name === 'readKeyId' ? 'r'.repeat(32) : name === 'readSecret' ? 's'.repeat(64) : 'x';
      const error = problem({ [name]: filled }, walletOnly);
      // The first missing bucket field in form order; a lone read token misses the storage endpoint first.
      expect(error.field).toBe(name === 'storageEndpoint' ? 'bucket' : 'storageEndpoint');
      expect(error.message).toContain("Or leave every storage field empty to upload through the subnet's gateway.");
    }
    expect(problem({ storageEndpoint: 'https://s3.example.org', bucket: 'my-bucket' }, walletOnly)).toMatchObject({ field: 'accessKeyId', message: expect.stringContaining("Enter the bucket's access key id") as unknown });
    expect(problem({ storageEndpoint: 'https://s3.example.org', bucket: 'my-bucket', accessKeyId: 'AKID' }, walletOnly)).toMatchObject({ field: 'secretAccessKey', message: expect.stringContaining('leave every storage field empty') as unknown });
    // A filled but bad value says what is wrong with it, as before.
    expect(problem({ storageEndpoint: 'https://s3.example.org', bucket: 'Bad_Name' }, walletOnly).message).toContain('is not an S3 bucket name');
    // The secret rules stay: a read token never the write key.
    expect(problem({ accessKeyId: 'w'.repeat(32), readKeyId: 'w'.repeat(32), readSecret: 's'.repeat(64) }).field).toBe('readKeyId');
  });

  it('a command that needs its own bucket (bucketRequired) is never given the gateway: the missing flag is named', () => {
    let refused: unknown;
    try {
      parseSubtensorSettings(walletOnly, { bucketRequired: true });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(NetworkSettingsError);
    expect((refused as NetworkSettingsError).field).toBe('storageEndpoint');
    expect((refused as NetworkSettingsError).message).not.toContain('gateway');
    const flags = { network: 'ws://127.0.0.1:9944', netuid: '3' };
    expect(() => subtensorSettingsFromFlags(flags, {})).toThrow(NetworkFlagError);
    expect(() => subtensorSettingsFromFlags(flags, {})).toThrow(/^--s3-endpoint: .*This command writes to its own S3 bucket/);
    expect(() => subtensorSettingsFromFlags({ ...flags, 's3-endpoint': 'http://127.0.0.1:9' }, {})).toThrow(/^--bucket: /);
    const settings = subtensorSettingsFromFlags({ ...flags, 's3-endpoint': 'http://127.0.0.1:9', bucket: 'my-bucket', 'access-key-id': 'AKID' }, { GAUNTLET_S3_SECRET: 'secret' });
    // Typed as a bucket: the CLIs read settings.storage.bucket without narrowing.
    expect(settings.storage.bucket).toBe('my-bucket');
  });
});
