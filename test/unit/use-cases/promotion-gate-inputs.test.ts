/**
 * The gate inputs the promotion use case builds, each from a small record computed by hand:
 * the strategy's own minute P&L and maximum intraday exposure (VaR / ES), the round trips
 * (min_trade_count) and the entry leg's reference price and notional (exposure, leverage).
 */
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../functions/core/errors.js';
import { strategyPnlOf } from '../../../functions/core/use-cases/promotion-gates.js';
import { planEntry } from '../../../functions/core/use-cases/promotion-plan.js';
import type { ArtifactStore } from '../../../functions/ports/artifact-store.js';
import type { CohortRepository } from '../../../functions/ports/cohort-repository.js';
import { genome, makeSession } from '../cohort/fixtures.js';

function depsWith(agents: unknown[], timestamps: number[]) {
  const cohorts = {
    get: async (id: string) => {
      if (id !== 'coh-1') throw new NotFoundError('cohort', id);
      return { cohortId: 'coh-1', artifacts: { simulationKey: 'sim/coh-1.json' } };
    },
  } as unknown as CohortRepository;
  const artifacts: ArtifactStore = {
    putJson: async () => ({ key: '', bytes: 0 }),
    getJson: async () => ({ cohortId: 'coh-1', timestamps, agents }),
  };
  return { cohorts, artifacts };
}

describe('promotion gate inputs', () => {
  it("VaR / ES: the candidate's minute P&L per USD of allocation, its session length and peak exposure", async () => {
    // Prepare: a 200 USD allocation; equity 200 → 202 → 199 → 199 → 201 over a 4-minute
    // session; gross exposure peaks at 300 USD (1.5x the allocation)
    const deps = depsWith(
      [
        {
          agentId: 'a0002',
          allocationUsd: 200,
          equityCurve: [202, 199, 199, 201],
          grossExposureCurve: [100, 300, 0, 150],
        },
      ],
      [0, 60_000, 120_000, 180_000],
    );
    // Act
    const pnl = await strategyPnlOf(deps, { cohortId: 'coh-1', agentId: 'a0002' });
    // Assess: +2, −3, 0, +2 USD over 200
    expect(pnl.minuteReturns).toEqual([0.01, -0.015, 0, 0.01]);
    expect(pnl.minutesPerSession).toBe(4);
    expect(pnl.maxIntradayExposureFraction).toBe(1.5);
  });

  it("VaR / ES over the genome's several sessions: each session from its own allocation, no overnight return, m of the promotion's session", async () => {
    // Prepare: day 1 (coh-1, 200 USD): 200 → 202 → 199, flat at the close; day 3 (coh-3,
    // 100 USD, the promotion's session): 100 → 100 → 101 → 99, exposure up to 250 USD.
    const sims: Record<string, unknown> = {
      'sim/coh-1.json': {
        timestamps: [0, 60_000],
        agents: [
          {
            agentId: 'a1',
            allocationUsd: 200,
            equityCurve: [202, 199],
            grossExposureCurve: [200, 0],
          },
        ],
      },
      'sim/coh-3.json': {
        timestamps: [0, 60_000, 120_000],
        agents: [
          {
            agentId: 'a7',
            allocationUsd: 100,
            equityCurve: [100, 101, 99],
            grossExposureCurve: [0, 250, 0],
          },
        ],
      },
    };
    const deps = {
      cohorts: {
        get: async (id: string) => ({
          cohortId: id,
          artifacts: { simulationKey: `sim/${id}.json` },
        }),
      } as unknown as CohortRepository,
      artifacts: {
        putJson: async () => ({ key: '', bytes: 0 }),
        getJson: async (key: string) => sims[key],
      } as ArtifactStore,
    };
    const riskSessions = [
      { cohortId: 'coh-1', agentId: 'a1' },
      { cohortId: 'coh-3', agentId: 'a7' },
    ];

    // Act
    const pnl = await strategyPnlOf(deps, { cohortId: 'coh-3', agentId: 'a7', riskSessions });
    const missing = await strategyPnlOf(deps, {
      cohortId: 'coh-3',
      agentId: 'a7',
      riskSessions: [{ cohortId: 'coh-1', agentId: 'a9' }, ...riskSessions],
    });

    // Assess: +2, −3 over 200; then 0 (not 100 − 199 overnight), +1, −2 over 100
    expect(pnl.minuteReturns).toEqual([0.01, -0.015, 0, 0.01, -0.02]);
    expect(pnl.minutesPerSession).toBe(3);
    expect(pnl.maxIntradayExposureFraction).toBe(2.5);
    // the latest session apart (the gates judge the worse of the pool and it)
    expect(pnl.lookbackSessions).toBe(2);
    expect(pnl.latestSessionMinuteReturns).toEqual([0, 0.01, -0.02]);
    expect(missing.minuteReturns).toBeNull();
    expect(missing.latestSessionMinuteReturns).toBeNull();
  });

  it('an unreadable cohort or agent gives nulls (the risk gates then fail closed), never a throw', async () => {
    const deps = depsWith([], [0]);
    const none = {
      minuteReturns: null,
      minutesPerSession: null,
      maxIntradayExposureFraction: null,
      lookbackSessions: 1,
      latestSessionMinuteReturns: null,
    };
    expect(await strategyPnlOf(deps, { cohortId: 'coh-1', agentId: 'a0009' })).toEqual(none);
    expect(await strategyPnlOf(deps, { cohortId: 'coh-x', agentId: 'a0001' })).toEqual(none);
  });

  it('the entry leg buys at the ask; its notional is qty × ask, rounded down to the share step', () => {
    // Prepare: AIG closes 20.00 (bid 19.99, ask 20.01) during the opening range: the strategy
    // holds, so the genome's base position (long riskFraction 0.5 of a 100 USD slice) is used
    const session = makeSession({ AIG: [20, 20, 20] });
    const g = genome('opening_range_breakout', 'AIG', {
      rangeMinutes: 15,
      stopRangeMultiple: 1,
      riskFraction: 0.5,
    });
    const promotion = {
      genome: { ...g, parentIds: [...g.parentIds] },
      capitalSliceUsd: 100,
    };
    // Act
    const fractional = planEntry(promotion, session, 2, false);
    const whole = planEntry(promotion, session, 2, true);
    // Assess: 50 / 20.01 = 2.4987506… shares → 2.49875 (1e-6 step) or 2 whole shares
    expect(fractional).toEqual([
      { leg: 'entry', symbol: 'AIG', side: 'buy', qty: 2.49875, refPriceUsd: 20.01 },
    ]);
    expect(whole[0]?.qty).toBe(2);
    const leg = fractional[0];
    expect(leg && leg.qty * leg.refPriceUsd).toBeCloseTo(49.9999875, 9);
    // No complete bar yet: no plan (the gates then fail closed on the missing notional)
    expect(planEntry(promotion, session, -1, false)).toEqual([]);
  });
});
