/**
 * Slack's side of a kill switch release that races an engage, over the real use case and the
 * in-memory switch (the race forced by `afterNextRead`, never timed): the confirmation click of
 * `kill off` is answered `refused` (`kill_switch_changed`) naming who engaged and when, the
 * switch stays engaged, and the refusal is recorded; `status` and a confirmed release show the
 * last engage of a released switch.
 */
import { describe, expect, it } from 'vitest';
import { renderSlashAnswer } from '../../../functions/adapters/slack/command-messages.js';
import { setKillSwitch } from '../../../functions/core/use-cases/kill-switch.js';
import {
  answerSlashCommand,
  confirmKillSwitch,
  type SlashCommandDeps,
} from '../../../functions/core/use-cases/slash-command.js';
import type { BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';

const noOrders = { name: 'simulated', listOpenOrders: async () => [] } as unknown as BrokerPort;
const NOTE =
  'last engaged at 2013-10-09T15:00:00.000Z (paper sessions running between then and the release stay halted for their day)';

function world() {
  const clock = new ManualClock(Date.parse('2013-10-09T15:00:00Z'));
  const audit = new MemoryAuditSink(clock);
  const killSwitch = new MemoryKillSwitch();
  const killDeps = { killSwitch, audit, clock, environment: 'local' as const, broker: noOrders };
  const deps: SlashCommandDeps = {
    users: { UOPS: ['viewer', 'operator'], UBOB: ['viewer', 'operator'] },
    readModel: {
      listCohorts: async () => ({ items: [], next: null }),
      listPromotions: async () => ({ items: [], next: null }),
      listApprovals: async () => ({ items: [], next: null }),
    },
    killSwitch,
    setKillSwitch: (input) => setKillSwitch(killDeps, input),
    audit,
    environment: 'local',
    clock,
  };
  const click = (userId: string, engage: boolean, reason: string) =>
    confirmKillSwitch(deps, { userId, engage, reason, actionTs: `${clock.now()}.${userId}` });
  return { clock, audit, killSwitch, deps, click };
}

describe('Slack: releasing the kill switch', () => {
  it('a release click whose write finds the switch engaged again is refused, names who and when, and is recorded', async () => {
    // Prepare: UOPS engaged; UBOB engages again between UOPS's release read and its write
    const w = world();
    await w.click('UOPS', true, 'broker outage');
    w.clock.advance(60_000);
    w.killSwitch.afterNextRead(() => w.click('UBOB', true, 'drawdown breaker'));

    // Act
    const answer = await w.click('UOPS', false, 'broker back');
    const rendered = renderSlashAnswer(answer);

    // Assess
    expect(answer).toMatchObject({ kind: 'refused', reason: 'kill_switch_changed' });
    expect(rendered.response_type).toBe('ephemeral');
    expect(rendered.text).toContain(
      'the kill switch changed while releasing it: engaged by slack:UBOB at 2013-10-09T15:01:00.000Z (drawdown breaker)',
    );
    expect(w.killSwitch.state).toMatchObject({
      engaged: true,
      changedBy: 'slack:UBOB',
      lastEngagedAtIso: '2013-10-09T15:01:00.000Z',
    });
    const rejected = w.audit.records().filter((r) => r.kind === 'input_rejected');
    expect(rejected.map((r) => [r.actor, JSON.parse(r.payload).reason])).toEqual([
      ['slack:UOPS', 'changed_meanwhile'],
    ]);
    const confirmed = w.audit
      .records()
      .filter((r) => r.kind === 'chat_command')
      .map((r) => [r.actor, JSON.parse(r.payload).engage]);
    expect(confirmed).toEqual([
      ['slack:UOPS', true],
      ['slack:UBOB', true],
    ]);
  });

  it('a confirmed release and `status` say when the switch was last engaged', async () => {
    // Prepare
    const w = world();
    await w.click('UOPS', true, 'broker outage');
    w.clock.advance(60_000);

    // Act
    const done = renderSlashAnswer(await w.click('UOPS', false, 'broker back'));
    const status = await answerSlashCommand(w.deps, {
      userId: 'UOPS',
      teamId: null,
      channelId: null,
      text: 'status',
    });
    const killBlock = JSON.stringify(
      renderSlashAnswer(status.answer).blocks?.find(
        (b) => (b as { block_id?: string }).block_id === 'kill_switch',
      ),
    );

    // Assess
    expect(done.text).toBe(`Kill switch *off* by slack:UOPS: broker back; ${NOTE}.`);
    expect(killBlock).toContain(
      `off since 2013-10-09T15:01:00.000Z by slack:UOPS: broker back; ${NOTE}`,
    );
  });

  it('`status` of an engaged switch names no last engage beyond its own time', async () => {
    // Prepare
    const w = world();
    await w.click('UOPS', true, 'broker outage');

    // Act
    const status = await answerSlashCommand(w.deps, {
      userId: 'UOPS',
      teamId: null,
      channelId: null,
      text: 'status',
    });

    // Assess
    expect(JSON.stringify(renderSlashAnswer(status.answer).blocks)).not.toContain('last engaged');
  });
});
