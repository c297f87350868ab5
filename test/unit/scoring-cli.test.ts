import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatReplay, replay, ReplayFileError } from '../../src/cli/score.ts';
import { ScoringInputError, serializeState } from '../../src/core/scoring/index.ts';
import { simulateRun, testScoringConfig } from './scoring-helpers.ts';

const FIXTURE = new URL('../fixtures/scoring-window-inputs.json', import.meta.url);
const WINDOWS = 30;
const SEED = 4242;

/** The fixture text, generated from the synthetic run (set UPDATE_SCORING_FIXTURE=1 to rewrite the file). */
function fixtureText(): string {
  const config = testScoringConfig();
  const run = simulateRun(WINDOWS, SEED, config);
  const head = {
    synthetic: `SYNTHETIC inputs from test/unit/scoring-helpers.ts simulateRun(${WINDOWS}, ${SEED}): Xoshiro128 draws and behaviour models (uid 2-4 honest, 5 lazy, 6 flaky, 7 lagging, 8 copies uid 2, 9 leaves for 10 windows); not measurements of any model.`,
    config,
  };
  const windows = run.inputs.map((w) => JSON.stringify(w)).join(',\n');
  return `${JSON.stringify(head).slice(0, -1)},"windows":[\n${windows}\n]}\n`;
}

describe('npm run score (replay)', () => {
  it('the sample fixture is exactly what the synthetic generator produces', () => {
    const text = fixtureText();
    if (process.env.UPDATE_SCORING_FIXTURE === '1') writeFileSync(FIXTURE, text);
    expect(readFileSync(FIXTURE, 'utf8')).toBe(text);
  });

  it('replaying the fixture from JSON reproduces the live run state and weights', () => {
    const config = testScoringConfig();
    const live = simulateRun(WINDOWS, SEED, config);
    const replayed = replay(readFileSync(FIXTURE, 'utf8'));
    expect(replayed.config).toEqual(config);
    expect(replayed.results).toHaveLength(WINDOWS);
    const last = replayed.results.at(-1)!;
    expect(serializeState(last.state)).toBe(serializeState(live.results.at(-1)!.state));
    expect(last.weights).toEqual(live.results.at(-1)!.weights);
    const text = formatReplay(replayed, { explainUids: [8], showReasons: true });
    expect(text).toContain('Final state');
    expect(text).toMatch(/\n\s+8\s+/);
    expect(text).toContain('overlap-slash');
    expect(text).toContain('uid 8: final=');
  });

  it('rejects a broken file with a typed error naming the window and field', () => {
    expect(() => replay('not json')).toThrow(ReplayFileError);
    expect(() => replay('{"nothing": 1}')).toThrow(/windows/);
    expect(() => replay(JSON.stringify({ windows: [], config: { weighting: 'rank' } }))).toThrow(/lacks/);
    let caught: unknown;
    try {
      replay(JSON.stringify([{ window: 1, submittedUids: [], gather: null, validatorSlices: {}, peerSlices: {}, evalUids: [2], lossRandomBefore: -1, evaluations: {} }]));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScoringInputError);
    expect((caught as ScoringInputError).field).toBe('windows.0.lossRandomBefore');
  });
});
