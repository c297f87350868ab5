/**
 * Score breakdown per uid, the leaderboard and the "why" panel (gauntlet-spec §7.1–§7.4). Numbers
 * come from the `ScoresModel` built out of the scorer's state and reason records.
 */
import type { Uid } from '../../core/scoring/index.ts';
import { formatNumber, formatPercent, h, table } from '../dom.ts';
import type { WhyModel } from '../score-model.ts';
import type { ScoresModel } from './model.ts';

function indicator(value: number): string {
  if (value > 0) return '+1';
  if (value < 0) return '−1';
  return '0';
}

/** The per-uid breakdown; each row has a button that shows the uid in the "why" panel. */
export function renderBreakdown(scores: ScoresModel, onSelect: (uid: Uid) => void): HTMLElement {
  if (scores.peers.length === 0) {
    return h('div', { class: 'breakdown' }, h('h3', {}, 'Score breakdown'), h('p', { class: 'muted' }, 'No peer has been scored yet.'));
  }
  const rows = scores.peers.map((peer) => {
    const button = h('button', { type: 'button', class: 'link', 'aria-pressed': peer.uid === scores.selectedUid ? 'true' : 'false', 'data-uid': peer.uid }, `uid ${peer.uid}`);
    button.addEventListener('click', () => onSelect(peer.uid));
    return [
      button,
      formatNumber(peer.lossScore),
      indicator(peer.binaryIndicator),
      formatNumber(peer.binaryMovingAverage),
      formatNumber(peer.syncScore),
      formatNumber(peer.mu),
      formatNumber(peer.sigma),
      formatNumber(peer.ordinal),
      formatNumber(peer.finalScore),
      formatPercent(peer.weight),
      peer.slashes.length === 0 ? '—' : String(peer.slashes.length),
    ];
  });
  const caption = scores.window === null ? 'Score breakdown' : `Score breakdown after window ${scores.window}`;
  const grid = table(['peer', 'LossScore', 'binary', 'B (avg)', 'sync', 'μ', 'σ', 'ordinal', 'final', 'weight', 'slashes'], rows, { class: 'scores' });
  return h(
    'div',
    { class: 'breakdown' },
    h('h3', {}, caption),
    h('div', { class: 'table-scroll' }, grid),
    h('p', { class: 'muted' }, `Burned to uid ${scores.burnUid}: ${formatPercent(scores.burnShare)} of the weight.${scores.setWeightsDue ? ' Weights are set on chain this window.' : ''}`),
  );
}

export function renderLeaderboard(scores: ScoresModel): HTMLElement {
  const rows = scores.leaderboard.map((row) => [String(row.rank), `uid ${row.uid}`, formatPercent(row.weight), formatNumber(row.finalScore), formatNumber(row.ordinal), formatNumber(row.binaryMovingAverage), formatNumber(row.syncScore)]);
  return h(
    'div',
    { class: 'leaderboard' },
    h('h3', {}, 'Leaderboard'),
    rows.length === 0 ? h('p', { class: 'muted' }, 'Empty until the first window is scored.') : table(['#', 'peer', 'weight', 'final', 'ordinal', 'B', 'sync'], rows, { class: 'compact' }),
  );
}

/** The scorer's `final-score` record with its inputs, every later change, and the peer's last window of records. */
export function renderWhy(why: WhyModel | null): HTMLElement {
  const panel = h('div', { class: 'why', 'aria-live': 'polite' }, h('h3', {}, why === null ? 'Why this score?' : `Why uid ${why.uid} has this score`));
  if (why === null) {
    panel.append(h('p', { class: 'muted' }, 'Pick a peer in the table to see how its score was computed.'));
    return panel;
  }
  if (why.computedInWindow === null || why.product === null) {
    panel.append(
      h('p', {}, 'This peer has not been rated in an OpenSkill match yet, so its final score was never computed from the formula. A new peer earns nothing until it wins matches (μ − 3σ > 0).'),
    );
    if (why.waitedAloneInWindow !== null) {
      panel.append(h('p', { 'data-role': 'no-match' }, `In window ${why.waitedAloneInWindow} it was evaluated, but it was the only peer with a score waiting: an OpenSkill match needs at least two evaluated peers, so its score waits for the next window in which another peer is evaluated too. On a local network with no other miners (npm start -- --miners 0) that never happens.`));
    }
  } else {
    panel.append(
      h('p', { class: 'formula' }, 'final = ordinal × max(0, B) × sync'),
      h(
        'p',
        { class: 'formula numbers', 'data-window': why.computedInWindow },
        h('span', { 'data-term': 'final' }, formatNumber(why.product, 6)),
        ' = ',
        h('span', { 'data-term': 'ordinal' }, formatNumber(why.ordinal, 6)),
        ' × max(0, ',
        h('span', { 'data-term': 'B' }, formatNumber(why.binaryMovingAverage, 6)),
        ') × ',
        h('span', { 'data-term': 'sync' }, formatNumber(why.syncScore, 6)),
      ),
      h(
        'p',
        { class: 'muted' },
        `The scorer's record of window ${why.computedInWindow}'s match. ordinal = μ − 3σ of the OpenSkill rating (how reliably this peer's LossScore beat the others'); ` +
          'B = running average of the binary indicator (+1 when the update helped the peer\'s own data more than random data); sync = how close its model is to the validator\'s.',
      ),
    );
  }
  if (why.laterChanges.length > 0) {
    panel.append(
      h('h4', {}, 'Changes since then'),
      h('ul', { class: 'changes' }, ...why.laterChanges.map((change) => h('li', {}, `Window ${change.window}: ${change.text} final ${formatNumber(change.finalBefore)} → ${formatNumber(change.finalAfter)}`))),
    );
  }
  if (why.lastWindowRecords.length > 0) {
    const window = why.lastWindowRecords[0]!.window;
    panel.append(
      h('h4', {}, `What the scorer recorded in window ${window}`),
      h('ol', { class: 'changes', 'data-records': window }, ...why.lastWindowRecords.map((line) => h('li', { 'data-rule': line.rule }, line.text))),
    );
  }
  panel.append(
    h('p', {}, h('strong', {}, 'Final score now: '), formatNumber(why.currentFinal, 6), h('strong', {}, ' · weight: '), formatPercent(why.weight, 2)),
    h('p', { class: 'muted' }, why.weightText),
  );
  return panel;
}

/** Every slash of the selected uid, oldest first. */
export function renderSlashes(scores: ScoresModel): HTMLElement {
  const peer = scores.peers.find((p) => p.uid === scores.selectedUid);
  const block = h('div', { class: 'slashes' }, h('h3', {}, peer === undefined ? 'Penalties' : `Penalties of uid ${peer.uid}`));
  if (peer === undefined || peer.slashes.length === 0) {
    block.append(h('p', { class: 'muted' }, 'No penalties.'));
    return block;
  }
  block.append(h('ul', {}, ...peer.slashes.map((slash) => h('li', { 'data-rule': slash.rule }, `Window ${slash.window}: ${slash.text}`))));
  return block;
}
