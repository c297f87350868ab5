import { describe, expect, it } from 'vitest';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { DashboardStore } from '../../src/ui/dashboard/model.ts';
import { DashboardFeed } from '../../src/ui/contribute/feed.ts';

/**
 * The Contribute dashboard fed by the peer worker's events (src/ui/contribute/feed.ts): figures
 * computed by hand from the events' numbers.
 */
describe('Contribute dashboard feed', () => {
  const config = tinyRunConfig();
  const shape = { tokensPerStep: 4 * 64, denseBytes: 1000 * 4 };

  it('keeps tokens/s from training when the compressed size arrives, and the ratio is dense ÷ sent', () => {
    const store = new DashboardStore('contribute', config.scoring);
    const feed = new DashboardFeed(store, shape);
    feed.take({ kind: 'miner-trained', window: 7, uid: 2, steps: 4, meanLoss: 5.25, elapsedMs: 512 }, 2);
    feed.take({ kind: 'miner-compressed', window: 7, uid: 2, bytes: 160, updateNorm: null, denseOnCpu: false }, 2);
    const model = store.model();
    // 4 steps × 256 tokens in 0.512 s = 2000 tokens/s; 4000 dense bytes over 160 sent = 25×.
    expect(model.traffic).toEqual([{ window: 7, tokensPerSecond: 2000, bytesSent: 160, denseBytes: 4000, compressionRatio: 25 }]);
    expect(model.loss).toEqual([{ window: 7, local: 5.25, network: null, baseline: null }]);
    expect(model.timeline.phases.filter((p) => p.status === 'done').map((p) => p.phase)).toEqual(['train', 'compress']);
  });

  it('marks the weights stage done only when this uid has incentive on the chain', () => {
    const store = new DashboardStore('contribute', config.scoring);
    const feed = new DashboardFeed(store, shape);
    const rows = [{ uid: 0, hotkey: 'v', incentive: 0, lastUpdate: 9 }, { uid: 2, hotkey: 'me', incentive: 0.25, lastUpdate: 0 }, { uid: 3, hotkey: 'x', incentive: 0, lastUpdate: 0 }];
    feed.take({ kind: 'peer-chain-scores', window: 3, block: 20, validatorHotkey: 'v', rows }, 3);
    expect(store.model().timeline.phases.find((p) => p.phase === 'weights')?.status).toBe('pending');
    feed.take({ kind: 'peer-chain-scores', window: 3, block: 20, validatorHotkey: 'v', rows }, 2);
    const weights = store.model().timeline.phases.find((p) => p.phase === 'weights');
    expect(weights?.status).toBe('done');
    expect(weights?.detail).toBe('incentive share 25.0%');
  });

  it('shows a window that was not submitted as failed', () => {
    const store = new DashboardStore('contribute', config.scoring);
    new DashboardFeed(store, shape).take({ kind: 'peer-window-failed', window: 4, message: 'put window closed' }, 2);
    expect(store.model().timeline.phases.find((p) => p.phase === 'submit')).toEqual({ phase: 'submit', status: 'failed', detail: 'put window closed' });
  });
});
