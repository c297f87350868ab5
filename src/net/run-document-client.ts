/**
 * Fetches the run document a devnet publishes (`GET /api/run`, src/devnet/routes.ts) and checks it
 * (`parseRunDocument`: size, JSON, version, a config that validates, the stated hash against the
 * config's, and the pinned hash if the caller has one). Browser-safe: plain `fetch`.
 */
import { MAX_RUN_DOCUMENT_BYTES, parseRunDocument, RunDocumentError, type RunDocument } from '../core/run-document.ts';
import { UnavailableError } from './errors.ts';

/** Where a devnet publishes its run document, relative to its base URL. */
export const RUN_DOCUMENT_PATH = '/api/run';
/** The id of the element in which a devnet also hands the run document to the page it serves. */
export const RUN_DOCUMENT_ELEMENT_ID = 'run-document';

/** Reads at most `limit` bytes of `response`'s body; more is refused without reading further. */
async function boundedText(response: Response, limit: number, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw new RunDocumentError(`${what} declares ${declared} bytes, more than the ${limit} a run document may have.`);
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new RunDocumentError(`${what} is larger than the ${limit} bytes a run document may have.`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

/**
 * The run document of the devnet at `baseUrl`, checked. `expectedHash` pins the run (a mismatch is
 * `RunHashMismatchError` naming both hashes); an unreachable devnet is `UnavailableError`, one that
 * publishes no document `RunDocumentError`.
 */
export async function fetchRunDocument(baseUrl: string, options: { readonly expectedHash?: string } = {}): Promise<RunDocument> {
  const url = baseUrl.replace(/\/+$/, '') + RUN_DOCUMENT_PATH;
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json' } });
  } catch (error) {
    throw new UnavailableError(`The run document at ${url} cannot be fetched (${String(error)}); is the network running (npm start)?`);
  }
  if (response.status === 404) {
    await response.body?.cancel();
    throw new RunDocumentError(`${url} publishes no run document (HTTP 404): this server is not a network's devnet, or it was started without a run (--preset or --run-config).`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UnavailableError(`The run document at ${url} could not be read (HTTP ${response.status}).`);
  }
  const text = await boundedText(response, MAX_RUN_DOCUMENT_BYTES, `The run document at ${url}`);
  return parseRunDocument(text, { source: url, ...(options.expectedHash === undefined ? {} : { expectedHash: options.expectedHash }) });
}
