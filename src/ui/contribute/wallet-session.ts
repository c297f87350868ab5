/**
 * A wallet-holding session: the wallet (an extension through `ExtensionSigner`, or a devnet
 * development key through `KeyringSigner`), the chosen hotkey and its registration, the message log
 * the page shows, and starting a loop in a worker that asks the page for every signature. Both the
 * Validate and the Contribute session are one. What differs by network or role (which chain and
 * netuid a hotkey is read on, how the page registers a hotkey and what that costs, whether it may use
 * a development key, a hotkey that must not run) are the protected hooks a session overrides; the
 * defaults are the devnet's.
 */
import type { RunConfig } from '../../core/config.ts';
import { DevnetChain } from '../../net/devnet-client.ts';
import { ExtensionSigner } from '../../net/extension-signer.ts';
import type { Signer as PolkadotSigner, SignerPayloadJSON, SignerResult } from '@polkadot/types/types';
import type { ExtrinsicAuthority } from '../../net/subtensor-chain.ts';
import type { HexString, Signer, SignerAccount } from '../../net/types.ts';
import { connectExtensionWallet, ContributeStepError, developmentKeyWallet, type ConnectedWallet, type WalletSource } from './wallet.ts';
import { errorMessage } from '../../core/errors.ts';

/** The status fields every session publishes. */
export interface WalletStatus {
  readonly devnetUrl: string;
  readonly walletSource: WalletSource | null;
  readonly walletNames: readonly string[];
  readonly accounts: readonly SignerAccount[];
  readonly hotkey: string | null;
  /** The hotkey's uid on the network in use; null when it is not registered there, or not read yet (`registrationKnown`). */
  readonly uid: number | null;
  /** Whether `uid` was read on the network in use (false before a hotkey is chosen, after a switch until it is read again, or when the read failed). */
  readonly registrationKnown: boolean;
  /** True from Start until the loop runs (the engine is being built, θ synced): Stop cannot act yet. */
  readonly starting: boolean;
  readonly running: boolean;
  /** The latest message for the user (what happened, what to do). */
  readonly message: string;
  /** Every message so far, oldest first (bounded). */
  readonly log: readonly string[];
}

const MAX_LOG = 200;

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The wallet fields of a fresh session. */
export function initialWalletStatus(devnetUrl: string): WalletStatus {
  return { devnetUrl, walletSource: null, walletNames: [], accounts: [], hotkey: null, uid: null, registrationKnown: false, starting: false, running: false, message: 'Connect a wallet, or use a devnet development key.', log: [] };
}

export abstract class WalletSession<S extends WalletStatus> {
  private signer: Signer | null = null;
  private readonly listeners = new Set<() => void>();

  /**
   * @param role what the hotkey does here, for the messages ('mines', 'validates')
   * @param developmentUri the devnet development key this session offers
   */
  protected constructor(
    protected readonly config: RunConfig,
    protected readonly state: Mutable<S>,
    private readonly role: string,
    private readonly developmentUri: string,
  ) {}

  status(): S {
    return { ...this.state };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Asks the installed wallet extensions for access and lists their accounts. */
  async connectExtension(): Promise<readonly SignerAccount[]> {
    const wallet = await this.attempt(() => connectExtensionWallet());
    this.useWallet(wallet);
    this.say(wallet.accounts.length === 0 ? 'The wallet shares no account with this site: create or import a hotkey in it, then connect again.' : `Connected to ${wallet.names.join(', ')}: pick the hotkey that ${this.role}.`);
    return wallet.accounts;
  }

  /**
   * A well-known development key (devnet only): anyone can derive it, so it must never hold value.
   * `uri` is for headless swarms (one distinct devnet key per browser peer); the page's button uses the session's.
   */
  async useDevelopmentKey(uri: string = this.developmentUri): Promise<string> {
    const refusal = this.developmentKeyRefusal(uri);
    if (refusal !== null) this.refuse(refusal);
    const wallet = await developmentKeyWallet(uri);
    this.useWallet(wallet);
    this.say(`Using the devnet development key ${uri}: public, for the local devnet only.`);
    return wallet.accounts[0]!.address;
  }

  /** Chooses the hotkey and looks up its registration (with what registering it would cost, where that costs something). */
  async selectAccount(address: string): Promise<number | null> {
    if (!this.state.accounts.some((a) => a.address === address)) throw new ContributeStepError(`${address} is not an account of the connected wallet; connect the wallet that holds it.`);
    this.state.hotkey = address;
    this.forgetRegistration();
    const detail = await this.lookUp(address);
    this.state.registrationKnown = true;
    const uid = this.state.uid;
    const problem = uid === null ? null : this.hotkeyProblem(address, uid);
    if (problem !== null) {
      this.say(problem);
      return uid;
    }
    const registration = uid === null ? `${address} is not registered on netuid ${this.netuid()}: press Register.${await this.registrationOffer(address)}` : `${address} is uid ${uid} on netuid ${this.netuid()}.`;
    this.say(registration + detail);
    return uid;
  }

  /** Registers the selected hotkey on the network in use (signed by the wallet). */
  async register(): Promise<number> {
    const { signer, hotkey } = this.ready();
    return this.registerHotkey(signer, hotkey);
  }

  /** Registers `hotkey` on the devnet, signed by the wallet; a session on another network overrides it. */
  protected async registerHotkey(signer: Signer, hotkey: string): Promise<number> {
    const { uid } = await this.attempt(() => new DevnetChain(this.state.devnetUrl, signer).register(hotkey, this.config.netuid));
    this.state.uid = uid;
    await this.lookUp(hotkey);
    this.state.registrationKnown = true;
    this.say(`Registered: ${hotkey} is uid ${uid} on netuid ${this.config.netuid}.`);
    return uid;
  }

  /** A sentence after "press Register" for an unregistered `hotkey` (its cost, where registering costs something); '' for none. */
  protected registrationOffer(_hotkey: string): Promise<string> {
    return Promise.resolve('');
  }

  /**
   * Reads `hotkey`'s registration (sets `state.uid`) and whatever else the session shows about it;
   * returns a sentence to append to the selection message ('' for none).
   */
  protected abstract lookUp(hotkey: string): Promise<string>;

  /** The netuid the hotkey is registered on (the run's, on the devnet). */
  protected netuid(): number {
    return this.config.netuid;
  }

  /** Why `uri` cannot be used here (null: it can). */
  protected developmentKeyRefusal(_uri: string): string | null {
    return null;
  }

  /** Why a registered hotkey must not run here (null: it may); shown on selection and refused on start. */
  protected hotkeyProblem(_hotkey: string, _uid: number): string | null {
    return null;
  }

  /**
   * Starts the session's worker loop: `run` receives the hotkey, its uid and the page's signing
   * function (already a Comlink proxy target). A failure to start is the status message and rethrown.
   */
  protected async launch(starting: string, run: (hotkey: string, uid: number, sign: (address: string, data: Uint8Array) => Promise<HexString>) => Promise<void>): Promise<void> {
    const { signer, hotkey } = this.ready();
    const uid = this.state.uid;
    if (uid === null) throw new ContributeStepError(`Register the hotkey before it ${this.role}.`);
    const problem = this.hotkeyProblem(hotkey, uid);
    if (problem !== null) this.refuse(problem);
    if (this.state.running) return;
    this.state.running = true;
    this.state.starting = true;
    this.say(starting);
    try {
      await run(hotkey, uid, (address, data) => signer.signRaw(address, data));
    } catch (error) {
      this.state.running = false;
      this.say(`Could not start: ${errorMessage(error)}`);
      throw error;
    } finally {
      this.state.starting = false;
      this.changed();
    }
  }

  /**
   * The wallet as the signer of a transaction the page itself sends on a real network (the bucket
   * commitment, a registration): the extension signs the payload it shows the user. A development key cannot.
   */
  protected async extrinsicAuthority(address: string): Promise<ExtrinsicAuthority> {
    return { kind: 'injected', address, signer: await this.extensionSigner(address) };
  }

  /** An extrinsic payload signed by the wallet extension (a worker's weights on a real network). */
  protected async signPayloadWithWallet(payload: SignerPayloadJSON): Promise<SignerResult> {
    const signer = await this.extensionSigner(payload.address);
    if (signer.signPayload === undefined) throw new ContributeStepError('This wallet extension cannot sign transactions (it has no signPayload).');
    return signer.signPayload(payload);
  }

  private async extensionSigner(address: string): Promise<PolkadotSigner> {
    if (!(this.signer instanceof ExtensionSigner)) throw new ContributeStepError('Only a wallet extension signs transactions on a real network: connect one.');
    return this.signer.polkadotSigner(address);
  }

  protected ready(): { signer: Signer; hotkey: string } {
    if (this.signer === null) throw new ContributeStepError('Connect a wallet (or use the devnet development key) first.');
    if (this.state.hotkey === null) throw new ContributeStepError(`Pick the hotkey that ${this.role} first.`);
    return { signer: this.signer, hotkey: this.state.hotkey };
  }

  /** A step that cannot run yet: the reason becomes the status message and a `ContributeStepError`. */
  protected refuse(message: string): never {
    this.say(message);
    throw new ContributeStepError(message);
  }

  /** Runs a step; a failure becomes the status message and is rethrown for the caller. */
  protected async attempt<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      this.say(errorMessage(error));
      throw error;
    }
  }

  protected say(message: string): void {
    this.state.message = message;
    this.state.log = [...this.state.log, message].slice(-MAX_LOG);
    this.changed();
  }

  protected changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Clears the hotkey-specific fields when another wallet is chosen. */
  protected forgetHotkey(): void {
    this.state.hotkey = null;
    this.forgetRegistration();
  }

  /**
   * Clears what was read about the hotkey's registration (another hotkey, another network): nothing
   * of it is shown until it is read again. A session that shows more (a permit, a stake) clears that too.
   */
  protected forgetRegistration(): void {
    this.state.uid = null;
    this.state.registrationKnown = false;
  }

  /** Drops the wallet (e.g. a development key on a network where it does not exist). */
  protected forgetWallet(): void {
    this.useWallet(null);
  }

  private useWallet(wallet: ConnectedWallet | null): void {
    this.signer = wallet?.signer ?? null;
    this.state.walletSource = wallet?.source ?? null;
    this.state.walletNames = wallet?.names ?? [];
    this.state.accounts = wallet?.accounts ?? [];
    this.forgetHotkey();
  }
}
