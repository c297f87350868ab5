import {
  classifyUploadTime,
  firstBlockOfWindow,
  isNullRound,
  peerListFirstEffectiveWindow,
  putWindowAnchorBlock,
  putWindowBounds,
  validatorSyncWindow,
  windowOfBlock,
} from '../../src/core/clock.ts';
import {
  assignPool,
  batchesForPool,
  batchTokens,
  cleanBrownText,
  decodeTokens,
  encodeText,
  evalSample,
  evalSampleSeed,
  loadTokenStream,
  minerPool,
  randomEvalPool,
  sampleDigest,
  sequenceSpans,
  ShardIntegrityError,
  verifyShardBytes,
  windowSeed,
} from '../../src/core/data/index.ts';
import { Xoshiro128 } from '../../src/core/prng.ts';
import { canonicalJson, runConfigHash, smallRunConfig, tinyRunConfig } from '../../src/core/run-config.ts';
import { hex, sha256Hex, type GoldenCases } from './golden.ts';

/** Sequences in the Brown build at T = 64 and T = 256 (≈6M tokens), fixed here so cases need no files. */
const TINY_SEQUENCES = 93_218;
const SMALL_SEQUENCES = 23_304;

/** A deterministic byte stream standing in for the corpus. */
function syntheticTokens(length: number, seed: number): Uint8Array {
  const rng = new Xoshiro128(seed);
  return Uint8Array.from({ length }, () => rng.nextInt(256));
}

const cases: GoldenCases = {
  'window seeds': () =>
    [
      [0, 0],
      [1, 0],
      [5000, 7],
      [255, 51_802],
      [65_535, 2 ** 40 + 3],
    ].map(([uid, window]) => windowSeed(uid as number, window as number)),

  'miner pools, batches and digests (tiny and small)': () => {
    const tiny = tinyRunConfig();
    const small = smallRunConfig();
    const tinyPool = minerPool(7, 1234, tiny, TINY_SEQUENCES);
    const smallPool = minerPool(7, 1234, small, SMALL_SEQUENCES);
    return {
      tinyPool,
      tinyBatches: batchesForPool(tinyPool, tiny.inner.innerSteps, tiny.inner.batchSize),
      tinyDigest: sampleDigest(tinyPool),
      smallPoolHead: smallPool.slice(0, 16),
      smallPoolSha: sha256Hex(Float64Array.from(smallPool)),
      smallDigest: sampleDigest(smallPool),
    };
  },

  'assignPool edge sizes': () => ({
    permutation: assignPool(99, 12, 12),
    huge: assignPool(0xffffffff, 2 ** 32, 8),
    empty: assignPool(1, 1, 0),
  }),

  'evaluation samples': () => {
    const cfg = smallRunConfig();
    const own = evalSample(minerPool(3, 500, cfg, SMALL_SEQUENCES), cfg.scoring.evalSequences, 0x9e3779b1);
    const random = randomEvalPool(424242, 500, cfg, SMALL_SEQUENCES);
    return { own, randomUid: random.uid, random: random.ids, randomDigest: sampleDigest(random.ids) };
  },

  'sequence tokens and spans': () => {
    const tokens = syntheticTokens(10_000, 5);
    const batch = batchTokens(tokens, [0, 17, 155], 64);
    return {
      inputs: sha256Hex(batch.inputs),
      targets: sha256Hex(batch.targets),
      spans: sequenceSpans(4095, 256, 262_144, 6_000_000),
    };
  },

  'sample digests': () => [sampleDigest([]), sampleDigest([0]), sampleDigest([3, 1, 2]), sampleDigest([2 ** 40 + 5, 7, 123_456_789])],

  'byte tokenizer and Brown cleaning': () => {
    const tagged = "\t``/`` We're/ppss+ber getting/vbg more/ap '/' pro/jj '/' letters/nns ''/'' ,/, said/vbd Ratcliff/np ./.\r\n\n\tJr./np ./.\n";
    const clean = cleanBrownText(tagged);
    const unicode = encodeText('naïve café — 東京 😀');
    return { clean, cleanTokens: hex(encodeText(clean)), unicode: hex(unicode), roundTrip: decodeTokens(unicode), cut: decodeTokens([0x41, 0xe2, 0x82]) };
  },

  'shard verification': () => {
    const bytes = syntheticTokens(1000, 8);
    const entry = { file: 'shards/shard-00000.bin', tokens: 1000, sha256: sha256Hex(bytes) };
    verifyShardBytes(entry, bytes);
    try {
      verifyShardBytes(entry, bytes.subarray(0, 999));
      return { rejected: false };
    } catch (error) {
      return { rejected: error instanceof ShardIntegrityError, message: (error as Error).message };
    }
  },

  'token stream from verified shards': async () => {
    const stream = syntheticTokens(2500, 9);
    const files = new Map<string, Uint8Array>();
    const shards = [0, 1, 2].map((i) => {
      const bytes = stream.slice(i * 1000, (i + 1) * 1000);
      const file = `shards/shard-0000${i}.bin`;
      files.set(file, bytes);
      return { file, tokens: bytes.length, sha256: sha256Hex(bytes) };
    });
    const manifest = {
      version: 1 as const,
      tokenizer: 'bytes-utf8-v1',
      shardTokens: 1000,
      shards,
      totalTokens: 2500,
      source: { corpus: 'synthetic', corpusVersion: '0', documents: 1 },
    };
    const loaded = await loadTokenStream(manifest, (file) => Promise.resolve(files.get(file) ?? new Uint8Array(0)));
    return { sha: sha256Hex(loaded), equal: sha256Hex(loaded) === sha256Hex(stream), evalSeed: evalSampleSeed(7, 51_802, 123_456_789) };
  },

  'window clock': () => {
    const { window } = tinyRunConfig();
    const blocks = [0, 4, 5, 9, 10, 6_475_249, 6_475_250];
    const bounds = putWindowBounds(1_763_769_600_000, window.putWindowMs);
    return {
      windows: blocks.map((b) => windowOfBlock(b, window.blocksPerWindow)),
      windows125: blocks.map((b) => windowOfBlock(b, 125)),
      firstBlocks: [0, 1, 51_802].map((w) => firstBlockOfWindow(w, 125)),
      anchor: putWindowAnchorBlock(41, window.blocksPerWindow),
      bounds,
      timing: [-1, 0, 1500, 3000, 3001].map((dt) => classifyUploadTime(bounds.timeMinMs + dt, bounds)),
      sync: [0, 1, 2, 100].map((w) => validatorSyncWindow(w, window.validatorOffset)),
      firstEffective: peerListFirstEffectiveWindow(100, window.peerListWindowMargin),
      nullRounds: [99, 100, 101, 102, 103].map((w) => isNullRound(w, 100, window)),
    };
  },

  'run config hashes': () => ({
    tiny: runConfigHash(tinyRunConfig()),
    small: runConfigHash(smallRunConfig()),
    tinyCanonicalLength: canonicalJson(tinyRunConfig()).length,
  }),
};

export default cases;
