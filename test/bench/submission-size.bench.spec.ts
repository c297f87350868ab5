import { test } from '@playwright/test';
import { chunkLayout, compressErrorFeedback } from '../../src/core/compress/index.ts';
import { gaussianArray } from '../../src/core/prng.ts';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { decodeSubmission, encodeSubmission } from '../../src/core/wire/index.ts';
import { parameterLayout } from '../../src/model/params.ts';
import { printBench } from './report.ts';

/**
 * Submission size for the `small` preset (gauntlet-spec §5.4): our wire bytes (12-bit indices, 2-bit
 * codes bit-packed four per byte) against dense fp32 and against Templar v2.1.3's storage, which keeps
 * 12-bit indices but one code per byte. Sizes do not depend on the device; this runs in Node only.
 * The "146×" of the paper is 32 bit / ((64/4096)·(12 + 2) bit): the 2-D payload rows show it.
 */
test('submission size: small preset, wire vs fp32 vs one code per byte', () => {
  const config = smallRunConfig();
  const { compression } = config;
  const layout = parameterLayout(config.model);
  const total = layout.reduce((n, s) => n + s.size, 0);
  // A realistic error-feedback buffer: small Gaussian noise (the sizes do not depend on the values).
  const errorFeedback = gaussianArray(total, 1, 1e-3);
  const tensors = compressErrorFeedback(errorFeedback, layout, compression);
  const bytes = encodeSubmission(
    { runId: config.runId, netuid: config.netuid, window: 1, uid: 1, hotkey: new Uint8Array(32), sampleDigest: new Uint8Array(16), sampleCount: 0, tensors },
    compression,
  );
  // The bytes must decode under the run's own limits, or the figure would describe an unusable format.
  decodeSubmission(bytes, { layout, compression, bounds: config.bounds, maxBytes: config.window.maxSubmissionBytes });

  const bits = Math.log2(compression.quantizationBins);
  const sums = { all: { dense: 0, packed: 0, perByte: 0, header: 0 }, twoD: { dense: 0, packed: 0, perByte: 0, header: 0 }, oneD: { dense: 0, packed: 0, perByte: 0, header: 0 } };
  for (const spec of layout) {
    const chunks = chunkLayout(spec.shape, compression);
    const count = chunks.chunkCount * chunks.k;
    const indexBytes = (count / 2) * 3;
    // Per-tensor record overhead: name, ndim, dims, k, shift, scale, lookup.
    const header = 2 + new TextEncoder().encode(spec.name).length + 1 + 4 * spec.shape.length + 2 + 8 + 4 * compression.quantizationBins;
    for (const key of ['all', spec.shape.length === 2 ? 'twoD' : 'oneD'] as const) {
      sums[key].dense += 4 * spec.size;
      sums[key].packed += indexBytes + Math.ceil((count * bits) / 8);
      sums[key].perByte += indexBytes + count;
      sums[key].header += header;
    }
  }
  const containerHeader = bytes.length - sums.all.packed - sums.all.header;

  printBench('submission-size', `Node (sizes are device-independent); small preset, ${total} parameters, ${layout.length} tensors`, [
    { name: 'whole submission (wire bytes)', unit: 'bytes', value: bytes.length, baselineName: 'dense fp32', baseline: sums.all.dense, better: 'lower' },
    { name: 'whole submission (wire bytes)', unit: 'bytes', value: bytes.length, baselineName: 'Templar 1 code/byte', baseline: sums.all.perByte + sums.all.header + containerHeader, better: 'lower' },
    { name: '2-D tensors: indices + codes', unit: 'bytes', value: sums.twoD.packed, baselineName: 'dense fp32', baseline: sums.twoD.dense, better: 'lower' },
    { name: '2-D tensors: with per-tensor records', unit: 'bytes', value: sums.twoD.packed + sums.twoD.header, baselineName: 'dense fp32', baseline: sums.twoD.dense, better: 'lower' },
    { name: '2-D tensors: indices + codes', unit: 'bytes', value: sums.twoD.packed, baselineName: 'Templar 1 code/byte', baseline: sums.twoD.perByte, better: 'lower' },
    { name: '1-D tensors (sent densely)', unit: 'bytes', value: sums.oneD.packed + sums.oneD.header, baselineName: 'dense fp32', baseline: sums.oneD.dense, better: 'lower' },
  ]);
});
