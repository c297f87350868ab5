/**
 * The capability banner shown above every view: what the GPU can do, the preset that fits, and,
 * when WebGPU is unusable, the CPU (WASM) path offered in plain words (style.md §1.1, §1.3).
 * Rendered before anything is downloaded.
 */
import type { GpuCapability } from '../../gpu/device.ts';
import type { CapabilityGate } from '../capability.ts';
import { definitionList, formatBytes, h } from '../dom.ts';

export type BackendChoice = 'auto' | 'wasm';

function adapterText(cap: GpuCapability): string {
  return [cap.vendor, cap.architecture, cap.description].filter(Boolean).join(' · ') || 'not disclosed by the browser';
}

/** Fills `#gpu-status` (its `#gpu-summary` line and `#gpu-details`). */
export function renderCapabilityPanel(
  summary: HTMLElement,
  details: HTMLElement,
  gate: CapabilityGate,
  onChooseBackend: (choice: BackendChoice) => void,
): void {
  const cap = gate.capability;
  details.replaceChildren();
  if (gate.kind === 'wasm') {
    summary.className = 'problem';
    summary.textContent = cap.available
      ? 'WebGPU is available here, but this GPU cannot hold the model.'
      : `WebGPU is not available here: ${cap.reason ?? 'unknown reason'}. This tab cannot train on a GPU.`;
    const useCpu = h('button', { type: 'button', class: 'primary', 'data-action': 'use-wasm' }, 'Use the CPU (WASM) path');
    useCpu.addEventListener('click', () => {
      onChooseBackend('wasm');
      useCpu.disabled = true;
      useCpu.textContent = 'CPU (WASM) path chosen';
    });
    details.append(
      h(
        'div',
        { class: 'fallback', role: 'note' },
        h('p', {}, `You can still take part: ${gate.explanation}`),
        h('p', { class: 'muted' }, `For the GPU path: use a recent Chrome, Edge or Chromium, open the page over https or http://localhost, and make sure hardware acceleration is on. (${gate.error.name})`),
        useCpu,
      ),
    );
    return;
  }
  summary.className = 'ok';
  summary.textContent = gate.software
    ? 'WebGPU works, but on a software (CPU) adapter: fine for the demo, slow for training.'
    : 'WebGPU works on this GPU.';
  details.append(
    definitionList(
      [
        ['Adapter', adapterText(cap)],
        ['Largest storage binding', formatBytes(cap.limits?.maxStorageBufferBindingSize ?? 0)],
        ['Largest buffer', formatBytes(cap.limits?.maxBufferSize ?? 0)],
        ['Features', cap.features?.join(', ') || 'none'],
        ['The run', h('span', { 'data-preset': gate.preset }, `${gate.needs.runId}: the ${gate.preset} preset, ${gate.needs.parameterCount.toLocaleString('en')} parameters`)],
        ['Training memory', `about ${formatBytes(gate.needs.memory.totalBytes)} (estimate: state ${formatBytes(gate.needs.memory.stateBytes)}, runtime copies ${formatBytes(gate.needs.memory.runtimeCopyBytes)}, activations ${formatBytes(gate.needs.memory.activationBytes)})`],
      ],
      { id: 'gpu-facts' },
    ),
    h('p', { class: 'muted' }, gate.explanation),
  );
}
