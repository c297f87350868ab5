/** Tokens per second, bytes sent per window and the compression ratio against dense float32. */
import { definitionList, formatBytes, formatNumber, h, table } from '../dom.ts';
import type { TrafficPoint } from './model.ts';

export function renderTraffic(points: readonly TrafficPoint[]): HTMLElement {
  const latest = points[points.length - 1];
  if (latest === undefined) {
    return h('div', { class: 'traffic' }, h('h3', {}, 'Throughput and traffic'), h('p', { class: 'muted' }, 'Nothing sent yet.'));
  }
  const summary = definitionList([
    ['Tokens per second', formatNumber(latest.tokensPerSecond, 3)],
    ['Sent this window', formatBytes(latest.bytesSent)],
    ['Same update, dense float32', formatBytes(latest.denseBytes)],
    ['Compression', latest.compressionRatio === null ? '—' : `${latest.compressionRatio.toFixed(1)} × smaller`],
  ]);
  const recent = points.slice(-6).reverse();
  const history = table(
    ['window', 'tokens/s', 'sent', 'ratio'],
    recent.map((p) => [String(p.window), formatNumber(p.tokensPerSecond, 3), formatBytes(p.bytesSent), p.compressionRatio === null ? '—' : `${p.compressionRatio.toFixed(1)}×`]),
    { class: 'compact' },
  );
  return h('div', { class: 'traffic' }, h('h3', {}, 'Throughput and traffic'), summary, history);
}
