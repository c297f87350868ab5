/**
 * The network layer's public surface: interfaces, typed errors, signers and verifiers, the devnet
 * coordinator's clients, S3 storage and the subtensor client. Wallet extensions are loaded lazily by
 * `ExtensionSigner`, so importing this barrel is safe in Node and in Workers.
 */
export * from './types.ts';
export * from './errors.ts';
export { isValidSignature, assertValidSignature } from './verify.ts';
export { KeyringSigner, BITTENSOR_SS58_PREFIX } from './keyring-signer.ts';
export { ExtensionSigner, type ExtensionConnectOptions } from './extension-signer.ts';
export { BITTENSOR_WALLET_NAME, KNOWN_WALLETS } from './wallets.ts';
export { submissionMessage, signSubmission, verifySubmission, type SubmissionContext } from './submission.ts';
export { checkTimeGate } from './time-gate.ts';
export { DevnetChain, DevnetStorage, type WebSocketConstructor, type WebSocketLike } from './devnet-client.ts';
export { S3Storage, bucketDirectory, type S3Credentials, type S3StorageOptions, type BucketDirectoryEntry } from './s3-storage.ts';
export {
  SubtensorChain, connectSubstrate, submitExtrinsic, detectFeatures, keyringAuthority, injectedAuthority,
  type AuthorityFor, type ExtrinsicAuthority, type SubtensorFeatures,
} from './subtensor-chain.ts';
export * from './subtensor-encoding.ts';
export * from './weight-commits.ts';
