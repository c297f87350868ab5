/**
 * Minimal inline-SVG charts for self-contained HTML reports (no script, no fonts, nothing fetched):
 * a line chart, a bar chart and a stacked bar chart, with linear axes and "nice" ticks.
 */

const WIDTH = 720;
const HEIGHT = 320;
const MARGIN = { left: 72, right: 16, top: 36, bottom: 64 } as const;

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Up to ~`count` round tick values covering [min, max] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max === min) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

interface Frame {
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
  readonly yTicks: readonly number[];
}

function frame(xMin: number, xMax: number, yMin: number, yMax: number): Frame {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xSpan = xMax - xMin || 1;
  const ySpan = yMax - yMin || 1;
  return {
    x: (v) => MARGIN.left + ((v - xMin) / xSpan) * plotW,
    y: (v) => MARGIN.top + plotH - ((v - yMin) / ySpan) * plotH,
    yTicks: niceTicks(yMin, yMax),
  };
}

function svgOpen(title: string, kind: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${kind}" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}" font-family="system-ui,sans-serif" font-size="11">` +
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeHtml(title)}</text>`;
}

function yAxis(f: Frame, label: string): string {
  const left = MARGIN.left;
  const right = WIDTH - MARGIN.right;
  const grid = f.yTicks.map((t) => `<line x1="${left}" x2="${right}" y1="${f.y(t)}" y2="${f.y(t)}" stroke="#e2e8f0"/><text x="${left - 6}" y="${f.y(t) + 4}" text-anchor="end">${formatTick(t)}</text>`).join('');
  const mid = MARGIN.top + (HEIGHT - MARGIN.top - MARGIN.bottom) / 2;
  return grid + `<text transform="translate(14 ${mid}) rotate(-90)" text-anchor="middle">${escapeHtml(label)}</text>` +
    `<line x1="${left}" x2="${left}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#4a5568"/><line x1="${left}" x2="${right}" y1="${HEIGHT - MARGIN.bottom}" y2="${HEIGHT - MARGIN.bottom}" stroke="#4a5568"/>`;
}

function legend(entries: readonly { name: string; colour: string }[]): string {
  const spacing = Math.min(220, (WIDTH - MARGIN.left) / Math.max(1, entries.length));
  return entries.map((e, i) => {
    const x = MARGIN.left + i * spacing;
    const y = HEIGHT - 14;
    return `<rect x="${x}" y="${y - 9}" width="12" height="10" fill="${e.colour}"/><text x="${x + 16}" y="${y}">${escapeHtml(e.name)}</text>`;
  }).join('');
}

export interface ChartSeries {
  readonly name: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
}

/** Lines with point markers; the y range is padded so close curves stay apart. */
export function lineChart(options: { title: string; xLabel: string; yLabel: string; series: readonly ChartSeries[] }): string {
  const all = options.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const yLo = Math.min(...ys);
  const yHi = Math.max(...ys);
  const pad = (yHi - yLo) * 0.08 || Math.abs(yHi) * 0.01 || 1;
  const f = frame(Math.min(...xs), Math.max(...xs), yLo - pad, yHi + pad);
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs));
  const xAxis = xTicks.map((t) => `<text x="${f.x(t)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${formatTick(t)}</text>`).join('') +
    `<text x="${MARGIN.left + (WIDTH - MARGIN.left - MARGIN.right) / 2}" y="${HEIGHT - MARGIN.bottom + 34}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`;
  const lines = options.series.map((s) => {
    const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f.x(p[0]).toFixed(1)} ${f.y(p[1]).toFixed(1)}`).join(' ');
    const dots = s.points.map((p) => `<circle cx="${f.x(p[0]).toFixed(1)}" cy="${f.y(p[1]).toFixed(1)}" r="3" fill="${s.colour}"><title>${escapeHtml(`${s.name}: ${p[1]} at ${p[0]}`)}</title></circle>`).join('');
    return `<path d="${path}" fill="none" stroke="${s.colour}" stroke-width="2" data-series="${escapeHtml(s.name)}"/>${dots}`;
  }).join('');
  return `${svgOpen(options.title, 'line')}${yAxis(f, options.yLabel)}${xAxis}${lines}${legend(options.series)}</svg>`;
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly colour: string;
}

/** Vertical bars from zero (negative values hang below the axis line at zero). */
export function barChart(options: { title: string; yLabel: string; bars: readonly Bar[] }): string {
  const values = options.bars.map((b) => b.value);
  const f = frame(0, Math.max(1, options.bars.length), Math.min(0, ...values), Math.max(0, ...values) || 1);
  const slot = (WIDTH - MARGIN.left - MARGIN.right) / Math.max(1, options.bars.length);
  const bars = options.bars.map((b, i) => {
    const top = f.y(Math.max(0, b.value));
    const height = Math.abs(f.y(b.value) - f.y(0));
    const x = MARGIN.left + i * slot + slot * 0.15;
    return `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${height.toFixed(1)}" fill="${b.colour}"><title>${escapeHtml(`${b.label}: ${b.value}`)}</title></rect>` +
      `<text x="${(x + slot * 0.35).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${escapeHtml(b.label)}</text>`;
  }).join('');
  return `${svgOpen(options.title, 'bar')}${yAxis(f, options.yLabel)}${bars}</svg>`;
}

/** One bar per category, stacked from the series' non-negative values. */
export function stackedBarChart(options: { title: string; yLabel: string; categories: readonly string[]; stacks: readonly { name: string; colour: string; values: readonly number[] }[] }): string {
  const totals = options.categories.map((_, i) => options.stacks.reduce((a, s) => a + Math.max(0, s.values[i] ?? 0), 0));
  const f = frame(0, Math.max(1, options.categories.length), 0, Math.max(1, ...totals));
  const slot = (WIDTH - MARGIN.left - MARGIN.right) / Math.max(1, options.categories.length);
  const bars = options.categories.map((category, i) => {
    let base = 0;
    const x = MARGIN.left + i * slot + slot * 0.15;
    const segments = options.stacks.map((s) => {
      const v = Math.max(0, s.values[i] ?? 0);
      const rect = `<rect x="${x.toFixed(1)}" y="${f.y(base + v).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${(f.y(base) - f.y(base + v)).toFixed(1)}" fill="${s.colour}"><title>${escapeHtml(`${category} ${s.name}: ${v.toFixed(0)}`)}</title></rect>`;
      base += v;
      return rect;
    }).join('');
    return segments + `<text x="${(x + slot * 0.35).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${escapeHtml(category)}</text>`;
  }).join('');
  return `${svgOpen(options.title, 'stacked-bar')}${yAxis(f, options.yLabel)}${bars}${legend(options.stacks)}</svg>`;
}
