/** Gauntlet scoring (gauntlet-spec §5.6, §5.7, §6, §7): pure, deterministic, runs in Node and browsers. */
export * from './errors.ts';
export * from './types.ts';
export { createScoringState, newPeerState, serializeState, deserializeState, parseState, cloneState } from './state.ts';
export { parseWindowScoringInputs } from './inputs.ts';
export { lossScore, ownImprovement, binaryIndicator, updateBinaryMovingAverage } from './loss-score.ts';
export { compareWithDebugSlices, interquartileMean, syncScoreFromSteps, updateParamAvgChange, type SyncCheck } from './sync.ts';
export { DEFAULT_SCORING_PROFILE, PROFILE_CONFIG_CONSTANTS, PROFILE_RULES, profileRules, SCORING_PROFILES, type ProfileRules, type ScoringProfile } from './profiles.ts';
export { rateMatch, ordinal, OPENSKILL_MU0, OPENSKILL_SIGMA0 } from './openskill.ts';
export { evaluationCandidates, binEvaluationPeers, selectEvaluationUids, selectGatherPeers, type GatherPeerList } from './selection.ts';
export * from './overlap.ts';
export { finalScore, powerWeights, rankWeights, computeWeights, toChainWeights } from './weights.ts';
export { explain, ReasonLog } from './reasons.ts';
export { scoreWindow, skipWindow, activeUidsAt, validateScoringConfig } from './score-window.ts';
export * from './published.ts';
