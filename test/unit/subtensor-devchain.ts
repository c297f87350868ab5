/**
 * A real subtensor runtime for the opt-in developer check (chain.md §7): a **raw** chain spec of a
 * subtensor dev runtime (spec 293: Alice sudo and funded, 1 s Aura slots) booted by chopsticks on
 * loopback, with a clock that keeps the chain's time on the wall clock, and a subnet set up the way
 * an operator sets one up. The spec embeds a third-party runtime binary: it lives outside this
 * repository (`SUBTENSOR_RAW_SPEC`, or the fixed path `DEFAULT_SUBTENSOR_SPEC`) and is never
 * committed, nor is anything that produces it.
 *
 * Workarounds (chain.md §7): unresolved host imports are allowed (drand / bls12-381); chopsticks' own
 * Aura slot lookup runs without them, fails and falls back to 12 s, so the slot duration is computed
 * through the executor and seeded into its memo; `Timestamp.Now` is seeded slot-aligned in the genesis.
 *
 * The clock: blocks are built only by this harness (chopsticks' manual mode), one per slot of wall
 * time; when building fell behind (a loaded machine), the chain's time is moved to the wall clock
 * first (`timeTravel`, which moves Aura's slot with it). Uploads are stamped by the storage server's
 * wall clock and judged against block timestamps, as on a real network, so the two must agree.
 *
 * Shared by the developer checks (test/unit/chain-subtensor.test.ts, the Node flow;
 * test/browser/subtensor-devcheck.spec.ts, a browser miner) and `scripts/subtensor-devnet.ts`: the
 * run config every peer of a check runs (`devCheckRunConfig`), `npm run validator` as a child process
 * (`devValidatorCommand`, `ValidatorProcess`), and funding an account from Alice (`fundFromAlice`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { hexToU8a, u8aToBn } from '@polkadot/util';
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { RunConfig } from '../../src/core/config.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { keyringAuthority, submitExtrinsic, SubtensorChain } from '../../src/net/subtensor-chain.ts';
import { S3_WRITE } from './s3rver.ts';

/** The environment variable naming the raw spec, and where it is looked for when that is unset. */
export const SUBTENSOR_SPEC_ENV = 'SUBTENSOR_RAW_SPEC';
export const DEFAULT_SUBTENSOR_SPEC = join(homedir(), '.cache', 'gauntlet-webgpu-peer', 'subtensor-raw-spec.json');

const TIMESTAMP_NOW_KEY = '0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb';
const CODE_KEY = '0x3a636f6465';

interface RawSpec { genesis: { raw: { top: Record<string, string> } } }

/** The raw spec to boot, or undefined (the developer check is then skipped, and says so). */
export function subtensorSpecPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env[SUBTENSOR_SPEC_ENV];
  if (named !== undefined && named !== '') return resolve(named);
  return existsSync(DEFAULT_SUBTENSOR_SPEC) ? DEFAULT_SUBTENSOR_SPEC : undefined;
}

/** Why the developer check does not run here, for its skip message. */
export const SUBTENSOR_SKIP_REASON = `SKIPPED: no raw subtensor spec (set ${SUBTENSOR_SPEC_ENV}=<raw spec outside the repo> or put one at ${DEFAULT_SUBTENSOR_SPEC})`;

interface ChopsticksBlock {
  readonly number: number;
}
interface ChopsticksChain {
  readonly head: ChopsticksBlock;
  newBlock(): Promise<ChopsticksBlock>;
}

export interface SubtensorDevChain {
  readonly endpoint: string;
  readonly slotMs: number;
  /** Signs as the dev accounts and the keys `add`ed to it. */
  readonly keys: KeyringSigner;
  readonly alice: string;
  /** A client with every key of `keys` as its signer. */
  readonly chain: SubtensorChain;
  /** Builds `count` blocks now, whatever the wall clock says (setup phases that wait for epochs). */
  newBlocks(count: number): Promise<void>;
  /** `sudo.sudo(call)` signed by Alice. */
  sudo(call: SubmittableExtrinsic<'promise'>): Promise<void>;
  readonly tx: (section: string, method: string, ...args: unknown[]) => SubmittableExtrinsic<'promise'>;
  close(): Promise<void>;
}

/** Boots the runtime of `specPath` on 127.0.0.1 (port 0: any free one unless given) and starts its wall clock. */
export async function startSubtensorDevChain(specPath: string, options: { readonly port?: number } = {}): Promise<SubtensorDevChain> {
  process.env.LOG_LEVEL ??= 'error';
  const path = resolve(specPath);
  if (!relative(process.cwd(), path).startsWith('..')) throw new Error(`${SUBTENSOR_SPEC_ENV} must point outside the repository (got ${path}): the spec must never be committed.`);
  const spec = JSON.parse(readFileSync(path, 'utf8')) as RawSpec;
  const code = spec.genesis.raw.top[CODE_KEY] as `0x${string}` | undefined;
  if (code === undefined) throw new Error(`${path} is not a raw spec with :code.`);
  const chopsticks = await import('@acala-network/chopsticks');
  const slot = await chopsticks.runTask({ wasm: code, calls: [['AuraApi_slot_duration', []]], mockSignatureHost: false, allowUnresolvedImports: true, runtimeLogLevel: 0 });
  if (!('Call' in slot)) throw new Error(`AuraApi_slot_duration failed: ${slot.Error}`);
  const slotMs = u8aToBn(hexToU8a(slot.Call.result), { isLe: true }).toNumber();
  (chopsticks.getAuraSlotDuration as unknown as { cache: { set(key: string, value: Promise<number>): void } }).cache.set(code, Promise.resolve(slotMs));
  // Genesis one slot ago on the wall clock, so the first block lands on now.
  const now = new Uint8Array(8);
  new DataView(now.buffer).setBigUint64(0, BigInt(Math.floor(Date.now() / slotMs) * slotMs - slotMs), true);
  spec.genesis.raw.top[TIMESTAMP_NOW_KEY] = `0x${Buffer.from(now).toString('hex')}`;
  const server = await chopsticks.setupWithServer({
    genesis: spec as never, port: options.port ?? 0, host: '127.0.0.1', 'build-block-mode': chopsticks.BuildBlockMode.Manual, 'allow-unresolved-imports': true,
  });
  const blockchain = server.chain as unknown as ChopsticksChain;

  // One block at a time, whoever asks (the clock or a setup phase).
  let building: Promise<unknown> = Promise.resolve();
  const enqueue = (step: () => Promise<unknown>): Promise<void> => {
    const next = building.then(step).then(() => undefined);
    building = next.catch(() => undefined);
    return next;
  };
  const build = (): Promise<void> => enqueue(async () => {
    const ts = Number(await chopsticks.getCurrentTimestamp(server.chain.head));
    const aligned = Math.floor(Date.now() / slotMs) * slotMs;
    // Behind the wall clock by more than a slot: jump there first (Aura's slot moves with it).
    if (ts + slotMs < aligned) await chopsticks.timeTravel(server.chain, aligned - slotMs);
    await blockchain.newBlock();
  });
  let ticking = true;
  let clockError: unknown;
  const clock = (async () => {
    while (ticking) {
      try {
        const ts = Number(await chopsticks.getCurrentTimestamp(server.chain.head));
        // The chain is ahead of the wall clock (a setup phase built blocks fast): wait for it.
        if (ts + slotMs <= Date.now()) await build();
      } catch (error) {
        clockError = error;
      }
      await new Promise((r) => setTimeout(r, Math.max(50, slotMs / 4)));
    }
  })();

  const keys = await KeyringSigner.fromUris([]);
  const alice = keys.add('//Alice');
  const endpoint = `ws://${server.addr}`;
  const chain = await SubtensorChain.connect(endpoint, keyringAuthority(keys));
  const tx = (section: string, method: string, ...args: unknown[]): SubmittableExtrinsic<'promise'> => {
    const fn = (chain.api.tx as unknown as Record<string, Record<string, ((...a: unknown[]) => SubmittableExtrinsic<'promise'>) | undefined> | undefined>)[section]?.[method];
    if (fn === undefined) throw new Error(`runtime lacks ${section}.${method}`);
    return fn(...args);
  };
  return {
    endpoint, slotMs, keys, alice, chain, tx,
    async newBlocks(count) {
      for (let i = 0; i < count; i++) await enqueue(() => blockchain.newBlock());
    },
    async sudo(call) {
      await submitExtrinsic(chain.api, tx('sudo', 'sudo', call), { kind: 'pair', pair: keys.pair(alice) });
    },
    async close() {
      ticking = false;
      await clock;
      await building;
      await chain.close();
      await server.close();
      if (clockError !== undefined) console.warn(`subtensor dev chain: the clock hit ${clockError instanceof Error ? clockError.message : 'an error'}`);
    },
  };
}

/** A subnet as its operator sets it up for a run, and the peers registered on it. */
export interface DevSubnet {
  readonly netuid: number;
  /** The owner's hotkey (uid 0, where the run burns). */
  readonly ownerHotkey: string;
  readonly validator: { readonly hotkey: string; readonly uid: number };
  readonly miners: readonly { readonly hotkey: string; readonly uid: number }[];
}

/**
 * Alice (sudo, and the subnet owner's coldkey) lifts the network rate limit, registers a subnet
 * with hotkey `//Alice//owner`, waits out `DurationOfStartCall` and starts it; the run's validator
 * `//Alice//validator` is registered under the owner's coldkey (so `runValidators` names it) and
 * staked; each miner hotkey `//<Coldkey>//miner` is registered and paid for by its own coldkey (Bob,
 * Charlie, …). Weights may be set every block, commit-reveal is off, and registrations are not
 * throttled; one epoch passes so the validator holds its permit.
 */
export async function createDevSubnet(dev: SubtensorDevChain, minerColdkeys: readonly string[]): Promise<DevSubnet> {
  const { chain, keys, alice, tx } = dev;
  const pair = (address: string) => ({ kind: 'pair' as const, pair: keys.pair(address) });
  const ownerHotkey = keys.add('//Alice//owner');
  await dev.sudo(tx('adminUtils', 'sudoSetNetworkRateLimit', 0));
  const before = new Set((await chain.api.query.subtensorModule!.networksAdded!.entries()).filter(([, added]) => added.toJSON() === true).map(([key]) => Number(key.args[0]!.toString())));
  await submitExtrinsic(chain.api, tx('subtensorModule', 'registerNetwork', ownerHotkey), pair(alice));
  const added = (await chain.api.query.subtensorModule!.networksAdded!.entries()).filter(([, isAdded]) => isAdded.toJSON() === true).map(([key]) => Number(key.args[0]!.toString()));
  const netuid = added.find((n) => !before.has(n));
  if (netuid === undefined) throw new Error('registerNetwork was included but no new subnet appeared');
  const duration = Number(chain.api.consts.subtensorModule?.durationOfStartCall?.toString() ?? '0');
  await dev.newBlocks(duration + 1);
  await submitExtrinsic(chain.api, tx('subtensorModule', 'startCall', netuid), pair(alice));
  await dev.sudo(tx('adminUtils', 'sudoSetWeightsSetRateLimit', netuid, 0));
  await dev.sudo(tx('adminUtils', 'sudoSetCommitRevealWeightsEnabled', netuid, false));
  await dev.sudo(tx('adminUtils', 'sudoSetMaxRegistrationsPerBlock', netuid, 16));
  await dev.sudo(tx('adminUtils', 'sudoSetTargetRegistrationsPerInterval', netuid, 64));

  const validatorHotkey = keys.add('//Alice//validator');
  const validator = await chain.burnedRegister(alice, netuid, validatorHotkey);
  await submitExtrinsic(chain.api, tx('subtensorModule', 'addStake', validatorHotkey, netuid, 1_000_000_000_000n), pair(alice));
  const miners: { hotkey: string; uid: number }[] = [];
  for (const coldkeyUri of minerColdkeys) {
    const coldkey = keys.add(coldkeyUri);
    const hotkey = keys.add(`${coldkeyUri}//miner`);
    miners.push({ hotkey, uid: (await chain.burnedRegister(coldkey, netuid, hotkey)).uid });
  }
  // An epoch hands out validator permits (by stake).
  const { tempo } = await chain.hyperparams(netuid);
  await dev.newBlocks(tempo + 2);
  return { netuid, ownerHotkey, validator: { hotkey: validatorHotkey, uid: validator.uid }, miners };
}

/**
 * The run on this chain: the tiny model with 10-block windows (10 s on its 1 s blocks) and a 4 s
 * put window, which the validator checks against the chain's block time; the run burns to the
 * subnet owner's uid 0. Every peer of one check must run it: submissions are signed for its run id.
 */
export function devCheckRunConfig(netuid: number): RunConfig {
  const tiny = tinyRunConfig();
  return {
    ...tiny, runId: 'subtensor-developer-check', netuid,
    window: { ...tiny.window, blocksPerWindow: 10, putWindowMs: 4000 },
    scoring: { ...tiny.scoring, burnUid: 0 },
  };
}

/** A Node command (`npm run validator`, `npm run miner`) on the dev chain, its stdout and stderr kept line by line. */
export class CommandProcess {
  readonly lines: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  /** Once the process exited and its output streams are drained. */
  private readonly closed: Promise<void>;

  constructor(private readonly script: string, args: readonly string[], env: NodeJS.ProcessEnv) {
    // One process (tsx as a loader, not its wrapper, which would leave the real process running when killed).
    this.child = spawn(process.execPath, ['--import', 'tsx', script, '--verbose', ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
    let partial = '';
    const take = (chunk: Buffer): void => {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      this.lines.push(...parts);
    };
    this.child.stdout.on('data', take);
    this.child.stderr.on('data', take);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.closed = new Promise((resolve) => this.child.once('close', () => resolve()));
  }

  /** The first line from `from` on that matches, within `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs: number, from = 0): Promise<{ line: string; index: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.lines.findIndex((line, i) => i >= from && pattern.test(line));
      if (index >= 0) return { line: this.lines[index]!, index };
      if (this.child.exitCode !== null) {
        // Its last lines may still be in the pipe when it exits: read them before giving up.
        await this.closed;
        const late = this.lines.findIndex((line, i) => i >= from && pattern.test(line));
        if (late >= 0) return { line: this.lines[late]!, index: late };
        throw new Error(`${this.script} exited (${this.child.exitCode}) before printing ${pattern}:\n${this.lines.slice(-30).join('\n')}`);
      }
      if (Date.now() > deadline) throw new Error(`${this.script} did not print ${pattern} within ${timeoutMs / 1000} s:\n${this.lines.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The JSON payload of an event line `[window w] kind {…}`. */
  static payload(line: string): Record<string, unknown> {
    return JSON.parse(line.slice(line.indexOf('{'))) as Record<string, unknown>;
  }

  /** Killed without warning, as a crash or a power cut would. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** `npm run gateway` on the dev chain, as an operator starts it. */
export class GatewayProcess extends CommandProcess {
  constructor(args: readonly string[], env: NodeJS.ProcessEnv) {
    super('src/cli/gateway.ts', args, env);
  }
}

/** `npm run validator` on the dev chain, as an operator starts it. */
export class ValidatorProcess extends CommandProcess {
  constructor(args: readonly string[], env: NodeJS.ProcessEnv) {
    super('src/cli/validator.ts', args, env);
  }
}

/** Where the dev chain's validator keeps its bucket and state, and the run config file it reads. */
export interface DevValidatorSetup {
  readonly endpoint: string;
  readonly netuid: number;
  readonly s3Endpoint: string;
  readonly bucket: string;
  readonly runConfigPath: string;
  readonly statePath: string;
  /** A read-only token to publish as the validator's bucket commitment (`--read-key-id`), so peers can read its scores. */
  readonly read?: { readonly readKeyId: string; readonly readSecret: string };
  /** The subnet operator's validator: publish the run of `runConfigPath` (`--publish-run`; needs `read`). */
  readonly publishRun?: boolean;
  /** The subnet's storage gateway (`--gateway-url`): published beside the run hash with `publishRun`, and read through. */
  readonly gatewayUrl?: string;
}

/**
 * The flags and environment of `npm run validator` for the subnet's validator `//Alice//validator`
 * on s3rver, as an operator gives them (the secrets in the environment, never in flags).
 */
export function devValidatorCommand(setup: DevValidatorSetup): { args: string[]; env: NodeJS.ProcessEnv } {
  const args = [
    '--network', setup.endpoint, '--netuid', String(setup.netuid), '--s3-endpoint', setup.s3Endpoint, '--bucket', setup.bucket,
    '--access-key-id', S3_WRITE.accessKeyId, '--run-config', setup.runConfigPath, '--state', setup.statePath,
    ...(setup.read === undefined ? [] : ['--read-key-id', setup.read.readKeyId]),
    ...(setup.publishRun === true ? ['--publish-run'] : []),
    ...(setup.gatewayUrl === undefined ? [] : ['--gateway-url', setup.gatewayUrl]),
  ];
  const env: NodeJS.ProcessEnv = { GAUNTLET_VALIDATOR_URI: '//Alice//validator', GAUNTLET_S3_SECRET: S3_WRITE.secretAccessKey };
  if (setup.read !== undefined) env.GAUNTLET_S3_READ_SECRET = setup.read.readSecret;
  return { args, env };
}

/**
 * The flags and environment of `npm run miner` for the miner hotkey `uri` on s3rver, as a volunteer
 * gives them (the secrets in the environment); with `read`, it publishes its bucket commitment.
 */
export function devMinerCommand(setup: { readonly endpoint: string; readonly netuid: number; readonly s3Endpoint: string; readonly bucket: string; readonly uri: string; readonly read?: { readonly readKeyId: string; readonly readSecret: string } }): { args: string[]; env: NodeJS.ProcessEnv } {
  const args = [
    '--network', setup.endpoint, '--netuid', String(setup.netuid), '--s3-endpoint', setup.s3Endpoint, '--bucket', setup.bucket, '--access-key-id', S3_WRITE.accessKeyId,
    ...(setup.read === undefined ? [] : ['--read-key-id', setup.read.readKeyId]),
  ];
  const env: NodeJS.ProcessEnv = { GAUNTLET_MINER_URI: setup.uri, GAUNTLET_S3_SECRET: S3_WRITE.secretAccessKey };
  if (setup.read !== undefined) env.GAUNTLET_S3_READ_SECRET = setup.read.readSecret;
  return { args, env };
}

/**
 * The flags and environment of `npm run gateway` in front of `bucket` on s3rver for `netuid`, listening
 * on `port`, as an operator gives them (the write secret in the environment).
 */
export function devGatewayCommand(setup: { readonly endpoint: string; readonly netuid: number; readonly s3Endpoint: string; readonly bucket: string; readonly port: number }): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: ['--network', setup.endpoint, '--netuid', String(setup.netuid), '--s3-endpoint', setup.s3Endpoint, '--bucket', setup.bucket, '--access-key-id', S3_WRITE.accessKeyId, '--port', String(setup.port)],
    env: { GAUNTLET_S3_SECRET: S3_WRITE.secretAccessKey },
  };
}

/** A port nothing listens on now (the OS's pick), for a command that must be told its port before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A volunteer's two keys as the page's test wallet holds them: their secret URIs and addresses. */
export interface DevVolunteer {
  readonly hotkeyUri: string;
  readonly coldkeyUri: string;
  readonly hotkey: string;
  readonly coldkey: string;
}

/** A fresh volunteer: a hotkey with no funds and a coldkey Alice sends `rao` (what pays its registration). */
export async function fundedVolunteer(dev: SubtensorDevChain, rao: bigint): Promise<DevVolunteer> {
  await cryptoWaitReady();
  const hotkeyUri = mnemonicGenerate();
  const coldkeyUri = mnemonicGenerate();
  const keys = await KeyringSigner.fromUris([hotkeyUri, coldkeyUri]);
  const [hotkey, coldkey] = (await keys.accounts()).map((a) => a.address) as [string, string];
  await fundFromAlice(dev, coldkey, rao);
  return { hotkeyUri, coldkeyUri, hotkey, coldkey };
}

/** Sends `rao` from Alice to `address` (`balances.transferKeepAlive`), as a faucet or a friend would fund a volunteer. */
export async function fundFromAlice(dev: SubtensorDevChain, address: string, rao: bigint): Promise<void> {
  await submitExtrinsic(dev.chain.api, dev.tx('balances', 'transferKeepAlive', address, rao), { kind: 'pair', pair: dev.keys.pair(dev.alice) });
}
