/**
 * `npm run data`: builds the byte-token shards and manifest from the Brown corpus into
 * `public/data/` (see src/cli/data-files.ts). Idempotent: exits at once when the build is current.
 *
 *   npx tsx scripts/build-data.ts [--force] [--out <dir>]
 */
import { relative } from 'node:path';
import { DEFAULT_DATA_DIR, ensureShards } from '../src/cli/data-files.ts';

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const dataDir = outIndex >= 0 ? args[outIndex + 1] : DEFAULT_DATA_DIR;
if (dataDir === undefined) {
  console.error('build-data: --out needs a folder, e.g. --out public/data');
  process.exit(2);
}

try {
  const { manifest, built } = ensureShards({ dataDir, force: args.includes('--force') });
  const where = relative(process.cwd(), dataDir) || '.';
  const summary = `${manifest.shards.length} shards, ${manifest.totalTokens} tokens, ${manifest.source.documents} documents`;
  console.log(built ? `build-data: wrote ${where} (${summary})` : `build-data: ${where} is current (${summary})`);
} catch (error) {
  console.error(`build-data: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
