/**
 * Structural checks shared by input parsing and state loading. Each check takes the dotted field
 * path and a `fail` callback that builds the caller's typed error, so one set of checks serves both
 * `ScoringInputError` and `ScoringStateError`.
 */

export type Fail = (field: string, problem: string) => Error;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectRecord(value: unknown, field: string, fail: Fail): Record<string, unknown> {
  if (!isRecord(value)) throw fail(field, `expected an object, got ${describe(value)}`);
  return value;
}

export function expectArray(value: unknown, field: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) throw fail(field, `expected an array, got ${describe(value)}`);
  return value as unknown[];
}

export function expectFinite(value: unknown, field: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw fail(field, `expected a finite number, got ${describe(value)}`);
  }
  return value;
}

export function expectInteger(value: unknown, field: string, fail: Fail, min = 0): number {
  const n = expectFinite(value, field, fail);
  if (!Number.isInteger(n) || n < min) throw fail(field, `expected an integer ≥ ${min}, got ${n}`);
  return n;
}

/** Bittensor uids are u16. */
export function expectUid(value: unknown, field: string, fail: Fail): number {
  const n = expectInteger(value, field, fail);
  if (n > 0xffff) throw fail(field, `uid ${n} is outside [0, 65535]`);
  return n;
}

/** A record key that must be a canonical decimal uid ("7", not "07" or "7.0"). */
export function expectUidKey(key: string, field: string, fail: Fail): number {
  const n = Number(key);
  if (String(n) !== key) throw fail(field, `key "${key}" is not a decimal uid`);
  return expectUid(n, field, fail);
}

export function expectFiniteArray(value: unknown, field: string, fail: Fail): number[] {
  return expectArray(value, field, fail).map((v, i) => expectFinite(v, `${field}.${i}`, fail));
}

export function expectUidList(value: unknown, field: string, fail: Fail): number[] {
  const uids = expectArray(value, field, fail).map((v, i) => expectUid(v, `${field}.${i}`, fail));
  if (new Set(uids).size !== uids.length) throw fail(field, 'contains a uid twice');
  return uids;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  return typeof value;
}
