/**
 * Typed errors of the network layer (chain, storage, signing). Every error says what happened and
 * what the caller can do, so the miner and validator loops can log it and carry on instead of
 * crashing (style.md §3 lesson 8). `code` is stable and travels over the devnet HTTP API.
 */

export type NetErrorCode =
  | 'too-early'
  | 'too-late'
  | 'unauthorized'
  | 'oversized'
  | 'not-found'
  | 'bad-signature'
  | 'replayed'
  | 'rate-limited'
  | 'not-registered'
  | 'bad-request'
  | 'unavailable'
  | 'wallet'
  | 'chain';

export class NetError extends Error {
  constructor(
    readonly code: NetErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The object's server timestamp is before `timeMin` of the put window (Templar `comms.s3_get_object` TOO_EARLY). */
export class TooEarlyError extends NetError {
  constructor(
    readonly lastModifiedMs: number,
    readonly timeMinMs: number,
    what: string,
  ) {
    super('too-early', `${what} was stored at ${new Date(lastModifiedMs).toISOString()}, before the put window opened at ${new Date(timeMinMs).toISOString()}; it does not count for this window.`);
  }
}

/** The object's server timestamp is after `timeMax` of the put window (Templar TOO_LATE). */
export class TooLateError extends NetError {
  constructor(
    readonly lastModifiedMs: number,
    readonly timeMaxMs: number,
    what: string,
  ) {
    super('too-late', `${what} was stored at ${new Date(lastModifiedMs).toISOString()}, after the put window closed at ${new Date(timeMaxMs).toISOString()}; it does not count for this window.`);
  }
}

export class UnauthorizedError extends NetError {
  constructor(message: string) {
    super('unauthorized', message);
  }
}

export class OversizedError extends NetError {
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
    what: string,
  ) {
    super('oversized', `${what} is ${sizeBytes} bytes, over the limit of ${limitBytes} bytes; it was not transferred.`);
  }
}

export class NotFoundError extends NetError {
  constructor(what: string) {
    super('not-found', `${what} does not exist (not uploaded yet, or removed).`);
  }
}

export class BadSignatureError extends NetError {
  constructor(message: string) {
    super('bad-signature', message);
  }
}

/** A signed request reused a nonce: someone replays a captured request. */
export class ReplayedError extends NetError {
  constructor(message: string) {
    super('replayed', message);
  }
}

export class RateLimitedError extends NetError {
  constructor(message: string) {
    super('rate-limited', message);
  }
}

export class NotRegisteredError extends NetError {
  constructor(hotkey: string, netuid: number) {
    super('not-registered', `Hotkey ${hotkey} is not registered on netuid ${netuid}; register it first.`);
  }
}

export class BadRequestError extends NetError {
  constructor(message: string) {
    super('bad-request', message);
  }
}

/** The endpoint could not be reached or answered nonsense; retry later or check the URL. */
export class UnavailableError extends NetError {
  constructor(message: string) {
    super('unavailable', message);
  }
}

/** The wallet extension is missing, refused access, or has no such account. */
export class WalletError extends NetError {
  constructor(message: string) {
    super('wallet', message);
  }
}

/** A chain call failed (dispatch error, unsupported runtime feature). */
export class ChainError extends NetError {
  constructor(message: string) {
    super('chain', message);
  }
}

/** Rebuilds the typed error from a `{code, message}` pair received over HTTP. */
export function netErrorFromWire(code: string, message: string): NetError {
  const known: readonly NetErrorCode[] = ['too-early', 'too-late', 'unauthorized', 'oversized', 'not-found', 'bad-signature', 'replayed', 'rate-limited', 'not-registered', 'bad-request', 'unavailable', 'wallet', 'chain'];
  const match = known.find((k) => k === code);
  switch (match) {
    case 'unauthorized': return new UnauthorizedError(message);
    case 'bad-signature': return new BadSignatureError(message);
    case 'replayed': return new ReplayedError(message);
    case 'rate-limited': return new RateLimitedError(message);
    case 'bad-request': return new BadRequestError(message);
    case undefined: return new UnavailableError(`Server answered with unknown error code '${code}': ${message}`);
    default: return new NetError(match, message);
  }
}
