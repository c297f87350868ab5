/**
 * `npm run devnet` / `npm start`: runs the devnet coordinator, serving the built app.
 * Options (flags or environment): --dir (GAUNTLET_DEVNET_DIR, default .devnet), --port
 * (GAUNTLET_DEVNET_PORT, default 4173), --host (127.0.0.1), --block-time-ms (1000, new state only),
 * --app (dist), --owner (GAUNTLET_DEVNET_OWNER: the subnet owner's SS58 hotkey, default the public
 * development key `//Owner`; it holds the run's burn uid from the start, so no volunteer gets it),
 * --max-validators and --min-validator-stake (validator permits: by default every uid holds one;
 * with these, only the top stakers, who stake through `DevnetChain.addStake`), --faucet (turns that
 * stake faucet on; off by default), --validators ss58,ss58 (the run's validators as the subnet owner
 * names them, served at GET /api/chain/{netuid}/validators).
 *
 * The coordinator serves the tiny preset's run: writes need a registration on its netuid, and reads
 * of a window's gradients open when that window's put window closes (its blocks per window and put
 * window length).
 */
import { parseArgs } from 'node:util';
import { tinyRunConfig } from '../core/run-config.ts';
import { BadRequestError } from '../net/errors.ts';
import { KeyringSigner } from '../net/keyring-signer.ts';
import { DevnetOwnerError, startDevnet } from './server.ts';

/** The development key that owns the devnet's subnet unless --owner names another hotkey. */
const DEFAULT_OWNER_URI = '//Owner';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: process.env.GAUNTLET_DEVNET_DIR ?? '.devnet' },
    port: { type: 'string', default: process.env.GAUNTLET_DEVNET_PORT ?? '4173' },
    host: { type: 'string', default: '127.0.0.1' },
    'block-time-ms': { type: 'string', default: '1000' },
    app: { type: 'string', default: 'dist' },
    owner: { type: 'string', default: process.env.GAUNTLET_DEVNET_OWNER },
    'max-validators': { type: 'string' },
    'min-validator-stake': { type: 'string' },
    faucet: { type: 'boolean', default: false },
    validators: { type: 'string', default: '' },
  },
});

const port = Number(values.port);
const blockTimeMs = Number(values['block-time-ms']);
if (!Number.isInteger(port) || port < 0 || port > 65_535 || !Number.isFinite(blockTimeMs) || blockTimeMs <= 0) {
  console.error(`devnet: bad --port '${values.port}' or --block-time-ms '${values['block-time-ms']}'.`);
  process.exit(2);
}

const maxAllowedValidators = values['max-validators'] === undefined ? undefined : Number(values['max-validators']);
const minValidatorStake = values['min-validator-stake'] === undefined ? undefined : Number(values['min-validator-stake']);
if ((maxAllowedValidators !== undefined && !(Number.isInteger(maxAllowedValidators) && maxAllowedValidators >= 0)) || (minValidatorStake !== undefined && !(minValidatorStake >= 0))) {
  console.error(`devnet: bad --max-validators '${values['max-validators']}' or --min-validator-stake '${values['min-validator-stake']}'.`);
  process.exit(2);
}

const runValidators = values.validators.split(',').map((v) => v.trim()).filter((v) => v !== '');

// The app runs the tiny preset: its netuid and burn uid are the subnet the owner holds.
const run = tinyRunConfig();
const owner = values.owner ?? (await (await KeyringSigner.fromUris([DEFAULT_OWNER_URI])).accounts())[0]!.address;
const devnet = await startDevnet({
  dir: values.dir, port, host: values.host, blockTimeMs, appDir: values.app,
  runNetuid: run.netuid,
  window: { blocksPerWindow: run.window.blocksPerWindow, putWindowMs: run.window.putWindowMs },
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
const named = runValidators.length === 0 ? 'no validators named' : `validators ${runValidators.join(', ')}`;
console.log(`devnet coordinator (not a chain) listening on ${devnet.url} — state in ${values.dir}, block time ${devnet.state.state.blockTimeMs} ms, netuid ${run.netuid} owned by ${owner} (uid ${run.scoring.burnUid}, the burn uid), ${named}, faucet ${values.faucet ? 'on' : 'off'}`);

const stop = (): void => {
  void devnet.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
