/**
 * The CLI's answer to `stagegate kill on|off|status`: what the switch is now (a released one
 * with its last engage, `lastEngageNote`) and, on engage, what the engage did (the orders it
 * canceled, and those it found already ended, `killSwitchEndedNote`) and what it left
 * undone (`killSwitchShortfall`: failed cancels to engage again for, flattens the sessions will
 * send at their next tick); a release of a released switch (nothing written:
 * `killSwitchUnchangedNote`); a release refused because the switch changed meanwhile.
 */
import type { KillSwitchChangedError } from '../functions/core/errors.js';
import {
  type KillSwitchOutcome,
  killSwitchEndedNote,
  killSwitchShortfall,
  killSwitchUnchangedNote,
  lastEngageNote,
} from '../functions/core/use-cases/kill-switch.js';
import type { KillSwitchState } from '../functions/ports/kill-switch.js';

/** `stagegate kill status`: the stored switch (null: never set), newline-terminated. */
export function killStatusText(state: KillSwitchState | null): string {
  if (!state) return 'kill switch: off (never set)\n';
  const note = lastEngageNote(state);
  return `kill switch: ${state.engaged ? 'ON' : 'off'} (since ${state.changedAtIso} by ${state.changedBy}: ${state.reason})${note ? `; ${note}` : ''}\n`;
}

/**
 * `stagegate kill off` refused: the switch changed between the release's read and its write
 * (someone engaged it again); nothing was written and the refusal is recorded. Exit code 1.
 */
export function killRefusedText(err: KillSwitchChangedError): { text: string; exitCode: 1 } {
  return { text: `kill switch release REFUSED: ${err.message}\n`, exitCode: 1 };
}

/**
 * @param account the paper broker account the orders were canceled on.
 * @returns the lines to print (newline-terminated) and the exit code: 1 when a cancel failed
 *   (an order may still be live: the operator must engage again), else 0.
 */
export function killOutcomeText(
  out: KillSwitchOutcome,
  account: string,
): { text: string; exitCode: 0 | 1 } {
  const { state, canceled, flattened } = out;
  const unchanged = killSwitchUnchangedNote(out);
  const head = unchanged
    ? `kill switch ${state.engaged ? 'ON' : 'off'}: ${unchanged}`
    : `kill switch ${state.engaged ? 'ON: gates fail, no order may be submitted' : 'off'}; recorded by ${state.changedBy}`;
  const note = lastEngageNote(state);
  if (!state.engaged) return { text: `${head}${note ? `; ${note}` : ''}\n`, exitCode: 0 };
  const ended = killSwitchEndedNote(out);
  const done = `${head}; ${flattened.length} running session(s) flattened, ${canceled.length} open order(s) canceled on ${account}${ended ? `; ${ended}` : ''}\n`;
  const shortfall = killSwitchShortfall(out);
  return {
    text: shortfall ? `${done}WARNING: ${shortfall}\n` : done,
    exitCode: out.cancelErrors.length > 0 ? 1 : 0,
  };
}
