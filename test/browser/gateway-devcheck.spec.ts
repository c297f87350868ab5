import { expect, test, type Page } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bittensorTestWallet, injectTestWallet } from '../extension/inject.ts';
import type { RunConfig } from '../../src/core/config.ts';
import { RAO_PER_TAO } from '../../src/net/registration.ts';
import { S3Endpoint } from '../../src/net/s3-storage.ts';
import type { ContributeStatus } from '../../src/ui/contribute/session.ts';
import { bucketName, readCredentials, S3_WRITE, startS3rver, type RunningS3rver } from '../unit/s3rver.ts';
import {
  CommandProcess, createDevSubnet, devCheckRunConfig, devGatewayCommand, devValidatorCommand, freePort, fundedVolunteer, GatewayProcess, startSubtensorDevChain, subtensorSpecPath,
  SUBTENSOR_SKIP_REASON, ValidatorProcess,
  type DevSubnet, type DevVolunteer, type SubtensorDevChain,
} from '../unit/subtensor-devchain.ts';

/**
 * DEVELOPER CHECK (opt-in, chain.md §7; issue #21 "a volunteer on a real subnet with only a browser
 * and a wallet"): the subnet's storage gateway (src/gateway) in front of s3rver, on a real subtensor
 * runtime (spec 293 under chopsticks); the operator's `npm run validator` (a child process) publishes
 * the run and the gateway's URL beside it and reads the volunteer through the gateway. The volunteer
 * has the injected test wallet and nothing else: the network form gets the endpoint and the netuid,
 * every storage field stays empty; the page finds the gateway on chain, registers the hotkey
 * (`burnedRegister`, paid by the wallet's funded coldkey) and mines. The validator must gather and
 * score at least 3 windows holding the volunteer, and its uploads must be in the gateway's bucket
 * under its hotkey. Needs a raw spec outside this repository; without one it is skipped and says so.
 */
const specPath = subtensorSpecPath();
const reason = specPath === undefined ? ` — ${SUBTENSOR_SKIP_REASON}` : '';

/** Buckets on s3rver: 0 the validator's, 1 the gateway's. */
const VALIDATOR_BUCKET = 0;
const GATEWAY_BUCKET = 1;
const COLDKEY_FUNDS = 10n * RAO_PER_TAO;
const WINDOWS_TO_SCORE = 3;

test.describe(`developer check: a browser volunteer with only a wallet mines through the subnet's gateway on subtensor (chopsticks)${reason}`, () => {
  test.skip(specPath === undefined, SUBTENSOR_SKIP_REASON);

  let dir: string;
  let dev: SubtensorDevChain | undefined;
  let subnet: DevSubnet;
  let s3: RunningS3rver | undefined;
  let gateway: GatewayProcess | undefined;
  let gatewayUrl: string;
  let bob: CommandProcess | undefined;
  let config: RunConfig;
  let validator: ValidatorProcess | undefined;
  let volunteer: DevVolunteer;

  test.beforeAll(async () => {
    test.setTimeout(240_000);
    dir = mkdtempSync(join(tmpdir(), 'gateway-devcheck-'));
    dev = await startSubtensorDevChain(specPath!);
    subnet = await createDevSubnet(dev, ['//Bob']);
    s3 = await startS3rver(2, { browser: true });
    config = devCheckRunConfig(subnet.netuid);
    const runConfigPath = join(dir, 'run-config.json');
    writeFileSync(runConfigPath, JSON.stringify(config));

    volunteer = await fundedVolunteer(dev, COLDKEY_FUNDS);

    // The operator: its validator publishes the run and the gateway's URL; its gateway (npm run gateway) then reads that run and serves.
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    const command = devValidatorCommand({
      endpoint: dev.endpoint, netuid: subnet.netuid, s3Endpoint: s3.endpoint, bucket: bucketName(VALIDATOR_BUCKET), runConfigPath,
      statePath: join(dir, 'validator-state.json'), read: readCredentials(VALIDATOR_BUCKET), publishRun: true, gatewayUrl,
    });
    validator = new ValidatorProcess(command.args, command.env);
    await validator.waitFor(/^run [0-9a-f]{64} published: .* its hash and the gateway URL beside the bucket commitment/, 120_000);
    const gatewayCommand = devGatewayCommand({ endpoint: dev.endpoint, netuid: subnet.netuid, s3Endpoint: s3.endpoint, bucket: bucketName(GATEWAY_BUCKET), port });
    gateway = new GatewayProcess(gatewayCommand.args, gatewayCommand.env);
    await gateway.waitFor(/^gateway for netuid \d+ \(run [0-9a-f]{16}…\) listening on /, 60_000);
    await validator.waitFor(/chain block time 1000 ms/, 120_000);
    // Bob mines headless through the gateway: no bucket flags.
    bob = new CommandProcess('src/cli/miners.ts', ['--network', dev.endpoint, '--netuid', String(subnet.netuid)], { GAUNTLET_MINER_URI: '//Bob//miner' });
    await bob.waitFor(/honest miner \(uid \d+\) on netuid \d+ \(subtensor .*, the subnet's gateway http/, 120_000);
  });

  test.afterAll(async () => {
    await validator?.kill();
    await bob?.kill();
    await gateway?.kill();
    await s3?.close();
    await dev?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // eslint-disable-next-line no-empty-pattern -- Playwright reads fixtures from a destructuring pattern; this hook needs none.
  test.afterEach(async ({}, testInfo) => {
    for (const [name, process] of [['validator', validator], ['gateway', gateway], ['bob-miner', bob]] as const) {
      writeFileSync(testInfo.outputPath(`${name}.log`), process?.lines.join('\n') ?? '');
      await testInfo.attach(`${name}-log`, { path: testInfo.outputPath(`${name}.log`), contentType: 'text/plain' });
    }
  });

  const status = (page: Page): Promise<ContributeStatus> => page.evaluate(() => window.gauntlet!.ui.contribute().session.status());
  const message = (page: Page) => page.locator('[data-role="message"]');

  test('the page finds the gateway on chain, registers from the wallet and mines through the gateway with no storage fields; the validator scores it through the gateway', async ({ page }) => {
    test.setTimeout(420_000);
    const chain = dev!.chain;
    await injectTestWallet(page, bittensorTestWallet([{ uri: volunteer.hotkeyUri, name: 'hotkey' }, { uri: volunteer.coldkeyUri, name: 'coldkey' }]));
    await page.goto('/#/contribute');

    // The network: endpoint and netuid only; every storage field stays empty.
    await page.selectOption('[data-role="network"]', 'real');
    await page.fill('[data-field="endpoint"]', dev!.endpoint);
    await page.fill('[data-field="netuid"]', String(subnet.netuid));
    await expect(page.locator('[data-role="storage-hint"]')).toBeVisible();
    await page.click('[data-action="connect-network"]');
    await expect.poll(async () => (await status(page)).network.kind, { timeout: 60_000 }).toBe('subtensor');
    const network = (await status(page)).network;
    expect(network.kind === 'subtensor' && network.storage).toEqual({ kind: 'gateway', url: gatewayUrl });

    // Connect the wallet, pick the hotkey, register it paid by the funded coldkey.
    await page.click('[data-action="connect-extension"]');
    await expect(page.locator('[data-role="accounts"] option')).toHaveCount(3);
    await page.selectOption('[data-role="accounts"]', volunteer.hotkey);
    await expect(message(page)).toContainText('press Register');
    await page.selectOption('[data-role="payer"]', volunteer.coldkey);
    await page.click('[data-action="register"]');
    await expect.poll(async () => (await status(page)).uid, { timeout: 90_000 }).not.toBeNull();
    const uid = (await status(page)).uid!;
    expect((await chain.metagraph(subnet.netuid)).hotkeys[uid]).toBe(volunteer.hotkey);

    // No bucket commitment is needed through the gateway; Start (wasm EP: SwiftShader would take minutes a window).
    await page.evaluate(() => window.gauntlet!.ui.contribute().session.start('wasm'));

    const bobUid = subnet.miners[0]!.uid;
    const scored: number[] = [];
    let from = 0;
    try {
      while (scored.length < WINDOWS_TO_SCORE) {
        const gathered = await validator!.waitFor(/ validator-gathered /, 150_000, from);
        from = gathered.index + 1;
        const window = Number(/\[window (\d+)\]/.exec(gathered.line)?.[1]);
        if (![uid, bobUid].every((u) => (ValidatorProcess.payload(gathered.line).gathered as number[]).includes(u))) continue;
        await validator!.waitFor(new RegExp(`^\\[window ${window}\\] validator-scored `), 60_000, from);
        scored.push(window);
      }
    } catch (error) {
      console.error(`the page's log:\n${(await status(page)).log.slice(-30).join('\n')}`);
      throw error;
    }
    const log = (await status(page)).log;
    expect(log.some((m) => m.includes("submission stored through the subnet's gateway"))).toBe(true);
    await page.evaluate(() => window.gauntlet!.ui.contribute().session.stop());

    // The uploads are in the gateway's bucket, under each volunteer's hotkey, each with its detached signature.
    const endpoint = new S3Endpoint({ endpoint: s3!.endpoint });
    for (const [hotkey, u] of [[volunteer.hotkey, uid], [subnet.miners[0]!.hotkey, bobUid]] as const) {
      const stored = (await endpoint.list(bucketName(GATEWAY_BUCKET), `${hotkey}/gradient-`, { credentials: S3_WRITE })).map((o) => o.key);
      for (const window of scored) expect(stored).toEqual(expect.arrayContaining([`${hotkey}/gradient-${window}-${u}`, `${hotkey}/gradient-${window}-${u}.sig`]));
    }
    console.log(`developer check (browser volunteer uid ${uid}, headless Bob uid ${bobUid}, both through npm run gateway): windows gathered and scored with both: ${scored.join(', ')}.\n` +
      [...gateway!.lines.filter((l) => !l.startsWith('gateway: stored ')).slice(0, 6), ...validator!.lines.filter((l) => / validator-(gathered|scored|weights-set) |gateway|chain block time/.test(l))].join('\n'));
  });
});
