/**
 * `npm run validator -- --devnet http://127.0.0.1:4173 [--uri //Alice] [--preset tiny]
 *   [--state .validator/state.json] [--windows N]`
 *
 * A Node validator for the devnet (gauntlet-spec §3.4, §7.8): registers its hotkey, then for each
 * window whose put window has closed (the chain is in s + validatorOffset and the head's timestamp is
 * past `time_max` of s) runs `Validator.runWindow(s)` with losses on the wasm EP, prints one line per
 * event, sets weights and persists its scoring state after every window (restart resumes from it).
 * On restart θ comes back from the validator's own last checkpoint and the aggregated updates it
 * published after it (`Validator.restore`).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import WebSocket from 'ws';
import { RUN_CONFIG_PRESETS } from '../core/run-config.ts';
import { WasmTrainerEngine } from '../gpu/wasm-engine.ts';
import { parameterLayout } from '../model/params.ts';
import { DevnetChain, DevnetStorage, type WebSocketConstructor } from '../net/devnet-client.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import type { WindowEvent } from '../peer/events.ts';
import { Validator, type StatePersistence } from '../peer/validator.ts';
import { runValidatorSchedule } from '../peer/validator-schedule.ts';
import { ensureShards, loadAllTokens } from './data-files.ts';

/** Keeps the state in a JSON file, written atomically (temp file + rename). */
class FilePersistence implements StatePersistence {
  constructor(private readonly path: string) {}
  load(): Promise<string | undefined> {
    return Promise.resolve(existsSync(this.path) ? readFileSync(this.path, 'utf8') : undefined);
  }
  save(text: string): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, text);
    renameSync(`${this.path}.tmp`, this.path);
    return Promise.resolve();
  }
}

function formatEvent(event: WindowEvent): string {
  const { kind, window, ...rest } = event;
  return `[window ${window}] ${kind} ${JSON.stringify(rest)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devnet: { type: 'string', default: 'http://127.0.0.1:4173' },
      uri: { type: 'string', default: '//Alice' },
      preset: { type: 'string', default: 'tiny' },
      state: { type: 'string', default: '.validator/state.json' },
      windows: { type: 'string' },
    },
  });
  const preset = values.preset;
  if (preset !== 'tiny' && preset !== 'small') throw new Error(`Unknown --preset '${preset}'; use tiny or small.`);
  const config = RUN_CONFIG_PRESETS[preset]();
  const maxWindows = values.windows === undefined ? Number.POSITIVE_INFINITY : Number(values.windows);
  if (!(maxWindows > 0)) throw new Error(`--windows must be a positive number, got '${values.windows}'.`);

  ort.env.wasm.numThreads = 1;
  ensureShards();
  const { tokens } = loadAllTokens();
  const signer = await KeyringSigner.fromUris([values.uri]);
  const hotkey = (await signer.accounts())[0]!.address;
  const chain = new DevnetChain(values.devnet, signer, WebSocket as unknown as WebSocketConstructor);
  const storage = new DevnetStorage(values.devnet, signer, hotkey, config.window.maxSubmissionBytes * 4);
  const { uid } = await chain.register(hotkey, config.netuid);
  console.log(`validator ${hotkey} is uid ${uid} on netuid ${config.netuid} (${values.devnet}), preset ${preset}`);

  const engine = new WasmTrainerEngine(ort);
  const info = await engine.init(config);
  console.log(`engine: ${info.backend}, ${info.parameterCount} parameters`);
  const validator = new Validator({
    config,
    layout: parameterLayout(config.model),
    engine,
    storage,
    chain,
    hotkey,
    tokens,
    persistence: new FilePersistence(values.state),
    onEvent: (event) => console.log(formatEvent(event)),
  });
  if (await validator.restore()) console.log(`resumed scoring state from ${values.state} (last window ${validator.scoringState.lastWindow})`);

  const nextWindow = validator.scoringState.lastWindow === null ? null : validator.scoringState.lastWindow + 1;
  await runValidatorSchedule({
    config, chain, validator, firstWindow: nextWindow, maxWindows,
    onSkipped: (window, error) => console.error(`[window ${window}] skipped: ${error.message}`),
    // The devnet did not answer (a restart, an overloaded machine): the schedule waits a block and asks again.
    onPollFailed: (error) => console.error(`waiting for the devnet: ${error.message}`),
  });
  await engine.dispose();
  await chain.close();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exitCode = 1;
});
