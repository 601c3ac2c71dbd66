/**
 * The Day-3 go/no-go and the micro-live slice on crypto, locally, on real minutes: three
 * BTCUSD/ETHUSD cohorts on UTC days (a Sunday, an NYSE holiday and a Wednesday: none of the
 * first two is an NYSE session), the review over them, the approval (`--approval auto`), the
 * micro-live slice on the next UTC day inside the UTC promotion window, and the rollback
 * monitor replayed at the crypto schedules (UTC, closing tick 23:55 UTC).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPromotionDeps } from '../../../functions/composition/promotion.js';
import { isTradingDay } from '../../../functions/core/calendar/market-calendar.js';
import type { SliceTick } from '../../../functions/core/use-cases/day3-rollback.js';
import { selectDay3Candidate } from '../../../functions/core/use-cases/day3-select.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { localLambdaContext } from '../../../local/asl-runner.js';
import { type Day3RunOutcome, runDay3 } from '../../../local/day3.js';
import type { LocalDay3Run, LocalStack } from '../../../local/local-stack.js';
import { startLocalStack } from '../../../local/local-stack.js';
import { DATA_ROOT } from '../../support/paths.js';

/** Sunday, Labor Day (NYSE closed) and a Wednesday: three UTC crypto sessions. */
const DAYS = ['2017-09-03', '2017-09-04', '2018-04-04'] as const;

let stack: LocalStack;
let cohortIds: string[];
let out: Day3RunOutcome;
let printed = '';
let run: LocalDay3Run | undefined;

beforeAll(async () => {
  stack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
    clock: new ManualClock(Date.parse('2018-04-05T00:00:00Z')),
    brokerAccount: 'it-crypto-day3',
    // The risk gates wide open: this test is about the calendar, the approval and the
    // slice's schedules, not whether three sessions make a good candidate.
    configOverrides: {
      gates: {
        maxParentDrawdownFraction: 1,
        maxAgentDrawdownFraction: 1,
        maxVar1dFraction: 100,
        maxExpectedShortfall1dFraction: 100,
        minTradeCount: 1,
        maxQuotedSpreadBps: 10_000,
      },
    },
  });
  cohortIds = [];
  for (const sessionDate of DAYS) {
    const result = await stack.intradayCohort.execute(
      {
        source: 'test',
        sessionDate,
        market: 'crypto',
        symbols: ['BTCUSD', 'ETHUSD'],
        bankrollUsd: 1000,
        agentCount: 12,
        allocation: 'equal',
        seed: 4,
      },
      { executionName: `it-crypto-day3-${sessionDate.replaceAll('-', '')}` },
    );
    if (result.status !== 'SUCCEEDED') {
      throw new Error(`cohort ${sessionDate} failed: ${result.error}: ${result.cause}`);
    }
    cohortIds.push((result.output as { cohortId: string }).cohortId);
  }
  out = await runDay3(stack, {
    cohortIds,
    approval: 'auto',
    write: (t) => {
      printed += t;
    },
    onApprovalRequested: (_request, composed) => {
      run = composed;
    },
  });
}, 600_000);

afterAll(async () => {
  await stack?.stop();
});

/** One rollback-monitor invocation as EventBridge Scheduler sends it, at `iso`. */
async function monitorTick(iso: string, event: Record<string, unknown>): Promise<SliceTick[]> {
  if (!run) throw new Error('the Day-3 run was not composed');
  stack.clock.set(Date.parse(iso));
  const result = (await run.rollbackMonitor(
    { scheduledTime: iso, ...event },
    localLambdaContext('RollbackMonitor', 60_000),
  )) as { slices: SliceTick[] };
  return result.slices;
}

describe('Day-3 go/no-go on crypto (UTC days)', () => {
  it('reviews the three UTC sessions, two of them days the NYSE is closed, and requests the approval', () => {
    // The calendar: a Sunday and Labor Day are no NYSE sessions, but crypto sessions.
    expect(DAYS.filter((d) => !isTradingDay(d, 'equity-usa'))).toEqual(DAYS.slice(0, 2));
    expect(out.status).toBe('SUCCEEDED');
    expect(out.selection?.sessionDates).toEqual([...DAYS]);
    expect(out.selection?.candidate.days.map((d) => d.sessionDate)).toEqual([...DAYS]);
    expect(['BTCUSD', 'ETHUSD']).toContain(out.selection?.candidate.symbol);
    // The review's own gates judge the window on the UTC day after Day 3, in UTC.
    const window = out.selection?.gates.results.find((g) => g.gate === 'promotion_window');
    expect(window).toMatchObject({ verdict: 'pass', unit: 'UTC local time' });
    expect(String(window?.observed)).toMatch(/^2018-04-05 /);
    expect(out.decision).toBe('approved');
  });

  it('starts the micro-live slice on the next UTC day at the UTC promotion window, staged as crypto', async () => {
    expect(out.conclusion?.outcome).toBe('micro_live_started');
    expect(out.promotion?.outcome).toBe('promoted');
    const staged = await buildPromotionDeps(stack.runtime).promotions.get(
      out.promotion?.promotionId ?? '?',
    );
    // Staged from the Day-3 cohort (2018-04-04, crypto), traded on 2018-04-05 UTC.
    expect(staged).toMatchObject({ market: 'crypto', sessionDate: '2018-04-04' });
    expect(out.promotion?.promotionId).toMatch(/^pr-20180405-/);
    expect(printed).toContain('micro-live replayed from 2018-04-05T00:30:00.000Z');
    // Paper session of a UTC day: every order (if any) decided inside 2018-04-05 UTC.
    for (const o of out.paper?.orders ?? []) {
      expect(new Date(o.decidedAtMs).toISOString().slice(0, 10)).toBe('2018-04-05');
    }
    expect(out.slice?.sliceId).toBeTruthy();
  });

  it('the rollback monitor watches the crypto slice on the crypto ticks only (UTC, weekends included), never on the equity ticks', async () => {
    const sliceId = out.slice?.sliceId;
    // 2018-04-07 is a Saturday: no equity tick fires, the crypto ticks do.
    const crypto = await monitorTick('2018-04-07T12:00:00Z', { market: 'crypto' });
    const equity = await monitorTick('2018-04-06T19:55:00Z', { closeOfDay: true });
    expect(out.slice?.status).toBe('active');
    expect(crypto.map((t) => t.sliceId)).toContain(sliceId);
    expect(equity.map((t) => t.sliceId)).not.toContain(sliceId);
  });

  it("a scheduled review without cohort ids reads the three most recent cohorts of its own market (the chain passes the session's market)", async () => {
    if (!run) throw new Error('the Day-3 run was not composed');
    // Arrange: the review's time, the go/no-go slot after Day 3 (00:45 UTC).
    stack.clock.set(Date.parse('2018-04-05T00:45:00Z'));

    // Act
    const crypto = await selectDay3Candidate(run.day3, {
      request: { source: 'schedule', market: 'crypto' },
      executionName: 'it-crypto-day3-scheduled',
    });
    const equity = selectDay3Candidate(run.day3, {
      request: { source: 'schedule' },
      executionName: 'it-crypto-day3-scheduled-equity',
    });

    // Assess: the crypto review counts the UTC sessions; the equity review finds no equity
    // cohort instead of reviewing crypto days on the New York calendar.
    expect(crypto.cohortIds).toEqual(cohortIds);
    expect(crypto.sessionDates).toEqual([...DAYS]);
    await expect(equity).rejects.toThrow(/three complete equity-usa cohorts, found 0/);
  });
});
