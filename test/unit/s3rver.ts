/**
 * s3rver (a local S3-compatible server, a dev dependency) for the tests of the S3 path: its
 * constructor and its account registry, typed once. s3rver checks that an access key id exists but
 * does not verify SigV4 signatures or per-key permissions; read-only enforcement is the real
 * endpoint's job (R2 read tokens).
 */
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

export interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(accessKeyId: string, secretAccessKey: string): void };
}

const require = createRequire(import.meta.url);

/** `new S3rver(options)`. */
export const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

/** s3rver's account registry: `accounts.DUMMY_ACCOUNT.createKeyPair(id, secret)` makes a key id known. */
export const accounts = require('s3rver/lib/models/account.js') as S3rverAccounts;
