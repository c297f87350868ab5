/**
 * Honest miners in this Node process, on a devnet's real clock, so a validator has something to
 * score (`npm run evaluate -- --network devnet`, test/browser/validate-live.spec.ts). Each is the
 * real `Miner` (src/peer/miner.ts) on its own wasm `TrainerEngine`, driven window by window like
 * the browser peer (src/workers/peer.worker.ts `runWindow`): train while the chain is in w, upload
 * once the first block of w+1 opens the put window (§3.2), gather and take the outer step once it
 * has closed. A network failure costs that window, never the loop.
 */
import * as ort from 'onnxruntime-web';
import { firstBlockOfWindow, putWindowAnchorBlock, putWindowBounds, windowOfBlock } from '../core/clock.ts';
import type { RunConfig } from '../core/config.ts';
import { WasmTrainerEngine } from '../gpu/wasm-engine.ts';
import { parameterLayout } from '../model/params.ts';
import { DevnetChain, DevnetStorage } from '../net/devnet-client.ts';
import { NetError } from '../net/errors.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import type { BlockHeader, Metagraph, TimeGate } from '../net/types.ts';
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

export class DevnetMiners {
  private stopping = false;
  private loops: Promise<void>[] = [];
  private metagraph: Metagraph | null = null;
  /** Per window, the metagraph and the put window: read once and shared by every miner's loop. */
  private readonly metagraphs = new Map<number, Promise<Metagraph>>();
  private readonly gates = new Map<number, Promise<TimeGate>>();

  private constructor(
    private readonly options: DevnetMinersInternals,
    readonly uids: readonly number[],
    readonly hotkeys: readonly string[],
  ) {}

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
    ort.env.wasm.numThreads = 1;
    // Engines first: building them blocks this thread for a while, and an HTTP keep-alive connection
    // left idle across that block can be closed under the first request that follows it.
    const engines: WasmTrainerEngine[] = [];
    for (let i = 0; i < options.uris.length; i++) {
      const engine = new WasmTrainerEngine(ort);
      await engine.init(options.config);
      engines.push(engine);
    }
    const { signer, hotkeys, uids } = await DevnetMiners.register(options.devnetUrl, options.config, options.uris);
    const chain = new DevnetChain(options.devnetUrl, signer);
    const miners = new DevnetMiners({ ...options, chain, engines }, uids, hotkeys);
    miners.metagraph = await chain.metagraph(options.config.netuid);
    for (const [i, hotkey] of hotkeys.entries()) miners.loops.push(miners.run(miners.miner(signer, hotkey, uids[i]!, engines[i]!)));
    return miners;
  }

  /** Stops after the current window and releases the engines. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    for (const engine of this.options.engines) await engine.dispose();
  }

  private miner(signer: KeyringSigner, hotkey: string, uid: number, engine: WasmTrainerEngine): Miner {
    const { config, devnetUrl, validatorHotkey } = this.options;
    const hotkeyOf = (u: number): string | undefined => {
      const i = this.metagraph?.uids.indexOf(u) ?? -1;
      return i < 0 ? undefined : this.metagraph?.hotkeys[i];
    };
    return new Miner({
      config,
      layout: parameterLayout(config.model),
      engine,
      storage: new DevnetStorage(devnetUrl, signer, hotkey),
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
      await sleep(this.options.config.window.blockTimeMs / 4);
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
          await sleep(config.window.blockTimeMs / 4);
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
        if (!(await this.waitForHead((head) => (head.timestampMs ?? 0) > gate.timeMaxMs))) return;
        await miner.finishWindow(current, gate);
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        this.options.onEvent?.({ kind: 'miner-error', window: (next ?? 0) - 1, uid: miner.uid, stage: 'network', message: error.message });
      }
    }
  }
}

type DevnetMinersInternals = DevnetMinersOptions & { readonly chain: DevnetChain; readonly engines: WasmTrainerEngine[] };
