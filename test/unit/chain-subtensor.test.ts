/**
 * DEVELOPER CHECK (opt-in, chain.md §7; issue #15): the whole subtensor flow on a real subtensor
 * runtime (spec 293) booted by chopsticks (test/unit/subtensor-devchain.ts), with S3 buckets on
 * s3rver. Needs a raw spec outside this repository (`SUBTENSOR_RAW_SPEC`, or the fixed path the
 * README names); without one every test here is skipped and says so in its name.
 *
 * What it runs: the operator's subnet setup (network rate limit lifted, subnet registered and
 * started, validator staked under the owner's coldkey, two miners registered by their own
 * coldkeys); bucket commitments; then `npm run validator -- --network ws://…` as a child process
 * beside two miners for several windows (one in this process, one `npm run miner -- --network ws://…`
 * as a child process with its own hotkey, as a volunteer with a GPU machine runs it): plain weights read back from the chain, then
 * commit-reveal switched on, a commit, the validator process killed before the reveal and started
 * again, and the revealed weights read back from the chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import { NodeMiners } from '../../src/cli/devnet-miners.ts';
import { bucketReadCredentials, publishBucketCommitment } from '../../src/net/bucket-commitment.ts';
import { ChainError } from '../../src/net/errors.ts';
import { HotkeyBucketStorage } from '../../src/net/hotkey-buckets.ts';
import { bucketDirectory } from '../../src/net/s3-storage.ts';
import { SubtensorChain } from '../../src/net/subtensor-chain.ts';
import { runConfigHash } from '../../src/core/run-config.ts';
import { readPublishedRun } from '../../src/peer/published-run.ts';
import { signPayloadWithKeys } from '../../src/cli/evaluate-wallet.ts';
import { pageExtrinsicAuthority } from '../../src/workers/page-signer.ts';
import { bucketName, readCredentials, S3_WRITE, startS3rver, type RunningS3rver } from './s3rver.ts';
import { createDevSubnet, devCheckRunConfig, startSubtensorDevChain, subtensorSpecPath, SUBTENSOR_SKIP_REASON, devMinerCommand, devValidatorCommand, CommandProcess, ValidatorProcess, type DevSubnet, type SubtensorDevChain } from './subtensor-devchain.ts';

const specPath = subtensorSpecPath();
const reason = specPath === undefined ? ` — ${SUBTENSOR_SKIP_REASON}` : '';
if (specPath === undefined) console.warn(`chain-subtensor.test.ts: developer check${reason}.`);

/** Bucket 0 is the validator's, bucket 1 + i miner i's. */
const VALIDATOR_BUCKET = 0;

describe.skipIf(specPath === undefined)(`developer check: subtensor end to end on chopsticks${reason}`, () => {
  let dev: SubtensorDevChain;
  let subnet: DevSubnet;
  let s3: RunningS3rver;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'subtensor-devcheck-'));
    dev = await startSubtensorDevChain(specPath!);
    subnet = await createDevSubnet(dev, ['//Bob', '//Charlie']);
    s3 = await startS3rver(1 + subnet.miners.length);
  }, 300_000);

  afterAll(async () => {
    await s3?.close();
    await dev?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('detects subtensor from metadata, reads the metagraph, and heads carry the chain\'s timestamp', async () => {
    expect(dev.chain.features.setWeights).toBe(true);
    expect(dev.chain.features.commitWeights).toBe(true);
    expect(dev.chain.features.commitments).toBe(true);
    const head = await dev.chain.currentBlock();
    expect(head.timestampMs).toBe(await dev.chain.blockTimestamp(head.number));
    // The harness keeps the chain on the wall clock, as a real chain is.
    expect(Math.abs(head.timestampMs - Date.now())).toBeLessThan(60_000);
    const mg = await dev.chain.metagraph(subnet.netuid);
    expect(mg.hotkeys).toEqual([subnet.ownerHotkey, subnet.validator.hotkey, ...subnet.miners.map((m) => m.hotkey)]);
    expect(mg.validatorPermit[subnet.validator.uid]).toBe(true);
    expect(await dev.chain.runValidators(subnet.netuid)).toContain(subnet.validator.hotkey);
    expect((await dev.chain.hyperparams(subnet.netuid)).blockTimeMs).toBe(dev.slotMs);
  });

  it('publishes every peer\'s bucket commitment (Templar\'s layout), read back as the bucket directory; nothing is sent when unchanged', async () => {
    const hotkeys = [subnet.validator.hotkey, ...subnet.miners.map((m) => m.hotkey)];
    for (const [i, hotkey] of hotkeys.entries()) {
      const { readKeyId, readSecret } = readCredentials(i);
      expect((await publishBucketCommitment(dev.chain, hotkey, subnet.netuid, bucketReadCredentials(bucketName(i), readKeyId, readSecret))).kind).toBe('published');
    }
    const directory = bucketDirectory(await dev.chain.commitments(subnet.netuid));
    for (const [i, hotkey] of hotkeys.entries()) expect(directory.get(hotkey)?.bucket).toBe(bucketName(i));
    const { readKeyId, readSecret } = readCredentials(0);
    expect((await publishBucketCommitment(dev.chain, subnet.validator.hotkey, subnet.netuid, bucketReadCredentials(bucketName(0), readKeyId, readSecret))).kind).toBe('unchanged');
  });

  it('sets weights signed through a wallet\'s payload signer (as the page\'s validator signs them)', async () => {
    const { keys } = dev;
    const viaWallet = await SubtensorChain.connect(dev.endpoint, pageExtrinsicAuthority((payload) => Promise.resolve(signPayloadWithKeys(keys, structuredClone(payload), 1))));
    try {
      const result = await viaWallet.setWeights(subnet.validator.hotkey, subnet.netuid, [subnet.miners[0]!.uid], [1], 0n);
      expect(result.method).toBe('setWeights');
    } finally {
      await viaWallet.close();
    }
  });

  it('npm run validator scores windows of two miners and sets weights; with commit-reveal on it commits, is killed, restarts and reveals in the reveal blocks', async () => {
    const config = devCheckRunConfig(subnet.netuid);
    const configPath = join(dir, 'run-config.json');
    writeFileSync(configPath, JSON.stringify(config));
    const { tokens } = loadAllTokens();
    // Miner 0 in this process, miner 1 as the headless miner command with its own hotkey and bucket.
    const miners = await NodeMiners.start({
      chain: dev.chain, config, signer: dev.keys, tokens,
      hotkeys: [subnet.miners[0]!.hotkey], uids: [subnet.miners[0]!.uid],
      storageOf: (hotkey) => new HotkeyBucketStorage({
        endpoint: s3.endpoint, ownHotkey: hotkey, ownBucket: bucketName(1), writeCredentials: S3_WRITE,
        commitments: () => dev.chain.commitments(subnet.netuid),
      }),
    });
    const { args, env } = devValidatorCommand({
      endpoint: dev.endpoint, netuid: subnet.netuid, s3Endpoint: s3.endpoint, bucket: bucketName(VALIDATOR_BUCKET), runConfigPath: configPath, statePath: join(dir, 'validator-state.json'),
      read: readCredentials(VALIDATOR_BUCKET), publishRun: true,
    });
    let validator = new ValidatorProcess(args, env);
    let miner: CommandProcess | undefined;
    const summary = (process: ValidatorProcess): string => process.lines.filter((l) => / validator-(gathered|scored|weights-set|weights-committed|weights-expired|caught-up) |resumed|chain block time/.test(l)).join('\n');
    let firstRun: string;
    try {
      await validator.waitFor(/chain block time 1000 ms: a window is 10000 ms/, 120_000);
      // The run is published now: the headless miner can read it.
      const minerSetup = { endpoint: dev.endpoint, netuid: subnet.netuid, s3Endpoint: s3.endpoint, uri: '//Charlie//miner' };
      // A bucket that its commitment does not name would be unreadable to every validator: refused before any work.
      const wrongBucket = devMinerCommand({ ...minerSetup, bucket: bucketName(1) });
      const refused = new CommandProcess('src/cli/miners.ts', wrongBucket.args, wrongBucket.env);
      const bucketRefusal = await refused.waitFor(/holds bucket \S+ for hotkey/, 120_000).finally(() => refused.kill());
      expect(bucketRefusal.line).toContain(`holds bucket ${bucketName(2)} for hotkey ${subnet.miners[1]!.hotkey}, not bucket ${bucketName(1)}`);
      const minerCommand = devMinerCommand({ ...minerSetup, bucket: bucketName(2), read: readCredentials(2) });
      miner = new CommandProcess('src/cli/miners.ts', minerCommand.args, minerCommand.env);
      // The operator's validator published the run: a peer finds it through the chain and the validator's bucket,
      // and a validator pinned to another run refuses to start, naming both hashes.
      const reader = new HotkeyBucketStorage({
        endpoint: s3.endpoint, ownHotkey: subnet.miners[0]!.hotkey, ownBucket: bucketName(1), writeCredentials: S3_WRITE, commitments: () => dev.chain.commitments(subnet.netuid),
      });
      expect((await readPublishedRun(dev.chain, reader, subnet.netuid)).document.config).toEqual(config);
      const other = runConfigHash({ ...config, runId: 'another-run' });
      const pinnedElsewhere = new ValidatorProcess([...args.filter((a) => a !== '--publish-run'), '--run-hash', other], env);
      const refusal = await pinnedElsewhere.waitFor(/expected run hash/, 120_000).finally(() => pinnedElsewhere.kill());
      expect(refusal.line).toContain(`expected run hash ${other}, got ${runConfigHash(config)}`);
      // Two scored windows in which both miners were gathered, then plain weights that land.
      let scoredWithBoth = 0;
      let from = 0;
      while (scoredWithBoth < 2) {
        const { line, index } = await validator.waitFor(/validator-gathered /, 180_000, from);
        from = index + 1;
        const gathered = ValidatorProcess.payload(line).gathered as number[];
        if (subnet.miners.every((m) => gathered.includes(m.uid))) scoredWithBoth += 1;
      }
      expect(miner.lines.some((l) => l.includes('"kind":"miner-uploaded"'))).toBe(true);
      const set = await validator.waitFor(/validator-weights-set .*"method":"setWeights"/, 120_000);
      const setPayload = ValidatorProcess.payload(set.line);
      const row = (await dev.chain.api.query.subtensorModule!.weights!(subnet.netuid, subnet.validator.uid)).toJSON() as [number, number][];
      expect(row.length).toBeGreaterThan(0);
      expect(row.map(([uid]) => uid)).toEqual(expect.arrayContaining(setPayload.uids as number[]));

      // Commit-reveal on: the next weight window commits; the process dies before the reveal. Epochs of
      // 31 blocks (31 s here): a reveal epoch long enough for the restart, as production's 361 × 12 s are.
      await dev.sudo(dev.tx('adminUtils', 'sudoSetTempo', subnet.netuid, 30));
      await dev.sudo(dev.tx('adminUtils', 'sudoSetCommitRevealWeightsEnabled', subnet.netuid, true));
      const committed = await validator.waitFor(/validator-weights-committed /, 180_000, set.index + 1);
      const commit = ValidatorProcess.payload(committed.line);
      await validator.waitFor(/validator-state-saved /, 30_000, committed.index + 1);
      const headAtKill = (await dev.chain.currentBlock()).number;
      await validator.kill();
      expect(headAtKill).toBeLessThan(commit.firstRevealBlock as number);
      firstRun = summary(validator);

      validator = new ValidatorProcess(args, env);
      await validator.waitFor(/1 weight commit\(s\) to reveal/, 120_000);
      const revealed = await validator.waitFor(/validator-weights-(set .*"method":"revealWeights"|expired)/, 180_000);
      expect(revealed.line).toContain('validator-weights-set');
      const reveal = ValidatorProcess.payload(revealed.line);
      expect(revealed.line).toContain(`[window ${String(committed.line.match(/\[window (\d+)\]/)?.[1])}]`);
      expect(reveal.block).toBeGreaterThanOrEqual(commit.firstRevealBlock as number);
      expect(reveal.block).toBeLessThanOrEqual(commit.lastRevealBlock as number);
      const landed = (await dev.chain.api.query.subtensorModule!.weights!(subnet.netuid, subnet.validator.uid)).toJSON() as [number, number][];
      expect(landed).toEqual((commit.uids as number[]).map((uid, i) => [uid, (commit.values as number[])[i]]));
      console.log(`developer check, the validator until killed at block ${headAtKill}:\n${firstRun}\n\nafter its restart:\n${summary(validator)}`);
    } catch (error) {
      console.error(`the validator's last lines:\n${validator.lines.slice(-40).join('\n')}\n\nthe miner command's:\n${miner?.lines.slice(-20).join('\n') ?? ''}`);
      throw error;
    } finally {
      await validator.kill();
      await miner?.kill();
      await miners.stop();
    }
  }, 900_000);

  it('a reveal before its reveal blocks is refused by the runtime', async () => {
    // The validator process killed at the end of the last check may have left a signed transaction of the same hotkey in
    // the pool: three blocks include it, so this commit is not refused as a stale nonce (the pool's 'invalid').
    const head = (await dev.chain.currentBlock()).number;
    while ((await dev.chain.currentBlock()).number < head + 3) await new Promise((r) => setTimeout(r, 300));
    const result = await dev.chain.setWeights(subnet.validator.hotkey, subnet.netuid, [subnet.miners[1]!.uid], [1], 0n);
    if (result.method !== 'commitWeights') throw new Error(`commit-reveal is on: expected a commit, got ${result.method}`);
    await expect(dev.chain.revealWeights(result.commit)).rejects.toThrow(ChainError);
    await expect(dev.chain.revealWeights(result.commit)).rejects.toThrow(/RevealTooEarly/);
  });
});
