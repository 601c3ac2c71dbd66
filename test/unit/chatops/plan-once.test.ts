/**
 * Plan writes once per request (functions/core/use-cases/plans.ts): a redelivered `plan grow`
 * or `plan cancel` with the same door key (Slack's `trigger_id`, the console's
 * `Idempotency-Key`) is answered as the first delivery and recorded once, also when the first
 * delivery stopped between storing the plan and recording it; another key is another request.
 */
import { describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../../functions/core/audit/record.js';
import { IdempotencyKeyReusedError, PlanConflictError } from '../../../functions/core/errors.js';
import type { CohortSummary } from '../../../functions/core/use-cases/cohort-records.js';
import {
  PLAN_WRITE_ATTEMPTS,
  type PlanCommand,
  runPlanCommand,
} from '../../../functions/core/use-cases/plans.js';
import { answerSlashCommand } from '../../../functions/core/use-cases/slash-command.js';
import type { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { dailyCohort, raceReads, threeSessionPlanDeps } from '../../support/plan-deps.js';
import { planSlack } from '../../support/plan-doors.js';

const cohort = dailyCohort;

/** Plan deps over memory: three sessions of evidence, the plan in a memory store, a memory trail. */
function fixture(extraCohorts: CohortSummary[] = []) {
  const { deps, audit, clock, store } = threeSessionPlanDeps(extraCohorts);
  /** `plan_event` events and refusals, in order. */
  const trail = () =>
    audit
      .records()
      .filter((r) => r.kind === 'plan_event' || r.kind === 'input_rejected')
      .map((r) => {
        const p = JSON.parse(r.payload) as { event?: string; command?: string };
        return r.kind === 'plan_event' ? `${p.event}` : `refused ${p.command}`;
      });
  return { deps, audit, clock, store, trail };
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
    const deps = planSlack(planDeps, audit, clock);
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

/** The `input_rejected` payloads of refused plan commands, in order. */
const refusals = (audit: MemoryAuditSink) =>
  audit
    .records()
    .filter((r) => r.kind === 'input_rejected')
    .map((r) => JSON.parse(r.payload) as { command: string; error: string; field: string });

describe('plan writes are compare-and-set', () => {
  it('two creates racing store one plan and one created record; the other is refused as "is active" and recorded', async () => {
    // Prepare
    const { deps, audit, store, trail } = fixture();
    const racing = { ...deps, plans: raceReads(store, 2) };
    const grow = (key: string) => runPlanCommand(racing, GROW, 'console:rick', 'console', key);

    // Act: both read "no plan" before either stores (raceReads)
    const outcomes = await Promise.allSettled([
      grow('grow-key-a-0123456789'),
      grow('grow-key-b-0123456789'),
    ]);

    // Assess: one created (the stored one), one refused naming it; both in the trail
    const created = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
    expect(created).toHaveLength(1);
    expect(refused.map((e) => e.message)).toEqual([
      `plan: plan ${created[0]?.plan?.planId} is active: plan cancel first`,
    ]);
    expect((await store.read())?.plan.planId).toBe(created[0]?.plan?.planId);
    expect(store.writes).toBe(1);
    expect(trail()).toEqual(['created', 'refused plan_grow']);
    expect(refusals(audit)[0]).toMatchObject({ error: 'ValidationError', field: 'plan' });
  });

  it('one create delivered twice at once (same key) stores one plan; both deliveries are answered "created" with it', async () => {
    // Prepare
    const { deps, store, trail } = fixture();
    const racing = { ...deps, plans: raceReads(store, 2) };
    const grow = () =>
      runPlanCommand(racing, GROW, 'console:rick', 'console', 'grow-key-0123456789');

    // Act
    const [first, second] = await Promise.all([grow(), grow()]);

    // Assess
    expect(second.plan?.planId).toBe(first.plan?.planId);
    expect(second.title).toBe(first.title);
    expect(store.writes).toBe(1);
    expect(trail()).toEqual(['created']);
  });

  it('a cancel and a create within one second (fixed clock) are two plans with two created records', async () => {
    // Prepare: the clock never moves
    const { deps, trail } = fixture();
    const run = (command: typeof GROW | typeof CANCEL) =>
      runPlanCommand(deps, command, 'console:rick', 'console');

    // Act
    const first = await run(GROW);
    await run(CANCEL);
    const second = await run(GROW);

    // Assess: distinct ids (same second), each with its own created record
    expect(first.plan?.planId.slice(0, 20)).toBe('plan-20131009T213000');
    expect(second.plan?.planId.slice(0, 20)).toBe('plan-20131009T213000');
    expect(second.plan?.planId).not.toBe(first.plan?.planId);
    expect(trail()).toEqual(['created', 'canceled', 'created']);
  });

  it('a plan that keeps changing is refused after a bounded number of attempts (409 at the console), recorded', async () => {
    // Prepare: every write loses to another request
    const { deps, audit } = fixture();
    let attempts = 0;
    const moving = {
      ...deps,
      plans: {
        read: async () => null,
        write: async () => {
          attempts++;
          throw new PlanConflictError(null);
        },
      },
    };

    // Act
    const out = runPlanCommand(moving, GROW, 'console:rick', 'console', 'grow-key-0123456789');

    // Assess
    await expect(out).rejects.toBeInstanceOf(PlanConflictError);
    expect(attempts).toBe(PLAN_WRITE_ATTEMPTS);
    expect(refusals(audit)).toEqual([
      expect.objectContaining({ command: 'plan_grow', error: 'PlanConflictError', field: 'plan' }),
    ]);
  });
});

describe('an idempotency key reused with another body is refused', () => {
  it('the console: the key of a create sent with another amount, then as a cancel, is refused and recorded; the same body still answers the first', async () => {
    // Prepare
    const { deps, audit, store, trail } = fixture();
    const key = 'grow-key-0123456789';
    const run = (command: PlanCommand) =>
      runPlanCommand(deps, command, 'console:rick', 'console', key);
    const created = await run(GROW);

    // Act + Assess: refused, nothing changed
    await expect(run({ ...GROW, amountUsd: 2_000 })).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
    await expect(run({ ...GROW, days: 3 })).rejects.toThrow(
      /already used for another request \(the create of plan-\S+\)/,
    );
    await expect(run(CANCEL)).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    const same = await run({ ...GROW, amountUsd: 1000.0 });

    // Assess: the same body answers the first; each refusal recorded once, naming the key
    expect(same).toEqual(created);
    expect((await store.read())?.plan.status).toBe('active');
    expect(trail()).toEqual([
      'created',
      'refused plan_grow',
      'refused plan_grow',
      'refused plan_cancel',
    ]);
    expect(refusals(audit).map((r) => [r.error, r.field])).toEqual([
      ['IdempotencyKeyReusedError', 'idempotency_key'],
      ['IdempotencyKeyReusedError', 'idempotency_key'],
      ['IdempotencyKeyReusedError', 'idempotency_key'],
    ]);
  });

  it('Slack: the trigger_id of a create redelivered with another text gets an ephemeral refusal, recorded', async () => {
    // Prepare
    const { deps: planDeps, audit, clock, trail } = fixture();
    const deps = planSlack(planDeps, audit, clock);
    const send = (text: string) =>
      answerSlashCommand(deps, {
        userId: 'UOPS',
        teamId: 'T1',
        channelId: 'C1',
        text,
        triggerId: '111.222.aaa',
      });

    // Act
    const first = await send('plan grow 1000 2');
    const other = await send('plan grow 5000 2');

    // Assess
    expect(first.answer).toMatchObject({ kind: 'text' });
    expect(other.answer).toMatchObject({
      kind: 'unavailable',
      message: expect.stringMatching(/^IdempotencyKeyReusedError: /),
    });
    expect(trail()).toEqual(['created', 'refused plan_grow']);
  });
});
