/**
 * Endpoints for the real-network tests: a port nothing listens on, and a real Substrate runtime that
 * is not subtensor (Rococo Asset Hub from its chain spec, run in memory by chopsticks).
 */
import { createServer } from 'node:net';

/** A TCP port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Rococo Asset Hub under chopsticks on a free local port, one block per transaction; `close` when done. */
export async function startNonSubtensorNode(): Promise<{ readonly addr: string; close(): Promise<void> }> {
  process.env.LOG_LEVEL ??= 'error';
  const { setupWithServer, BuildBlockMode } = await import('@acala-network/chopsticks');
  const { chainSpec } = await import('@substrate/connect-known-chains/rococo_v2_2_asset_hub');
  return setupWithServer({ genesis: JSON.parse(chainSpec) as never, port: 0, host: '127.0.0.1', 'build-block-mode': BuildBlockMode.Instant });
}
