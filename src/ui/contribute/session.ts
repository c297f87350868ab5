/**
 * The page side of contributing (issue #8): the network (the devnet at this page's origin, or a
 * subtensor endpoint with the volunteer's S3 bucket, see `network.ts`), the wallet (an extension through `ExtensionSigner`, or a devnet development key through
 * `KeyringSigner`), registration, and the miner loop in `peer.worker.ts`. The worker asks this
 * page for every signature; its typed events feed the Contribute dashboard and the status that the
 * page publishes on `window.gauntlet.ui.contribute()`. The run's burn uid (the subnet owner's)
 * never mines: its weight is burned (gauntlet-spec §7.4).
 */
import * as Comlink from 'comlink';
import type { RunConfig } from '../../core/config.ts';
import { parameterLayout } from '../../model/params.ts';
import { DevnetChain } from '../../net/devnet-client.ts';
import { ExtensionSigner } from '../../net/extension-signer.ts';
import { KeyringSigner } from '../../net/keyring-signer.ts';
import type { Chain, Signer, SignerAccount } from '../../net/types.ts';
import { BrowserPeerPersistence } from '../../peer/browser-persistence.ts';
import type { ChainScoreRow, PeerEvent, PeerStartOptions, PeerWorkerApi } from '../../workers/peer-api.ts';
import type { TrainerBackend } from '../../workers/trainer-api.ts';
import type { DashboardStore } from '../dashboard/model.ts';
import { DashboardFeed } from './feed.ts';
import { summarizeNetwork, type NetworkSettings, type NetworkSummary } from './network.ts';

/** The name this app asks wallets for access under. */
export const APP_NAME = 'Gauntlet peer';
/** The devnet development account's secret URI; public by design and labelled as such in the UI. */
export const DEV_ACCOUNT_URI = '//Volunteer';

export type WalletSource = 'extension' | 'development-key';

export interface ContributeStatus {
  readonly devnetUrl: string;
  /** The network in use (the devnet unless a subtensor network was connected); never holds the storage secret. */
  readonly network: NetworkSummary;
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

/** The run's burn uid belongs to the subnet owner (gauntlet-spec §7.4): whatever it earns is burned, so it never mines. */
function burnUidText(hotkey: string, uid: number): string {
  return `${hotkey} is uid ${uid}, this run's burn uid (the subnet owner's): weight sent to it is burned, so it cannot mine here. Pick or register another hotkey.`;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class ContributeSession {
  private signer: Signer | null = null;
  private worker: Worker | null = null;
  private api: Comlink.Remote<PeerWorkerApi> | null = null;
  private readonly state: Mutable<ContributeStatus>;
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: PeerEvent) => void>();
  private readonly feed: DashboardFeed;
  private network: NetworkSettings;
  /** The open subtensor connection while a real network is chosen. */
  private subtensor: Chain | null = null;

  constructor(
    private readonly config: RunConfig,
    store: DashboardStore,
    devnetUrl: string = location.origin,
  ) {
    const layout = parameterLayout(config.model);
    const last = layout[layout.length - 1];
    const parameterCount = last === undefined ? 0 : last.offset + last.shape.reduce((a, b) => a * b, 1);
    this.feed = new DashboardFeed(store, { tokensPerStep: config.inner.batchSize * config.model.seqLen, denseBytes: parameterCount * 4 });
    this.network = { kind: 'devnet', url: devnetUrl };
    this.state = {
      devnetUrl, network: summarizeNetwork(this.network), walletSource: null, walletNames: [], accounts: [], hotkey: null, uid: null, running: false,
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

  /**
   * Switches the network. A subtensor endpoint is connected to and the subnet's metagraph read now,
   * so a wrong endpoint or netuid shows at once; on failure the previous network stays in use.
   */
  async useNetwork(settings: NetworkSettings): Promise<void> {
    if (this.state.running) this.refuse('Stop contributing before switching networks.');
    let connected: Chain | null = null;
    let detail = `the devnet at ${settings.kind === 'devnet' ? settings.url : ''}`;
    if (settings.kind === 'subtensor') {
      const { SubtensorChain } = await import('../../net/subtensor-chain.ts');
      this.say(`Connecting to ${settings.endpoint}…`);
      const chain = await this.attempt(() => SubtensorChain.connect(settings.endpoint));
      try {
        const metagraph = await this.attempt(() => chain.metagraph(settings.netuid));
        detail = `${settings.endpoint}, netuid ${settings.netuid} (${metagraph.uids.length} uids at block ${metagraph.block}); storage in bucket ${settings.storage.bucket} at ${settings.storage.endpoint}`;
      } catch (error) {
        await chain.close().catch(() => undefined);
        throw error;
      }
      connected = chain;
    }
    await this.subtensor?.close().catch(() => undefined);
    this.subtensor = connected;
    this.network = settings;
    this.state.network = summarizeNetwork(settings);
    if (settings.kind === 'subtensor' && this.state.walletSource === 'development-key') this.useSigner(null, null, [], []);
    this.state.uid = null;
    this.say(`Network: ${detail}. ${this.state.hotkey === null ? 'Connect a wallet and pick the hotkey that mines.' : 'Pick the hotkey again to read its registration.'}`);
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
    if (this.network.kind !== 'devnet') this.refuse(`The development key ${uri} is public and exists only on the devnet; connect a wallet extension for a real network.`);
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
    const metagraph = await this.attempt(() => this.chain().metagraph(this.netuid()));
    const i = metagraph.hotkeys.indexOf(address);
    this.state.uid = i < 0 ? null : metagraph.uids[i]!;
    const saved = await new BrowserPeerPersistence().load(this.config.runId, address).catch(() => undefined);
    const resume = saved === undefined ? '' : ` This browser holds its state after window ${saved.window}: Start resumes from it.`;
    if (this.state.uid === this.config.scoring.burnUid) {
      this.say(burnUidText(address, this.state.uid));
      return this.state.uid;
    }
    this.say((this.state.uid === null ? `${address} is not registered on netuid ${this.netuid()}: press Register.` : `${address} is uid ${this.state.uid} on netuid ${this.netuid()}.`) + resume);
    return this.state.uid;
  }

  /** Registers the selected hotkey on the devnet (signed by the wallet). */
  async register(): Promise<number> {
    const { signer, hotkey } = this.ready();
    if (this.network.kind === 'subtensor') {
      this.refuse(`On a subtensor network, register the hotkey with \`btcli subnets register --netuid ${this.network.netuid}\` (a burned registration paid by your coldkey), then pick it here again.`);
    }
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
    if (uid === this.config.scoring.burnUid) this.refuse(burnUidText(hotkey, uid));
    if (this.state.running) return;
    this.worker ??= new Worker(new URL('../../workers/peer.worker.ts', import.meta.url), { type: 'module', name: 'peer' });
    this.api ??= Comlink.wrap<PeerWorkerApi>(this.worker);
    const sign = (address: string, data: Uint8Array): Promise<`0x${string}`> => signer.signRaw(address, data);
    this.state.running = true;
    this.say('Starting: loading the data shards, building the engine, syncing the model…');
    try {
      const network = this.network.kind === 'subtensor' ? { endpoint: this.network.endpoint, netuid: this.network.netuid, storage: this.network.storage } : undefined;
      await this.api.start({ ...headless, devnetUrl: this.state.devnetUrl, hotkey, uid, backend, network }, Comlink.proxy(sign), Comlink.proxy((event: PeerEvent) => this.onEvent(event)));
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

  /** TEST ONLY: destroys the worker's GPU device so the device-lost recovery runs (test/browser/contribute.spec.ts). */
  async testOnlyLoseDevice(options?: { readonly withoutGpuAfterwards?: boolean }): Promise<boolean> {
    return (await this.api?.testOnlyLoseDevice(options)) ?? false;
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
      case 'peer-recovered':
      case 'peer-catching-up':
      case 'peer-network':
      case 'peer-persist-failed':
      case 'peer-scores-unreadable':
        this.say(event.message);
        return;
      case 'miner-error':
        this.say(`Window ${event.window}, ${event.stage}: ${event.message}`);
        return;
      default:
        this.changed();
    }
  }

  /** The chain for reads: the open subtensor connection, or the devnet. */
  private chain(): Chain {
    return this.subtensor ?? new DevnetChain(this.state.devnetUrl);
  }

  private netuid(): number {
    return this.network.kind === 'subtensor' ? this.network.netuid : this.config.netuid;
  }

  private useSigner(signer: Signer | null, source: WalletSource | null, names: readonly string[], accounts: readonly SignerAccount[]): void {
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

  /** A step that cannot run yet: the reason becomes the status message and a `ContributeStepError`. */
  private refuse(message: string): never {
    this.say(message);
    throw new ContributeStepError(message);
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
