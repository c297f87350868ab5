import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { goldenArea, type GoldenCases } from './golden.ts';

/** Node side of case discovery: every `*.cases.ts` next to this file, imported as a module. */
export const goldenDir = dirname(fileURLToPath(import.meta.url));

export async function loadGoldenAreas(): Promise<Record<string, GoldenCases>> {
  const files = readdirSync(goldenDir).filter((f) => f.endsWith('.cases.ts')).sort();
  const areas: Record<string, GoldenCases> = {};
  for (const file of files) {
    const module = (await import(pathToFileURL(join(goldenDir, file)).href)) as { default: GoldenCases };
    areas[goldenArea(file)] = module.default;
  }
  return areas;
}
