/**
 * A release of a switch that is already released writes nothing: a second release would move
 * `changedAtIso`, the end of the last engage's halt window ([`lastEngagedAtIso`,
 * `changedAtIso`], `killSwitchReading`), past the real release, and halt for the day a paper
 * session that started after it. It is answered with the stored release ("already released at
 * X by Y"), by every door, and recorded as a no-op request is (`kill_switch_changed`, once per
 * key). Over the real use case and the in-memory switch; the clock is a `ManualClock`.
 */
import { describe, expect, it } from 'vitest';
import { killOutcomeText } from '../../../bin/kill-outcome.js';
import { renderSlashAnswer } from '../../../functions/adapters/slack/command-messages.js';
import { killSwitchReading } from '../../../functions/core/paper/paper-session.js';
import {
  killSwitchUnchangedNote,
  setKillSwitch,
} from '../../../functions/core/use-cases/kill-switch.js';
import {
  confirmKillSwitch,
  type SlashCommandDeps,
} from '../../../functions/core/use-cases/slash-command.js';
import type { BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';

const noOrders = { name: 'simulated', listOpenOrders: async () => [] } as unknown as BrokerPort;
const RELEASED_1501 = {
  engaged: false,
  reason: 'broker back',
  changedBy: 'cli:alice',
  changedAtIso: '2013-10-09T15:01:00.000Z',
  lastEngagedAtIso: '2013-10-09T15:00:00.000Z',
};

/** alice engaged at 15:00 and released at 15:01; the clock is then at 15:30. */
async function releasedWorld() {
  const clock = new ManualClock(Date.parse('2013-10-09T15:00:00Z'));
  const audit = new MemoryAuditSink(clock);
  const killSwitch = new MemoryKillSwitch();
  const deps = { killSwitch, audit, clock, environment: 'local' as const, broker: noOrders };
  await setKillSwitch(deps, { engaged: true, reason: 'broker outage', by: 'cli:alice' });
  clock.advance(60_000);
  await setKillSwitch(deps, { engaged: false, reason: 'broker back', by: 'cli:alice' });
  clock.advance(29 * 60_000);
  const changes = () =>
    audit
      .records()
      .filter((r) => r.kind === 'kill_switch_changed')
      .map((r) => [r.actor, JSON.parse(r.payload).engaged]);
  return { clock, audit, killSwitch, deps, changes };
}

describe('a release of a released switch', () => {
  it('writes nothing, so a session started after the real release is not halted by it', async () => {
    // Prepare: a session starts at 15:30, after alice's release (review13 repro)
    const w = await releasedWorld();
    const sessionStart = w.clock.now();
    w.clock.advance(30 * 60_000);

    // Act: at 16:00 bob "releases" too
    const out = await setKillSwitch(w.deps, {
      engaged: false,
      reason: 'confirming all clear',
      by: 'slack:UBOB',
    });
    w.clock.advance(60_000);

    // Assess
    expect(out.unchanged).toBe(true);
    expect(out.state).toEqual(RELEASED_1501);
    expect(w.killSwitch.state).toEqual(RELEASED_1501);
    expect(w.killSwitch.writes).toHaveLength(2);
    expect(killSwitchReading(w.killSwitch.state, sessionStart, w.clock.now())).toEqual({
      kind: 'off',
    });
    expect(w.changes()).toEqual([
      ['cli:alice', true],
      ['cli:alice', false],
      ['slack:UBOB', false],
    ]);
  });

  it('under one key is recorded once, and a release that writes is still answered unchanged: false', async () => {
    // Prepare
    const w = await releasedWorld();
    const input = {
      engaged: false,
      reason: 'all clear',
      by: 'console:bob',
      idempotencyKey: 'k-0123456789abcdef',
      expectedChangedAtIso: RELEASED_1501.changedAtIso,
    };

    // Act
    const first = await setKillSwitch(w.deps, input);
    const redelivered = await setKillSwitch(w.deps, input);
    await setKillSwitch(w.deps, { engaged: true, reason: 'drawdown', by: 'cli:carol' });
    const real = await setKillSwitch(w.deps, { engaged: false, reason: 'ok', by: 'cli:carol' });

    // Assess
    expect([first.unchanged, redelivered.unchanged, real.unchanged]).toEqual([true, true, false]);
    expect(w.changes().filter(([actor]) => actor === 'console:bob')).toHaveLength(1);
    expect(w.killSwitch.state).toMatchObject({ engaged: false, changedBy: 'cli:carol' });
  });

  it('every door says it was already released, by whom and when', async () => {
    // Prepare
    const w = await releasedWorld();
    const slack: SlashCommandDeps = {
      users: { UBOB: ['viewer', 'operator'] },
      readModel: {
        listCohorts: async () => ({ items: [], next: null }),
        listPromotions: async () => ({ items: [], next: null }),
        listApprovals: async () => ({ items: [], next: null }),
      },
      killSwitch: w.killSwitch,
      setKillSwitch: (input) => setKillSwitch(w.deps, input),
      audit: w.audit,
      environment: 'local',
      clock: w.clock,
    };
    const already =
      'already released at 2013-10-09T15:01:00.000Z by cli:alice (broker back): nothing was written';

    // Act
    const cli = await setKillSwitch(w.deps, { engaged: false, reason: 'again', by: 'cli:bob' });
    const clicked = await confirmKillSwitch(slack, {
      userId: 'UBOB',
      engage: false,
      reason: 'all clear',
      actionTs: '1381332600.000001',
      expectedChangedAtIso: RELEASED_1501.changedAtIso,
    });

    // Assess
    expect(killSwitchUnchangedNote(cli)).toBe(already);
    expect(killOutcomeText(cli, 'paper').text).toBe(
      `kill switch off: ${already}; last engaged at 2013-10-09T15:00:00.000Z (paper sessions running between then and the release stay halted for their day under the kill switch halt modes flatten and reduce-only; under pause-entries a released switch does not hold them)\n`,
    );
    expect(renderSlashAnswer(clicked).text).toContain(`Kill switch *off*: ${already}`);
    expect(w.killSwitch.writes).toHaveLength(2);
  });
});
