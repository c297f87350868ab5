/**
 * The wallet and loop controls the Contribute and Validate views share: connect an extension or
 * use the devnet development key, pick the hotkey, register it, choose the engine, Start/Stop, and
 * the session's latest message. Each view lays the returned elements out and adds its own panels.
 */
import { shortAddress } from '../../net/registration.ts';
import type { TrainerBackend } from '../../model/engine.ts';
import { h } from '../dom.ts';
import type { NetworkWalletStatus } from './network-session.ts';
import type { WalletSession, WalletStatus } from './wallet-session.ts';

export const BACKENDS: readonly (TrainerBackend | 'auto')[] = ['auto', 'webgpu', 'wasm'];

/** An address shortened for tables and pickers. */
export const shortKey = shortAddress;

/**
 * Runs a button's action, the button disabled meanwhile; failures are already the session's status
 * message. Afterwards `settle` sets which controls can act now (a Start that started leaves Start
 * disabled and Stop enabled); without it the button is enabled again.
 */
export function onClick(button: HTMLButtonElement, action: () => Promise<unknown>, settle?: () => void): void {
  button.addEventListener('click', () => {
    button.disabled = true;
    action().catch(() => undefined).finally(() => {
      if (settle === undefined) button.disabled = false;
      else settle();
    });
  });
}

/** A session the controls can drive: the shared wallet steps plus its own Start and Stop. */
export interface ControlledSession<S extends WalletStatus> extends Pick<WalletSession<S>, 'status' | 'subscribe' | 'connectExtension' | 'useDevelopmentKey' | 'selectAccount' | 'register'> {
  start(backend: TrainerBackend | 'auto'): Promise<void>;
  stop(): Promise<void>;
}

export interface WalletControls<S extends WalletStatus> {
  readonly connect: HTMLButtonElement;
  readonly devKey: HTMLButtonElement;
  readonly accounts: HTMLSelectElement;
  readonly register: HTMLButtonElement;
  readonly registration: HTMLParagraphElement;
  readonly backend: HTMLSelectElement;
  readonly start: HTMLButtonElement;
  readonly stop: HTMLButtonElement;
  readonly message: HTMLParagraphElement;
  /** Redraws the controls from a status (call it from the view's own render). */
  render(s: S): void;
}

export interface WalletControlsOptions<S extends WalletStatus> {
  /** The netuid the registration line names: fixed, or read from the status (a session whose network can change). */
  readonly netuid: number | ((s: S) => number);
  readonly developmentUri: string;
  /** What the hotkey does here, for the account picker ('mines', 'validates'). */
  readonly role: string;
  readonly startLabel: string;
  /** Appended to the registration line of a registered hotkey (e.g. its validator permit). */
  readonly registeredDetail?: (s: S) => string;
}

export function walletControls<S extends WalletStatus>(session: ControlledSession<S>, options: WalletControlsOptions<S>): WalletControls<S> {
  const connect = h('button', { type: 'button', class: 'primary', 'data-action': 'connect-extension' }, 'Connect wallet extension');
  const devKey = h('button', { type: 'button', 'data-action': 'development-key' }, `Use devnet development key (${options.developmentUri})`);
  const accounts = h('select', { 'data-role': 'accounts', disabled: true });
  const register = h('button', { type: 'button', 'data-action': 'register', disabled: true }, 'Register');
  const backend = h('select', { 'data-role': 'backend' }, ...BACKENDS.map((b) => h('option', { value: b }, b === 'auto' ? 'auto (fastest here)' : b)));
  const start = h('button', { type: 'button', class: 'primary', 'data-action': 'start', disabled: true }, options.startLabel);
  const stop = h('button', { type: 'button', 'data-action': 'stop', disabled: true }, 'Stop');
  const registration = h('p', { 'data-role': 'registration', class: 'muted' }, 'No hotkey chosen.');
  const message = h('p', { 'data-role': 'message', role: 'status' });

  // Each control is enabled again only if it can act in the status the action left (`render`).
  const settle = (): void => render(session.status());
  onClick(connect, () => session.connectExtension());
  onClick(devKey, () => session.useDevelopmentKey());
  onClick(register, () => session.register(), settle);
  onClick(start, () => session.start(backend.value as TrainerBackend | 'auto'), settle);
  onClick(stop, () => session.stop(), settle);
  accounts.addEventListener('change', () => {
    void session.selectAccount(accounts.value).catch(() => undefined);
  });

  let shownAccounts = '';
  const render = (s: S): void => {
    const key = s.accounts.map((a) => a.address).join(',');
    if (key !== shownAccounts) {
      shownAccounts = key;
      const label = s.walletSource === 'development-key' ? ' (development key, devnet only)' : '';
      accounts.replaceChildren(h('option', { value: '' }, `Pick the hotkey that ${options.role}`), ...s.accounts.map((a) => h('option', { value: a.address }, `${a.name ?? 'account'} ${shortKey(a.address)}${label}`)));
      if (s.walletSource === 'development-key' && s.accounts[0] !== undefined) {
        accounts.value = s.accounts[0].address;
        void session.selectAccount(s.accounts[0].address).catch(() => undefined);
      }
    }
    accounts.disabled = s.accounts.length === 0 || s.running;
    const detail = options.registeredDetail?.(s) ?? '';
    const netuid = typeof options.netuid === 'number' ? options.netuid : options.netuid(s);
    registration.textContent =
      s.hotkey === null ? 'No hotkey chosen.'
        : !s.registrationKnown ? `${shortKey(s.hotkey)}: registration on netuid ${netuid} not read yet.`
          : s.uid === null ? `${shortKey(s.hotkey)}: not registered on netuid ${netuid}.`
            : `${shortKey(s.hotkey)}: uid ${s.uid} on netuid ${netuid}${detail}.`;
    register.disabled = s.hotkey === null || !s.registrationKnown || s.uid !== null || s.running;
    start.disabled = s.uid === null || s.running;
    // Stop acts on a running loop, not while Start is still building the engine and syncing.
    stop.disabled = !s.running || s.starting;
    message.textContent = s.message;
  };
  return { connect, devKey, accounts, register, registration, backend, start, stop, message, render };
}

/** A session whose registrations on a subtensor network are paid by a chosen account of the wallet. */
export interface PayerSession {
  choosePayer(address: string | null): void;
}

export interface PayWithControl {
  /** The labelled select; hidden unless a subtensor network is in use (the devnet's registration costs nothing). */
  readonly element: HTMLLabelElement;
  readonly select: HTMLSelectElement;
  render(s: NetworkWalletStatus): void;
}

/**
 * "Pay with", beside Register on a subtensor network: which account of the connected wallet signs
 * `burnedRegister` and pays its cost (and becomes the hotkey's coldkey); by default the hotkey itself.
 */
export function payWithControl(session: PayerSession): PayWithControl {
  const select = h('select', { 'data-role': 'payer', title: 'The account that signs the registration and pays its cost; it becomes the owner (coldkey) of the hotkey.' });
  const element = h('label', { 'data-role': 'pay-with', hidden: true }, 'Pay with ', select);
  select.addEventListener('change', () => {
    try {
      session.choosePayer(select.value === '' ? null : select.value);
    } catch {
      // Refused (not an account of the wallet): the session's message says why.
    }
  });
  let shown = '';
  const render = (s: NetworkWalletStatus): void => {
    element.hidden = s.network.kind !== 'subtensor' || s.walletSource !== 'extension';
    const key = `${s.hotkey ?? ''}|${s.accounts.map((a) => a.address).join(',')}`;
    if (key !== shown) {
      shown = key;
      select.replaceChildren(
        h('option', { value: '' }, s.hotkey === null ? 'the hotkey itself' : `the hotkey itself (${shortKey(s.hotkey)})`),
        ...s.accounts.filter((a) => a.address !== s.hotkey).map((a) => h('option', { value: a.address }, `${a.name ?? 'account'} ${shortKey(a.address)}`)),
      );
    }
    select.value = s.payer === null || s.payer === s.hotkey ? '' : s.payer;
    select.disabled = s.hotkey === null || s.uid !== null || s.running;
  };
  return { element, select, render };
}
