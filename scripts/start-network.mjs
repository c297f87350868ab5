// `npm start` (after the data and the app are built): a whole local network in two processes.
// The devnet coordinator serves the app on http://127.0.0.1:4173; once it listens, a Node validator
// (`npm run validator`, the development key //Alice) joins it, so a volunteer who opens the page
// is gathered, evaluated and paid weights without starting anything else. The validator keeps its
// state inside the devnet's directory: deleting `.devnet/` resets both together.
// The subnet owner names that validator as the run's (--validators, unless given): peers then
// trust its peer lists, aggregates and checkpoints.
// Flags: --no-validator (the coordinator alone); anything else is passed to the devnet.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

/** The development key of the Node validator this script starts. */
const VALIDATOR_URI = '//Alice';

const args = process.argv.slice(2);
const withValidator = !args.includes('--no-validator');
const devnetArgs = args.filter((a) => a !== '--no-validator');
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

/** @type {import('node:child_process').ChildProcess[]} */
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
    // One process without the other is not the network the README promises: stop both.
    console.error(`[${label}] exited (${signal ?? `code ${code}`}); stopping the network.`);
    shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

/** @param {number} code */
function shutdown(code) {
  exiting = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}
// However this process ends (a signal, a closed stdout), it takes its children with it.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

let validatorStarted = false;
start('devnet', 'src/devnet/main.ts', devnetArgs, (line) => {
  const url = /listening on (http:\/\/\S+)/.exec(line)?.[1];
  if (url === undefined || !withValidator || validatorStarted) return;
  validatorStarted = true;
  start('validator', 'src/cli/validator.ts', ['--devnet', url, '--uri', VALIDATOR_URI, '--state', join(dir, 'validator', 'state.json')]);
  console.log(`Open ${url} in a browser with WebGPU to contribute; Ctrl-C stops the network.`);
});
