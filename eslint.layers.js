// The layers of src/ and what each may import (README "Layout"), enforced by ESLint
// (eslint.config.js) and checked by test/unit/layers.test.ts:
//
//   core ← model ← gpu ← peer ← workers ← ui       net sits beside model and gpu, below peer
//   cli and devnet run in Node only; nothing but ui imports ui
//
// A layer may import its own files and the layers listed for it, nothing else of ours. `types`:
// layers it may import types from only (a contract it reads but never runs: the Node CLI driving a
// page reads the page worker's event and status types).

/** @type {Readonly<Record<string, { readonly imports: readonly string[]; readonly types?: readonly string[]; readonly node: boolean; readonly packages?: readonly string[] }>>} */
export const LAYERS = {
  // Platform-free: it must run in Node, workers and pages alike, so no runtime-specific package either.
  core: { imports: [], node: false, packages: ['onnxruntime-web', 'onnxruntime-web/*', 'comlink'] },
  model: { imports: ['core'], node: false },
  net: { imports: ['core'], node: false },
  gpu: { imports: ['core', 'model'], node: false },
  peer: { imports: ['core', 'model', 'net'], node: false },
  workers: { imports: ['core', 'model', 'gpu', 'net', 'peer'], node: false },
  ui: { imports: ['core', 'model', 'gpu', 'net', 'peer', 'workers'], node: false },
  devnet: { imports: ['core', 'net'], node: true },
  // The subnet's storage gateway (issue #21): the devnet's storage protocol and limits in front of S3, on a real chain.
  gateway: { imports: ['core', 'net', 'peer', 'devnet'], node: true },
  cli: { imports: ['core', 'model', 'gpu', 'net', 'peer', 'devnet', 'gateway'], types: ['workers'], node: true },
};

/** Node built-ins by their bare names (exact names: a pattern `net` would also match our own `../net/…`). */
const NODE_BUILTINS = ['fs', 'fs/promises', 'path', 'crypto', 'os', 'url', 'child_process', 'http', 'https', 'net', 'stream', 'worker_threads', 'util', 'zlib'];

/**
 * One flat-config entry per layer: `no-restricted-imports` for every layer it may not use.
 * @returns {import('eslint').Linter.Config[]}
 */
export function layerConfigs() {
  return Object.entries(LAYERS).map(([layer, rule]) => {
    const forbidden = Object.keys(LAYERS).filter((other) => other !== layer && !rule.imports.includes(other) && !(rule.types ?? []).includes(other));
    const patterns = [];
    if (forbidden.length > 0) {
      patterns.push({ group: forbidden.map((other) => `**/${other}/**`), message: `src/${layer} may import ${[...rule.imports, ...(rule.types ?? []).map((t) => `types of ${t}`)].join(', ') || 'nothing of ours'} (eslint.layers.js).` });
    }
    for (const typesOnly of rule.types ?? []) {
      patterns.push({ group: [`**/${typesOnly}/**`], allowTypeImports: true, message: `src/${layer} may import only types from src/${typesOnly} (eslint.layers.js).` });
    }
    const nodeMessage = `src/${layer} runs in browsers: no Node built-ins.`;
    if (!rule.node) patterns.push({ group: ['node:*'], message: nodeMessage });
    if (rule.packages !== undefined) patterns.push({ group: [...rule.packages], message: `src/${layer} is platform-free: no ${rule.packages.join(', ')}.` });
    const paths = rule.node ? [] : NODE_BUILTINS.map((name) => ({ name, message: nodeMessage }));
    /** @type {import('eslint').Linter.RuleEntry} */
    const entry = ['error', { paths, patterns }];
    return { files: [`src/${layer}/**/*.ts`], rules: { 'no-restricted-imports': entry } };
  });
}
