/**
 * The CLI's answer to `stagegate kill on|off`: what the switch is now and, on engage, what the
 * engage did and what it left undone (`killSwitchShortfall`: failed cancels to engage again
 * for, flattens the sessions will send at their next tick).
 */
import {
  type KillSwitchOutcome,
  killSwitchShortfall,
} from '../functions/core/use-cases/kill-switch.js';

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
  const head = `kill switch ${state.engaged ? 'ON: gates fail, no order may be submitted' : 'off'}; recorded by ${state.changedBy}`;
  if (!state.engaged) return { text: `${head}\n`, exitCode: 0 };
  const done = `${head}; ${flattened.length} running session(s) flattened, ${canceled.length} open order(s) canceled on ${account}\n`;
  const shortfall = killSwitchShortfall(out);
  return {
    text: shortfall ? `${done}WARNING: ${shortfall}\n` : done,
    exitCode: out.cancelErrors.length > 0 ? 1 : 0,
  };
}
