/**
 * The Demo's numeric settings and what a typed value becomes: a value the run can use is taken as
 * it is; any other is brought to the nearest one it can use, and the note says what was changed
 * and why, so a field never changes a value behind the user's back (issue #16).
 */

/** What a setting accepts: a range, and optionally only multiples of a step (1: whole numbers). */
export interface NumberRule {
  /** The setting's name as the page labels it. */
  readonly label: string;
  readonly min: number;
  readonly max: number;
  readonly multipleOf?: number;
}

export interface FieldReading {
  /** The value the run uses. */
  readonly value: number;
  /** What was changed and why; null when the typed value was used as it is. */
  readonly note: string | null;
}

function kind(multipleOf: number | undefined): string {
  if (multipleOf === undefined) return 'a number';
  if (multipleOf === 1) return 'a whole number';
  if (multipleOf === 2) return 'an even number';
  return `a multiple of ${multipleOf}`;
}

/**
 * `typed` (the field's text) read under `rule`: the value itself when it is allowed, else the
 * nearest allowed value with a note; a blank or non-numeric entry keeps `previous`.
 */
export function readNumberField(typed: string, previous: number, rule: NumberRule): FieldReading {
  const wanted = typed.trim() === '' ? Number.NaN : Number(typed);
  const allowed = `${rule.label} must be ${kind(rule.multipleOf)} from ${rule.min} to ${rule.max}`;
  if (!Number.isFinite(wanted)) return { value: previous, note: `${allowed}; "${typed}" is not one, so it stays ${previous}.` };
  const step = rule.multipleOf;
  const rounded = step === undefined ? wanted : Math.round(wanted / step) * step;
  const value = Math.min(rule.max, Math.max(rule.min, rounded));
  return { value, note: value === wanted ? null : `${allowed}: ${typed.trim()} was changed to ${value}.` };
}
