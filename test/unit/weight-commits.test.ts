/**
 * CR-v2 reveal blocks and the persisted commit (src/net/weight-commits.ts): the reveal blocks follow
 * subtensor's `get_epoch_index` / `get_reveal_blocks` (spec 293, `subnets/weights.rs`), worked out
 * here by hand for concrete blocks; a persisted commit is bounded field by field; and the window
 * clock refuses a run whose put window cannot fit the chain's windows.
 */
import { describe, expect, it } from 'vitest';
import { checkWindowTiming, WindowTimingError } from '../../src/core/clock.ts';
import { BadRequestError } from '../../src/net/errors.ts';
import { crV2RevealBlocks, epochIndex, parseWeightCommit, revealTiming, serializeWeightCommit, type WeightCommit } from '../../src/net/weight-commits.ts';

describe('CR-v2 reveal blocks (subtensor get_reveal_blocks)', () => {
  it('netuid 2, tempo 10, period 1: a commit in block 99 (epoch ⌊102/11⌋ = 9) is revealed in blocks 107–117 (epoch 10)', () => {
    expect(epochIndex(2, 10, 99)).toBe(9);
    // first = 10·11 − 3 = 107, last = 107 + 10.
    expect(crV2RevealBlocks(2, 10, 1, 99)).toEqual({ firstRevealBlock: 107, lastRevealBlock: 117 });
    expect(epochIndex(2, 10, 107)).toBe(10);
    expect(epochIndex(2, 10, 117)).toBe(10);
    expect(epochIndex(2, 10, 118)).toBe(11);
  });

  it('netuid 3, tempo 360, period 3: a commit in block 1000 (epoch ⌊1004/361⌋ = 2) is revealed in epoch 5: blocks 1801–2161', () => {
    expect(crV2RevealBlocks(3, 360, 3, 1000)).toEqual({ firstRevealBlock: 5 * 361 - 4, lastRevealBlock: 5 * 361 - 4 + 360 });
  });

  it('says early, due and expired around the reveal blocks', () => {
    const blocks = { firstRevealBlock: 107, lastRevealBlock: 117 };
    expect([106, 107, 117, 118].map((b) => revealTiming(blocks, b))).toEqual(['early', 'due', 'due', 'expired']);
  });
});

describe('a persisted weight commit', () => {
  const commit: WeightCommit = {
    hotkey: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY', netuid: 2, uids: [0, 2, 3], values: [65535, 21845, 43690], salt: [1, 2, 3, 4, 5, 6, 7, 8],
    versionKey: 18_446_744_073_709_551_615n, commitBlock: 99, firstRevealBlock: 107, lastRevealBlock: 117,
  };

  it('round-trips through JSON, a u64 version key included', () => {
    expect(parseWeightCommit(JSON.parse(JSON.stringify(serializeWeightCommit(commit))))).toEqual(commit);
  });

  it('refuses each malformed field with a typed error naming it', () => {
    const good = serializeWeightCommit(commit);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, uids: [0, 70_000, 3] }, /uids/],
      [{ ...good, values: [1, 2] }, /3 uids but 2 values/],
      [{ ...good, salt: 'salt' }, /salt/],
      [{ ...good, versionKey: '18446744073709551616' }, /versionKey/],
      [{ ...good, versionKey: -1 }, /versionKey/],
      [{ ...good, lastRevealBlock: 100 }, /before firstRevealBlock/],
      [{ ...good, netuid: 65_536 }, /netuid/],
      [{ ...good, hotkey: '' }, /hotkey/],
    ];
    for (const [value, message] of cases) {
      expect(() => parseWeightCommit(value), JSON.stringify(value)).toThrow(BadRequestError);
      expect(() => parseWeightCommit(value)).toThrow(message);
    }
    expect(() => parseWeightCommit(null)).toThrow(BadRequestError);
  });
});

describe('a run\'s windows on the chain\'s block time', () => {
  const tiny = { blocksPerWindow: 5, blockTimeMs: 1000, putWindowMs: 3000 };

  it('fits when the put window and one block fit in a window; warns when the chain\'s block time is far from the run\'s', () => {
    expect(checkWindowTiming(tiny, 1000)).toEqual([]);
    expect(checkWindowTiming(tiny, 800)).toEqual([]); // 3000 + 800 ≤ 4000
    const warnings = checkWindowTiming(tiny, 12_000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('60000 ms instead of 5000 ms');
  });

  it('refuses, with the numbers, a put window that does not fit, and a block time that is not one', () => {
    expect(() => checkWindowTiming(tiny, 700)).toThrow(WindowTimingError); // 3000 + 700 > 3500
    expect(() => checkWindowTiming(tiny, 700)).toThrow('5 blocks × 700 ms = 3500 ms');
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => checkWindowTiming(tiny, bad)).toThrow(WindowTimingError);
  });
});
