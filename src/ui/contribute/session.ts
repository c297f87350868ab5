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
import { BrowserPeerPersistence } from '../../peer/browser-persistence.ts';
import type { ChainScoreRow, PeerEvent, PeerWorkerApi } from '../../workers/peer-api.ts';
import type { TrainerBackend } from '../../workers/trainer-api.ts';
import type { DashboardStore } from '../dashboard/model.ts';
import { DashboardFeed } from './feed.ts';
import { registrationOf } from './wallet.ts';
import { initialWalletStatus, WalletSession, type WalletStatus } from './wallet-session.ts';

export { APP_NAME } from './wallet.ts';
export { ContributeStepError, type WalletSource } from './wallet-session.ts';

/** The devnet development account's secret URI; public by design and labelled as such in the UI. */
export const DEV_ACCOUNT_URI = '//Volunteer';

export interface ContributeStatus extends WalletStatus {
  readonly engine: { readonly backend: TrainerBackend; readonly reason: string; readonly parameterCount: number } | null;
  /** Windows whose submission the devnet stored. */
  readonly uploadedWindows: readonly number[];
  readonly persisted: readonly { readonly window: number; readonly errorFeedbackDigest: string }[];
  readonly resumed: { readonly window: number; readonly errorFeedbackDigest: string } | null;
  readonly chainScores: { readonly window: number; readonly block: number; readonly validatorHotkey: string; readonly rows: readonly ChainScoreRow[] } | null;
}

export class ContributeSession extends WalletSession<ContributeStatus> {
  private worker: Worker | null = null;
  private api: Comlink.Remote<PeerWorkerApi> | null = null;
  private readonly feed: DashboardFeed;

  constructor(
    config: RunConfig,
    store: DashboardStore,
    devnetUrl: string = location.origin,
  ) {
    super(config, { ...initialWalletStatus(devnetUrl), engine: null, uploadedWindows: [], persisted: [], resumed: null, chainScores: null }, 'mines', DEV_ACCOUNT_URI);
    const layout = parameterLayout(config.model);
    const last = layout[layout.length - 1];
    const parameterCount = last === undefined ? 0 : last.offset + last.shape.reduce((a, b) => a * b, 1);
    this.feed = new DashboardFeed(store, { tokensPerStep: config.inner.batchSize * config.model.seqLen, denseBytes: parameterCount * 4 });
  }

  /** The registration, and whether this browser holds a saved state for the hotkey. */
  protected async lookUp(hotkey: string): Promise<string> {
    this.state.uid = (await this.attempt(() => registrationOf(this.state.devnetUrl, this.config.netuid, hotkey))).uid;
    const saved = await new BrowserPeerPersistence().load(this.config.runId, hotkey).catch(() => undefined);
    return saved === undefined ? '' : ` This browser holds its state after window ${saved.window}: Start resumes from it.`;
  }

  /** Starts the miner loop in the worker. */
  async start(backend: TrainerBackend | 'auto'): Promise<void> {
    await this.launch('Starting: loading the data shards, building the engine, syncing the model…', async (hotkey, uid, sign) => {
      this.worker ??= new Worker(new URL('../../workers/peer.worker.ts', import.meta.url), { type: 'module', name: 'peer' });
      this.api ??= Comlink.wrap<PeerWorkerApi>(this.worker);
      await this.api.start({ devnetUrl: this.state.devnetUrl, hotkey, uid, backend }, Comlink.proxy(sign), Comlink.proxy((event: PeerEvent) => this.onEvent(event)));
    });
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

  private onEvent(event: PeerEvent): void {
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
}
