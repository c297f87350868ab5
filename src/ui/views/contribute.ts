/**
 * The Contribute view: what this tab can do (from the capability gate), how the wallet is used,
 * which network it joins, and the dashboard the miner loop will feed. The miner loop itself
 * (src/peer) is not wired into the page yet; the view says so instead of pretending.
 */
import type { ScoringConfig } from '../../core/config.ts';
import type { CapabilityGate } from '../capability.ts';
import { mountDashboard, type MountedDashboard } from '../dashboard/dashboard.ts';
import { DashboardStore, type DashboardModel } from '../dashboard/model.ts';
import { formatBytes, h, table } from '../dom.ts';

export interface ContributeView {
  readonly element: HTMLElement;
  readonly store: DashboardStore;
  readonly dashboard: MountedDashboard;
  showGate(gate: CapabilityGate): void;
}

export function createContributeView(config: ScoringConfig, onRender: (model: DashboardModel) => void): ContributeView {
  const store = new DashboardStore('contribute', config);
  const dashboard = mountDashboard(store, {}, onRender);
  const gateBlock = h('div', { class: 'panel gate' }, h('p', { class: 'muted' }, 'Checking what this tab can do…'));

  const showGate = (gate: CapabilityGate): void => {
    const rows = gate.needs.map((need) => [
      need.preset,
      need.parameterCount.toLocaleString('en'),
      formatBytes(need.largestBufferBytes),
      need.preset === gate.preset ? 'chosen' : '',
    ]);
    gateBlock.replaceChildren(
      h('h3', {}, 'This tab'),
      h('p', {}, gate.kind === 'webgpu' ? `Trains on WebGPU with the ${gate.preset} preset. ${gate.explanation}` : gate.explanation),
      table(['preset', 'parameters', 'largest GPU buffer', ''], rows, { class: 'compact', 'data-gate': gate.kind }),
    );
  };

  const element = h(
    'div',
    { class: 'view-contribute' },
    h('h2', {}, 'Contribute'),
    h('p', {}, 'Your tab trains on its share of the data, compresses what it learned, signs it with your wallet and sends it. Validators score it, and the score decides your share of the rewards.'),
    gateBlock,
    h(
      'div',
      { class: 'panel' },
      h('h3', {}, 'Wallet and network'),
      h('p', {}, 'Connect a Polkadot-family wallet extension, or pick a development account on the local devnet (the default network). Signing happens inside your wallet.'),
      h('p', { class: 'notice' }, 'This page never asks for a seed phrase or a private key. Anyone who does is not us.'),
      h('p', { class: 'muted' }, 'The miner loop is not connected to this page yet; in the meantime the Demo view runs the same loops for a whole network of virtual peers in this tab.'),
    ),
    dashboard.element,
  );
  return { element, store, dashboard, showGate };
}
