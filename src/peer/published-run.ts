/**
 * The run document on a subtensor subnet (issue #17). The devnet serves its run at `/api/run`; a
 * subtensor subnet has no such server, so the operator's validator publishes it:
 *  - the run document (`encodeRunDocument`) as the object `run.json` in its own bucket, and
 *  - the run hash, 32 raw bytes, as the second field of its commitment (`commitments.setCommitment`
 *    holds up to three `Data` fields; the first stays Templar's bucket layout, so readers that know
 *    only that are unaffected).
 * A peer reads the hash from the chain, where only that hotkey can write it, and the document from
 * that hotkey's bucket through its committed read credentials, and accepts the document only when
 * its config hashes to the committed hash (`parseRunDocument`): a bucket that serves another
 * document, or a document edited in place, is refused with both hashes named.
 *
 * A subnet may also run a storage gateway (`npm run gateway`, issue #21): its URL is the third field
 * of the same commitment (`GATEWAY_URL_FIELD`), so the hotkeys that define the run also name where
 * volunteers without a bucket upload and where validators read them (`readPublishedGateway`).
 *
 * Whose commitment defines the run: the run validators (`Chain.runValidators`: on subtensor the
 * permit holders registered under the subnet owner's coldkey, so keys only the operator holds) that
 * committed a run hash, the one with the most stake (lowest uid on ties) first, as `leadValidator`
 * orders them. Anyone else may commit a second field too; it is never read.
 */
import { MAX_RUN_DOCUMENT_BYTES, parseRunDocument, RunDocumentError, RunHashMismatchError, encodeRunDocument, type RunDocument } from '../core/run-document.ts';
import { publishBucketCommitment, type BucketCommitmentResult } from '../net/bucket-commitment.ts';
import type { BucketReadCredentials } from '../net/subtensor-encoding.ts';
import type { Chain, Commitment, ObjectInfo, Storage } from '../net/types.ts';
import { NotFoundError } from '../net/errors.ts';
import { toHex } from '../core/wire/hashes.ts';
import { hexToU8a } from '@polkadot/util';

/** Where the operator's validator keeps the run document in its bucket. */
export const RUN_DOCUMENT_KEY = 'run.json';
/** The run hash's field in the commitment: the second (index 0 of `Commitment.moreFields`). */
const RUN_HASH_FIELD = 0;
const RUN_HASH_BYTES = 32;
/** The gateway's URL in the commitment: the third field (index 1 of `Commitment.moreFields`), UTF-8. */
const GATEWAY_URL_FIELD = 1;
/** A commitment field holds at most 128 bytes (`Data::RawN`). */
export const MAX_GATEWAY_URL_BYTES = 128;

/** A gateway URL that cannot be published or used: not http(s), too long, or with more than an origin and a path. */
export class GatewayUrlError extends RunDocumentError {
  override readonly code: string = 'gateway-url';
}

/**
 * Checks a gateway URL as published on chain or typed by an operator: `http:` or `https:`, no user
 * info, query or fragment, at most 128 bytes; returned without a trailing slash.
 */
export function checkGatewayUrl(text: string, source: string): string {
  const trimmed = text.trim().replace(/\/+$/, '');
  if (new TextEncoder().encode(trimmed).length > MAX_GATEWAY_URL_BYTES) throw new GatewayUrlError(`The gateway URL from ${source} is longer than the ${MAX_GATEWAY_URL_BYTES} bytes a commitment field holds.`);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new GatewayUrlError(`The gateway URL from ${source} ("${trimmed.slice(0, 40)}") is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new GatewayUrlError(`The gateway URL from ${source} must be http(s), not ${url.protocol}.`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') throw new GatewayUrlError(`The gateway URL from ${source} must be an origin and a path, without credentials, query or fragment.`);
  return trimmed;
}

/** What `publishRun` did: the document stored, and whether the commitment had to change. */
export interface PublishedRun {
  readonly document: RunDocument;
  readonly stored: ObjectInfo;
  readonly commitment: BucketCommitmentResult;
}

/**
 * The operator's side: `document` into `hotkey`'s bucket (through `storage`, which writes there),
 * then the bucket commitment with the run hash beside it. The document goes first, so that a peer
 * who finds the hash on chain also finds the document it names.
 */
export async function publishRun(chain: Chain, storage: Storage, hotkey: string, document: RunDocument, credentials: BucketReadCredentials, gatewayUrl?: string): Promise<PublishedRun> {
  const gateway = gatewayUrl === undefined ? [] : [new TextEncoder().encode(checkGatewayUrl(gatewayUrl, 'the operator'))];
  const stored = await storage.put(RUN_DOCUMENT_KEY, new TextEncoder().encode(encodeRunDocument(document)));
  const commitment = await publishBucketCommitment(chain, hotkey, document.config.netuid, credentials, [hexToU8a(`0x${document.runHash}`), ...gateway]);
  return { document, stored, commitment };
}

/**
 * The run `netuid` runs, as its lead validator publishes it, checked: the committed hash, then the
 * document in the lead's bucket against it (size, JSON, a config that validates and hashes to the
 * committed hash, on this netuid). `expectedHash` pins the run: another one is `RunHashMismatchError`
 * naming both hashes. No lead, no committed hash or no document is `RunDocumentError` saying which.
 */
export async function readPublishedRun(chain: Chain, storage: Storage, netuid: number, options: { readonly expectedHash?: string } = {}): Promise<{ readonly document: RunDocument; readonly lead: string }> {
  const best = await leadCommitment(chain, netuid);
  const lead = best.hotkey;
  const committed = toHex(best.field);
  if (options.expectedHash !== undefined && options.expectedHash !== committed) throw new RunHashMismatchError(options.expectedHash, committed, `Netuid ${netuid}'s lead validator ${lead} committed another run`);
  let data: Uint8Array;
  try {
    ({ data } = await storage.get(lead, RUN_DOCUMENT_KEY, { maxBytes: MAX_RUN_DOCUMENT_BYTES }));
  } catch (error) {
    if (error instanceof NotFoundError) throw new RunDocumentError(`The lead validator ${lead} committed run hash ${committed} but its bucket holds no ${RUN_DOCUMENT_KEY}.`);
    throw error;
  }
  const document = parseRunDocument(new TextDecoder('utf-8', { fatal: false }).decode(data), { source: `${lead}'s ${RUN_DOCUMENT_KEY}`, expectedHash: committed });
  if (document.config.netuid !== netuid) throw new RunDocumentError(`The run ${lead} publishes is for netuid ${document.config.netuid}, not ${netuid}.`);
  return { document, lead };
}

/** The run validator whose commitment defines the run (see the module's note), with its commitment; `RunDocumentError` when there is none. */
async function leadCommitment(chain: Chain, netuid: number): Promise<{ readonly hotkey: string; readonly field: Uint8Array; readonly commitment: Commitment }> {
  const metagraph = await chain.metagraph(netuid);
  const named = new Set(await chain.runValidators(netuid, metagraph));
  const commitments = await chain.commitments(netuid);
  let best: { readonly hotkey: string; readonly stake: number; readonly field: Uint8Array; readonly commitment: Commitment } | undefined;
  let unreadable: string | undefined;
  metagraph.hotkeys.forEach((hotkey, i) => {
    const commitment = commitments.get(hotkey);
    const field = commitment?.moreFields[RUN_HASH_FIELD];
    if (!named.has(hotkey) || metagraph.validatorPermit[i] !== true || commitment === undefined || field === undefined || field.length === 0) return;
    if (field.length !== RUN_HASH_BYTES) {
      unreadable = `${hotkey} committed ${field.length} bytes where a run hash has ${RUN_HASH_BYTES}`;
      return;
    }
    const stake = metagraph.stake[i] ?? 0;
    if (best === undefined || stake > best.stake) best = { hotkey, stake, field, commitment };
  });
  if (best === undefined) {
    throw new RunDocumentError(named.size === 0
      ? `No run validator of netuid ${netuid} holds a validator permit yet, so no one publishes this subnet's run: wait for the operator's validator (npm run validator -- --publish-run).`
      : `No run validator of netuid ${netuid} has committed a run hash${unreadable === undefined ? '' : ` (${unreadable})`}: the operator publishes the run with npm run validator -- --publish-run.`);
  }
  return best;
}

/**
 * The storage gateway netuid's lead validator names (the third field of its commitment), checked;
 * undefined when it names none. `RunDocumentError` when no run validator has published the run.
 */
export async function readPublishedGateway(chain: Chain, netuid: number): Promise<string | undefined> {
  const lead = await leadCommitment(chain, netuid);
  const field = lead.commitment.moreFields[GATEWAY_URL_FIELD];
  if (field === undefined || field.length === 0) return undefined;
  return checkGatewayUrl(new TextDecoder('utf-8', { fatal: false }).decode(field), `${lead.hotkey}'s commitment`);
}
