/**
 * What `npm run validator` prints for a window (issue #17: one line per window instead of seven JSON
 * lines, so the terminal of `npm start` stays readable; `--verbose` prints every event as JSON).
 */
import type { RunConfig } from '../core/config.ts';
import type { WindowEvent } from '../peer/events.ts';
import { meanControlLoss } from '../peer/validator-events.ts';
import type { ValidatorWindowReport } from '../peer/validator.ts';

/** Every event as `[window N] kind {json}`: the form `--verbose` prints and the tests read. */
export function eventLine(event: WindowEvent): string {
  const { kind, window, ...rest } = event;
  return `[window ${window}] ${kind} ${JSON.stringify(rest)}`;
}

/** What happened to the weights in a window, from its events; null when nothing did. */
export function weightsText(events: readonly WindowEvent[]): string | null {
  for (const event of [...events].reverse()) {
    if (event.kind === 'validator-weights-set') return `weights ${event.method === 'revealWeights' ? 'revealed' : 'set'} at block ${event.block}`;
    if (event.kind === 'validator-weights-committed') return `weights committed at block ${event.block}`;
    if (event.kind === 'validator-weights-skipped') return `weights not set (${event.reason})`;
  }
  return null;
}

/**
 * One line for a scored window: who submitted and was gathered, each evaluation's outcome, θ's mean
 * token loss on the control set (the validator's view of the network's loss), and the weights.
 */
export function progressLine(report: ValidatorWindowReport, events: readonly WindowEvent[], config: RunConfig): string {
  const { inputs } = report;
  const gathered = inputs.gather?.gatheredUids ?? [];
  const refused = Object.keys(report.gatherRejections).length;
  const evaluations = inputs.evalUids.map((uid) => `uid ${uid} ${inputs.evaluations[String(uid)]?.status ?? '—'}`);
  const parts = [
    `${inputs.submittedUids.length} submitted, ${gathered.length} gathered${refused > 0 ? `, ${refused} refused` : ''}`,
    evaluations.length === 0 ? 'nobody evaluated' : `evaluated ${evaluations.join(', ')}`,
  ];
  if (inputs.lossRandomBefore !== null) parts.push(`loss ${meanControlLoss(inputs.lossRandomBefore, config.scoring.evalSequences, config.inner.batchSize).toFixed(3)} nats/token`);
  if (!report.outerStepApplied) parts.push('no outer step');
  const weights = weightsText(events);
  if (weights !== null) parts.push(weights);
  return `window ${report.window}: ${parts.join('; ')}`;
}
