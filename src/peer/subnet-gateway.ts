/**
 * Finding a subnet's storage gateway (issue #21), for every peer that has no bucket of its own (the
 * page's volunteer, `npm run miner` without bucket flags): the URL its lead validator publishes on
 * chain (`readPublishedGateway`), then the gateway's own info, which must be for this netuid.
 */
import { GauntletError } from '../core/errors.ts';
import { RunDocumentError } from '../core/run-document.ts';
import { fetchGatewayInfo, type GatewayInfo } from '../net/gateway-client.ts';
import type { GatewayStorageSettings } from '../net/hotkey-buckets.ts';
import type { Chain } from '../net/types.ts';
import { GatewayUrlError, readPublishedGateway } from './published-run.ts';

/** The subnet publishes no storage gateway, so a peer without a bucket cannot upload there. */
export class NoSubnetGatewayError extends GauntletError {
  readonly code: string = 'no-subnet-gateway';
  override readonly name = 'NoSubnetGatewayError';
  constructor(readonly netuid: number, reason?: string, cause?: unknown) {
    super(`netuid ${netuid} publishes no storage gateway${reason === undefined ? '' : ` (${reason})`}: bring a bucket of your own.`, {
      cause, action: "Give the storage endpoint, bucket and write key of an S3-compatible bucket of your own, or ask the subnet's operator for a gateway.",
    });
  }
}

/**
 * The gateway netuid's lead validator publishes, checked against the gateway's own info (which must
 * be for `netuid`); `NoSubnetGatewayError` when the subnet publishes none.
 */
export async function findSubnetGateway(chain: Chain, netuid: number): Promise<{ readonly storage: GatewayStorageSettings; readonly info: GatewayInfo }> {
  let url: string | undefined;
  try {
    url = await readPublishedGateway(chain, netuid);
  } catch (error) {
    // No run validator published the run, so none names a gateway either; a bad URL is said as it is.
    if (error instanceof RunDocumentError && !(error instanceof GatewayUrlError)) throw new NoSubnetGatewayError(netuid, error.message.replace(/\.$/, ''), error);
    throw error;
  }
  if (url === undefined) throw new NoSubnetGatewayError(netuid);
  const info = await fetchGatewayInfo(url, netuid);
  return { storage: { kind: 'gateway', url, s3Endpoint: info.s3Endpoint, region: info.region }, info };
}
