import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP on every response, worker scripts included) unlocks
 * SharedArrayBuffer and with it onnxruntime-web's wasm threads. Without it ORT silently runs
 * single-threaded, and a thread worker blocked by COEP hangs session creation (browser-testing.md §3).
 */
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * Test hooks (the kernels and trainer test workers on `window.gauntlet`, and the device-loss hook
 * only the trainer worker uses) exist only in test builds: `vite build --mode test`, which Playwright
 * and the benchmarks use. Any other build resolves `#test-hooks` to a module that holds nothing, so a
 * production bundle contains none of them (test/unit/production-build.test.ts checks it).
 */
function testHooks(mode: string): Record<string, string> {
  const variant = mode === 'test' ? 'test-hooks' : 'no-test-hooks';
  return { '#test-hooks': fileURLToPath(new URL(`./src/ui/${variant}.ts`, import.meta.url)) };
}

export default defineConfig(({ mode }) => ({
  resolve: { alias: testHooks(mode) },
  server: { headers: crossOriginIsolation, host: '127.0.0.1' },
  preview: { headers: crossOriginIsolation, host: '127.0.0.1' },
  // Workers code-split and use dynamic import(): they must be ES modules.
  worker: { format: 'es' },
  // onnxruntime-web locates its .wasm next to its own module; pre-bundling would break that in dev.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    // ORT's wasm (~27 MB) is emitted as our own asset and served by us, never from a CDN.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
  },
}));
