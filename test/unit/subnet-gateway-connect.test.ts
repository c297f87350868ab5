/**
 * What the page's Connect does with empty storage fields (issue #21): the subnet's gateway is the URL
 * its lead validator publishes on chain (the third field of its commitment), checked against the
 * gateway's own info, which must be for this netuid. A subnet that publishes no run or no gateway is
 * refused in plain words, and the volunteer is told to fill in a bucket of their own instead. The
 * chain is the in-memory network (the test double of subtensor); the gateway is a real one
 * (src/gateway, on s3rver and a devnet chain).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smallRunConfig } from '../../src/core/run-config.ts';
import { createRunDocument } from '../../src/core/run-document.ts';
import { bucketReadCredentials } from '../../src/net/bucket-commitment.ts';
import { BadRequestError, UnavailableError } from '../../src/net/errors.ts';
import { MemoryNetwork } from '../../src/net/memory-network.ts';
import { GatewayUrlError, publishRun } from '../../src/peer/published-run.ts';
import { findSubnetGateway, NoSubnetGatewayError } from '../../src/peer/subnet-gateway.ts';
import { GATEWAY_NETUID, startGatewayBench, type GatewayBench } from './gateway-harness.ts';
import type { RunningGateway } from '../../src/gateway/server.ts';

const OPERATOR = '5OperatorValidator';
const READ = bucketReadCredentials('a'.repeat(32), 'r'.repeat(32), 's'.repeat(64));

/** A subnet whose run validator is `OPERATOR` (with a permit), which has published nothing yet. */
function subnet(netuid: number): MemoryNetwork {
  const net = new MemoryNetwork({
    netuid, clock: () => 1_000_000,
    hyperparams: { tempo: 360, commitRevealEnabled: false, revealPeriodEpochs: 1, weightsRateLimit: 0, weightsVersionKey: 0n, minAllowedWeights: 1, blockTimeMs: 12_000 },
  });
  net.register({ hotkey: OPERATOR, stake: 100 });
  net.setRunValidators([OPERATOR]);
  return net;
}

async function publish(net: MemoryNetwork, gatewayUrl?: string): Promise<void> {
  await publishRun(net.chain(), net.storage(OPERATOR), OPERATOR, createRunDocument({ ...smallRunConfig(), netuid: net.netuid }), READ, gatewayUrl);
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(() => undefined, (error: unknown) => error);
  expect(outcome).toBeInstanceOf(Error);
  return outcome as Error;
}

describe("Connect with no bucket: the subnet's gateway, found on chain", () => {
  let bench: GatewayBench;
  let gateway: RunningGateway;
  beforeAll(async () => {
    bench = await startGatewayBench(1);
    gateway = await bench.gateway();
  }, 60_000);
  afterAll(async () => {
    await bench.close();
  });

  it('resolves the published gateway into the storage settings the worker uses, with its S3 endpoint and limits', async () => {
    const net = subnet(GATEWAY_NETUID);
    await publish(net, `${gateway.url}/`);
    const found = await findSubnetGateway(net.chain(), GATEWAY_NETUID);
    expect(found.storage).toEqual({ kind: 'gateway', url: gateway.url, s3Endpoint: bench.s3.endpoint.replace(/\/+$/, ''), region: expect.any(String) as unknown });
    expect(found.info).toMatchObject({ netuid: GATEWAY_NETUID, quotaBytes: gateway.info.quotaBytes, quotaObjects: gateway.info.quotaObjects, writesPerMinute: gateway.info.writesPerMinute });
  });

  it('refuses a subnet that publishes no run, or a run without a gateway, telling the volunteer to fill in a bucket', async () => {
    const net = subnet(GATEWAY_NETUID);
    const noRun = await refusal(findSubnetGateway(net.chain(), GATEWAY_NETUID));
    expect(noRun).toBeInstanceOf(NoSubnetGatewayError);
    expect(noRun.message).toMatch(new RegExp(`^netuid ${GATEWAY_NETUID} publishes no storage gateway \\(No run validator of netuid ${GATEWAY_NETUID} has committed a run hash.*\\): bring a bucket of your own\\.$`));
    await publish(net);
    const noGateway = await refusal(findSubnetGateway(net.chain(), GATEWAY_NETUID));
    expect(noGateway).toBeInstanceOf(NoSubnetGatewayError);
    expect(noGateway.message).toBe(`netuid ${GATEWAY_NETUID} publishes no storage gateway: bring a bucket of your own.`);
  });

  it("refuses a gateway of another subnet, one that does not answer, and a URL that is not a gateway's", async () => {
    const other = subnet(GATEWAY_NETUID + 1);
    await publish(other, gateway.url);
    const elsewhere = await refusal(findSubnetGateway(other.chain(), GATEWAY_NETUID + 1));
    expect(elsewhere).toBeInstanceOf(BadRequestError);
    expect(elsewhere.message).toBe(`The gateway at ${gateway.url} serves netuid ${GATEWAY_NETUID}, not ${GATEWAY_NETUID + 1}.`);

    const closed = subnet(GATEWAY_NETUID);
    await publish(closed, 'http://127.0.0.1:9');
    const unreachable = await refusal(findSubnetGateway(closed.chain(), GATEWAY_NETUID));
    expect(unreachable).toBeInstanceOf(UnavailableError);
    expect(unreachable.message).toContain('The gateway at http://127.0.0.1:9 cannot be reached');

    // A commitment field written by hand, not through publishRun's check.
    const bad = subnet(GATEWAY_NETUID);
    await publish(bad);
    const commitment = (await bad.chain().commitments(GATEWAY_NETUID)).get(OPERATOR)!;
    await bad.chain().setCommitment(OPERATOR, GATEWAY_NETUID, commitment.data, [commitment.moreFields[0]!, new TextEncoder().encode('ftp://gateway.example.org')]);
    const notHttp = await refusal(findSubnetGateway(bad.chain(), GATEWAY_NETUID));
    expect(notHttp).toBeInstanceOf(GatewayUrlError);
    expect(notHttp.message).toContain('must be http(s)');
  });
});
