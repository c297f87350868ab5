/**
 * Where a Node command finds its hotkey's secret URI (issue #14 for the validator, issue #20 for the
 * headless miner): a flag shows in the process list (`ps`), so a real secret comes from an
 * environment variable or from a file (`--uri-file`, its first line), and `--uri` is meant for
 * development keys (any other secret there draws a warning). Each command names its own variable
 * and whether it has a default (the devnet's public development keys).
 */
import { readFileSync, statSync } from 'node:fs';
import { DEV_PHRASE } from '@polkadot/keyring';
import { errorMessage, GauntletError } from '../core/errors.ts';

/** A choice of hotkey the command cannot use; the message says what to give instead. */
export class HotkeyUriError extends GauntletError {
  readonly code: string = 'hotkey-uri';
  override readonly name = 'HotkeyUriError';
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

export interface HotkeyUri {
  readonly uri: string;
  /** `--uri`, `--uri-file`, the environment variable's name, or `default`. */
  readonly source: string;
  /** Lines to print on stderr before starting (the secret is never part of them). */
  readonly warnings: readonly string[];
}

/**
 * Picks the secret URI: a flag if one is given (`--uri-file` or `--uri`, not both), else `envName`
 * from the environment, else `defaultUri` (a public development key) when the command has one.
 * Throws HotkeyUriError for an unusable choice, with what to do instead.
 */
export function resolveHotkeyUri(flags: { readonly uri?: string | undefined; readonly uriFile?: string | undefined }, env: NodeJS.ProcessEnv, envName: string, defaultUri?: string): HotkeyUri {
  if (flags.uri !== undefined && flags.uriFile !== undefined) throw new HotkeyUriError('Give the hotkey either with --uri or with --uri-file, not both.');
  if (flags.uriFile !== undefined) {
    let text: string;
    let mode: number;
    try {
      text = readFileSync(flags.uriFile, 'utf8');
      mode = statSync(flags.uriFile).mode;
    } catch (error) {
      throw new HotkeyUriError(`--uri-file ${flags.uriFile} cannot be read (${errorMessage(error)}).`);
    }
    const uri = (text.split(/\r?\n/)[0] ?? '').trim();
    if (uri === '') throw new HotkeyUriError(`--uri-file ${flags.uriFile}: its first line is empty; write the hotkey's secret URI there.`);
    // Like ssh with private keys: say so, since another user of the machine could read the secret.
    const warnings = process.platform !== 'win32' && (mode & 0o077) !== 0
      ? [`warning: --uri-file ${flags.uriFile} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it.`]
      : [];
    return { uri, source: '--uri-file', warnings };
  }
  if (flags.uri !== undefined) {
    if (flags.uri.trim() === '') throw new HotkeyUriError('--uri is empty; give the hotkey\'s secret URI.');
    const warnings = isDevelopmentUri(flags.uri)
      ? []
      : [`warning: --uri holds a secret that any user of this machine can see in the process list (ps). Pass it in ${envName} or in a file with --uri-file PATH instead.`];
    return { uri: flags.uri, source: '--uri', warnings };
  }
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { uri: fromEnv.trim(), source: envName, warnings: [] };
  if (defaultUri === undefined) throw new HotkeyUriError(`No hotkey given: set ${envName} or pass --uri-file PATH (its first line is the hotkey's secret URI).`);
  return { uri: defaultUri, source: 'default', warnings: [] };
}
