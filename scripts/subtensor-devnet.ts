/**
 * `npm run devnet:subtensor -- [--miners K] [--port P]` (developer tool, issue #15): a subtensor
 * subnet on this machine to run the real-network commands against. It boots the subtensor runtime
 * of a raw spec kept outside the repository (`SUBTENSOR_RAW_SPEC`, or the fixed path the README
 * names; third-party code, never committed) under chopsticks with its clock on the wall clock, S3
 * buckets on s3rver, a subnet set up as an operator sets one up (owner, a staked validator hotkey
 * under the owner's coldkey, K miners with their own coldkeys and bucket commitments), and K honest
 * Node miners mining on it. It writes the run's config and prints the exact `npm run validator` and
 * `npm run evaluate` commands (and their environment) that validate this subnet; Ctrl-C stops it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAllTokens } from '../src/cli/data-files.ts';
import { NodeMiners } from '../src/cli/devnet-miners.ts';
import { bucketReadCredentials, publishBucketCommitment } from '../src/net/bucket-commitment.ts';
import { createRunDocument } from '../src/core/run-document.ts';
import { publishRun } from '../src/peer/published-run.ts';
import { HotkeyBucketStorage } from '../src/net/hotkey-buckets.ts';
import { bucketName, readCredentials, S3_WRITE, startS3rver } from '../test/unit/s3rver.ts';
import { createDevSubnet, devCheckRunConfig, startSubtensorDevChain, subtensorSpecPath, SUBTENSOR_SKIP_REASON } from '../test/unit/subtensor-devchain.ts';

const COLDKEYS = ['//Bob', '//Charlie', '//Dave', '//Eve', '//Ferdie'];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { miners: { type: 'string', default: '2' }, port: { type: 'string', default: '9944' } } });
  const minerCount = Number(values.miners);
  if (!Number.isInteger(minerCount) || minerCount < 0 || minerCount > COLDKEYS.length) throw new Error(`--miners must be 0…${COLDKEYS.length}.`);
  const spec = subtensorSpecPath();
  if (spec === undefined) throw new Error(SUBTENSOR_SKIP_REASON.replace('SKIPPED: ', ''));
  const dir = mkdtempSync(join(tmpdir(), 'subtensor-devnet-'));
  console.log(`booting the subtensor runtime of ${spec}…`);
  const dev = await startSubtensorDevChain(spec, { port: Number(values.port) });
  const subnet = await createDevSubnet(dev, COLDKEYS.slice(0, minerCount));
  const s3 = await startS3rver(1 + minerCount, { browser: true });
  const hotkeys = [subnet.validator.hotkey, ...subnet.miners.map((m) => m.hotkey)];
  for (const [i, hotkey] of hotkeys.entries()) {
    const { readKeyId, readSecret } = readCredentials(i);
    await publishBucketCommitment(dev.chain, hotkey, subnet.netuid, bucketReadCredentials(bucketName(i), readKeyId, readSecret));
  }
  const config = devCheckRunConfig(subnet.netuid);
  const configPath = join(dir, 'run-config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  // The operator's part: the run in the validator's bucket, its hash beside the validator's bucket commitment.
  const validatorRead = readCredentials(0);
  const run = await publishRun(dev.chain, new HotkeyBucketStorage({
    endpoint: s3.endpoint, ownHotkey: subnet.validator.hotkey, ownBucket: bucketName(0), writeCredentials: S3_WRITE, commitments: () => dev.chain.commitments(subnet.netuid),
  }), subnet.validator.hotkey, createRunDocument(config), bucketReadCredentials(bucketName(0), validatorRead.readKeyId, validatorRead.readSecret));
  const miners = await NodeMiners.start({
    chain: dev.chain, config, signer: dev.keys, tokens: loadAllTokens().tokens,
    hotkeys: subnet.miners.map((m) => m.hotkey), uids: subnet.miners.map((m) => m.uid),
    storageOf: (hotkey) => new HotkeyBucketStorage({
      endpoint: s3.endpoint, ownHotkey: hotkey, ownBucket: bucketName(hotkeys.indexOf(hotkey)), writeCredentials: S3_WRITE,
      commitments: () => dev.chain.commitments(subnet.netuid),
    }),
    onEvent: (event) => {
      if (event.kind === 'miner-uploaded') console.log(`[window ${event.window}] miner uid ${event.uid} uploaded`);
      if (event.kind === 'miner-error') console.log(`[window ${event.window}] miner uid ${event.uid} ${event.stage}: ${event.message}`);
    },
  });
  const flags = `--network ${dev.endpoint} --netuid ${subnet.netuid} --s3-endpoint ${s3.endpoint} --bucket ${bucketName(0)} --access-key-id ${S3_WRITE.accessKeyId}`;
  console.log(`
subnet ${subnet.netuid} on ${dev.endpoint} (${dev.slotMs} ms blocks): owner uid 0 (the burn uid), validator uid ${subnet.validator.uid}, miners ${subnet.miners.map((m) => `uid ${m.uid}`).join(', ') || 'none'} mining here.
The validator's hotkey is the development key //Alice//validator (staked, under the owner's coldkey); the run ${run.document.runHash}
(${configPath}) is published as run.json in its bucket, with the hash beside its bucket commitment. Validate it with:

  GAUNTLET_VALIDATOR_URI=//Alice//validator GAUNTLET_S3_SECRET=${S3_WRITE.secretAccessKey} npm run validator -- ${flags} --state ${join(dir, 'validator-state.json')}
  GAUNTLET_VALIDATOR_URI=//Alice//validator GAUNTLET_S3_SECRET=${S3_WRITE.secretAccessKey} npm run evaluate -- ${flags} --windows 3 --out reports/evaluate-subtensor

Ctrl-C stops the chain, the buckets and the miners.`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  console.log('stopping…');
  await miners.stop();
  await s3.close();
  await dev.close();
  rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
