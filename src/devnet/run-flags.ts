/**
 * The run a Node command is told about on its command line (issue #17): `--preset tiny|small|medium` or
 * `--run-config FILE` (a run config as JSON), and `--run-hash H` to pin the run. The devnet publishes
 * the run it is given; the validator, evaluate and the Node miners fetch the network's run document
 * and refuse it when a run given here (or the pinned hash) is another.
 */
import { readFileSync } from 'node:fs';
import type { RunConfig } from '../core/config.ts';
import { errorMessage, GauntletError } from '../core/errors.ts';
import { RUN_CONFIG_PRESETS, validateRunConfig } from '../core/run-config.ts';

/** `parseArgs` options of the run flags. */
export const RUN_FLAG_OPTIONS = {
  preset: { type: 'string' },
  'run-config': { type: 'string' },
  'run-hash': { type: 'string' },
} as const;

export const RUN_FLAGS_USAGE = `  --preset NAME         the run: a preset (${Object.keys(RUN_CONFIG_PRESETS).join(', ')})
  --run-config FILE     the run: a run config as JSON (instead of --preset)
  --run-hash HASH       pin the run: refuse a run document whose hash is not HASH (64 hex digits)`;

/** A run flag that cannot be used: an unknown preset, an unreadable file, both at once, a malformed hash. */
export class RunFlagError extends GauntletError {
  readonly code: string = 'run-flags';
  override readonly name = 'RunFlagError';
}

export interface RunFlags {
  readonly preset?: string | undefined;
  readonly 'run-config'?: string | undefined;
  readonly 'run-hash'?: string | undefined;
}

/** The run config the flags name, or undefined when they name none. */
export function runConfigFromFlags(flags: RunFlags): RunConfig | undefined {
  const { preset } = flags;
  const file = flags['run-config'];
  if (preset !== undefined && file !== undefined) throw new RunFlagError('Give --preset or --run-config, not both.');
  if (file !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new RunFlagError(`--run-config ${file} cannot be read as JSON (${errorMessage(error)}).`);
    }
    return validateRunConfig(json);
  }
  if (preset === undefined) return undefined;
  if (!Object.hasOwn(RUN_CONFIG_PRESETS, preset)) throw new RunFlagError(`Unknown --preset '${preset}'; use ${Object.keys(RUN_CONFIG_PRESETS).join(' or ')}, or --run-config FILE.`);
  return RUN_CONFIG_PRESETS[preset as keyof typeof RUN_CONFIG_PRESETS]();
}

/** The pinned run hash, checked for form; undefined when none is pinned. */
export function pinnedRunHash(flags: RunFlags): string | undefined {
  const hash = flags['run-hash'];
  if (hash === undefined) return undefined;
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new RunFlagError(`--run-hash '${hash.slice(0, 80)}' is not a run hash: 64 lower-case hex digits.`);
  return hash;
}
