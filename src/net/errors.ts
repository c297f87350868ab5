/**
 * Typed errors of the network layer (chain, storage, signing). Every error says what happened and
 * what the caller can do, so the miner and validator loops can log it and carry on instead of
 * crashing (style.md §3 lesson 8). `code` is stable and travels over the devnet HTTP API.
 */
import { GauntletError } from '../core/errors.ts';

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

export class NetError extends GauntletError {
  constructor(
    readonly code: NetErrorCode,
    message: string,
  ) {
    super(message);
    // Each subclass names itself with a literal: a minified build renames classes, so `new.target.name` would not survive it.
    this.name = 'NetError';
  }
}

/** The object's server timestamp is before `timeMin` of the put window (Templar `comms.s3_get_object` TOO_EARLY). */
export class TooEarlyError extends NetError {
  override readonly name: string = 'TooEarlyError';
  constructor(message: string) {
    super('too-early', message);
  }

  static of(lastModifiedMs: number, timeMinMs: number, what: string): TooEarlyError {
    return new TooEarlyError(`${what} was stored at ${new Date(lastModifiedMs).toISOString()}, before the put window opened at ${new Date(timeMinMs).toISOString()}; it does not count for this window.`);
  }
}

/** The object's server timestamp is after `timeMax` of the put window (Templar TOO_LATE). */
export class TooLateError extends NetError {
  override readonly name: string = 'TooLateError';
  constructor(message: string) {
    super('too-late', message);
  }

  static of(lastModifiedMs: number, timeMaxMs: number, what: string): TooLateError {
    return new TooLateError(`${what} was stored at ${new Date(lastModifiedMs).toISOString()}, after the put window closed at ${new Date(timeMaxMs).toISOString()}; it does not count for this window.`);
  }
}

export class UnauthorizedError extends NetError {
  override readonly name: string = 'UnauthorizedError';
  constructor(message: string) {
    super('unauthorized', message);
  }
}

export class OversizedError extends NetError {
  override readonly name: string = 'OversizedError';
  constructor(message: string) {
    super('oversized', message);
  }

  static of(sizeBytes: number, limitBytes: number, what: string): OversizedError {
    return new OversizedError(`${what} is ${sizeBytes} bytes, over the limit of ${limitBytes} bytes; it was not transferred.`);
  }
}

export class NotFoundError extends NetError {
  override readonly name: string = 'NotFoundError';
  constructor(message: string) {
    super('not-found', message);
  }

  static of(what: string): NotFoundError {
    return new NotFoundError(`${what} does not exist (not uploaded yet, or removed).`);
  }
}

export class BadSignatureError extends NetError {
  override readonly name: string = 'BadSignatureError';
  constructor(message: string) {
    super('bad-signature', message);
  }
}

/** A signed request reused a nonce: someone replays a captured request. */
export class ReplayedError extends NetError {
  override readonly name: string = 'ReplayedError';
  constructor(message: string) {
    super('replayed', message);
  }
}

export class RateLimitedError extends NetError {
  override readonly name: string = 'RateLimitedError';
  constructor(message: string) {
    super('rate-limited', message);
  }
}

export class NotRegisteredError extends NetError {
  override readonly name: string = 'NotRegisteredError';
  constructor(message: string) {
    super('not-registered', message);
  }

  static of(hotkey: string, netuid: number): NotRegisteredError {
    return new NotRegisteredError(`Hotkey ${hotkey} is not registered on netuid ${netuid}; register it first.`);
  }
}

export class BadRequestError extends NetError {
  override readonly name: string = 'BadRequestError';
  constructor(message: string) {
    super('bad-request', message);
  }
}

/** The endpoint could not be reached or answered nonsense; retry later or check the URL. */
export class UnavailableError extends NetError {
  override readonly name: string = 'UnavailableError';
  constructor(message: string) {
    super('unavailable', message);
  }
}

/** The wallet extension is missing, refused access, or has no such account. */
export class WalletError extends NetError {
  override readonly name: string = 'WalletError';
  constructor(message: string) {
    super('wallet', message);
  }
}

/** A chain call failed (dispatch error, unsupported runtime feature). */
export class ChainError extends NetError {
  override readonly name: string = 'ChainError';
  constructor(message: string) {
    super('chain', message);
  }
}

const ERROR_CLASSES: Record<NetErrorCode, new (message: string) => NetError> = {
  'too-early': TooEarlyError,
  'too-late': TooLateError,
  unauthorized: UnauthorizedError,
  oversized: OversizedError,
  'not-found': NotFoundError,
  'bad-signature': BadSignatureError,
  replayed: ReplayedError,
  'rate-limited': RateLimitedError,
  'not-registered': NotRegisteredError,
  'bad-request': BadRequestError,
  unavailable: UnavailableError,
  wallet: WalletError,
  chain: ChainError,
};

/** Rebuilds the typed error from a `{code, message}` pair received over HTTP. */
export function netErrorFromWire(code: string, message: string): NetError {
  const entry = Object.entries(ERROR_CLASSES).find(([known]) => known === code);
  return entry === undefined ? new UnavailableError(`Server answered with unknown error code '${code}': ${message}`) : new entry[1](message);
}
