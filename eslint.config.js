// ESLint flat config: typescript-eslint's type-checked rules over the whole project.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    // src/core is the platform-free heart of the project: it must run in Node, workers and pages alike.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'crypto', 'os', 'url', 'child_process'], message: 'src/core must not use Node built-ins.' },
          { group: ['**/gpu/**', '**/ui/**', '**/workers/**', '**/net/**', '**/peer/**', '**/devnet/**', '**/cli/**', '**/model/**'], message: 'src/core depends on nothing of ours.' },
          { group: ['onnxruntime-web', 'onnxruntime-web/*', 'comlink'], message: 'src/core is platform-free.' },
        ],
      }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'process', 'Buffer'],
    },
  },
  {
    // Scripts, tests and Node-side commands print to the terminal on purpose.
    files: ['scripts/**', 'test/**', 'src/cli/**', 'src/devnet/**', '*.config.ts'],
    rules: { 'no-console': 'off' },
  },
);
