/**
 * The layer fences of src/ (eslint.layers.js; issue #16): ESLint with exactly those rules, run on
 * fixture text placed in each layer, refuses every import of a layer that layer may not use and
 * accepts the ones it may; and the whole of src/ is inside the fences (CI runs no `npm run lint`,
 * so this test is what keeps the tree from drifting upward).
 */
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { LAYERS, layerConfigs } from '../../eslint.layers.js';

function linter(): ESLint {
  return new ESLint({
    cwd: process.cwd(),
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layerConfigs()],
  });
}

async function restrictedImports(layer: string, source: string): Promise<string[]> {
  const [result] = await linter().lintText(source, { filePath: `src/${layer}/layer-fixture.ts` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the layers of src/', () => {
  const layers = Object.keys(LAYERS);

  it('refuses, in every layer, an import of every layer it may not use, and names the rule', async () => {
    let refused = 0;
    for (const layer of layers) {
      const rule = LAYERS[layer]!;
      for (const other of layers.filter((o) => o !== layer && !rule.imports.includes(o))) {
        const typesOnly = (rule.types ?? []).includes(other);
        const messages = await restrictedImports(layer, `import { thing } from '../${other}/module.ts';\nexport const used = thing;\n`);
        expect(messages.length, `src/${layer} importing src/${other}`).toBe(1);
        expect(messages[0]).toContain('eslint.layers.js');
        if (typesOnly) expect(await restrictedImports(layer, `import type { Thing } from '../${other}/module.ts';\nexport type Used = Thing;\n`), `types of src/${other} in src/${layer}`).toEqual([]);
        refused += 1;
      }
    }
    // ui may be imported by nothing else, cli and devnet by nothing in the browser layers.
    expect(refused).toBeGreaterThanOrEqual(30);
  });

  it('accepts every import a layer may make, and refuses Node built-ins in the browser layers', async () => {
    for (const layer of layers) {
      const rule = LAYERS[layer]!;
      for (const allowed of [layer, ...rule.imports]) {
        expect(await restrictedImports(layer, `import { thing } from '../${allowed}/module.ts';\nexport const used = thing;\n`), `src/${layer} importing src/${allowed}`).toEqual([]);
      }
      const node = await restrictedImports(layer, `import { readFileSync } from 'node:fs';\nimport { join } from 'path';\nexport const used = [readFileSync, join];\n`);
      expect(node.length, `Node built-ins in src/${layer}`).toBe(rule.node ? 0 : 2);
    }
  });

  it('holds for the whole of src/', async () => {
    const results = await linter().lintFiles(['src/**/*.ts']);
    const violations = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(results.length).toBeGreaterThan(100);
    expect(violations).toEqual([]);
  }, 60_000);
});
