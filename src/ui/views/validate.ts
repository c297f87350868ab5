/**
 * The Validate view. "Validate live": the in-browser validator (src/ui/validate/session.ts →
 * src/workers/validator.worker.ts) on the devnet at this page's origin or a subtensor network with
 * the validator's S3 bucket (the Contribute view's network form): wallet, registration,
 * Start/Stop, each window's stage-2 evaluations (losses before and after the trial step), and the
 * dashboard of OpenSkill ratings, final scores, weights and slashes with their reasons; weights go
 * to the chain only while the hotkey holds a validator permit. "Replay": load the window inputs a
 * validator recorded (the `npm run score` format) and watch the real scorer turn them into scores,
 * penalties and weights, window by window.
 */
import type { RunConfig } from '../../core/config.ts';
import { mountDashboard, type MountedDashboard } from '../dashboard/dashboard.ts';
import { DashboardStore, type DashboardModel } from '../dashboard/model.ts';
import { formatNumber, h, table } from '../dom.ts';
import { parseReplayFile, ScoringReplay } from '../replay.ts';
import { ValidateSession, VALIDATOR_DEV_ACCOUNT_URI, type ValidateStatus } from '../validate/session.ts';
import { networkPanel } from '../contribute/network-form.ts';
import { payWithControl, walletControls } from '../contribute/wallet-panel.ts';
import { errorMessage } from '../../core/errors.ts';

export interface ValidateView {
  readonly element: HTMLElement;
  /** The replay's store and dashboard. */
  readonly store: DashboardStore;
  readonly dashboard: MountedDashboard;
  /** The live validator: wallet, registration, loop status (tests and `npm run evaluate` drive and read it). */
  readonly session: ValidateSession;
  /** The live validator's store (its dashboard is mounted once the validator first starts). */
  readonly liveStore: DashboardStore;
  /** Draws pending changes of both dashboards now. */
  flush(): void;
  /** Scores parsed replay data (a test hook and the file loader's back end). */
  load(raw: unknown): ScoringReplay;
}

/** "Validate live": the panel that drives `ValidateSession`, and the dashboard its events feed. */
function livePanel(config: RunConfig, session: ValidateSession, liveStore: DashboardStore, onRender: (model: DashboardModel) => void): { element: HTMLElement; dashboard: () => MountedDashboard | null } {
  const controls = walletControls(session, {
    netuid: (s) => (s.network.kind === 'subtensor' ? s.network.netuid : config.netuid), developmentUri: VALIDATOR_DEV_ACCOUNT_URI, role: 'validates', startLabel: 'Start validating',
    registeredDetail: (s) => (s.validatorPermit === true ? `, validator permit (stake ${s.stake})` : `, no validator permit (stake ${s.stake}): windows are scored, weights are not set`),
  });
  const { connect, devKey, accounts, register, registration, backend, start, stop, message } = controls;
  const progress = h('p', { 'data-role': 'progress', class: 'muted' });
  const evaluations = h('div', { 'data-role': 'evaluations' });
  const weights = h('div', { 'data-role': 'weights' });
  const dashboardSlot = h('div');
  let dashboard: MountedDashboard | null = null;

  // An operator registers the validator's hotkey paid by the subnet owner's coldkey, which makes it one of the run's validators.
  const payWith = payWithControl(session);
  const render = (s: ValidateStatus): void => {
    controls.render(s);
    payWith.render(s);
    // The dashboard appears with the first run, so an idle tab shows one scores panel (the replay's).
    if (dashboard === null && (s.running || s.windows.length > 0)) {
      dashboard = mountDashboard(liveStore, { traffic: false }, onRender);
      dashboardSlot.replaceChildren(dashboard.element);
    }
    const last = s.windows[s.windows.length - 1];
    progress.textContent = `${s.windows.length} window${s.windows.length === 1 ? '' : 's'} scored${last === undefined ? '' : `, the last ${last.window}`}; weights set ${s.weightsSet.length}×, withheld ${s.weightsSkipped.length}×${s.engine === null ? '' : `; evaluating on ${s.engine.backend}`}.`;
    evaluations.replaceChildren(
      h('h4', {}, 'Stage-2 evaluations (Σ loss over the evaluation batches, before → after the trial step)'),
      table(
        ['uid', 'window', 'status', 'own before', 'own after', 'random before', 'random after', 'LossScore', 'b'],
        s.evaluations.map((e) => [e.uid, e.window, e.detail === null ? e.status : `${e.status} (${e.detail})`, formatNumber(e.lossOwnBefore), formatNumber(e.lossOwnAfter), formatNumber(e.lossRandomBefore), formatNumber(e.lossRandomAfter), formatNumber(e.lossScore), e.indicator ?? '']),
        { class: 'compact' },
      ),
    );
    const lastSet = s.weightsSet[s.weightsSet.length - 1];
    weights.replaceChildren(
      h('h4', {}, lastSet === undefined ? 'Weights: none set by this tab yet' : `Weights set after window ${lastSet.window} (block ${lastSet.block})`),
      lastSet === undefined ? '' : table(['uid', 'u16 weight'], lastSet.uids.map((uid, i) => [uid, lastSet.values[i] ?? 0]), { class: 'compact' }),
    );
  };
  session.subscribe(() => render(session.status()));
  render(session.status());

  const element = h(
    'div',
    { class: 'panel', 'data-role': 'validate-live' },
    h('h3', {}, 'Validate live'),
    h('p', {}, `Runs the validator loop in this tab, on the devnet at ${location.origin} or on a subtensor network with your own S3 bucket (below): each window it gathers the submissions, evaluates a few peers with a trial step on the evaluation graph, rates them, applies the outer step and publishes the aggregate. Weights go to the chain only while this hotkey holds a validator permit.`),
    networkPanel(config.netuid, location.origin, session),
    h('p', { class: 'muted' }, "On a subtensor network this tab scores every window and publishes aggregates, checkpoints and peer lists to your bucket (publish the bucket commitment for this hotkey first), and sets weights through your wallet, which asks you to sign each weight transaction."),
    h('p', { class: 'notice' }, 'This page never asks for a seed phrase or a private key. Anyone who does is not us.'),
    h('p', {}, connect, ' ', devKey),
    h('p', {}, accounts, ' ', register, ' ', payWith.element),
    registration,
    h('p', {}, h('label', {}, 'Engine ', backend), ' ', start, ' ', stop),
    message,
    progress,
    evaluations,
    weights,
    dashboardSlot,
  );
  return { element, dashboard: () => dashboard };
}

export function createValidateView(config: RunConfig, onRender: (model: DashboardModel) => void): ValidateView {
  const liveStore = new DashboardStore('validate-live', config.scoring);
  const session = new ValidateSession(config, liveStore);
  const live = livePanel(config, session, liveStore, onRender);
  const store = new DashboardStore('validate', config.scoring);
  const dashboard = mountDashboard(store, { traffic: false }, onRender);
  // The replay's scores appear with the first file: an empty second dashboard under the live one says nothing.
  dashboard.element.hidden = true;
  const status = h('p', { class: 'muted', 'aria-live': 'polite' }, 'No file loaded.');
  let replay: ScoringReplay | null = null;

  const stepButton = h('button', { type: 'button', disabled: true }, 'Score next window');
  const allButton = h('button', { type: 'button', disabled: true }, 'Score all');
  const refresh = (): void => {
    const left = replay?.remaining ?? 0;
    stepButton.disabled = left === 0;
    allButton.disabled = left === 0;
    status.textContent = replay === null ? 'No file loaded.' : `${left} window${left === 1 ? '' : 's'} left to score.`;
  };
  const load = (raw: unknown): ScoringReplay => {
    // A recorded file carries its scoring config but not the batch size: this run's (the validator evaluates in training-size batches).
    replay = new ScoringReplay(parseReplayFile(raw, config.scoring), store, config.inner.batchSize);
    dashboard.element.hidden = false;
    refresh();
    return replay;
  };
  stepButton.addEventListener('click', () => {
    replay?.step();
    refresh();
  });
  allButton.addEventListener('click', () => {
    replay?.runAll();
    refresh();
  });

  const input = h('input', { type: 'file', accept: 'application/json,.json', id: 'replay-file' });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file === undefined) return;
    file
      .text()
      .then((text) => load(JSON.parse(text) as unknown))
      .catch((error: unknown) => {
        status.className = 'problem';
        status.textContent = `This file cannot be scored: ${errorMessage(error)}`;
      });
  });

  const element = h(
    'div',
    { class: 'view-validate' },
    h('h2', {}, 'Validate'),
    h('p', {}, 'A validator checks every contribution: presence and sync first, then a loss test for a few peers per window, then ratings and weights.'),
    live.element,
    h(
      'div',
      { class: 'panel', 'data-role': 'replay' },
      h('h3', {}, 'Replay recorded windows'),
      h(
        'p',
        {},
        'Replay window inputs recorded by a validator (the file format of ',
        h('code', {}, 'npm run score'),
        ') through the same scoring code and see every score change explained.',
      ),
      h('div', { class: 'controls' }, h('label', { for: 'replay-file' }, 'Recorded windows (JSON) '), input, stepButton, allButton),
      status,
    ),
    dashboard.element,
  );
  const flush = (): void => {
    dashboard.flush();
    live.dashboard()?.flush();
  };
  return { element, store, dashboard, session, liveStore, flush, load };
}
