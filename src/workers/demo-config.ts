/** The Demo's run config: the tiny preset with the simulation's overrides and the person's choices. */
import type { RunConfig } from '../core/config.ts';
import { tinyRunConfig } from '../core/run-config.ts';
import type { DemoNetworkOptions } from './demo-api.ts';

/**
 * The tiny preset with the demo's documented overrides (the same as the adversarial simulation's,
 * test/unit/sim-harness.ts; none changes a scoring formula): the whole assigned pool is trained
 * (`poolSequences` = H·batch, so the own-data check samples trained sequences), 6 gather peers and
 * 2 reserves, 5 evaluations per window of 16 sequences, copy detection after 5 outer steps; plus
 * the user's key parameters.
 */
export function demoConfig(options: DemoNetworkOptions): RunConfig {
  const base = tinyRunConfig();
  const poolSequences = options.innerSteps * base.inner.batchSize;
  return {
    ...base,
    runId: 'tiny-demo',
    inner: { ...base.inner, innerSteps: options.innerSteps },
    compression: { ...base.compression, topk: options.topk, errorFeedbackDecay: options.errorFeedbackDecay },
    data: { ...base.data, poolSequences },
    scoring: {
      ...base.scoring,
      gatherPeers: 6,
      reservePeers: 2,
      uidsPerWindow: 5,
      // With fewer inner steps than 4 the pool holds fewer than 16 sequences; the evaluation then
      // uses the whole (trained) pool rather than sequences the peer never trained on.
      evalSequences: Math.min(16, poolSequences),
      overlapGraceSteps: 5,
      evalLrFactor: options.evalLrFactor,
    },
  };
}


