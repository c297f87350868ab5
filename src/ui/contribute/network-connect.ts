/**
 * Dialling a subtensor network from the page (Contribute and Validate): connect to the endpoint and
 * read the subnet's metagraph at once, so a wrong endpoint, a runtime that is not subtensor, or a
 * wrong netuid shows before anything starts. With no bucket of the volunteer's own (the storage
 * fields left empty), the subnet's storage gateway is found now too (issue #21): the URL its lead
 * validator publishes on chain, and the gateway's own info, which must be for this netuid. The
 * subtensor client is loaded only when needed.
 */
import type { AuthorityFor, SubtensorChain } from '../../net/subtensor-chain.ts';
import type { Chain, Metagraph } from '../../net/types.ts';
import type { GatewayStorageSettings, OwnBucketSettings } from '../../net/hotkey-buckets.ts';
import { describeStorage, type SubtensorNetworkSettings } from '../../net/network-settings.ts';
export { NoSubnetGatewayError } from '../../peer/subnet-gateway.ts';
import { formatBytes } from '../dom.ts';

export interface OpenedSubtensor {
  /** The client itself (not only `Chain`): the page registers through it (`registrationCost`, `freeBalance`, `burnedRegister`). */
  readonly chain: SubtensorChain;
  readonly metagraph: Metagraph;
  /** Where the peer's uploads go: its own bucket as the form gave it, or the subnet's gateway as found on chain. */
  readonly storage: OwnBucketSettings | GatewayStorageSettings;
  /** What the page says about the network (never the secret). */
  readonly detail: string;
}

/** The subnet's gateway and its per-hotkey limits in words, for the page (`findSubnetGateway`). */
async function subnetGateway(chain: Chain, netuid: number): Promise<{ readonly storage: GatewayStorageSettings; readonly limits: string }> {
  const { findSubnetGateway } = await import('../../peer/subnet-gateway.ts');
  const { storage, info } = await findSubnetGateway(chain, netuid);
  return { storage, limits: `up to ${info.quotaObjects} objects and ${formatBytes(info.quotaBytes)} per hotkey, ${info.writesPerMinute} writes a minute` };
}

/**
 * Connects, reads the metagraph and, for gateway storage, finds the gateway; on failure the
 * connection is closed and the error rethrown. `authorityFor` signs the page's own extrinsics (the
 * bucket commitment, a registration) through the wallet.
 */
export async function openSubtensor(settings: SubtensorNetworkSettings, authorityFor?: AuthorityFor): Promise<OpenedSubtensor> {
  const { SubtensorChain } = await import('../../net/subtensor-chain.ts');
  const chain = await SubtensorChain.connect(settings.endpoint, authorityFor);
  try {
    const metagraph = await chain.metagraph(settings.netuid);
    const network = `${settings.endpoint}, netuid ${settings.netuid} (${metagraph.uids.length} uids at block ${metagraph.block})`;
    if (settings.storage.kind !== 'gateway') {
      const { storage } = settings;
      return { chain, metagraph, storage, detail: `${network}; ${describeStorage({ kind: 'bucket', endpoint: storage.endpoint, bucket: storage.bucket, readKeyId: null })}` };
    }
    const gateway = await subnetGateway(chain, settings.netuid);
    const detail = `${network}; ${describeStorage({ kind: 'gateway', url: gateway.storage.url })} (uploads signed by your hotkey; ${gateway.limits})`;
    return { chain, metagraph, storage: gateway.storage, detail };
  } catch (error) {
    await chain.close().catch(() => undefined);
    throw error;
  }
}
