/**
 * The app shell: navigation between the views, the capability banner, and the `ui` object the page
 * publishes on `window.gauntlet` (the latest rendered dashboard models, the gate, the view shown).
 */
import type { RunConfig } from '../core/config.ts';
import type { CapabilityGate } from './capability.ts';
import type { DashboardModel } from './dashboard/model.ts';
import { byId, h } from './dom.ts';
import { hashOf, startRouter, VIEW_NAMES, VIEW_TITLES, type ViewName } from './router.ts';
import { renderAbout } from './views/about.ts';
import { renderCapabilityPanel, type BackendChoice } from './views/capability-panel.ts';
import { createContributeView, type ContributeView } from './views/contribute.ts';
import { createDemoView, type DemoView } from './views/demo.ts';
import { createValidateView, type ValidateView } from './views/validate.ts';
import { errorMessage } from '../core/errors.ts';

/** What the page publishes for tests and headless use under `window.gauntlet.ui`. */
export interface UiApi {
  /** The view shown now. */
  view(): ViewName;
  /** Navigates (same as following a link). */
  show(view: ViewName): void;
  /** The latest rendered model of each dashboard, by name ('contribute', 'validate', 'demo'). */
  readonly dashboards: Record<string, DashboardModel>;
  /** The capability decision, once made. */
  gate(): CapabilityGate | null;
  /** The backend the user chose ('auto' until they take the CPU path). */
  backend(): BackendChoice;
  /** Test hook: scores replay data (npm run score format) in the Validate view, synchronously. */
  scoreReplay(raw: unknown): DashboardModel;
  /** Draws every pending dashboard change now and returns the models. */
  flush(): Record<string, DashboardModel>;
  /** The Demo view (created on first use). */
  demo(): DemoView;
  /** The Contribute view: its session (wallet, registration, miner loop status) and dashboard. */
  contribute(): ContributeView;
  /** The Validate view: its live validator session (wallet, permit, scored windows) and dashboards. */
  validate(): ValidateView;
}

interface Views {
  contribute?: ContributeView;
  validate?: ValidateView;
  demo?: DemoView;
  about?: HTMLElement;
}

export function startApp(config: RunConfig, gate: Promise<CapabilityGate>): UiApi {
  const nav = byId<HTMLElement>('views-nav');
  const main = byId<HTMLElement>('views');
  const dashboards: Record<string, DashboardModel> = {};
  const publish = (model: DashboardModel): void => {
    dashboards[model.name] = model;
  };
  const views: Views = {};
  const containers = new Map<ViewName, HTMLElement>();
  let current: ViewName = 'contribute';
  let decided: CapabilityGate | null = null;
  let backend: BackendChoice = 'auto';

  const links = VIEW_NAMES.map((name) => h('a', { href: hashOf(name), 'data-view-link': name }, VIEW_TITLES[name]));
  nav.replaceChildren(h('ul', {}, ...links.map((link) => h('li', {}, link))));

  const contribute = (): ContributeView => {
    views.contribute ??= createContributeView(config, publish, demoBackend);
    if (decided !== null) views.contribute.showGate(decided);
    return views.contribute;
  };
  const validate = (): ValidateView => (views.validate ??= createValidateView(config, publish));
  // Without a usable GPU the demo's engines run on the CPU path even before the user clicks the offer.
  const demoBackend = (): BackendChoice => (backend === 'wasm' || decided?.kind === 'wasm' ? 'wasm' : 'auto');
  const demo = (): DemoView => (views.demo ??= createDemoView(config, publish, demoBackend));

  const build = (view: ViewName): HTMLElement => {
    switch (view) {
      case 'contribute':
        return contribute().element;
      case 'validate':
        return validate().element;
      case 'demo':
        return demo().element;
      case 'about':
        return (views.about ??= renderAbout(config));
    }
  };

  const show = (view: ViewName): void => {
    current = view;
    let container = containers.get(view);
    if (container === undefined) {
      container = h('section', { class: 'view', id: `view-${view}`, 'data-view': view, 'aria-label': VIEW_TITLES[view] }, build(view));
      containers.set(view, container);
      main.append(container);
    }
    for (const [name, element] of containers) element.hidden = name !== view;
    for (const link of links) {
      if (link.dataset.viewLink === view) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = `${VIEW_TITLES[view]} · Gauntlet peer`;
  };
  startRouter(show);

  gate.then(
    (result) => {
      decided = result;
      renderCapabilityPanel(byId('gpu-summary'), byId('gpu-details'), result, (choice) => {
        backend = choice;
      });
      views.contribute?.showGate(result);
    },
    (error: unknown) => {
      const summary = byId('gpu-summary');
      summary.className = 'problem';
      summary.textContent = `The capability check failed: ${errorMessage(error)}. Reload the page; if it persists, use the CPU (WASM) path.`;
    },
  );

  return {
    view: () => current,
    show: (view) => {
      location.hash = hashOf(view);
    },
    dashboards,
    gate: () => decided,
    backend: () => backend,
    scoreReplay: (raw) => {
      const view = validate();
      view.load(raw).runAll();
      view.dashboard.flush();
      return view.store.model();
    },
    flush: () => {
      for (const view of [views.contribute, views.demo]) view?.dashboard.flush();
      views.validate?.flush();
      return dashboards;
    },
    demo,
    contribute,
    validate,
  };
}
