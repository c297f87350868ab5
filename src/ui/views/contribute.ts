/**
 * The Contribute view: what this tab can do (from the capability gate), which network it joins
 * (the devnet at this page's origin, or a subtensor endpoint with the volunteer's S3 bucket), the wallet (an extension, or a devnet development key, labelled as such; never a seed),
 * registration, the miner loop (src/ui/contribute/session.ts → src/workers/peer.worker.ts) and the
 * dashboard it feeds, with the chain's weights as the validator's verdict.
 */
import type { RunConfig } from '../../core/config.ts';
import type { CapabilityGate } from '../capability.ts';
import { networkPanel } from '../contribute/network-form.ts';
import { ContributeSession, DEV_ACCOUNT_URI, type ContributeStatus } from '../contribute/session.ts';
import { onClick, payWithControl, shortKey, walletControls } from '../contribute/wallet-panel.ts';
import { mountDashboard, type MountedDashboard } from '../dashboard/dashboard.ts';
import { DashboardStore, type DashboardModel } from '../dashboard/model.ts';
import { formatBytes, formatPercent, h, table } from '../dom.ts';
import type { TrainerBackend } from '../../model/engine.ts';

export interface ContributeView {
  readonly element: HTMLElement;
  readonly store: DashboardStore;
  readonly dashboard: MountedDashboard;
  /** The wallet, registration and miner loop of this tab (tests drive and read it). */
  readonly session: ContributeSession;
  showGate(gate: CapabilityGate): void;
}

/** The backend as a person reads it. */
function backendName(backend: TrainerBackend): string {
  return backend === 'webgpu' ? 'WebGPU' : 'the CPU (wasm)';
}

/** Which engine trains in this tab: the one the worker reported (`peer-engine`), never what the capability check expected. */
function engineLine(s: ContributeStatus): string {
  if (s.engine !== null) return `${s.running ? 'Trains' : 'Trained last'} on ${backendName(s.engine.backend)}: ${s.engine.reason}.`;
  if (s.starting) return 'Preparing the engine: this tab builds one (on "auto", the faster of WebGPU and the CPU (wasm) in a short calibration) only when it has none for this run and engine choice.';
  return 'No engine built yet: Start builds it (on "auto", the faster of WebGPU and the CPU (wasm) here), once per tab.';
}

export function createContributeView(config: RunConfig, onRender: (model: DashboardModel) => void, defaultBackend: () => TrainerBackend | 'auto' = () => 'auto'): ContributeView {
  const store = new DashboardStore('contribute', config.scoring);
  const dashboard = mountDashboard(store, {}, onRender);
  const session = new ContributeSession(config, store);
  const gateBlock = h('div', { class: 'panel gate' }, h('p', { class: 'muted' }, 'Checking what this tab can do…'));
  let shownGate: CapabilityGate | null = null;

  /** What the capability check found, then what actually trains: the engine the worker built, once it has. */
  const renderGate = (s: ContributeStatus): void => {
    const gate = shownGate;
    if (gate === null) return;
    const { needs } = gate;
    const row = [needs.preset, needs.parameterCount.toLocaleString('en'), formatBytes(needs.largestBufferBytes), formatBytes(needs.memory.totalBytes), gate.kind === 'webgpu' ? 'fits this GPU' : 'CPU (WASM) path'];
    gateBlock.replaceChildren(
      h('h3', {}, 'This tab'),
      h('p', {}, gate.kind === 'webgpu' ? `WebGPU can hold this run here. ${gate.explanation}` : gate.explanation),
      h('p', { 'data-role': 'engine-line' }, engineLine(s)),
      table(['run preset', 'parameters', 'largest GPU buffer', 'training memory (estimate)', ''], [row], { class: 'compact', 'data-gate': gate.kind }),
    );
  };
  const showGate = (gate: CapabilityGate): void => {
    shownGate = gate;
    renderGate(session.status());
  };

  const controls = walletControls(session, {
    netuid: (s: ContributeStatus) => (s.network.kind === 'subtensor' ? s.network.netuid : config.netuid),
    developmentUri: DEV_ACCOUNT_URI, role: 'mines', startLabel: 'Start contributing',
  });
  const { connect, devKey, accounts, register, registration, backend, start, stop, message } = controls;
  const payWith = payWithControl(session);
  const scores = h('div', { 'data-role': 'chain-scores' });
  const forget = h('button', { type: 'button', 'data-action': 'forget-saved', disabled: true }, 'Forget saved state');
  onClick(forget, () => session.forgetSavedState(), () => render(session.status()));

  const render = (s: ContributeStatus): void => {
    controls.render(s);
    renderGate(s);
    payWith.render(s);
    forget.disabled = s.saved === null || s.hotkey === null || s.running;
    forget.title = s.saved === null ? 'This browser holds no saved state for this hotkey.' : 'Delete θ, error feedback and optimiser state saved in this browser; the next Start syncs from the network.';
    const rows = s.chainScores?.rows ?? [];
    scores.replaceChildren(
      h('h4', {}, s.chainScores === null ? 'Chain weights: none read yet' : `Chain weights after window ${s.chainScores.window} (block ${s.chainScores.block})`),
      table(['uid', 'hotkey', 'incentive share', ''], rows.map((r) => [r.uid, shortKey(r.hotkey), formatPercent(r.incentive), r.uid === s.uid ? 'you' : r.hotkey === s.chainScores?.validatorHotkey ? 'validator' : '']), { class: 'compact' }),
    );
  };
  session.subscribe(() => render(session.status()));
  render(session.status());
  backend.value = defaultBackend();

  const element = h(
    'div',
    { class: 'view-contribute' },
    h('h2', {}, 'Contribute'),
    h('p', {}, 'Your tab trains on its share of the data, compresses what it learned, signs it with your wallet and sends it. Validators score it, and the score decides your share of the rewards.'),
    gateBlock,
    networkPanel(config.netuid, location.origin, session),
    h(
      'div',
      { class: 'panel' },
      h('h3', {}, 'Wallet'),
      h('p', {}, 'Connect a Polkadot-family wallet extension (Bittensor Wallet, polkadot{.js}, Talisman, SubWallet), or use the devnet development key. Signing happens inside your wallet. On a subtensor network, Register burns the subnet\'s registration cost from the account under "Pay with" (the hotkey itself unless you pick another), which becomes the hotkey\'s coldkey.'),
      h('p', { class: 'notice' }, 'This page never asks for a seed phrase or a private key. Anyone who does is not us.'),
      h('p', {}, connect, ' ', devKey),
      h('p', {}, accounts, ' ', register, ' ', payWith.element),
      registration,
    ),
    h('div', { class: 'panel' }, h('h3', {}, 'Mine'), h('p', {}, h('label', {}, 'Engine ', backend), ' ', start, ' ', stop, ' ', forget), message, scores),
    dashboard.element,
  );
  return { element, store, dashboard, session, showGate };
}
