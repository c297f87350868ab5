/**
 * A wallet session that runs on a chosen network (Contribute and Validate alike): the devnet at this
 * page's origin, or a subtensor endpoint + netuid with the peer's own S3 bucket or the subnet's
 * storage gateway (`network-settings.ts`, `network-connect.ts`). It
 * owns the open subtensor connection (its transactions signed by the wallet extension) and the network's rules as `WalletSession` hooks:
 * the netuid a hotkey is read on, no development key on a real network, and registration there as a
 * burned registration (`burnedRegister`) paid by an account of the wallet and signed in it.
 */
import type { RunConfig } from '../../core/config.ts';
import { DevnetChain } from '../../net/devnet-client.ts';
import type { Chain, Signer } from '../../net/types.ts';
import type { BucketCommitmentResult } from '../../net/bucket-commitment.ts';
import { explainRegistrationFailure, registeredText, registrationConfirmText, registrationCostNote, registrationShortfall, type RegistrationQuote } from '../../net/registration.ts';
import type { SubtensorChain } from '../../net/subtensor-chain.ts';
import type { RealNetworkOptions } from '../../workers/peer-api.ts';
import type { GatewayStorageSettings, OwnBucketSettings } from '../../net/hotkey-buckets.ts';
import { summarizeNetwork, type NetworkSettings, type NetworkSummary } from '../../net/network-settings.ts';
import { openSubtensor } from './network-connect.ts';
import { initialWalletStatus, WalletSession, type Mutable, type WalletStatus } from './wallet-session.ts';
import { errorMessage } from '../../core/errors.ts';

export interface NetworkWalletStatus extends WalletStatus {
  /** The network in use (the devnet unless a subtensor network was connected); never holds the storage secret. */
  readonly network: NetworkSummary;
  /**
   * The account of the wallet that pays a registration on a subtensor network (the coldkey that signs
   * `burnedRegister` and becomes the hotkey's owner); null: the hotkey pays for itself.
   */
  readonly payer: string | null;
}

/** The wallet and network fields of a fresh session (on the devnet at `devnetUrl`). */
export function initialNetworkStatus(devnetUrl: string): NetworkWalletStatus {
  return { ...initialWalletStatus(devnetUrl), network: { kind: 'devnet', url: devnetUrl }, payer: null };
}

export abstract class NetworkWalletSession<S extends NetworkWalletStatus> extends WalletSession<S> {
  private network: NetworkSettings;
  /** The open subtensor connection while a real network is chosen. */
  private subtensor: SubtensorChain | null = null;
  /**
   * Where the worker's uploads go on the real network: the form's own bucket, or the subnet's gateway
   * as Connect found it (its URL is on chain, not in the form); null on the devnet.
   */
  private realStorage: OwnBucketSettings | GatewayStorageSettings | null = null;

  /**
   * @param role what the hotkey does here ('mines', 'validates')
   * @param activity the loop's name in messages ('contributing', 'validating')
   */
  protected constructor(
    config: RunConfig,
    state: Mutable<S>,
    private readonly hotkeyRole: string,
    developmentUri: string,
    private readonly activity: string,
  ) {
    super(config, state, hotkeyRole, developmentUri);
    this.network = { kind: 'devnet', url: state.devnetUrl };
  }

  /**
   * Switches the network. A subtensor endpoint is connected to and the subnet's metagraph read now,
   * so a wrong endpoint, a runtime that is not subtensor, or a wrong netuid shows at once; with gateway
   * storage, a subnet that publishes no gateway (or an unreachable one, or one of another subnet) is
   * refused now too. On failure the previous network stays in use.
   */
  async useNetwork(settings: NetworkSettings): Promise<void> {
    if (this.state.running) this.refuse(`Stop ${this.activity} before switching networks.`);
    let connected: SubtensorChain | null = null;
    let storage: OwnBucketSettings | GatewayStorageSettings | null = null;
    let detail = `the devnet at ${settings.kind === 'devnet' ? settings.url : ''}`;
    if (settings.kind === 'subtensor') {
      this.say(`Connecting to ${settings.endpoint}…`);
      const opened = await this.attempt(() => openSubtensor(settings, (address) => this.extrinsicAuthority(address)));
      connected = opened.chain;
      storage = opened.storage;
      detail = opened.detail;
    }
    await this.subtensor?.close().catch(() => undefined);
    this.subtensor = connected;
    this.network = settings;
    this.realStorage = storage;
    this.state.network = summarizeNetwork(settings, storage?.kind === 'gateway' ? storage.url : undefined);
    if (settings.kind === 'subtensor' && this.state.walletSource === 'development-key') this.forgetWallet();
    // Nothing read on the previous network holds here (uid, permit, stake): read the chosen hotkey again on this one.
    this.forgetRegistration();
    const hotkey = this.state.hotkey;
    if (hotkey === null) {
      this.say(`Network: ${detail}. Connect a wallet and pick the hotkey that ${this.hotkeyRole}.`);
      return;
    }
    this.say(`Network: ${detail}. Reading the registration of ${hotkey} there…`);
    // A failed read is the status message, and the registration line says it is not known.
    await this.selectAccount(hotkey).catch(() => null);
  }

  /**
   * Publishes the chosen hotkey's bucket commitment (its bucket and read-only token, Templar's layout)
   * on the subtensor network in use, signed by the wallet; nothing is sent when the chain already
   * holds exactly it (chain.md §3.5). Without it no other peer can find this peer's uploads. Through
   * the subnet's gateway there is nothing to publish, and it is refused saying so.
   */
  async publishBucketCommitment(): Promise<BucketCommitmentResult> {
    const network = this.network;
    const chain = this.subtensor;
    if (network.kind !== 'subtensor' || chain === null) {
      this.refuse('The devnet finds every bucket by its hotkey: a bucket commitment is published on a subtensor network. Choose one and Connect first.');
    }
    const storage = network.storage;
    if (storage.kind === 'gateway') {
      const at = this.realStorage?.kind === 'gateway' ? ` at ${this.realStorage.url}` : '';
      this.refuse(`No bucket commitment is needed: your uploads go through the subnet's gateway${at}, which stores them under your hotkey, and validators read them there. A commitment is for a bucket of your own.`);
    }
    const { hotkey } = this.ready();
    if (this.state.uid === null) this.refuse(`${hotkey} is not registered on netuid ${network.netuid}; only a registered hotkey can commit: press Register first.`);
    const read = storage.read;
    if (read === undefined) this.refuse("Enter the read key id and read secret of a read-only token for the bucket, then Connect again: the commitment publishes them so that other peers can read your bucket.");
    const { bucketReadCredentials, publishBucketCommitment } = await import('../../net/bucket-commitment.ts');
    this.say(`Publishing the bucket commitment of ${hotkey} on netuid ${network.netuid}; confirm it in the wallet…`);
    const result = await this.attempt(() => publishBucketCommitment(chain, hotkey, network.netuid, bucketReadCredentials(storage.bucket, read.keyId, read.secret)));
    this.say(result.kind === 'unchanged'
      ? `The chain already holds this bucket commitment for ${hotkey} (since block ${result.block}); nothing was sent.`
      : `Bucket commitment of ${hotkey} published in block ${result.tx.block}: peers now find bucket ${storage.bucket} and read it with the read-only token.`);
    return result;
  }

  /**
   * The real network for the worker (with its own bucket's storage secret, which stays in memory, or
   * the gateway Connect found), or undefined on the devnet.
   */
  protected realNetwork(): RealNetworkOptions | undefined {
    const storage = this.realStorage;
    return this.network.kind === 'subtensor' && storage !== null ? { endpoint: this.network.endpoint, netuid: this.network.netuid, storage } : undefined;
  }

  /** The chain for reads: the open subtensor connection, or the devnet. */
  protected chain(): Chain {
    return this.subtensor ?? new DevnetChain(this.state.devnetUrl);
  }

  protected override netuid(): number {
    return this.network.kind === 'subtensor' ? this.network.netuid : this.config.netuid;
  }

  protected override developmentKeyRefusal(uri: string): string | null {
    return this.network.kind === 'devnet' ? null : `The development key ${uri} is public and exists only on the devnet; connect a wallet extension for a real network.`;
  }

  /**
   * Who pays the next registration on a subtensor network: `address`, an account of the connected
   * wallet, or null for the hotkey itself. The payer signs `burnedRegister` and becomes the hotkey's
   * coldkey, so a volunteer can keep funds on a coldkey and register a hotkey that holds none.
   */
  choosePayer(address: string | null): void {
    if (address !== null && !this.state.accounts.some((a) => a.address === address)) this.refuse(`${address} is not an account of the connected wallet; only one of its accounts can pay.`);
    this.state.payer = address;
    this.changed();
  }

  /** The payer of `hotkey`'s registration: the chosen account, else the hotkey itself. */
  private payerOf(hotkey: string): string {
    return this.state.payer ?? hotkey;
  }

  /**
   * On subtensor: the cost and the payer's balance are read first and shown (a payer that cannot
   * afford it is refused before the wallet asks anything), then `burnedRegister(netuid, hotkey)` is
   * signed in the wallet by the payer. A refusal of the runtime comes back in plain words with its
   * name. On the devnet: the devnet's registration, unchanged.
   */
  protected override async registerHotkey(signer: Signer, hotkey: string): Promise<number> {
    const network = this.network;
    const chain = this.subtensor;
    if (network.kind === 'devnet') return super.registerHotkey(signer, hotkey);
    if (chain === null) this.refuse(`Connect to ${network.endpoint} first.`);
    const { netuid } = network;
    const payer = this.payerOf(hotkey);
    const [costRao, balanceRao] = await this.attempt(() => Promise.all([chain.registrationCost(netuid), chain.freeBalance(payer)]));
    const quote: RegistrationQuote = { netuid, hotkey, payer, costRao, balanceRao };
    const shortfall = registrationShortfall(quote);
    if (shortfall !== null) this.refuse(shortfall);
    this.say(registrationConfirmText(quote));
    let registered: Awaited<ReturnType<SubtensorChain['burnedRegister']>>;
    try {
      registered = await chain.burnedRegister(payer, netuid, hotkey);
    } catch (error) {
      const failure = explainRegistrationFailure(error, quote);
      // Registered meanwhile (another tab, btcli): read its uid, so the page shows it.
      if (failure.runtimeError === 'HotKeyAlreadyRegisteredInSubNet') await this.lookUp(hotkey).catch(() => '');
      this.say(failure.message);
      throw failure;
    }
    this.state.uid = registered.uid;
    await this.lookUp(hotkey);
    this.state.registrationKnown = true;
    this.say(registeredText(quote, registered));
    return registered.uid;
  }

  /** On subtensor, what registering costs now and who pays (a cost that cannot be read is said, and the selection stands). */
  protected override async registrationOffer(hotkey: string): Promise<string> {
    const network = this.network;
    const chain = this.subtensor;
    if (network.kind === 'devnet' || chain === null) return '';
    try {
      return ` ${registrationCostNote({ hotkey, payer: this.payerOf(hotkey), costRao: await chain.registrationCost(network.netuid) })}`;
    } catch (error) {
      return ` (What registering costs could not be read: ${errorMessage(error)})`;
    }
  }

  /** Another wallet: its hotkey and its payer are chosen anew. */
  protected override forgetHotkey(): void {
    super.forgetHotkey();
    this.state.payer = null;
  }
}
