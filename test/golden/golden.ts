import { sha256 } from '@noble/hashes/sha2';

/**
 * The isomorphism harness (style.md lesson 5): every `test/golden/<area>.cases.ts` default-exports a
 * `GoldenCases` object. Each case computes something deterministic with `src/core` and returns a
 * JSON-serialisable result. `test/unit/golden.test.ts` runs all cases in Node;
 * `test/browser/core-isomorphic.spec.ts` bundles the same files, runs them in Chromium and requires
 * the JSON of every case to be identical to Node's. Adding a case file needs no edit elsewhere: both
 * sides discover `*.cases.ts` by pattern.
 */
export type GoldenCases = Record<string, () => unknown>;

/** Results by area (file name without `.cases.ts`), then by case name. A case that throws records `{ error }`. */
export type GoldenResults = Record<string, Record<string, unknown>>;

/** Area name of a case file path: `…/compress.cases.ts` → `compress`. */
export function goldenArea(path: string): string {
  const file = path.split('/').pop() ?? path;
  return file.replace(/\.cases\.ts$/, '');
}

/** Runs every case of every area, in sorted order, and returns JSON-normalised results. */
export async function runGoldenCases(areas: Record<string, GoldenCases>): Promise<GoldenResults> {
  const results: GoldenResults = {};
  for (const area of Object.keys(areas).sort()) {
    const cases = areas[area]!;
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(cases).sort()) {
      try {
        out[name] = JSON.parse(JSON.stringify(await cases[name]!())) as unknown;
      } catch (error) {
        out[name] = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
    }
    results[area] = out;
  }
  return results;
}

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** sha256 (hex) of a typed array's bytes: how cases return large arrays compactly. */
export function sha256Hex(view: ArrayBufferView): string {
  return hex(sha256(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)));
}

/** What the browser bundle publishes as `globalThis.gauntletGolden`. */
export interface GoldenBundle {
  readonly areas: readonly string[];
  run(): Promise<GoldenResults>;
}
