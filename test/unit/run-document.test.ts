/**
 * The network defines the run (issue #17): the run document, as the devnet publishes it (served at
 * GET /api/run and inside the page it serves) and as every Node entry point reads it. A document whose
 * stated hash is not its config's, or that is for another run than the one pinned, is refused with a
 * RunHashMismatchError naming both hashes; the validator command refuses it before it registers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { smallRunConfig, tinyRunConfig } from '../../src/core/run-config.ts';
import { createRunDocument, encodeRunDocument, MAX_RUN_DOCUMENT_BYTES, parseRunDocument, RunDocumentError, RunHashMismatchError } from '../../src/core/run-document.ts';
import { startDevnet, type RunningDevnet } from '../../src/devnet/server.ts';
import { fetchRunDocument, RUN_DOCUMENT_ELEMENT_ID } from '../../src/net/run-document-client.ts';

const tiny = tinyRunConfig();
const small = smallRunConfig();
/** The run hash computed here from the config's JSON with sorted keys, independently of `runConfigHash`. */
function hashOf(value: unknown): string {
  const sortKeys = (v: unknown): unknown => (Array.isArray(v) ? v.map(sortKeys) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) : v);
  return bytesToHex(sha256(utf8ToBytes(JSON.stringify(sortKeys(value)))));
}

describe('the run document', () => {
  it('states the sha256 of its config\'s canonical JSON and reads back to the same run', () => {
    const document = createRunDocument(tiny);
    expect(document.runHash).toBe(hashOf(tiny));
    const text = encodeRunDocument(document);
    expect(parseRunDocument(text, { source: 'test' })).toEqual(document);
    expect(parseRunDocument(text, { source: 'test', expectedHash: hashOf(tiny) }).config).toEqual(tiny);
  });

  it('refuses a config that does not hash to the stated run hash, naming both hashes', () => {
    const text = encodeRunDocument(createRunDocument(tiny)).replace('"innerSteps":', '"innerSteps":1');
    // Still a valid config (more inner steps), but not the run the document names.
    const error = (() => {
      try {
        parseRunDocument(text, { source: 'a tampering server' });
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(RunHashMismatchError);
    const mismatch = error as RunHashMismatchError;
    expect(mismatch.expected).toBe(hashOf(tiny));
    expect(mismatch.actual).not.toBe(hashOf(tiny));
    expect(mismatch.message).toContain(mismatch.expected);
    expect(mismatch.message).toContain(mismatch.actual);
    expect(mismatch.code).toBe('run-hash-mismatch');
  });

  it('refuses a document for another run than the pinned one', () => {
    const text = encodeRunDocument(createRunDocument(small));
    expect(() => parseRunDocument(text, { source: 'x', expectedHash: hashOf(tiny) })).toThrow(RunHashMismatchError);
    expect(() => parseRunDocument(text, { source: 'x', expectedHash: hashOf(tiny) })).toThrow(new RegExp(`expected run hash ${hashOf(tiny)}, got ${hashOf(small)}`));
  });

  it('refuses what is not a run document, each with the reason', () => {
    const good = JSON.parse(encodeRunDocument(createRunDocument(tiny))) as Record<string, unknown>;
    const cases: [string, RegExp][] = [
      ['not json', /not JSON/],
      ['[]', /not an object/],
      [JSON.stringify({ ...good, version: 2 }), /version 2/],
      [JSON.stringify({ ...good, extra: 1 }), /unknown fields: extra/],
      [JSON.stringify({ ...good, runHash: 'ABC' }), /no run hash/],
      [JSON.stringify({ ...good, config: { ...tiny, model: { ...tiny.model, dModel: -1 } } }), /does not validate/],
      [' '.repeat(MAX_RUN_DOCUMENT_BYTES + 1), /more than the/],
    ];
    for (const [text, reason] of cases) expect(() => parseRunDocument(text, { source: 'x' }), text.slice(0, 30)).toThrow(reason);
    for (const [text] of cases) expect(() => parseRunDocument(text, { source: 'x' })).toThrow(RunDocumentError);
  });
});

describe('a devnet publishes its run', () => {
  let dir: string;
  let devnet: RunningDevnet;
  let bare: RunningDevnet;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'run-document-'));
    const appDir = join(dir, 'app');
    mkdirSync(appDir);
    writeFileSync(join(appDir, 'index.html'), '<!doctype html><html><head><title>t</title></head><body></body></html>');
    devnet = await startDevnet({ dir: join(dir, 'state'), appDir, run: createRunDocument(tiny) });
    bare = await startDevnet({ dir: join(dir, 'bare'), blockTimeMs: 1000 });
  }, 60_000);
  afterAll(async () => {
    await devnet.close();
    await bare.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('at GET /api/run and inside the page it serves, the same checked document', async () => {
    const fetched = await fetchRunDocument(devnet.url);
    expect(fetched.runHash).toBe(hashOf(tiny));
    const html = await (await fetch(`${devnet.url}/`)).text();
    const inPage = new RegExp(`<script type="application/json" id="${RUN_DOCUMENT_ELEMENT_ID}">(.*?)</script>`).exec(html)?.[1];
    expect(inPage).toBeDefined();
    expect(parseRunDocument(inPage!, { source: 'page', expectedHash: hashOf(tiny) }).config).toEqual(tiny);
  });

  it('a client pinned to another run refuses it; a devnet without a run says it has none', async () => {
    await expect(fetchRunDocument(devnet.url, { expectedHash: hashOf(small) })).rejects.toThrow(RunHashMismatchError);
    await expect(fetchRunDocument(bare.url)).rejects.toThrow(/publishes no run document/);
    await expect(fetchRunDocument('http://127.0.0.1:1')).rejects.toThrow(/cannot be fetched/);
  });

  it('npm run validator refuses a devnet whose run is not the one it was given or pinned, before it registers', async () => {
    // Asynchronously: the devnet answers from this process.
    const run = (args: string[]): Promise<{ status: number | null; output: string }> => new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/validator.ts', '--devnet', devnet.url, '--state', join(dir, 'v.json'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('exit', (status) => resolve({ status, output }));
    });
    const pinned = await run(['--run-hash', hashOf(small)]);
    expect(pinned.status).not.toBe(0);
    expect(pinned.output).toContain('RunHashMismatchError');
    expect(pinned.output).toContain(`expected run hash ${hashOf(small)}, got ${hashOf(tiny)}`);
    const given = await run(['--preset', 'small']);
    expect(given.status).not.toBe(0);
    expect(given.output).toContain(`expected run hash ${hashOf(tiny)}, got ${hashOf(small)}`);
    expect((await run(['--run-hash', 'xyz'])).output).toContain('is not a run hash');
    // Nothing was registered: the refusals came before the validator touched the chain.
    const metagraph = (await (await fetch(`${devnet.url}/api/chain/${tiny.netuid}/metagraph`)).json()) as { uids: number[] };
    expect(metagraph.uids).toEqual([]);
  }, 120_000);
});
