import { describe, expect, it } from 'vitest';
import { u8aToHex, u8aWrapBytes, stringToU8a } from '@polkadot/util';
import { sr25519Verify, decodeAddress } from '@polkadot/util-crypto';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { assertValidSignature, isValidSignature } from '../../src/net/verify.ts';
import { BadSignatureError, WalletError } from '../../src/net/errors.ts';

const message = stringToU8a('gauntlet test message: window 7, uid 3');

describe('KeyringSigner + verifier', () => {
  it('signs the <Bytes>-wrapped message as extensions do, and the verifier accepts it', async () => {
    const signer = await KeyringSigner.fromUris(['//Alice']);
    const [alice] = await signer.accounts();
    if (alice === undefined) throw new Error('no account');
    const signature = await signer.signRaw(alice.address, message);
    // Independent check with the primitive: the wrapped bytes verify, the bare message does not.
    const publicKey = decodeAddress(alice.address);
    expect(sr25519Verify(u8aWrapBytes(message), signature, publicKey)).toBe(true);
    expect(sr25519Verify(message, signature, publicKey)).toBe(false);
    expect(isValidSignature(message, signature, alice.address)).toBe(true);
    expect(() => assertValidSignature(message, signature, alice.address, 'test message')).not.toThrow();
  });

  it('accepts a bare (unwrapped) signature too', async () => {
    const signer = await KeyringSigner.fromUris(['//Bob']);
    const [bob] = await signer.accounts();
    if (bob === undefined) throw new Error('no account');
    const bare = u8aToHex(signer.pair(bob.address).sign(message));
    expect(isValidSignature(message, bare, bob.address)).toBe(true);
  });

  it('rejects another key, a tampered message and malformed signatures', async () => {
    const signer = await KeyringSigner.fromUris(['//Alice', '//Bob']);
    const [alice, bob] = await signer.accounts();
    if (alice === undefined || bob === undefined) throw new Error('no accounts');
    const signature = await signer.signRaw(alice.address, message);
    expect(isValidSignature(message, signature, bob.address)).toBe(false);
    const tampered = message.slice();
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expect(isValidSignature(tampered, signature, alice.address)).toBe(false);
    expect(isValidSignature(message, '0x1234', alice.address)).toBe(false);
    expect(isValidSignature(message, signature, 'not-an-address')).toBe(false);
    expect(() => assertValidSignature(tampered, signature, alice.address, 'submission')).toThrow(BadSignatureError);
  });

  it('refuses to sign for an unknown account with a WalletError', async () => {
    const signer = await KeyringSigner.fromUris(['//Alice']);
    const other = await KeyringSigner.fromUris(['//Charlie']);
    const [charlie] = await other.accounts();
    if (charlie === undefined) throw new Error('no account');
    await expect(signer.signRaw(charlie.address, message)).rejects.toThrow(WalletError);
  });
});
