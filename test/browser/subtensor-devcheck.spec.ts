import { runConfigHash } from '../../src/core/run-config.ts';
import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bittensorTestWallet, injectTestWallet } from '../extension/inject.ts';
import { loadAllTokens } from '../../src/cli/data-files.ts';
import { NodeMiners } from '../../src/cli/devnet-miners.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { bucketReadCredentials, publishBucketCommitment } from '../../src/net/bucket-commitment.ts';
import { HotkeyBucketStorage } from '../../src/net/hotkey-buckets.ts';
import { formatTao, RAO_PER_TAO } from '../../src/net/registration.ts';
import { bucketDirectory } from '../../src/net/s3-storage.ts';
import type { ContributeStatus } from '../../src/ui/contribute/session.ts';
import type { DashboardModel } from '../../src/ui/dashboard/model.ts';
import { bucketName, readCredentials, S3_WRITE, startS3rver, type RunningS3rver } from '../unit/s3rver.ts';
import {
  createDevSubnet, devCheckRunConfig, devValidatorCommand, fundedVolunteer, startSubtensorDevChain, subtensorSpecPath, SUBTENSOR_SKIP_REASON, ValidatorProcess,
  type DevSubnet, type DevVolunteer, type SubtensorDevChain,
} from '../unit/subtensor-devchain.ts';

/**
 * DEVELOPER CHECK (opt-in, chain.md §7; issue #15 "the miner runs on subtensor", #21): a browser
 * miner on a real subtensor runtime (spec 293 under chopsticks, test/unit/subtensor-devchain.ts),
 * beside `npm run validator` as a child process and one Node miner (Bob's), with every bucket on
 * s3rver (CORS on, as a volunteer sets it on R2). Needs a raw spec outside this repository
 * (`SUBTENSOR_RAW_SPEC`, or the fixed path the README names); without one it is skipped and says so
 * in its title.
 *
 * The volunteer's wallet (the injected test extension) holds a fresh hotkey with no funds and a
 * fresh coldkey that Alice funds. Everything is done through the visible page: the subtensor network
 * form, the wallet, Register (the cost shown before anything is signed; refused while the hotkey
 * itself would pay with nothing; then paid by the coldkey under "Pay with"), Publish bucket
 * commitment, and Start (the run's config passed through the headless start option: the page cannot
 * fetch a run's config yet, issue #17). Then the validator must gather and score at least 2 windows
 * holding both miners, and the page must show the browser miner's published score.
 */
const specPath = subtensorSpecPath();
const reason = specPath === undefined ? ` — ${SUBTENSOR_SKIP_REASON}` : '';

/** Buckets on s3rver: 0 the validator's, 1 Bob's, 2 the browser miner's. */
const VALIDATOR_BUCKET = 0;
const BOB_BUCKET = 1;
const BROWSER_BUCKET = 2;
/** What Alice sends the volunteer's coldkey: plenty for a registration (0.1 TAO on this runtime). */
const COLDKEY_FUNDS = 10n * RAO_PER_TAO;

test.describe(`developer check: a browser miner registers, commits and mines on subtensor (chopsticks)${reason}`, () => {
  test.skip(specPath === undefined, SUBTENSOR_SKIP_REASON);

  let dir: string;
  let dev: SubtensorDevChain | undefined;
  let subnet: DevSubnet;
  let s3: RunningS3rver | undefined;
  let config: RunConfig;
  let validator: ValidatorProcess | undefined;
  let bob: NodeMiners | undefined;
  let volunteer: DevVolunteer;

  test.beforeAll(async () => {
    test.setTimeout(240_000);
    dir = mkdtempSync(join(tmpdir(), 'subtensor-browser-devcheck-'));
    dev = await startSubtensorDevChain(specPath!);
    subnet = await createDevSubnet(dev, ['//Bob']);
    s3 = await startS3rver(3, { browser: true });
    config = devCheckRunConfig(subnet.netuid);
    const runConfigPath = join(dir, 'run-config.json');
    writeFileSync(runConfigPath, JSON.stringify(config));

    volunteer = await fundedVolunteer(dev, COLDKEY_FUNDS);

    const bobMiner = subnet.miners[0]!;
    const read = readCredentials(BOB_BUCKET);
    await publishBucketCommitment(dev.chain, bobMiner.hotkey, subnet.netuid, bucketReadCredentials(bucketName(BOB_BUCKET), read.readKeyId, read.readSecret));
    // The validator publishes its own bucket commitment (`--read-key-id`): the page reads its checkpoint, aggregates, peer lists and scores through it.
    const command = devValidatorCommand({
      endpoint: dev.endpoint, netuid: subnet.netuid, s3Endpoint: s3.endpoint, bucket: bucketName(VALIDATOR_BUCKET), runConfigPath,
      statePath: join(dir, 'validator-state.json'), read: readCredentials(VALIDATOR_BUCKET), publishRun: true,
    });
    validator = new ValidatorProcess(command.args, command.env);
    const chain = dev.chain;
    bob = await NodeMiners.start({
      chain, config, signer: dev.keys, tokens: loadAllTokens().tokens, hotkeys: [bobMiner.hotkey], uids: [bobMiner.uid],
      storageOf: (hotkey) => new HotkeyBucketStorage({
        endpoint: s3!.endpoint, ownHotkey: hotkey, ownBucket: bucketName(BOB_BUCKET), writeCredentials: S3_WRITE, commitments: () => chain.commitments(subnet.netuid),
      }),
    });
    await validator.waitFor(/chain block time 1000 ms/, 120_000);
  });

  test.afterAll(async () => {
    await validator?.kill();
    await bob?.stop();
    await s3?.close();
    await dev?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The validator's own account of the run, kept beside the trace.
  // eslint-disable-next-line no-empty-pattern -- Playwright reads fixtures from a destructuring pattern; this hook needs none.
  test.afterEach(async ({}, testInfo) => {
    writeFileSync(testInfo.outputPath('validator.log'), validator?.lines.join('\n') ?? '');
    await testInfo.attach('validator-log', { path: testInfo.outputPath('validator.log'), contentType: 'text/plain' });
  });

  const status = (page: Page): Promise<ContributeStatus> => page.evaluate(() => window.gauntlet!.ui.contribute().session.status());
  const message = (page: Page) => page.locator('[data-role="message"]');

  test('the page registers through burnedRegister (cost shown, paid by the chosen account), publishes its bucket commitment and mines; the validator gathers and scores it beside a Node miner, and the page shows its score', async ({ page }) => {
    test.setTimeout(360_000);
    const chain = dev!.chain;
    await injectTestWallet(page, bittensorTestWallet([{ uri: volunteer.hotkeyUri, name: 'hotkey' }, { uri: volunteer.coldkeyUri, name: 'coldkey' }]));
    await page.goto('/#/contribute');

    // The subtensor network through the visible form: endpoint, netuid, the volunteer's own bucket with its keys and read token.
    await page.selectOption('[data-role="network"]', 'real');
    const read = readCredentials(BROWSER_BUCKET);
    await page.fill('[data-field="endpoint"]', dev!.endpoint);
    await page.fill('[data-field="netuid"]', String(subnet.netuid));
    await page.click('[data-role="own-bucket"] summary');
    await page.fill('[data-field="storageEndpoint"]', s3!.endpoint);
    await page.fill('[data-field="bucket"]', bucketName(BROWSER_BUCKET));
    await page.fill('[data-field="accessKeyId"]', S3_WRITE.accessKeyId);
    await page.fill('[data-field="secretAccessKey"]', S3_WRITE.secretAccessKey);
    await page.fill('[data-field="readKeyId"]', read.readKeyId);
    await page.fill('[data-field="readSecret"]', read.readSecret);
    await page.click('[data-action="connect-network"]');
    await expect.poll(async () => (await status(page)).network.kind, { timeout: 60_000 }).toBe('subtensor');

    // The wallet; the hotkey is not registered: the page says so, with what registering costs now.
    await page.click('[data-action="connect-extension"]');
    await expect(page.locator('[data-role="accounts"] option')).toHaveCount(3);
    await expect(page.locator('[data-role="pay-with"]')).toBeVisible();
    await page.selectOption('[data-role="accounts"]', volunteer.hotkey);
    const cost = await chain.registrationCost(subnet.netuid);
    expect(cost).toBeGreaterThan(0n);
    await expect(message(page)).toContainText('press Register');
    await expect(message(page)).toContainText(`Registering costs ${formatTao(cost)} now`);

    // Paid by the hotkey itself (the default), which holds nothing: refused before the wallet is asked.
    await page.click('[data-action="register"]');
    await expect(message(page)).toContainText(`holds only ${formatTao(0n)}`);
    expect(await page.evaluate(() => (window as unknown as { __gauntletTestWalletLog?: unknown[] }).__gauntletTestWalletLog?.length ?? 0)).toBe(0);

    // Paid by the funded coldkey: the cost and the balance are shown, the wallet signs, the uid comes back.
    await page.selectOption('[data-role="payer"]', volunteer.coldkey);
    await page.click('[data-action="register"]');
    await expect.poll(async () => (await status(page)).uid, { timeout: 90_000 }).not.toBeNull();
    const uid = (await status(page)).uid!;
    const log = (await status(page)).log;
    const confirmAt = log.findIndex((m) => m.startsWith(`Registering costs ${formatTao(cost)}, paid by`) && m.includes(`your balance is ${formatTao(COLDKEY_FUNDS)}`));
    const registeredAt = log.findIndex((m) => m.startsWith(`Registered: ${volunteer.hotkey} is uid ${uid} on netuid ${subnet.netuid}, block `));
    expect(confirmAt, log.join('\n')).toBeGreaterThanOrEqual(0);
    expect(registeredAt).toBeGreaterThan(confirmAt);
    await expect(page.locator('[data-role="registration"]')).toContainText(`uid ${uid} on netuid ${subnet.netuid}`);
    const metagraph = await chain.metagraph(subnet.netuid);
    expect(metagraph.hotkeys[uid]).toBe(volunteer.hotkey);
    // The payer became the hotkey's owner, as `burned_register` makes it.
    expect(metagraph.coldkeys[uid]).toBe(volunteer.coldkey);

    // The bucket commitment, signed by the hotkey in the wallet; other peers now find the bucket.
    await page.click('[data-action="publish-commitment"]');
    await expect(message(page)).toContainText(`Bucket commitment of ${volunteer.hotkey} published in block`, { timeout: 60_000 });
    expect(bucketDirectory(await chain.commitments(subnet.netuid)).get(volunteer.hotkey)?.bucket).toBe(bucketName(BROWSER_BUCKET));

    // Start on the wasm EP (SwiftShader would take minutes a window); the worker reads the run the validator published: its committed hash, then run.json.
    await page.evaluate(() => window.gauntlet!.ui.contribute().session.start('wasm'));
    await expect.poll(async () => (await status(page)).log.some((m) => m.startsWith('The chain makes a block every 1000 ms')), { timeout: 60_000 }).toBe(true);
    // The page now says which run it joined: the one the validator published on chain, not the page's own.
    await expect(page.locator('#run-summary')).toHaveAttribute('data-run-hash', runConfigHash(config));

    // The validator gathers and scores windows holding both the browser miner and Bob.
    const bobUid = subnet.miners[0]!.uid;
    const scoredWithBoth: number[] = [];
    let from = 0;
    try {
      while (scoredWithBoth.length < 2) {
        const gathered = await validator!.waitFor(/ validator-gathered /, 150_000, from);
        from = gathered.index + 1;
        const window = Number(/\[window (\d+)\]/.exec(gathered.line)?.[1]);
        if (![uid, bobUid].every((u) => (ValidatorProcess.payload(gathered.line).gathered as number[]).includes(u))) continue;
        await validator!.waitFor(new RegExp(`^\\[window ${window}\\] validator-scored `), 60_000, from);
        scoredWithBoth.push(window);
      }
    } catch (error) {
      console.error(`the page's log:\n${(await status(page)).log.slice(-30).join('\n')}`);
      throw error;
    }

    // The page shows the browser miner's score from the validator's published `scores-{window}`.
    const ownScore = async (): Promise<DashboardModel['scores']['peers'][number] | undefined> =>
      ((await page.evaluate(() => window.gauntlet!.ui.flush())).contribute as DashboardModel).scores.peers.find((p) => p.uid === uid);
    await expect.poll(async () => (await ownScore())?.mu ?? null, { timeout: 90_000 }).not.toBeNull();
    await expect(page.locator('.breakdown tr', { has: page.locator(`button[data-uid="${uid}"]`) })).toHaveCount(1);
    const uploaded = (await status(page)).uploadedWindows;
    expect(uploaded.length).toBeGreaterThanOrEqual(1);
    await page.evaluate(() => window.gauntlet!.ui.contribute().session.stop());

    const summary = validator!.lines.filter((l) => / validator-(gathered|scored|weights-set) |chain block time/.test(l)).join('\n');
    console.log(`developer check (browser miner uid ${uid}, Bob uid ${bobUid}); windows gathered and scored with both: ${scoredWithBoth.join(', ')}; the page uploaded windows ${uploaded.join(', ')}.\n${summary}`);
  });
});
