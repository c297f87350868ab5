/**
 * The run document on a subtensor-like chain (issue #17): the operator's validator stores `run.json`
 * in its bucket and commits the run hash as its commitment's second field; a joining peer reads the
 * hash from the chain, the document from that validator's bucket, and refuses anything that does not
 * hash to the committed hash, a pinned other run, and what anyone but a run validator commits.
 * The chain and buckets are the in-memory network's (the loops' test double of subtensor and S3);
 * the developer checks run the same code against the spec-293 runtime.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { canonicalJson, mediumRunConfig, runConfigHash, smallRunConfig, tinyRunConfig } from '../../src/core/run-config';
import { createRunDocument, encodeRunDocument, RunDocumentError, RunHashMismatchError } from '../../src/core/run-document';
import { bucketReadCredentials, publishBucketCommitment } from '../../src/net/bucket-commitment';
import { MemoryNetwork } from '../../src/net/memory-network';
import { publishRun, readPublishedRun, RUN_DOCUMENT_KEY } from '../../src/peer/published-run';

const NETUID = 7;
const OPERATOR = '5OperatorValidator';
const ATTACKER = '5RichAttacker';
const MINER = '5Miner';
const READ = bucketReadCredentials('a'.repeat(32), 'r'.repeat(32), 's'.repeat(64));

function subnet(): MemoryNetwork {
  const net = new MemoryNetwork({
    netuid: NETUID, clock: () => 1_000_000,
    hyperparams: { tempo: 360, commitRevealEnabled: false, revealPeriodEpochs: 1, weightsRateLimit: 0, weightsVersionKey: 0n, minAllowedWeights: 1, blockTimeMs: 12_000 },
  });
  net.register({ hotkey: OPERATOR, stake: 100 });
  // More stake than the operator's validator, and a permit: stake alone must not define the run.
  net.register({ hotkey: ATTACKER, stake: 10_000 });
  net.register({ hotkey: MINER });
  net.setRunValidators([OPERATOR]);
  return net;
}

const small = { ...smallRunConfig(), netuid: NETUID };

describe('the run published on chain and in the run validator\'s bucket', () => {
  it('a peer reads the operator\'s run: the committed hash, then run.json checked against it', async () => {
    const net = subnet();
    const published = await publishRun(net.chain(), net.storage(OPERATOR), OPERATOR, createRunDocument(small), READ);
    expect(published.commitment.kind).toBe('published');
    // The hash on chain is the sha256 of the config's canonical JSON, as 32 raw bytes after the bucket field.
    const commitment = (await net.chain().commitments(NETUID)).get(OPERATOR)!;
    expect(bytesToHex(commitment.moreFields[0]!)).toBe(bytesToHex(sha256(new TextEncoder().encode(canonicalJson(small)))));
    const { document, lead } = await readPublishedRun(net.chain(), net.storage(MINER), NETUID);
    expect(lead).toBe(OPERATOR);
    expect(document.config).toEqual(small);
    expect(document.runHash).toBe(runConfigHash(small));
    // Publishing the same run again sends nothing.
    expect((await publishRun(net.chain(), net.storage(OPERATOR), OPERATOR, createRunDocument(small), READ)).commitment.kind).toBe('unchanged');
  });

  it('refuses a pinned other run, naming both hashes', async () => {
    const net = subnet();
    await publishRun(net.chain(), net.storage(OPERATOR), OPERATOR, createRunDocument(small), READ);
    const pinned = runConfigHash({ ...tinyRunConfig(), netuid: NETUID });
    const error = await readPublishedRun(net.chain(), net.storage(MINER), NETUID, { expectedHash: pinned }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunHashMismatchError);
    expect((error as RunHashMismatchError).expected).toBe(pinned);
    expect((error as RunHashMismatchError).actual).toBe(runConfigHash(small));
  });

  it('refuses a document in the bucket that is not the committed run (replaced after the commitment)', async () => {
    const net = subnet();
    await publishRun(net.chain(), net.storage(OPERATOR), OPERATOR, createRunDocument(small), READ);
    const medium = { ...mediumRunConfig(), netuid: NETUID };
    await net.storage(OPERATOR).put(RUN_DOCUMENT_KEY, new TextEncoder().encode(encodeRunDocument(createRunDocument(medium))));
    const error = await readPublishedRun(net.chain(), net.storage(MINER), NETUID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunHashMismatchError);
    expect((error as RunHashMismatchError).expected).toBe(runConfigHash(small));
    expect((error as RunHashMismatchError).actual).toBe(runConfigHash(medium));
  });

  it('reads nothing that a hotkey the subnet owner did not name commits, however much stake it has', async () => {
    const net = subnet();
    const tiny = { ...tinyRunConfig(), netuid: NETUID };
    await publishRun(net.chain(), net.storage(ATTACKER), ATTACKER, createRunDocument(tiny), READ);
    await expect(readPublishedRun(net.chain(), net.storage(MINER), NETUID)).rejects.toThrow(RunDocumentError);
    await expect(readPublishedRun(net.chain(), net.storage(MINER), NETUID)).rejects.toThrow(/has committed a run hash/);
    await publishRun(net.chain(), net.storage(OPERATOR), OPERATOR, createRunDocument(small), READ);
    expect((await readPublishedRun(net.chain(), net.storage(MINER), NETUID)).document.runHash).toBe(runConfigHash(small));
  });

  it('says what is missing: a hash without its document, a field that is not a hash, a run for another netuid', async () => {
    const net = subnet();
    await publishBucketCommitment(net.chain(), OPERATOR, NETUID, READ, [Uint8Array.from(sha256(new TextEncoder().encode('x')))]);
    await expect(readPublishedRun(net.chain(), net.storage(MINER), NETUID)).rejects.toThrow(new RegExp(`holds no ${RUN_DOCUMENT_KEY.replace('.', '\\.')}`));
    await publishBucketCommitment(net.chain(), OPERATOR, NETUID, READ, [new Uint8Array(20)]);
    await expect(readPublishedRun(net.chain(), net.storage(MINER), NETUID)).rejects.toThrow(/committed 20 bytes where a run hash has 32/);
    const elsewhere = { ...smallRunConfig(), netuid: NETUID + 1 };
    await net.storage(OPERATOR).put(RUN_DOCUMENT_KEY, new TextEncoder().encode(encodeRunDocument(createRunDocument(elsewhere))));
    await publishBucketCommitment(net.chain(), OPERATOR, NETUID, READ, [Uint8Array.from(Buffer.from(runConfigHash(elsewhere), 'hex'))]);
    await expect(readPublishedRun(net.chain(), net.storage(MINER), NETUID)).rejects.toThrow(new RegExp(`for netuid ${NETUID + 1}, not ${NETUID}`));
  });

  it('a validator that republishes only its bucket keeps the run hash beside it', async () => {
    const net = subnet();
    await publishRun(net.chain(), net.storage(OPERATOR), OPERATOR, createRunDocument(small), READ);
    expect((await publishBucketCommitment(net.chain(), OPERATOR, NETUID, READ)).kind).toBe('unchanged');
    const rotated = bucketReadCredentials('b'.repeat(32), 'r'.repeat(32), 's'.repeat(64));
    expect((await publishBucketCommitment(net.chain(), OPERATOR, NETUID, rotated)).kind).toBe('published');
    expect(bytesToHex((await net.chain().commitments(NETUID)).get(OPERATOR)!.moreFields[0]!)).toBe(runConfigHash(small));
  });
});
