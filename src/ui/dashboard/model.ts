/**
 * The dashboard's state, fed by data (scoring results, trainer and network figures), and the plain
 * JSON model every dashboard component renders from. Contribute, Validate and Demo each own one
 * `DashboardStore`; the page publishes the latest model under `window.gauntlet.ui.dashboards`, so
 * tests read exactly what is drawn.
 */
import type { ScoringConfig } from '../../core/config.ts';
import {
  createScoringState, type PeerScoreState, type ScoreReason, type Uid, type ValidatorScoringState, type WindowScoresDocument, type WindowScoringResult,
} from '../../core/scoring/index.ts';
import { buildBreakdowns, buildLeaderboard, buildWhy, type LeaderboardRow, type PeerBreakdown, type WhyModel } from '../score-model.ts';

/** The stages of one window, in order (gauntlet-spec §3.3 miner, §3.4 validator). */
export const WINDOW_PHASES = ['train', 'compress', 'sign', 'submit', 'gather', 'evaluate', 'rate', 'weights'] as const;
export type WindowPhase = (typeof WINDOW_PHASES)[number];
export type PhaseStatus = 'pending' | 'active' | 'done' | 'skipped' | 'failed';

export interface PhaseModel {
  readonly phase: WindowPhase;
  readonly status: PhaseStatus;
  readonly detail: string;
}

/** The stages of one window. */
export interface WindowTimeline {
  readonly window: number;
  readonly phases: readonly PhaseModel[];
}

export interface TimelineModel {
  /** The newest window with a stage recorded, and its stages (all pending before any). */
  readonly window: number | null;
  readonly phases: readonly PhaseModel[];
  /**
   * The last few windows, newest first (the first is `window`). A window's validator stages end
   * after the next window has started (its scores are published once the validator has evaluated
   * it), so they are kept and drawn until then.
   */
  readonly windows: readonly WindowTimeline[];
}

/** One point of the loss chart; null where that series has no value for the window. */
export interface LossPoint {
  readonly window: number;
  /** This peer's mean inner-step loss. */
  readonly local: number | null;
  /** The network model's mean token loss on the validator's random control batches, before any trial step (`meanControlLoss`). */
  readonly network: number | null;
  /** Data-parallel AdamW on the honest peers' tokens, H steps a window (Demo only, src/peer/centralised-baseline.ts). */
  readonly baseline: number | null;
}

/** Throughput and traffic of one window. */
export interface TrafficPoint {
  readonly window: number;
  readonly tokensPerSecond: number | null;
  readonly bytesSent: number | null;
  /** Size of the same pseudo-gradient as dense float32 (parameters × 4 bytes). */
  readonly denseBytes: number | null;
  /** denseBytes / bytesSent. */
  readonly compressionRatio: number | null;
}

export interface ScoresModel {
  /** Last scored window. */
  readonly window: number | null;
  readonly peers: readonly PeerBreakdown[];
  readonly leaderboard: readonly LeaderboardRow[];
  /** Share of weight sent to the burn uid. */
  readonly burnShare: number;
  readonly burnUid: Uid;
  /** The uid the "why" panel explains (the user's own, or the one picked in the table). */
  readonly selectedUid: Uid | null;
  readonly why: WhyModel | null;
  /** True when the last scored window is a `set_weights` window. */
  readonly setWeightsDue: boolean;
}

export interface DashboardModel {
  readonly name: string;
  /** Bumped on every change; tests wait for it. */
  readonly revision: number;
  readonly timeline: TimelineModel;
  readonly loss: readonly LossPoint[];
  readonly traffic: readonly TrafficPoint[];
  readonly scores: ScoresModel;
}

/** Reason records kept for the breakdown and the "why" panel (older ones are dropped). */
const MAX_REASONS = 20_000;
/** Points kept per chart. */
const MAX_POINTS = 2_000;
/** Windows the timeline keeps: the one in progress and the two before it, whose scores may still arrive. */
const TIMELINE_WINDOWS = 3;

function freshPhases(): PhaseModel[] {
  return WINDOW_PHASES.map((phase) => ({ phase, status: 'pending', detail: '' }));
}

function upsert<T extends { readonly window: number }>(series: T[], point: T): void {
  const i = series.findIndex((p) => p.window === point.window);
  if (i >= 0) series[i] = point;
  else {
    series.push(point);
    series.sort((a, b) => a.window - b.window);
    if (series.length > MAX_POINTS) series.splice(0, series.length - MAX_POINTS);
  }
}

/** Told that the model changed; reads `store.model()` when it draws (the model is built lazily). */
export type DashboardListener = () => void;

export class DashboardStore {
  private revision = 0;
  /** Newest window first, at most `TIMELINE_WINDOWS`. */
  private timelines: WindowTimeline[] = [];
  private readonly loss: LossPoint[] = [];
  private readonly traffic: TrafficPoint[] = [];
  private state: ValidatorScoringState = createScoringState();
  private reasons: ScoreReason[] = [];
  private weights: Record<string, number> = {};
  private setWeightsDue = false;
  private selectedUid: Uid | null = null;
  private readonly listeners = new Set<DashboardListener>();
  private cached: DashboardModel | null = null;

  constructor(
    readonly name: string,
    private config: ScoringConfig,
  ) {}

  subscribe(listener: DashboardListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Clears everything (a new run, or new scoring parameters). */
  reset(config: ScoringConfig = this.config): void {
    this.config = config;
    this.timelines = [];
    this.loss.length = 0;
    this.traffic.length = 0;
    this.state = createScoringState();
    this.reasons = [];
    this.weights = {};
    this.setWeightsDue = false;
    this.changed();
  }

  /**
   * Marks `phase` of `window`; a window not seen yet starts with every stage pending. Only the
   * newest `TIMELINE_WINDOWS` windows are kept, so a mark for an older window is dropped.
   */
  setPhase(window: number, phase: WindowPhase, status: PhaseStatus, detail = ''): void {
    const existing = this.timelines.find((t) => t.window === window);
    const phases = (existing?.phases ?? freshPhases()).map((p) => (p.phase === phase ? { phase, status, detail } : p));
    this.timelines = [...this.timelines.filter((t) => t.window !== window), { window, phases }].sort((a, b) => b.window - a.window).slice(0, TIMELINE_WINDOWS);
    this.changed();
  }

  /** The stage `phase` of `window` as recorded, undefined when the timeline does not hold that window. */
  phaseOf(window: number, phase: WindowPhase): PhaseModel | undefined {
    return this.timelines.find((t) => t.window === window)?.phases.find((p) => p.phase === phase);
  }

  recordLoss(window: number, values: { local?: number | null; network?: number | null; baseline?: number | null }): void {
    const existing = this.loss.find((p) => p.window === window);
    upsert(this.loss, {
      window,
      local: values.local !== undefined ? values.local : (existing?.local ?? null),
      network: values.network !== undefined ? values.network : (existing?.network ?? null),
      baseline: values.baseline !== undefined ? values.baseline : (existing?.baseline ?? null),
    });
    this.changed();
  }

  recordTraffic(window: number, values: { tokens?: number; elapsedMs?: number; bytesSent?: number; denseBytes?: number }): void {
    const tokensPerSecond = values.tokens !== undefined && values.elapsedMs !== undefined && values.elapsedMs > 0 ? (values.tokens * 1000) / values.elapsedMs : null;
    const bytesSent = values.bytesSent ?? null;
    const denseBytes = values.denseBytes ?? null;
    upsert(this.traffic, {
      window,
      tokensPerSecond,
      bytesSent,
      denseBytes,
      compressionRatio: bytesSent !== null && denseBytes !== null && bytesSent > 0 ? denseBytes / bytesSent : null,
    });
    this.changed();
  }

  /** Takes one `scoreWindow` result: the new state, its weights and its reason records. */
  recordScoring(result: WindowScoringResult): void {
    this.state = result.state;
    this.weights = result.weights;
    this.setWeightsDue = result.setWeightsDue;
    this.reasons.push(...result.reasons);
    if (this.reasons.length > MAX_REASONS) this.reasons.splice(0, this.reasons.length - MAX_REASONS);
    this.changed();
  }

  /**
   * Takes a validator's published `scores-{window}` document (a page that does not score itself):
   * the peers' scores after that window and its reason records. Documents of windows not after the
   * last one taken are ignored, so a late or repeated read never moves the dashboard back.
   */
  recordPublishedScores(document: WindowScoresDocument): void {
    if (this.state.lastWindow !== null && document.window <= this.state.lastWindow) return;
    const peers: Record<string, PeerScoreState> = {};
    const weights: Record<string, number> = {};
    for (const p of document.peers) {
      peers[String(p.uid)] = {
        gradientScore: p.lossScore,
        binaryIndicator: p.binaryIndicator,
        binaryMovingAverage: p.binaryMovingAverage,
        syncScore: p.syncScore,
        rating: p.mu === null || p.sigma === null ? null : { mu: p.mu, sigma: p.sigma },
        finalScore: p.finalScore,
        weight: p.weight,
        // Not published (they steer the validator, not the reward): neutral values.
        windowsSinceEval: 1,
        lastEvalWindow: p.lastEvalWindow,
        lastSubmittedWindow: null,
        inactiveSince: p.inactiveSince,
        naughtyWindowsLeft: p.banWindowsLeft,
      };
      if (p.weight > 0) weights[String(p.uid)] = p.weight;
    }
    if (document.burnShare > 0) weights[String(document.burnUid)] = document.burnShare;
    this.state = { ...createScoringState(), lastWindow: document.window, globalStep: document.globalStep, peers };
    this.weights = weights;
    this.setWeightsDue = document.setWeightsDue;
    this.reasons.push(...document.reasons);
    if (this.reasons.length > MAX_REASONS) this.reasons.splice(0, this.reasons.length - MAX_REASONS);
    this.changed();
  }

  /** The scoring state the store holds (the validator's, for the next `scoreWindow`). */
  scoringState(): ValidatorScoringState {
    return this.state;
  }

  scoringConfig(): ScoringConfig {
    return this.config;
  }

  select(uid: Uid | null): void {
    this.selectedUid = uid;
    this.changed();
  }

  model(): DashboardModel {
    if (this.cached !== null) return this.cached;
    const peers = buildBreakdowns(this.state, this.reasons, this.config);
    const leaderboard = buildLeaderboard(peers);
    const selected = this.selectedUid ?? leaderboard[0]?.uid ?? null;
    this.cached = {
      name: this.name,
      revision: this.revision,
      timeline: { window: this.timelines[0]?.window ?? null, phases: this.timelines[0]?.phases ?? freshPhases(), windows: this.timelines },
      loss: [...this.loss],
      traffic: [...this.traffic],
      scores: {
        window: this.state.lastWindow,
        peers,
        leaderboard,
        burnShare: this.weights[String(this.config.burnUid)] ?? 0,
        burnUid: this.config.burnUid,
        selectedUid: selected,
        why: selected === null ? null : buildWhy(this.state, this.reasons, selected),
        setWeightsDue: this.setWeightsDue,
      },
    };
    return this.cached;
  }

  private changed(): void {
    this.revision += 1;
    this.cached = null;
    for (const listener of this.listeners) listener();
  }
}
