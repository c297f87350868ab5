// `npm start` (after the data and the app are built): a whole local network in three processes.
// The devnet coordinator serves the app and the run on http://127.0.0.1:4173; once it listens, a
// Node validator (`npm run validator`, the development key //Alice) and a few honest Node miners
// (`npm run miners`, //LocalMiner0…) join it, so a volunteer who opens the page competes, is
// gathered, evaluated, rated and paid weights without starting anything else (an OpenSkill match
// needs at least two evaluated peers; alone, a volunteer could never be rated). The validator keeps
// its state inside the devnet's directory: deleting `.devnet/` resets the network.
// The subnet owner names that validator as the run's (--validators, unless given): peers then
// trust its peer lists, aggregates and checkpoints.
// Flags: --no-validator (no validator), --miners N (honest miners, default 2; 0 for none),
// --help; anything else is passed to the devnet (`npm run devnet -- --help`: --preset, --run-config, --port, …).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

/** The development key of the Node validator this script starts. */
const VALIDATOR_URI = '//Alice';
const DEFAULT_MINERS = 2;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`npm start -- [--no-validator] [--miners N] [devnet options]
  A local network: the devnet coordinator serving the app and the run, a Node validator and N honest Node miners.
  --no-validator   start no validator
  --miners N       honest Node miners beside you (default ${DEFAULT_MINERS}; 0 for none)
  The devnet's options (--preset tiny|small, --run-config FILE, --port, --dir, …): npm run devnet -- --help`);
  process.exit(0);
}
const withValidator = !args.includes('--no-validator');
const minersAt = args.indexOf('--miners');
const minerCount = minersAt >= 0 ? Number(args[minersAt + 1]) : DEFAULT_MINERS;
if (!Number.isInteger(minerCount) || minerCount < 0 || minerCount > 16) {
  console.error(`npm start: --miners needs a whole number from 0 to 16, got '${args[minersAt + 1] ?? ''}'.`);
  process.exit(2);
}
const devnetArgs = args.filter((a, i) => a !== '--no-validator' && (minersAt < 0 || (i !== minersAt && i !== minersAt + 1)));
/** @param {string} name @param {string} fallback @returns {string} */
const flag = (name, fallback) => {
  const value = devnetArgs[devnetArgs.indexOf(name) + 1];
  return devnetArgs.includes(name) && value !== undefined ? value : fallback;
};
const port = flag('--port', process.env.GAUNTLET_DEVNET_PORT ?? '4173');
const dir = flag('--dir', process.env.GAUNTLET_DEVNET_DIR ?? '.devnet');
if (!devnetArgs.includes('--port')) devnetArgs.push('--port', port);
if (!devnetArgs.includes('--app')) devnetArgs.push('--app', 'dist');
if (withValidator && !devnetArgs.includes('--validators')) {
  await cryptoWaitReady();
  // sr25519 with Bittensor's SS58 prefix 42, as src/net/keyring-signer.ts derives it.
  devnetArgs.push('--validators', new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(VALIDATOR_URI).address);
}

/** @type {{ label: string, child: import('node:child_process').ChildProcess }[]} */
const children = [];
let exiting = false;

/**
 * Starts `tsx <script>` with each output line prefixed by `label`; `onLine` sees every line.
 * @param {string} label @param {string} script @param {string[]} scriptArgs @param {(line: string) => void} [onLine]
 */
function start(label, script, scriptArgs, onLine = () => {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...scriptArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.on('data', (/** @type {Buffer} */ chunk) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        (stream === child.stderr ? process.stderr : process.stdout).write(`[${label}] ${line}\n`);
        onLine(line);
      }
    });
  }
  child.on('exit', (code, signal) => {
    if (exiting) return;
    // One process without the others is not the network the README promises: stop them all.
    console.error(`[${label}] exited (${signal ?? `code ${code}`}); stopping the network.`);
    shutdown(code ?? 1);
  });
  children.push({ label, child });
  return child;
}

/** @param {number} code */
function shutdown(code) {
  if (exiting) return;
  exiting = true;
  const running = children.filter(({ child }) => child.exitCode === null && child.signalCode === null);
  for (const { child } of running) child.kill('SIGTERM');
  Promise.all(running.map(({ child }) => new Promise((resolve) => child.once('exit', resolve)))).then(() => {
    console.log(`Stopped ${running.map(({ label }) => label).join(', ') || 'nothing (it had stopped)'}. The network's state stays in ${dir} (delete it to start afresh).`);
  }, () => undefined);
  process.exitCode = code;
}
// However this process ends (a signal, a closed stdout), it takes its children with it.
process.on('exit', () => {
  for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
});
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

let joined = false;
start('devnet', 'src/devnet/main.ts', devnetArgs, (line) => {
  const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
  if (url === undefined || joined) return;
  joined = true;
  if (withValidator) start('validator', 'src/cli/validator.ts', ['--devnet', url, '--uri', VALIDATOR_URI, '--state', join(dir, 'validator', 'state.json')]);
  if (minerCount > 0) start('miners', 'src/cli/miners.ts', ['--devnet', url, '--count', String(minerCount)]);
  const others = [withValidator ? 'a validator' : '', minerCount > 0 ? `${minerCount} honest miner${minerCount === 1 ? '' : 's'}` : ''].filter((s) => s !== '');
  console.log(`Open ${url} in a browser with WebGPU to contribute${others.length > 0 ? ` beside ${others.join(' and ')}` : ''}; Ctrl-C stops the network.`);
});
