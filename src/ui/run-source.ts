/**
 * Which run this page serves (issue #17). A devnet hands the page its run document inside the page
 * itself (`<script type="application/json" id="run-document">`, src/devnet/routes.ts), so the page
 * knows the run before any view is built, and checks it as every peer does (`parseRunDocument`:
 * bounds, a config that validates, the stated hash against the config's). `?run-hash=H` in the
 * page's URL pins the run: a document for another run is refused. A page without a document (the
 * Vite dev server, a static copy) says so and keeps the tiny preset for the Demo, whose run is its
 * own; Contribute and Validate on the devnet then fail at Start with the reason, since the workers
 * fetch the network's document themselves.
 */
import type { RunConfig } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import { tinyRunConfig } from '../core/run-config.ts';
import { parseRunDocument, RUN_DOCUMENT_VERSION, type RunDocument } from '../core/run-document.ts';
import type { RunJoinedEvent } from '../peer/events.ts';
import { parameterCount } from '../model/params.ts';
import { RUN_DOCUMENT_ELEMENT_ID } from '../net/run-document-client.ts';
import { h } from './dom.ts';

export type PageRun =
  | { readonly kind: 'network'; readonly config: RunConfig; readonly document: RunDocument }
  | { readonly kind: 'none'; readonly config: RunConfig; readonly problem: string };

/** The run the page was served with, checked; or the tiny preset with the reason there is none. */
export function readPageRun(page: Document, search: string): PageRun {
  const element = page.getElementById(RUN_DOCUMENT_ELEMENT_ID);
  const fallback = tinyRunConfig();
  if (element === null) {
    return { kind: 'none', config: fallback, problem: 'This page was not served by a network (no run document in it: start one with `npm start` and open the address it prints). The Demo runs on its own; Contribute and Validate need a network.' };
  }
  const pinned = new URLSearchParams(search).get('run-hash') ?? undefined;
  try {
    const document = parseRunDocument(element.textContent ?? '', { source: 'this page', ...(pinned === undefined ? {} : { expectedHash: pinned }) });
    return { kind: 'network', config: document.config, document };
  } catch (error) {
    return { kind: 'none', config: fallback, problem: `This page's run document is refused: ${errorMessage(error)}` };
  }
}

/**
 * After Start: the run the worker joined, read from the network (on subtensor the page learns it
 * only then), shown in place of the page's run line.
 */
export function showJoinedRun(event: RunJoinedEvent): void {
  const run: PageRun = { kind: 'network', config: event.config, document: { version: RUN_DOCUMENT_VERSION, runHash: event.runHash, config: event.config } };
  document.getElementById('run-summary')?.replaceWith(renderRunSummary(run));
}

/** One line on which run the page joined: preset, parameters, window length, run hash (or why there is none). */
export function renderRunSummary(run: PageRun): HTMLElement {
  if (run.kind === 'none') return h('p', { id: 'run-summary', class: 'notice', role: 'status' }, run.problem);
  const { config, document } = run;
  const windowSeconds = (config.window.blocksPerWindow * config.window.blockTimeMs) / 1000;
  return h(
    'p', { id: 'run-summary', 'data-run-hash': document.runHash },
    `Run ${config.runId}: the ${config.preset} preset, ${parameterCount(config.model).toLocaleString('en')} parameters, ${windowSeconds} s windows on netuid ${config.netuid}; run hash `,
    h('code', { title: document.runHash }, document.runHash.slice(0, 16)),
    '…',
  );
}
