/**
 * Ready-made Demo setups, so that a user can run exactly what the project's own checks run.
 *
 * The adversarial simulation (test/unit/simulation.test.ts, driven by test/unit/sim-harness.ts)
 * runs six honest peers and one of each cheater class on the tiny preset, with the validator's
 * per-window randomness seeded by 0x51a7. The Demo worker's run config already carries that
 * simulation's scoring overrides (`demoConfig` in src/workers/demo-config.ts: whole pool trained,
 * 6 gather peers + 2 reserves, 5 evaluations per window of 16 sequences, copy detection after 5
 * outer steps); this preset supplies the rest: the peers' behaviours, in the same order (so the
 * copier copies uid 2, the first honest peer), and the same seed. The key parameters stay at the
 * tiny preset's values, as in the simulation.
 */
import type { BehaviourName } from '../../peer/behaviours.ts';

export interface DemoPreset {
  readonly label: string;
  readonly behaviours: readonly BehaviourName[];
  /** The validator's randomness seed (`Validator` option `randomness`, xor-ed into a per-window hash). */
  readonly seed: number;
}

export const ADVERSARIAL_SIMULATION_PRESET: DemoPreset = {
  label: 'the adversarial simulation: 6 honest peers and one of each cheater, seed 0x51a7',
  behaviours: ['honest', 'honest', 'honest', 'honest', 'honest', 'honest', 'free-rider', 'noise', 'copier', 'stale', 'data-lazy', 'poisoner', 'late'],
  seed: 0x51a7,
};
