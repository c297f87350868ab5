// ESLint flat config: typescript-eslint's type-checked rules over the whole project.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layerConfigs } from './eslint.layers.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'test-results/', 'playwright-report/', '.devnet/', 'bench-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
      // TypeScript already checks undefined names, with the right globals per environment.
      'no-undef': 'off',
    },
  },
  // Every layer of src/ imports only the layers below it (eslint.layers.js).
  ...layerConfigs(),
  {
    // src/core is the platform-free heart of the project: it must run in Node, workers and pages alike.
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'process', 'Buffer'] },
  },
  {
    // Scripts, tests and Node-side commands print to the terminal on purpose.
    files: ['scripts/**', 'test/**', 'src/cli/**', 'src/devnet/**', 'src/gateway/**', '*.config.ts'],
    rules: { 'no-console': 'off' },
  },
);
