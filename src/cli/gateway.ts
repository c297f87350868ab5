/**
 * `npm run gateway` (issue #21): a subnet's storage gateway (src/gateway/server.ts) in front of one
 * S3-compatible bucket the operator owns, on a subtensor network (or a devnet, for trying it out):
 *
 *   GAUNTLET_S3_SECRET=… npm run gateway -- --network wss://… --netuid N --s3-endpoint URL --bucket B --access-key-id ID
 *       [--region R] [--public-s3-endpoint URL] [--host 0.0.0.0] [--port 8787] [--run-hash H] [limits…]
 *
 * It reads the run the subnet publishes (its window timing gates the reads of gradients), then
 * serves. The write secret comes from the environment, never a flag. The operator publishes the
 * gateway's public URL with the validator: `npm run validator -- --publish-run --gateway-url URL`.
 */
import { parseArgs } from 'node:util';
import { GauntletError, errorMessage } from '../core/errors.ts';
import type { WindowConfig } from '../core/config.ts';
import { MAX_RUN_DOCUMENT_BYTES } from '../core/run-document.ts';
import { DevnetChain } from '../net/devnet-client.ts';
import { HotkeyBucketStorage } from '../net/hotkey-buckets.ts';
import { fetchRunDocument } from '../net/run-document-client.ts';
import { SubtensorChain } from '../net/subtensor-chain.ts';
import type { Chain } from '../net/types.ts';
import { readPublishedRun } from '../peer/published-run.ts';
import { startGateway } from '../gateway/server.ts';
import { S3_SECRET_ENV } from './network-flags.ts';

export const GATEWAY_USAGE = `${S3_SECRET_ENV}=… npm run gateway -- --network ws(s)://… | http://devnet --netuid N
      --s3-endpoint URL --bucket B --access-key-id ID [--region R] [--public-s3-endpoint URL]
      [--host H] [--port P] [--run-hash H] [--max-object-mb N] [--quota-mb N] [--quota-objects N] [--writes-per-minute N] [--verbose]

  A subnet's storage gateway: volunteers without a bucket upload through it, each write signed by a
  hotkey registered on --netuid; validators and peers read through it.

  --network URL          the subnet's chain: a subtensor node (ws://, wss://) or a devnet (http://)
  --netuid N             the run's subnet
  --s3-endpoint URL      the operator's S3-compatible storage (path-style), e.g. https://<account>.r2.cloudflarestorage.com
  --bucket B             the bucket the gateway writes into (objects under <hotkey>/<key>); its write secret comes from ${S3_SECRET_ENV}
  --access-key-id ID     the bucket's write key id
  --region R             the bucket's region (default auto, as R2)
  --public-s3-endpoint U the S3 endpoint peers read the subnet's own buckets at (default --s3-endpoint)
  --host H, --port P     where to listen (default 127.0.0.1:8787; put TLS in front for a public URL)
  --run-hash H           refuse to serve unless the subnet publishes this run
  --max-object-mb N      largest object (default 64)
  --quota-mb N           bytes one hotkey may hold (default 1024)
  --quota-objects N      objects one hotkey may hold (default 1024)
  --writes-per-minute N  writes one hotkey may make a minute (default 240)
  --verbose              a line per stored object and per refused request`;

export class GatewayUsageError extends GauntletError {
  readonly code: string = 'gateway-usage';
  override readonly name = 'GatewayUsageError';
}

function positive(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0)) throw new GatewayUsageError(`${flag} must be a positive number, got '${text}'.`);
  return n;
}

/** The run's window timing as the subnet publishes it: on a devnet its run document, on subtensor the lead validator's. */
async function publishedWindow(chain: Chain, network: string, netuid: number, s3: { endpoint: string; region: string }, runHash: string | undefined): Promise<{ window: Pick<WindowConfig, 'blocksPerWindow' | 'putWindowMs'>; runHash: string }> {
  const pin = runHash === undefined ? {} : { expectedHash: runHash };
  if (network.startsWith('http')) {
    const document = await fetchRunDocument(network, pin);
    return { window: document.config.window, runHash: document.runHash };
  }
  // Reads only: the lead's bucket through its commitment, on the subnet's S3 endpoint.
  const storage = new HotkeyBucketStorage({ endpoint: s3.endpoint, region: s3.region, ownHotkey: '', commitments: () => chain.commitments(netuid), maxObjectBytes: MAX_RUN_DOCUMENT_BYTES });
  const { document } = await readPublishedRun(chain, storage, netuid, pin);
  return { window: document.config.window, runHash: document.runHash };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      network: { type: 'string' }, netuid: { type: 'string' }, 's3-endpoint': { type: 'string' }, bucket: { type: 'string' }, 'access-key-id': { type: 'string' },
      region: { type: 'string', default: 'auto' }, 'public-s3-endpoint': { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '8787' },
      'run-hash': { type: 'string' }, 'max-object-mb': { type: 'string' }, 'quota-mb': { type: 'string' }, 'quota-objects': { type: 'string' }, 'writes-per-minute': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(GATEWAY_USAGE);
    return;
  }
  const need = (name: 'network' | 'netuid' | 's3-endpoint' | 'bucket' | 'access-key-id'): string => {
    const value = values[name];
    if (value === undefined || value === '') throw new GatewayUsageError(`--${name} is required.\n\n${GATEWAY_USAGE}`);
    return value;
  };
  const network = need('network');
  const netuid = Number(need('netuid'));
  if (!(Number.isInteger(netuid) && netuid >= 0 && netuid <= 65_535)) throw new GatewayUsageError(`--netuid must be a subnet id from 0 to 65535, got '${values.netuid}'.`);
  const secret = process.env[S3_SECRET_ENV];
  if (secret === undefined || secret === '') throw new GatewayUsageError(`The bucket's write secret comes from ${S3_SECRET_ENV} (never a flag: the process list shows flags).`);
  const port = Number(values.port);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) throw new GatewayUsageError(`--port must be a port number, got '${values.port}'.`);
  const s3 = { endpoint: need('s3-endpoint'), region: values.region ?? 'auto', bucket: need('bucket'), credentials: { accessKeyId: need('access-key-id'), secretAccessKey: secret } };

  const chain: Chain = network.startsWith('http') ? new DevnetChain(network) : await SubtensorChain.connect(network);
  console.log(`gateway: reading the run netuid ${netuid} publishes…`);
  let published: Awaited<ReturnType<typeof publishedWindow>>;
  for (;;) {
    try {
      published = await publishedWindow(chain, network, netuid, { endpoint: values['public-s3-endpoint'] ?? s3.endpoint, region: s3.region }, values['run-hash']);
      break;
    } catch (error) {
      // The operator's validator may not have published the run yet: wait for it, saying so.
      console.warn(`gateway: the run is not readable yet (${errorMessage(error)}); trying again in 12 s`);
      await new Promise((resolve) => setTimeout(resolve, 12_000));
    }
  }
  const mib = 1024 * 1024;
  const gateway = await startGateway({
    chain, netuid, s3, window: published.window, host: values.host, port,
    ...(values['public-s3-endpoint'] === undefined ? {} : { publicS3Endpoint: values['public-s3-endpoint'] }),
    maxObjectBytes: Math.round(positive(values['max-object-mb'], '--max-object-mb', 64) * mib),
    quotaBytes: Math.round(positive(values['quota-mb'], '--quota-mb', 1024) * mib),
    quotaObjects: Math.round(positive(values['quota-objects'], '--quota-objects', 1024)),
    writesPerMinute: Math.round(positive(values['writes-per-minute'], '--writes-per-minute', 240)),
    ...(values.verbose === true ? { log: (line: string) => console.log(`gateway: ${line}`) } : {}),
  });
  console.log(`gateway for netuid ${netuid} (run ${published.runHash.slice(0, 16)}…) listening on ${gateway.url}: objects in bucket ${s3.bucket} at ${s3.endpoint} under <hotkey>/; gradients readable once their put window closes`);
  console.log(`publish it with: npm run validator -- … --publish-run --gateway-url <its public URL>`);
  const timer = setInterval(() => {
    const stats = gateway.stats();
    console.log(`gateway: ${stats.stored} objects stored (${stats.storedBytes} bytes); refused ${JSON.stringify(stats.refused)}; ${gateway.bytesInFlight()} bytes in flight`);
  }, 60_000);
  const stop = (): void => {
    clearInterval(timer);
    void gateway.close().then(() => chain.close()).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof GatewayUsageError ? error.message : `gateway: ${errorMessage(error)}`);
  process.exit(error instanceof GatewayUsageError ? 2 : 1);
});
