/**
 * Durable state of the devnet coordinator: registrations, commitments, weights, accepted nonces
 * (`state.json`) and stored objects (`objects/<bucket>/<hex key>.bin` + `.json` metadata). Every
 * change is written to a temporary file and renamed over the old one before the HTTP answer goes
 * out, so a killed process loses nothing it acknowledged.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ObjectInfo } from '../net/types.ts';

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
  /** hotkey → last accepted request nonce. */
  lastNonce: Record<string, number>;
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function hexKey(key: string): string {
  return Buffer.from(key, 'utf8').toString('hex');
}

export class DevnetState {
  readonly state: PersistentState;
  private readonly statePath: string;
  private readonly objectsDir: string;

  constructor(readonly dir: string, blockTimeMs: number) {
    mkdirSync(dir, { recursive: true });
    this.statePath = join(dir, 'state.json');
    this.objectsDir = join(dir, 'objects');
    mkdirSync(this.objectsDir, { recursive: true });
    if (existsSync(this.statePath)) {
      this.state = JSON.parse(readFileSync(this.statePath, 'utf8')) as PersistentState;
    } else {
      this.state = { version: 1, genesisMs: Date.now(), blockTimeMs, subnets: {}, lastNonce: {} };
      this.save();
    }
  }

  save(): void {
    writeAtomic(this.statePath, JSON.stringify(this.state));
  }

  subnet(netuid: number): SubnetState {
    const key = String(netuid);
    let s = this.state.subnets[key];
    if (s === undefined) {
      s = { neurons: [], weights: {}, commitments: {} };
      this.state.subnets[key] = s;
    }
    return s;
  }

  isRegisteredAnywhere(hotkey: string): boolean {
    return Object.values(this.state.subnets).some((s) => s.neurons.some((n) => n.hotkey === hotkey));
  }

  putObject(bucket: string, key: string, data: Uint8Array, info: ObjectInfo): void {
    const dir = join(this.objectsDir, bucket);
    mkdirSync(dir, { recursive: true });
    writeAtomic(join(dir, `${hexKey(key)}.bin`), data);
    writeAtomic(join(dir, `${hexKey(key)}.json`), JSON.stringify(info));
  }

  objectInfo(bucket: string, key: string): ObjectInfo | undefined {
    const path = join(this.objectsDir, bucket, `${hexKey(key)}.json`);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ObjectInfo) : undefined;
  }

  objectData(bucket: string, key: string): Uint8Array {
    return readFileSync(join(this.objectsDir, bucket, `${hexKey(key)}.bin`));
  }

  listObjects(bucket: string, prefix: string): ObjectInfo[] {
    const dir = join(this.objectsDir, bucket);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ObjectInfo)
      .filter((info) => info.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
