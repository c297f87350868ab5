/**
 * The page side of contributing (issue #8): the network (the devnet at this page's origin), the
 * wallet (an extension through `ExtensionSigner`, or a devnet development key through
 * `KeyringSigner`), registration, and the miner loop in `peer.worker.ts`. The worker asks this
 * page for every signature; its typed events feed the Contribute dashboard and the status that the
 * page publishes on `window.gauntlet.ui.contribute()`.
 */
import * as Comlink from 'comlink';
import type { RunConfig } from '../../core/config.ts';
import { parameterLayout } from '../../model/params.ts';
import { DevnetChain } from '../../net/devnet-client.ts';
import { ExtensionSigner } from '../../net/extension-signer.ts';
import { KeyringSigner } from '../../net/keyring-signer.ts';
import type { Signer, SignerAccount } from '../../net/types.ts';
import { BrowserPeerPersistence } from '../../peer/browser-persistence.ts';
import type { ChainScoreRow, PeerEvent, PeerStartOptions, PeerWorkerApi } from '../../workers/peer-api.ts';
import type { TrainerBackend } from '../../workers/trainer-api.ts';
import type { DashboardStore } from '../dashboard/model.ts';
import { DashboardFeed } from './feed.ts';

/** The name this app asks wallets for access under. */
export const APP_NAME = 'Gauntlet peer';
/** The devnet development account's secret URI; public by design and labelled as such in the UI. */
export const DEV_ACCOUNT_URI = '//Volunteer';

export type WalletSource = 'extension' | 'development-key';

export interface ContributeStatus {
  readonly devnetUrl: string;
  readonly walletSource: WalletSource | null;
  readonly walletNames: readonly string[];
  readonly accounts: readonly SignerAccount[];
  readonly hotkey: string | null;
  readonly uid: number | null;
  readonly running: boolean;
  /** The latest message for the user (what happened, what to do). */
  readonly message: string;
  /** Every loop message so far, oldest first (bounded). */
  readonly log: readonly string[];
  readonly engine: { readonly backend: TrainerBackend; readonly reason: string; readonly parameterCount: number } | null;
  /** Windows whose submission the devnet stored. */
  readonly uploadedWindows: readonly number[];
  readonly persisted: readonly { readonly window: number; readonly errorFeedbackDigest: string }[];
  readonly resumed: { readonly window: number; readonly errorFeedbackDigest: string } | null;
  readonly chainScores: { readonly window: number; readonly block: number; readonly validatorHotkey: string; readonly rows: readonly ChainScoreRow[] } | null;
}

/** A contribute action that needs an earlier step (a wallet, an account, a registration). */
export class ContributeStepError extends Error {
  override readonly name = 'ContributeStepError';
}

const MAX_LOG = 200;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class ContributeSession {
  private signer: Signer | null = null;
  private worker: Worker | null = null;
  private api: Comlink.Remote<PeerWorkerApi> | null = null;
  private readonly state: Mutable<ContributeStatus>;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: PeerEvent) => void>();
  private readonly feed: DashboardFeed;

  constructor(
    private readonly config: RunConfig,
    store: DashboardStore,
    devnetUrl: string = location.origin,
  ) {
    const layout = parameterLayout(config.model);
    const last = layout[layout.length - 1];
    const parameterCount = last === undefined ? 0 : last.offset + last.shape.reduce((a, b) => a * b, 1);
    this.feed = new DashboardFeed(store, { tokensPerStep: config.inner.batchSize * config.model.seqLen, denseBytes: parameterCount * 4 });
    this.state = {
      devnetUrl, walletSource: null, walletNames: [], accounts: [], hotkey: null, uid: null, running: false,
      message: 'Connect a wallet, or use a devnet development key.', log: [], engine: null, uploadedWindows: [], persisted: [], resumed: null, chainScores: null,
    };
  }

  status(): ContributeStatus {
    return { ...this.state };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Asks the installed wallet extensions for access and lists their accounts. */
  async connectExtension(): Promise<readonly SignerAccount[]> {
    const signer = await this.attempt(() => ExtensionSigner.connect(APP_NAME));
    const accounts = await this.attempt(() => signer.accounts());
    this.useSigner(signer, 'extension', signer.names, accounts);
    this.say(accounts.length === 0 ? 'The wallet shares no account with this site: create or import a hotkey in it, then connect again.' : `Connected to ${signer.names.join(', ')}: pick the hotkey that mines.`);
    return accounts;
  }

  /**
   * A well-known development key (devnet only): anyone can derive it, so it must never hold value.
   * `uri` is for headless swarms (one distinct devnet key per browser peer); the page's button uses the default.
   */
  async useDevelopmentKey(uri: string = DEV_ACCOUNT_URI): Promise<string> {
    const signer = await KeyringSigner.fromUris([uri]);
    const accounts = await signer.accounts();
    this.useSigner(signer, 'development-key', [], accounts);
    this.say(`Using the devnet development key ${uri}: public, for the local devnet only.`);
    return accounts[0]!.address;
  }

  /** Chooses the hotkey and looks up its registration on the devnet. */
  async selectAccount(address: string): Promise<number | null> {
    if (!this.state.accounts.some((a) => a.address === address)) throw new ContributeStepError(`${address} is not an account of the connected wallet; connect the wallet that holds it.`);
    this.state.hotkey = address;
    this.state.uid = null;
    const metagraph = await this.attempt(() => new DevnetChain(this.state.devnetUrl).metagraph(this.config.netuid));
    const i = metagraph.hotkeys.indexOf(address);
    this.state.uid = i < 0 ? null : metagraph.uids[i]!;
    const saved = await new BrowserPeerPersistence().load(this.config.runId, address).catch(() => undefined);
    const resume = saved === undefined ? '' : ` This browser holds its state after window ${saved.window}: Start resumes from it.`;
    this.say((this.state.uid === null ? `${address} is not registered on netuid ${this.config.netuid}: press Register.` : `${address} is uid ${this.state.uid} on netuid ${this.config.netuid}.`) + resume);
    return this.state.uid;
  }

  /** Registers the selected hotkey on the devnet (signed by the wallet). */
  async register(): Promise<number> {
    const { signer, hotkey } = this.ready();
    const { uid } = await this.attempt(() => new DevnetChain(this.state.devnetUrl, signer).register(hotkey, this.config.netuid));
    this.state.uid = uid;
    this.say(`Registered: ${hotkey} is uid ${uid} on netuid ${this.config.netuid}.`);
    return uid;
  }

  /**
   * Starts the miner loop in the worker. `headless` (a cheating behaviour, another run config) is
   * for `npm run swarm` only, through `window.gauntlet`; the page's Start button never passes it.
   */
  async start(backend: TrainerBackend | 'auto', headless: Pick<PeerStartOptions, 'adversary' | 'runConfig'> = {}): Promise<void> {
    const { signer, hotkey } = this.ready();
    const uid = this.state.uid;
    if (uid === null) throw new ContributeStepError('Register the hotkey before contributing.');
    if (this.state.running) return;
    this.worker ??= new Worker(new URL('../../workers/peer.worker.ts', import.meta.url), { type: 'module', name: 'peer' });
    this.api ??= Comlink.wrap<PeerWorkerApi>(this.worker);
    const sign = (address: string, data: Uint8Array): Promise<`0x${string}`> => signer.signRaw(address, data);
    this.state.running = true;
    this.say('Starting: loading the data shards, building the engine, syncing the model…');
    try {
      await this.api.start({ ...headless, devnetUrl: this.state.devnetUrl, hotkey, uid, backend }, Comlink.proxy(sign), Comlink.proxy((event: PeerEvent) => this.onEvent(event)));
    } catch (error) {
      this.state.running = false;
      this.say(`Could not start: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.api?.stop();
    this.state.running = false;
    this.say('Stopped. The last finished window is saved in this browser.');
  }

  /** sha256 of the worker's error-feedback buffer now (null before the loop starts). */
  async errorFeedbackDigest(): Promise<string | null> {
    return (await this.api?.errorFeedbackDigest()) ?? null;
  }

  /** Every raw event of the worker's loop, as it arrives (headless runs time the window phases from them). */
  onPeerEvent(listener: (event: PeerEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private onEvent(event: PeerEvent): void {
    for (const listener of this.eventListeners) listener(event);
    this.feed.take(event, this.state.uid ?? -1);
    switch (event.kind) {
      case 'peer-engine':
        this.state.engine = { backend: event.backend, reason: event.reason, parameterCount: event.parameterCount };
        this.say(`Training on ${event.backend}: ${event.reason}.`);
        return;
      case 'miner-uploaded':
        this.state.uploadedWindows = [...this.state.uploadedWindows, event.window];
        this.say(`Window ${event.window}: submission stored by the devnet.`);
        return;
      case 'peer-persisted':
        this.state.persisted = [...this.state.persisted, { window: event.window, errorFeedbackDigest: event.errorFeedbackDigest }];
        this.say(event.message);
        return;
      case 'peer-resumed':
        this.state.resumed = { window: event.window, errorFeedbackDigest: event.errorFeedbackDigest };
        this.say(event.message);
        return;
      case 'peer-chain-scores':
        this.state.chainScores = { window: event.window, block: event.block, validatorHotkey: event.validatorHotkey, rows: event.rows };
        this.changed();
        return;
      case 'peer-stopped':
        this.state.running = false;
        this.say(event.message);
        return;
      case 'peer-synced':
      case 'peer-missed':
      case 'peer-upload-retry':
      case 'peer-window-failed':
      case 'peer-device-lost':
      case 'peer-persist-failed':
        this.say(event.message);
        return;
      case 'miner-error':
        this.say(`Window ${event.window}, ${event.stage}: ${event.message}`);
        return;
      default:
        this.changed();
    }
  }

  private useSigner(signer: Signer, source: WalletSource, names: readonly string[], accounts: readonly SignerAccount[]): void {
    this.signer = signer;
    this.state.walletSource = source;
    this.state.walletNames = names;
    this.state.accounts = accounts;
    this.state.hotkey = null;
    this.state.uid = null;
  }

  private ready(): { signer: Signer; hotkey: string } {
    if (this.signer === null) throw new ContributeStepError('Connect a wallet (or use the devnet development key) first.');
    if (this.state.hotkey === null) throw new ContributeStepError('Pick the hotkey that mines first.');
    return { signer: this.signer, hotkey: this.state.hotkey };
  }

  /** Runs a step; a failure becomes the status message and is rethrown for the caller. */
  private async attempt<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.say(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  private say(message: string): void {
    this.state.message = message;
    this.state.log = [...this.state.log, message].slice(-MAX_LOG);
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
