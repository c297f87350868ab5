/**
 * A bounded load test of the devnet coordinator (issue #14), shared by the unit test
 * (test/unit/devnet-load.test.ts, which asserts) and the bench (devnet-load.bench.spec.ts, which
 * prints ratios). Loopback only, bounded in count and time.
 *
 * The coordinator runs as `npm run devnet` does (`node --import tsx src/devnet/main.ts`, the tiny
 * preset: 1 s blocks, 5 blocks per window, 3 s put window) in a **child process**, so its memory is
 * measured alone: RSS from /proc/<pid>/status (VmRSS), the peak as VmHWM after resetting it through
 * /proc/<pid>/clear_refs just before the attack (sampled VmRSS where that is not allowed). This
 * process is the attacker and the honest peers at once.
 *
 * Honest peers (registered on the run's netuid before the attack) upload `gradient-{w}-{uid}` and
 * its `.sig` over and over while window w's put window is open, first with no attack (the
 * baseline), then during the attack; every upload's server timestamp is checked against the gate.
 *
 * The attack, all at once: unauthenticated bodies of 60 MiB, bodies with fake signatures claiming an
 * honest hotkey, oversized WebSocket messages, hundreds of idle sockets, a registration flood of
 * sybils across netuids, and thousands of malformed requests. Every answer's status is counted;
 * a 5xx is a failure (a refused socket or a reset is counted apart: the server may cut a refused
 * upload).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { putWindowAnchorBlock, putWindowBounds, type PutWindowBounds } from '../../src/core/clock.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import { devnetRequestMessage, devnetSignedHeaders } from '../../src/net/devnet-protocol.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import { gradientKey } from '../../src/peer/gather.ts';
import type { PeerCommand, PeerReport } from './devnet-load.peer.ts';

export interface LoadScale {
  /** Concurrent unauthenticated 60 MiB uploads (and as many with fake signatures), a round every 500 ms while the attack lasts. */
  readonly bigBodies: number;
  readonly bigBodyBytes: number;
  readonly idleSockets: number;
  /** Sockets that each send one oversized WebSocket message, a round every 500 ms. */
  readonly oversizedWebSockets: number;
  readonly sybils: number;
  /** Netuids the sybils spread over. */
  readonly sybilNetuids: number;
  readonly malformedRequests: number;
  readonly honestPeers: number;
  readonly honestUploadBytes: number;
  /** Put windows of honest uploads without attack, then with. */
  readonly baselineWindows: number;
  readonly attackWindows: number;
}

export const CI_SCALE: LoadScale = {
  bigBodies: 16, bigBodyBytes: 60 * 1024 * 1024, idleSockets: 300, oversizedWebSockets: 16, sybils: 200, sybilNetuids: 40,
  malformedRequests: 10_000, honestPeers: 2, honestUploadBytes: 256 * 1024, baselineWindows: 1, attackWindows: 2,
};

export interface HonestUpload {
  readonly window: number;
  readonly latencyMs: number;
  readonly serverTimeMs: number;
  readonly gate: PutWindowBounds;
  readonly onTime: boolean;
}

export interface LoadFigures {
  /** RSS of the coordinator, MiB. */
  readonly rssBeforeMiB: number;
  readonly rssPeakMiB: number;
  readonly rssAfterMiB: number;
  /** 'VmHWM' when the kernel's peak was reset before the attack, 'sampled' otherwise. */
  readonly peakSource: 'VmHWM' | 'sampled';
  readonly baseline: readonly HonestUpload[];
  readonly underAttack: readonly HonestUpload[];
  /** HTTP status → count over every attack request that got an answer. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Attack requests that got no HTTP answer (the server cut a refused upload, or refused the socket). */
  readonly noAnswer: number;
  readonly webSocketCloseCodes: Readonly<Record<string, number>>;
  readonly attackSeconds: number;
  readonly totalSeconds: number;
}

/** How often each body and WebSocket attacker goes again. */
const ROUND_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** Starts the coordinator as `npm run devnet` does and waits for its URL. */
async function spawnCoordinator(dir: string): Promise<{ child: ChildProcess; url: string; port: number }> {
  // `node --import tsx` keeps the server in this child (the tsx CLI would fork a grandchild, whose RSS we would miss).
  const child = spawn(process.execPath, [...(process.env.TMP_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', 'tsx', 'src/devnet/main.ts', '--dir', dir, '--port', '0', '--app', join(dir, 'no-app')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`devnet exited early (${code}): ${out}${log}`)));
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null && log !== '') console.error(log);
  });
  return { child, url, port: Number(new URL(url).port) };
}

/** Answers by HTTP status (and WebSocket close code) of a load run's attacker. */
export class Tally {
  readonly statuses: Record<string, number> = {};
  readonly wsCodes: Record<string, number> = {};
  noAnswer = 0;
  status(code: number): void {
    this.statuses[String(code)] = (this.statuses[String(code)] ?? 0) + 1;
  }
}

/** One upload whose headers claim `bodyBytes`, pumped from a shared chunk until the server answers (it should at once). */
const BODY_CHUNK = Buffer.alloc(1 << 20, 7);

export function bigUpload(port: number, path: string, headers: Record<string, string>, bodyBytes: number, tally: Tally): Promise<void> {
  const chunk = BODY_CHUNK;
  return new Promise((resolve) => {
    let answered = false;
    let sent = 0;
    const req = request({ host: '127.0.0.1', port, path, method: 'PUT', agent: false, headers: { ...headers, 'content-length': String(bodyBytes) } });
    req.on('response', (res) => {
      answered = true;
      tally.status(res.statusCode ?? 0);
      res.resume();
      res.on('end', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => {
      if (!answered) tally.noAnswer++;
      resolve();
    });
    const pump = (): void => {
      while (!answered && sent < bodyBytes) {
        const n = Math.min(chunk.length, bodyBytes - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}

/** Requests nobody well-behaved sends: broken escapes, bad numbers, bad addresses, unsigned or junk-signed writes. */
function malformed(i: number, victim: string): { method: string; path: string; headers?: Record<string, string>; body?: string } {
  const junkSigned = { 'x-gauntlet-hotkey': victim, 'x-gauntlet-nonce': String(Date.now()), 'x-gauntlet-signature': `0x${'ab'.repeat(64)}`, 'x-gauntlet-sha256': 'cd'.repeat(32), 'content-type': 'application/json' };
  const kinds = [
    { method: 'GET', path: '/api/storage/%E0%A4%A' },
    { method: 'GET', path: `/api/storage/${victim}/%ZZ` },
    { method: 'GET', path: '/api/chain/%/metagraph' },
    { method: 'GET', path: `/api/chain/${i % 2 === 0 ? 'abc' : '70000'}/metagraph` },
    { method: 'GET', path: '/api/chain/blocks/99999999999999999999/timestamp' },
    { method: 'GET', path: '/api/storage/not-an-address/run' },
    { method: 'GET', path: '/%E0%A4%A/index.html' },
    { method: 'DELETE', path: '/api/chain/head' },
    { method: 'PUT', path: `/api/storage/${victim}/..%2F..%2Fstate.json`, headers: junkSigned, body: 'x' },
    { method: 'POST', path: '/api/chain/3/weights', headers: junkSigned, body: '{"uids":' },
    { method: 'POST', path: '/api/chain/3/register', body: '' },
    { method: 'POST', path: '/api/chain/3/stake', headers: junkSigned, body: '{"amount":1e308}' },
    { method: 'GET', path: `/api/chain/${1000 + (i % 5000)}/commitments` },
    { method: 'GET', path: `/api/storage/${victim}/gradient-999999999999999-0` },
  ];
  return kinds[i % kinds.length]!;
}

async function malformedFlood(port: number, victim: string, count: number, tally: Tally): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const r = malformed(next++, victim);
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: r.path, method: r.method, agent, headers: { ...r.headers, 'content-length': String(Buffer.byteLength(r.body ?? '')) } });
        req.on('response', (res) => {
          tally.status(res.statusCode ?? 0);
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', () => {
          tally.noAnswer++;
          resolve();
        });
        req.end(r.body ?? '');
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  agent.destroy();
}

let oversized: Buffer | undefined;
/** One shared message, so the attacker's own memory stays flat. */
function oversizedMessage(bytes: number): Buffer {
  if (oversized?.length !== bytes) oversized = Buffer.alloc(bytes, 1);
  return oversized;
}

function oversizedWebSocket(url: string, bytes: number, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    // An all-zero mask: ws then skips masking 2 MiB in JS, which would make the attacker, not the server, the bottleneck.
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/api/chain/ws', { generateMask: (mask) => mask.fill(0) });
    ws.on('open', () => ws.send(oversizedMessage(bytes)));
    ws.on('error', () => {});
    ws.on('unexpected-response', (_req, res) => {
      tally.status(res.statusCode ?? 0);
      resolve();
    });
    ws.on('close', (code) => {
      tally.wsCodes[String(code)] = (tally.wsCodes[String(code)] ?? 0) + 1;
      resolve();
    });
  });
}

/** Runs the load test and returns its figures; throws only when the harness itself fails. */
export async function runDevnetLoad(scale: LoadScale = CI_SCALE, progress: (line: string) => void = () => {}): Promise<LoadFigures> {
  const started = Date.now();
  const config = tinyRunConfig();
  const { blocksPerWindow, putWindowMs } = config.window;
  const dir = mkdtempSync(join(tmpdir(), 'devnet-load-'));
  const { child, url, port } = await spawnCoordinator(dir);
  const pid = child.pid!;
  const idle: Socket[] = [];
  let peer: ChildProcess | undefined;
  try {
    const signer = await KeyringSigner.fromUris([]);
    const chain = new DevnetChain(url, signer);
    peer = fork(join(import.meta.dirname, 'devnet-load.peer.ts'), [url, String(scale.honestPeers), String(scale.honestUploadBytes)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const peerProcess = peer;
    const fromPeer = (): Promise<PeerReport> => new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`the honest peer process exited (${code})`));
      peerProcess.once('exit', onExit);
      peerProcess.once('message', (report: PeerReport) => {
        peerProcess.off('exit', onExit);
        if (report.kind === 'failed') reject(new Error(`honest peer: ${report.message}`));
        else resolve(report);
      });
    });
    const ready = await fromPeer();
    if (ready.kind !== 'ready') throw new Error('the honest peer process did not start');
    const honest = ready.hotkeys;
    const genesisMs = await chain.blockTimestamp(0);
    const gateOf = (w: number): PutWindowBounds => putWindowBounds(genesisMs + putWindowAnchorBlock(w, blocksPerWindow) * config.window.blockTimeMs, putWindowMs);

    /** The honest peers upload window w's gradient and signature again and again while its put window is open. */
    const honestWindow = async (w: number, into: HonestUpload[]): Promise<void> => {
      const gate = gateOf(w);
      const answer = fromPeer();
      peerProcess.send({ kind: 'window', window: w, gate } satisfies PeerCommand);
      const report = await answer;
      if (report.kind !== 'uploads') throw new Error(`unexpected ${report.kind} from the honest peers`);
      for (const u of report.uploads) into.push({ ...u, gate, onTime: u.serverTimeMs >= gate.timeMinMs && u.serverTimeMs <= gate.timeMaxMs });
    };
    const windowNow = async (): Promise<number> => Math.floor((await chain.currentBlock()).number / blocksPerWindow);

    // Baseline: the same uploads, nothing else going on. Put window of w opens with window w + 1.
    progress(`coordinator pid ${pid} at ${url}; ${honest.length} honest peers registered (pid ${peerProcess.pid})`);
    const baseline: HonestUpload[] = [];
    let w = await windowNow();
    for (let i = 0; i < scale.baselineWindows; i++, w++) await honestWindow(w, baseline);
    progress(`baseline: ${baseline.length} uploads`);
    await sleep(500);
    const rssBeforeMiB = procStatus(pid, 'VmRSS');
    let peakSource: 'VmHWM' | 'sampled' = 'VmHWM';
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      peakSource = 'sampled';
    }
    let sampledPeak = rssBeforeMiB;
    const sampler = setInterval(() => {
      try {
        sampledPeak = Math.max(sampledPeak, procStatus(pid, 'VmRSS'));
      } catch {
        // The child is gone; the harness reports it below.
      }
    }, 50);

    // The attack: everything at once, while honest peers keep uploading.
    const tally = new Tally();
    const attackStarted = Date.now();
    let attacking = true;
    const victim = honest[0]!;
    for (let i = 0; i < scale.idleSockets; i++) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => {});
      idle.push(socket);
    }
    // Rounds: every ROUND_MS each body attacker sends its next body, so `bigBodies` bodies are in
    // flight together again and again. Going again at once would turn this into a loopback
    // bandwidth flood whose kernel copies starve both processes of this 2-core machine; request
    // rate is the malformed flood's job.
    const repeat = async (body: () => Promise<void>): Promise<void> => {
      while (attacking) {
        const round = Date.now();
        await body();
        await sleep(ROUND_MS - (Date.now() - round));
      }
    };
    const forgers = Array.from({ length: scale.bigBodies }, (_, i) => signer.add(`//LoadForger${i}`));
    const unsigned = Array.from({ length: scale.bigBodies }, (_, i) => repeat(() => bigUpload(port, `/api/storage/${victim}/${gradientKey(w, i)}`, {}, scale.bigBodyBytes, tally)));
    // Signed by another key over the right message, claiming the honest hotkey: it must not verify.
    // Signed once: the signature is checked before the nonce, so reusing it costs the server as much.
    const forged = await Promise.all(forgers.map(async (forger, i) => {
      const path = `/api/storage/${victim}/${gradientKey(w, i)}`;
      const nonce = Date.now();
      const signature = await signer.signRaw(forger, devnetRequestMessage({ method: 'PUT', path, hotkey: victim, body: new Uint8Array(0), nonce }));
      return { path, headers: devnetSignedHeaders(victim, nonce, signature, new Uint8Array(0)) };
    }));
    const fake = forged.map(({ path, headers }) => repeat(() => bigUpload(port, path, headers, scale.bigBodyBytes, tally)));
    const sockets = Array.from({ length: scale.oversizedWebSockets }, () => repeat(() => oversizedWebSocket(url, 2 * 1024 * 1024, tally)));
    const sybils = Array.from({ length: scale.sybils }, (_, i) => signer.add(`//LoadSybil${i}`));
    const flood = (async () => {
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < sybils.length) {
          const i = next++;
          await chain.register(sybils[i]!, config.netuid + (i % scale.sybilNetuids)).then(() => tally.status(200), (error: unknown) => {
            const code = (error as { code?: string }).code;
            tally.status(code === 'rate-limited' ? 429 : code === 'unavailable' ? 503 : 400);
          });
        }
      }));
    })();
    const junk = malformedFlood(port, victim, scale.malformedRequests, tally);

    const underAttack: HonestUpload[] = [];
    for (let i = 0; i < scale.attackWindows; i++, w++) await honestWindow(w, underAttack);
    progress(`under attack: ${underAttack.length} uploads; waiting for the flood and the malformed requests`);
    await flood;
    progress('registration flood done');
    await junk;
    progress('malformed requests done');
    attacking = false;
    await Promise.all([...unsigned, ...fake, ...sockets]);
    progress('attackers stopped');
    for (const socket of idle) socket.destroy();
    const attackSeconds = (Date.now() - attackStarted) / 1000;
    clearInterval(sampler);
    const rssPeakMiB = Math.max(sampledPeak, peakSource === 'VmHWM' ? procStatus(pid, 'VmHWM') : 0);
    await sleep(1_000);
    const rssAfterMiB = procStatus(pid, 'VmRSS');
    return {
      rssBeforeMiB, rssPeakMiB, rssAfterMiB, peakSource, baseline, underAttack,
      statuses: tally.statuses, noAnswer: tally.noAnswer, webSocketCloseCodes: tally.wsCodes,
      attackSeconds, totalSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    for (const socket of idle) socket.destroy();
    if (peer !== undefined && peer.exitCode === null) peer.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** The figures as the lines both the unit test and the bench print. */
export function describeLoad(f: LoadFigures): string {
  const lat = (u: readonly HonestUpload[]): string => `median ${median(u.map((x) => x.latencyMs)).toFixed(1)} ms, p95 ${percentile(u.map((x) => x.latencyMs), 0.95).toFixed(1)} ms over ${u.length}`;
  return [
    `coordinator RSS (child process, /proc): before ${f.rssBeforeMiB.toFixed(1)} MiB, peak ${f.rssPeakMiB.toFixed(1)} MiB (${f.peakSource}), after ${f.rssAfterMiB.toFixed(1)} MiB; peak growth ${(f.rssPeakMiB - f.rssBeforeMiB).toFixed(1)} MiB`,
    `honest upload (gradient + .sig): no attack ${lat(f.baseline)}; under attack ${lat(f.underAttack)}; on time ${f.underAttack.filter((u) => u.onTime).length}/${f.underAttack.length}`,
    `attack answers: ${Object.entries(f.statuses).sort().map(([s, n]) => `${s}×${n}`).join(', ')}; no answer ${f.noAnswer}; WebSocket closes ${Object.entries(f.webSocketCloseCodes).map(([c, n]) => `${c}×${n}`).join(', ')}`,
    `attack ${f.attackSeconds.toFixed(1)} s, whole run ${f.totalSeconds.toFixed(1)} s`,
  ].join('\n');
}
