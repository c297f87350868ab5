import { FINITE_ONLY, encodeTensor } from '../../src/core/compress/index.ts';
import type { CompressionConfig } from '../../src/core/config.ts';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { gaussianArray, Xoshiro128 } from '../../src/core/prng.ts';
import { contentHash, decodeSubmission, encodeSubmission, layoutHash, signingMessage, WireFormatError } from '../../src/core/wire/index.ts';
import { hex, sha256Hex, type GoldenCases } from './golden.ts';

const compression: CompressionConfig = { ...smallRunConfig().compression, targetChunk: 32, topk: 16 };
const layout = [
  { name: 'embed', shape: [64, 96] },
  { name: 'norm', shape: [96] },
];

function submissionBytes(): Uint8Array {
  return encodeSubmission(
    {
      runId: 'golden-run',
      netuid: 268,
      window: 123456,
      uid: 42,
      hotkey: Uint8Array.from({ length: 32 }, (_, i) => 255 - i),
      sampleDigest: Uint8Array.from({ length: 16 }, (_, i) => i * 7),
      sampleCount: 64,
      tensors: layout.map((spec, t) => encodeTensor(spec, gaussianArray(spec.shape.reduce((a, b) => a * b), 50 + t, 0.02), compression)),
    },
    compression,
  );
}

const cases: GoldenCases = {
  'submission bytes, hashes and signing message': () => {
    const bytes = submissionBytes();
    const hash = contentHash(bytes);
    return {
      length: bytes.length,
      contentHash: hex(hash),
      layoutHash: hex(layoutHash(layout)),
      signingMessage: hex(signingMessage({ runId: 'golden-run', runConfigHash: Uint8Array.from({ length: 32 }, (_, i) => 3 * i), netuid: 268, window: 123456, uid: 42, contentHash: hash })),
    };
  },
  'decoder verdicts on 2000 mutated inputs': () => {
    const good = submissionBytes();
    const rng = new Xoshiro128(51);
    const verdicts: string[] = [];
    for (let trial = 0; trial < 2000; trial++) {
      const input = good.slice(0, good.length - (trial % 3 === 0 ? rng.nextInt(8) : 0));
      input[rng.nextInt(input.length)] = rng.nextInt(256);
      try {
        decodeSubmission(input, { layout, compression, bounds: FINITE_ONLY, maxBytes: 1 << 20 });
        verdicts.push('ok');
      } catch (error) {
        verdicts.push(error instanceof WireFormatError ? error.code : 'unexpected');
      }
    }
    const counts: Record<string, number> = {};
    for (const v of verdicts) counts[v] = (counts[v] ?? 0) + 1;
    return { counts, sequence: sha256Hex(new TextEncoder().encode(verdicts.join(','))) };
  },
};

export default cases;
