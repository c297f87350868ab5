/**
 * Honest miners in this Node process, on a chain's real clock, so a validator has something to
 * score (`npm run evaluate -- --network devnet`, test/browser/validate-live.spec.ts, the subtensor
 * developer check). Each runs the one miner loop (src/peer/miner-loop.ts), the browser tab's, on its
 * own engine (the wasm EP unless `engines` says otherwise) with its snapshots in memory: it follows the run's validators as the chain names
 * them, catches up missed windows, and a network failure costs a window, never the loop.
 * `NodeMiners` runs on any `Chain` with each hotkey's own `Storage` (the devnet, or subtensor with
 * S3 buckets); `DevnetMiners` registers them on a devnet first.
 */
import * as ort from 'onnxruntime-web';
import type { RunConfig } from '../core/config.ts';
import { DevnetChain, DevnetStorage } from '../net/devnet-client.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import type { Chain, Storage } from '../net/types.ts';
import { honest } from '../peer/behaviours.ts';
import type { PeerEvent } from '../peer/events.ts';
import { MinerLoop, type EngineProvider } from '../peer/miner-loop.ts';
import { MemoryPeerPersistence } from '../peer/snapshots.ts';
import { errorMessage } from '../core/errors.ts';
import { wasmEngines } from './node-engines.ts';

export interface DevnetMinersOptions {
  readonly devnetUrl: string;
  readonly config: RunConfig;
  /** One development URI per miner (public test keys: devnet only). */
  readonly uris: readonly string[];
  readonly tokens: Uint8Array;
  readonly onEvent?: (event: PeerEvent) => void;
  /** The engines the miners train on (default: the wasm EP; `nodeEngines`, src/cli/node-engines.ts). */
  readonly engines?: EngineProvider;
}

/** Miners already registered on a chain, each writing through its own storage. */
export interface NodeMinersOptions {
  readonly chain: Chain;
  readonly config: RunConfig;
  /** Holds every miner's key (their submissions are signed with it). */
  readonly signer: KeyringSigner;
  readonly hotkeys: readonly string[];
  readonly uids: readonly number[];
  /** The storage writing into `hotkey`'s own bucket (and reading the others'). */
  readonly storageOf: (hotkey: string) => Storage;
  readonly tokens: Uint8Array;
  readonly onEvent?: (event: PeerEvent) => void;
  /** The engines the miners train on (default: the wasm EP). */
  readonly engines?: EngineProvider;
}

/** One `MinerLoop` per miner (src/peer/miner-loop.ts), each with its snapshots in memory, on the real clock. */
export class NodeMiners {
  private constructor(
    private readonly options: NodeMinersOptions,
    private readonly loops: readonly MinerLoop[],
    private readonly running: readonly Promise<void>[],
  ) {}

  get uids(): readonly number[] {
    return this.options.uids;
  }

  get hotkeys(): readonly string[] {
    return this.options.hotkeys;
  }

  /** Syncs every miner (sequentially: each builds its engine) and starts its loop. */
  static async start(options: NodeMinersOptions): Promise<NodeMiners> {
    ort.env.wasm.numThreads = 1;
    const loops: MinerLoop[] = [];
    const running: Promise<void>[] = [];
    // Wasm engines unless told otherwise; a wasm engine has no device to lose.
    const engines = options.engines ?? wasmEngines('Node miners train').provider;
    for (const [i, hotkey] of options.hotkeys.entries()) {
      const uid = options.uids[i]!;
      const loop = await MinerLoop.start({
        config: options.config, hotkey, uid, behaviour: honest(), chain: options.chain, storage: options.storageOf(hotkey), signer: options.signer,
        tokens: options.tokens, persistence: new MemoryPeerPersistence(), engines,
        onEvent: (event) => options.onEvent?.(event),
      });
      loops.push(loop);
      running.push(loop.run().catch((error: unknown) => {
        options.onEvent?.({ kind: 'peer-stopped', message: `Miner uid ${uid} stopped on an error: ${errorMessage(error)}` });
      }));
    }
    return new NodeMiners(options, loops, running);
  }

  /** Stops every loop after its current step and releases the engines. */
  async stop(): Promise<void> {
    await Promise.all(this.loops.map((loop) => loop.stop()));
    await Promise.all(this.running);
  }
}

/** Honest miners on a devnet: registered there (idempotent), each writing to its devnet bucket. */
export class DevnetMiners {
  private constructor(private readonly miners: NodeMiners) {}

  get uids(): readonly number[] {
    return this.miners.uids;
  }

  get hotkeys(): readonly string[] {
    return this.miners.hotkeys;
  }

  /** Registers every miner (idempotent) without starting them, so callers control uid order. */
  static async register(devnetUrl: string, config: RunConfig, uris: readonly string[]): Promise<{ signer: KeyringSigner; hotkeys: string[]; uids: number[] }> {
    const signer = await KeyringSigner.fromUris(uris);
    const hotkeys = (await signer.accounts()).map((a) => a.address);
    const chain = new DevnetChain(devnetUrl, signer);
    const uids: number[] = [];
    for (const hotkey of hotkeys) uids.push((await chain.register(hotkey, config.netuid)).uid);
    return { signer, hotkeys, uids };
  }

  /** Registers (if needed) and starts one loop per miner. */
  static async start(options: DevnetMinersOptions): Promise<DevnetMiners> {
    const { signer, hotkeys, uids } = await DevnetMiners.register(options.devnetUrl, options.config, options.uris);
    return new DevnetMiners(await NodeMiners.start({
      ...options, chain: new DevnetChain(options.devnetUrl, signer), signer, hotkeys, uids,
      storageOf: (hotkey) => new DevnetStorage(options.devnetUrl, signer, hotkey),
    }));
  }

  stop(): Promise<void> {
    return this.miners.stop();
  }
}
