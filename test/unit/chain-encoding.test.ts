import { describe, expect, it } from 'vitest';
import { blake2b } from '@noble/hashes/blake2b';
import { bytesToHex } from '@noble/hashes/utils';
import { decodeAddress } from '@polkadot/util-crypto';
import {
  blocksUntilNextEpoch, crV2CommitHash, decodeBucketCommitment, decodeRawData, encodeBucketCommitment,
  encodeRawData, SUBTENSOR_SIGNED_EXTENSIONS,
} from '../../src/net/subtensor-encoding.ts';
import { U16_MAX, normalizeMaxWeight } from '../../src/net/subnet-rules.ts';
import { BadRequestError } from '../../src/net/errors.ts';

import { KeyringSigner } from '../../src/net/keyring-signer.ts';

const ALICE = (await KeyringSigner.fromUris([])).add('//Alice');

describe('u16 weights (SDK convert_weights_and_uids_for_emit)', () => {
  it('max-upscales: [0.7, 0.3] → [65535, round(0.3/0.7·65535) = 28086] (chain.md observation)', () => {
    // 0.3 / 0.7 · 65535 = 28086.43 → 28086
    expect(normalizeMaxWeight([4, 9], [0.7, 0.3])).toEqual({ uids: [4, 9], weights: [65535, 28086] });
  });
  it('rounds half to even like Python and drops weights that round to 0', () => {
    // 1/2·65535 = 32767.5 → 32768 (even); 1/131070·65535 = 0.5 → 0 (even) → dropped; 3/4·65535 = 49151.25 → 49151
    expect(normalizeMaxWeight([0, 1, 2, 3], [2, 1, 2 / 131070, 1.5])).toEqual({ uids: [0, 1, 3], weights: [65535, 32768, 49151] });
  });
  it('gives nothing for all-zero weights and rejects bad input', () => {
    expect(normalizeMaxWeight([1, 2], [0, 0])).toEqual({ uids: [], weights: [] });
    expect(() => normalizeMaxWeight([1], [0.5, 0.5])).toThrow(BadRequestError);
    expect(() => normalizeMaxWeight([1], [-0.1])).toThrow(BadRequestError);
    expect(() => normalizeMaxWeight([1], [Number.NaN])).toThrow(BadRequestError);
    expect(() => normalizeMaxWeight([U16_MAX + 1], [1])).toThrow(BadRequestError);
  });
});

/** Independent SCALE writer for the test: LE integers and single-byte compact lengths (< 64). */
function u16le(x: number): number[] { return [x & 0xff, x >> 8]; }
function vecU16(xs: number[]): number[] {
  expect(xs.length).toBeLessThan(64);
  return [xs.length << 2, ...xs.flatMap(u16le)];
}
function u64le(x: bigint): number[] {
  return Array.from({ length: 8 }, (_, i) => Number((x >> BigInt(8 * i)) & 0xffn));
}

describe('CR-v2 commit hash', () => {
  it('equals blake2b-256 of the hand-built SCALE tuple (AccountId32, u16, Vec<u16>×3, u64)', () => {
    const uids = [0, 3, 17];
    const values = [65535, 100, 300];
    const salt = [1, 2, 3, 4, 5, 6, 7, 8];
    const versionKey = 0x0102030405n;
    const bytes = Uint8Array.from([...decodeAddress(ALICE), ...u16le(4099), ...vecU16(uids), ...vecU16(values), ...vecU16(salt), ...u64le(versionKey)]);
    const expected = '0x' + bytesToHex(blake2b(bytes, { dkLen: 32 }));
    expect(crV2CommitHash({ hotkey: ALICE, netuidIndex: 4099, uids, values, salt, versionKey })).toBe(expected);
    // A different salt must change the hash (otherwise the commit would not hide anything).
    expect(crV2CommitHash({ hotkey: ALICE, netuidIndex: 4099, uids, values, salt: [9, 2, 3, 4, 5, 6, 7, 8], versionKey })).not.toBe(expected);
  });
});

describe('Data::RawN commitments', () => {
  it('encodes Raw128 as variant byte 129 followed by the bytes, and decodes back', () => {
    const payload = Uint8Array.from({ length: 128 }, (_, i) => (i * 7 + 3) & 0xff);
    const scale = encodeRawData(payload);
    expect(scale.length).toBe(129);
    expect(scale[0]).toBe(129);
    expect(Array.from(scale.slice(1))).toEqual(Array.from(payload));
    expect(Array.from(decodeRawData(scale))).toEqual(Array.from(payload));
  });
  it('encodes a short Raw5 with variant 6', () => {
    expect(Array.from(encodeRawData(Uint8Array.from([1, 2, 3, 4, 5])))).toEqual([6, 1, 2, 3, 4, 5]);
  });
  it('rejects 129 bytes, truncated input and other variants', () => {
    expect(() => encodeRawData(new Uint8Array(129))).toThrow(BadRequestError);
    expect(() => decodeRawData(Uint8Array.from([6, 1, 2]))).toThrow(BadRequestError);
    expect(() => decodeRawData(Uint8Array.from([0]))).toThrow(BadRequestError);
    expect(() => decodeRawData(new Uint8Array(0))).toThrow(BadRequestError);
  });
  it('round-trips Templar bucket read credentials as a 128-char commitment', () => {
    const creds = { accountId: 'a'.repeat(32), readKeyId: 'K'.repeat(31) + '1', readSecret: 's'.repeat(63) + 'Z' };
    const bytes = encodeBucketCommitment(creds);
    expect(bytes.length).toBe(128);
    expect(decodeBucketCommitment(bytes)).toEqual(creds);
    expect(() => encodeBucketCommitment({ ...creds, readSecret: 'short' })).toThrow(BadRequestError);
    expect(() => decodeBucketCommitment(bytes.slice(0, 100))).toThrow(BadRequestError);
  });
});

describe('ChargeTransactionPaymentWrapper declaration (chain.md §4)', () => {
  it('declares the Compact<Balance> tip in the extrinsic and nothing in the payload', () => {
    expect(SUBTENSOR_SIGNED_EXTENSIONS.ChargeTransactionPaymentWrapper).toEqual({ extrinsic: { tip: 'Compact<Balance>' }, payload: {} });
  });
});

describe('legacy epoch rule', () => {
  it('hits 0 exactly once every tempo+1 blocks, at block ≡ tempo − netuid − 1 (mod tempo+1)', () => {
    const netuid = 3;
    const tempo = 10;
    const zeros = [];
    for (let block = 0; block < 44; block++) if (blocksUntilNextEpoch(netuid, tempo, block) === 0) zeros.push(block);
    // tempo − netuid − 1 = 6, then every 11 blocks
    expect(zeros).toEqual([6, 17, 28, 39]);
    expect(blocksUntilNextEpoch(netuid, tempo, 7)).toBe(10);
    expect(blocksUntilNextEpoch(netuid, 0, 7)).toBeUndefined();
  });
});
