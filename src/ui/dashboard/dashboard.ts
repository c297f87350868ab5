/**
 * Mounts the dashboard components for one `DashboardStore` into a container and redraws them on
 * change (at most once per animation frame). Used by the Contribute, Validate and Demo views.
 */
import { h } from '../dom.ts';
import { LossChart } from './loss-chart.ts';
import type { DashboardModel, DashboardStore } from './model.ts';
import { renderBreakdown, renderLeaderboard, renderSlashes, renderWhy } from './scores.ts';
import { renderTimeline } from './timeline.ts';
import { renderTraffic } from './traffic.ts';

export interface MountedDashboard {
  readonly element: HTMLElement;
  /** The model last drawn (for tests and `window.gauntlet.ui`). */
  rendered(): DashboardModel | null;
  /** Draws a pending change now (instead of at the next animation frame). */
  flush(): void;
  dispose(): void;
}

export interface DashboardParts {
  readonly timeline?: boolean;
  readonly loss?: boolean;
  readonly traffic?: boolean;
}

export function mountDashboard(store: DashboardStore, parts: DashboardParts = {}, onRender?: (model: DashboardModel) => void): MountedDashboard {
  const show = { timeline: parts.timeline ?? true, loss: parts.loss ?? true, traffic: parts.traffic ?? true };
  const timeline = h('div', { class: 'panel' });
  const chart = new LossChart();
  const traffic = h('div', { class: 'panel' });
  const breakdown = h('div', { class: 'panel wide' });
  const why = h('div', { class: 'panel' });
  const slashes = h('div', { class: 'panel' });
  const leaderboard = h('div', { class: 'panel' });
  const element = h(
    'div',
    { class: 'dashboard', 'data-dashboard': store.name },
    show.timeline && timeline,
    h('div', { class: 'grid' }, show.loss && h('div', { class: 'panel' }, chart.element), show.traffic && traffic),
    breakdown,
    h('div', { class: 'grid' }, why, h('div', { class: 'stack' }, slashes, leaderboard)),
  );
  let last: DashboardModel | null = null;
  let frame: { readonly id: number; readonly timer: boolean } | null = null;

  const draw = (): void => {
    frame = null;
    const model = store.model();
    if (show.timeline) timeline.replaceChildren(renderTimeline(model.timeline));
    if (show.loss) chart.update(model.loss);
    if (show.traffic) traffic.replaceChildren(renderTraffic(model.traffic));
    breakdown.replaceChildren(renderBreakdown(model.scores, (uid) => store.select(uid)));
    why.replaceChildren(renderWhy(model.scores.why));
    slashes.replaceChildren(renderSlashes(model.scores));
    leaderboard.replaceChildren(renderLeaderboard(model.scores));
    last = model;
    onRender?.(model);
  };
  // Hidden tabs get no animation frames; a timer keeps the published model current there too.
  const schedule = (): void => {
    if (frame !== null) return;
    frame = document.hidden ? { id: window.setTimeout(draw, 50), timer: true } : { id: requestAnimationFrame(draw), timer: false };
  };
  const unsubscribe = store.subscribe(schedule);
  draw();
  return {
    element,
    rendered: () => last,
    flush: () => {
      if (frame === null) return;
      if (frame.timer) window.clearTimeout(frame.id);
      else cancelAnimationFrame(frame.id);
      draw();
    },
    dispose: () => {
      unsubscribe();
      chart.dispose();
    },
  };
}
