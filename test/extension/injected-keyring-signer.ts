/**
 * TEST-ONLY: the signer half of the test wallet extension, without any `window`, so the same code
 * signs in the injected page bundle and in Node tests. It does what polkadot{.js}'s `extension-base`
 * does: `signRaw` signs `<Bytes>‖data‖</Bytes>`; `signPayload` builds an `ExtrinsicPayload` in a
 * fresh TypeRegistry with the payload's signed extensions (a wallet without stored metadata).
 */
import type { Signer as InjectedSigner } from '@polkadot/types/types';
import type { Keyring } from '@polkadot/keyring';
import { TypeRegistry } from '@polkadot/types';
import type { SignerPayloadJSON, SignerPayloadRaw, SignerResult } from '@polkadot/types/types';
import { hexToU8a, isHex, stringToU8a, u8aToHex, u8aWrapBytes } from '@polkadot/util';

export interface SignLogEntry {
  readonly kind: 'raw' | 'payload';
  readonly address: string;
}

export function injectedKeyringSigner(keyring: Keyring, log: SignLogEntry[], reject = false): InjectedSigner {
  let nextId = 1;
  return {
    signRaw: (raw: SignerPayloadRaw): Promise<SignerResult> => {
      log.push({ kind: 'raw', address: raw.address });
      if (reject) return Promise.reject(new Error('Cancelled'));
      const data = isHex(raw.data) ? hexToU8a(raw.data) : stringToU8a(raw.data);
      return Promise.resolve({ id: nextId++, signature: u8aToHex(keyring.getPair(raw.address).sign(u8aWrapBytes(data))) });
    },
    signPayload: (payload: SignerPayloadJSON): Promise<SignerResult> => {
      log.push({ kind: 'payload', address: payload.address });
      if (reject) return Promise.reject(new Error('Cancelled'));
      const registry = new TypeRegistry();
      registry.setSignedExtensions(payload.signedExtensions);
      const extrinsicPayload = registry.createType('ExtrinsicPayload', payload, { version: payload.version });
      const { signature } = extrinsicPayload.sign(keyring.getPair(payload.address));
      return Promise.resolve({ id: nextId++, signature });
    },
  };
}
