/**
 * HTTP plumbing of the devnet coordinator: answers with the cross-origin isolation headers, the
 * mapping from `NetError` codes to statuses, and refusals that never read the request body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, NetError, OversizedError, type NetErrorCode } from '../net/errors.ts';
import { HEADER_HOTKEY, HEADER_LAST_MODIFIED_MS, HEADER_NONCE, HEADER_SHA256, HEADER_SIGNATURE } from '../net/devnet-protocol.ts';

export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

/**
 * The CORS headers of an API whose reads are public and whose writes are signed (the devnet's, the
 * subnet gateway's): open to every origin, with the signature headers allowed and the server's
 * timestamp and body hash exposed. CORS-mode requests are not subject to CORP.
 */
export function apiCorsHeaders(methods: string): Readonly<Record<string, string>> {
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': methods,
    'Access-Control-Allow-Headers': `content-type, ${HEADER_HOTKEY}, ${HEADER_NONCE}, ${HEADER_SIGNATURE}, ${HEADER_SHA256}`,
    'Access-Control-Expose-Headers': `content-length, last-modified, ${HEADER_LAST_MODIFIED_MS}, ${HEADER_SHA256}`,
    'Access-Control-Max-Age': '600',
  };
}

/** Statuses of the error codes; the client rebuilds the typed error from the JSON body's `code`. */
const STATUS: Record<NetErrorCode, number> = {
  'bad-request': 400, 'bad-signature': 401, unauthorized: 403, 'not-registered': 403, 'not-found': 404,
  replayed: 409, oversized: 413, 'rate-limited': 429,
  // A read before the put window closed: RFC 8470's "Too Early" (retry later), code too-early.
  'too-early': 425, 'too-late': 410, unavailable: 503, wallet: 400, chain: 400,
};

/** A refusal with its own status and headers (411, 503 with Retry-After, …), still carrying a `NetError` code. */
export class HttpRefusal extends NetError {
  constructor(code: NetErrorCode, message: string, readonly status: number, readonly headers: Readonly<Record<string, string>> = {}) {
    super(code, message);
  }
}

/** The in-flight cap is full, or a bucket has too many uploads open: retry in a second (503, Retry-After). */
export function busy(message: string): HttpRefusal {
  return new HttpRefusal('unavailable', message, 503, { 'Retry-After': '1' });
}

export function send(res: ServerResponse, status: number, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...CROSS_ORIGIN_ISOLATION, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json' });
}

/**
 * Answers `error` as `{code, message}`. When the request body has not been read, the connection
 * is closed shortly after the answer and whatever the client still sends meanwhile is discarded
 * (never buffered), so a refused 60 MiB upload costs a socket for a moment, not 60 MiB.
 */
export function sendError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  const netError = error instanceof NetError ? error
    : error instanceof SyntaxError ? new BadRequestError(`Malformed JSON body: ${error.message}`)
    : error instanceof URIError ? new BadRequestError('The request path holds a malformed %-escape.')
    : undefined;
  // Anything else is a bug of ours: log it, tell the client no more than that.
  if (netError === undefined) console.error('devnet: internal error', error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = netError === undefined ? 500 : error instanceof HttpRefusal ? error.status : STATUS[netError.code];
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...(error instanceof HttpRefusal ? error.headers : {}) };
  const unread = !req.complete;
  if (unread) headers.Connection = 'close';
  send(res, status, JSON.stringify({ code: netError?.code ?? 'unavailable', message: netError?.message ?? 'Internal error in the devnet coordinator.' }), headers);
  if (unread) discardBody(req, res);
}

/** How long after a refusal of an unread body its socket is cut. */
const DISCARD_GRACE_MS = 250;

/**
 * Gets rid of a refused request's unread body. The socket is cut shortly after the answer has
 * gone out, not at once: a reset while the client is still sending would often lose the answer it
 * is about to read. Until then Node discards what arrives chunk by chunk (never buffered); after
 * it, nothing more is read at all, so a client that keeps pushing 60 MiB costs no further CPU.
 */
function discardBody(req: IncomingMessage, res: ServerResponse): void {
  req.on('error', () => {});
  res.once('finish', () => setTimeout(() => req.socket.destroy(), DISCARD_GRACE_MS).unref());
}

/** The request's `Content-Length`, required and at most `limit` (checked before any byte is read). */
export function declaredLength(req: IncomingMessage, limit: number, what: string): number {
  const header = req.headers['content-length'];
  if (header === undefined) {
    throw new HttpRefusal('bad-request', `${what} needs a Content-Length header (chunked bodies are not accepted): the devnet checks the size before reading.`, 411);
  }
  const n = Number(header);
  if (!/^[0-9]{1,16}$/.test(header) || !Number.isSafeInteger(n)) throw new BadRequestError(`Content-Length '${header}' is not a byte count.`);
  if (n > limit) throw OversizedError.of(n, limit, what);
  return n;
}

/** Reads a small body (a chain call) of at most `limit` bytes into memory. */
export async function readSmallBody(req: IncomingMessage, limit: number, what: string): Promise<Uint8Array> {
  const declared = req.headers['content-length'] === undefined ? undefined : declaredLength(req, limit, what);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > limit) throw OversizedError.of(total, limit, what);
      chunks.push(buf);
    }
  } catch (error) {
    if (error instanceof NetError) throw error;
    throw new BadRequestError(`${what}: the body ended early.`);
  }
  if (declared !== undefined && total !== declared) throw new BadRequestError(`${what}: the body is ${total} bytes, not its Content-Length ${declared}.`);
  return new Uint8Array(Buffer.concat(chunks));
}
