/**
 * The daily report's run signal (functions/handlers/post-daily-report.ts): one function serves
 * both markets' reports, so each market's did-not-run alarm counts the EMF metric
 * `DailyReportRuns` with the event's `market` (`equity-usa` when it names none). Every run
 * whose event is valid counts once, before its dependencies are built (a run that then fails
 * still ran); an invalid event counts nothing.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  createHandler,
  DAILY_REPORT_RUNS_METRIC,
} from '../../../functions/handlers/post-daily-report.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { localLambdaContext } from '../../../local/asl-runner.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { spyOnSingleMetrics } from '../../support/metrics.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Sunday 2013-10-13 18:00 UTC: the last equity close (Friday's) is older than 24 h. */
const SUNDAY_MS = Date.parse('2013-10-13T18:00:00Z');

/**
 * The equity report's dependencies as far as a run that has nothing to report reads them (the
 * clock, the market, the audit trail); reading anything else throws.
 */
function skippingDeps(audit: MemoryAuditSink) {
  const provided: Record<string, unknown> = {
    clock: new ManualClock(SUNDAY_MS),
    market: 'equity-usa',
    audit,
    environment: 'local',
  };
  return new Proxy(provided, {
    get(target, key) {
      if (typeof key === 'symbol' || key === 'then') return undefined;
      if (key in target) return target[key];
      throw new Error(`the run read deps.${key}, which this test does not provide`);
    },
  }) as never;
}

const invoke = (handler: ReturnType<typeof createHandler>, event: unknown) =>
  handler(event, localLambdaContext('post-daily-report', 10_000));

describe('DailyReportRuns', () => {
  it('an equity run with nothing to report counts once under equity-usa (an event without a market is equity)', async () => {
    // Prepare
    const emitted = spyOnSingleMetrics();
    const audit = new MemoryAuditSink(new ManualClock(SUNDAY_MS));
    const handler = createHandler(() => skippingDeps(audit));

    // Act
    const out = await invoke(handler, { scheduledTime: '2013-10-13T18:00:00Z' });

    // Assess: the run happened (skipped, recorded) and counted once for its market
    expect(out).toMatchObject({ outcome: 'skipped', market: 'equity-usa', sessionDate: null });
    expect(audit.records().map((r) => r.kind)).toEqual(['report_posted']);
    expect(emitted).toEqual([
      { dimensions: { market: 'equity-usa' }, name: DAILY_REPORT_RUNS_METRIC, value: 1 },
    ]);
  });

  it('a crypto run counts under crypto, also when its dependencies cannot be built', async () => {
    // Prepare
    const emitted = spyOnSingleMetrics();
    const handler = createHandler(() => {
      throw new Error('secrets unreachable');
    });

    // Act / Assess: the run fails, and still counts
    await expect(invoke(handler, { market: 'crypto' })).rejects.toThrow(/secrets unreachable/);
    expect(emitted).toEqual([
      { dimensions: { market: 'crypto' }, name: DAILY_REPORT_RUNS_METRIC, value: 1 },
    ]);
  });

  it('an invalid event is refused and counts nothing', async () => {
    // Prepare
    const emitted = spyOnSingleMetrics();
    const handler = createHandler(() => {
      throw new Error('never built');
    });

    // Act / Assess
    await expect(invoke(handler, { market: 'forex' })).rejects.toBeInstanceOf(ValidationError);
    await expect(invoke(handler, { market: 'crypto', at: 'now' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(emitted).toEqual([]);
  });
});
