/**
 * A subnet's storage gateway on this machine for tests (issue #21): s3rver as the operator's bucket,
 * the devnet as the chain (its registrations and block timestamps; the gateway reads them through
 * `DevnetChain`, as it reads subtensor's through `SubtensorChain`), and raw signed requests, so a test
 * can send exactly the request a hostile peer would.
 */
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevnetChain } from '../../src/net/devnet-client.ts';
import { devnetRequestMessage, devnetSignedHeaders } from '../../src/net/devnet-protocol.ts';
import { KeyringSigner } from '../../src/net/keyring-signer.ts';
import type { BlockHeader, Signer } from '../../src/net/types.ts';
import { startDevnet, type DevnetOptions, type RunningDevnet } from '../../src/devnet/server.ts';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../src/gateway/server.ts';
import { bucketName, S3_WRITE, startS3rver, type RunningS3rver } from './s3rver.ts';

export const GATEWAY_NETUID = 3;

export interface GatewayBench {
  readonly devnet: RunningDevnet;
  readonly chain: DevnetChain;
  readonly s3: RunningS3rver;
  readonly bucket: string;
  readonly keys: KeyringSigner;
  /** Registered on `GATEWAY_NETUID`, in the order of `registeredUris`. */
  readonly registered: readonly string[];
  /** Not registered anywhere. */
  readonly stranger: string;
  gateway(options?: Partial<GatewayOptions>): Promise<RunningGateway>;
  close(): Promise<void>;
}

/** Starts s3rver, a devnet chain (with `chainOptions`) and registers `registeredCount` dev hotkeys (plus one stranger that stays unregistered). */
export async function startGatewayBench(registeredCount: number, chainOptions: Partial<Pick<DevnetOptions, 'maxUidsPerSubnet' | 'immunityPeriodBlocks'>> = {}): Promise<GatewayBench> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-chain-'));
  const devnet = await startDevnet({ dir, blockTimeMs: 1000, maxRegistrationsPerInterval: 64, maxRegistrationsPerIntervalTotal: 64, ...chainOptions });
  const s3 = await startS3rver(1);
  const uris = [...Array.from({ length: registeredCount }, (_, i) => `//gateway-peer-${i}`), '//gateway-stranger'];
  const keys = await KeyringSigner.fromUris(uris);
  const addresses = (await keys.accounts()).map((a) => a.address);
  const chain = new DevnetChain(devnet.url, keys);
  const registered = addresses.slice(0, registeredCount);
  for (const hotkey of registered) await chain.register(hotkey, GATEWAY_NETUID);
  const gateways: RunningGateway[] = [];
  return {
    devnet, chain, s3, bucket: bucketName(0), keys, registered, stranger: addresses[registeredCount]!,
    gateway: async (options = {}) => {
      const g = await startGateway({ chain, netuid: GATEWAY_NETUID, s3: { endpoint: s3.endpoint, bucket: bucketName(0), credentials: S3_WRITE }, registrationMinRefreshMs: 0, ...options });
      gateways.push(g);
      return g;
    },
    close: async () => {
      for (const g of gateways) await g.close();
      await s3.close();
      await devnet.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The chain's head once it has reached block `number` (a fresh devnet starts at block 0, one block a second). */
export async function headAtLeast(chain: DevnetChain, number: number): Promise<BlockHeader> {
  for (;;) {
    const head = await chain.currentBlock();
    if (head.number >= number) return head;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The path of `hotkey`'s object `key` on a gateway (or devnet). */
export function storagePath(hotkey: string, key: string): string {
  return `/api/storage/${encodeURIComponent(hotkey)}/${key}`;
}

let lastNonce = 0;
/** A fresh nonce: the clock, strictly increasing within this process. */
export function freshNonce(): number {
  lastNonce = Math.max(Date.now(), lastNonce + 1);
  return lastNonce;
}

/** The headers of a PUT of `body` to `path` signed by `signAs` (what a honest client sends, or a thief replays). */
export async function signedPutHeaders(signer: Signer, signAs: string, path: string, body: Uint8Array, nonce = freshNonce()): Promise<Record<string, string>> {
  const signature = await signer.signRaw(signAs, devnetRequestMessage({ method: 'PUT', path, hotkey: signAs, body, nonce }));
  return devnetSignedHeaders(signAs, nonce, signature, body);
}

export interface RawAnswer {
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
  readonly body: string;
}

/**
 * A raw HTTP request to `port`: `body` is sent as is (its length is declared unless `declaredBytes`
 * says otherwise, in which case only the answer is awaited, the way a refused upload ends).
 */
export function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body: Uint8Array = new Uint8Array(0), declaredBytes?: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false, headers: { ...headers, 'content-length': String(declaredBytes ?? body.length) } });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: { code?: string; message?: string } = {};
        try {
          parsed = JSON.parse(text) as { code?: string; message?: string };
        } catch {
          // not JSON
        }
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: text, ...(parsed.code === undefined ? {} : { code: parsed.code }), ...(parsed.message === undefined ? {} : { message: parsed.message }) });
      });
    });
    req.on('error', reject);
    if (declaredBytes === undefined) req.end(body);
    else req.write(body.subarray(0, Math.min(body.length, 1024)));
  });
}
