/**
 * Shared by the GPU compression specs and benches: the small preset's representative tensors laid out
 * in a compact flat vector, and base64 transport of typed arrays between Node and the page (JSON
 * arrays of a million floats are slow to pass through page.evaluate).
 */
import type { Page } from '@playwright/test';
import type { DroppedPeer, OuterStepBounds, PeerSubmission } from '../../src/core/aggregate.ts';
import type { EncodedTensor } from '../../src/core/compress/codec.ts';
import type { FlatTensorSpec } from '../../src/core/compress/error-feedback.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { parameterLayout } from '../../src/model/params.ts';

/** Every distinct shape of the small preset (embedding, attention, MLP up and down, 1-D norm). */
export const SMALL_PRESET_SUBSET = [
  'model.embed_tokens.weight',
  'model.layers.0.input_layernorm.weight',
  'model.layers.0.self_attn.q_proj.weight',
  'model.layers.0.mlp.gate_proj.weight',
  'model.layers.0.mlp.down_proj.weight',
] as const;

/** The named tensors of the small preset, re-laid contiguously in the given order. */
export function smallPresetLayout(names: readonly string[] = SMALL_PRESET_SUBSET): FlatTensorSpec[] {
  const all = parameterLayout(smallRunConfig().model);
  let offset = 0;
  return names.map((name) => {
    const spec = all.find((s) => s.name === name);
    if (!spec) throw new Error(`the small preset has no tensor ${name}`);
    const out = { name, shape: [...spec.shape], offset };
    offset += spec.shape.reduce((a, b) => a * b, 1);
    return out;
  });
}

export const layoutSize = (layout: readonly FlatTensorSpec[]): number =>
  layout.reduce((n, s) => Math.max(n, s.offset + s.shape.reduce((a, b) => a * b, 1)), 0);

export const toB64 = (a: ArrayBufferView): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
export function f32FromB64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function u8FromB64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/** An encoded tensor as it crosses page.evaluate. */
export interface WireTensor {
  name: string;
  shape: number[];
  k: number;
  indices: string;
  codes: string;
  shift: number;
  scale: number;
  lookup: number[];
}

export const toWireTensor = (t: EncodedTensor): WireTensor => ({
  name: t.name,
  shape: [...t.shape],
  k: t.k,
  indices: toB64(t.indices),
  codes: toB64(t.codes),
  shift: t.quant.shift,
  scale: t.quant.scale,
  lookup: Array.from(t.quant.lookup),
});

export function fromWireTensor(t: WireTensor): EncodedTensor {
  const idx = u8FromB64(t.indices);
  return {
    name: t.name,
    shape: t.shape,
    k: t.k,
    indices: new Uint16Array(idx.buffer, idx.byteOffset, idx.byteLength / 2),
    codes: u8FromB64(t.codes),
    quant: { shift: t.shift, scale: t.scale, lookup: new Float32Array(t.lookup) },
  };
}

/** GPU compression in the page's kernels worker. */
export async function gpuCompress(
  page: Page,
  layout: readonly FlatTensorSpec[],
  compression: CompressionConfig,
  theta0: Float32Array,
  theta: Float32Array,
  errorFeedback: Float32Array,
): Promise<{ tensors: EncodedTensor[]; errorFeedback: Float32Array; liveBuffers: number; ms: number }> {
  const out = await page.evaluate(
    async (a) => {
      const bin = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      const f32 = (s: string) => new Float32Array(bin(s).buffer);
      const b64 = (v: ArrayBufferView) => {
        const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        let s = '';
        for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        return btoa(s);
      };
      const t0 = performance.now();
      const r = await window.gauntlet!.kernels!.compress({
        layout: a.layout,
        compression: a.compression,
        theta0: f32(a.theta0),
        theta: f32(a.theta),
        errorFeedback: f32(a.errorFeedback),
      });
      const ms = performance.now() - t0;
      return {
        ms,
        liveBuffers: r.liveBuffers,
        errorFeedback: b64(r.errorFeedback),
        tensors: r.tensors.map((t) => ({
          name: t.name,
          shape: [...t.shape],
          k: t.k,
          indices: b64(t.indices),
          codes: b64(t.codes),
          shift: t.quant.shift,
          scale: t.quant.scale,
          lookup: Array.from(t.quant.lookup),
        })),
      };
    },
    { layout, compression, theta0: toB64(theta0), theta: toB64(theta), errorFeedback: toB64(errorFeedback) },
  );
  return { tensors: out.tensors.map(fromWireTensor), errorFeedback: f32FromB64(out.errorFeedback), liveBuffers: out.liveBuffers, ms: out.ms };
}

/** What `gpuOuterStep` brings back from the page. */
export interface GpuOuterStepOutput {
  params: Float32Array;
  paramSha256: string;
  medianNorms: number[];
  uids: number[];
  dropped: DroppedPeer[];
  updateNorm: number;
  refused: string | null;
  liveBuffers: number;
  ms: number;
}

/**
 * GPU outer step in the page's kernels worker. `bounds`: the run's bounds (`RunConfig.bounds`); omitted,
 * the worker uses the CPU `outerStep`'s default (finiteness only).
 */
export async function gpuOuterStep(
  page: Page,
  layout: readonly FlatTensorSpec[],
  compression: CompressionConfig,
  params: Float32Array,
  peers: readonly PeerSubmission[],
  bounds?: OuterStepBounds,
  referenceCaps?: readonly number[],
): Promise<GpuOuterStepOutput> {
  const out = await page.evaluate(
    async (a) => {
      const bin = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
      const b64 = (v: ArrayBufferView) => {
        const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        let s = '';
        for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
        return btoa(s);
      };
      const peers = a.peers.map((p) => ({
        uid: p.uid,
        tensors: p.tensors.map((t) => ({
          name: t.name,
          shape: t.shape,
          k: t.k,
          indices: new Uint16Array(bin(t.indices).buffer),
          codes: bin(t.codes),
          quant: { shift: t.shift, scale: t.scale, lookup: new Float32Array(t.lookup) },
        })),
      }));
      const t0 = performance.now();
      const input = { layout: a.layout, compression: a.compression, params: new Float32Array(bin(a.params).buffer), peers };
      const withBounds = a.bounds === null ? input : { ...input, bounds: a.bounds };
      const r = await window.gauntlet!.kernels!.outerStep(a.caps === null ? withBounds : { ...withBounds, referenceCaps: a.caps });
      const ms = performance.now() - t0;
      return {
        ms,
        params: b64(r.params),
        paramSha256: r.paramSha256,
        medianNorms: r.medianNorms,
        uids: [...r.uids],
        dropped: r.dropped.map((d) => ({ uid: d.uid, reason: d.reason })),
        updateNorm: r.updateNorm,
        refused: r.refused,
        liveBuffers: r.liveBuffers,
      };
    },
    { layout, compression, params: toB64(params), peers: peers.map((p) => ({ uid: p.uid, tensors: p.tensors.map(toWireTensor) })), bounds: bounds ?? null, caps: referenceCaps === undefined ? null : [...referenceCaps] },
  );
  return { ...out, params: f32FromB64(out.params), medianNorms: [...out.medianNorms], dropped: [...out.dropped] };
}
