/**
 * `cohort start` (a partial intraday cohort): validated like the CLI, refused on a closed day
 * or before the first bar ends, every refusal recorded, the command recorded before the
 * workflow starts, and the request carries `partial: true` and today's session only.
 */
import { describe, expect, it } from 'vitest';
import { type AuditDraft, auditDraftSchema } from '../../../functions/core/audit/record.js';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  OPERATOR_COMMANDS_STREAM,
  startPartialCohort,
} from '../../../functions/core/use-cases/cohort-start.js';
import { ManualClock } from '../../../functions/ports/clock.js';

function harness(nowIso: string) {
  const drafts: AuditDraft[] = [];
  const starts: { request: Record<string, unknown>; name: string; auditedBefore: number }[] = [];
  const deps = {
    clock: new ManualClock(Date.parse(nowIso)),
    environment: 'local' as const,
    newId: () => '01HZZZZZZZZZZZZZZZZZZZZZZZ',
    audit: {
      append: async (d: AuditDraft) => {
        auditDraftSchema.parse(d);
        drafts.push(d);
        return d as never;
      },
      appendMany: async () => [],
    },
    starter: {
      start: async (request: Readonly<Record<string, unknown>>, name: string) => {
        starts.push({ request: { ...request }, name, auditedBefore: drafts.length });
        return { executionId: `arn:test:${name}`, status: 'RUNNING' as const };
      },
    },
  };
  return { deps, drafts, starts };
}

describe('startPartialCohort', () => {
  it('starts today’s session as a partial cohort with the CLI defaults, recorded first', async () => {
    const h = harness('2013-10-09T15:00:00.000Z');
    const out = await startPartialCohort(h.deps, {
      by: 'local:olivia',
      channel: 'slack',
      args: { bankrollUsd: 2500, symbols: ['spy'] },
    });
    expect(out).toMatchObject({
      status: 'RUNNING',
      sessionDate: '2013-10-09',
      partial: true,
      cohortId: 'coh-20131009-01HZZZZZZZZZZZZZZZZZZZZZZZ',
      executionName: 'partial-slack-01HZZZZZZZZZZZZZZZZZZZZZZZ',
    });
    expect(h.starts).toHaveLength(1);
    expect(h.starts[0]?.request).toEqual({
      source: 'slack',
      sessionDate: '2013-10-09',
      symbols: ['SPY'],
      bankrollUsd: 2500,
      agentCount: 30,
      allocation: 'equal',
      seed: 1,
      market: 'equity-usa',
      partial: true,
    });
    expect(h.starts[0]?.auditedBefore).toBe(1);
    expect(h.drafts[0]).toMatchObject({
      kind: 'operator_command',
      actor: 'local:olivia',
      stream: OPERATOR_COMMANDS_STREAM,
      subject: { cohort_id: out.cohortId },
      payload: { channel: 'slack', command: 'cohort start', bankroll: 2500 },
    });
  });

  it.each([
    ['bankroll out of range', '2013-10-09T15:00:00Z', { bankrollUsd: 20 }, 'bankrollUsd'],
    ['too many agents', '2013-10-09T15:00:00Z', { agentCount: 5000 }, 'agentCount'],
    ['unknown allocation', '2013-10-09T15:00:00Z', { allocation: 'kelly' }, 'allocation'],
    ['not a ticker', '2013-10-09T15:00:00Z', { symbols: ['SP Y'] }, 'symbols[0]'],
    ['an unknown argument', '2013-10-09T15:00:00Z', { sessionDate: '2013-10-08' }, 'sessionDate'],
    ['a Saturday', '2013-10-12T15:00:00Z', {}, 'market'],
    ['Thanksgiving', '2013-11-28T15:00:00Z', {}, 'market'],
    ['before the first bar ends', '2013-10-09T13:30:30Z', {}, 'market'],
  ])('refuses %s, naming the field, and records the refusal', async (_what, now, args, field) => {
    const h = harness(now);
    const act = startPartialCohort(h.deps, { by: 'local:olivia', channel: 'console', args });
    await expect(act).rejects.toBeInstanceOf(ValidationError);
    await expect(act).rejects.toMatchObject({ field });
    expect(h.starts).toEqual([]);
    expect(h.drafts).toEqual([
      expect.objectContaining({
        kind: 'input_rejected',
        stream: OPERATOR_COMMANDS_STREAM,
        payload: expect.objectContaining({ source: 'console', command: 'cohort start', field }),
      }),
    ]);
  });

  it('uses the UTC day for crypto (a Saturday is a session)', async () => {
    const h = harness('2017-09-03T10:00:00.000Z');
    const out = await startPartialCohort(h.deps, {
      by: 'local:olivia',
      channel: 'console',
      args: { market: 'crypto', symbols: ['BTCUSD'] },
    });
    expect(out.sessionDate).toBe('2017-09-03');
    expect(h.starts[0]?.request).toMatchObject({ market: 'crypto', symbols: ['BTCUSD'] });
  });
});
