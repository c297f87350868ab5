/**
 * Registration on a subtensor subnet as a person sees it (issue #15, #21): `burned_register` burns
 * the subnet's registration cost (`Burn(netuid)`) from the coldkey that signs it, and that coldkey
 * becomes the hotkey's owner (chain.md §3.6). This module turns the amounts into TAO for people
 * (1 TAO = 10⁹ rao, chain.md §2), decides before anything is signed whether the payer can afford it,
 * and turns the runtime's refusals (`ChainError` messages carrying `pallet.Error: docs`) into a
 * sentence saying what to do, keeping the runtime's error name. No chain access here: the caller
 * reads the cost and the balance (`SubtensorChain.registrationCost`, `freeBalance`) and registers.
 */
import { errorMessage, GauntletError } from '../core/errors.ts';

/** rao per TAO: TAO has 9 decimals. */
export const RAO_PER_TAO = 1_000_000_000n;

/** Groups thousands with a narrow no-break space (SI style), so an amount never breaks across lines. */
const GROUP = '\u202f';

/**
 * An amount of rao in TAO, exactly (bigint arithmetic, never a float): thousands grouped, trailing
 * zeros of the fraction dropped. `100_000_000n` → "0.1 TAO", `10n ** 15n` → "1 000 000 TAO".
 */
export function formatTao(rao: bigint): string {
  const sign = rao < 0n ? '-' : '';
  const magnitude = rao < 0n ? -rao : rao;
  const whole = (magnitude / RAO_PER_TAO).toString().replace(/\B(?=(\d{3})+$)/g, GROUP);
  const fraction = (magnitude % RAO_PER_TAO).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`} TAO`;
}

/** A short form of an address for sentences (the whole one is in the wallet). */
export function shortAddress(address: string): string {
  return address.length > 14 ? `${address.slice(0, 6)}…${address.slice(-6)}` : address;
}

/** What registering `hotkey` on `netuid` costs now and what `payer`, the coldkey that signs and pays, holds. */
export interface RegistrationQuote {
  readonly netuid: number;
  readonly hotkey: string;
  readonly payer: string;
  readonly costRao: bigint;
  readonly balanceRao: bigint;
}

/** Who pays, in words: the hotkey itself, or another account of the wallet. */
function paidBy(quote: Pick<RegistrationQuote, 'hotkey' | 'payer'>): string {
  return quote.payer === quote.hotkey ? `${shortAddress(quote.payer)} (the hotkey itself)` : shortAddress(quote.payer);
}

/** The note beside "press Register" for an unregistered hotkey: what it costs now, and who would pay. */
export function registrationCostNote(quote: Pick<RegistrationQuote, 'hotkey' | 'payer' | 'costRao'>): string {
  return `Registering costs ${formatTao(quote.costRao)} now, paid by ${paidBy(quote)}; "Pay with" picks another account of the wallet.`;
}

/**
 * Why the payer cannot afford the registration (null: it can). Checked before the wallet is asked,
 * so a person is never asked to sign a transaction the runtime refuses for want of funds.
 */
export function registrationShortfall(quote: RegistrationQuote): string | null {
  if (quote.balanceRao >= quote.costRao) return null;
  return `Registering ${shortAddress(quote.hotkey)} on netuid ${quote.netuid} costs ${formatTao(quote.costRao)}, but ${shortAddress(quote.payer)} holds only ${formatTao(quote.balanceRao)}. ` +
    `Send at least ${formatTao(quote.costRao - quote.balanceRao)} more to it, or pick an account that holds enough under "Pay with", then press Register again.`;
}

/** What the page says while the wallet asks the person to sign. */
export function registrationConfirmText(quote: RegistrationQuote): string {
  return `Registering costs ${formatTao(quote.costRao)}, paid by ${paidBy(quote)}; your balance is ${formatTao(quote.balanceRao)}. ` +
    `The paying account becomes the owner (coldkey) of ${shortAddress(quote.hotkey)}. Confirm it in the wallet…`;
}

/** What the page says once the chain gave the hotkey a uid. */
export function registeredText(quote: Pick<RegistrationQuote, 'netuid' | 'hotkey' | 'payer'>, registered: { readonly uid: number; readonly block: number; readonly cost: bigint }): string {
  return `Registered: ${quote.hotkey} is uid ${registered.uid} on netuid ${quote.netuid}, block ${registered.block}, cost ${formatTao(registered.cost)} (paid by ${shortAddress(quote.payer)}).`;
}

/** A registration the runtime, the node or the wallet refused; `runtimeError` is the pallet's error name when the runtime answered. */
export class RegistrationError extends GauntletError {
  readonly code: string = 'registration';
  override readonly name = 'RegistrationError';
  constructor(
    message: string,
    readonly runtimeError: string | undefined,
  ) {
    super(message);
  }
}

/**
 * The runtime's error name in a `ChainError` message of a failed dispatch (`submitExtrinsic`:
 * `subtensorModule.burnedRegister failed in block 0x…: subtensorModule.NotEnoughBalanceToStake: docs`).
 */
export function runtimeErrorName(message: string): string | undefined {
  return /failed in block \S+: \w+\.(\w+):/.exec(message)?.[1];
}

/** The plain-words sentence for each refusal a registration commonly meets (subtensor spec 293's names). */
function explanation(name: string, quote: RegistrationQuote): string | undefined {
  const { netuid } = quote;
  const hotkey = shortAddress(quote.hotkey);
  const payer = shortAddress(quote.payer);
  switch (name) {
    case 'NotEnoughBalanceToStake':
    case 'InsufficientBalance':
    case 'ZeroBalanceAfterWithdrawn':
      return `${payer} cannot pay the registration cost of netuid ${netuid} (about ${formatTao(quote.costRao)}; the cost may have risen since it was read). ` +
        'Send more TAO to it, or pick an account that holds enough under "Pay with", then press Register again.';
    case 'TooManyRegistrationsThisBlock':
      return `Netuid ${netuid} takes only a few registrations per block, and this block had them all. Nothing was burned: press Register again in a few seconds.`;
    case 'TooManyRegistrationsThisInterval':
      return `Netuid ${netuid} has taken as many registrations as it allows in its current interval. Nothing was burned: try again after the interval (set by the subnet); the cost may differ then.`;
    case 'HotKeyAlreadyRegisteredInSubNet':
      return `${hotkey} is already registered on netuid ${netuid}; nothing was burned. Pick the hotkey again to read its uid.`;
    case 'SubNetworkDoesNotExist':
    case 'SubnetNotExists':
      return `Netuid ${netuid} does not exist on this chain. Check the netuid in the network form and Connect again.`;
    case 'SubtokenDisabled':
      return `Netuid ${netuid} has not been started by its owner yet, so it takes no registrations. Try again once the subnet has started.`;
    case 'SubNetRegistrationDisabled':
      return `Registration is closed on netuid ${netuid} by the subnet's settings. Ask the subnet's owner when it opens.`;
    case 'NonAssociatedColdKey':
      return `${hotkey} already belongs to another coldkey than ${payer}. Pay with the coldkey that owns it (under "Pay with").`;
    case 'RegistrationNotPermittedOnRootSubnet':
      return 'The root subnet (netuid 0) takes no burned registrations. Choose the run\'s netuid in the network form.';
    default:
      return undefined;
  }
}

/**
 * A failed registration in plain words: the runtime's refusal explained (its name kept in the
 * message), a node that refused the transaction for its fee, or a wallet that did not sign.
 */
export function explainRegistrationFailure(error: unknown, quote: RegistrationQuote): RegistrationError {
  const raw = errorMessage(error);
  const name = runtimeErrorName(raw);
  if (name !== undefined) {
    const plain = explanation(name, quote);
    return new RegistrationError(plain === undefined ? `The chain refused the registration (${name}): ${raw}` : `${plain} (The runtime answered ${name}.)`, name);
  }
  // The pool's `InvalidTransaction::Payment`: a node words it "Inability to pay some fees", chopsticks as JSON (`{"invalid":{"payment":null}}`).
  if (/Inability to pay some fees|"invalid":\{"payment"/i.test(raw)) {
    return new RegistrationError(`${shortAddress(quote.payer)} cannot pay the transaction fee, so the node did not take the registration. Send some TAO to it, or pick another account under "Pay with". (${raw})`, undefined);
  }
  if (/could not be signed/.test(raw) && /cancel|reject|denied|declin/i.test(raw)) {
    return new RegistrationError(`The wallet did not sign the registration, so nothing was sent. Press Register again to retry. (${raw})`, undefined);
  }
  return new RegistrationError(`The registration failed: ${raw}`, undefined);
}
