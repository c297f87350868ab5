/**
 * The comlink surface of `validator.worker.ts` (issue #8 "Validate"): the validator loop
 * (src/peer/validator.ts, scheduled by src/peer/validator-schedule.ts) against the devnet at the page's
 * origin or a subtensor network with the validator's own S3 bucket or the subnet's gateway (src/workers/peer-network.ts; through the gateway its aggregates and checkpoints count against the gateway's object size and quota), with the page's wallet signing every write and weights set only with a validator permit.
 */
import type { ValidatorPageEvent, ValidatorWindowSummary } from '../peer/validator-events.ts';
import type { PageSignPayload, PageSignRaw } from './page-signer.ts';
import type { RealNetworkOptions } from './peer-api.ts';
import type { TrainerBackend } from '../model/engine.ts';
import type { NetworkSummary } from '../net/network-settings.ts';
import type { SignerAccount } from '../net/types.ts';
import type { RunConfig } from '../core/config.ts';
import { GauntletError } from '../core/errors.ts';

export { VALIDATOR_DEV_ACCOUNT_URI } from '../net/wallets.ts';

/**
 * What a headless driver (`npm run evaluate`) reads of the Validate view's status through
 * `window.gauntlet`: the page's status object has at least these fields.
 */
export interface HeadlessValidateStatus {
  readonly hotkey: string | null;
  readonly uid: number | null;
  readonly running: boolean;
  readonly message: string;
  readonly log: readonly string[];
  readonly accounts: readonly SignerAccount[];
  readonly network: NetworkSummary;
  readonly validatorPermit: boolean | null;
  readonly engine: { readonly backend: TrainerBackend; readonly reason: string; readonly parameterCount: number } | null;
  /** Every window scored in this session, oldest first. */
  readonly windows: readonly ValidatorWindowSummary[];
  readonly weightsSet: readonly { readonly window: number; readonly uids: readonly number[]; readonly values: readonly number[]; readonly block: number }[];
  readonly weightsSkipped: readonly { readonly window: number; readonly reason: string }[];
  /** Windows lost on the network. */
  readonly skippedWindows: readonly number[];
}

export interface ValidatorStartOptions {
  /** Devnet base URL (the page's own origin by default). */
  readonly devnetUrl: string;
  /** A subtensor network and this validator's own S3 bucket (the secret stays in memory) or the subnet's gateway, instead of the devnet. */
  readonly network?: RealNetworkOptions;
  readonly hotkey: string;
  readonly uid: number;
  readonly backend: TrainerBackend | 'auto';
  /**
   * The run the page expects (on the devnet, the run document it was served with; headless, the run
   * of `npm run evaluate --run-config`). The worker joins the run the network publishes
   * (`runToJoin`) and refuses to start when it is another one.
   */
  readonly runConfig?: RunConfig;
}

export interface ValidatorWorkerApi {
  /**
   * Loads the data, builds the engine, restores this hotkey's saved state and starts the window loop.
   * `signPayload` (a real network): the page's wallet for the weight extrinsics.
   */
  start(options: ValidatorStartOptions, signRaw: PageSignRaw, onEvent: (event: ValidatorPageEvent) => void, signPayload?: PageSignPayload): Promise<void>;
  /** Stops after the current window; resolves when the loop has ended and the engine is released. */
  stop(): Promise<void>;
}

/** `start` was called while a loop runs, or before the page registered the hotkey. */
export class ValidatorStateError extends GauntletError {
  readonly code: string = 'validator-state';
  override readonly name = 'ValidatorStateError';
}
