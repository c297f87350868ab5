import { goldenArea, runGoldenCases, type GoldenBundle, type GoldenCases } from './golden.ts';

/**
 * Entry of the browser bundle of the golden harness: Vite's `import.meta.glob` finds every case file at
 * bundle time, so a new `*.cases.ts` is picked up without an edit here.
 */
const modules = import.meta.glob<{ default: GoldenCases }>('./*.cases.ts', { eager: true });
const areas: Record<string, GoldenCases> = {};
for (const [path, module] of Object.entries(modules)) areas[goldenArea(path)] = module.default;

const bundle: GoldenBundle = { areas: Object.keys(areas).sort(), run: () => runGoldenCases(areas) };
(globalThis as { gauntletGolden?: GoldenBundle }).gauntletGolden = bundle;
