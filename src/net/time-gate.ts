import { OversizedError, TooEarlyError, TooLateError } from './errors.ts';
import type { GetOptions, ObjectInfo, TimeGate } from './types.ts';

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

/**
 * Shared tail of every `Storage.get`: rejects an oversized or out-of-window object from its headers
 * before downloading the body (the body is cancelled), then reads it and re-checks the real size.
 */
export async function readGatedObject(response: Response, info: ObjectInfo, options: GetOptions, defaultLimit: number): Promise<{ info: ObjectInfo; data: Uint8Array }> {
  const limit = options.maxBytes ?? defaultLimit;
  const what = `Object ${info.bucket}/${info.key}`;
  try {
    if (info.size > limit) throw OversizedError.of(info.size, limit, what);
    checkTimeGate(info, options.gate);
  } catch (error) {
    await response.body?.cancel();
    throw error;
  }
  const data = new Uint8Array(await response.arrayBuffer());
  if (data.length > limit) throw OversizedError.of(data.length, limit, what);
  return { info: { ...info, size: data.length }, data };
}
