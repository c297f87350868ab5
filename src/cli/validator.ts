/**
 * `npm run validator -- --devnet http://127.0.0.1:4173 [--uri //Alice | --uri-file PATH] [--preset tiny]
 *   [--state .validator/state.json] [--windows N]`
 *
 * The hotkey's secret URI comes from `--uri-file PATH` (its first line), `--uri`, or the environment
 * (`GAUNTLET_VALIDATOR_URI`, as `npm run evaluate`), else the devnet development key `//Alice`. A flag
 * shows in the process list (`ps`), so `--uri` is meant for development keys: any other secret there
 * draws a warning.
 *
 * A Node validator for the devnet (gauntlet-spec §3.4, §7.8): registers its hotkey, then for each
 * window whose put window has closed (the chain is in s + validatorOffset and the head's timestamp is
 * past `time_max` of s) runs `Validator.runWindow(s)` with losses on the wasm EP, prints one line per
 * event, sets weights and persists its scoring state after every window (restart resumes from it).
 * On restart θ comes back from the validator's own last checkpoint and the aggregated updates it
 * published after it (`Validator.restore`).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEV_PHRASE } from '@polkadot/keyring';
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

/** Where the hotkey's secret URI may come from when no flag names it (the name `npm run evaluate` reads too). */
export const VALIDATOR_URI_ENV = 'GAUNTLET_VALIDATOR_URI';
/** The devnet's development key: public by design, the default for `npm start`'s validator. */
export const DEFAULT_VALIDATOR_URI = '//Alice';

export class ValidatorUsageError extends Error {
  override readonly name = 'ValidatorUsageError';
}

/**
 * Whether `uri` is a derivation of the well-known development phrase (`//Alice`, `//Volunteer//validator`,
 * or the phrase itself with such a path): those keys are public, so showing them in `ps` leaks nothing.
 * A password (`///…`), a mnemonic, a hex seed or anything else is a real secret.
 */
export function isDevelopmentUri(uri: string): boolean {
  const path = uri.startsWith(DEV_PHRASE) ? uri.slice(DEV_PHRASE.length) : uri;
  return (path === '' && uri === DEV_PHRASE) || /^\/\/[^/\s]+(\/\/?[^/\s]+)*$/.test(path);
}

export interface ValidatorUri {
  readonly uri: string;
  readonly source: '--uri' | '--uri-file' | typeof VALIDATOR_URI_ENV | 'default';
  /** Lines to print on stderr before starting (the secret is never part of them). */
  readonly warnings: readonly string[];
}

/**
 * Picks the secret URI: a flag if one is given (`--uri-file` or `--uri`, not both), else the
 * environment variable, else the devnet development key. Throws ValidatorUsageError for an unusable
 * choice, with what to do instead.
 */
export function resolveValidatorUri(flags: { readonly uri?: string; readonly uriFile?: string }, env: NodeJS.ProcessEnv): ValidatorUri {
  if (flags.uri !== undefined && flags.uriFile !== undefined) throw new ValidatorUsageError('Give the hotkey either with --uri or with --uri-file, not both.');
  if (flags.uriFile !== undefined) {
    let text: string;
    let mode: number;
    try {
      text = readFileSync(flags.uriFile, 'utf8');
      mode = statSync(flags.uriFile).mode;
    } catch (error) {
      throw new ValidatorUsageError(`--uri-file ${flags.uriFile} cannot be read (${error instanceof Error ? error.message : String(error)}).`);
    }
    const uri = (text.split(/\r?\n/)[0] ?? '').trim();
    if (uri === '') throw new ValidatorUsageError(`--uri-file ${flags.uriFile}: its first line is empty; write the hotkey's secret URI there.`);
    // Like ssh with private keys: say so, since another user of the machine could read the secret.
    const warnings = process.platform !== 'win32' && (mode & 0o077) !== 0
      ? [`warning: --uri-file ${flags.uriFile} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it.`]
      : [];
    return { uri, source: '--uri-file', warnings };
  }
  if (flags.uri !== undefined) {
    if (flags.uri.trim() === '') throw new ValidatorUsageError('--uri is empty; give the hotkey\'s secret URI.');
    const warnings = isDevelopmentUri(flags.uri)
      ? []
      : [`warning: --uri holds a secret that any user of this machine can see in the process list (ps). Pass it in ${VALIDATOR_URI_ENV} or in a file with --uri-file PATH instead.`];
    return { uri: flags.uri, source: '--uri', warnings };
  }
  const fromEnv = env[VALIDATOR_URI_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { uri: fromEnv.trim(), source: VALIDATOR_URI_ENV, warnings: [] };
  return { uri: DEFAULT_VALIDATOR_URI, source: 'default', warnings: [] };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devnet: { type: 'string', default: 'http://127.0.0.1:4173' },
      uri: { type: 'string' },
      'uri-file': { type: 'string' },
      preset: { type: 'string', default: 'tiny' },
      state: { type: 'string', default: '.validator/state.json' },
      windows: { type: 'string' },
    },
  });
  const secret = resolveValidatorUri({ uri: values.uri, uriFile: values['uri-file'] }, process.env);
  for (const warning of secret.warnings) console.warn(warning);
  const preset = values.preset;
  if (preset !== 'tiny' && preset !== 'small') throw new Error(`Unknown --preset '${preset}'; use tiny or small.`);
  const config = RUN_CONFIG_PRESETS[preset]();
  const maxWindows = values.windows === undefined ? Number.POSITIVE_INFINITY : Number(values.windows);
  if (!(maxWindows > 0)) throw new Error(`--windows must be a positive number, got '${values.windows}'.`);

  ort.env.wasm.numThreads = 1;
  ensureShards();
  const { tokens } = loadAllTokens();
  const signer = await KeyringSigner.fromUris([secret.uri]);
  const hotkey = (await signer.accounts())[0]!.address;
  const chain = new DevnetChain(values.devnet, signer, WebSocket as unknown as WebSocketConstructor);
  const storage = new DevnetStorage(values.devnet, signer, hotkey, config.window.maxSubmissionBytes * 4);
  const { uid } = await chain.register(hotkey, config.netuid);
  console.log(`validator ${hotkey} (key from ${secret.source}) is uid ${uid} on netuid ${config.netuid} (${values.devnet}), preset ${preset}`);

  const engine = new WasmTrainerEngine(ort);
  const info = await engine.init(config);
  console.log(`engine: ${info.backend}, ${info.parameterCount} parameters`);
  const validator = new Validator({
    config,
    layout: parameterLayout(config.model),
    engine,
    signer,
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

// Runs only as a command, so tests can import the URI rules without starting a validator.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    process.exitCode = 1;
  });
}
