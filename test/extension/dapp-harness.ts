/**
 * TEST-ONLY page harness: exposes the app's real `ExtensionSigner` and submission signing on
 * `window.gauntletWalletHarness`, so a Playwright test can drive the wallet flow on a blank page
 * without depending on the UI. Bundled as an IIFE by `build.ts`.
 */
import { ExtensionSigner } from '../../src/net/extension-signer.ts';
import { signSubmission, type SubmissionContext } from '../../src/net/submission.ts';

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
};

(window as unknown as { gauntletWalletHarness: typeof harness }).gauntletWalletHarness = harness;
