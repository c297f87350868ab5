/**
 * The page side of contributing (issue #8): the network (the devnet at this page's origin, or a
 * subtensor endpoint with the volunteer's S3 bucket, see `network.ts`), the wallet and registration
 * (the shared `NetworkWalletSession`, with the network's rules as its hooks), and the miner loop in
 * `peer.worker.ts`. The worker asks this page for every signature; its typed events feed the
 * Contribute dashboard and the status that the page publishes on `window.gauntlet.ui.contribute()`. The run's burn uid (the subnet owner's)
 * never mines: its weight is burned (gauntlet-spec §7.4).
 */
import * as Comlink from 'comlink';
import { showJoinedRun } from '../run-source.ts';
import type { RunConfig } from '../../core/config.ts';
import { parameterCount } from '../../model/params.ts';
import { BrowserPeerPersistence } from '../../peer/browser-persistence.ts';
import type { PeerStartOptions, PeerWorkerApi } from '../../workers/peer-api.ts';
import type { ChainScoreRow, PeerEvent } from '../../peer/events.ts';
import type { TrainerBackend } from '../../model/engine.ts';
import type { NetworkSettings } from '../../net/network-settings.ts';
import type { DashboardStore } from '../dashboard/model.ts';
import { DashboardFeed } from './feed.ts';
import { initialNetworkStatus, NetworkWalletSession, type NetworkWalletStatus } from './network-session.ts';
import { errorMessage } from '../../core/errors.ts';

export { APP_NAME, ContributeStepError, type WalletSource } from './wallet.ts';

/** The devnet development account's secret URI; public by design and labelled as such in the UI. */
export const DEV_ACCOUNT_URI = '//Volunteer';

export interface ContributeStatus extends NetworkWalletStatus {
  readonly engine: { readonly backend: TrainerBackend; readonly reason: string; readonly parameterCount: number } | null;
  /** Windows whose submission the devnet stored. */
  readonly uploadedWindows: readonly number[];
  readonly persisted: readonly { readonly window: number; readonly errorFeedbackDigest: string }[];
  readonly resumed: { readonly window: number; readonly errorFeedbackDigest: string } | null;
  /** What this browser holds for the selected hotkey in this run: a snapshot Start resumes from, one it cannot read, or nothing. */
  readonly saved: { readonly window: number } | { readonly unreadable: string } | null;
  readonly chainScores: { readonly window: number; readonly block: number; readonly validatorHotkey: string; readonly rows: readonly ChainScoreRow[] } | null;
}

export class ContributeSession extends NetworkWalletSession<ContributeStatus> {
  private api: Comlink.Remote<PeerWorkerApi> | null = null;
  private readonly eventListeners = new Set<(event: PeerEvent) => void>();
  private readonly feed: DashboardFeed;
  /** This browser's saved peer state, read and forgotten from the page (one database connection for the session). */
  private readonly persistence = new BrowserPeerPersistence();
  /** Stop was pressed: the loop's own end event adds nothing to what `stop` says. */
  private stopRequested = false;

  constructor(config: RunConfig, store: DashboardStore, devnetUrl: string = location.origin) {
    super(config, {
      ...initialNetworkStatus(devnetUrl), engine: null, uploadedWindows: [], persisted: [], resumed: null, saved: null, chainScores: null,
    }, 'mines', DEV_ACCOUNT_URI, 'contributing');
    this.feed = new DashboardFeed(store, { tokensPerStep: config.inner.batchSize * config.model.seqLen, denseBytes: parameterCount(config.model) * 4 });
  }

  /**
   * Starts the miner loop in the worker. `headless` (a cheating behaviour, another run config) is
   * for `npm run swarm` only, through `window.gauntlet`; the page's Start button never passes it.
   */
  async start(backend: TrainerBackend | 'auto', headless: Pick<PeerStartOptions, 'adversary' | 'runConfig'> = {}): Promise<void> {
    await this.launch(`Starting: loading the data shards, ${this.api === null ? 'building the engine' : 'preparing the engine'}, syncing the model…`, async (hotkey, uid, sign) => {
      this.stopRequested = false;
      // Until the worker says which engine trains now (`peer-engine`), the page claims none.
      this.state.engine = null;
      this.api ??= this.openWorker();
      // The page's run (the one it was served with); the worker checks it against the network's run document.
      const network = this.realNetwork();
      // The page's run is the devnet's; on subtensor the worker reads the run the subnet publishes.
      await this.api.start({ ...(network === undefined ? { runConfig: this.config } : {}), ...headless, devnetUrl: this.state.devnetUrl, hotkey, uid, backend, network }, Comlink.proxy(sign), Comlink.proxy((event: PeerEvent) => this.onEvent(event)));
    });
  }

  /** Stops the miner loop after its step in progress; the message says what this browser now holds. */
  async stop(): Promise<void> {
    if (!this.state.running || this.api === null) return;
    this.stopRequested = true;
    this.say('Stopping after the step in progress…');
    const { error } = await this.api.stop();
    this.state.running = false;
    this.say(`${error === null ? 'Stopped.' : `The miner loop had stopped on an error: ${error}.`} ${this.savedText()}`);
  }

  /** What a Start would resume from, as this browser holds it now. */
  private savedText(): string {
    const saved = this.state.saved;
    if (saved === null) return 'Nothing is saved in this browser yet (no window finished): the next Start syncs from the network.';
    if ('unreadable' in saved) return `This browser holds saved state it cannot resume (${saved.unreadable}): the next Start syncs from the network.`;
    return `Saved after window ${saved.window}: the next Start resumes from it.`;
  }

  /** The peer worker, which keeps its engine between Starts; the engine is released when the page goes away. */
  private openWorker(): Comlink.Remote<PeerWorkerApi> {
    const worker = new Worker(new URL('../../workers/peer.worker.ts', import.meta.url), { type: 'module', name: 'peer' });
    const api = Comlink.wrap<PeerWorkerApi>(worker);
    // Best effort: a closing tab may end the worker first, which frees its device anyway.
    addEventListener('pagehide', () => void api.releaseEngine().catch(() => undefined), { once: true });
    return api;
  }

  /** Switches the network: the chain weights read on the previous one no longer apply. */
  override async useNetwork(settings: NetworkSettings): Promise<void> {
    await super.useNetwork(settings);
    this.state.chainScores = null;
    this.changed();
  }

  /**
   * Deletes what this browser saved for the selected hotkey in this run (θ, error feedback, optimiser
   * state): the next Start syncs from the network instead. For a snapshot that cannot be resumed
   * (another run's, a layout this version refuses) or a volunteer who wants a clean start.
   */
  async forgetSavedState(): Promise<void> {
    if (this.state.running) this.refuse('Stop the miner loop before forgetting its saved state.');
    const hotkey = this.state.hotkey;
    if (hotkey === null) this.refuse('Pick a hotkey first: saved state belongs to one hotkey.');
    await this.attempt(() => this.persistence.clear(this.config.runId, hotkey));
    const saved = this.state.saved;
    this.state.saved = null;
    this.say(`Forgot this browser's saved state for ${hotkey}${saved !== null && 'window' in saved ? ` (after window ${saved.window})` : ''}: the next Start syncs from the network.`);
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
      case 'run-joined':
        showJoinedRun(event);
        this.say(event.message);
        return;
      case 'peer-engine':
        this.state.engine = { backend: event.backend, reason: event.reason, parameterCount: event.parameterCount };
        this.say(`Training on ${event.backend}: ${event.reason}.`);
        return;
      case 'miner-uploaded':
        this.state.uploadedWindows = [...this.state.uploadedWindows, event.window];
        this.say(`Window ${event.window}: submission stored ${this.state.network.kind === 'devnet' ? 'by the devnet' : this.state.network.storage.kind === 'gateway' ? "through the subnet's gateway" : 'in your bucket'}.`);
        return;
      case 'peer-persisted':
        this.state.persisted = [...this.state.persisted, { window: event.window, errorFeedbackDigest: event.errorFeedbackDigest }];
        this.state.saved = { window: event.window };
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
        // After Stop, `stop` says how it ended; otherwise the loop ended on its own (an error) and says why here.
        if (this.stopRequested) this.changed();
        else this.say(`${event.message} ${this.savedText()}`);
        return;
      case 'peer-clock':
      case 'peer-pace':
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
      case 'miner-null-round':
        this.say(`Window ${event.window} is a null round of the run: nobody trains or sends anything before window ${event.trainsFrom}, so that every peer and validator starts from the same θ.`);
        return;
      default:
        this.changed();
    }
  }

  /** Registration on the network in use, and whether this browser holds saved state to resume from. */
  protected async lookUp(hotkey: string): Promise<string> {
    const metagraph = await this.attempt(() => this.chain().metagraph(this.netuid()));
    const i = metagraph.hotkeys.indexOf(hotkey);
    this.state.uid = i < 0 ? null : metagraph.uids[i]!;
    const saved = await this.persistence.load(this.config.runId, hotkey).then(
      (snapshot) => (snapshot === undefined ? null : { window: snapshot.window }),
      // A snapshot this version cannot read is still there to forget.
      (error: unknown) => ({ unreadable: errorMessage(error) }),
    );
    this.state.saved = saved;
    if (saved === null) return '';
    if ('unreadable' in saved) return ` This browser holds saved state it cannot resume (${saved.unreadable}); Forget saved state removes it.`;
    return ` This browser holds its state after window ${saved.window}: Start resumes from it; Forget saved state starts clean.`;
  }

  /** The run's burn uid belongs to the subnet owner (gauntlet-spec §7.4): whatever it earns is burned, so it never mines. */
  protected override hotkeyProblem(hotkey: string, uid: number): string | null {
    if (uid !== this.config.scoring.burnUid) return null;
    return `${hotkey} is uid ${uid}, this run's burn uid (the subnet owner's): weight sent to it is burned, so it cannot mine here. Pick or register another hotkey.`;
  }
}
