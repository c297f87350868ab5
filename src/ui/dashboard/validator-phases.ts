/**
 * The one reading of a validator's window events as timeline stages, shared by the Validate view
 * (its own validator) and the Demo (the simulated network's validator): which stage an event
 * advances and what it says in words. The miner stages are the peers' own and are read where they
 * are known (one peer on Contribute, many in the Demo).
 */
import type { WindowEvent } from '../../peer/events.ts';
import type { ValidatorPageEvent } from '../../peer/validator-events.ts';
import type { WindowPhase } from './model.ts';

export interface PhaseStep {
  readonly phase: WindowPhase;
  readonly window: number;
  readonly detail: string;
}

/** The stage `event` advances, or null when it is not one of a validator's window stages. */
export function validatorPhase(event: WindowEvent | ValidatorPageEvent): PhaseStep | null {
  switch (event.kind) {
    case 'validator-window-start':
      return { phase: 'submit', window: event.window, detail: `${event.submitted.length} submitted, evaluating ${event.evalUids.join(', ') || 'nobody'}` };
    case 'validator-gathered':
      return { phase: 'gather', window: event.window, detail: `${event.gathered.length} gathered, ${Object.keys(event.rejected).length} rejected` };
    case 'validator-null-round':
      return { phase: 'gather', window: event.window, detail: `null round of the run: nothing sent, nothing scored (training starts in window ${event.trainsFrom})` };
    case 'validator-caught-up':
      return { phase: 'gather', window: event.window, detail: `caught up (not watched live): ${event.gathered.length} gathered, not scored` };
    case 'validator-evaluated':
      return { phase: 'evaluate', window: event.window, detail: `uid ${event.uid}: ${event.status}` };
    case 'validator-scored':
      return { phase: 'rate', window: event.window, detail: `${event.reasons} score changes` };
    case 'validator-weights-set':
      return { phase: 'weights', window: event.window, detail: event.method === 'revealWeights' ? `revealed on chain at block ${event.block}` : `set on chain at block ${event.block}` };
    case 'validator-weights-committed':
      return { phase: 'weights', window: event.window, detail: `committed at block ${event.block}, revealed in blocks ${event.firstRevealBlock}–${event.lastRevealBlock}` };
    case 'validator-weights-skipped':
      return { phase: 'weights', window: event.window, detail: `not set: ${event.reason}` };
    default:
      return null;
  }
}
