import { expect, test } from '@playwright/test';
import { chunkLayout, dctChunks, idctChunks, toChunks } from '../../src/core/compress/index.ts';
import { gaussianArray } from '../../src/core/prng.ts';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { f32FromB64, smallPresetLayout, toB64 } from './compress-helpers.ts';

/**
 * shaders/dct.wgsl against src/core/compress/dct.ts on the small preset's attention (320×320, 64×64
 * chunks), MLP (320×896) and norm (320, 1-D chunks of 64) shapes. The GPU sums in float32, the CPU in
 * float64: the bound 2e-6 of the largest coefficient is ~30 float32 ulps, while a wrong basis index
 * or a transposed matrix gives errors of the size of the values themselves.
 */
const compression = { ...smallRunConfig().compression, codec: 'dct-sign' as const };

for (const spec of smallPresetLayout(['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.mlp.gate_proj.weight', 'model.layers.0.input_layernorm.weight'])) {
  test(`GPU DCT and inverse match the CPU reference on ${spec.name} [${spec.shape.join('×')}]`, async ({ page }) => {
    await page.goto('/');
    const layout = chunkLayout(spec.shape, compression);
    const chunked = toChunks(gaussianArray(layout.size, 31, 0.01), layout);
    const run = async (input: Float32Array, inverse: boolean) =>
      f32FromB64(
        await page.evaluate(
          async (a) => {
            const bytes = Uint8Array.from(atob(a.input), (c) => c.charCodeAt(0));
            const out = await window.gauntlet!.kernels!.dct({ shape: a.shape, compression: a.compression, chunked: new Float32Array(bytes.buffer), inverse: a.inverse });
            const u8 = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
            let s = '';
            for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
            return btoa(s);
          },
          { input: toB64(input), shape: spec.shape, compression, inverse },
        ),
      );
    const maxRelative = (got: Float32Array, want: Float32Array) => {
      const top = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      return got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i]!)), 0) / top;
    };
    const forwardCpu = dctChunks(chunked, layout);
    const forwardGpu = await run(chunked, false);
    expect(maxRelative(forwardGpu, forwardCpu)).toBeLessThan(2e-6);
    const inverseGpu = await run(forwardCpu, true);
    expect(maxRelative(inverseGpu, idctChunks(forwardCpu, layout))).toBeLessThan(2e-6);
    expect(maxRelative(inverseGpu, chunked)).toBeLessThan(2e-6);
  });
}
