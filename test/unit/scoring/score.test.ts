import { describe, expect, it } from 'vitest';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import { type SimulationResult, simulateCohort } from '../../../functions/core/cohort/simulate.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { scoreCohort } from '../../../functions/core/scoring/score.js';
import { config, genome, OPEN_2013_10_07, randomSession } from '../cohort/fixtures.js';

const MIN = 60_000;

/** A three-minute, two-agent cohort written by hand (bankroll 1000, 500 each). */
function handResult(): SimulationResult {
  const cfg = config({ agentCount: 2 });
  const base = {
    positions: [],
    fills: [],
    leverageBreaches: 0,
    exposureBreaches: 0,
    forcedReductions: 0,
  };
  return {
    cohortId: 'coh-hand',
    sessionDate: '2013-10-07',
    market: 'equity-usa',
    sessionOpenMs: OPEN_2013_10_07,
    bankrollUsd: 1_000,
    config: cfg,
    allocationPolicyApplied: 'equal',
    symbols: ['SPY', 'BAC'],
    timestamps: [OPEN_2013_10_07, OPEN_2013_10_07 + MIN, OPEN_2013_10_07 + 2 * MIN],
    parent: {
      unallocatedCashUsd: 0,
      equityCurve: [1_005, 995, 1_000],
      grossExposureCurve: [750, 750, 250],
    },
    agents: [
      {
        ...base,
        agentId: 'a0001',
        genome: genome('momentum', 'SPY', { lookback: 5, threshold: 0.001, riskFraction: 1 }),
        allocationUsd: 500,
        equityCurve: [510, 505, 520],
        grossExposureCurve: [500, 500, 0],
        finalCashUsd: 520,
        realizedPnlUsd: 21,
        unrealizedPnlUsd: 0,
        feesUsd: 1,
        tradeCount: 2,
      },
      {
        ...base,
        agentId: 'a0002',
        genome: genome('bollinger_reversion', 'BAC', { window: 20, k: 2, riskFraction: 0.5 }),
        allocationUsd: 500,
        equityCurve: [495, 490, 480],
        grossExposureCurve: [250, 250, 250],
        finalCashUsd: 250,
        realizedPnlUsd: 0,
        unrealizedPnlUsd: -19.5,
        feesUsd: 0.5,
        tradeCount: 1,
        exposureBreaches: 2,
      },
    ],
  };
}

describe('scoreCohort on a hand-computed cohort', () => {
  it('scores each agent', () => {
    // Prepare: agent a0001, allocation 500, equity 510, 505, 520.
    // total PnL = 21 + 0 − 1 = 20; ROI = 20/500 = 0.04; one hour bucket: (520 − 500)/500 = 0.04.
    // Returns 0.02, −0.0098039, 0.0297030: mean 0.0132997, sample stdev 0.0205881,
    //   Sharpe = 0.0132997 / 0.0205881 × √98280 = 202.515.
    // Drawdown: peak 510 → 505 = 5 USD = 5/1000 of the parent bankroll = 0.005.
    // Utilization: mean (500 + 500 + 0)/3/500 = 0.6667, peak 500/500 = 1.
    const result = handResult();

    // Act
    const score = scoreCohort(result);

    // Assess
    const a = score.agents[0];
    expect(a).toMatchObject({
      rank: 1,
      agentId: 'a0001',
      family: 'momentum',
      symbol: 'SPY',
      allocationUsd: 500,
      totalPnlUsd: 20,
      feesUsd: 1,
      maxDrawdownUsd: 5,
      peakBankrollUtilization: 1,
      tradeCount: 2,
    });
    expect(a?.roi).toBeCloseTo(0.04, 12);
    expect(a?.hourlyRoi).toEqual([expect.closeTo(0.04, 12)]);
    expect(a?.meanHourlyRoi).toBeCloseTo(0.04, 12);
    expect(a?.sharpe).toBeCloseTo(202.515, 2);
    expect(a?.maxDrawdownFraction).toBeCloseTo(0.005, 12);
    expect(a?.bankrollUtilization).toBeCloseTo(2 / 3, 12);
  });

  it('scores the losing agent and ranks it second', () => {
    // Prepare: agent a0002, equity 495, 490, 480 from 500; total = 0 − 19.5 − 0.5 = −20; ROI −0.04;
    // drawdown 500 → 480 = 20 USD = 0.02 of the bankroll; utilization 250/500 = 0.5 throughout.
    const result = handResult();

    // Act
    const score = scoreCohort(result);

    // Assess
    const b = score.agents[1];
    expect(b).toMatchObject({
      rank: 2,
      agentId: 'a0002',
      totalPnlUsd: -20,
      maxDrawdownUsd: 20,
      exposureBreaches: 2,
    });
    expect(b?.roi).toBeCloseTo(-0.04, 12);
    expect(b?.maxDrawdownFraction).toBeCloseTo(0.02, 12);
    expect(b?.bankrollUtilization).toBeCloseTo(0.5, 12);
    expect(score.leaderboard.map((r) => r.agentId)).toEqual(['a0001', 'a0002']);
  });

  it('scores the parent wallet against the bankroll', () => {
    // Prepare: parent equity 1005, 995, 1000 from 1000; gross 750, 750, 250.
    // total PnL = 20 − 20 = 0; ROI 0; hour (1000 − 1000)/1000 = 0.
    // Drawdown 1005 → 995 = 10 USD = 0.01; utilization mean 1750/3/1000 = 0.58333, peak 0.75.
    // Returns 0.005, −0.0099502, 0.0050251: mean 0.00002496, sample stdev 0.0086388,
    //   Sharpe = 0.00002496 / 0.0086388 × √98280 = 0.0028892 × 313.4964 = 0.9057;
    //   session volatility = 0.0086388 × √3 = 0.0149629.
    const result = handResult();

    // Act
    const { parent } = scoreCohort(result);

    // Assess
    expect(parent).toMatchObject({
      bankrollUsd: 1_000,
      realizedPnlUsd: 21,
      unrealizedPnlUsd: -19.5,
      feesUsd: 1.5,
      totalPnlUsd: 0,
      roi: 0,
      hourlyRoi: [0],
      maxDrawdownUsd: 10,
      peakUtilization: 0.75,
      exposureBreaches: 2,
      tradeCount: 3,
    });
    expect(parent.maxDrawdownFraction).toBeCloseTo(0.01, 12);
    expect(parent.meanUtilization).toBeCloseTo(1_750 / 3 / 1_000, 12);
    expect(parent.sharpe).toBeCloseTo(0.9057, 3);
    expect(parent.sessionVolatility).toBeCloseTo(0.0149629, 6);
  });

  it('rejects a curve that does not match the timestamps', () => {
    // Prepare
    const result = handResult();
    const broken = {
      ...result,
      agents: [{ ...result.agents[0], equityCurve: [1] }],
    } as SimulationResult;

    // Act / Assess
    expect(() => scoreCohort(broken)).toThrow(ValidationError);
  });
});

describe('scoreCohort on a simulated cohort', () => {
  it('ranks every agent once, consistently with final equity, and sums to the parent', () => {
    // Prepare
    const session = randomSession(21, { symbols: ['SPY', 'BAC', 'AIG'], bars: 390 });
    const cfg = config({ agentCount: 40, bankrollUsd: 10_000 });
    const result = simulateCohort({
      cohortId: 'sim',
      session,
      genomes: seedGenomePool(40, session.symbols, 3),
      config: cfg,
    });

    // Act
    const score = scoreCohort(JSON.parse(JSON.stringify(result)) as SimulationResult);

    // Assess
    expect(score.leaderboard.map((r) => r.rank)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    for (let i = 1; i < score.leaderboard.length; i++) {
      expect(score.leaderboard[i - 1]?.totalPnlUsd).toBeGreaterThanOrEqual(
        score.leaderboard[i]?.totalPnlUsd as number,
      );
    }
    score.agents.forEach((a, i) => {
      const sim = result.agents[i] as SimulationResult['agents'][number];
      expect(a.agentId).toBe(sim.agentId);
      expect(a.totalPnlUsd).toBeCloseTo((sim.equityCurve.at(-1) as number) - sim.allocationUsd, 6);
      expect(a.hourlyRoi).toHaveLength(7);
    });
    const sum = score.agents.reduce((s, a) => s + a.totalPnlUsd, 0);
    expect(score.parent.totalPnlUsd).toBeCloseTo(sum, 9);
    expect(score.parent.totalPnlUsd).toBeCloseTo(
      (result.parent.equityCurve.at(-1) as number) - 10_000,
      6,
    );
    expect(JSON.parse(JSON.stringify(score))).toEqual(score);
  });
});
