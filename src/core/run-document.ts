/**
 * The run document (issue #17): the network defines the run. The subnet owner's side publishes the
 * run config as a document every peer and validator fetches, and each checks it before it trains or
 * scores anything: the document's config must validate (`validateRunConfig`), its stated hash must be
 * the sha256 of that config's canonical JSON (`runConfigHash`), and when the peer pins a hash (a
 * `--run-hash` flag, a hash the chain or the operator gave it), it must be that one. A peer with
 * another config would only produce rejected, or worse silently incompatible, work.
 *
 * Wire form (canonical JSON, at most `MAX_RUN_DOCUMENT_BYTES`):
 *   {"config":{…},"runHash":"<64 hex>","version":1}
 * Pure: no I/O; the devnet serves it (`GET /api/run`), the clients fetch it (`src/net/run-document-client.ts`).
 */
import type { RunConfig } from './config.ts';
import { GauntletError } from './errors.ts';
import { canonicalJson, runConfigHash, validateRunConfig } from './run-config.ts';

export const RUN_DOCUMENT_VERSION = 1;
/** A run config's canonical JSON is about 2 KiB; anything far larger is not a run document. */
export const MAX_RUN_DOCUMENT_BYTES = 64 * 1024;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

export interface RunDocument {
  readonly version: typeof RUN_DOCUMENT_VERSION;
  /** sha256 (hex) of `config`'s canonical JSON: the run's identity. */
  readonly runHash: string;
  readonly config: RunConfig;
}

/** A run document that is not one: not JSON, too large, another version, or a config that does not validate (`cause`). */
export class RunDocumentError extends GauntletError {
  readonly code: string = 'run-document';
  override readonly name = 'RunDocumentError';
}

/**
 * The run's hash is not the one expected: the document's config hashes to something else than it
 * states, or the document is for another run than the one this peer was told to join.
 */
export class RunHashMismatchError extends GauntletError {
  readonly code: string = 'run-hash-mismatch';
  override readonly name = 'RunHashMismatchError';
  constructor(
    /** The hash this peer expected (the pinned one, or the one the document states). */
    readonly expected: string,
    /** The hash it got (the document's, or that of the document's config). */
    readonly actual: string,
    what: string,
  ) {
    super(`${what}: expected run hash ${expected}, got ${actual}. This peer refuses to train or score for a run it was not told to join.`, {
      action: 'Check which run the network publishes (its run document) and join that one, or pin the right hash.',
    });
  }
}

/** The document for `config` (checked first: only a valid config is published). */
export function createRunDocument(config: RunConfig): RunDocument {
  const checked = validateRunConfig(config);
  return { version: RUN_DOCUMENT_VERSION, runHash: runConfigHash(checked), config: checked };
}

/** The document's wire form: canonical JSON, so the same document is always the same bytes. */
export function encodeRunDocument(document: RunDocument): string {
  return canonicalJson(document);
}

/**
 * Reads an untrusted run document. `expectedHash` pins the run: a document for any other run is
 * refused with `RunHashMismatchError` naming both hashes. `source` names where it came from, for the
 * messages.
 */
export function parseRunDocument(text: string, options: { readonly expectedHash?: string; readonly source: string }): RunDocument {
  const { source } = options;
  if (text.length > MAX_RUN_DOCUMENT_BYTES) throw new RunDocumentError(`The run document from ${source} has ${text.length} characters, more than the ${MAX_RUN_DOCUMENT_BYTES} a run document may have.`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new RunDocumentError(`The run document from ${source} is not JSON (${text.slice(0, 40).replace(/\s+/g, ' ')}…).`, { cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RunDocumentError(`The run document from ${source} is not an object.`);
  const { version, runHash, config } = raw as Record<string, unknown>;
  const extra = Object.keys(raw).filter((k) => k !== 'version' && k !== 'runHash' && k !== 'config');
  if (version !== RUN_DOCUMENT_VERSION) throw new RunDocumentError(`The run document from ${source} has version ${JSON.stringify(version)}; this peer reads version ${RUN_DOCUMENT_VERSION}.`);
  if (extra.length > 0) throw new RunDocumentError(`The run document from ${source} has unknown fields: ${extra.join(', ')}.`);
  if (typeof runHash !== 'string' || !HASH_PATTERN.test(runHash)) throw new RunDocumentError(`The run document from ${source} states no run hash (64 lower-case hex digits).`);
  let checked: RunConfig;
  try {
    checked = validateRunConfig(config);
  } catch (error) {
    throw new RunDocumentError(`The run document from ${source} holds a run config that does not validate.`, { cause: error });
  }
  const computed = runConfigHash(checked);
  if (computed !== runHash) throw new RunHashMismatchError(runHash, computed, `The run document from ${source} states one hash but its config hashes to another`);
  if (options.expectedHash !== undefined && options.expectedHash !== runHash) throw new RunHashMismatchError(options.expectedHash, runHash, `The run document from ${source} is for another run`);
  return { version: RUN_DOCUMENT_VERSION, runHash, config: checked };
}

/** Refuses a run config that is not the run `document` defines (a locally given config against the network's). */
export function requireSameRun(document: RunDocument, config: RunConfig, what: string): void {
  const hash = runConfigHash(config);
  if (hash !== document.runHash) throw new RunHashMismatchError(document.runHash, hash, what);
}
