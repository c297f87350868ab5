/**
 * `npm run devnet` / `npm start`: runs the devnet coordinator, serving the built app.
 * Options (flags or environment): --dir (GAUNTLET_DEVNET_DIR, default .devnet), --port
 * (GAUNTLET_DEVNET_PORT, default 4173), --host (127.0.0.1), --block-time-ms (1000, new state only),
 * --app (dist), --owner (GAUNTLET_DEVNET_OWNER: the subnet owner's SS58 hotkey, default the public
 * development key `//Owner`; it holds the run's burn uid from the start, so no volunteer gets it).
 */
import { parseArgs } from 'node:util';
import { tinyRunConfig } from '../core/run-config.ts';
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
  },
});

const port = Number(values.port);
const blockTimeMs = Number(values['block-time-ms']);
if (!Number.isInteger(port) || port < 0 || port > 65_535 || !Number.isFinite(blockTimeMs) || blockTimeMs <= 0) {
  console.error(`devnet: bad --port '${values.port}' or --block-time-ms '${values['block-time-ms']}'.`);
  process.exit(2);
}

// The app runs the tiny preset: its netuid and burn uid are the subnet the owner holds.
const run = tinyRunConfig();
const owner = values.owner ?? (await (await KeyringSigner.fromUris([DEFAULT_OWNER_URI])).accounts())[0]!.address;
const devnet = await startDevnet({
  dir: values.dir, port, host: values.host, blockTimeMs, appDir: values.app,
  subnetOwners: [{ netuid: run.netuid, hotkey: owner, uid: run.scoring.burnUid }],
}).catch((error: unknown) => {
  if (!(error instanceof DevnetOwnerError)) throw error;
  console.error(`devnet: ${error.message}`);
  process.exit(2);
});
console.log(`devnet coordinator (not a chain) listening on ${devnet.url} — state in ${values.dir}, block time ${devnet.state.state.blockTimeMs} ms, netuid ${run.netuid} owned by ${owner} (uid ${run.scoring.burnUid}, the burn uid)`);

const stop = (): void => {
  void devnet.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
