/**
 * `import source from './kernel.wgsl?raw'` in plain Node (issue #20): Vite and Vitest give such an
 * import the file's text; the Node commands (`npm run miners`, `npm run validator`) load the same
 * WebGPU engine under tsx, so this hook (`node --import ./scripts/raw-imports.mjs`) does the same.
 * Only `?raw` specifiers are touched.
 */
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
import { readFile } from 'node:fs/promises';
export async function resolve(specifier, context, next) {
  if (!specifier.endsWith('?raw')) return next(specifier, context);
  const url = new URL(specifier, context.parentURL);
  return { url: url.href, shortCircuit: true, format: 'module' };
}
export async function load(url, context, next) {
  if (!url.endsWith('?raw')) return next(url, context);
  const file = new URL(url);
  file.search = '';
  const text = await readFile(file, 'utf8');
  return { format: 'module', shortCircuit: true, source: 'export default ' + JSON.stringify(text) + ';' };
}
`)}`,
);
