/**
 * Slack's side of a kill switch release that races an engage, over the real use case and the
 * in-memory switch (the race forced by `afterNextRead`, never timed): the confirmation click of
 * `kill off` is answered `refused` (`kill_switch_changed`) naming who engaged and when, the
 * switch stays engaged, and the refusal is recorded. The confirmation of `kill off` carries the
 * switch it showed (its button block's id), so a click after an engage made since is refused
 * too; a release click whose confirmation names no switch, or names one that does not parse, is
 * refused and releases nothing; `kill off` asked while the switch cannot be read is refused
 * with no button (fail closed). `status` and a confirmed release show the last engage of a
 * released switch.
 */
import { describe, expect, it } from 'vitest';
import { renderSlashAnswer } from '../../../functions/adapters/slack/command-messages.js';
import { parseSlackInteraction } from '../../../functions/adapters/slack/interaction.js';
import {
  killSwitchConfirmBlockId,
  seenOfKillSwitchBlock,
} from '../../../functions/adapters/slack/messages.js';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  killSwitchSeenDigest,
  setKillSwitch,
} from '../../../functions/core/use-cases/kill-switch.js';
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
  'last engaged at 2013-10-09T15:00:00.000Z (paper sessions running between then and the release stay halted for their day under the kill switch halt modes flatten and reduce-only; under pause-entries a released switch does not hold them)';

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
  // A release's click carries the switch as its confirmation showed it: the stored one now.
  const click = (userId: string, engage: boolean, reason: string) =>
    confirmKillSwitch(deps, {
      userId,
      engage,
      reason,
      actionTs: `${clock.now()}.${userId}`,
      ...(engage ? {} : { expectedChangedAtIso: killSwitch.state?.changedAtIso ?? null }),
    });
  const says = (userId: string, text: string) =>
    answerSlashCommand(deps, { userId, teamId: null, channelId: null, text });
  /** UOPS's click on the button of a rendered `kill off` confirmation, as Slack sends it. */
  const clickRendered = (asked: ReturnType<typeof renderSlashAnswer>, blockId?: string) => {
    const actions = actionsOf(asked);
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'UOPS' },
      actions: [
        {
          ...actions.elements[0],
          type: 'button',
          block_id: blockId ?? actions.block_id,
          action_ts: '1381330920.000001',
        },
      ],
    });
    const action = parseSlackInteraction(new URLSearchParams({ payload }).toString());
    return confirmKillSwitch(deps, action as Parameters<typeof confirmKillSwitch>[1]);
  };
  const ofKind = (kind: string) =>
    audit
      .records()
      .filter((r) => r.kind === kind)
      .map((r) => ({ actor: r.actor, payload: JSON.parse(r.payload) }));
  return { clock, audit, killSwitch, deps, click, says, clickRendered, ofKind };
}

/** The actions block of a rendered confirmation (its button and block id). */
function actionsOf(asked: ReturnType<typeof renderSlashAnswer>) {
  return asked.blocks?.find((b) => b.type === 'actions') as unknown as {
    block_id: string;
    elements: { action_id: string; value: string }[];
  };
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

  it('the kill off confirmation carries the switch it showed: clicked after an engage made since, it is refused', async () => {
    // Prepare: UOPS asks to release alice's engage; UBOB engages again before the click
    const w = world();
    await w.click('UOPS', true, 'broker outage');
    w.clock.advance(60_000);
    const asked = renderSlashAnswer((await w.says('UOPS', 'kill off broker back')).answer);
    const actions = asked.blocks?.find((b) => b.type === 'actions') as unknown as {
      block_id: string;
      elements: { action_id: string; value: string }[];
    };
    w.clock.advance(60_000);
    await w.click('UBOB', true, 'drawdown breaker');
    const [button] = actions.elements;
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'UOPS' },
      actions: [
        { ...button, type: 'button', block_id: actions.block_id, action_ts: '1381330920.000001' },
      ],
    });

    // Act
    const action = parseSlackInteraction(new URLSearchParams({ payload }).toString());
    const answer = await confirmKillSwitch(
      w.deps,
      action as Parameters<typeof confirmKillSwitch>[1],
    );

    // Assess
    expect(actions.block_id).toBe('kill_switch_confirm:2013-10-09T15:00:00.000Z');
    expect(JSON.stringify(asked.blocks)).toContain(
      'Releases the switch as set at 2013-10-09T15:00:00.000Z: refused if it changes before the click.',
    );
    expect(action).toMatchObject({
      kind: 'kill_switch',
      engage: false,
      expectedChangedAtIso: '2013-10-09T15:00:00.000Z',
    });
    expect(answer).toMatchObject({ kind: 'refused', reason: 'kill_switch_changed' });
    expect(w.killSwitch.state).toMatchObject({ engaged: true, changedBy: 'slack:UBOB' });
  });

  it('a release click whose confirmation names no switch (posted before confirmations did) is refused and recorded; an engage needs none', async () => {
    // Prepare
    const w = world();
    await w.click('UOPS', true, 'broker outage');
    const clickOf = (actionId: string, value: string) => {
      const payload = JSON.stringify({
        type: 'block_actions',
        user: { id: 'UOPS' },
        actions: [{ action_id: actionId, type: 'button', value, block_id: 'kill_switch_confirm' }],
      });
      const action = parseSlackInteraction(new URLSearchParams({ payload }).toString());
      return confirmKillSwitch(w.deps, action as Parameters<typeof confirmKillSwitch>[1]);
    };

    // Act
    const release = await clickOf('kill_switch_off', 'broker back');
    const engage = await clickOf('kill_switch_on', 'drawdown breaker');

    // Assess
    expect(release).toMatchObject({ kind: 'refused', reason: 'confirmation_expired' });
    expect(renderSlashAnswer(release).text).toContain('ask `kill off` again');
    expect(w.ofKind('input_rejected').map((r) => [r.actor, r.payload.reason])).toEqual([
      ['slack:UOPS', 'confirmation_expired'],
    ]);
    expect(engage).toMatchObject({ kind: 'kill_done', state: { engaged: true } });
    expect(w.killSwitch.writes.map((s) => s.engaged)).toEqual([true, true]);
  });

  it('a release click whose block id does not parse is refused (ValidationError), never taken as no seen switch', () => {
    const tails = ['', 'sha256:abc', `sha256:${'0'.repeat(63)}g`, 'x'.repeat(201)];
    for (const tail of tails) {
      expect(() => seenOfKillSwitchBlock(`kill_switch_confirm:${tail}`)).toThrow(ValidationError);
    }
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'UOPS' },
      actions: [
        {
          action_id: 'kill_switch_off',
          type: 'button',
          value: 'broker back',
          block_id: 'kill_switch_confirm:',
        },
      ],
    });
    expect(() => parseSlackInteraction(new URLSearchParams({ payload }).toString())).toThrow(
      /payload\.actions\.0\.block_id/,
    );
  });

  it('`kill off` asked while the switch cannot be read is refused with no button and recorded; an engage made later stands', async () => {
    // Prepare: UOPS engaged; the switch's read fails when UOPS asks to release it
    const w = world();
    await w.click('UOPS', true, 'broker outage');
    w.clock.advance(60_000);
    w.killSwitch.unreachable = true;

    // Act
    const asked = await w.says('UOPS', 'kill off broker back');
    w.killSwitch.unreachable = false;

    // Assess
    expect(asked.answer).toMatchObject({ kind: 'refused', reason: 'kill_switch_unreadable' });
    const rendered = renderSlashAnswer(asked.answer);
    expect(rendered.blocks?.some((b) => b.type === 'actions')).toBe(false);
    expect(rendered.text).toContain('the kill switch cannot be read now');
    expect(w.ofKind('input_rejected').map((r) => [r.actor, r.payload.reason])).toEqual([
      ['slack:UOPS', 'kill_switch_unreadable'],
    ]);
    const asks = w.ofKind('chat_command').filter((r) => r.payload.outcome !== 'confirmed');
    expect(asks).toEqual([]);
    expect(w.killSwitch.state).toMatchObject({ engaged: true, changedBy: 'slack:UOPS' });
  });

  it('the confirmation records the switch its button is bound to, and shows its time escaped', async () => {
    // Prepare: a time written by hand (the runbook's put-item) with Slack markup in it
    const w = world();
    w.killSwitch.state = {
      engaged: true,
      reason: 'manual',
      changedBy: 'runbook',
      changedAtIso: '<!channel> 15:00',
    };

    // Act
    const asked = renderSlashAnswer((await w.says('UOPS', 'kill off broker back')).answer);

    // Assess
    const text = JSON.stringify(asked.blocks?.filter((b) => b.type === 'section'));
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt; 15:00');
    const asks = w
      .ofKind('chat_command')
      .filter((r) => r.payload.outcome === 'confirmation_requested');
    expect(asks.map((r) => r.payload.seen_changed_at)).toEqual(['<!channel> 15:00']);
  });

  it('a stored time too long for the block id is carried as its SHA-256 digest: the click releases it unchanged, and is refused once it changed', async () => {
    // Prepare: an item whose changedAtIso is 300 characters (written by hand)
    const w = world();
    const long = `2013-10-09T15:00:00.000Z${'~'.repeat(276)}`;
    const engaged = { engaged: true, reason: 'manual', changedBy: 'runbook', changedAtIso: long };
    w.killSwitch.state = engaged;
    const asked = renderSlashAnswer((await w.says('UOPS', 'kill off broker back')).answer);
    w.clock.advance(60_000);
    await w.click('UBOB', true, 'drawdown breaker');

    // Act: UBOB's engage made since is not released; asked again over the long time, it is
    const refused = await w.clickRendered(asked);
    w.killSwitch.state = engaged;
    const released = await w.clickRendered(asked, undefined);

    // Assess
    expect(actionsOf(asked).block_id).toBe(`kill_switch_confirm:${killSwitchSeenDigest(long)}`);
    expect(actionsOf(asked).block_id.length).toBeLessThanOrEqual(255);
    expect(refused).toMatchObject({ kind: 'refused', reason: 'kill_switch_changed' });
    expect(released).toMatchObject({ kind: 'kill_done', state: { engaged: false } });
  });

  it('the block id round-trips the switch seen (a never-set one too) and stays within Slack’s 255 characters', () => {
    const times = ['2013-10-09T15:00:00.000Z', null, 'x'.repeat(200)];
    expect(times.map((t) => seenOfKillSwitchBlock(killSwitchConfirmBlockId(t)))).toEqual(times);
    const long = 'x'.repeat(201);
    expect(seenOfKillSwitchBlock(killSwitchConfirmBlockId(long))).toBe(killSwitchSeenDigest(long));
    expect(killSwitchConfirmBlockId('x'.repeat(200)).length).toBeLessThanOrEqual(255);
    expect(seenOfKillSwitchBlock('kill_switch_confirm')).toBeUndefined();
  });
});
