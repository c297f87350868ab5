/**
 * Bundles a test-only entry (the injected wallet or the page harness) as a self-contained IIFE
 * string with Vite's build API, for `page.addInitScript` / `page.addScriptTag`. Never part of the app build.
 */
import { build, type Rolldown } from 'vite';
import { fileURLToPath } from 'node:url';

export async function bundleIife(entryFile: string, globalName: string): Promise<string> {
  const entry = fileURLToPath(new URL(entryFile, import.meta.url));
  const result = await build({
    configFile: false,
    // polkadot's packageInfo reads import.meta, which an IIFE replaces by {}: harmless, so only errors are shown.
    logLevel: 'error',
    build: {
      write: false,
      minify: false,
      target: 'es2022',
      lib: { entry, formats: ['iife'], name: globalName, fileName: () => 'bundle.js' },
    },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  const chunk = outputs.flatMap((o) => o.output).find((o) => o.type === 'chunk');
  if (chunk?.type !== 'chunk') throw new Error(`bundling ${entryFile} produced no JS chunk`);
  return chunk.code;
}
