/** Local and network loss per window (and the Demo's data-parallel AdamW baseline), drawn with uPlot. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../dom.ts';
import type { LossPoint } from './model.ts';

const SERIES = [
  { key: 'local', label: 'this peer (inner steps)', stroke: '#1f6feb' },
  { key: 'network', label: 'network model (random data)', stroke: '#16794a' },
  { key: 'baseline', label: 'data-parallel AdamW (same tokens)', stroke: '#a3571a' },
] as const;

/** A chart that keeps its uPlot instance and only swaps data on update. */
export class LossChart {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private readonly plotHost: HTMLElement;
  private readonly empty: HTMLElement;

  constructor(title = 'Loss') {
    this.plotHost = h('div', { class: 'chart', role: 'img', 'aria-label': `${title} per window` });
    this.empty = h('p', { class: 'muted' }, 'No loss figures yet: they appear after the first window.');
    this.element = h('div', { class: 'loss-chart' }, h('h3', {}, title), this.empty, this.plotHost);
  }

  update(points: readonly LossPoint[]): void {
    const shown = SERIES.filter((s) => points.some((p) => p[s.key] !== null));
    this.empty.hidden = points.length > 0;
    if (points.length === 0) return;
    const data: uPlot.AlignedData = [points.map((p) => p.window), ...shown.map((s) => points.map((p) => p[s.key]))];
    const keys = shown.map((s) => s.key).join(',');
    if (this.plot !== null && this.plot.root.dataset.keys === keys) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    const width = Math.max(320, Math.min(900, this.plotHost.clientWidth || 640));
    this.plot = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: false } },
        axes: [{ label: 'window' }, { label: 'loss' }],
        series: [{ label: 'window' }, ...shown.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: true }))],
      },
      data,
      this.plotHost,
    );
    this.plot.root.dataset.keys = keys;
  }

  dispose(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}
