/**
 * `npm run miners -- --devnet http://127.0.0.1:4173 [--count 2] [--verbose]`: honest miners in one
 * Node process on a devnet (issue #17), so that a local network is worth joining: `npm start` runs
 * them beside its validator, and a volunteer who opens the page alone still has peers to be rated
 * against (an OpenSkill match needs at least two evaluated peers). Each is the tab's miner loop on a
 * wasm engine (src/cli/devnet-miners.ts), with a public development key `//LocalMiner{i}`. The run is
 * the one the devnet publishes (its run document, checked; `--run-hash` pins it).
 *
 * It prints one line per window once every miner has uploaded it (`--verbose`: every event as JSON),
 * and every error at once. Ctrl-C stops the miners after their step in progress.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { errorMessage, GauntletError } from '../core/errors.ts';
import { runConfigHash } from '../core/run-config.ts';
import { pinnedRunHash, RUN_FLAG_OPTIONS, RunFlagError } from '../devnet/run-flags.ts';
import type { PeerEvent } from '../peer/events.ts';
import { fetchRunDocument } from '../net/run-document-client.ts';
import { ensureShards, loadAllTokens } from './data-files.ts';
import { DevnetMiners } from './devnet-miners.ts';
import { BackendFlagError, nodeEngines, parseBackend } from './node-engines.ts';

const USAGE = `npm run miners -- [--devnet URL] [--count N] [--backend wasm|webgpu] [--run-hash HASH] [--verbose]
  Honest miners in this process on a devnet (public development keys //LocalMiner0, //LocalMiner1, …).
  --devnet URL      the devnet (default http://127.0.0.1:4173)
  --count N         how many miners (default 2, at most 16)
  --backend B       wasm (default) or webgpu: the tab's WebGPU engine on Dawn (npm package webgpu); on a
                    machine without a Vulkan driver it uses Chromium's SwiftShader (a CPU emulation)
  --run-hash HASH   refuse the devnet's run unless its hash is HASH
  --verbose         print every event as JSON, not one line per window`;

export class MinersUsageError extends GauntletError {
  readonly code: string = 'miners-usage';
  override readonly name = 'MinersUsageError';
}

/** Counts the miners' uploads per window and says when all of them uploaded one. */
export class UploadTally {
  private readonly uploads = new Map<number, number[]>();
  constructor(private readonly miners: number) {}

  /** The window's line once the last miner uploaded it, else null. */
  record(event: PeerEvent): string | null {
    if (event.kind !== 'miner-uploaded') return null;
    const uids = [...(this.uploads.get(event.window) ?? []), event.uid];
    this.uploads.set(event.window, uids);
    for (const window of [...this.uploads.keys()]) if (window < event.window - 4) this.uploads.delete(window);
    if (uids.length < this.miners) return null;
    this.uploads.delete(event.window);
    return `window ${event.window}: miners uid ${uids.sort((a, b) => a - b).join(', ')} uploaded`;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devnet: { type: 'string', default: 'http://127.0.0.1:4173' },
      count: { type: 'string', default: '2' },
      backend: { type: 'string', default: 'wasm' },
      'run-hash': RUN_FLAG_OPTIONS['run-hash'],
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  let backend;
  try {
    backend = parseBackend(values.backend);
  } catch (error) {
    throw error instanceof BackendFlagError ? new MinersUsageError(error.message) : error;
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new MinersUsageError(`--count must be a whole number from 1 to 16, got '${values.count}'.`);
  let pinned: string | undefined;
  try {
    pinned = pinnedRunHash(values);
  } catch (error) {
    throw error instanceof RunFlagError ? new MinersUsageError(error.message) : error;
  }
  const { config } = await fetchRunDocument(values.devnet, pinned === undefined ? {} : { expectedHash: pinned });
  ensureShards();
  const { tokens } = loadAllTokens();
  const tally = new UploadTally(count);
  const nullRoundsSaid = new Set<number>();
  const onEvent = (event: PeerEvent): void => {
    if (values.verbose) {
      console.log(JSON.stringify(event));
      return;
    }
    if (event.kind === 'miner-null-round' && !nullRoundsSaid.has(event.window)) {
      nullRoundsSaid.add(event.window);
      console.log(`window ${event.window}: a null round of the run, nothing to train (training starts in window ${event.trainsFrom})`);
    }
    if (event.kind === 'miner-error' || event.kind === 'peer-window-failed' || event.kind === 'peer-stopped' || (event.kind === 'peer-pace' && !event.fits)) console.error(`miners: ${event.message}`);
    const line = tally.record(event);
    if (line !== null) console.log(line);
  };
  const uris = Array.from({ length: count }, (_, i) => `//LocalMiner${i}`);
  const engines = await nodeEngines(backend, 'Node miners train');
  const miners = await DevnetMiners.start({ devnetUrl: values.devnet, config, uris, tokens, onEvent, engines: engines.provider });
  console.log(`${count} honest miner${count === 1 ? '' : 's'} (uids ${miners.uids.join(', ')}) on ${values.devnet}, run ${config.runId} (run hash ${runConfigHash(config)}), training on ${engines.describe}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('stopping the miners after their step in progress…');
  await miners.stop();
  console.log('miners stopped');
}

// Runs only as a command, so tests can import the tally without starting miners.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(`miners: ${errorMessage(error)}`);
    if (error instanceof GauntletError && error.action !== undefined) console.error(error.action);
    if (error instanceof MinersUsageError) console.error(`\n${USAGE}`);
    process.exitCode = error instanceof MinersUsageError ? 2 : 1;
  });
}
