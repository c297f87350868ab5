/**
 * Signing and verifying a submission (chain.md §5; gauntlet-spec §5.5 "our design adds a wallet
 * signature per submission"). The wallet signs the wire format's `signingMessage` (blake2b-256 over
 * the domain tag, run id, run hash, netuid, window, uid and the sha256 content hash). The verifier rebuilds that
 * message from **its own** view of run, window and uid and from the bytes it downloaded, so a changed
 * byte (tampering) or the same upload presented for another window (replay) fails verification.
 */
import { hexToBytes } from '@noble/hashes/utils';
import { contentHash, signingMessage } from '../core/wire/hashes.ts';
import { assertValidSignature } from './verify.ts';
import type { HexString, Signer } from './types.ts';

export interface SubmissionContext {
  readonly runId: string;
  /** The run hash (`runConfigHash`, 64 hex digits) of the run this submission is for. */
  readonly runHash: string;
  readonly netuid: number;
  readonly window: number;
  readonly uid: number;
}

/** The message a hotkey signs for `bytes` submitted in `context`. */
export function submissionMessage(context: SubmissionContext, bytes: Uint8Array): Uint8Array {
  return signingMessage({ runId: context.runId, runConfigHash: hexToBytes(context.runHash), netuid: context.netuid, window: context.window, uid: context.uid, contentHash: contentHash(bytes) });
}

export async function signSubmission(signer: Signer, hotkey: string, context: SubmissionContext, bytes: Uint8Array): Promise<HexString> {
  return signer.signRaw(hotkey, submissionMessage(context, bytes));
}

/** Throws `BadSignatureError` unless `hotkey` signed exactly these bytes for exactly this context. */
export function verifySubmission(context: SubmissionContext, bytes: Uint8Array, signature: HexString | Uint8Array, hotkey: string): void {
  assertValidSignature(submissionMessage(context, bytes), signature, hotkey, `submission of uid ${context.uid} for window ${context.window}`);
}
