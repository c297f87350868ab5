import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '@polkadot/keyring';
import { WsProvider } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { chainSpec } from '@substrate/connect-known-chains/rococo_v2_2_asset_hub';
import { ChainError } from '../../src/net/errors.ts';
import {
  explainRegistrationFailure, formatTao, RAO_PER_TAO, registeredText, registrationConfirmText, registrationCostNote, registrationShortfall, RegistrationError,
  runtimeErrorName, type RegistrationQuote,
} from '../../src/net/registration.ts';
import { submitExtrinsic, SubtensorChain } from '../../src/net/subtensor-chain.ts';

/**
 * Registration on subtensor as the page says it (src/net/registration.ts; issue #15, #21): TAO
 * amounts, the refusal before signing when the payer is short, and the runtime's refusals in plain
 * words with their names kept. The error formats come from real failures where a CI-safe runtime
 * can produce them (Rococo Asset Hub under chopsticks: a dispatch error, a fee the payer cannot
 * pay); the subtensor runtime's own registration errors are checked on spec 293 in the developer
 * check (test/browser/subtensor-devcheck.spec.ts).
 */
const NNBSP = '\u202f';
const HOTKEY = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const COLDKEY = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const quote: RegistrationQuote = { netuid: 2, hotkey: HOTKEY, payer: COLDKEY, costRao: 500_000n, balanceRao: 10n ** 15n };

describe('TAO amounts', () => {
  it('are exact in rao, with 9 decimals, trailing zeros dropped and thousands grouped', () => {
    expect(RAO_PER_TAO).toBe(10n ** 9n);
    expect(formatTao(0n)).toBe('0 TAO');
    expect(formatTao(1n)).toBe('0.000000001 TAO');
    expect(formatTao(500_000n)).toBe('0.0005 TAO');
    expect(formatTao(100_000_000n)).toBe('0.1 TAO');
    expect(formatTao(RAO_PER_TAO)).toBe('1 TAO');
    expect(formatTao(10n ** 15n)).toBe(`1${NNBSP}000${NNBSP}000 TAO`);
    expect(formatTao(1_234_567_890_123_456_789n)).toBe(`1${NNBSP}234${NNBSP}567${NNBSP}890.123456789 TAO`);
    // Beyond a float's 2^53: still exact.
    expect(formatTao(2n ** 64n - 1n)).toBe(`18${NNBSP}446${NNBSP}744${NNBSP}073.709551615 TAO`);
    expect(formatTao(-1_500_000_000n)).toBe('-1.5 TAO');
  });
});

describe('before the wallet is asked', () => {
  it('names the cost and who pays beside "press Register"', () => {
    expect(registrationCostNote({ hotkey: HOTKEY, payer: HOTKEY, costRao: 500_000n })).toBe('Registering costs 0.0005 TAO now, paid by 5FHneW…M694ty (the hotkey itself); "Pay with" picks another account of the wallet.');
    expect(registrationCostNote({ hotkey: HOTKEY, payer: COLDKEY, costRao: 500_000n })).toContain('now, paid by 5Grwva…GKutQY;');
  });

  it('refuses a payer that holds less than the cost, with the amounts and what to do; an affordable one is shown cost, payer and balance', () => {
    expect(registrationShortfall(quote)).toBeNull();
    expect(registrationShortfall({ ...quote, balanceRao: quote.costRao })).toBeNull();
    const short = registrationShortfall({ ...quote, payer: HOTKEY, balanceRao: 200_000n });
    expect(short).toBe('Registering 5FHneW…M694ty on netuid 2 costs 0.0005 TAO, but 5FHneW…M694ty holds only 0.0002 TAO. Send at least 0.0003 TAO more to it, or pick an account that holds enough under "Pay with", then press Register again.');
    expect(registrationConfirmText(quote)).toBe(`Registering costs 0.0005 TAO, paid by 5Grwva…GKutQY; your balance is 1${NNBSP}000${NNBSP}000 TAO. The paying account becomes the owner (coldkey) of 5FHneW…M694ty. Confirm it in the wallet…`);
    expect(registeredText(quote, { uid: 4, block: 123, cost: 500_000n })).toBe(`Registered: ${HOTKEY} is uid 4 on netuid 2, block 123, cost 0.0005 TAO (paid by 5Grwva…GKutQY).`);
  });
});

/** A dispatch failure exactly as `submitExtrinsic` words it (the Rococo test below checks that wording on a real runtime). */
const dispatchFailure = (name: string, docs: string): ChainError => new ChainError(`subtensorModule.burnedRegister failed in block 0x${'ab'.repeat(32)}: subtensorModule.${name}: ${docs}`);

describe("the runtime's refusals, in plain words", () => {
  // Each spec-293 error a registration commonly meets (the docs are the runtime's), and what the sentence must tell the person.
  const cases: readonly [string, string, RegExp][] = [
    ['NotEnoughBalanceToStake', 'The caller is requesting adding more stake than there exists in the coldkey account.', /5Grwva…GKutQY cannot pay the registration cost .*Send more TAO to it, or pick an account that holds enough under "Pay with"/],
    ['TooManyRegistrationsThisBlock', 'Number of registrations in this block exceeds the allowed number.', /this block had them all\. Nothing was burned: press Register again in a few seconds/],
    ['TooManyRegistrationsThisInterval', 'The number of registration attempts exceeded the allowed number in the interval.', /as many registrations as it allows in its current interval\. .*try again after the interval/],
    ['HotKeyAlreadyRegisteredInSubNet', 'The caller is requesting registering a neuron which already exists in the active set.', /5FHneW…M694ty is already registered on netuid 2; nothing was burned\. Pick the hotkey again/],
    ['SubNetworkDoesNotExist', 'The subnet does not exist.', /Netuid 2 does not exist on this chain\. Check the netuid in the network form/],
    ['SubtokenDisabled', 'SubToken disabled now', /Netuid 2 has not been started by its owner yet/],
    ['SubNetRegistrationDisabled', 'Registration is disabled.', /Registration is closed on netuid 2/],
    ['NonAssociatedColdKey', 'Request to stake, unstake or subscribe is made by a coldkey that is not associated with the hotkey account.', /already belongs to another coldkey than 5Grwva…GKutQY\. Pay with the coldkey that owns it/],
  ];

  it.each(cases)('%s: says what to do, and keeps the runtime\'s name', (name, docs, plain) => {
    const failure = explainRegistrationFailure(dispatchFailure(name, docs), quote);
    expect(failure).toBeInstanceOf(RegistrationError);
    expect(failure.runtimeError).toBe(name);
    expect(failure.message).toMatch(plain);
    expect(failure.message).toContain(`(The runtime answered ${name}.)`);
  });

  it('an error it has no sentence for is still named, with the raw message', () => {
    const raw = dispatchFailure('SomethingNew', 'A refusal of a later runtime.');
    const failure = explainRegistrationFailure(raw, quote);
    expect(failure.runtimeError).toBe('SomethingNew');
    expect(failure.message).toBe(`The chain refused the registration (SomethingNew): ${raw.message}`);
  });

  it('a wallet that declined, a fee the payer cannot pay, and anything else are said as such', () => {
    const declined = explainRegistrationFailure(new ChainError('subtensorModule.burnedRegister could not be signed or submitted: Cancelled'), quote);
    expect(declined.message).toMatch(/^The wallet did not sign the registration, so nothing was sent\./);
    expect(declined.runtimeError).toBeUndefined();
    // A node's wording of the pool's `InvalidTransaction::Payment` (chopsticks answers it as JSON: the Rococo case below).
    const fee = explainRegistrationFailure(new ChainError('subtensorModule.burnedRegister could not be signed or submitted: 1010: Invalid Transaction: Inability to pay some fees , e.g. account balance too low'), quote);
    expect(fee.message).toMatch(/^5Grwva…GKutQY cannot pay the transaction fee/);
    expect(explainRegistrationFailure(new Error('socket closed'), quote).message).toBe('The registration failed: socket closed');
    expect(runtimeErrorName('subtensorModule.burnedRegister could not be signed or submitted: Cancelled')).toBeUndefined();
  });
});

describe('the refusal formats of a real runtime (Rococo Asset Hub under chopsticks)', () => {
  process.env.LOG_LEVEL ??= 'error';
  let server: { readonly addr: string; close(): Promise<void> };
  let chain: SubtensorChain;
  let keyring: Keyring;

  beforeAll(async () => {
    const { setupWithServer, BuildBlockMode } = await import('@acala-network/chopsticks');
    server = await setupWithServer({ genesis: JSON.parse(chainSpec) as never, port: 0, host: '127.0.0.1', 'build-block-mode': BuildBlockMode.Instant });
    await cryptoWaitReady();
    keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const rpc = new WsProvider(`ws://${server.addr}`);
    await rpc.isReady;
    await rpc.send('dev_setStorage', [{ System: { Account: [[[keyring.addFromUri('//Alice').address], { providers: 1, data: { free: (10n ** 18n).toString() } }]] } }]);
    await rpc.disconnect();
    chain = await SubtensorChain.connect(`ws://${server.addr}`);
  }, 120_000);

  afterAll(async () => {
    await chain?.close();
    await server?.close();
  });

  it("a failed dispatch (a pallet's error) is read by its name, as a registration's would be", async () => {
    const alice = keyring.addFromUri('//Alice');
    // An asset that does not exist: the assets pallet refuses in the block with its own error.
    const tx = chain.api.tx.assets?.transfer?.(987_654, keyring.addFromUri('//Bob').address, 1);
    if (tx === undefined) throw new Error('no assets.transfer on this runtime');
    const error = await submitExtrinsic(chain.api, tx, { kind: 'pair', pair: alice }, 30_000).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ChainError);
    const name = runtimeErrorName((error as ChainError).message);
    expect(name).toBe('Unknown');
    const failure = explainRegistrationFailure(error, quote);
    expect(failure.runtimeError).toBe('Unknown');
    expect(failure.message).toContain('The chain refused the registration (Unknown)');
  });

  it('a payer that cannot pay the fee is refused by the node, and told to fund the account', async () => {
    const empty = keyring.addFromUri('//Nobody//registration-test');
    const tx = chain.api.tx.system?.remark?.('0x00');
    if (tx === undefined) throw new Error('no system.remark on this runtime');
    const error = await submitExtrinsic(chain.api, tx, { kind: 'pair', pair: empty }, 30_000).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ChainError);
    const failure = explainRegistrationFailure(error, { ...quote, payer: empty.address });
    expect(failure.runtimeError).toBeUndefined();
    expect(failure.message).toMatch(/^5\w{5}…\w{6} cannot pay the transaction fee, so the node did not take the registration\. Send some TAO to it/);
  });
});
