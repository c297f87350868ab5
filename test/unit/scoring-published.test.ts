import { describe, expect, it } from 'vitest';
import {
  deserializeWindowScores,
  parseWindowScores,
  windowScoresDocument,
  WindowScoresError,
} from '../../src/core/scoring/index.ts';
import { DashboardStore } from '../../src/ui/dashboard/model.ts';
import { DashboardFeed } from '../../src/ui/contribute/feed.ts';
import { buildBreakdowns } from '../../src/ui/score-model.ts';
import { simulateRun, testScoringConfig } from './scoring-helpers.ts';

/**
 * The validator's published `scores-{window}` document (src/core/scoring/published.ts): built from a
 * real `scoreWindow` run over synthetic measurements, it round-trips exactly, every malformed field is
 * a `WindowScoresError` naming it, and a page fed only the documents shows the breakdown the
 * validator's own state gives.
 */
const config = testScoringConfig();
const run = simulateRun(12, 7, config);
const context = { runId: 'tiny-devnet', netuid: 3, burnUid: config.burnUid };
const documents = run.results.map((result, i) => windowScoresDocument(result, run.inputs[i]!.window, context));
const last = documents.at(-1)!;
const lastResult = run.results.at(-1)!;

/** A deep copy with one change made by `edit`. */
function edited(edit: (doc: Record<string, unknown> & { peers: Record<string, unknown>[]; reasons: Record<string, unknown>[] }) => void): unknown {
  const copy = JSON.parse(JSON.stringify(last)) as Record<string, unknown> & { peers: Record<string, unknown>[]; reasons: Record<string, unknown>[] };
  edit(copy);
  return copy;
}

function fieldOf(raw: unknown, expected?: Parameters<typeof parseWindowScores>[1]): string {
  try {
    parseWindowScores(raw, expected);
  } catch (error) {
    expect(error).toBeInstanceOf(WindowScoresError);
    return (error as WindowScoresError).field;
  }
  throw new Error('the document was accepted');
}

describe('published window scores', () => {
  it('holds every scored uid but the burn uid, with the state values, and the window reasons minus weight changes', () => {
    const state = lastResult.state;
    const uids = Object.keys(state.peers).map(Number).filter((uid) => uid !== config.burnUid).sort((a, b) => a - b);
    expect(last.peers.map((p) => p.uid)).toEqual(uids);
    for (const p of last.peers) {
      const peer = state.peers[String(p.uid)]!;
      expect(p.lossScore).toBe(peer.gradientScore);
      expect(p.finalScore).toBe(peer.finalScore);
      expect(p.weight).toBe(peer.weight);
      expect(p.mu).toBe(peer.rating?.mu ?? null);
      expect(p.ordinal).toBe(peer.rating === null ? null : peer.rating.mu - 3 * peer.rating.sigma);
    }
    expect(last.reasons).toEqual(lastResult.reasons.filter((r) => r.rule !== 'weight'));
    expect(last.burnShare).toBe(lastResult.weights[String(config.burnUid)] ?? 0);
    // The synthetic run has slashes and rated peers, so the document is not trivially empty.
    expect(documents.some((d) => d.reasons.some((r) => r.rule.endsWith('slash')))).toBe(true);
    expect(last.peers.some((p) => p.mu !== null)).toBe(true);
  });

  it('round-trips exactly through JSON and the strict parser', () => {
    for (const doc of documents) {
      const text = JSON.stringify(doc);
      expect(deserializeWindowScores(text, { runId: context.runId, netuid: context.netuid, window: doc.window })).toEqual(doc);
    }
  });

  it('rejects malformed or foreign documents with a WindowScoresError naming the field', () => {
    expect(fieldOf('{')).toBe('(root)');
    expect(() => deserializeWindowScores('{')).toThrow(WindowScoresError);
    expect(fieldOf(edited((d) => (d.kind = 'peers')))).toBe('kind');
    expect(fieldOf(edited((d) => (d.version = 2)))).toBe('version');
    expect(fieldOf(edited((d) => (d.window = -1)))).toBe('window');
    expect(fieldOf(last, { window: last.window + 1 })).toBe('window');
    expect(fieldOf(last, { runId: 'another-run' })).toBe('runId');
    expect(fieldOf(last, { netuid: 9 })).toBe('netuid');
    expect(fieldOf(edited((d) => (d.burnShare = 1.5)))).toBe('burnShare');
    expect(fieldOf(edited((d) => (d.peers[0]!.finalScore = 'NaN')))).toBe('peers.0.finalScore');
    expect(fieldOf(edited((d) => (d.peers[0]!.lossScore = null)))).toBe('peers.0.lossScore');
    expect(fieldOf(edited((d) => (d.peers[0]!.binaryIndicator = 0.5)))).toBe('peers.0.binaryIndicator');
    expect(fieldOf(edited((d) => (d.peers[0]!.uid = 70_000)))).toBe('peers.0.uid');
    expect(fieldOf(edited((d) => (d.peers[1]!.uid = d.peers[0]!.uid)))).toBe('peers.1.uid');
    expect(fieldOf(edited((d) => (d.peers[0]!.uid = config.burnUid)))).toBe('peers.0.uid');
    const rated = last.peers.findIndex((p) => p.mu !== null);
    expect(fieldOf(edited((d) => (d.peers[rated]!.sigma = null)))).toBe(`peers.${rated}.mu`);
    expect(fieldOf(edited((d) => (d.peers[rated]!.sigma = -1)))).toBe(`peers.${rated}.sigma`);
    expect(fieldOf(edited((d) => (d.reasons[0]!.rule = 'bonus')))).toBe('reasons.0.rule');
    expect(fieldOf(edited((d) => (d.reasons[0]!.window = last.window - 1)))).toBe('reasons.0.window');
    expect(fieldOf(edited((d) => (d.reasons[0]!.after = { finalScore: 'high' })))).toBe('reasons.0.after.finalScore');
    expect(fieldOf(edited((d) => (d.reasons[0]!.inputs = { detail: 'x'.repeat(1001) })))).toBe('reasons.0.inputs.detail');
  });

  it('a page fed only the documents shows the breakdown of the validator state, with every slash and its reason', () => {
    const store = new DashboardStore('contribute', config);
    const feed = new DashboardFeed(store, { tokensPerStep: 1, denseBytes: 1 });
    const own = last.peers.find((p) => p.mu !== null)!.uid;
    for (const doc of documents) feed.take({ kind: 'peer-window-scores', validatorHotkey: 'v', document: doc }, own);
    // A stale document (an earlier window read late) never moves the dashboard back.
    feed.take({ kind: 'peer-window-scores', validatorHotkey: 'v', document: documents[0]! }, own);
    const model = store.model();
    expect(model.scores.window).toBe(last.window);
    expect(model.scores.selectedUid).toBe(own);
    const expected = buildBreakdowns(lastResult.state, run.results.flatMap((r) => r.reasons), config);
    expect(model.scores.peers).toEqual(expected);
    expect(model.scores.peers.flatMap((p) => p.slashes).length).toBeGreaterThan(0);
    expect(model.scores.burnShare).toBe(last.burnShare);
    expect(model.scores.why?.uid).toBe(own);
    expect(model.scores.why?.currentFinal).toBe(lastResult.state.peers[String(own)]!.finalScore);
  });
});
