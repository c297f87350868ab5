/**
 * Small typed DOM helpers: the app has no framework, so views build their markup with `h` and
 * replace it wholesale when their model changes. Text always goes through `textContent`, never
 * `innerHTML`, so nothing a peer publishes (uids, reasons, error messages) can inject markup.
 */

type Child = Node | string | number | null | undefined | false;
type Attributes = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** `h('p', {class: 'x'}, 'text', child)`: an element with attributes and children. `false`/`null` children are skipped. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/** Appends children (strings become text nodes). */
export function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/** The element with `id`, or a clear error naming what index.html lacks. */
export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html lacks #${id}; the page markup and src/ui are out of step (rebuild the app).`);
  return element as T;
}

/** A `<dl>` from term/value pairs. */
export function definitionList(rows: readonly (readonly [string, Child])[], attributes: Attributes = {}): HTMLDListElement {
  const list = h('dl', attributes);
  for (const [term, value] of rows) list.append(h('dt', {}, term), h('dd', {}, value));
  return list;
}

/** A table with a header row; each cell is a child (string or node). */
export function table(headers: readonly string[], rows: readonly (readonly Child[])[], attributes: Attributes = {}): HTMLTableElement {
  const head = h('thead', {}, h('tr', {}, ...headers.map((title) => h('th', { scope: 'col' }, title))));
  const body = h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell)))));
  return h('table', attributes, head, body);
}

/** A number for people: fixed significant digits, `—` for null, exact integers as integers. */
export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined) return '—';
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential(digits - 1);
  return value.toPrecision(digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** A share in [0, 1] as a percentage. */
export function formatPercent(share: number | null | undefined, digits = 1): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return `${(share * 100).toFixed(digits)} %`;
}

/** Bytes in B / KiB / MiB / GiB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
