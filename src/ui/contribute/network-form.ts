/**
 * The network choice form shared by Contribute and Validate: the devnet at this origin, or a
 * subtensor endpoint + netuid + storage (parsed by `network-settings.ts`, each bad field named). The
 * storage fields are optional: left empty, uploads go through the subnet's storage gateway (issue
 * #21), so a volunteer with only a wallet can join; filled, they name the peer's own S3 bucket. The
 * secret key is a password field read into memory on Connect; nothing is stored.
 */
import { h } from '../dom.ts';
import { NetworkSettingsError, parseSubtensorSettings, type NetworkForm, type NetworkSettings } from '../../net/network-settings.ts';
import { onClick } from './wallet-panel.ts';
import { errorMessage } from '../../core/errors.ts';

/** A session that can switch networks (it connects and reads the metagraph, or throws and keeps the previous one). */
export interface NetworkTarget {
  useNetwork(settings: NetworkSettings): Promise<void>;
  /** Publishes the chosen hotkey's bucket commitment on the subtensor network in use (its outcome, or why it is not needed, is the session's message). */
  publishBucketCommitment(): Promise<unknown>;
}

/** One text field of the subtensor form. */
function field(name: keyof NetworkForm, label: string, attributes: Record<string, string | number>): { label: HTMLElement; input: HTMLInputElement } {
  const input = h('input', { 'data-field': name, autocomplete: 'off', ...attributes });
  return { label: h('label', {}, `${label} `, input), input };
}

/** The "Network" panel: a devnet/subtensor select, the subtensor form, and the problem line (role="alert"). */
export function networkPanel(defaultNetuid: number, devnetUrl: string, session: NetworkTarget): HTMLElement {
  const fields = {
    endpoint: field('endpoint', 'Subtensor endpoint', { type: 'url', placeholder: 'wss://entrypoint-finney.opentensor.ai:443' }),
    netuid: field('netuid', 'netuid', { type: 'number', min: 0, max: 65535, value: defaultNetuid }),
    storageEndpoint: field('storageEndpoint', 'Storage endpoint', { type: 'url', placeholder: 'https://<account>.r2.cloudflarestorage.com' }),
    bucket: field('bucket', 'bucket', { type: 'text', placeholder: 'your bucket' }),
    region: field('region', 'region', { type: 'text', value: 'auto' }),
    accessKeyId: field('accessKeyId', 'access key id', { type: 'text' }),
    secretAccessKey: field('secretAccessKey', 'secret access key', { type: 'password' }),
    readKeyId: field('readKeyId', 'read key id', { type: 'text', placeholder: '32 characters' }),
    readSecret: field('readSecret', 'read secret', { type: 'text', placeholder: '64 characters' }),
  };
  const problem = h('p', { 'data-role': 'network-error', class: 'notice', role: 'alert', hidden: true });
  const connect = h('button', { type: 'button', 'data-action': 'connect-network' }, 'Connect');
  const commit = h('button', { type: 'button', 'data-action': 'publish-commitment' }, 'Publish bucket commitment');
  // The subnet's gateway first: a volunteer needs only the endpoint and the netuid. Their own bucket is the alternative, folded away.
  const ownBucket = h(
    'details',
    { 'data-role': 'own-bucket' },
    h('summary', {}, 'Use my own S3-compatible bucket instead'),
    h('p', {}, fields.storageEndpoint.label, ' ', fields.bucket.label, ' ', fields.region.label),
    h('p', {}, fields.accessKeyId.label, ' ', fields.secretAccessKey.label),
    h('p', { class: 'muted' }, "The bucket's write credentials stay in this tab's memory: never stored, logged or sent anywhere but to the storage endpoint. The bucket must allow this page's origin (a CORS rule for GET, HEAD and PUT), since the tab writes to it directly. Fill these in, then Connect above."),
    h('p', {}, fields.readKeyId.label, ' ', fields.readSecret.label, ' ', commit),
    h('p', { class: 'muted' }, "Other peers find your bucket through your hotkey's commitment on chain, which publishes the bucket name with a read-only token (a separate R2 token with read access only: the commitment is public). Connect, pick the hotkey, then publish; the wallet signs it, and nothing is sent when the chain already holds it."),
  );
  const realForm = h(
    'div',
    { 'data-role': 'real-network', hidden: true },
    h('p', {}, fields.endpoint.label, ' ', fields.netuid.label, ' ', connect),
    h('p', { class: 'muted', 'data-role': 'storage-hint' }, "Your uploads go through the subnet's storage gateway, which Connect finds on chain: no account at a storage provider is needed, each upload is signed by your hotkey. Connect, then register the hotkey below (Register, paid from your wallet) and Start."),
    ownBucket,
    problem,
  );
  const showProblem = (text: string | null, at?: keyof NetworkForm): void => {
    problem.hidden = text === null;
    problem.textContent = text ?? '';
    for (const [name, f] of Object.entries(fields)) f.input.setAttribute('aria-invalid', name === at ? 'true' : 'false');
  };
  const choice = h('select', { 'data-role': 'network' }, h('option', { value: 'devnet' }, `Devnet at ${devnetUrl}`), h('option', { value: 'real' }, 'A subtensor network…'));
  choice.addEventListener('change', () => {
    realForm.hidden = choice.value !== 'real';
    showProblem(null);
    if (choice.value === 'devnet') void session.useNetwork({ kind: 'devnet', url: devnetUrl }).catch(() => undefined);
  });
  onClick(connect, async () => {
    let settings: NetworkSettings;
    try {
      settings = parseSubtensorSettings({
        endpoint: fields.endpoint.input.value, netuid: fields.netuid.input.value, storageEndpoint: fields.storageEndpoint.input.value, bucket: fields.bucket.input.value,
        region: fields.region.input.value, accessKeyId: fields.accessKeyId.input.value, secretAccessKey: fields.secretAccessKey.input.value,
        readKeyId: fields.readKeyId.input.value, readSecret: fields.readSecret.input.value,
      });
    } catch (error) {
      if (!(error instanceof NetworkSettingsError)) throw error;
      showProblem(error.message, error.field);
      return;
    }
    showProblem(null);
    await session.useNetwork(settings).catch((error: unknown) => {
      showProblem(`Could not use this network: ${errorMessage(error)} The page still runs on the previous network.`);
    });
  });
  onClick(commit, () => session.publishBucketCommitment());
  return h('div', { class: 'panel', 'data-role': 'network-panel' }, h('h3', {}, 'Network'), choice, realForm);
}
