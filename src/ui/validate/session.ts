/**
 * The page side of validating (issue #8 "Validate"): the network (the devnet at this origin, or a
 * subtensor endpoint with the validator's own S3 bucket, as in Contribute), the wallet (an extension,
 * or a devnet development key, refused on a real network), registration, and the validator loop in `validator.worker.ts`, which asks this
 * page for every signature. Its events feed the live Validate dashboard and the status the page
 * publishes on `window.gauntlet.ui.validate()` (read by the tests and by `npm run evaluate`).
 */
import * as Comlink from 'comlink';
import type { SignerPayloadJSON } from '@polkadot/types/types';
import { showJoinedRun } from '../run-source.ts';
import type { RunConfig } from '../../core/config.ts';
import { VALIDATOR_DEV_ACCOUNT_URI, type ValidatorStartOptions, type ValidatorWorkerApi } from '../../workers/validator-api.ts';
import { meanControlLoss, type ValidatorPageEvent, type ValidatorWindowSummary } from '../../peer/validator-events.ts';
import type { TrainerBackend } from '../../model/engine.ts';
import { initialNetworkStatus, NetworkWalletSession, type NetworkWalletStatus } from '../contribute/network-session.ts';
import { registrationIn, type Registration } from '../../net/metagraph.ts';
import type { DashboardStore } from '../dashboard/model.ts';
import { validatorPhase } from '../dashboard/validator-phases.ts';
import { LastEvaluations, type PeerEvaluation } from '../demo/evaluations.ts';

/** The validator's devnet development key: public by design, labelled as such, distinct from the miner's. */
export { VALIDATOR_DEV_ACCOUNT_URI } from '../../workers/validator-api.ts';

export interface ValidateStatus extends NetworkWalletStatus {
  /** The metagraph's validator permit of this hotkey when last read (null before a hotkey is chosen). */
  readonly validatorPermit: boolean | null;
  readonly stake: number;
  readonly engine: { readonly backend: TrainerBackend; readonly reason: string; readonly parameterCount: number } | null;
  /** Every window scored in this session, oldest first (bounded). */
  readonly windows: readonly ValidatorWindowSummary[];
  /** The latest stage-2 evaluation of every uid (losses before/after, LossScore, indicator). */
  readonly evaluations: readonly PeerEvaluation[];
  readonly weightsSet: readonly { readonly window: number; readonly uids: readonly number[]; readonly values: readonly number[]; readonly block: number }[];
  readonly weightsSkipped: readonly { readonly window: number; readonly reason: string }[];
  readonly skippedWindows: readonly number[];
}

const MAX_WINDOWS = 100;

export class ValidateSession extends NetworkWalletSession<ValidateStatus> {
  private worker: Worker | null = null;
  private api: Comlink.Remote<ValidatorWorkerApi> | null = null;
  private readonly evaluations = new LastEvaluations();
  /** The last window whose scoring state the worker saved (or restored) in this browser; null: none seen. */
  private savedWindow: number | null = null;
  /** Stop was pressed: the loop's own end event adds nothing to what `stop` says. */
  private stopRequested = false;

  constructor(
    config: RunConfig,
    private readonly store: DashboardStore,
    devnetUrl: string = location.origin,
  ) {
    super(config, {
      ...initialNetworkStatus(devnetUrl), validatorPermit: null, stake: 0, engine: null, windows: [], evaluations: [], weightsSet: [], weightsSkipped: [], skippedWindows: [],
    }, 'validates', VALIDATOR_DEV_ACCOUNT_URI, 'validating');
  }

  /**
   * Starts the validator loop in the worker. `headless.runConfig` (another run than the page's preset)
   * is for `npm run evaluate --run-config` only, through `window.gauntlet`; the Start button never passes it.
   */
  async start(backend: TrainerBackend | 'auto', headless: Pick<ValidatorStartOptions, 'runConfig'> = {}): Promise<void> {
    await this.launch('Starting: loading the data shards, building the evaluation engine, restoring saved state…', async (hotkey, uid, sign) => {
      this.worker ??= new Worker(new URL('../../workers/validator.worker.ts', import.meta.url), { type: 'module', name: 'validator' });
      this.api ??= Comlink.wrap<ValidatorWorkerApi>(this.worker);
      const network = this.realNetwork();
      // On a real network the worker's weight extrinsics are signed here by the wallet, payload by payload.
      const signPayload = network === undefined ? undefined : Comlink.proxy((payload: SignerPayloadJSON) => this.signPayloadWithWallet(payload));
      this.stopRequested = false;
      // The page's run is the devnet's; on subtensor the worker reads the run the subnet publishes.
      await this.api.start({ ...(network === undefined ? { runConfig: this.config } : {}), ...headless, devnetUrl: this.state.devnetUrl, network, hotkey, uid, backend }, Comlink.proxy(sign), Comlink.proxy((event: ValidatorPageEvent) => this.onEvent(event)), signPayload);
    });
  }

  /** Stops after the window in progress; the message says what this browser now holds. */
  async stop(): Promise<void> {
    if (!this.state.running || this.api === null) return;
    this.stopRequested = true;
    this.say('Stopping after the window in progress…');
    await this.api.stop();
    this.state.running = false;
    this.say(`Stopped. ${this.savedText()}`);
  }

  /** What a Start would resume from, as far as this session has seen. */
  private savedText(): string {
    return this.savedWindow === null
      ? 'No scoring state is saved in this browser yet (no window scored): the next Start begins at the current window.'
      : `The scoring state is saved after window ${this.savedWindow}: the next Start resumes from it.`;
  }

  private onEvent(event: ValidatorPageEvent): void {
    const step = validatorPhase(event);
    if (step !== null) this.store.setPhase(step.window, step.phase, 'active', step.detail);
    switch (event.kind) {
      case 'validator-engine':
        this.state.engine = { backend: event.backend, reason: event.reason, parameterCount: event.parameterCount };
        this.say(`Evaluating on ${event.backend}: ${event.reason}.`);
        return;
      case 'validator-evaluated':
        this.evaluations.record([event]);
        this.state.evaluations = this.evaluations.rows();
        this.changed();
        return;
      case 'validator-weights-set':
        this.state.weightsSet = [...this.state.weightsSet, { window: event.window, uids: event.uids, values: event.values, block: event.block }];
        this.say(`Window ${event.window}: weights ${event.method === 'revealWeights' ? 'revealed' : 'set'} on the chain at block ${event.block} for uids ${event.uids.join(', ')}.`);
        return;
      case 'validator-weights-committed':
        this.say(`Window ${event.window}: the subnet has commit-reveal on; weights committed at block ${event.block}. Keep this tab open: they are revealed in blocks ${event.firstRevealBlock}–${event.lastRevealBlock} (a restart before then still reveals them).`);
        return;
      case 'validator-weights-expired':
        this.say(`Window ${event.window}: the weights committed at block ${event.commitBlock} could not be revealed before block ${event.lastRevealBlock}; they will not land.`);
        return;
      case 'validator-null-round':
        this.say(`Window ${event.window}: a null round of the run, nothing to gather or score; the first outer step is in window ${event.trainsFrom}.`);
        return;
      case 'validator-caught-up':
        this.say(`Window ${event.window}: caught up with the network (this validator was not running then): stepped, not scored, no weights.`);
        return;
      case 'validator-weights-skipped':
        this.state.weightsSkipped = [...this.state.weightsSkipped, { window: event.window, reason: event.reason }];
        this.say(`Window ${event.window}: ${event.reason}`);
        return;
      case 'validator-error':
        // On a subtensor network a refused weight extrinsic (the wallet's Cancel, a rate limit) costs only the weights.
        this.say(event.stage === 'set-weights' && this.state.network.kind === 'subtensor'
          ? `Window ${event.window}: scored and published, but the weights were not set (${event.message}); the next weight window tries again.`
          : `Window ${event.window}, ${event.stage}: ${event.message}`);
        return;
      case 'validator-report':
        this.record(event.summary);
        return;
      case 'validator-window-skipped':
        this.state.skippedWindows = [...this.state.skippedWindows, event.window];
        this.say(event.message);
        return;
      case 'validator-stopped':
        this.state.running = false;
        // After Stop, `stop` says how it ended; otherwise the loop ended on its own (an error) and says why here.
        if (this.stopRequested) this.changed();
        else this.say(`${event.message} ${this.savedText()}`);
        return;
      case 'validator-synced':
      case 'validator-theta-differs':
        this.say(event.message);
        return;
      case 'run-joined':
        showJoinedRun(event);
        this.say(event.message);
        return;
      case 'validator-restored':
        this.savedWindow = event.lastWindow;
        this.say(event.message);
        return;
      case 'validator-state-saved':
        this.savedWindow = event.window;
        this.changed();
        return;
      default:
        this.changed();
    }
  }

  /** A scored window: the dashboard's scores, the window list, and the permit as the chain shows it now. */
  private record(summary: ValidatorWindowSummary): void {
    const store = this.store;
    store.recordScoring(summary.result);
    if (summary.lossRandomBefore !== null) store.recordLoss(summary.window, { network: meanControlLoss(summary.lossRandomBefore, this.config.scoring.evalSequences, this.config.inner.batchSize) });
    for (const phase of ['train', 'compress', 'sign'] as const) store.setPhase(summary.window, phase, 'skipped', "the miners' part");
    for (const phase of ['submit', 'gather', 'evaluate', 'rate'] as const) {
      const current = store.phaseOf(summary.window, phase);
      store.setPhase(summary.window, phase, current?.status === 'pending' ? 'skipped' : 'done', current?.detail ?? '');
    }
    const weights = store.phaseOf(summary.window, 'weights');
    store.setPhase(summary.window, 'weights', summary.result.setWeightsDue && weights?.status === 'active' ? 'done' : 'skipped', summary.result.setWeightsDue ? (weights?.detail ?? '') : 'not a weight window');
    this.state.windows = [...this.state.windows, summary].slice(-MAX_WINDOWS);
    this.say(`Window ${summary.window} scored: ${summary.evalUids.length} evaluated, ${summary.gatheredUids.length} gathered${summary.outerStepApplied ? ', outer step applied' : ''}.`);
    this.showRegistration(summary.own);
  }

  /** Registration, stake and validator permit as the devnet's metagraph shows them now. */
  protected async lookUp(hotkey: string): Promise<string> {
    const registration = await this.attempt(async () => registrationIn(await this.chain().metagraph(this.netuid()), hotkey));
    this.showRegistration(registration);
    if (registration.uid === null) return '';
    return registration.validatorPermit ? ' It holds a validator permit: weights will be set.' : ' It holds no validator permit: windows are scored, weights are not set.';
  }

  private showRegistration(registration: Registration): void {
    this.state.uid = registration.uid;
    this.state.registrationKnown = true;
    this.state.stake = registration.stake;
    this.state.validatorPermit = registration.validatorPermit;
    this.changed();
  }

  /** The permit and stake were read with the uid (another hotkey or network: read again). */
  protected override forgetRegistration(): void {
    super.forgetRegistration();
    this.state.validatorPermit = null;
    this.state.stake = 0;
  }
}
