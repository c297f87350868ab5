/**
 * The comlink surface of `peer.worker.ts`: the volunteer's miner loop (src/peer/miner.ts) against a
 * devnet, clock-driven, with persistence. The page keeps the wallet: the worker asks it for every
 * signature through `signRaw`, so keys never enter the worker (chain.md §5).
 */
import type { RunConfig } from '../core/config.ts';
import type { BehaviourName } from '../peer/behaviours.ts';
import type { PageSignRaw } from './page-signer.ts';
import type { PeerEvent } from '../peer/events.ts';
import type { TrainerBackend } from '../model/engine.ts';
import type { GatewayStorageSettings, OwnBucketSettings } from '../net/hotkey-buckets.ts';
import { GauntletError } from '../core/errors.ts';

/**
 * A subtensor endpoint + netuid and where the peer's uploads go: its own S3 bucket with its write
 * credentials (held in memory only), or the subnet's storage gateway (issue #21), which takes writes
 * signed by the hotkey through the page's wallet, as the devnet does.
 */
export interface RealNetworkOptions {
  readonly endpoint: string;
  readonly netuid: number;
  readonly storage: OwnBucketSettings | GatewayStorageSettings;
}

export interface PeerStartOptions {
  /** Devnet base URL (the page's own origin by default); the data shards are read from here on any network. */
  readonly devnetUrl: string;
  /** A subtensor network and the volunteer's S3 bucket or the subnet's gateway instead of the devnet (a bucket's secret stays in memory). */
  readonly network?: RealNetworkOptions;
  readonly hotkey: string;
  readonly uid: number;
  readonly backend: TrainerBackend | 'auto';
  /**
   * ADVERSARIAL TESTING ONLY (`npm run swarm`): run a cheating behaviour of src/peer/behaviours.ts
   * instead of the honest miner. Reachable only programmatically (`window.gauntlet` hook), never
   * from a control in the page; absent means honest. A copier re-signs `copyFrom`'s submissions.
   */
  readonly adversary?: { readonly behaviour: BehaviourName; readonly copyFrom?: number };
  /**
   * The run the page expects (on the devnet, the run document it was served with; headless, the
   * swarm's run). The worker joins the run the network publishes (`runToJoin`) and refuses to start
   * when it is another one.
   */
  readonly runConfig?: RunConfig;
}


export type { PageSignRaw } from './page-signer.ts';

/** How a stopped loop ended. */
export interface PeerStopResult {
  /** The error that ended the loop, in words; null when it stopped on request. */
  readonly error: string | null;
}

export interface PeerWorkerApi {
  /**
   * Syncs θ (snapshot, else the validator's checkpoint and aggregates, else the run's init) and
   * starts the window loop, on the engine an earlier `start` built when the run config and backend
   * are the same (re-initialised, not rebuilt or recalibrated), else on a new one.
   */
  start(options: PeerStartOptions, signRaw: PageSignRaw, onEvent: (event: PeerEvent) => void): Promise<void>;
  /**
   * Stops after the current step; resolves when the loop has ended, with the error that ended it
   * (null when it stopped cleanly or none ran). The engine stays built for the next `start`.
   */
  stop(): Promise<PeerStopResult>;
  /**
   * Disposes the engine kept for the next `start` (the page is going away); false, and nothing
   * disposed, while a loop runs.
   */
  releaseEngine(): Promise<boolean>;
  /** sha256 (hex) of the error-feedback buffer as float32 bytes, for tests and the UI. */
  errorFeedbackDigest(): Promise<string | null>;
}

/** `start` was called while a loop runs, or before the page registered the hotkey. */
export class PeerStateError extends GauntletError {
  readonly code: string = 'peer-state';
  override readonly name = 'PeerStateError';
}
