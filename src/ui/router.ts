/**
 * Hash routing between the four views (`#/contribute`, `#/validate`, `#/demo`, `#/about`). Views
 * are built on first visit and kept, so leaving the Demo running and reading About loses nothing.
 */

export const VIEW_NAMES = ['contribute', 'validate', 'demo', 'about'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

export const VIEW_TITLES: Record<ViewName, string> = {
  contribute: 'Contribute',
  validate: 'Validate',
  demo: 'Demo',
  about: 'About',
};

export const DEFAULT_VIEW: ViewName = 'contribute';

/** The view named by a location hash (`#/demo`, `#demo`), or the default for anything else. */
export function viewFromHash(hash: string): ViewName {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return (VIEW_NAMES as readonly string[]).includes(name) ? (name as ViewName) : DEFAULT_VIEW;
}

export function hashOf(view: ViewName): string {
  return `#/${view}`;
}

/** Calls `show` with the current view now and on every hash change. */
export function startRouter(show: (view: ViewName) => void): () => void {
  const onChange = (): void => show(viewFromHash(location.hash));
  window.addEventListener('hashchange', onChange);
  onChange();
  return () => window.removeEventListener('hashchange', onChange);
}
