/**
 * Dialling a subtensor network from the page (Contribute and Validate): connect to the endpoint and
 * read the subnet's metagraph at once, so a wrong endpoint, a runtime that is not subtensor, or a
 * wrong netuid shows before anything starts. The subtensor client is loaded only when needed.
 */
import type { AuthorityFor, SubtensorChain } from '../../net/subtensor-chain.ts';
import type { Metagraph } from '../../net/types.ts';
import type { NetworkSettings } from '../../net/network-settings.ts';

export interface OpenedSubtensor {
  /** The client itself (not only `Chain`): the page registers through it (`registrationCost`, `freeBalance`, `burnedRegister`). */
  readonly chain: SubtensorChain;
  readonly metagraph: Metagraph;
  /** What the page says about the network (never the secret). */
  readonly detail: string;
}

/**
 * Connects and reads the metagraph; on failure the connection is closed and the error rethrown.
 * `authorityFor` signs the page's own extrinsics (the bucket commitment, a registration) through the wallet.
 */
export async function openSubtensor(settings: Extract<NetworkSettings, { kind: 'subtensor' }>, authorityFor?: AuthorityFor): Promise<OpenedSubtensor> {
  const { SubtensorChain } = await import('../../net/subtensor-chain.ts');
  const chain = await SubtensorChain.connect(settings.endpoint, authorityFor);
  try {
    const metagraph = await chain.metagraph(settings.netuid);
    const detail = `${settings.endpoint}, netuid ${settings.netuid} (${metagraph.uids.length} uids at block ${metagraph.block}); storage in bucket ${settings.storage.bucket} at ${settings.storage.endpoint}`;
    return { chain, metagraph, detail };
  } catch (error) {
    await chain.close().catch(() => undefined);
    throw error;
  }
}
