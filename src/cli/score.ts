/**
 * `npm run score -- <window-inputs.json> [--preset tiny|small|medium] [--uid N]... [--reasons] [--json]`
 *
 * Replays recorded validator windows through the shared scorer (src/core/scoring) and prints the
 * resulting state, weights and reasons as tables: an audit tool for validators and an answer to
 * "why did I earn what I earned" for peers (style.md §1.2).
 *
 * The file is either a JSON array of `WindowScoringInputs`, or an object
 * `{ windows: WindowScoringInputs[], config?: ScoringConfig, initialState?: ValidatorScoringState }`.
 * Without `config` in the file the scoring config of `--preset` (default `tiny`) is used.
 */

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ScoringConfig } from '../core/config.ts';
import { RUN_CONFIG_PRESETS } from '../core/run-config.ts';
import {
  createScoringState,
  explain,
  ordinal,
  parseState,
  parseWindowScoringInputs,
  scoreWindow,
  ScoringInputError,
  validateScoringConfig,
  type ScoreReason,
  type ValidatorScoringState,
  type WindowScoringResult,
} from '../core/scoring/index.ts';
import { errorMessage, GauntletError } from '../core/errors.ts';

/** A replay file that cannot be used as a whole (the window-level problems are `ScoringInputError`s). */
export class ReplayFileError extends GauntletError {
  readonly code: string = 'replay-file';
  override readonly name = 'ReplayFileError';
}

export interface ReplayOptions {
  readonly preset: keyof typeof RUN_CONFIG_PRESETS;
  readonly explainUids: readonly number[];
  readonly showReasons: boolean;
}

export interface Replay {
  readonly config: ScoringConfig;
  readonly results: WindowScoringResult[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses the replay text and scores every window in order. */
export function replay(text: string, preset: ReplayOptions['preset'] = 'tiny'): Replay {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ReplayFileError(`The replay file is not JSON (${errorMessage(error)}).`);
  }
  const file = Array.isArray(raw) ? { windows: raw } : raw;
  if (!isObject(file) || !Array.isArray(file.windows)) {
    throw new ReplayFileError('Expected a JSON array of window inputs or an object with a "windows" array.');
  }
  let config: ScoringConfig = RUN_CONFIG_PRESETS[preset]().scoring;
  if (file.config !== undefined) {
    const defaults = config;
    if (!isObject(file.config)) throw new ReplayFileError('"config" must be a ScoringConfig object.');
    const missing = Object.keys(defaults).filter((key) => !(key in (file.config as object)));
    if (missing.length > 0) throw new ReplayFileError(`"config" lacks ${missing.join(', ')}.`);
    config = file.config as unknown as ScoringConfig;
    validateScoringConfig(config);
  }
  let state: ValidatorScoringState = file.initialState === undefined ? createScoringState() : parseState(file.initialState);
  const results: WindowScoringResult[] = [];
  (file.windows as unknown[]).forEach((windowRaw, i) => {
    let inputs;
    try {
      inputs = parseWindowScoringInputs(windowRaw);
    } catch (error) {
      if (error instanceof ScoringInputError) {
        throw new ScoringInputError(`windows.${i}.${error.field}`, error.problem);
      }
      throw error;
    }
    const result = scoreWindow(state, inputs, config);
    results.push(result);
    state = result.state;
  });
  return { config, results };
}

function fmt(value: number | null, digits = 4): string {
  if (value === null) return '-';
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(digits);
}

/** Plain fixed-width table. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = (cell: string) => /^[-+0-9.e]+$/.test(cell);
  const rightAligned = header.map((_, c) => rows.length > 0 && rows.every((r) => numeric(r[c] ?? '') || r[c] === '-'));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function describeChange(reason: ScoreReason): string {
  return Object.keys(reason.after)
    .map((key) => `${key} ${fmt(reason.before[key] ?? null)}→${fmt(reason.after[key] ?? null)}`)
    .join(', ');
}

/** The printed report of a replay. */
export function formatReplay(run: Replay, options: Omit<ReplayOptions, 'preset'>): string {
  const out: string[] = [];
  const last = run.results.at(-1);
  if (last === undefined) return 'No windows to replay.';
  out.push(`Scoring replay: ${run.results.length} windows, weighting "${run.config.weighting}"`, '');
  out.push(
    table(
      ['window', 'slashes', 'evaluated', 'weighted uids', 'set_weights'],
      run.results.map((r) => {
        const window = r.reasons[0]?.window ?? r.state.lastWindow ?? 0;
        const slashes = r.reasons.filter((x) => x.rule.endsWith('slash') || x.rule.endsWith('reset')).length;
        const evaluated = r.reasons.filter((x) => x.rule === 'loss-score').map((x) => x.uid);
        return [String(window), String(slashes), evaluated.join(',') || '-', Object.keys(r.weights).join(','), r.setWeightsDue ? 'yes' : 'no'];
      }),
    ),
    '',
  );
  const state = last.state;
  out.push(`Final state (window ${fmt(state.lastWindow)}, global step ${state.globalStep}):`);
  out.push(
    table(
      ['uid', 'final', 'weight', 'ordinal', 'mu', 'sigma', 'B', 'sync', 'LossScore', 'binary', 'inactive', 'ban'],
      Object.entries(state.peers).map(([uid, p]) => [
        uid,
        fmt(p.finalScore),
        fmt(p.weight),
        p.rating === null ? '-' : fmt(ordinal(p.rating), 3),
        fmt(p.rating?.mu ?? null, 3),
        fmt(p.rating?.sigma ?? null, 3),
        fmt(p.binaryMovingAverage),
        fmt(p.syncScore),
        fmt(p.gradientScore, 5),
        fmt(p.binaryIndicator),
        p.inactiveSince === null ? '-' : `since ${p.inactiveSince}`,
        p.naughtyWindowsLeft > 0 ? String(p.naughtyWindowsLeft) : '-',
      ]),
    ),
    '',
  );
  out.push('Chain weights (u16, max-upscaled):');
  out.push(table(['uid', 'u16', 'weight'], last.chainWeights.uids.map((uid, i) => [String(uid), String(last.chainWeights.values[i]!), fmt(last.weights[String(uid)] ?? 0, 6)])), '');
  const allReasons = run.results.flatMap((r) => r.reasons);
  if (options.showReasons) {
    out.push('Reasons:');
    out.push(table(['window', 'uid', 'rule', 'change'], allReasons.map((r) => [String(r.window), String(r.uid), r.rule, describeChange(r)])), '');
  }
  for (const uid of options.explainUids) out.push(explain(state, uid, allReasons), '');
  return out.join('\n');
}

const SCORE_USAGE = `npm run score -- <window-inputs.json> [--preset tiny|small|medium] [--uid N]... [--reasons] [--json]
  Replays a validator's recorded window inputs through the scoring module and prints the scores.
  --preset NAME   the run's scoring constants (default tiny)
  --uid N         explain this uid's score (repeatable)
  --reasons       list every reason record
  --json          the final state, weights and reasons as JSON`;

function parseArgs(argv: readonly string[]): { file: string; options: ReplayOptions; json: boolean } | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  let file: string | undefined;
  let preset: ReplayOptions['preset'] = 'tiny';
  const explainUids: number[] = [];
  let showReasons = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--reasons') showReasons = true;
    else if (arg === '--json') json = true;
    else if (arg === '--preset') {
      const name = argv[++i];
      if (name === undefined || !Object.hasOwn(RUN_CONFIG_PRESETS, name)) throw new ReplayFileError(`--preset must be one of ${Object.keys(RUN_CONFIG_PRESETS).join(', ')}, got ${String(name)}`);
      preset = name as keyof typeof RUN_CONFIG_PRESETS;
    } else if (arg === '--uid') {
      const uid = Number(argv[++i]);
      if (!Number.isInteger(uid) || uid < 0 || uid > 0xffff) throw new ReplayFileError('--uid needs a uid in [0, 65535]');
      explainUids.push(uid);
    } else if (file === undefined) file = arg;
    else throw new ReplayFileError(`Unexpected argument ${arg}`);
  }
  if (file === undefined) {
    throw new ReplayFileError(`No window-inputs file given.\n${SCORE_USAGE}`);
  }
  return { file, options: { preset, explainUids, showReasons }, json };
}

function main(argv: readonly string[]): number {
  try {
    const parsed = parseArgs(argv);
    if (parsed === 'help') {
      console.log(SCORE_USAGE);
      return 0;
    }
    const { file, options, json } = parsed;
    const run = replay(readFileSync(file, 'utf8'), options.preset);
    const last = run.results.at(-1);
    if (json) {
      console.log(JSON.stringify({ state: last?.state ?? null, weights: last?.weights ?? {}, chainWeights: last?.chainWeights ?? null, reasons: run.results.flatMap((r) => r.reasons) }, null, 2));
    } else {
      console.log(formatReplay(run, options));
    }
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
