/**
 * `stagegate kill on` prints the orders the engage found already ended (filled, expired: not
 * canceled) and what it left undone (bin/kill-outcome.ts): the failed
 * cancels ("engage again", exit 1: an order may still be live) and the unsent flattens (the
 * sessions flatten at their next tick, exit 0). `kill status` and `kill off` say when a
 * released switch was last engaged; a release refused because the switch changed meanwhile
 * says who changed it and exits 1.
 */
import { describe, expect, it } from 'vitest';
import { killOutcomeText, killRefusedText, killStatusText } from '../../../bin/kill-outcome.js';
import { KillSwitchChangedError } from '../../../functions/core/errors.js';
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
    ended: [],
    flattened: [],
    flattenErrors: [],
    cancelErrors: [],
    unchanged: false,
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

  it('names the orders found already ended, apart from the canceled ones, and exits 0', () => {
    const out = killOutcomeText(
      outcome({
        ended: [
          { clientOrderId: 'sgp_p2_entry_1', status: 'filled' },
          { clientOrderId: 'sgp_p3_entry_1', status: 'expired' },
        ],
      }),
      'alpaca-paper',
    );
    expect(out.text).toBe(
      'kill switch ON: gates fail, no order may be submitted; recorded by cli:olivia; 0 running session(s) flattened, 1 open order(s) canceled on alpaca-paper; ' +
        '2 order(s) already ended, not canceled: sgp_p2_entry_1 (filled), sgp_p3_entry_1 (expired)\n',
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

const RELEASED = {
  engaged: false,
  reason: 'broker back',
  changedBy: 'cli:olivia',
  changedAtIso: '2013-10-09T15:30:00.000Z',
  lastEngagedAtIso: '2013-10-09T15:00:00.000Z',
};
const NOTE =
  'last engaged at 2013-10-09T15:00:00.000Z (paper sessions running between then and the release stay halted for their day under the kill switch halt modes flatten and reduce-only; under pause-entries a released switch does not hold them)';

describe('stagegate kill status / off: the last engage of a released switch', () => {
  it('status names the last engage of a released switch, and none of an engaged or never-set one', () => {
    expect(killStatusText(RELEASED)).toBe(
      `kill switch: off (since 2013-10-09T15:30:00.000Z by cli:olivia: broker back); ${NOTE}\n`,
    );
    expect(killStatusText({ ...ON, lastEngagedAtIso: ON.changedAtIso })).toBe(
      'kill switch: ON (since 2013-10-09T15:00:00.000Z by cli:olivia: broker outage)\n',
    );
    expect(killStatusText({ ...RELEASED, lastEngagedAtIso: undefined })).not.toContain('last');
    expect(killStatusText(null)).toBe('kill switch: off (never set)\n');
  });

  it('a release prints the last engage it carried', () => {
    expect(killOutcomeText(outcome({ state: RELEASED, canceled: [] }), 'a').text).toBe(
      `kill switch off; recorded by cli:olivia; ${NOTE}\n`,
    );
  });

  it('a release refused because the switch changed meanwhile says who engaged it and exits 1', () => {
    const err = new KillSwitchChangedError(ON, {
      ...ON,
      reason: 'drawdown breaker',
      changedBy: 'slack:UBOB',
      changedAtIso: '2013-10-09T15:29:59.000Z',
    });
    expect(killRefusedText(err)).toEqual({
      text:
        'kill switch release REFUSED: the kill switch changed while releasing it: engaged by slack:UBOB at 2013-10-09T15:29:59.000Z (drawdown breaker); ' +
        'the release was refused and nothing was written (the switch stays as that change left it: check it, then release again if still meant)\n',
      exitCode: 1,
    });
  });
});
