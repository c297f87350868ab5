/**
 * Honest miners in this Node process, on a chain's real clock, so a validator has something to
 * score (`npm run evaluate -- --network devnet`, test/browser/validate-live.spec.ts, the subtensor
 * developer check). Each is the real `Miner` (src/peer/miner.ts) on its own wasm `TrainerEngine`,
 * driven window by window like the browser peer (src/workers/peer.worker.ts `runWindow`): train
 * while the chain is in w, upload once the first block of w+1 opens the put window (§3.2), gather
 * and take the outer step once it has closed. A network failure costs that window, never the loop.
 * `NodeMiners` runs on any `Chain` with each hotkey's own `Storage` (the devnet, or subtensor with
 * S3 buckets); `DevnetMiners` registers them on a devnet first.
 */
import * as ort from 'onnxruntime-web';
import { firstBlockOfWindow, putWindowAnchorBlock, putWindowBounds, windowOfBlock } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import { WasmTrainerEngine } from '../gpu/wasm-engine.ts';
import { parameterLayout } from '../model/params.ts';
import { DevnetChain, DevnetStorage } from '../net/devnet-client.ts';
import { NetError } from '../net/errors.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import type { BlockHeader, Chain, Metagraph, Storage, TimeGate } from '../net/types.ts';
import { honest } from '../peer/behaviours.ts';
import type { WindowEventListener } from '../peer/events.ts';
import { Miner } from '../peer/miner.ts';

export interface DevnetMinersOptions {
  readonly devnetUrl: string;
  readonly config: RunConfig;
  /** One development URI per miner (public test keys: devnet only). */
  readonly uris: readonly string[];
  readonly tokens: Uint8Array;
  /** The validator whose peer lists the miners follow (until it posts one, every miner is gathered). */
  readonly validatorHotkey: string;
  readonly onEvent?: WindowEventListener;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
  /** The validator whose peer lists the miners follow (until it posts one, every miner is gathered). */
  readonly validatorHotkey: string;
  readonly onEvent?: WindowEventListener;
}

export class NodeMiners {
  private stopping = false;
  private loops: Promise<void>[] = [];
  private metagraph: Metagraph | null = null;
  /** Per window, the metagraph and the put window: read once and shared by every miner's loop. */
  private readonly metagraphs = new Map<number, Promise<Metagraph>>();
  private readonly gates = new Map<number, Promise<TimeGate>>();
  /** The chain's own block time (`Hyperparams.blockTimeMs`), which paces the polls. */
  private blockTimeMs: number;

  private constructor(
    private readonly options: NodeMinersOptions,
    private readonly engines: readonly WasmTrainerEngine[],
  ) {
    this.blockTimeMs = options.config.window.blockTimeMs;
  }

  get uids(): readonly number[] {
    return this.options.uids;
  }

  get hotkeys(): readonly string[] {
    return this.options.hotkeys;
  }

  /** One wasm engine and one loop per miner. */
  static async start(options: NodeMinersOptions): Promise<NodeMiners> {
    ort.env.wasm.numThreads = 1;
    // Engines first: building them blocks this thread for a while, and an HTTP keep-alive connection
    // left idle across that block can be closed under the first request that follows it.
    const engines: WasmTrainerEngine[] = [];
    for (let i = 0; i < options.hotkeys.length; i++) {
      const engine = new WasmTrainerEngine(ort);
      await engine.init(options.config);
      engines.push(engine);
    }
    const miners = new NodeMiners(options, engines);
    // Building the engines blocked this thread: a keep-alive connection left idle across it may be
    // closed under the first request that follows, so the first reads get a second chance.
    const firstRead = async <T>(read: () => Promise<T>): Promise<T> => {
      try {
        return await read();
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        return read();
      }
    };
    miners.blockTimeMs = (await firstRead(() => options.chain.hyperparams(options.config.netuid))).blockTimeMs;
    miners.metagraph = await firstRead(() => options.chain.metagraph(options.config.netuid));
    for (const [i, hotkey] of options.hotkeys.entries()) miners.loops.push(miners.run(miners.miner(hotkey, options.uids[i]!, engines[i]!)));
    return miners;
  }

  /** Stops after the current window and releases the engines. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    for (const engine of this.engines) await engine.dispose();
  }

  private miner(hotkey: string, uid: number, engine: WasmTrainerEngine): Miner {
    const { config, validatorHotkey, signer } = this.options;
    const hotkeyOf = (u: number): string | undefined => {
      const i = this.metagraph?.uids.indexOf(u) ?? -1;
      return i < 0 ? undefined : this.metagraph?.hotkeys[i];
    };
    return new Miner({
      config,
      layout: parameterLayout(config.model),
      engine,
      storage: this.options.storageOf(hotkey),
      signer,
      hotkey,
      uid,
      tokens: this.options.tokens,
      behaviour: honest(),
      validatorHotkey,
      hotkeyOf,
      minerUids: () => (this.metagraph?.uids ?? []).filter((u) => u !== config.scoring.burnUid && hotkeyOf(u) !== validatorHotkey),
      ...(this.options.onEvent === undefined ? {} : { onEvent: this.options.onEvent }),
    });
  }

  private async waitForHead(done: (head: BlockHeader) => boolean): Promise<boolean> {
    for (;;) {
      if (this.stopping) return false;
      if (done(await this.options.chain.currentBlock())) return true;
      await sleep(this.blockTimeMs / 4);
    }
  }

  /** `read()` once per window for all loops; a failed read is forgotten (the next asker retries), old windows are dropped. */
  private shared<T>(cache: Map<number, Promise<T>>, window: number, read: () => Promise<T>): Promise<T> {
    let value = cache.get(window);
    if (value === undefined) {
      value = read();
      cache.set(window, value);
      value.catch(() => cache.delete(window));
      for (const old of cache.keys()) if (old < window - 1) cache.delete(old);
    }
    return value;
  }

  private async run(miner: Miner): Promise<void> {
    const { chain, config } = this.options;
    const { blocksPerWindow, putWindowMs } = config.window;
    let next: number | null = null;
    while (!this.stopping) {
      try {
        const current = windowOfBlock((await chain.currentBlock()).number, blocksPerWindow);
        if (next !== null && current < next) {
          await sleep(this.blockTimeMs / 4);
          continue;
        }
        next = current + 1;
        this.metagraph = await this.shared(this.metagraphs, current, () => chain.metagraph(config.netuid));
        await miner.prepare(current);
        if (!(await this.waitForHead((head) => head.number >= firstBlockOfWindow(current + 1, blocksPerWindow)))) return;
        const gate = await this.shared(this.gates, current, async () => putWindowBounds(await chain.blockTimestamp(putWindowAnchorBlock(current, blocksPerWindow)), putWindowMs));
        await miner.upload(current, gate).catch((error: unknown) => {
          if (!(error instanceof NetError)) throw error;
          this.options.onEvent?.({ kind: 'miner-error', window: current, uid: miner.uid, stage: 'upload', message: error.message });
        });
        if (!(await this.waitForHead((head) => head.timestampMs > gate.timeMaxMs))) return;
        await miner.finishWindow(current, gate);
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        this.options.onEvent?.({ kind: 'miner-error', window: (next ?? 0) - 1, uid: miner.uid, stage: 'network', message: error.message });
        // The chain or the storage is down: ask again a block later rather than at once.
        await sleep(this.blockTimeMs);
      }
    }
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
