import { describe, expect, it } from 'vitest';
import type { WindowEvent } from '../../src/peer/events.ts';
import { LastEvaluations, peerEvaluation } from '../../src/ui/demo/evaluations.ts';

const evaluated = (uid: number, window: number, losses: { rb?: number; ra?: number; ob?: number; oa?: number }, status: 'ok' | 'missing' | 'invalid' = 'ok'): Extract<WindowEvent, { kind: 'validator-evaluated' }> => ({
  kind: 'validator-evaluated',
  window,
  uid,
  status,
  ...(losses.rb === undefined ? {} : { lossRandomBefore: losses.rb }),
  ...(losses.ra === undefined ? {} : { lossRandomAfter: losses.ra }),
  ...(losses.ob === undefined ? {} : { lossOwnBefore: losses.ob }),
  ...(losses.oa === undefined ? {} : { lossOwnAfter: losses.oa }),
});

describe('the demo\'s "what the validator measured" rows', () => {
  it('derives LossScore, own improvement and b from the four losses (by hand)', () => {
    // Random data 4 → 3: (4 − 3)/4 = 0.25. Own data 5 → 3: (5 − 3)/5 = 0.4 > 0.25, so b = +1.
    const helped = peerEvaluation(evaluated(3, 7, { rb: 4, ra: 3, ob: 5, oa: 3 }));
    expect(helped.lossScore).toBeCloseTo(0.25, 12);
    expect(helped.ownImprovement).toBeCloseTo(0.4, 12);
    expect(helped.indicator).toBe(1);
    // A copied update: random data 2 → 1.5 (0.25), own data 2 → 1.8 (0.1 < 0.25), so b = −1.
    const copied = peerEvaluation(evaluated(4, 7, { rb: 2, ra: 1.5, ob: 2, oa: 1.8 }));
    expect(copied.lossScore).toBeCloseTo(0.25, 12);
    expect(copied.ownImprovement).toBeCloseTo(0.1, 12);
    expect(copied.indicator).toBe(-1);
    // A poisoned update makes the loss worse: 4 → 5 is −0.25.
    expect(peerEvaluation(evaluated(5, 7, { rb: 4, ra: 5, ob: 4, oa: 5 })).lossScore).toBeCloseTo(-0.25, 12);
  });

  it('leaves everything unmeasured as null for a missing upload', () => {
    const row = peerEvaluation(evaluated(6, 8, {}, 'missing'));
    expect(row).toMatchObject({ status: 'missing', lossScore: null, ownImprovement: null, indicator: null, lossRandomBefore: null });
  });

  it('keeps only the latest evaluation of each uid, ordered by uid, and ignores other events', () => {
    const last = new LastEvaluations();
    last.record([
      evaluated(9, 2, { rb: 4, ra: 3, ob: 4, oa: 3 }),
      evaluated(2, 2, { rb: 4, ra: 2, ob: 4, oa: 1 }),
      { kind: 'validator-outer-step', window: 2, peers: [2, 9], globalStep: 1 },
    ]);
    last.record([evaluated(9, 3, {}, 'invalid')]);
    expect(last.rows().map((r) => [r.uid, r.window, r.status])).toEqual([
      [2, 2, 'ok'],
      [9, 3, 'invalid'],
    ]);
    last.clear();
    expect(last.rows()).toEqual([]);
  });
});
