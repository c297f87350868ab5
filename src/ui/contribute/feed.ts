/**
 * Turns the peer worker's events into the Contribute dashboard: the window timeline as the stages
 * happen, the local loss, tokens/s, bytes sent against the dense float32 size (compression ratio),
 * the validator's per-window score breakdown as it published it (`scores-{window}`), and its verdict
 * as the chain shows it (its weights, as incentive shares).
 */
import type { DashboardStore } from '../dashboard/model.ts';
import type { PeerEvent } from '../../workers/peer-api.ts';

/** The run's shape: tokens of one inner step (batch × sequence length) and Δ as dense float32 bytes. */
export interface FeedShape {
  readonly tokensPerStep: number;
  readonly denseBytes: number;
}

export class DashboardFeed {
  /** Per window, what training took, so the traffic point keeps tokens/s when the bytes arrive. */
  private readonly trained = new Map<number, { tokens: number; elapsedMs: number }>();
  /** Whether the "why" panel was pointed at this volunteer's uid yet (once, so the user's own pick stays). */
  private ownSelected = false;

  constructor(
    private readonly store: DashboardStore,
    private readonly shape: FeedShape,
  ) {}

  take(event: PeerEvent, ownUid: number): void {
    const store = this.store;
    switch (event.kind) {
      case 'peer-inner-step':
        store.setPhase(event.window, 'train', 'active', `inner step ${event.step + 1} of ${event.of}, loss ${event.loss.toFixed(3)}`);
        return;
      case 'miner-trained': {
        const run = { tokens: event.steps * this.shape.tokensPerStep, elapsedMs: event.elapsedMs };
        this.trained.set(event.window, run);
        store.setPhase(event.window, 'train', 'done', `${event.steps} steps, mean loss ${event.meanLoss.toFixed(3)}`);
        store.recordLoss(event.window, { local: event.meanLoss });
        store.recordTraffic(event.window, run);
        return;
      }
      case 'miner-compressed':
        store.setPhase(event.window, 'compress', 'done', `${event.bytes} bytes, ${event.updateNorm !== null ? `‖Δ‖ ${event.updateNorm.toExponential(2)}` : event.denseOnCpu ? 'compressed in the engine' : 'Δ never left the GPU'}`);
        store.recordTraffic(event.window, { ...this.trained.get(event.window), bytesSent: event.bytes, denseBytes: this.shape.denseBytes });
        this.trained.delete(event.window);
        return;
      case 'miner-signed':
        store.setPhase(event.window, 'sign', 'done', 'signed by the wallet');
        return;
      case 'miner-uploaded':
        store.setPhase(event.window, 'submit', 'done', 'stored inside the put window');
        return;
      case 'peer-window-failed':
        store.setPhase(event.window, 'submit', 'failed', event.message);
        return;
      case 'miner-gathered':
        store.setPhase(event.window, 'gather', 'done', `${event.gathered.length} gathered, ${Object.keys(event.rejected).length} rejected`);
        return;
      case 'peer-window-scores': {
        store.recordPublishedScores(event.document);
        if (!this.ownSelected && event.document.peers.some((p) => p.uid === ownUid)) {
          this.ownSelected = true;
          store.select(ownUid);
        }
        return;
      }
      case 'peer-chain-scores': {
        const own = event.rows.find((r) => r.uid === ownUid);
        const earned = own !== undefined && own.incentive > 0;
        store.setPhase(event.window, 'weights', earned ? 'done' : 'pending', own === undefined ? '' : `incentive share ${(own.incentive * 100).toFixed(1)}%`);
        return;
      }
      default:
        return;
    }
  }
}
