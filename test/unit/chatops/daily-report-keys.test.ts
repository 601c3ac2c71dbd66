/**
 * The daily report's per-market keys and deps (functions/core/use-cases/daily-report.ts): the
 * equity report keeps the keys reports had before they had a market (a stage's earlier posts
 * still count as posted), the crypto report has its own; the active plan is reported in the
 * stage's chat-ops market's report only.
 */
import { describe, expect, it } from 'vitest';
import {
  type DailyReportDeps,
  dailyReportDepsFor,
  dailyReportKeys,
} from '../../../functions/core/use-cases/daily-report.js';

describe('daily report keys per market', () => {
  it('keeps the equity keys written before reports had a market, and gives crypto its own', () => {
    // Act
    const equity = dailyReportKeys('equity-usa', '2013-10-08');
    const crypto = dailyReportKeys('crypto', '2013-10-08');

    // Assess
    expect(equity).toEqual({
      artifact: 'daily-reports/2013-10-08.json',
      claim: 'daily-report#2013-10-08',
    });
    expect(crypto).toEqual({
      artifact: 'daily-reports/crypto/2013-10-08.json',
      claim: 'daily-report#crypto#2013-10-08',
    });
  });
});

describe('dailyReportDepsFor', () => {
  // Prepare: the deps a composition root builds for the stage's chat-ops market (equity)
  const plan = { marker: 'plan' } as unknown as NonNullable<DailyReportDeps['plan']>;
  const deps = { market: 'equity-usa', plan, minPsr: 0.95 } as unknown as DailyReportDeps;

  it("reports the plan in the chat-ops market's report only", () => {
    // Act
    const equity = dailyReportDepsFor(deps, 'equity-usa');
    const crypto = dailyReportDepsFor(deps, 'crypto');

    // Assess
    expect(equity).toBe(deps);
    expect(crypto.market).toBe('crypto');
    expect(crypto.plan).toBeUndefined();
    expect(crypto.minPsr).toBe(0.95);
  });
});
