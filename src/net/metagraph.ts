/** Reading one hotkey out of a metagraph, from any chain (the devnet, subtensor, the in-memory network). */
import type { Metagraph } from './types.ts';

/** A hotkey as a metagraph shows it. */
export interface Registration {
  readonly uid: number | null;
  readonly stake: number;
  readonly validatorPermit: boolean;
}

/** `hotkey`'s uid, stake and validator permit in `metagraph` (uid null, no stake and no permit when it is not registered). */
export function registrationIn(metagraph: Metagraph, hotkey: string): Registration {
  const i = metagraph.hotkeys.indexOf(hotkey);
  if (i < 0) return { uid: null, stake: 0, validatorPermit: false };
  return { uid: metagraph.uids[i]!, stake: metagraph.stake[i] ?? 0, validatorPermit: metagraph.validatorPermit[i] === true };
}
