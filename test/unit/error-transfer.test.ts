/**
 * Typed errors across a Comlink boundary (issue #16, src/workers/error-transfer.ts): an object
 * exposed on one end of a real MessageChannel throws; the other end receives an instance of the same
 * class, with its stable code, its action and its own fields, where Comlink alone gives a plain
 * Error with a message. Every error thrown on purpose is a GauntletError with a code.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as Comlink from 'comlink';
import { GauntletError } from '../../src/core/errors.ts';
import { WindowTimingError } from '../../src/core/clock.ts';
import { DeviceLostError } from '../../src/gpu/errors.ts';
import { TrainerInputError } from '../../src/model/engine.ts';
import { NetError, UnavailableError, WalletError } from '../../src/net/errors.ts';
import { NoBucketCommittedError } from '../../src/net/hotkey-buckets.ts';
import { PeerStateError } from '../../src/workers/peer-api.ts';
import { installErrorTransfer } from '../../src/workers/error-transfer.ts';

class UnregisteredError extends Error {
  readonly detail = 42;
}

const thrown: Record<string, () => Error> = {
  lost: () => new DeviceLostError('the driver was reset'),
  wallet: () => new WalletError('the wallet refused to sign'),
  unavailable: () => new UnavailableError('the storage endpoint is down'),
  bucket: () => new NoBucketCommittedError('5Hotkey'),
  timing: () => new WindowTimingError('a window is 2500 ms'),
  input: () => new TrainerInputError('batch 0 has 3 rows'),
  state: () => new PeerStateError('already running'),
  other: () => new UnregisteredError('not registered'),
};

const channel = new MessageChannel();
const api = {
  fail: (which: string): Promise<void> => Promise.reject(thrown[which]!()),
};
installErrorTransfer();
Comlink.expose(api, channel.port1);
const remote = Comlink.wrap<typeof api>(channel.port2);
afterAll(() => {
  channel.port1.close();
  channel.port2.close();
});

async function caught(which: string): Promise<unknown> {
  try {
    await remote.fail(which);
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('errors across a Comlink channel', () => {
  it('arrive as instances of their own class, with their code and fields', async () => {
    const lost = await caught('lost');
    expect(lost).toBeInstanceOf(DeviceLostError);
    expect(lost).toBeInstanceOf(GauntletError);
    expect((lost as DeviceLostError).code).toBe('device-lost');
    expect((lost as DeviceLostError).reason).toBe('the driver was reset');
    expect((lost as Error).message).toBe(thrown.lost!().message);
    const wallet = await caught('wallet');
    expect(wallet).toBeInstanceOf(WalletError);
    expect(wallet).toBeInstanceOf(NetError);
    expect(wallet).not.toBeInstanceOf(DeviceLostError);
    expect((wallet as WalletError).code).toBe('wallet');
    expect(await caught('unavailable')).toBeInstanceOf(UnavailableError);
    const bucket = await caught('bucket');
    expect(bucket).toBeInstanceOf(NoBucketCommittedError);
    expect((bucket as NoBucketCommittedError).hotkey).toBe('5Hotkey');
    expect((bucket as NetError).code).toBe('not-found');
    expect(await caught('timing')).toBeInstanceOf(WindowTimingError);
    expect(await caught('input')).toBeInstanceOf(TrainerInputError);
    expect(((await caught('state')) as PeerStateError).code).toBe('peer-state');
  });

  it('an error of an unregistered class arrives as a plain Error with its name and fields', async () => {
    const other = await caught('other');
    expect(other).toBeInstanceOf(Error);
    expect(other).not.toBeInstanceOf(UnregisteredError);
    expect((other as Error).message).toBe('not registered');
    expect((other as { detail?: number }).detail).toBe(42);
  });

  it('every class of these errors carries a stable kebab-case code', () => {
    for (const make of Object.values(thrown)) {
      const error = make();
      if (error instanceof GauntletError) expect(error.code).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
  });
});
