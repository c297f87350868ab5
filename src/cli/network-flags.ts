/**
 * The flags that name a subtensor network and the peer's S3 bucket, shared by `npm run validator`
 * and `npm run evaluate`, checked by the same rules as the page's network form
 * (src/net/network-settings.ts). Secrets never come from flags (the process list shows them): the
 * bucket's write secret and its read-only token's secret come from the environment.
 *
 * These commands write to their own bucket: the subnet's storage gateway (issue #21), which the page
 * uses when its storage fields are left empty, is not offered here, so missing bucket flags stay an
 * error naming the first one.
 */
import { NetworkSettingsError, parseSubtensorSettings, type NetworkForm, type S3Settings, type SubtensorNetworkSettings } from '../net/network-settings.ts';
import { GauntletError } from '../core/errors.ts';

export const S3_SECRET_ENV = 'GAUNTLET_S3_SECRET';
export const S3_READ_SECRET_ENV = 'GAUNTLET_S3_READ_SECRET';

/** `parseArgs` options of the subtensor network flags. */
export const SUBTENSOR_NETWORK_OPTIONS = {
  network: { type: 'string' },
  netuid: { type: 'string' },
  's3-endpoint': { type: 'string' },
  bucket: { type: 'string' },
  region: { type: 'string' },
  'access-key-id': { type: 'string' },
  'read-key-id': { type: 'string' },
} as const;

/** The form field of `parseSubtensorSettings` → the flag (or variable) that fills it. */
const FLAG_OF_FIELD: Readonly<Record<keyof NetworkForm, string>> = {
  endpoint: '--network', netuid: '--netuid', storageEndpoint: '--s3-endpoint', bucket: '--bucket', region: '--region', accessKeyId: '--access-key-id',
  secretAccessKey: S3_SECRET_ENV, readKeyId: '--read-key-id', readSecret: S3_READ_SECRET_ENV,
};

/** A subtensor network with this process's own bucket (never the gateway). */
export type SubtensorSettings = SubtensorNetworkSettings<S3Settings>;

/** A network flag the command cannot use; the message names the flag and what to give instead. */
export class NetworkFlagError extends GauntletError {
  readonly code: string = 'network-flag';
  override readonly name = 'NetworkFlagError';
}

/** The subtensor network of the flags (`netuid` as given, or the one the caller decided). */
export function subtensorSettingsFromFlags(values: Readonly<Record<string, string | boolean | undefined>>, env: NodeJS.ProcessEnv, netuid?: number): SubtensorSettings {
  const text = (name: string): string => (typeof values[name] === 'string' ? values[name] : '');
  try {
    return parseSubtensorSettings({
      endpoint: text('network'), netuid: netuid === undefined ? text('netuid') : String(netuid), storageEndpoint: text('s3-endpoint'), bucket: text('bucket'), region: text('region'),
      accessKeyId: text('access-key-id'), secretAccessKey: env[S3_SECRET_ENV] ?? '',
      readKeyId: text('read-key-id'), readSecret: env[S3_READ_SECRET_ENV] ?? '',
    }, { bucketRequired: true });
  } catch (error) {
    if (!(error instanceof NetworkSettingsError)) throw error;
    const noBucket = error.field === 'storageEndpoint' && text('s3-endpoint').trim() === ''
      ? ` (This command writes to its own S3 bucket: give --s3-endpoint, --bucket, --access-key-id and ${S3_SECRET_ENV}; the subnet's storage gateway serves the page's volunteers.)`
      : '';
    throw new NetworkFlagError(`${FLAG_OF_FIELD[error.field]}: ${error.message}${noBucket}`);
  }
}

/** The bucket flags: with none of them, a command that may use the subnet's gateway does. */
const BUCKET_FLAGS = ['s3-endpoint', 'bucket', 'access-key-id', 'read-key-id'] as const;

/**
 * The subtensor network of a command that may write through the subnet's gateway (`npm run miner`):
 * with no bucket flag at all, its storage is the gateway (found on chain once connected,
 * `findSubnetGateway`); with any, the flags must name a whole bucket as `subtensorSettingsFromFlags` says.
 */
export function subtensorSettingsOrGatewayFromFlags(values: Readonly<Record<string, string | boolean | undefined>>, env: NodeJS.ProcessEnv): SubtensorNetworkSettings {
  if (BUCKET_FLAGS.some((flag) => typeof values[flag] === 'string' && values[flag] !== '')) return subtensorSettingsFromFlags(values, env);
  const text = (name: string): string => (typeof values[name] === 'string' ? values[name] : '');
  try {
    return parseSubtensorSettings({
      endpoint: text('network'), netuid: text('netuid'), storageEndpoint: '', bucket: '', region: '', accessKeyId: '', secretAccessKey: '', readKeyId: '', readSecret: '',
    });
  } catch (error) {
    if (!(error instanceof NetworkSettingsError)) throw error;
    throw new NetworkFlagError(`${FLAG_OF_FIELD[error.field]}: ${error.message}`);
  }
}
