/**
 * Plan writes once per request (functions/core/use-cases/plans.ts): a redelivered `plan grow`
 * or `plan cancel` with the same door key (Slack's `trigger_id`, the console's
 * `Idempotency-Key`) is answered as the first delivery and recorded once, also when the first
 * delivery stopped between storing the plan and recording it; another key is another request.
 */
import { describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../../functions/core/audit/record.js';
import { NotFoundError } from '../../../functions/core/errors.js';
import { DEFAULT_LEVERAGE_POLICY } from '../../../functions/core/leverage/policy.js';
import type { CohortSummary } from '../../../functions/core/use-cases/cohort-records.js';
import {
  type PlanDeps,
  planSlashCommands,
  runPlanCommand,
} from '../../../functions/core/use-cases/plans.js';
import {
  answerSlashCommand,
  type SlashCommandDeps,
} from '../../../functions/core/use-cases/slash-command.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

const cohort = (sessionDate: string, totalPnlUsd: number) =>
  ({
    cohortId: `coh-${sessionDate}`,
    sessionDate,
    completedAtIso: `${sessionDate}T21:00:00.000Z`,
    symbols: ['SPY'],
    bankrollUsd: 10_000,
    agentCount: 5,
    totalPnlUsd,
    bestAgentId: 'a1',
  }) as unknown as CohortSummary;

/** Plan deps over memory: three sessions of evidence, the plan in a map, a memory trail. */
function fixture(extraCohorts: CohortSummary[] = []) {
  const clock = new ManualClock(Date.parse('2013-10-09T21:30:00Z'));
  const audit = new MemoryAuditSink(clock);
  const stored = new Map<string, unknown>();
  const cohorts = [
    cohort('2013-10-07', 12),
    cohort('2013-10-08', -30),
    cohort('2013-10-09', 8),
    ...extraCohorts,
  ];
  const deps: PlanDeps = {
    artifacts: {
      putJson: async (key, doc) => {
        stored.set(key, structuredClone(doc));
        return { key, bytes: 1 };
      },
      getJson: async (key) => {
        if (!stored.has(key)) throw new NotFoundError('artifact', key);
        return structuredClone(stored.get(key));
      },
    },
    readModel: {
      listCohorts: async () => ({ items: cohorts, next: null }),
      listPromotions: async () => ({ items: [], next: null }),
    },
    audit,
    environment: 'local',
    clock,
    policy: DEFAULT_LEVERAGE_POLICY,
    market: 'equity-usa',
    bankrollUsd: 10_000,
    bankrollLimits: { minUsd: 1_000, maxUsd: 100_000 },
    maxDrawdownFraction: 0.1,
  };
  /** `plan_event` events and refusals, in order. */
  const trail = () =>
    audit
      .records()
      .filter((r) => r.kind === 'plan_event' || r.kind === 'input_rejected')
      .map((r) => {
        const p = JSON.parse(r.payload) as { event?: string; command?: string };
        return r.kind === 'plan_event' ? `${p.event}` : `refused ${p.command}`;
      });
  return { deps, audit, clock, trail };
}

const GROW = { kind: 'plan_grow', amountUsd: 1_000, days: 2 } as const;
const CANCEL = { kind: 'plan_cancel', reason: 'done testing' } as const;

describe('plan writes once per request', () => {
  it('the console: a repeated create and cancel with one Idempotency-Key are one write each; control: another key is another request', async () => {
    // Prepare
    const { deps, clock, trail } = fixture();
    const run = (command: typeof GROW | typeof CANCEL, key: string | null) =>
      runPlanCommand(deps, command, 'console:rick', 'console', key);

    // Act: each request delivered twice, a minute apart
    const created = await run(GROW, 'grow-key-0123456789');
    clock.advance(60_000);
    const createdAgain = await run(GROW, 'grow-key-0123456789');
    await expect(run(GROW, 'grow-key-other-000000')).rejects.toThrow(/is active/);
    await expect(run(GROW, 'grow-key-other-000000')).rejects.toThrow(/is active/);
    const canceled = await run(CANCEL, 'cancel-key-012345678');
    clock.advance(60_000);
    const canceledAgain = await run(CANCEL, 'cancel-key-012345678');
    const next = await run(GROW, 'grow-key-later-000000');

    // Assess: the redeliveries answer as the first; each write and refusal recorded once
    expect(createdAgain).toEqual(created);
    expect(canceledAgain.title).toBe(canceled.title);
    expect(canceledAgain.plan?.status).toBe('canceled');
    expect(next.plan?.planId).not.toBe(created.plan?.planId);
    expect(trail()).toEqual(['created', 'refused plan_grow', 'canceled', 'created']);
  });

  it('without a key every request is its own write (the refusal recorded each time)', async () => {
    // Prepare
    const { deps, trail } = fixture();
    const run = () => runPlanCommand(deps, GROW, 'console:rick', 'console');

    // Act
    await run();
    await expect(run()).rejects.toThrow(/is active/);

    // Assess
    expect(trail()).toEqual(['created', 'refused plan_grow']);
  });

  it('a redelivery after the first delivery stored the plan but died before recording it records the created plan once', async () => {
    // Prepare: the trail fails once, after the plan was stored
    const { deps, audit, trail } = fixture();
    let failures = 1;
    const flaky = Object.assign(Object.create(audit) as MemoryAuditSink, {
      appendManyOnce: async (drafts: readonly AuditDraft[], key: string) => {
        if (failures-- > 0) throw new Error('process killed before the record');
        return audit.appendManyOnce(drafts, key);
      },
    });
    const flakyDeps = { ...deps, audit: flaky };

    // Act
    await expect(
      runPlanCommand(flakyDeps, GROW, 'console:rick', 'console', 'grow-key-0123456789'),
    ).rejects.toThrow(/killed/);
    const again = await runPlanCommand(
      flakyDeps,
      GROW,
      'console:rick',
      'console',
      'grow-key-0123456789',
    );

    // Assess: answered as created (not "another plan is active"), recorded once
    expect(again.title).toMatch(/^Plan plan-\S+ created$/);
    expect(trail()).toEqual(['created']);
  });

  it('Slack: a redelivered plan command (same trigger_id) is one write; its chat_command once', async () => {
    // Prepare
    const { deps: planDeps, audit, clock, trail } = fixture();
    const deps: SlashCommandDeps = {
      users: { UOPS: ['viewer', 'operator'] },
      readModel: {
        listCohorts: async () => ({ items: [], next: null }),
        listPromotions: async () => ({ items: [], next: null }),
        listApprovals: async () => ({ items: [], next: null }),
      },
      killSwitch: { read: async () => null },
      setKillSwitch: async () => {
        throw new Error('not in this test');
      },
      extra: { plan: planSlashCommands(planDeps) },
      audit,
      environment: 'local',
      clock,
    };
    const send = (text: string, triggerId: string) =>
      answerSlashCommand(deps, { userId: 'UOPS', teamId: 'T1', channelId: 'C1', text, triggerId });

    // Act
    const first = await send('plan grow 1000 2', '111.222.aaa');
    clock.advance(60_000);
    const again = await send('plan grow 1000 2', '111.222.aaa');
    const other = await send('plan grow 1000 2', '111.222.bbb');

    // Assess: the redelivery answers "created" as the first; another trigger is refused
    expect(again.answer).toEqual(first.answer);
    expect(other.answer).toMatchObject({ kind: 'unavailable' });
    expect(trail()).toEqual(['created', 'refused plan_grow']);
    expect(audit.records().filter((r) => r.kind === 'chat_command')).toHaveLength(2);
  });
});

describe("a plan's evidence is its own market's cohorts", () => {
  it('an equity plan ignores the crypto cohort of the same date, which completes later', async () => {
    // Prepare: the crypto cohort of UTC day 2013-10-09 completes after the equity one
    const crypto = {
      ...cohort('2013-10-09', -900),
      cohortId: 'coh-crypto-20131009',
      completedAtIso: '2013-10-10T00:30:00.000Z',
      bankrollUsd: 500,
      market: 'crypto',
    } as unknown as CohortSummary;
    const { deps } = fixture([crypto]);

    // Act
    const created = await runPlanCommand(deps, GROW, 'console:rick', 'console', null);

    // Assess: the newest equity cohort's bankroll and the equity sessions, never the crypto one
    expect(created.plan?.bankrollUsd).toBe(10_000);
    expect(created.plan?.evidence.sessionDates).toEqual(['2013-10-07', '2013-10-08', '2013-10-09']);
    expect(created.plan?.evidence.n).toBe(3);
  });
});
