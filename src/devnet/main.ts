/**
 * `npm run devnet` / `npm start`: runs the devnet coordinator, serving the built app.
 * Options (flags or environment): --dir (GAUNTLET_DEVNET_DIR, default .devnet), --port
 * (GAUNTLET_DEVNET_PORT, default 4173), --host (127.0.0.1),
 * --app (dist), --owner (GAUNTLET_DEVNET_OWNER: the subnet owner's SS58 hotkey, default the public
 * development key `//Owner`; it holds the run's burn uid from the start, so no volunteer gets it),
 * --max-validators and --min-validator-stake (validator permits: by default every uid holds one;
 * with these, only the top stakers, who stake through `DevnetChain.addStake`), --faucet (turns that
 * stake faucet on; off by default), --validators ss58,ss58 (the run's validators as the subnet owner
 * names them, served at GET /api/chain/{netuid}/validators), --preset tiny|small|medium or --run-config FILE
 * (the run, default the tiny preset), --help.
 *
 * The coordinator publishes the run as its run document (GET /api/run, issue #17), which every peer
 * fetches and checks before it joins: writes need a registration on the run's netuid, and reads of a
 * window's gradients open when that window's put window closes (its blocks per window and put window
 * length). Blocks follow the run's block time; a state directory made for another block time is refused.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '../core/errors.ts';
import { runConfigHash, tinyRunConfig, validateRunConfig } from '../core/run-config.ts';
import { createRunDocument } from '../core/run-document.ts';
import { BadRequestError } from '../net/errors.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import { RUN_FLAG_OPTIONS, RUN_FLAGS_USAGE, runConfigFromFlags } from './run-flags.ts';
import { DevnetOwnerError, startDevnet } from './server.ts';

/** The development key that owns the devnet's subnet unless --owner names another hotkey. */
const DEFAULT_OWNER_URI = '//Owner';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: process.env.GAUNTLET_DEVNET_DIR ?? '.devnet' },
    port: { type: 'string', default: process.env.GAUNTLET_DEVNET_PORT ?? '4173' },
    host: { type: 'string', default: '127.0.0.1' },
    app: { type: 'string', default: 'dist' },
    owner: { type: 'string', default: process.env.GAUNTLET_DEVNET_OWNER },
    'max-validators': { type: 'string' },
    'min-validator-stake': { type: 'string' },
    faucet: { type: 'boolean', default: false },
    validators: { type: 'string', default: '' },
    preset: RUN_FLAG_OPTIONS.preset,
    'run-config': RUN_FLAG_OPTIONS['run-config'],
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help === true) {
  console.log(`npm run devnet -- [options]: the devnet coordinator (not a chain): blocks, registration, weights,
commitments and per-hotkey storage, serving the built app and the run document (GET /api/run).
  --dir DIR             state directory (default .devnet; GAUNTLET_DEVNET_DIR)
  --port N              port (default 4173; GAUNTLET_DEVNET_PORT)
  --host H              interface (default 127.0.0.1)
  --app DIR             the built app to serve (default dist)
  --owner SS58          the subnet owner's hotkey (default the development key //Owner)
  --validators A,B      the run's validators as the owner names them
  --max-validators N    validator permits for the top N stakers only (default: every uid)
  --min-validator-stake S   and only with at least S stake
  --faucet              turn on the stake faucet
${RUN_FLAGS_USAGE.split('\n').filter((line) => !line.includes('--run-hash')).join('\n')}`);
  process.exit(0);
}

let run: ReturnType<typeof tinyRunConfig>;
try {
  const fromFile = values['run-config'] !== undefined;
  const chosen = runConfigFromFlags(values) ?? tinyRunConfig();
  // A devnet's chain starts at block 0, so a preset's run starts at window 0 here: its first
  // validatorOffset + peerListWindowMargin windows are null rounds (src/core/clock.ts `isNullRoundOf`).
  // A --run-config file says for itself when its run starts.
  run = fromFile ? chosen : validateRunConfig({ ...chosen, window: { ...chosen.window, startWindow: 0 } });
} catch (error) {
  console.error(`devnet: ${errorMessage(error)}`);
  process.exit(2);
}
const runDocument = createRunDocument(run);

const port = Number(values.port);
const blockTimeMs = run.window.blockTimeMs;
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`devnet: bad --port '${values.port}'.`);
  process.exit(2);
}

const maxAllowedValidators = values['max-validators'] === undefined ? undefined : Number(values['max-validators']);
const minValidatorStake = values['min-validator-stake'] === undefined ? undefined : Number(values['min-validator-stake']);
if ((maxAllowedValidators !== undefined && !(Number.isInteger(maxAllowedValidators) && maxAllowedValidators >= 0)) || (minValidatorStake !== undefined && !(minValidatorStake >= 0))) {
  console.error(`devnet: bad --max-validators '${values['max-validators']}' or --min-validator-stake '${values['min-validator-stake']}'.`);
  process.exit(2);
}

const runValidators = values.validators.split(',').map((v) => v.trim()).filter((v) => v !== '');

// The run's netuid and burn uid are the subnet the owner holds.
const owner = values.owner ?? (await (await KeyringSigner.fromUris([DEFAULT_OWNER_URI])).accounts())[0]!.address;
const devnet = await startDevnet({
  dir: values.dir, port, host: values.host, blockTimeMs, appDir: values.app,
  run: runDocument,
  runValidators,
  faucet: values.faucet,
  subnetOwners: [{ netuid: run.netuid, hotkey: owner, uid: run.scoring.burnUid }],
  ...(maxAllowedValidators === undefined ? {} : { maxAllowedValidators }),
  ...(minValidatorStake === undefined ? {} : { minValidatorStake }),
}).catch((error: unknown) => {
  // A bad owner state or a --validators entry that is no SS58 address: say why and stop.
  if (!(error instanceof DevnetOwnerError) && !(error instanceof BadRequestError)) throw error;
  console.error(`devnet: ${error.message}`);
  process.exit(2);
});
if (devnet.state.state.blockTimeMs !== run.window.blockTimeMs) {
  // Peers time their windows by the run's block time; a state made for another run would put every upload outside its window.
  console.error(`devnet: the state in ${values.dir} has ${devnet.state.state.blockTimeMs} ms blocks but run ${run.runId} has ${run.window.blockTimeMs} ms blocks; use another --dir (or delete ${values.dir}) for this run.`);
  await devnet.close();
  process.exit(2);
}
const named = runValidators.length === 0 ? 'no validators named' : `validators ${runValidators.join(', ')}`;
console.log(`devnet coordinator (not a chain) listening on ${devnet.url} — run ${run.runId} (preset ${run.preset}, run hash ${runConfigHash(run)}), state in ${values.dir}, block time ${devnet.state.state.blockTimeMs} ms, netuid ${run.netuid} owned by ${owner} (uid ${run.scoring.burnUid}, the burn uid), ${named}, faucet ${values.faucet ? 'on' : 'off'}`);

const stop = (): void => {
  void devnet.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
