/**
 * Helpers of the hostile-peer suite (issue #14, test/unit/hostile-peers.test.ts), built by
 * composition around the subnet of `sim-harness.ts`, which they do not change:
 *
 * - `HostileUploader`: a registered hotkey with its own key that uploads crafted bytes as an attacker
 *   would: a real encoding of a Δ (`compressErrorFeedback`, the honest miner's compressor) whose
 *   quantisation parameters are rewritten and re-encoded with `encodeSubmission`, so the bytes are
 *   well-formed and validly signed (`signSubmission`) by the uploader's own registered hotkey, put in
 *   its own bucket inside the put window. `garbage` signs random bytes instead.
 * - `runWindowWithHostiles`: `Simulation.runWindow`'s sequence (train, honest uploads at their
 *   behaviour's delay, validate, outer steps), with the hostile uploads inside the same put window.
 * - `S3Subnet`: the same loops over `HotkeyBucketStorage` on s3rver (each peer its own bucket, the
 *   directory from a `MemoryNetwork` chain's commitments); blocks carry the real clock (to the
 *   second, as S3's `Last-Modified`), so the put-window gate is judged on s3rver's own timestamps.
 * - `observeValidator`, `hostileReasons`, `caseRow`: what every case checks and prints.
 */
import * as ort from 'onnxruntime-web';
import { decodeAddress } from '@polkadot/util-crypto';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import { firstBlockOfWindow, putWindowAnchorBlock, putWindowBounds } from '../../src/core/clock.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { compressErrorFeedback, type EncodedTensor, type FlatTensorSpec } from '../../src/core/compress/index.ts';
import { batchesForPool, batchTokens, minerPool, randomEvalPool, sequenceCount } from '../../src/core/data/assignment.ts';
import { sampleDigest } from '../../src/core/data/digest.ts';
import { Xoshiro128 } from '../../src/core/prng.ts';
import { encodeSubmission } from '../../src/core/wire/container.ts';
import { WasmTrainerEngine } from '../../src/gpu/wasm-engine.ts';
import { parameterLayout } from '../../src/model/params.ts';
import { HotkeyBucketStorage } from '../../src/net/hotkey-buckets.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { MemoryNetwork } from '../../src/net/memory-network.ts';
import { encodeBucketCommitment } from '../../src/net/subtensor-encoding.ts';
import { signSubmission } from '../../src/net/submission.ts';
import type { Storage, TimeGate } from '../../src/net/types.ts';
import { honest } from '../../src/peer/behaviours.ts';
import type { WindowEvent } from '../../src/peer/events.ts';
import { gradientKey, signatureKey } from '../../src/peer/gather.ts';
import { Miner } from '../../src/peer/miner.ts';
import { MemoryPersistence, Validator, type ValidatorWindowReport } from '../../src/peer/validator.ts';
import type { TokenBatch, TrainerEngine } from '../../src/model/engine.ts';
import { FIRST_MINER_UID, VALIDATOR_UID, type Simulation } from './sim-harness.ts';
import { bucketName, readCredentials, S3_WRITE, UNKNOWN_READ, type RunningS3rver } from './s3rver.ts';
import { runConfigHash } from '../../src/core/run-config.ts';

/** The largest finite float32 (`FLT_MAX`). */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** How an attacker turns a real encoding into its upload; `garbage` replaces the bytes altogether. */
export type Attack =
  | { readonly kind: 'valid' }
  | { readonly kind: 'overflow' }
  | { readonly kind: 'norm'; readonly norm: number }
  | { readonly kind: 'float32-max' }
  | { readonly kind: 'garbage' };

export function attackName(attack: Attack): string {
  return attack.kind === 'norm' ? `norm ${attack.norm.toExponential(0)}` : attack.kind;
}

function parameterCountOf(layout: readonly FlatTensorSpec[]): number {
  const last = layout[layout.length - 1]!;
  return last.offset + last.shape.reduce((a, b) => a * b, 1);
}

/** The dequantised values of one tensor's kept entries, in float32 as the decoder computes them. */
function dequantised(tensor: EncodedTensor): number[] {
  return Array.from(tensor.codes, (q) => Math.fround(tensor.quant.lookup[q]! + tensor.quant.shift));
}

/**
 * A real encoding of a plausible Δ (Gaussian, σ 1e-3, well inside every run bound) through the
 * honest miner's compressor, then the attack's rewrite of the quantisation parameters:
 * - overflow: the first tensor's lookup[0] = 3e38 and shift = 3e38 (each finite; their float32 sum
 *   is not), every other tensor left honest, the sharpest form of the attack;
 * - norm: every tensor's lookup and shift scaled by one factor, so the L2 norm of the whole
 *   submission's dequantised values is `norm`;
 * - float32-max: every lookup value of every tensor = FLT_MAX.
 */
export function craftedTensors(config: RunConfig, layout: readonly FlatTensorSpec[], attack: Attack, seed: number): EncodedTensor[] {
  const rng = new Xoshiro128(seed);
  const delta = new Float32Array(parameterCountOf(layout));
  for (let i = 0; i < delta.length; i++) delta[i] = 1e-3 * rng.nextGaussian();
  const tensors = compressErrorFeedback(delta, layout, config.compression);
  const rewrite = (tensor: EncodedTensor, shift: number, lookup: Float32Array): EncodedTensor => ({ ...tensor, quant: { ...tensor.quant, shift, lookup } });
  switch (attack.kind) {
    case 'valid':
    case 'garbage':
      return tensors;
    case 'overflow':
      return tensors.map((t, i) => {
        if (i !== 0) return t;
        const lookup = t.quant.lookup.slice();
        lookup[0] = 3e38;
        return rewrite(t, 3e38, lookup);
      });
    case 'norm': {
      const norm = Math.sqrt(tensors.reduce((acc, t) => acc + dequantised(t).reduce((a, v) => a + v * v, 0), 0));
      const factor = attack.norm / norm;
      return tensors.map((t) => rewrite(t, t.quant.shift * factor, t.quant.lookup.map((v) => v * factor)));
    }
    case 'float32-max':
      return tensors.map((t) => rewrite(t, t.quant.shift, new Float32Array(t.quant.lookup.length).fill(FLOAT32_MAX)));
  }
}

/** The L2 norm of a crafted submission's dequantised values, as the attacker computed it (float64 over float32 values). */
export function craftedNorm(tensors: readonly EncodedTensor[]): number {
  return Math.sqrt(tensors.reduce((acc, t) => acc + dequantised(t).reduce((a, v) => a + v * v, 0), 0));
}

/** A registered hotkey that uploads crafted, validly signed objects into its own bucket. */
export class HostileUploader {
  private constructor(
    readonly uid: number,
    readonly hotkey: string,
    readonly attack: Attack,
    private readonly signer: KeyringSigner,
    private readonly storage: Storage,
  ) {}

  /** Registers `uri`'s hotkey on `network`; `storageOf` gives the storage writing into its bucket (default: the network's). */
  static async register(network: MemoryNetwork, uri: string, attack: Attack, storageOf: (hotkey: string) => Storage = (h) => network.storage(h)): Promise<HostileUploader> {
    const signer = await KeyringSigner.fromUris([uri]);
    const hotkey = (await signer.accounts())[0]!.address;
    const uid = network.register({ hotkey });
    return new HostileUploader(uid, hotkey, attack, signer, storageOf(hotkey));
  }

  /** The bytes this attacker uploads for `window`: a well-formed container with its own header, or signed garbage. */
  bytes(config: RunConfig, layout: readonly FlatTensorSpec[], tokens: Uint8Array, window: number): Uint8Array {
    const seed = (Math.imul(window + 7, 0x2545f491) ^ Math.imul(this.uid + 1, 0x9e3779b1)) >>> 0;
    if (this.attack.kind === 'garbage') {
      const rng = new Xoshiro128(seed);
      return Uint8Array.from({ length: 4096 + rng.nextInt(4096) }, () => rng.nextU32() & 0xff);
    }
    // The header an honest miner would write for this uid and window (its assignment's sample digest).
    const pool = minerPool(this.uid, window, config, sequenceCount(tokens.length, config.model.seqLen));
    const trained = batchesForPool(pool, config.inner.innerSteps, config.inner.batchSize).flat();
    const digest = sampleDigest(trained);
    const sampleDigestBytes = Uint8Array.from({ length: 16 }, (_, i) => Number.parseInt(digest.slice(2 * i, 2 * i + 2), 16));
    return encodeSubmission(
      {
        runId: config.runId, netuid: config.netuid, window, uid: this.uid, hotkey: decodeAddress(this.hotkey),
        sampleDigest: sampleDigestBytes, sampleCount: trained.length, tensors: craftedTensors(config, layout, this.attack, seed),
      },
      config.compression,
    );
  }

  /** Signs and puts window `window`'s objects, as `Miner.upload` does. */
  async upload(config: RunConfig, layout: readonly FlatTensorSpec[], tokens: Uint8Array, window: number): Promise<void> {
    const bytes = this.bytes(config, layout, tokens, window);
    const signature = await signSubmission(this.signer, this.hotkey, { runId: config.runId, runHash: runConfigHash(config), netuid: config.netuid, window, uid: this.uid }, bytes);
    await this.storage.put(gradientKey(window, this.uid), bytes);
    await this.storage.put(signatureKey(window, this.uid), new TextEncoder().encode(signature));
  }
}

/** Hostile uploads happen this long after the put window opens (after the honest peers' ≤ 500 ms, well before it closes). */
export const HOSTILE_UPLOAD_DELAY_MS = 1000;

/** `Simulation.runWindow` with `hostiles` uploading inside the put window, after the honest peers. */
export async function runWindowWithHostiles(sim: Simulation, window: number, hostiles: readonly HostileUploader[]): Promise<void> {
  const { blocksPerWindow, putWindowMs } = sim.config.window;
  const layout = parameterLayout(sim.config.model);
  sim.advanceToBlock(firstBlockOfWindow(window, blocksPerWindow));
  for (const peer of sim.peers) await peer.miner.prepare(window);
  sim.advanceToBlock(putWindowAnchorBlock(window, blocksPerWindow));
  const gate = sim.gateOf(window);
  const order = [...sim.peers].sort((a, b) => a.behaviour.uploadDelayMs(putWindowMs) - b.behaviour.uploadDelayMs(putWindowMs) || a.uid - b.uid);
  for (const peer of order) {
    sim.nowMs = Math.max(sim.nowMs, gate.timeMinMs + peer.behaviour.uploadDelayMs(putWindowMs));
    await peer.miner.upload(window, gate);
  }
  sim.nowMs = Math.max(sim.nowMs, gate.timeMinMs + HOSTILE_UPLOAD_DELAY_MS);
  for (const hostile of hostiles) await hostile.upload(sim.config, layout, sim.tokens, window);
  sim.nowMs = Math.max(sim.nowMs, gate.timeMaxMs + 1);
  sim.reports.push(await sim.validator.runWindow(window));
  for (const peer of sim.peers) await peer.miner.finishWindow(window, gate);
}

// ---------------------------------------------------------------------------------------------
// S3 mode: the loops over HotkeyBucketStorage on s3rver.

/** What a case runs on: the validator's events, reports and engine, and one window of the whole subnet. */
export interface Subnet {
  readonly config: RunConfig;
  readonly tokens: Uint8Array;
  readonly events: readonly WindowEvent[];
  readonly reports: readonly ValidatorWindowReport[];
  readonly validatorEngine: TrainerEngine;
  runWindow(window: number): Promise<void>;
  dispose(): Promise<void>;
}

/** The simulation's per-window randomness (sim-harness `newValidator`), so runs are reproducible. */
export const simulationRandomness = (window: number): number => (Math.imul(window + 1, 0x9e3779b1) ^ 0x51a7) >>> 0;

interface S3Peer {
  readonly uid: number;
  readonly miner: Miner;
}

/**
 * The miner and validator loops on s3rver. Real: the `Validator`, the honest `Miner`s on wasm
 * engines, every read and write through `HotkeyBucketStorage` (each hotkey resolved from its chain
 * commitment, read with its own credentials), s3rver's `Last-Modified` against the put-window gate,
 * and the chain (a `MemoryNetwork`: metagraph, block timestamps, commitments, weights). The hostile
 * peers are `HostileUploader`s writing valid submissions into their own buckets: what makes them
 * faulty is their commitment alone (none, or the honest peer's bucket with a key s3rver refuses).
 */
export class S3Subnet implements Subnet {
  readonly events: WindowEvent[] = [];
  readonly reports: ValidatorWindowReport[] = [];
  readonly peers: S3Peer[] = [];
  readonly hostiles: HostileUploader[] = [];
  validatorEngine!: WasmTrainerEngine;
  private validator!: Validator;
  private readonly engines: WasmTrainerEngine[] = [];
  private readonly layout: readonly FlatTensorSpec[];
  readonly network: MemoryNetwork;
  private nextBucket = 0;

  private constructor(readonly config: RunConfig, readonly tokens: Uint8Array, private readonly s3: RunningS3rver) {
    this.layout = parameterLayout(config.model);
    // Blocks carry the real clock to the second: S3's Last-Modified has 1 s precision and is floored,
    // so an object put after a block's timestamp is never judged earlier than it.
    this.network = new MemoryNetwork({
      netuid: config.netuid,
      clock: () => Math.floor(Date.now() / 1000) * 1000,
      hyperparams: { tempo: 360, commitRevealEnabled: false, revealPeriodEpochs: 1, weightsRateLimit: 0, weightsVersionKey: 0n, minAllowedWeights: 1, blockTimeMs: config.window.blockTimeMs },
    });
  }

  /**
   * Registers the validator (uid 0, bucket 0), the burn uid, `honestCount` honest miners (buckets
   * 1…), each committing its bucket and read key; then each hostile: `commitment` says what it commits
   * (`none`, or `shadow`: the first honest miner's bucket name with a read key s3rver does not know).
   */
  static async create(config: RunConfig, s3: RunningS3rver, honestCount: number, hostiles: readonly { readonly uri: string; readonly commitment: 'none' | 'shadow' }[]): Promise<S3Subnet> {
    ort.env.wasm.numThreads = 1;
    const subnet = new S3Subnet(config, loadAllTokens().tokens, s3);
    const uris = ['//S3Validator', '//S3Owner', ...Array.from({ length: honestCount }, (_, i) => `//S3Miner${i}`)];
    const signer = await KeyringSigner.fromUris(uris);
    const addresses = (await signer.accounts()).map((a) => a.address);
    const network = subnet.network;
    const validatorHotkey = addresses[0]!;
    network.register({ hotkey: validatorHotkey, stake: 1000 });
    network.register({ hotkey: addresses[1]! });
    const validatorStorage = subnet.ownStorage(validatorHotkey, true);
    const minerUids: number[] = [];
    const honestBuckets: string[] = [];
    for (let i = 0; i < honestCount; i++) {
      const hotkey = addresses[2 + i]!;
      const uid = network.register({ hotkey });
      minerUids.push(uid);
      const bucket = subnet.nextBucket;
      honestBuckets.push(bucketName(bucket));
      const engine = await subnet.engine();
      const miner = new Miner({
        config, layout: subnet.layout, engine, signer, hotkey, uid, behaviour: honest(),
        validatorHotkey, storage: subnet.ownStorage(hotkey, true), tokens: subnet.tokens,
        hotkeyOf: (u) => network.hotkeyOf(u), minerUids: () => minerUids,
        onEvent: (e) => subnet.events.push(e),
      });
      subnet.peers.push({ uid, miner });
    }
    for (const { uri, commitment } of hostiles) {
      const hostile = await HostileUploader.register(network, uri, { kind: 'valid' }, (hotkey) => subnet.ownStorage(hotkey, false));
      if (commitment === 'shadow') network.setCommitment(hostile.hotkey, config.netuid, encodeBucketCommitment({ accountId: honestBuckets[0]!, ...UNKNOWN_READ }));
      subnet.hostiles.push(hostile);
    }
    subnet.validatorEngine = await subnet.engine();
    // The validator signs its publications with its own hotkey's key, which `signer` holds.
    const options = {
      config, layout: subnet.layout, engine: subnet.validatorEngine, storage: validatorStorage, chain: network.chain(), signer, hotkey: validatorHotkey,
      tokens: subnet.tokens, persistence: new MemoryPersistence(), randomness: simulationRandomness, onEvent: (e: WindowEvent) => subnet.events.push(e),
    };
    subnet.validator = new Validator(options);
    if (network.uidOf(validatorHotkey) !== VALIDATOR_UID || minerUids[0] !== FIRST_MINER_UID) throw new Error('S3Subnet: unexpected uid assignment');
    return subnet;
  }

  /** A fresh bucket for `hotkey` (written with s3rver's write key); `commit` publishes its bucket and read key on chain. */
  private ownStorage(hotkey: string, commit: boolean): HotkeyBucketStorage {
    const index = this.nextBucket++;
    if (commit) this.network.setCommitment(hotkey, this.config.netuid, encodeBucketCommitment({ accountId: bucketName(index), ...readCredentials(index) }));
    return new HotkeyBucketStorage({
      endpoint: this.s3.endpoint, ownHotkey: hotkey, ownBucket: bucketName(index), writeCredentials: S3_WRITE,
      commitments: () => this.network.chain().commitments(this.config.netuid),
    });
  }

  private async engine(): Promise<WasmTrainerEngine> {
    const engine = new WasmTrainerEngine(ort);
    await engine.init(this.config);
    this.engines.push(engine);
    return engine;
  }

  private produceUntil(block: number): void {
    while (this.network.head < block) this.network.produceBlock();
  }

  /** One window: train, upload (honest, then hostile) right after the put window's anchor block, validate, outer steps. */
  async runWindow(window: number): Promise<void> {
    const { blocksPerWindow, putWindowMs } = this.config.window;
    this.produceUntil(firstBlockOfWindow(window, blocksPerWindow));
    for (const peer of this.peers) await peer.miner.prepare(window);
    this.produceUntil(putWindowAnchorBlock(window, blocksPerWindow));
    const gate: TimeGate = putWindowBounds(this.network.blockTimestamp(putWindowAnchorBlock(window, blocksPerWindow)), putWindowMs);
    for (const peer of this.peers) await peer.miner.upload(window, gate);
    for (const hostile of this.hostiles) await hostile.upload(this.config, this.layout, this.tokens, window);
    this.reports.push(await this.validator.runWindow(window));
    for (const peer of this.peers) await peer.miner.finishWindow(window, gate);
  }

  async dispose(): Promise<void> {
    for (const engine of this.engines) await engine.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// What every case observes.

/** A fixed evaluation set, built as the validator builds its random control set (`randomEvalPool`, whole batches). */
export function evaluationBatches(config: RunConfig, tokens: Uint8Array, seed = 0x5eed): TokenBatch[] {
  const ids = randomEvalPool(seed, 0, config, sequenceCount(tokens.length, config.model.seqLen)).ids;
  const out: TokenBatch[] = [];
  for (let i = 0; i + config.inner.batchSize <= ids.length; i += config.inner.batchSize) out.push(batchTokens(tokens, ids.slice(i, i + config.inner.batchSize), config.model.seqLen));
  return out;
}

export interface ThetaObservation {
  readonly window: number;
  readonly finite: boolean;
  readonly maxAbs: number;
  readonly loss: number;
  /** θ changed in this window (compared with θ before it). */
  readonly moved: boolean;
}

/** θ of the validator after a window: finite, its largest |θ_i|, the summed loss on `batches`. */
export async function observeValidator(engine: TrainerEngine, batches: readonly TokenBatch[], window: number, before: Float32Array | null): Promise<{ observation: ThetaObservation; theta: Float32Array }> {
  const theta = await engine.exportParams();
  let maxAbs = 0;
  let finite = true;
  for (const v of theta) {
    if (!Number.isFinite(v)) finite = false;
    else if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
  }
  const loss = (await engine.evalLoss(batches)).reduce((a, b) => a + b, 0);
  const moved = before === null || theta.some((v, i) => v !== before[i]);
  return { observation: { window, finite, maxAbs, loss, moved }, theta };
}

/** Every reason the validator gave for `uid`: gather rejections (with details), peer faults, invalid or missing evaluations. */
export function hostileReasons(events: readonly WindowEvent[], uid: number): string[] {
  const out: string[] = [];
  const key = String(uid);
  for (const e of events) {
    if (e.kind === 'validator-gathered' && e.rejected[key] !== undefined) out.push(`gather ${e.rejected[key]}`);
    else if (e.kind === 'validator-peer-fault' && e.uid === uid) out.push(`${e.stage} fault: ${e.reason}`);
    else if (e.kind === 'validator-evaluated' && e.uid === uid && e.status !== 'ok') out.push(`evaluated ${e.status}: ${e.detail ?? ''}`);
  }
  return out;
}

/** A short label of a reason for the table: the wire code, the S3 refusal, or the rejection. */
export function reasonLabel(reason: string): string {
  const wire = /(value-overflow|value-out-of-bounds|norm-out-of-bounds|bad-magic|non-finite|scale-out-of-range|truncated|[a-z]+-mismatch)/.exec(reason);
  if (wire !== null) return wire[1]!;
  if (/committed no bucket/.test(reason)) return 'no-commitment';
  const refused = /refused by the S3 endpoint \(([^)]+)\)/.exec(reason);
  if (refused !== null) return `unauthorized(${refused[1]})`;
  return reason.split(':')[0]!;
}

export interface CaseRow {
  readonly name: string;
  readonly windowsScored: number;
  readonly honestShare: number | null;
  readonly honestWeights: readonly number[];
  readonly hostileWeights: readonly number[];
  readonly reasons: readonly string[];
  readonly thetaMaxAbs: number;
  readonly lossFirst: number;
  readonly lossLast: number;
}

export function formatRows(rows: readonly CaseRow[]): string {
  const header = ['case', 'windows', 'honest share', 'honest weights', 'hostile weights', 'reasons seen', 'θ max|v|', 'loss first→last'];
  const cells = rows.map((r) => [
    r.name,
    String(r.windowsScored),
    r.honestShare === null ? '—' : r.honestShare.toFixed(3),
    r.honestWeights.map((w) => w.toFixed(2)).join(','),
    r.hostileWeights.map((w) => w.toFixed(2)).join(','),
    r.reasons.join(', '),
    r.thetaMaxAbs.toFixed(4),
    `${r.lossFirst.toFixed(4)}→${r.lossLast.toFixed(4)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells].map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')).join('\n');
}

/** The in-memory `Simulation` with `hostiles` uploading every window, as a `Subnet`. */
export function memorySubnet(sim: Simulation, hostiles: readonly HostileUploader[]): Subnet {
  return {
    config: sim.config,
    tokens: sim.tokens,
    events: sim.events,
    reports: sim.reports,
    get validatorEngine() {
      return sim.validatorEngine;
    },
    runWindow: (window) => runWindowWithHostiles(sim, window, hostiles),
    dispose: () => sim.dispose(),
  };
}

/**
 * Runs `windows` on `subnet`, observing the validator's θ after each (and before the first). An
 * exception escaping a window fails the case with the window named.
 */
export interface WindowsRun {
  readonly initial: ThetaObservation;
  readonly observations: ThetaObservation[];
  /** The validator's θ after the last window. */
  readonly theta: Float32Array;
}

export async function runWindows(subnet: Subnet, windows: readonly number[]): Promise<WindowsRun> {
  const batches = evaluationBatches(subnet.config, subnet.tokens);
  const start = await observeValidator(subnet.validatorEngine, batches, -1, null);
  const initial = { ...start.observation, moved: false };
  let theta = start.theta;
  const observations: ThetaObservation[] = [];
  for (const window of windows) {
    try {
      await subnet.runWindow(window);
    } catch (error) {
      throw new Error(`window ${window} threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, { cause: error });
    }
    const next = await observeValidator(subnet.validatorEngine, batches, window, theta);
    observations.push(next.observation);
    theta = next.theta;
  }
  return { initial, observations, theta };
}
