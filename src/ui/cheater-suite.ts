/**
 * What the rules did to each behaviour in the cheater suite (test/unit/simulation.test.ts: the real
 * miner and validator loops on wasm engines), from its recorded results, so the Demo and the About
 * page state outcomes that were measured, not claims written by hand. The suite rewrites the results
 * with UPDATE_CHEATER_SUITE_RESULTS=1.
 */
import type { BehaviourName } from '../peer/behaviours.ts';
import results from './cheater-suite-results.json';

export const cheaterSuite = results;
export type SuiteClass = (typeof results.classes)[number];

/** A share as people read it: one decimal below 10 %, none above; `—` when there is none. */
export function percentOf(share: number | null): string {
  return share === null ? '—' : `${(100 * share).toFixed(share > 0 && share < 0.1 ? 1 : 0)} %`;
}

/** One line on what the suite measured for `behaviour`, or null when the suite has no class of that name. */
export function suiteOutcome(behaviour: BehaviourName): string | null {
  const found = results.classes.find((c) => c.name === behaviour);
  if (found === undefined) return null;
  const indicator = found.plusShare === null ? '' : `, b = +1 in ${percentOf(found.plusShare)} of ${found.evaluations} evaluations`;
  if (behaviour === 'honest') return `In the cheater suite (${results.windows} windows) the honest peers ended with ${percentOf(found.finalWeightShare)} of the miners' weight${indicator}.`;
  const below = found.windowsUntilBelowEveryHonestPeer === null ? `never weighed less than every honest peer for good` : `weighed less than every honest peer from ${found.windowsUntilBelowEveryHonestPeer} windows in`;
  return `In the cheater suite (${results.windows} windows) it ${below} and ended with ${percentOf(found.finalWeightShare)} of the miners' weight${indicator}.`;
}
