// Makes sure the browser tests have a Chromium. On a fresh Debian/Ubuntu machine, as root, installs the
// distribution's `chromium` package; elsewhere it stops and prints the one command that would fix it.
// Playwright's own browser download cannot work offline, so it is never attempted.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { findChromium } from './chromium-path.mjs';

const found = findChromium();
if (found) {
  console.log(`chromium: ${found}`);
  process.exit(0);
}
if (process.env.CHROMIUM_PATH) {
  console.error(`CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist. Point it at a Chromium binary.`);
  process.exit(1);
}
const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
const debianLike = /^(ID|ID_LIKE)=.*(debian|ubuntu)/m.test(osRelease);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (debianLike && isRoot) {
  const pkg = /^ID=ubuntu/m.test(osRelease) ? 'chromium-browser' : 'chromium';
  console.log(`No Chromium found: installing the ${pkg} package with apt-get (one time).`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', pkg], { stdio: 'inherit', env });
  const installed = findChromium();
  if (!installed) {
    console.error('apt-get finished but no Chromium binary was found. Set CHROMIUM_PATH to one.');
    process.exit(1);
  }
  console.log(`chromium: ${installed}`);
  process.exit(0);
}
const fix = debianLike ? 'sudo apt-get install -y chromium' : 'install Chromium or Chrome, then export CHROMIUM_PATH=/path/to/chrome';
console.error(`No Chromium-family browser found for the browser tests. Fix: ${fix}`);
process.exit(1);
