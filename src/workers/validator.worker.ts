/**
 * The in-browser validator (issue #8 "Validate"): `Validator.runWindow` for every closed window
 * (src/peer/validator-schedule.ts: the chain is in s + validatorOffset and the put window of s has
 * closed), on the devnet at the page's origin or a subtensor network with this validator's own S3
 * bucket (`openPeerNetwork`, the miner's too), in a module Worker so evaluation never runs on the
 * page. Losses run on the engine select-engine picks (WebGPU, else the wasm EP); every write
 * (aggregates, checkpoints, peer lists, weights) is signed by the page's wallet; the scoring state
 * and the checkpoint marker persist in IndexedDB after every window, and a restart rebuilds θ from
 * this validator's own publications (`Validator.restore`). Weights are set only while the
 * metagraph grants this hotkey a validator permit.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { createTrainerEngine, type AnyEngine } from '../gpu/select-engine.ts';
import { parameterLayout } from '../model/params.ts';
import { BrowserValidatorPersistence } from '../peer/browser-persistence.ts';
import { Validator } from '../peer/validator.ts';
import { runValidatorSchedule } from '../peer/validator-schedule.ts';
import { loadDevnetTokens, PageSigner } from './page-signer.ts';
import { errorMessage } from '../core/errors.ts';
import { openPeerNetwork, runJoinedEvent, runToJoin } from './peer-network.ts';
import { ValidatorStateError, type ValidatorWorkerApi } from './validator-api.ts';
import { summarizeReport, type ValidatorPageEvent } from '../peer/validator-events.ts';
import { installErrorTransfer } from './error-transfer.ts';

// Typed errors reach the page as themselves (class, code, fields), not as message strings.
installErrorTransfer();

ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency)) : 1;

let engine: AnyEngine | null = null;
let loop: Promise<void> | null = null;
let stopping = false;


async function stopEngine(): Promise<void> {
  await engine?.dispose();
  engine = null;
}

const api: ValidatorWorkerApi = {
  async start(options, signRaw, onEvent, signPayload) {
    if (loop !== null) throw new ValidatorStateError('The validator already runs in this tab; stop it first.');
    if (!(options.uid >= 0)) throw new ValidatorStateError('Register the hotkey before starting the validator.');
    stopping = false;
    const config = await runToJoin(options);
    const emit = (event: ValidatorPageEvent): void => onEvent(event);
    emit(runJoinedEvent(config, options));
    const signer = new PageSigner(options.hotkey, signRaw);
    // The same chain and storage as the miner's (aggregates and checkpoints are θ-sized, larger than a submission).
    const { chain, storage } = await openPeerNetwork(options, signer, config, signPayload);
    let created: Awaited<ReturnType<typeof createTrainerEngine>>;
    let tokens: Uint8Array;
    try {
      // Before the engine: on a real network, a runtime that is not subtensor is refused here with the reason.
      await chain.metagraph(config.netuid);
      tokens = await loadDevnetTokens(options.devnetUrl);
      created = await createTrainerEngine(ort, config, undefined, { backend: options.backend });
    } catch (error) {
      await chain.close().catch(() => undefined);
      throw error;
    }
    engine = created.engine;
    emit({ kind: 'validator-engine', backend: created.info.backend, reason: created.info.reason, parameterCount: created.info.parameterCount });
    const validator = new Validator({
      config,
      layout: parameterLayout(config.model),
      engine: created.engine,
      storage,
      chain,
      signer,
      hotkey: options.hotkey,
      tokens,
      persistence: new BrowserValidatorPersistence(config.runId, options.hotkey),
      requireValidatorPermit: true,
      onEvent: (event) => emit(event),
    });
    // Its own saved state, else θ from the network (the lead validator's checkpoint and aggregates) before any window is scored.
    const joined = await (async () => {
      if (await validator.restore()) return null;
      return validator.joinNetwork();
    })().catch(async (error: unknown) => {
      await stopEngine();
      await chain.close().catch(() => undefined);
      throw error;
    });
    const lastWindow = validator.scoringState.lastWindow;
    emit({
      kind: 'validator-restored', lastWindow,
      message: joined === null ? `Resumed this browser's validator state after window ${lastWindow ?? '—'} (θ rebuilt from its own checkpoint and aggregates).` : 'No saved validator state in this browser: θ comes from the network (see the line before), and scoring starts at the next window.',
    });
    loop = runValidatorSchedule({
      config,
      chain,
      validator,
      firstWindow: lastWindow === null ? (joined?.nextWindow ?? null) : lastWindow + 1,
      maxWindows: Number.POSITIVE_INFINITY,
      stop: () => stopping,
      onScored: (report) => emit({ kind: 'validator-report', summary: summarizeReport(report) }),
      onSkipped: (window, error) => emit({ kind: 'validator-window-skipped', window, message: `Window ${window} was lost on the network (${error.message}); the validator goes on with the next one.` }),
    })
      .finally(() => chain.close().catch(() => undefined))
      .then(
        () => emit({ kind: 'validator-stopped', message: 'The validator stopped.' }),
        (error: unknown) => emit({ kind: 'validator-stopped', message: `The validator stopped on an error: ${errorMessage(error)}. Start again to resume from the last saved window.` }),
      )
      // However the loop ends, the tab can start again: the engine is released and the slot freed.
      .finally(async () => {
        await stopEngine();
        loop = null;
      });
  },
  async stop() {
    stopping = true;
    await loop;
  },
};

Comlink.expose(api);
