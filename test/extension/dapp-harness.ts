/**
 * TEST-ONLY page harness: exposes the app's real `ExtensionSigner` and submission signing on
 * `window.gauntletWalletHarness`, so a Playwright test can drive the wallet flow on a blank page
 * without depending on the UI. Bundled as an IIFE by `build.ts`.
 */
import { ExtensionSigner } from '../../src/net/extension-signer.ts';
import { signSubmission, type SubmissionContext } from '../../src/net/submission.ts';
import { DevnetChain, DevnetStorage } from '../../src/net/devnet-client.ts';
import { SubtensorChain, injectedAuthority, submitExtrinsic } from '../../src/net/subtensor-chain.ts';

let signer: ExtensionSigner | undefined;

const harness = {
  async connect(appName: string): Promise<string[]> {
    signer = await ExtensionSigner.connect(appName, { attempts: 3, retryDelayMs: 200 });
    return signer.names;
  },
  async accounts(): Promise<{ address: string; name?: string }[]> {
    if (signer === undefined) throw new Error('connect first');
    return signer.accounts();
  },
  /** Signs `bytes` (as a plain number array) for `context`; returns the hex signature or the error's class and message. */
  async signSubmission(hotkey: string, context: SubmissionContext, bytes: number[]): Promise<{ signature?: string; error?: { name: string; message: string } }> {
    if (signer === undefined) throw new Error('connect first');
    try {
      return { signature: await signSubmission(signer, hotkey, context, Uint8Array.from(bytes)) };
    } catch (error) {
      return { error: { name: error instanceof Error ? error.name : 'unknown', message: String(error) } };
    }
  },
  /** Block numbers seen on the devnet's WebSocket subscription (browser WebSocket). */
  async watchBlocks(baseUrl: string, count: number): Promise<number[]> {
    const seen: number[] = [];
    const chain = new DevnetChain(baseUrl);
    let stop: (() => void) | undefined;
    await new Promise<void>((resolve, reject) => {
      chain.subscribeBlocks((h) => {
        seen.push(h.number);
        if (seen.length === count) resolve();
      }).then((u) => { stop = u; }, reject);
    });
    stop?.();
    return seen;
  },
  /**
   * The miner's network steps in the page: register the hotkey (signed by the wallet), sign the
   * submission, and put the bytes and the signature into the hotkey's devnet bucket.
   */
  async registerAndSubmit(baseUrl: string, hotkey: string, context: SubmissionContext, key: string, bytes: number[]): Promise<{ uid: number; lastModifiedMs: number }> {
    if (signer === undefined) throw new Error('connect first');
    const { uid } = await new DevnetChain(baseUrl, signer).register(hotkey, context.netuid);
    const data = Uint8Array.from(bytes);
    const signature = await signSubmission(signer, hotkey, { ...context, uid }, data);
    const storage = new DevnetStorage(baseUrl, signer, hotkey);
    const info = await storage.put(key, data);
    await storage.put(`${key}.sig`, new TextEncoder().encode(signature));
    return { uid, lastModifiedMs: info.lastModifiedMs };
  },
  /**
   * On a Substrate node (chopsticks in the tests): follow `count` new heads, read a balance, and
   * transfer with the extension's `signPayload`; returns what the page saw.
   */
  async substrateTransfer(wsUrl: string, from: string, to: string, amount: string, count: number): Promise<{ specName: string; heads: number[]; block: number; timestampMs: number }> {
    const wallet = signer;
    if (wallet === undefined) throw new Error('connect first');
    const chain = await SubtensorChain.connect(wsUrl, injectedAuthority((address) => wallet.polkadotSigner(address)));
    try {
      const heads: number[] = [];
      const stop = await chain.subscribeBlocks((h) => heads.push(h.number));
      const tx = chain.api.tx.balances?.transferKeepAlive?.(to, amount);
      if (tx === undefined) throw new Error('no balances.transferKeepAlive');
      const result = await submitExtrinsic(chain.api, tx, { kind: 'injected', address: from, signer: await wallet.polkadotSigner(from) });
      const deadline = Date.now() + 20_000;
      while (heads.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      stop();
      return { specName: chain.api.runtimeVersion.specName.toString(), heads, block: result.block, timestampMs: await chain.blockTimestamp(result.block) };
    } finally {
      await chain.close();
    }
  },
};

(window as unknown as { gauntletWalletHarness: typeof harness }).gauntletWalletHarness = harness;
