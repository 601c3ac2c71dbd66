/**
 * The /stagegate grammar and the use case's refusals: unknown users, missing roles and
 * malformed text are refused and recorded; kill on|off only asks for a confirmation, and the
 * click acts after checking the CLICKER's role.
 */
import { describe, expect, it } from 'vitest';
import { renderSlashAnswer } from '../../../functions/adapters/slack/command-messages.js';
import { parseAmountUsd, parseSlashCommand } from '../../../functions/core/chatops/command.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { slackCohortStart } from '../../../functions/core/use-cases/chatops-commands.js';
import type { KillSwitchOutcome } from '../../../functions/core/use-cases/kill-switch.js';
import {
  answerSlashCommand,
  confirmKillSwitch,
  type SlashCommandDeps,
} from '../../../functions/core/use-cases/slash-command.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { CohortStarter } from '../../../functions/ports/cohort-starter.js';
import type { KillSwitchState } from '../../../functions/ports/kill-switch.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

describe('parseSlashCommand', () => {
  it('reads every command of the grammar', () => {
    expect(parseSlashCommand('')).toEqual({ kind: 'help' });
    expect(parseSlashCommand('  Status ')).toEqual({ kind: 'status' });
    expect(parseSlashCommand('fund?')).toEqual({ kind: 'fund' });
    expect(parseSlashCommand('kill on broker outage at 10:02')).toEqual({
      kind: 'kill',
      engage: true,
      reason: 'broker outage at 10:02',
    });
    expect(parseSlashCommand('kill off')).toMatchObject({ kind: 'kill', engage: false });
    expect(parseSlashCommand('cohort start $5,000 100 spy,ibm')).toEqual({
      kind: 'cohort_start',
      bankrollUsd: 5000,
      agents: 100,
      symbols: ['SPY', 'IBM'],
    });
    expect(parseSlashCommand('cohort start')).toEqual({
      kind: 'cohort_start',
      bankrollUsd: null,
      agents: null,
      symbols: null,
    });
    expect(parseSlashCommand('plan grow $1,000 5')).toEqual({
      kind: 'plan_grow',
      amountUsd: 1000,
      days: 5,
    });
    expect(parseSlashCommand('plan status')).toEqual({ kind: 'plan_status' });
    expect(parseSlashCommand('plan cancel too risky')).toEqual({
      kind: 'plan_cancel',
      reason: 'too risky',
    });
  });

  it('refuses malformed text naming the argument', () => {
    const field = (text: string) => {
      try {
        parseSlashCommand(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).field;
      }
      return 'accepted';
    };
    expect(field('kill on')).toBe('text.reason');
    expect(field('kill maybe')).toBe('text');
    expect(field('plan grow 1e3 5')).toBe('text.amount');
    expect(field('plan grow 1000 -5')).toBe('text.days');
    expect(field('plan grow 1000')).toBe('text');
    expect(field('cohort start 1000 30 SPY;rm')).toBe('text.symbols');
    expect(field('deploy prod')).toBe('text');
    expect(field('status now')).toBe('text');
    expect(() => parseAmountUsd('1,00', 'x')).toThrow(ValidationError);
  });
});

function fixture(
  users: SlashCommandDeps['users'],
  undone: Pick<KillSwitchOutcome, 'cancelErrors' | 'flattenErrors'> &
    Partial<Pick<KillSwitchOutcome, 'ended'>> = {
    cancelErrors: [],
    flattenErrors: [],
  },
) {
  const clock = new ManualClock(Date.parse('2013-10-09T15:00:00Z'));
  const audit = new MemoryAuditSink(clock);
  let state: KillSwitchState | null = null;
  const deps: SlashCommandDeps = {
    users,
    readModel: {
      listCohorts: async () => ({ items: [], next: null }),
      listPromotions: async () => ({ items: [], next: null }),
      listApprovals: async () => ({ items: [], next: null }),
    },
    killSwitch: { read: async () => state },
    setKillSwitch: async (input) => {
      state = {
        engaged: input.engaged,
        reason: input.reason,
        changedBy: input.by,
        changedAtIso: new Date(clock.now()).toISOString(),
      };
      return { state, canceled: [], ended: [], flattened: [], unchanged: false, ...undone };
    },
    audit,
    environment: 'local',
    clock,
  };
  return { deps, audit, state: () => state };
}

const USERS = { UOPS: ['viewer', 'operator'], UVIEW: ['viewer'] } as const;

describe('answerSlashCommand', () => {
  it('refuses and records an unknown user, a missing role and malformed text', async () => {
    const { deps, audit } = fixture(USERS);
    const req = { teamId: 'T1', channelId: 'C1' };
    const unknown = await answerSlashCommand(deps, { ...req, userId: 'UNOBODY', text: 'status' });
    const forbidden = await answerSlashCommand(deps, {
      ...req,
      userId: 'UVIEW',
      text: 'kill on test run',
    });
    const malformed = await answerSlashCommand(deps, {
      ...req,
      userId: 'UOPS',
      text: 'plan grow lots 5',
    });
    expect([unknown, forbidden, malformed].map((o) => o.answer)).toMatchObject([
      { kind: 'refused', reason: 'unknown_user' },
      { kind: 'refused', reason: 'forbidden' },
      { kind: 'refused', reason: 'malformed' },
    ]);
    const rejected = audit.records().filter((r) => r.kind === 'input_rejected');
    expect(
      rejected.map((r) => [r.actor, JSON.parse(r.payload).reason, JSON.parse(r.payload).field]),
    ).toEqual([
      ['slack:UNOBODY', 'unknown_user', 'user_id'],
      ['slack:UVIEW', 'forbidden', 'user_id'],
      ['slack:UOPS', 'malformed', 'text.amount'],
    ]);
    expect(audit.records().every((r) => r.stream === 'slack:commands')).toBe(true);
  });

  it('a redelivered invocation (same trigger_id) is recorded once; control: another trigger_id records again', async () => {
    // Prepare
    const { deps, audit } = fixture(USERS);
    const send = (text: string, triggerId: string, userId = 'UOPS') =>
      answerSlashCommand(deps, { userId, teamId: 'T1', channelId: 'C1', text, triggerId });

    // Act
    await send('status', '111.222.aaa');
    await send('status', '111.222.aaa');
    await send('kill on outage', '111.222.bbb', 'UVIEW');
    await send('kill on outage', '111.222.bbb', 'UVIEW');
    await send('status', '111.222.ddd');

    // Assess
    expect(
      audit.records().map((r) => [r.kind, r.actor, JSON.parse(r.payload).outcome ?? null]),
    ).toEqual([
      ['chat_command', 'slack:UOPS', 'answered'],
      ['input_rejected', 'slack:UVIEW', null],
      ['chat_command', 'slack:UOPS', 'answered'],
    ]);
  });

  describe('a redelivered cohort start (S3)', () => {
    /** Deps whose cohort start runs the real use case on a starter idempotent per name, as Step Functions is. */
    function withCohortStart() {
      const f = fixture(USERS);
      const executions = new Map<string, Readonly<Record<string, unknown>>>();
      const starter: CohortStarter = {
        start: async (request, name) => {
          const arn = `arn:aws:states:us-east-1:123456789012:execution:intraday-cohort:${name}`;
          if (executions.has(name)) return { executionId: arn, status: 'ALREADY_STARTED' };
          executions.set(name, request);
          return { executionId: arn, status: 'RUNNING' };
        },
      };
      let ids = 0;
      const deps: SlashCommandDeps = {
        ...f.deps,
        extra: {
          cohortStart: slackCohortStart({
            starter: () => starter,
            audit: f.audit,
            clock: f.deps.clock,
            environment: 'local',
            newId: () => `01HZZZZZZZZZZZZZZZZZZZZZ${String(++ids).padStart(2, '0')}`,
          }),
        },
      };
      const send = (triggerId: string) =>
        answerSlashCommand(deps, {
          userId: 'UOPS',
          teamId: 'T1',
          channelId: 'C1',
          text: 'cohort start $1,000 10 SPY',
          triggerId,
        });
      const kinds = () =>
        f.audit.records().map((r) => [r.kind, JSON.parse(r.payload).outcome ?? null]);
      return { send, executions, kinds };
    }

    it('whose first delivery crashed after its record starts exactly one execution, recorded once', async () => {
      // Prepare: the first delivery records `started`, then dies before its start runs
      const w = withCohortStart();
      await w.send('111.222.ccc');

      // Act: Slack redelivers the invocation, twice
      const again = await w.send('111.222.ccc');
      const out = await again.later?.run();
      const third = await w.send('111.222.ccc');
      await third.later?.run();

      // Assess
      expect(again.answer).toMatchObject({ kind: 'working', command: 'cohort start' });
      expect(out).toMatchObject({ kind: 'text', title: 'Cohort start: running' });
      expect(w.executions.size).toBe(1);
      expect(w.kinds()).toEqual([
        ['chat_command', 'started'],
        ['operator_command', null],
      ]);
    });

    it('control: another trigger_id is another command: a second execution, recorded again', async () => {
      // Prepare
      const w = withCohortStart();
      await (await w.send('111.222.ccc')).later?.run();

      // Act
      await (await w.send('111.222.eee')).later?.run();

      // Assess
      expect(w.executions.size).toBe(2);
      expect(w.kinds()).toEqual([
        ['chat_command', 'started'],
        ['operator_command', null],
        ['chat_command', 'started'],
        ['operator_command', null],
      ]);
    });
  });

  it("Slack's redelivery of a kill-switch click (same action_ts) is one change, recorded once; control: another click records again", async () => {
    // Prepare
    const { deps, audit } = fixture(USERS);
    const keys: unknown[] = [];
    const counting: typeof deps = {
      ...deps,
      setKillSwitch: async (input) => {
        keys.push(input.idempotencyKey);
        return deps.setKillSwitch(input);
      },
    };
    const click = (actionTs: string) =>
      confirmKillSwitch(counting, { userId: 'UOPS', engage: true, reason: 'outage', actionTs });

    // Act
    await click('1381330800.000100');
    await click('1381330800.000100');
    const afterRedelivery = audit.records().length;
    await click('1381330805.000200');

    // Assess
    expect(keys).toEqual([
      'slack-click.1381330800.000100',
      'slack-click.1381330800.000100',
      'slack-click.1381330805.000200',
    ]);
    expect(afterRedelivery).toBe(1);
    expect(audit.records().map((r) => [r.kind, JSON.parse(r.payload).outcome])).toEqual([
      ['chat_command', 'confirmed'],
      ['chat_command', 'confirmed'],
    ]);
  });

  it('kill on asks for a confirmation and changes nothing until the click', async () => {
    const { deps, audit, state } = fixture(USERS);
    const out = await answerSlashCommand(deps, {
      userId: 'UOPS',
      teamId: null,
      channelId: null,
      text: 'kill on broker outage',
    });
    expect(out.answer).toEqual({ kind: 'kill_confirm', engage: true, reason: 'broker outage' });
    expect(state()).toBeNull();
    expect(audit.records().map((r) => [r.kind, JSON.parse(r.payload).outcome])).toEqual([
      ['chat_command', 'confirmation_requested'],
    ]);
  });

  it('the click is checked against the clicker’s roles, then acts and is recorded', async () => {
    const { deps, audit, state } = fixture(USERS);
    const byViewer = await confirmKillSwitch(deps, {
      userId: 'UVIEW',
      engage: true,
      reason: 'x y z',
    });
    expect(byViewer).toMatchObject({ kind: 'refused', reason: 'forbidden' });
    expect(state()).toBeNull();
    const byOperator = await confirmKillSwitch(deps, {
      userId: 'UOPS',
      engage: true,
      reason: 'broker outage',
    });
    expect(byOperator).toMatchObject({
      kind: 'kill_done',
      state: { engaged: true, changedBy: 'slack:UOPS' },
    });
    expect(state()?.engaged).toBe(true);
    expect(audit.records().map((r) => [r.kind, r.actor])).toEqual([
      ['input_rejected', 'slack:UVIEW'],
      ['chat_command', 'slack:UOPS'],
    ]);
  });

  it('an engage that left a cancel and a flatten undone says which, and to engage again', async () => {
    // Prepare: the broker refused one cancel twice; the session registry could not be read
    const { deps } = fixture(USERS, {
      cancelErrors: [{ clientOrderId: 'sgp_p2_entry_1', error: 'HTTP 500' }],
      flattenErrors: [{ promotionId: 'p9', error: 'registry down' }],
    });

    // Act
    const answer = await confirmKillSwitch(deps, {
      userId: 'UOPS',
      engage: true,
      reason: 'broker outage',
    });
    const rendered = renderSlashAnswer(answer);
    const warning = JSON.stringify(rendered.blocks?.[1]);

    // Assess: the channel sees the failed cancel, the unsent flatten and what to do
    expect(warning).toContain('"type":"plain_text"');
    expect(warning).toContain('1 cancel(s) failed: sgp_p2_entry_1 (HTTP 500); engage again');
    expect(warning).toContain(
      '1 flatten(s) not sent: p9 (registry down); each session flattens at its next tick',
    );
  });

  it('an engage that found an order already filled says so, apart from the canceled ones, and records it', async () => {
    // Prepare: the order filled before its cancel reached it; one cancel still failed
    const { deps, audit } = fixture(USERS, {
      ended: [{ clientOrderId: 'sgp_p2_entry_1', status: 'filled' }],
      cancelErrors: [{ clientOrderId: 'sgp_p3_entry_1', error: 'HTTP 500' }],
      flattenErrors: [],
    });

    // Act
    const answer = await confirmKillSwitch(deps, {
      userId: 'UOPS',
      engage: true,
      reason: 'broker outage',
    });
    const rendered = renderSlashAnswer(answer);

    // Assess: the ended order in its own plain_text section, before the warning
    expect(rendered.blocks?.[0]).toMatchObject({
      text: { text: expect.stringContaining('0 open order(s) canceled') },
    });
    expect(rendered.blocks?.[1]).toMatchObject({
      type: 'section',
      text: {
        type: 'plain_text',
        text: '1 order(s) already ended, not canceled: sgp_p2_entry_1 (filled).',
      },
    });
    expect(JSON.stringify(rendered.blocks?.[2])).toContain('1 cancel(s) failed: sgp_p3_entry_1');
    expect(rendered.text).toContain('already ended, not canceled: sgp_p2_entry_1 (filled)');
    const command = audit.records().find((r) => r.kind === 'chat_command');
    expect(JSON.parse(command?.payload ?? '{}')).toMatchObject({
      outcome: 'confirmed',
      canceled_orders: 0,
      ended_orders: 1,
    });
  });

  it('a clean engage says nothing failed', async () => {
    const { deps } = fixture(USERS);
    const answer = await confirmKillSwitch(deps, { userId: 'UOPS', engage: true, reason: 'drill' });
    expect(answer).toMatchObject({ kind: 'kill_done', shortfall: null });
    expect(renderSlashAnswer(answer).blocks).toHaveLength(1);
    expect(renderSlashAnswer(answer).text).not.toContain('failed');
  });

  it('answers status with the kill switch, and says so when the switch cannot be read', async () => {
    const { deps } = fixture(USERS);
    const broken: SlashCommandDeps = {
      ...deps,
      killSwitch: { read: async () => Promise.reject(new Error('table gone')) },
    };
    const out = await answerSlashCommand(broken, {
      userId: 'UVIEW',
      teamId: null,
      channelId: null,
      text: 'status',
    });
    expect(out.answer).toMatchObject({
      kind: 'status',
      view: { killSwitch: 'unreadable', alarms: null },
    });
  });
});
