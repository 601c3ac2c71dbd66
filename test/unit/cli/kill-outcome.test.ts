/**
 * `stagegate kill on` prints what the engage left undone (bin/kill-outcome.ts): the failed
 * cancels ("engage again", exit 1: an order may still be live) and the unsent flattens (the
 * sessions flatten at their next tick, exit 0).
 */
import { describe, expect, it } from 'vitest';
import { killOutcomeText } from '../../../bin/kill-outcome.js';
import type { KillSwitchOutcome } from '../../../functions/core/use-cases/kill-switch.js';

const ON = {
  engaged: true,
  reason: 'broker outage',
  changedBy: 'cli:olivia',
  changedAtIso: '2013-10-09T15:00:00.000Z',
};

function outcome(over: Partial<KillSwitchOutcome>): KillSwitchOutcome {
  return {
    state: ON,
    canceled: ['sgp_p1_entry_1'],
    flattened: [],
    flattenErrors: [],
    cancelErrors: [],
    ...over,
  };
}

describe('stagegate kill on: the printed outcome', () => {
  it('names a failed cancel, says to engage again, and exits 1', () => {
    const out = killOutcomeText(
      outcome({ cancelErrors: [{ clientOrderId: 'sgp_p2_entry_1', error: 'HTTP 500' }] }),
      'alpaca-paper',
    );
    expect(out.text).toBe(
      'kill switch ON: gates fail, no order may be submitted; recorded by cli:olivia; 0 running session(s) flattened, 1 open order(s) canceled on alpaca-paper\n' +
        'WARNING: 1 cancel(s) failed: sgp_p2_entry_1 (HTTP 500); engage again\n',
    );
    expect(out.exitCode).toBe(1);
  });

  it('names an unsent flatten (the registry) and exits 0: the sessions flatten at their next tick', () => {
    const out = killOutcomeText(
      outcome({ flattenErrors: [{ promotionId: '*', error: 'table gone' }] }),
      'alpaca-paper',
    );
    expect(out.text).toContain(
      'WARNING: 1 flatten(s) not sent: the session registry (table gone); each session flattens at its next tick\n',
    );
    expect(out.exitCode).toBe(0);
  });

  it('prints no warning when everything went out, and only the state on release', () => {
    expect(killOutcomeText(outcome({}), 'a').text).not.toContain('WARNING');
    expect(
      killOutcomeText(outcome({ state: { ...ON, engaged: false }, canceled: [] }), 'a').text,
    ).toBe('kill switch off; recorded by cli:olivia\n');
  });
});
