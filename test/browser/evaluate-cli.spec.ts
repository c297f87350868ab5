import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvaluateRun } from '../../src/cli/evaluate-report.ts';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { closedPort, startNonSubtensorNode } from './network-helpers.ts';

/**
 * Issue #10 `npm run evaluate`, end to end as a user runs it: an embedded devnet with two Node
 * miners, headless Chromium driving the Validate view's live validator, and the files it writes.
 * The scores must be real: finite stage-2 losses for the evaluated peers, OpenSkill ratings for
 * rated ones, and per window weights that sum to 1 (the burn uid's share included).
 */
test.setTimeout(600_000);
let out: string;

test.beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'evaluate-cli-'));
});
test.afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

function evaluate(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', 'evaluate', '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

// eslint-disable-next-line no-empty-pattern -- Playwright reads fixtures from a destructuring pattern; this test needs none.
test('npm run evaluate -- --network devnet --windows 2 writes real scores and a readable report', async ({}, testInfo) => {
  const dir = join(out, 'devnet');
  const { code, output } = await evaluate(['--network', 'devnet', '--windows', '2', '--out', dir]);
  await testInfo.attach('evaluate-output', { body: output, contentType: 'text/plain' });
  expect(code, output).toBe(0);
  const run = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8')) as EvaluateRun;
  expect(run.network).toBe('devnet');
  expect(run.windows).toHaveLength(2);
  // Two miners and the validator on distinct uids, none of them the burn uid the subnet owner holds.
  const uids = [...run.miners.map((m) => m.uid), run.validator.uid];
  expect(uids).toHaveLength(3);
  expect(new Set(uids).size).toBe(3);
  expect(uids).not.toContain(tinyRunConfig().scoring.burnUid);
  expect(run.validator.validatorPermit).toBe(true);
  expect(run.windows[1]!.window).toBe(run.windows[0]!.window + 1);

  let okEvaluations = 0;
  for (const w of run.windows) {
    for (const e of w.evaluations) {
      expect(run.miners.map((m) => m.uid)).toContain(e.uid);
      expect(w.evaluatedUids).toContain(e.uid);
      if (e.status !== 'ok') continue;
      okEvaluations += 1;
      for (const loss of [e.lossOwnBefore, e.lossOwnAfter, e.lossRandomBefore, e.lossRandomAfter]) expect(Number.isFinite(loss) && loss! > 0).toBe(true);
      expect(e.lossScore).toBeCloseTo((e.lossRandomBefore! - e.lossRandomAfter!) / e.lossRandomBefore!, 12);
    }
    for (const s of w.scores) {
      if (s.mu === null) continue;
      expect(Number.isFinite(s.mu) && Number.isFinite(s.sigma!) && s.sigma! > 0).toBe(true);
      expect(s.ordinal).toBeCloseTo(s.mu - 3 * s.sigma!, 12);
    }
    const total = Object.values(w.weights).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 6);
    for (const slash of w.slashes) expect(slash.rule).toMatch(/slash$/);
    if (w.setWeightsDue) expect(w.chainWeights.status).toBe('set');
  }
  expect(okEvaluations).toBeGreaterThanOrEqual(1);
  // A window with two valid evaluations is an OpenSkill match (§7.3): both peers come out rated. (Under
  // load an in-process miner can miss a put window, so two windows need not contain such a match.)
  for (const w of run.windows.filter((x) => x.evaluations.filter((e) => e.status === 'ok').length >= 2)) {
    for (const e of w.evaluations.filter((x) => x.status === 'ok')) expect(w.scores.find((s) => s.uid === e.uid)?.mu ?? null).not.toBeNull();
  }

  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  for (const w of run.windows) expect(report).toContain(`## Window ${w.window}`);
  expect(report).toMatch(/\| uid \| evaluation \|/);
});

const SECRET = 'never-show-this-evaluate-secret';
const VALIDATOR_URI = '//EvaluateCli//validator';

/** `npm run evaluate` on a ws:// endpoint with well-formed S3 settings (the secret in the environment). */
function evaluateReal(endpoint: string, dir: string, extra: readonly string[] = []): Promise<{ code: number | null; output: string }> {
  const args = ['--network', endpoint, '--netuid', '3', '--s3-endpoint', 'http://127.0.0.1:9', '--bucket', '0123456789abcdef0123456789abcdef', '--access-key-id', 'AKIDEXAMPLE', '--windows', '1', '--out', dir, ...extra];
  return evaluate(args, { GAUNTLET_S3_SECRET: SECRET, GAUNTLET_VALIDATOR_URI: VALIDATOR_URI });
}

test('npm run evaluate on an unreachable ws:// endpoint exits non-zero with the reason in report.md, the secret kept out', async () => {
  const dir = join(out, 'unreachable');
  const port = await closedPort();
  const { code, output } = await evaluateReal(`ws://127.0.0.1:${port}`, dir);
  expect(code, output).toBe(1);
  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  expect(report).toContain(`Cannot connect to the chain at ws://127.0.0.1:${port}`);
  expect(output).toContain(`Cannot connect to the chain at ws://127.0.0.1:${port}`);
  expect(report + output + readFileSync(join(dir, 'scores.json'), 'utf8')).not.toContain(SECRET);
  expect(report + output).not.toContain(VALIDATOR_URI);
});

test('npm run evaluate on a reachable Substrate node that is not subtensor (chopsticks) is refused with the reason', async () => {
  const node = await startNonSubtensorNode();
  try {
    const dir = join(out, 'not-subtensor');
    const { code, output } = await evaluateReal(`ws://${node.addr}`, dir);
    expect(code, output).toBe(1);
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(report).toContain(`ws://${node.addr} answered, but its metagraph of netuid 3 cannot be read`);
    expect(report).toContain('not a subtensor runtime');
    expect(report + output).not.toContain(SECRET);
  } finally {
    await node.close();
  }
});

test('npm run evaluate refuses bad real-network flags and the public development key before dialling anything', async () => {
  const dir = join(out, 'usage');
  const noSecret = await evaluate(['--network', 'ws://127.0.0.1:9', '--netuid', '3', '--s3-endpoint', 'http://127.0.0.1:9', '--bucket', '0123456789abcdef0123456789abcdef', '--access-key-id', 'AKID', '--out', dir], { GAUNTLET_VALIDATOR_URI: VALIDATOR_URI, GAUNTLET_S3_SECRET: '' });
  expect(noSecret.code).toBe(1);
  expect(noSecret.output).toContain('GAUNTLET_S3_SECRET');
  const badBucket = await evaluateReal('ws://127.0.0.1:9', dir, ['--bucket', 'Not_A_Bucket']);
  expect(badBucket.code).toBe(1);
  expect(badBucket.output).toContain('--bucket: "Not_A_Bucket" is not an S3 bucket name');
  const devKey = await evaluateReal('ws://127.0.0.1:9', dir, ['--uri', '//Volunteer//validator']);
  expect(devKey.code).toBe(1);
  expect(devKey.output).toContain('public devnet development key');
  expect(existsSync(join(dir, 'report.md'))).toBe(false);
});
