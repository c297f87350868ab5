/**
 * The About view: one short explanation per mechanism, in our own words, checked against
 * /work/shared/docs/gauntlet-spec.md (section numbers in brackets). The constants quoted are read
 * from the run config, so the text cannot drift from the numbers the code uses.
 */
import type { RunConfig } from '../../core/config.ts';
import { profileRules } from '../../core/scoring/profiles.ts';
import { h, table } from '../dom.ts';
import { cheaterSuite, percentOf, type SuiteClass } from '../cheater-suite.ts';

interface Topic {
  readonly id: string;
  readonly title: string;
  readonly paragraphs: readonly string[];
}

function topics(config: RunConfig): Topic[] {
  const { inner, compression: c, scoring: s, window: w } = config;
  const chunkEntries = c.targetChunk * c.targetChunk;
  const windowSeconds = (w.blocksPerWindow * w.blockTimeMs) / 1000;
  const rules = profileRules(s.profile);
  return [
    {
      id: 'windows',
      title: 'Windows and put windows',
      paragraphs: [
        `Training advances in rounds called windows: ${w.blocksPerWindow} chain blocks, about ${windowSeconds} s in this run. Every peer trains during a window, then uploads its contribution in a short put window of ${w.putWindowMs / 1000} s that opens when the window closes.`,
        'The storage server stamps each upload with its own clock, and readers check that stamp: an upload before the put window opens or after it closes counts as missing. Nobody can wait to see the others\' work and then submit. [§3.2]',
      ],
    },
    {
      id: 'inner-steps',
      title: 'Inner steps',
      paragraphs: [
        `Inside a window each peer runs H = ${inner.innerSteps} AdamW steps of ${inner.batchSize} sequences on data that a public seed assigns to its uid and the window, so a validator can recompute exactly what the peer was meant to train on. Nothing is exchanged during these steps. [§3.3, §4]`,
      ],
    },
    {
      id: 'pseudo-gradient',
      title: 'Pseudo-gradient and error feedback',
      paragraphs: [
        'Before training the peer keeps a copy θ0 of the shared model. After the inner steps it measures how far it moved, Δ = θ0 − θ_H, and returns to θ0: Δ is the pseudo-gradient it will offer the network.',
        `Only a small part of Δ can be sent. What is left out is not thrown away: an error-feedback buffer e = ${c.errorFeedbackDecay}·e + Δ carries it over, and what was sent is subtracted from e. Small but persistent directions build up until they are large enough to be sent. [§5.2, §10.1]`,
      ],
    },
    {
      id: 'compression',
      title: 'Top-k and 2-bit compression',
      paragraphs: [
        `Each weight matrix is cut into ${c.targetChunk}×${c.targetChunk} chunks. In every chunk the peer keeps the ${c.topk} largest of ${chunkEntries} entries (${((100 * c.topk) / chunkEntries).toFixed(2)} %), stores each position in 12 bits and each value as one of ${c.quantizationBins} levels (2 bits), where every level stands for the mean of the values that fell into it.`,
        'In the production setting this is about 146 times smaller than sending the same matrix as 32-bit floats, which is what lets peers on ordinary connections take part. [§5.3]',
      ],
    },
    {
      id: 'signatures',
      title: 'Signatures',
      paragraphs: [
        'The compressed bytes are hashed and the hash is signed by the peer\'s wallet, bound to the run, the window and the uid. A validator accepts a contribution only if the signature belongs to the hotkey registered for that uid, so nobody can submit in someone else\'s name or replay an old upload.',
        'The wallet signs inside its own extension. This page never asks for a seed phrase or a private key, and nobody from the project ever will.',
      ],
    },
    {
      id: 'gather',
      title: 'Gather and the outer step',
      paragraphs: [
        `After the put window every peer downloads the contributions of the chosen gather peers (${s.gatherPeers} here, plus ${s.reservePeers} reserves), checks them, scales each one down to the median size so no single peer can push too hard, and averages each position over the peers that sent it. Then all apply the same step θ ← θ − ${c.outerLr}·average.`,
        'Because everyone runs the same deterministic code on the same files, honest peers end every window with identical models. [§6]',
      ],
    },
    {
      id: 'sync',
      title: 'Stage 1: presence and sync',
      paragraphs: [
        'The first checks are cheap. Did the peer upload in time? Is its upload valid? And is its model in step with the network? Each peer publishes two numbers of every weight tensor after its outer step; the validator compares them with its own and divides the difference by how much a weight usually moves in one step.',
        `That gives "steps behind" (the ${rules.syncStatistic === 'interquartile-mean' ? 'mean of the middle half' : 'median'} over the compared weights). The sync score is (1 − min(steps, ${s.syncWindowSteps})/${s.syncWindowSteps})^${s.syncExponent}; a gather peer more than ${s.syncMaxStepsBehind} steps behind has its score and B multiplied by ${s.syncScoreSlashRate}. [§7.1]`,
      ],
    },
    {
      id: 'loss-score',
      title: 'Stage 2: loss scores and the binary indicator',
      paragraphs: [
        `A few peers per window (${s.uidsPerWindow} here) get the expensive check. The validator measures its model's loss on that peer's own assigned data and on random data, applies ${s.evalLrFactor} × the peer's update as a trial step, and measures both again.`,
        `LossScore is the relative improvement on random data: is the update useful in general? The binary indicator is +1 when the improvement on the peer's own data is larger than on random data, −1 otherwise. A peer that really trained on its assigned data gets that extra gain most of the time; others get it less often, not never: in the cheater suite below, ${indicatorSentence()}.`,
        `B is a slow running average of the indicator (each window moves it ${s.binaryScoreMaAlpha * 100} % of the way; it starts at ${s.binaryScoreInitial}). [§7.2]`,
      ],
    },
    {
      id: 'openskill',
      title: 'OpenSkill ratings',
      paragraphs: [
        `The peers evaluated in a window play one match, ranked by LossScore. An OpenSkill (Plackett–Luce, β ${s.openskillBeta}, τ ${s.openskillTau}) rating keeps a skill estimate μ and an uncertainty σ for each peer. The score uses the cautious ordinal μ − 3σ: a newcomer with a large σ earns little until it has won enough matches. [§7.3]`,
      ],
    },
    {
      id: 'profile',
      title: `Rules against gaming: the ${s.profile} profile`,
      paragraphs: profileParagraphs(s),
    },
    {
      id: 'copy-detection',
      title: 'Copy detection',
      paragraphs: [
        `Every chunk's top-k positions are compared between every pair of uploads the validator read in the window, gathered or evaluated. Honest peers training on different data share few positions; a peer that copies another shares most of them. When the overlap reaches ${s.idxOverlapThreshold * 100} %, the peer that uploaded later is penalised: halved below 50 %, fully reset at 50 % and above, and banned from evaluation for ${s.naughtyPeerTimeout} windows at 60 %. The check starts after ${s.overlapGraceSteps} outer steps. [§7.5]`,
        ...(rules.relativeOverlapMargin === null ? [] : [`Honest peers trained from the same model share some positions, and how many drifts over a run, so a copier can hide under a fixed threshold. A pair that overlaps ${rules.relativeOverlapMargin * 100} points more than either of the two shares with any third peer is penalised on the same ladder, counted from that baseline.`]),
      ],
    },
    {
      id: 'weights',
      title: 'Final score, weights and burn',
      paragraphs: [
        'final = ordinal × max(0, B) × sync. All three must be good: a skilled peer that is out of sync, or whose indicator says it did not train on its own data, earns nothing.',
        s.weighting === 'rank'
          ? `Weights follow the rank of the final score: the top ${s.gatherPeers} peers share ${s.gatherShare * 100} % of the miners' part (the first gets twice what the last gets), the next ${s.reservePeers} share the rest, and ${s.burnRate * 100} % of all weight goes to uid ${s.burnUid}, where it is burned. Missing uploads, inactivity and failed checks multiply the score down; a negative score is never moved up by a penalty. [§7.4, §7.6]`
          : `Weights are final^${s.powerNormalisation} divided by the sum over all peers with a positive final score. [§7.4]`,
      ],
    },
  ];
}

/** What the run's scoring profile adds to v2.1.3's rules, from its constants (src/core/scoring/profiles.ts). */
function profileParagraphs(s: RunConfig['scoring']): string[] {
  const rules = profileRules(s.profile);
  const lines: string[] = [];
  if (s.profile === 'templar-v2.1.3') return ["This run plays by Templar v2.1.3's rules as they are: skipping a window costs a fixed slash and no rating."];
  lines.push(`This run plays by ${s.profile}: Templar v2.1.3's rules plus those Templar's production adopted after exploits seen live.`);
  if (rules.matchFloorScore !== null) lines.push(`A peer that was asked for an upload and sent nothing valid enters the window's rating match with a score of ${rules.matchFloorScore}, so skipping a window never rates better than a poor upload.`);
  if (rules.gatherSkipEscalation !== null) lines.push(`Missing the gather several windows in a row costs more each time: × ${rules.gatherSkipEscalation.join(', then × ')}.`);
  if (rules.missBan !== null) lines.push(`Missing ${rules.missBan.fraction * 100} % or more of the last ${rules.missBan.windows} windows resets the peer's scores and bans it for ${rules.missBan.banWindows} windows.`);
  if (rules.negativeEvaluations !== null) lines.push(`When more than half of a peer's evaluations in the last ${rules.negativeEvaluations.windows} windows (at least ${rules.negativeEvaluations.minEvaluations}) have b = −1, its score and B are multiplied by ${rules.negativeEvaluations.slashRate}; ${rules.negativeEvaluations.streakExcludesFromGather} in a row keep it out of the gather until one is positive.`);
  if (rules.binaryFloor !== null) lines.push(`From ${rules.binaryFloor.afterWindows} windows after its first evaluation, a B below ${rules.binaryFloor.threshold} counts as 0: a peer whose indicator is as often −1 as +1 earns nothing.`);
  return [lines.join(' ')];
}

/** Who got b = +1 how often in the cheater suite, from its recorded results. */
function indicatorSentence(): string {
  const of = (name: string): SuiteClass | undefined => cheaterSuite.classes.find((c) => c.name === name);
  return ['honest', 'noise', 'copier', 'data-lazy']
    .flatMap((name) => {
      const c = of(name);
      return c === undefined || c.plusShare === null ? [] : [`${name === 'honest' ? 'honest peers' : name} ${percentOf(c.plusShare)} of ${c.evaluations} evaluations`];
    })
    .join(', ');
}

/** What the rules did to each behaviour in the cheater suite, from its recorded results (`cheater-suite.ts`). */
function renderCheaterSuite(): HTMLElement {
  const rows = cheaterSuite.classes.map((c) => [
    c.name,
    String(c.peers),
    c.plusShare === null ? '—' : `${percentOf(c.plusShare)} of ${c.evaluations}`,
    c.name === 'honest' ? '—' : c.windowsUntilBelowEveryHonestPeer === null ? `not within ${cheaterSuite.windows}` : `${c.windowsUntilBelowEveryHonestPeer} windows`,
    percentOf(c.finalWeightShare),
    String(c.slashes),
  ]);
  return h(
    'article',
    { id: 'about-cheater-suite', 'data-topic': 'cheater-suite' },
    h('h3', {}, 'What the rules did to each cheater'),
    h('p', {}, `Six honest peers beside each kind of cheater, ${cheaterSuite.windows} windows of the real miner and validator loops on the ${cheaterSuite.preset} preset under the ${cheaterSuite.profile} scoring profile, the validator evaluating ${cheaterSuite.evaluatedPerWindow} peers a window (${cheaterSuite.source}). A sybil pair uploads the same work from two hotkeys; a skipper trains on data not assigned to it and takes part in every other window. "Below every honest peer" is the number of windows after which the class weighs less than every honest peer for the rest of the run.`),
    table(['behaviour', 'peers', 'b = +1', 'below every honest peer after', 'final share of miner weight', 'slashes'], rows, { class: 'cheater-suite' }),
  );
}

export function renderAbout(config: RunConfig): HTMLElement {
  const list = topics(config);
  const contents = h('nav', { 'aria-label': 'Topics' }, h('ul', { class: 'toc' }, ...list.map((t) => h('li', {}, h('a', { href: `#/about/${t.id}`, 'data-topic-link': t.id }, t.title)))));
  contents.addEventListener('click', (event) => {
    const target = event.target;
    if (!(target instanceof HTMLAnchorElement)) return;
    event.preventDefault();
    document.getElementById(`about-${target.dataset.topicLink ?? ''}`)?.scrollIntoView({ behavior: 'smooth' });
  });
  return h(
    'div',
    { class: 'about' },
    h('h2', {}, 'How permissionless training stays honest'),
    h(
      'p',
      { class: 'lead' },
      'Anyone may join, so nobody is trusted. Each mechanism below either makes a contribution cheap to send or makes cheating cost more than it earns. The numbers are those of the run this page is configured for.',
    ),
    contents,
    ...list.map((topic) => h('article', { id: `about-${topic.id}`, 'data-topic': topic.id }, h('h3', {}, topic.title), ...topic.paragraphs.map((p) => h('p', {}, p)))),
    renderCheaterSuite(),
  );
}
