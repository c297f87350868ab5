/**
 * Errors cross a Comlink boundary with their class (issue #16). Comlink's own `throw` handler sends
 * only an error's message, name and stack, so the page saw message strings and could not tell a lost
 * GPU device from a refused wallet. This handler sends every own field of an error too (the stable
 * `code`, the `action`, a device's `reason`, a field's name, …) and rebuilds an instance of the
 * registered class of that name on the other side, so `instanceof` and `code` work in the page as
 * in the worker. An error of a class not registered arrives as a plain `Error` with its fields.
 *
 * Install it in every realm on both ends: each worker module and the page (`installErrorTransfer`).
 */
import * as Comlink from 'comlink';
import { WindowTimingError } from '../core/clock.ts';
import { errorClassNamed, registerErrorClasses } from '../core/errors.ts';
import { RunConfigError } from '../core/run-config.ts';
import { RunDocumentError, RunHashMismatchError } from '../core/run-document.ts';
import { DeviceLostError, WebGPUUnavailableError, AdapterLimitError } from '../gpu/errors.ts';
import { NonFiniteLossError, TrainerInputError, TrainerNotReadyError } from '../model/engine.ts';
import * as NetErrors from '../net/errors.ts';
import { NetworkSettingsError } from '../net/network-settings.ts';
import { RegistrationError } from '../net/registration.ts';
import { UnknownBehaviourError } from '../peer/behaviours.ts';
import { MinerStateError } from '../peer/miner.ts';
import { PersistenceError, SnapshotVersionError } from '../peer/snapshots.ts';
import { ValidatorConfigError } from '../peer/validator.ts';
import { DemoNotStartedError } from './demo-api.ts';
import { PeerStateError } from './peer-api.ts';
import { ValidatorStateError } from './validator-api.ts';

type ErrorClass = abstract new (...args: never[]) => Error;

// The classes a page may need to tell apart; a module loaded on demand registers its own (src/core/errors.ts).
registerErrorClasses({
  WindowTimingError, RunConfigError, DeviceLostError, WebGPUUnavailableError, AdapterLimitError, NonFiniteLossError, TrainerInputError, TrainerNotReadyError,
  NetworkSettingsError, RegistrationError, MinerStateError, PersistenceError, SnapshotVersionError, ValidatorConfigError, DemoNotStartedError, PeerStateError, ValidatorStateError,
  UnknownBehaviourError, RunDocumentError, RunHashMismatchError,
});
const netErrorClasses: Record<string, ErrorClass> = {};
for (const [name, value] of Object.entries(NetErrors) as [string, unknown][]) {
  if (typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error) netErrorClasses[name] = value as ErrorClass;
}
registerErrorClasses(netErrorClasses);

/** What crosses the boundary for an error: its name, message and stack, and its own fields that survive a structured clone. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly fields: Readonly<Record<string, unknown>>;
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

export function serializeError(error: Error): SerializedError {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) if (key !== 'stack' && key !== 'message' && cloneable(value)) fields[key] = value;
  return { name: error.name, message: error.message, stack: error.stack, fields };
}

/** The error as an instance of its registered class (not constructed again: its fields are the sender's), else a plain `Error`. */
export function reviveError(serialized: SerializedError): Error {
  const cls = errorClassNamed(serialized.name);
  const error: Error = cls === undefined ? new Error(serialized.message) : (Object.create(cls.prototype as object) as Error);
  Object.assign(error, serialized.fields);
  Object.defineProperty(error, 'message', { value: serialized.message, writable: true, configurable: true });
  Object.defineProperty(error, 'name', { value: serialized.name, writable: true, configurable: true });
  if (serialized.stack !== undefined) Object.defineProperty(error, 'stack', { value: serialized.stack, writable: true, configurable: true });
  return error;
}

let installed = false;

/** Replaces Comlink's `throw` handler in this realm (idempotent). */
export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const base = Comlink.transferHandlers.get('throw')!;
  Comlink.transferHandlers.set('throw', {
    canHandle: (value: unknown): value is unknown => base.canHandle(value),
    serialize(thrown: unknown) {
      const { value } = thrown as { value: unknown };
      if (value instanceof Error) return [{ isError: true, value: serializeError(value) }, []];
      return base.serialize(thrown);
    },
    deserialize(serialized: unknown) {
      const { isError, value } = serialized as { isError: boolean; value: unknown };
      if (isError && typeof value === 'object' && value !== null && 'fields' in value) throw reviveError(value as SerializedError);
      return base.deserialize(serialized);
    },
  });
}
