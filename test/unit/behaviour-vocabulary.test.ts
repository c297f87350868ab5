/**
 * One behaviour vocabulary (issue #16): the Demo's synthetic model and the real miners share the names
 * of `src/peer/behaviours.ts` and keep the meaning it states. The two places the synthetic model once
 * meant something else are checked against that meaning: a stale peer never applies the outer step,
 * so it falls one more step out of sync each window (it was a fixed four steps behind); a poisoner
 * uploads a real, decodable update (every third of its uploads used to be undecodable).
 */
import { describe, expect, it } from 'vitest';
import { tinyRunConfig } from '../../src/core/run-config.ts';
import { createScoringState, scoreWindow } from '../../src/core/scoring/index.ts';
import { BEHAVIOUR_MEANINGS, BEHAVIOUR_NAMES, CHEATER_BEHAVIOURS, behaviourByName, isBehaviourName, UnknownBehaviourError, type BehaviourName } from '../../src/peer/behaviours.ts';
import { BEHAVIOUR_LABELS, FIRST_PEER_UID, SyntheticNetwork } from '../../src/ui/demo/synthetic-network.ts';

const scoring = tinyRunConfig().scoring;

function distance(a: Readonly<Record<string, readonly number[]>>, b: Readonly<Record<string, readonly number[]>>): number {
  let sum = 0;
  for (const [name, values] of Object.entries(a)) values.forEach((v, i) => (sum += (v - (b[name]?.[i] ?? Number.NaN)) ** 2));
  return Math.sqrt(sum);
}

describe('one behaviour vocabulary', () => {
  it('every name has one meaning, one label and one real implementation; cheaters are every name but honest', () => {
    for (const name of BEHAVIOUR_NAMES) {
      expect(BEHAVIOUR_MEANINGS[name].length).toBeGreaterThan(10);
      expect(BEHAVIOUR_LABELS[name]).toBeTruthy();
      expect(behaviourByName(name, 0).name).toBe(name);
    }
    expect([...CHEATER_BEHAVIOURS].sort()).toEqual(BEHAVIOUR_NAMES.filter((n) => n !== 'honest').sort());
    expect(isBehaviourName('poisoner')).toBe(true);
    expect(isBehaviourName('Poisoner')).toBe(false);
    // A name from outside the type system (a page message) gets a typed error, not an undefined behaviour.
    expect(() => behaviourByName('saboteur' as BehaviourName, 0)).toThrow(UnknownBehaviourError);
  });

  it('the synthetic stale peer falls one more outer step behind each window; the honest one stays in sync', () => {
    const net = new SyntheticNetwork({ behaviours: ['honest', 'stale', 'poisoner'], seed: 7, topk: 16, evalLrFactor: 0.2 });
    let state = createScoringState();
    const staleGaps: number[] = [];
    for (let w = 0; w < 12; w++) {
      const { inputs } = net.next(state, scoring);
      expect(distance(inputs.peerSlices[String(FIRST_PEER_UID)]!, inputs.validatorSlices)).toBe(0);
      staleGaps.push(distance(inputs.peerSlices[String(FIRST_PEER_UID + 1)]!, inputs.validatorSlices));
      // The poisoner's uploads always decode: whenever it is evaluated, it is measured.
      const poisoner = inputs.evaluations[String(FIRST_PEER_UID + 2)];
      if (poisoner !== undefined) expect(poisoner.status).toBe('ok');
      state = scoreWindow(state, inputs, scoring).state;
    }
    expect(staleGaps[0]).toBeGreaterThan(0);
    for (let i = 1; i < staleGaps.length; i++) expect(staleGaps[i]!).toBeGreaterThan(staleGaps[i - 1]!);
  });

  it('a peer that stops being stale is in sync again from the next window', () => {
    const net = new SyntheticNetwork({ behaviours: ['stale', 'honest'], seed: 3, topk: 16, evalLrFactor: 0.2 });
    let state = createScoringState();
    for (let w = 0; w < 3; w++) state = scoreWindow(state, net.next(state, scoring).inputs, scoring).state;
    net.setBehaviour(FIRST_PEER_UID, 'honest');
    const { inputs } = net.next(state, scoring);
    expect(distance(inputs.peerSlices[String(FIRST_PEER_UID)]!, inputs.validatorSlices)).toBe(0);
  });
});
