/**
 * The agent drawdown is the agent's own, from its peak equity: the drawdown_agent gate fails
 * for an agent whose equity fell 6.7 % from its peak, even though that fall is only 0.22 % of
 * the $1,000 parent bankroll it shares with 29 other agents.
 */
import { describe, expect, it } from 'vitest';
import { agentDrawdownGate } from '../../../functions/core/gates/gates.js';
import { DEFAULT_GATE_THRESHOLDS } from '../../../functions/core/gates/thresholds.js';
import { maxDrawdownFractionOfPeak } from '../../../functions/core/scoring/metrics.js';
import { scoreCohort } from '../../../functions/core/scoring/score.js';
import { agentDrawdownOfPeak } from '../../../functions/core/use-cases/cohort-records.js';
import { config, genome, OPEN_2013_10_07 } from '../cohort/fixtures.js';

const MIN = 60_000;

describe('maxDrawdownFractionOfPeak', () => {
  it('measures each fall against the peak it fell from', () => {
    // start 100, peak 120, trough 90 (25 % of 120); later peak 200, trough 180 (10 %)
    expect(maxDrawdownFractionOfPeak([120, 90, 200, 180], 100)).toBeCloseTo(0.25, 12);
    expect(maxDrawdownFractionOfPeak([101, 102], 100)).toBe(0);
    expect(maxDrawdownFractionOfPeak([], 100)).toBe(0);
  });
});

describe('the drawdown_agent gate input', () => {
  // Prepare: one agent of a 30-agent $1,000 cohort: allocation $33.33, equity up to $35.00,
  // then down to $32.655 (−6.7 % from its peak; $2.345 = 0.2345 % of the bankroll).
  const allocation = 1_000 / 30;
  const result = {
    cohortId: 'coh-dd',
    sessionDate: '2013-10-07',
    market: 'equity-usa',
    sessionOpenMs: OPEN_2013_10_07,
    bankrollUsd: 1_000,
    config: config({ agentCount: 1 }),
    allocationPolicyApplied: 'equal',
    symbols: ['AIG'],
    timestamps: [0, 1, 2].map((i) => OPEN_2013_10_07 + i * MIN),
    parent: {
      unallocatedCashUsd: 1_000 - allocation,
      equityCurve: [1_001.6667, 1_000, 998.655],
      grossExposureCurve: [33, 33, 0],
    },
    agents: [
      {
        agentId: 'a0001',
        genome: genome('opening_range_breakout', 'AIG', { rangeMinutes: 15, riskFraction: 1 }),
        allocationUsd: allocation,
        equityCurve: [35, 34, 32.655],
        grossExposureCurve: [33, 33, 0],
        finalCashUsd: 32.655,
        realizedPnlUsd: 32.655 - allocation,
        unrealizedPnlUsd: 0,
        feesUsd: 0,
        tradeCount: 2,
        positions: [],
        fills: [],
        leverageBreaches: 0,
        exposureBreaches: 0,
        forcedReductions: 0,
      },
    ],
  } as unknown as Parameters<typeof scoreCohort>[0];

  it("is the agent's drawdown from its own peak, and the gate fails on it", () => {
    // Act
    const agent = scoreCohort(result).agents[0];

    // Assess: 6.7 % of its own peak, 0.2345 % of the bankroll
    expect(agent?.maxDrawdownOfPeakFraction).toBeCloseTo(0.067, 12);
    expect(agent?.maxDrawdownFraction).toBeCloseTo(0.002345, 12);
    const gate = agentDrawdownGate(
      {
        agentDrawdownFraction: agentDrawdownOfPeak(
          {
            maxDrawdownOfPeakFraction: agent?.maxDrawdownOfPeakFraction,
            maxDrawdownFraction: agent?.maxDrawdownFraction ?? 0,
            allocationUsd: allocation,
          },
          1_000,
        ),
      },
      DEFAULT_GATE_THRESHOLDS,
    );
    expect(gate).toMatchObject({ verdict: 'fail', observed: expect.closeTo(0.067, 12) });
  });

  it('falls back to the USD drawdown over the allocation for rows written before the field', () => {
    expect(
      agentDrawdownOfPeak({ maxDrawdownFraction: 0.002345, allocationUsd: allocation }, 1_000),
    ).toBeCloseTo(2.345 / allocation, 12);
  });
});
