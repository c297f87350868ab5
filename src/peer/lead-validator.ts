/**
 * Which validator a miner follows (issue #14). Templar's miners follow the highest-staked validator's
 * `peers_{E}`, aggregates and checkpoints; on a permissionless network anyone can stake (on the
 * devnet through a faucet, and before anyone stakes the lead was simply the first registrant), so
 * that rule let any registrant feed every joining miner a poisoned θ. Here only the hotkeys the
 * subnet owner names as the run's validators (`Chain.runValidators`) can lead, and among those the
 * one with a permit and the most stake (lowest uid on ties) does, as in Templar.
 */
import type { RunConfig } from '../core/config.ts';
import type { Metagraph } from '../net/types.ts';

export function leadValidator(metagraph: Metagraph, runValidators: readonly string[], config: Pick<RunConfig, 'scoring'>, ownHotkey: string): string | undefined {
  const named = new Set(runValidators);
  let best: { uid: number; stake: number; hotkey: string } | undefined;
  metagraph.uids.forEach((uid, i) => {
    const hotkey = metagraph.hotkeys[i]!;
    if (!named.has(hotkey) || uid === config.scoring.burnUid || hotkey === ownHotkey || metagraph.validatorPermit[i] !== true) return;
    const stake = metagraph.stake[i] ?? 0;
    if (best === undefined || stake > best.stake) best = { uid, stake, hotkey };
  });
  return best?.hotkey;
}
