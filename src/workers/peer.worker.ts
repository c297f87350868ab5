/**
 * The volunteer's miner in a module Worker (issue #8): GPU and training work never touch the page.
 * A thin driver of the one miner loop (src/peer/miner-loop.ts): it opens the network the page chose
 * (src/workers/peer-network.ts), gives the loop the page's wallet as its signer (keys never enter the
 * worker), IndexedDB for its snapshots and the GPU engine provider (WebGPU, or the wasm EP; after a
 * lost device a new device, else wasm), and forwards every event to the page.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import type { RunConfig } from '../core/config.ts';
import { tinyRunConfig, validateRunConfig } from '../core/run-config.ts';
import { WebGPUUnavailableError } from '../gpu/errors.ts';
import { createTrainerEngine } from '../gpu/select-engine.ts';
import { WebGpuTrainerEngine } from '../gpu/webgpu-engine.ts';
import { behaviourByName, CHEATER_BEHAVIOURS } from '../peer/behaviours.ts';
import { BrowserPeerPersistence } from '../peer/browser-persistence.ts';
import { MinerLoop, type EngineProvider } from '../peer/miner-loop.ts';
import { openPeerNetwork } from './peer-network.ts';
import { errorText, loadDevnetTokens, PageSigner } from './page-signer.ts';
import { PeerStateError, type PeerStartOptions, type PeerWorkerApi } from './peer-api.ts';
import type { Chain } from '../net/types.ts';

ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency)) : 1;

let loop: MinerLoop | null = null;
let chain: Chain | null = null;
let running: Promise<void> | null = null;

/** Engines for `backend`; after a lost device, a new device, else the wasm EP with the reason. */
function browserEngines(backend: PeerStartOptions['backend']): EngineProvider {
  return {
    async create(config, params, { optimizerState, afterLoss }) {
      try {
        return await createTrainerEngine(ort, config, params, { backend, optimizerState });
      } catch (error) {
        if (!afterLoss || !(error instanceof WebGPUUnavailableError)) throw error;
        const onWasm = await createTrainerEngine(ort, config, params, { backend: 'wasm', optimizerState });
        return { ...onWasm, info: { ...onWasm.info, reason: `no GPU device could be created after the loss (${error.reason}), so training runs on the CPU (wasm EP)` } };
      }
    },
  };
}

/** The run this tab mines: the tiny preset, or (headless swarms only) the run config it was given, on the chosen netuid. */
function runConfigOf(options: PeerStartOptions): RunConfig {
  const preset = options.runConfig === undefined ? tinyRunConfig() : validateRunConfig(options.runConfig);
  return options.network === undefined ? preset : { ...preset, netuid: options.network.netuid };
}

const api: PeerWorkerApi = {
  async start(options, signRaw, onEvent) {
    if (running !== null) throw new PeerStateError('The miner loop already runs in this tab; stop it first.');
    if (!(options.uid >= 0)) throw new PeerStateError('Register the hotkey before starting the miner loop.');
    const adversary = options.adversary?.behaviour;
    if (adversary !== undefined && !(CHEATER_BEHAVIOURS as readonly string[]).includes(adversary)) {
      throw new PeerStateError(`Unknown adversarial behaviour '${String(adversary)}'; use one of ${CHEATER_BEHAVIOURS.join(', ')}.`);
    }
    const config = runConfigOf(options);
    if (options.uid === config.scoring.burnUid) throw new PeerStateError(`uid ${options.uid} is the run's burn uid (the subnet owner's); its weight is burned, so it cannot mine.`);
    const signer = new PageSigner(options.hotkey, signRaw);
    const network = await openPeerNetwork(options, signer, config);
    try {
      const tokens = await loadDevnetTokens(options.devnetUrl);
      loop = await MinerLoop.start({
        config, hotkey: options.hotkey, uid: options.uid, chain: network.chain, storage: network.storage, signer, tokens,
        behaviour: behaviourByName(adversary ?? 'honest', options.adversary?.copyFrom ?? -1),
        persistence: new BrowserPeerPersistence(),
        engines: browserEngines(options.backend),
        onEvent: (event) => onEvent(event),
      });
    } catch (error) {
      // Nothing runs on this connection: close it, so a refused start leaves no socket open.
      await network.chain.close().catch(() => undefined);
      throw error;
    }
    chain = network.chain;
    running = loop.run().then(
      () => onEvent({ kind: 'peer-stopped', message: 'The miner loop stopped.' }),
      (error: unknown) => onEvent({ kind: 'peer-stopped', message: `The miner loop stopped on an error: ${errorText(error)}. Reload the page to resume from the last saved window.` }),
    );
  },
  async stop() {
    await loop?.stop();
    await running;
    await chain?.close().catch(() => undefined);
    loop = null;
    chain = null;
    running = null;
  },
  async errorFeedbackDigest() {
    return loop === null ? null : loop.errorFeedbackDigest();
  },
  testOnlyLoseDevice(options) {
    const engine = loop?.engine;
    if (!(engine instanceof WebGpuTrainerEngine)) return Promise.resolve(false);
    if (options?.withoutGpuAfterwards === true) {
      // As a browser whose GPU process gave up: this worker's `requestAdapter` finds no adapter from now on.
      const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
      if (gpu !== undefined) Object.defineProperty(gpu, 'requestAdapter', { value: () => Promise.resolve(null), configurable: true });
    }
    engine.device.destroy();
    return Promise.resolve(true);
  },
};

Comlink.expose(api);
