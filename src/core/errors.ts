/**
 * The one error base (issue #16). Every error this project throws on purpose is a `GauntletError`:
 * its class says what went wrong, `code` is a stable string a program branches on (it never changes
 * with the wording of the message), and `action`, where there is one, says what the person can do
 * about it. Errors cross worker boundaries with their class, code and fields intact
 * (src/workers/error-transfer.ts), so a page can tell a lost GPU device from a refused wallet.
 */
export abstract class GauntletError extends Error {
  /** Stable and kebab-case: one per class, or the class's own finer codes (a network error's, a wire format's). */
  abstract readonly code: string;
  /** What the person can do about it, when the message alone does not say. */
  readonly action: string | undefined;

  constructor(message?: string, options: { readonly action?: string; readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.action = options.action;
  }
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Error classes by the `name` their instances carry (see `registerErrorClasses`). */
const ERROR_CLASSES = new Map<string, ErrorClass>();

/**
 * Makes each class revivable as itself where errors cross a worker boundary, keyed by the `name` its
 * instances carry: the key of the object literal, which a minified build keeps (it renames classes,
 * so `Class.name` would not do). Each class gives its instances that name as a literal. A module
 * registers its own classes, so one loaded only on demand costs nothing until then.
 */
export function registerErrorClasses(classes: Readonly<Record<string, ErrorClass>>): void {
  for (const [name, cls] of Object.entries(classes)) ERROR_CLASSES.set(name, cls);
}

/** The registered class whose instances carry `name`. */
export function errorClassNamed(name: string): ErrorClass | undefined {
  return ERROR_CLASSES.get(name);
}

/** What `error` says, for a message or an event: an `Error`'s message, or anything else as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
