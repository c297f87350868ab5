/**
 * The volunteer's miner in a module Worker (issue #8): GPU and training work never touch the page.
 * A thin driver of the one miner loop (src/peer/miner-loop.ts): it opens the network the page chose
 * (src/workers/peer-network.ts), gives the loop the page's wallet as its signer (keys never enter the
 * worker), IndexedDB for its snapshots and the GPU engine provider (WebGPU, or the wasm EP; after a
 * lost device a new device, else wasm), and forwards every event to the page. The engine outlives
 * the loop: a later Start on the same run config and backend re-initialises it instead of building
 * (and calibrating) another.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { behaviourByName, CHEATER_BEHAVIOURS } from '../peer/behaviours.ts';
import { BrowserPeerPersistence } from '../peer/browser-persistence.ts';
import { MinerLoop } from '../peer/miner-loop.ts';
import { installErrorTransfer } from './error-transfer.ts';
import { KeptEngines } from './kept-engine.ts';
import { openPeerNetwork, runJoinedEvent, runToJoin } from './peer-network.ts';
import { loadDevnetTokens, PageSigner } from './page-signer.ts';
import { errorMessage } from '../core/errors.ts';
import { PeerStateError, type PeerWorkerApi } from './peer-api.ts';
import type { Chain } from '../net/types.ts';

// Typed errors reach the page as themselves (class, code, fields), not as message strings.
installErrorTransfer();

ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency)) : 1;

/** The loop running now, its connection, and how it ended (null: stopped cleanly, else the error in words). */
interface ActiveLoop {
  readonly loop: MinerLoop;
  readonly chain: Chain;
  readonly ended: Promise<string | null>;
}

let active: ActiveLoop | null = null;

/** The engine this tab built, kept across Stop and Start (src/workers/kept-engine.ts). */
const engines = new KeptEngines(ort);

const api: PeerWorkerApi = {
  async start(options, signRaw, onEvent) {
    if (active !== null) throw new PeerStateError('The miner loop already runs in this tab; stop it first.');
    if (!(options.uid >= 0)) throw new PeerStateError('Register the hotkey before starting the miner loop.');
    const adversary = options.adversary?.behaviour;
    if (adversary !== undefined && !(CHEATER_BEHAVIOURS as readonly string[]).includes(adversary)) {
      throw new PeerStateError(`Unknown adversarial behaviour '${String(adversary)}'; use one of ${CHEATER_BEHAVIOURS.join(', ')}.`);
    }
    const config = await runToJoin(options);
    onEvent(runJoinedEvent(config, options));
    if (options.uid === config.scoring.burnUid) throw new PeerStateError(`uid ${options.uid} is the run's burn uid (the subnet owner's); its weight is burned, so it cannot mine.`);
    const signer = new PageSigner(options.hotkey, signRaw);
    const network = await openPeerNetwork(options, signer, config);
    let loop: MinerLoop;
    try {
      const tokens = await loadDevnetTokens(options.devnetUrl);
      loop = await MinerLoop.start({
        config, hotkey: options.hotkey, uid: options.uid, chain: network.chain, storage: network.storage, signer, tokens,
        behaviour: behaviourByName(adversary ?? 'honest', options.adversary?.copyFrom ?? -1),
        persistence: new BrowserPeerPersistence(),
        engines: engines.provider(options.backend),
        onEvent: (event) => onEvent(event),
      });
    } catch (error) {
      // Nothing runs on this connection: close it, so a refused start leaves no socket open.
      await network.chain.close().catch(() => undefined);
      throw error;
    }
    const ended = loop.run().then(
      () => null,
      (error: unknown) => errorMessage(error),
    );
    const running: ActiveLoop = { loop, chain: network.chain, ended };
    active = running;
    // However the loop ends (Stop, or an error), its connection closes and the tab can start again.
    void ended.then(async (error) => {
      await running.chain.close().catch(() => undefined);
      if (active === running) active = null;
      onEvent({ kind: 'peer-stopped', message: error === null ? 'The miner loop stopped.' : `The miner loop stopped on an error: ${error}. Start again to resume from the last saved window.` });
    });
  },
  async stop() {
    const running = active;
    if (running === null) return { error: null };
    await running.loop.stop();
    const error = await running.ended;
    await running.chain.close().catch(() => undefined);
    if (active === running) active = null;
    return { error };
  },
  async releaseEngine() {
    if (active !== null) return false;
    await engines.release();
    return true;
  },
  async errorFeedbackDigest() {
    return active === null ? null : active.loop.errorFeedbackDigest();
  },
  // A test build's hook (src/workers/test-hooks.ts); a production build's does nothing (src/workers/no-test-hooks.ts).
};

Comlink.expose(api);
