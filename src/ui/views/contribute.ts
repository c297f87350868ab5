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
import { mountDashboard, type MountedDashboard } from '../dashboard/dashboard.ts';
import { DashboardStore, type DashboardModel } from '../dashboard/model.ts';
import { formatBytes, formatPercent, h, table } from '../dom.ts';
import type { TrainerBackend } from '../../workers/trainer-api.ts';

export interface ContributeView {
  readonly element: HTMLElement;
  readonly store: DashboardStore;
  readonly dashboard: MountedDashboard;
  /** The wallet, registration and miner loop of this tab (tests drive and read it). */
  readonly session: ContributeSession;
  showGate(gate: CapabilityGate): void;
}

const BACKENDS: readonly (TrainerBackend | 'auto')[] = ['auto', 'webgpu', 'wasm'];

function shortKey(address: string): string {
  return address.length > 14 ? `${address.slice(0, 6)}…${address.slice(-6)}` : address;
}

/** Runs a button's action; failures are already the session's status message. */
function onClick(button: HTMLButtonElement, action: () => Promise<unknown>): void {
  button.addEventListener('click', () => {
    button.disabled = true;
    action().catch(() => undefined).finally(() => {
      button.disabled = false;
    });
  });
}

export function createContributeView(config: RunConfig, onRender: (model: DashboardModel) => void, defaultBackend: () => TrainerBackend | 'auto' = () => 'auto'): ContributeView {
  const store = new DashboardStore('contribute', config.scoring);
  const dashboard = mountDashboard(store, {}, onRender);
  const session = new ContributeSession(config, store);
  const gateBlock = h('div', { class: 'panel gate' }, h('p', { class: 'muted' }, 'Checking what this tab can do…'));

  const showGate = (gate: CapabilityGate): void => {
    const rows = gate.needs.map((need) => [need.preset, need.parameterCount.toLocaleString('en'), formatBytes(need.largestBufferBytes), need.preset === gate.preset ? 'chosen' : '']);
    gateBlock.replaceChildren(
      h('h3', {}, 'This tab'),
      h('p', {}, gate.kind === 'webgpu' ? `Trains on WebGPU with the ${gate.preset} preset. ${gate.explanation}` : gate.explanation),
      table(['preset', 'parameters', 'largest GPU buffer', ''], rows, { class: 'compact', 'data-gate': gate.kind }),
    );
  };

  const connect = h('button', { type: 'button', class: 'primary', 'data-action': 'connect-extension' }, 'Connect wallet extension');
  const devKey = h('button', { type: 'button', 'data-action': 'development-key' }, `Use devnet development key (${DEV_ACCOUNT_URI})`);
  const accounts = h('select', { 'data-role': 'accounts', disabled: true });
  const register = h('button', { type: 'button', 'data-action': 'register', disabled: true }, 'Register');
  const backend = h('select', { 'data-role': 'backend' }, ...BACKENDS.map((b) => h('option', { value: b }, b === 'auto' ? 'auto (fastest here)' : b)));
  const start = h('button', { type: 'button', class: 'primary', 'data-action': 'start', disabled: true }, 'Start contributing');
  const stop = h('button', { type: 'button', 'data-action': 'stop', disabled: true }, 'Stop');
  const registration = h('p', { 'data-role': 'registration', class: 'muted' }, 'No hotkey chosen.');
  const message = h('p', { 'data-role': 'message', role: 'status' });
  const scores = h('div', { 'data-role': 'chain-scores' });

  onClick(connect, () => session.connectExtension());
  onClick(devKey, () => session.useDevelopmentKey());
  onClick(register, () => session.register());
  onClick(start, () => session.start(backend.value as TrainerBackend | 'auto'));
  onClick(stop, () => session.stop());
  accounts.addEventListener('change', () => {
    void session.selectAccount(accounts.value).catch(() => undefined);
  });

  let shownAccounts = '';
  const render = (s: ContributeStatus): void => {
    const key = s.accounts.map((a) => a.address).join(',');
    if (key !== shownAccounts) {
      shownAccounts = key;
      const label = s.walletSource === 'development-key' ? ' (development key, devnet only)' : '';
      accounts.replaceChildren(h('option', { value: '' }, 'Pick the hotkey that mines'), ...s.accounts.map((a) => h('option', { value: a.address }, `${a.name ?? 'account'} ${shortKey(a.address)}${label}`)));
      if (s.walletSource === 'development-key' && s.accounts[0] !== undefined) {
        accounts.value = s.accounts[0].address;
        void session.selectAccount(s.accounts[0].address).catch(() => undefined);
      }
    }
    accounts.disabled = s.accounts.length === 0 || s.running;
    const netuid = s.network.kind === 'subtensor' ? s.network.netuid : config.netuid;
    registration.textContent = s.hotkey === null ? 'No hotkey chosen.' : s.uid === null ? `${shortKey(s.hotkey)}: not registered on netuid ${netuid}.` : `${shortKey(s.hotkey)}: uid ${s.uid} on netuid ${netuid}.`;
    register.disabled = s.hotkey === null || s.uid !== null;
    start.disabled = s.uid === null || s.running;
    stop.disabled = !s.running;
    message.textContent = s.message;
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
      h('p', {}, 'Connect a Polkadot-family wallet extension (Bittensor Wallet, polkadot{.js}, Talisman, SubWallet), or use the devnet development key. Signing happens inside your wallet.'),
      h('p', { class: 'notice' }, 'This page never asks for a seed phrase or a private key. Anyone who does is not us.'),
      h('p', {}, connect, ' ', devKey),
      h('p', {}, accounts, ' ', register),
      registration,
    ),
    h('div', { class: 'panel' }, h('h3', {}, 'Mine'), h('p', {}, h('label', {}, 'Engine ', backend), ' ', start, ' ', stop), message, scores),
    dashboard.element,
  );
  return { element, store, dashboard, session, showGate };
}
