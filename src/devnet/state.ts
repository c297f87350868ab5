/**
 * Durable chain state of the devnet coordinator: registrations, stake, commitments, weights and
 * the last accepted request nonce of each registered hotkey (`state.json`; stored objects live in
 * `objects.ts`). Every change is written to a temporary file and renamed over the old one before
 * the HTTP answer goes out, so a killed process loses nothing it acknowledged. Reads never change
 * the state: a read of a subnet that does not exist sees an empty one and creates nothing.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface Neuron {
  readonly uid: number;
  readonly hotkey: string;
  readonly registeredAtBlock: number;
  /** Stake added through the devnet's stake endpoint (a faucet: no balance behind it); absent = 0. */
  stake?: number;
}

export interface StoredWeights {
  readonly block: number;
  readonly uids: number[];
  readonly weights: number[];
  readonly versionKey: string;
}

export interface SubnetState {
  neurons: Neuron[];
  /** uid → last weights set by that uid. */
  weights: Record<string, StoredWeights>;
  /** hotkey → { block, hex data }. */
  commitments: Record<string, { block: number; dataHex: string }>;
}

export interface PersistentState {
  readonly version: 1;
  /** Wall-clock ms of block 0; block n has timestamp `genesisMs + n · blockTimeMs`. */
  readonly genesisMs: number;
  readonly blockTimeMs: number;
  subnets: Record<string, SubnetState>;
  /**
   * hotkey → last accepted request nonce, for registered hotkeys only: an entry is added when a
   * registered hotkey's request is accepted and dropped when the hotkey is pruned from its last
   * subnet, so the map never holds more entries than there are neurons.
   */
  lastNonce: Record<string, number>;
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export class DevnetState {
  readonly state: PersistentState;
  private readonly statePath: string;

  constructor(readonly dir: string, blockTimeMs: number) {
    mkdirSync(dir, { recursive: true });
    this.statePath = join(dir, 'state.json');
    if (existsSync(this.statePath)) {
      this.state = JSON.parse(readFileSync(this.statePath, 'utf8')) as PersistentState;
      // A state from before nonces were bounded may hold any signer's nonce: keep the registered ones.
      for (const hotkey of Object.keys(this.state.lastNonce)) if (!this.isRegisteredAnywhere(hotkey)) delete this.state.lastNonce[hotkey];
    } else {
      this.state = { version: 1, genesisMs: Date.now(), blockTimeMs, subnets: {}, lastNonce: {} };
      this.save();
    }
  }

  save(): void {
    writeAtomic(this.statePath, JSON.stringify(this.state));
  }

  /** The subnet, or an empty one that is not stored (a read must not create a subnet). */
  subnet(netuid: number): SubnetState {
    return this.state.subnets[String(netuid)] ?? { neurons: [], weights: {}, commitments: {} };
  }

  hasSubnet(netuid: number): boolean {
    return this.state.subnets[String(netuid)] !== undefined;
  }

  subnetCount(): number {
    return Object.keys(this.state.subnets).length;
  }

  /** The stored subnet, created when missing: only for a change that has passed every check. */
  subnetForWrite(netuid: number): SubnetState {
    const key = String(netuid);
    let s = this.state.subnets[key];
    if (s === undefined) {
      s = { neurons: [], weights: {}, commitments: {} };
      this.state.subnets[key] = s;
    }
    return s;
  }

  neuron(netuid: number, hotkey: string): Neuron | undefined {
    return this.state.subnets[String(netuid)]?.neurons.find((n) => n.hotkey === hotkey);
  }

  isRegisteredAnywhere(hotkey: string): boolean {
    return Object.values(this.state.subnets).some((s) => s.neurons.some((n) => n.hotkey === hotkey));
  }

  lastNonce(hotkey: string): number {
    return this.state.lastNonce[hotkey] ?? 0;
  }

  /** Records an accepted nonce of a registered hotkey (in memory; persisted by the next `save`). */
  recordNonce(hotkey: string, nonce: number): void {
    this.state.lastNonce[hotkey] = nonce;
  }

  /** Removes `neuron` from `netuid` with its weights and commitment; its nonce goes when it holds no uid anywhere. */
  removeNeuron(netuid: number, neuron: Neuron): void {
    const subnet = this.state.subnets[String(netuid)];
    if (subnet === undefined) return;
    subnet.neurons = subnet.neurons.filter((n) => n !== neuron);
    delete subnet.weights[String(neuron.uid)];
    delete subnet.commitments[neuron.hotkey];
    if (!this.isRegisteredAnywhere(neuron.hotkey)) delete this.state.lastNonce[neuron.hotkey];
  }
}
