import { TooEarlyError, TooLateError } from './errors.ts';
import type { ObjectInfo, TimeGate } from './types.ts';

/**
 * Rejects an object whose **server** timestamp lies outside the put window `[timeMin, timeMax]`
 * (gauntlet-spec §3.2; Templar `comms.s3_get_object` returns TOO_EARLY / TOO_LATE the same way).
 */
export function checkTimeGate(info: ObjectInfo, gate: TimeGate | undefined): void {
  if (gate === undefined) return;
  const what = `Object ${info.bucket}/${info.key}`;
  if (info.lastModifiedMs < gate.timeMinMs) throw TooEarlyError.of(info.lastModifiedMs, gate.timeMinMs, what);
  if (info.lastModifiedMs > gate.timeMaxMs) throw TooLateError.of(info.lastModifiedMs, gate.timeMaxMs, what);
}
