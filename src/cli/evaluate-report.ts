/**
 * The output of `npm run evaluate`: per scored window, what the in-browser validator measured and
 * decided (evaluated uids and their stage-2 losses, OpenSkill ratings, final scores, weights and
 * every slash with the rule and numbers behind it), as `scores.json` and a readable `report.md`.
 * Built only from the Validate view's published status (`window.gauntlet.ui.validate()`), so the
 * report shows exactly what the page showed.
 */
import { lossScore, ordinal, PENALTY_RULES, type ScoreReason } from '../core/scoring/index.ts';
import type { HeadlessValidateStatus as ValidateStatus } from '../workers/validator-api.ts';
import type { ValidatorWindowSummary } from '../peer/validator-events.ts';


export interface EvaluatedPeer {
  readonly uid: number;
  readonly status: 'ok' | 'missing' | 'invalid';
  readonly detail: string | null;
  /** Σ loss over the evaluation batches (sum of per-batch mean token losses). */
  readonly lossOwnBefore: number | null;
  readonly lossOwnAfter: number | null;
  readonly lossRandomBefore: number | null;
  readonly lossRandomAfter: number | null;
  /** (L_rand_before − L_rand_after) / L_rand_before (§7.2). */
  readonly lossScore: number | null;
}

export interface PeerScore {
  readonly uid: number;
  readonly mu: number | null;
  readonly sigma: number | null;
  readonly ordinal: number | null;
  readonly binaryMovingAverage: number;
  readonly syncScore: number;
  readonly finalScore: number;
  /** Normalised weight after this window (the burn uid's share is listed under `burn`). */
  readonly weight: number;
}

export interface Slash {
  readonly uid: number;
  readonly rule: string;
  readonly inputs: ScoreReason['inputs'];
  readonly before: ScoreReason['before'];
  readonly after: ScoreReason['after'];
}

export interface WindowScores {
  readonly window: number;
  readonly submittedUids: readonly number[];
  readonly gatheredUids: readonly number[];
  readonly evaluatedUids: readonly number[];
  readonly evaluations: readonly EvaluatedPeer[];
  readonly scores: readonly PeerScore[];
  /** uid → normalised weight (sums to 1 when any uid has weight), burn uid included. */
  readonly weights: Readonly<Record<string, number>>;
  readonly setWeightsDue: boolean;
  /** What went to the chain for this window: set (u16 values), withheld (no permit), or nothing. */
  readonly chainWeights: { readonly status: 'set'; readonly uids: readonly number[]; readonly values: readonly number[]; readonly block: number } | { readonly status: 'withheld'; readonly reason: string } | { readonly status: 'not-due' | 'none' };
  readonly slashes: readonly Slash[];
}

export interface EvaluateRun {
  readonly network: string;
  readonly preset: string;
  readonly startedAt: string;
  readonly validator: { readonly hotkey: string | null; readonly uid: number | null; readonly validatorPermit: boolean | null; readonly backend: string | null; readonly engineReason: string | null };
  readonly miners: readonly { readonly uid: number; readonly hotkey: string }[];
  readonly burnUid: number;
  readonly windows: readonly WindowScores[];
  readonly notes: readonly string[];
}

function evaluatedPeers(summary: ValidatorWindowSummary): EvaluatedPeer[] {
  return summary.evalUids.map((uid) => {
    const outcome = summary.evaluations[String(uid)];
    const random = summary.lossRandomBefore;
    if (outcome?.status !== 'ok') {
      return { uid, status: outcome?.status ?? 'missing', detail: outcome?.status === 'invalid' ? outcome.detail : null, lossOwnBefore: null, lossOwnAfter: null, lossRandomBefore: random, lossRandomAfter: null, lossScore: null };
    }
    return {
      uid, status: 'ok', detail: null, lossOwnBefore: outcome.lossOwnBefore, lossOwnAfter: outcome.lossOwnAfter, lossRandomBefore: random, lossRandomAfter: outcome.lossRandomAfter,
      lossScore: random === null ? null : lossScore(random, outcome.lossRandomAfter),
    };
  });
}

/** One window of the report from the validator's summary and the weight events the page saw. */
export function windowScores(summary: ValidatorWindowSummary, status: Pick<ValidateStatus, 'weightsSet' | 'weightsSkipped'>, burnUid: number): WindowScores {
  const { result } = summary;
  const scores = Object.entries(result.state.peers)
    .map(([uid, peer]) => ({
      uid: Number(uid),
      mu: peer.rating?.mu ?? null,
      sigma: peer.rating?.sigma ?? null,
      ordinal: peer.rating === null ? null : ordinal(peer.rating),
      binaryMovingAverage: peer.binaryMovingAverage,
      syncScore: peer.syncScore,
      finalScore: peer.finalScore,
      weight: result.weights[uid] ?? 0,
    }))
    .filter((p) => p.uid !== burnUid)
    .sort((a, b) => a.uid - b.uid);
  const set = status.weightsSet.find((w) => w.window === summary.window);
  const withheld = status.weightsSkipped.find((w) => w.window === summary.window);
  const chainWeights: WindowScores['chainWeights'] = set !== undefined ? { status: 'set', uids: set.uids, values: set.values, block: set.block }
    : withheld !== undefined ? { status: 'withheld', reason: withheld.reason }
    : { status: result.setWeightsDue ? 'none' : 'not-due' };
  return {
    window: summary.window,
    submittedUids: summary.submittedUids,
    gatheredUids: summary.gatheredUids,
    evaluatedUids: summary.evalUids,
    evaluations: evaluatedPeers(summary),
    scores,
    weights: result.weights,
    setWeightsDue: result.setWeightsDue,
    chainWeights,
    slashes: result.reasons.filter((r) => PENALTY_RULES.has(r.rule)).map((r) => ({ uid: r.uid, rule: r.rule, inputs: r.inputs, before: r.before, after: r.after })),
  };
}

const num = (value: number | null, digits = 4): string => (value === null ? '—' : Math.abs(value) >= 1e-3 || value === 0 ? value.toFixed(digits) : value.toExponential(2));

/** The readable report: the run, then one table per window. */
export function renderReport(run: EvaluateRun): string {
  const lines: string[] = [
    '# Gauntlet evaluation report',
    '',
    `- network: ${run.network}`,
    `- preset: ${run.preset}`,
    `- started: ${run.startedAt}`,
    `- validator: ${run.validator.hotkey ?? '—'} (uid ${run.validator.uid ?? '—'}), ${run.validator.validatorPermit === null ? 'validator permit not read' : `${run.validator.validatorPermit ? 'with' : 'without'} a validator permit`}, losses on ${run.validator.backend ?? '—'}${run.validator.engineReason === null ? '' : ` (${run.validator.engineReason})`}`,
    `- miners: ${run.miners.length === 0 ? 'those already on the network' : run.miners.map((m) => `uid ${m.uid}`).join(', ')}; burn uid ${run.burnUid}`,
    `- windows scored: ${run.windows.length}`,
    ...run.notes.map((n) => `- note: ${n}`),
    '',
    'Losses are Σ over the evaluation batches of each batch\'s mean token loss; LossScore = (L_rand_before − L_rand_after) / L_rand_before (gauntlet-spec §7.2).',
  ];
  for (const w of run.windows) {
    lines.push('', `## Window ${w.window}`, '');
    lines.push(`Submitted: ${w.submittedUids.join(', ') || 'none'}. Gathered: ${w.gatheredUids.join(', ') || 'none'}. Evaluated: ${w.evaluatedUids.join(', ') || 'none'}.`);
    const cw = w.chainWeights;
    lines.push(`Chain weights: ${cw.status === 'set' ? `set at block ${cw.block} (uids ${cw.uids.join(', ')}; u16 ${cw.values.join(', ')})` : cw.status === 'withheld' ? `withheld: ${cw.reason}` : cw.status === 'not-due' ? 'not a weight window' : 'due, not set'}. Burn share: ${num(w.weights[String(run.burnUid)] ?? 0, 3)}.`, '');
    lines.push('| uid | evaluation | L_own before → after | L_rand before → after | LossScore | μ | σ | ordinal | B | sync | final | weight |');
    lines.push('| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const s of w.scores) {
      const e = w.evaluations.find((x) => x.uid === s.uid);
      const evaluation = e === undefined ? '—' : e.detail === null ? e.status : `${e.status} (${e.detail})`;
      lines.push(`| ${s.uid} | ${evaluation} | ${e === undefined ? '—' : `${num(e.lossOwnBefore)} → ${num(e.lossOwnAfter)}`} | ${e === undefined ? '—' : `${num(e.lossRandomBefore)} → ${num(e.lossRandomAfter)}`} | ${num(e?.lossScore ?? null)} | ${num(s.mu, 2)} | ${num(s.sigma, 2)} | ${num(s.ordinal, 3)} | ${num(s.binaryMovingAverage, 3)} | ${num(s.syncScore, 3)} | ${num(s.finalScore)} | ${num(s.weight, 3)} |`);
    }
    if (w.slashes.length > 0) {
      lines.push('', 'Slashes:', '');
      for (const slash of w.slashes) lines.push(`- uid ${slash.uid}: ${slash.rule} ${JSON.stringify(slash.inputs)} (${JSON.stringify(slash.before)} → ${JSON.stringify(slash.after)})`);
    }
  }
  return lines.join('\n') + '\n';
}
