/**
 * The plan core: prerequisites, the leverage path (never above the policy's start without a
 * measured Sharpe), VaR/ES per day, the bootstrap range with its sample size, and tracking
 * that reports each session and stops at the end or on the first breach with the reason.
 */
import { describe, expect, it } from 'vitest';
import { createPlan, type PlanInput, trackPlan } from '../../../functions/core/chatops/plan.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { DEFAULT_LEVERAGE_POLICY } from '../../../functions/core/leverage/policy.js';

const input: PlanInput = {
  planId: 'plan-test',
  createdBy: 'slack:UTEST',
  createdAtIso: '2013-10-08T21:00:00.000Z',
  targetGainUsd: 1000,
  days: 3,
  bankrollUsd: 1000,
  bankrollLimits: { minUsd: 50, maxUsd: 100_000 },
  market: 'equity-usa',
  evidence: {
    source: 'test',
    sessionDates: ['2013-10-03', '2013-10-04', '2013-10-07', '2013-10-08'],
    dailyReturns: [0.01, -0.005, 0.004, 0.002],
  },
  policy: DEFAULT_LEVERAGE_POLICY,
  maxDrawdownFraction: 0.02,
};

describe('createPlan', () => {
  it('covers the next sessions of the calendar at the start leverage with VaR/ES and a range', () => {
    const plan = createPlan(input);
    expect(plan.days.map((d) => [d.sessionDate, d.leverage])).toEqual([
      ['2013-10-09', 2],
      ['2013-10-10', 2],
      ['2013-10-11', 2],
    ]);
    // Worst evidence day -0.5 % on $2,000 of exposure: $10 (historical VaR/ES at 95 %).
    expect(plan.days[0]?.varUsd).toBeCloseTo(10, 6);
    expect(plan.days[0]?.esUsd).toBeCloseTo(10, 6);
    expect(plan.expected.p05Usd).toBeGreaterThanOrEqual(3 * -0.005 * 2000 - 1e-9);
    expect(plan.expected.p95Usd).toBeLessThanOrEqual(3 * 0.01 * 2000 + 1e-9);
    expect(plan.expected.target).toBe('above_range');
    expect(plan.evidence.n).toBe(4);
  });

  it('refuses what a plan cannot be made from, naming the prerequisite', () => {
    const field = (over: Partial<PlanInput>) => {
      try {
        createPlan({ ...input, ...over });
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).field;
      }
    };
    expect(field({ bankrollUsd: 10 })).toBe('bankroll');
    expect(field({ days: 0 })).toBe('days');
    expect(field({ targetGainUsd: 0 })).toBe('amount');
    expect(
      field({ evidence: { source: 't', sessionDates: ['2013-10-08'], dailyReturns: [0.01] } }),
    ).toBe('evidence');
  });
});

describe('trackPlan', () => {
  it('reports each session with results and completes at the last one', () => {
    const plan = createPlan(input);
    const { plan: done, added } = trackPlan(
      plan,
      [
        { sessionDate: '2013-10-09', dailyReturn: 0.002, promotions: ['p1 SPY: completed'] },
        { sessionDate: '2013-10-10', dailyReturn: 0.001, promotions: [] },
        { sessionDate: '2013-10-11', dailyReturn: 0.003, promotions: [] },
      ],
      DEFAULT_LEVERAGE_POLICY,
    );
    expect(added.map((r) => [r.sessionDate, r.actualPnlUsd])).toEqual([
      ['2013-10-09', 4],
      ['2013-10-10', 2],
      ['2013-10-11', 6],
    ]);
    expect(done.status).toBe('completed');
    expect(done.stopReason).toMatch(/PnL \$12\.00/);
  });

  it('stops on the first breach, steps leverage down after a loss, reports nothing after', () => {
    const plan = createPlan({ ...input, maxDrawdownFraction: 0.001 });
    const first = trackPlan(
      plan,
      [{ sessionDate: '2013-10-09', dailyReturn: 0.001, promotions: [] }],
      DEFAULT_LEVERAGE_POLICY,
    );
    expect(first.plan.status).toBe('active');
    const { plan: stopped, added } = trackPlan(
      first.plan,
      [
        { sessionDate: '2013-10-10', dailyReturn: -0.004, promotions: [] },
        { sessionDate: '2013-10-11', dailyReturn: 0.01, promotions: [] },
      ],
      DEFAULT_LEVERAGE_POLICY,
    );
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ leverage: 2, nextLeverage: 1, actualPnlUsd: -8 });
    expect(stopped.status).toBe('breached');
    expect(stopped.stopReason).toMatch(/2013-10-10: drawdown .* above the gates' 0\.10%/);
    expect(trackPlan(stopped, [], DEFAULT_LEVERAGE_POLICY).added).toEqual([]);
  });
});
