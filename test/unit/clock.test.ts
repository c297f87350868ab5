import { describe, expect, it } from 'vitest';
import {
  ClockInputError,
  classifyUploadTime,
  firstBlockOfWindow,
  isNullRound,
  nominalWindowMs,
  peerListFirstEffectiveWindow,
  putWindowAnchorBlock,
  putWindowBounds,
  validatorSyncWindow,
  windowOfBlock,
} from '../../src/core/clock.ts';

describe('windowOfBlock / firstBlockOfWindow (gauntlet-spec §3.1)', () => {
  it('maps the edge blocks of a window by hand: 5 blocks per window', () => {
    // Window 0 = blocks 0..4, window 1 = 5..9, window 2 = 10..14.
    expect(windowOfBlock(0, 5)).toBe(0);
    expect(windowOfBlock(4, 5)).toBe(0);
    expect(windowOfBlock(5, 5)).toBe(1);
    expect(windowOfBlock(9, 5)).toBe(1);
    expect(windowOfBlock(10, 5)).toBe(2);
    expect(firstBlockOfWindow(0, 5)).toBe(0);
    expect(firstBlockOfWindow(2, 5)).toBe(10);
  });

  it('uses Templar v2.1.3 numbers: 125 blocks per window', () => {
    expect(windowOfBlock(6_475_249, 125)).toBe(51_801);
    expect(windowOfBlock(6_475_250, 125)).toBe(51_802);
    expect(firstBlockOfWindow(51_802, 125)).toBe(6_475_250);
  });

  it('every block of a window maps back to it, and its first block is the smallest such block', () => {
    for (const bpw of [1, 3, 7]) {
      for (let w = 0; w < 20; w++) {
        const first = firstBlockOfWindow(w, bpw);
        for (let b = first; b < first + bpw; b++) expect(windowOfBlock(b, bpw)).toBe(w);
        if (first > 0) expect(windowOfBlock(first - 1, bpw)).toBe(w - 1);
      }
    }
  });

  it('one block per window is the identity', () => {
    expect(windowOfBlock(17, 1)).toBe(17);
  });

  it('rejects negative, fractional and non-finite inputs with ClockInputError', () => {
    expect(() => windowOfBlock(-1, 5)).toThrow(ClockInputError);
    expect(() => windowOfBlock(1.5, 5)).toThrow(ClockInputError);
    expect(() => windowOfBlock(Number.NaN, 5)).toThrow(ClockInputError);
    expect(() => windowOfBlock(3, 0)).toThrow(ClockInputError);
    expect(() => firstBlockOfWindow(-2, 5)).toThrow(/window \(-2\) must be a non-negative integer/);
  });
});

describe('put window (gauntlet-spec §3.2)', () => {
  it('anchors window w on the first block of w + 1', () => {
    expect(putWindowAnchorBlock(0, 5)).toBe(5);
    expect(putWindowAnchorBlock(3, 125)).toBe(500);
  });

  it('bounds are [ts, ts + putWindowMs]', () => {
    expect(putWindowBounds(1_700_000_000_000, 3000)).toEqual({ timeMinMs: 1_700_000_000_000, timeMaxMs: 1_700_000_003_000 });
    expect(putWindowBounds(0, 70_000)).toEqual({ timeMinMs: 0, timeMaxMs: 70_000 });
  });

  it('classifies the edges: bounds inclusive', () => {
    const bounds = putWindowBounds(10_000, 3000);
    expect(classifyUploadTime(9_999, bounds)).toBe('too-early');
    expect(classifyUploadTime(10_000, bounds)).toBe('on-time');
    expect(classifyUploadTime(11_500, bounds)).toBe('on-time');
    expect(classifyUploadTime(13_000, bounds)).toBe('on-time');
    expect(classifyUploadTime(13_001, bounds)).toBe('too-late');
  });

  it('rejects bad timestamps and durations', () => {
    expect(() => putWindowBounds(Number.POSITIVE_INFINITY, 3000)).toThrow(ClockInputError);
    expect(() => putWindowBounds(0, 0)).toThrow(ClockInputError);
    expect(() => putWindowBounds(0, -5)).toThrow(ClockInputError);
    expect(() => classifyUploadTime(Number.NaN, putWindowBounds(0, 1))).toThrow(ClockInputError);
  });
});

describe('validator sync window, peer list, null rounds (gauntlet-spec §3.3, §3.4, §5.7)', () => {
  it('validator scores current − offset, nothing before the chain is old enough', () => {
    expect(validatorSyncWindow(10, 1)).toBe(9);
    expect(validatorSyncWindow(10, 2)).toBe(8);
    expect(validatorSyncWindow(1, 1)).toBe(0);
    expect(validatorSyncWindow(0, 1)).toBeNull();
    expect(validatorSyncWindow(1, 2)).toBeNull();
    expect(validatorSyncWindow(4, 0)).toBe(4);
  });

  it('a peer list takes effect margin windows later', () => {
    expect(peerListFirstEffectiveWindow(10, 1)).toBe(11);
    expect(peerListFirstEffectiveWindow(10, 2)).toBe(12);
    expect(peerListFirstEffectiveWindow(10, 0)).toBe(10);
  });

  it('the first offset + margin windows after the start are null rounds', () => {
    const v213 = { validatorOffset: 1, peerListWindowMargin: 1 };
    // start 100, 1 + 1 = 2 null windows: 100 and 101.
    expect(isNullRound(99, 100, v213)).toBe(true);
    expect(isNullRound(100, 100, v213)).toBe(true);
    expect(isNullRound(101, 100, v213)).toBe(true);
    expect(isNullRound(102, 100, v213)).toBe(false);
    const paperEra = { validatorOffset: 2, peerListWindowMargin: 2 };
    expect(isNullRound(103, 100, paperEra)).toBe(true);
    expect(isNullRound(104, 100, paperEra)).toBe(false);
  });

  it('nominal window length is blocks × block time', () => {
    expect(nominalWindowMs({ blocksPerWindow: 10, blockTimeMs: 12_000 })).toBe(120_000);
  });
});
