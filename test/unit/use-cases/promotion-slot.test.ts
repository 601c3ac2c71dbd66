/**
 * The paper slot's holder and the decision at staging (`use-cases/promotion-slot.ts`): the
 * holder is the latest pipeline-picked promotion before today that decides the slot; a
 * demoted holder empties it; an incumbent absent from the challenger's cohort is retired;
 * an incumbent present keeps the slot and is staged as its own agent there.
 */
import { describe, expect, it } from 'vitest';
import type { PaperSessionResult } from '../../../functions/core/paper/track-record.js';
import type { AgentRow, CohortRecord } from '../../../functions/core/use-cases/cohort-records.js';
import type { StagedPromotion } from '../../../functions/core/use-cases/promotion-records.js';
import {
  decideSlotAtStaging,
  slotHolderOf,
  slotTenureOf,
} from '../../../functions/core/use-cases/promotion-slot.js';
import { stagedPromotionOf } from '../../support/staged-promotion.js';

/** 19:45 UTC on 2013-10-09 (New York 15:45): "today" is 2013-10-09. */
const NOW = Date.parse('2013-10-09T19:45:00.000Z');

function promotion(
  id: string,
  genomeId: string,
  stagedAtIso: string,
  status: StagedPromotion['status'],
  extra: Partial<StagedPromotion> = {},
): StagedPromotion {
  return stagedPromotionOf(
    {
      promotionId: id,
      cohortId: 'c-old',
      sessionDate: '2013-10-07',
      agentId: 'a-old',
      agentRank: 1,
      genome: { id: genomeId, family: 'momentum', symbol: 'SPY' },
      stagedAtIso,
      status,
    },
    { broker: 'simulated:paper-1', ...extra },
  );
}

function row(agentId: string, genomeId: string, rank: number, pnl: number): AgentRow {
  return {
    rank,
    agentId,
    genomeId,
    family: 'momentum',
    symbol: 'SPY',
    allocationUsd: 100,
    totalPnlUsd: pnl,
    realizedPnlUsd: pnl,
    unrealizedPnlUsd: 0,
    feesUsd: 0,
    roi: pnl / 100,
    meanHourlyRoi: 0,
    sharpe: 0,
    maxDrawdownFraction: 0,
    bankrollUtilization: 0,
    leverageBreaches: 0,
    exposureBreaches: 0,
    tradeCount: 5,
  };
}

const COHORT = {
  cohortId: 'c-1008',
  sessionDate: '2013-10-08',
  leaderboard: [row('a1', 'g-ch', 1, 2), row('a2', 'g-inc', 2, 1)],
} as unknown as CohortRecord;

function paperResult(genomeId: string, date: string, dailyReturn: number): PaperSessionResult {
  return {
    genomeId,
    promotionId: `p-${date}`,
    date,
    symbol: 'SPY',
    family: 'momentum',
    broker: 'simulated:paper-1',
    capitalUsd: 100,
    paperPnlUsd: dailyReturn * 100,
    referencePnlUsd: dailyReturn * 100,
    parityDifferenceUsd: 0,
    parity: 'exact',
    dailyReturn,
    filledOrders: 2,
    roundTrips: 1,
    cohortPnlUsd: dailyReturn * 100,
    halt: null,
    reconciliationClean: true,
    recordedAtIso: `${date}T20:05:00.000Z`,
  };
}

function deps(recent: StagedPromotion[], paper: PaperSessionResult[] = []) {
  return {
    clock: { now: () => NOW },
    promotions: { listRecent: async () => recent } as never,
    cohorts: {
      list: async () => [
        {
          cohortId: COHORT.cohortId,
          sessionDate: COHORT.sessionDate,
          completedAtIso: '2013-10-08T20:00:00Z',
          symbols: ['SPY'],
          bankrollUsd: 1000,
          agentCount: 2,
          totalPnlUsd: 0,
          bestAgentId: null,
        },
      ],
      get: async () => COHORT,
    } as never,
    paperTrackRecord: {
      list: async (g: string) => paper.filter((p) => p.genomeId === g),
    },
    promotionConfig: {} as never,
  };
}

const CHALLENGER = COHORT.leaderboard[0] as AgentRow;

describe('slotHolderOf', () => {
  it("skips today's promotions, approvals, other markets and undecided outcomes; takes the newest decisive one", async () => {
    // Prepare (newest first, as the port lists them)
    const recent = [
      promotion('p-today', 'g-today', '2013-10-09T14:00:00.000Z', 'promoted'),
      promotion('p-approved', 'g-ap', '2013-10-08T20:30:00.000Z', 'promoted', {
        approvalId: 'ap-1',
      }),
      promotion('p-crypto', 'g-cr', '2013-10-08T18:00:00.000Z', 'promoted', { market: 'crypto' }),
      promotion('p-expired', 'g-ex', '2013-10-08T17:00:00.000Z', 'window_expired'),
      promotion('p-holder', 'g-inc', '2013-10-08T14:00:00.000Z', 'promoted'),
      promotion('p-older', 'g-older', '2013-10-07T14:00:00.000Z', 'gates_failed'),
    ];

    // Act
    const holder = await slotHolderOf(deps(recent), 'equity-usa');

    // Assess
    expect(holder).toMatchObject({
      promotionId: 'p-holder',
      genomeId: 'g-inc',
      status: 'promoted',
    });
  });
});

describe('slotTenureOf', () => {
  it("through today: today's decisive promotion holds the slot, its tenure is the holder's unbroken run of promotions", async () => {
    // Prepare (newest first): g-inc promoted today and yesterday, after g-old was demoted
    const recent = [
      promotion('p-inflight', 'g-new', '2013-10-09T15:00:00.000Z', 'staged'),
      promotion('p-today', 'g-inc', '2013-10-09T14:00:00.000Z', 'promoted', {
        sessionDate: '2013-10-08',
      }),
      promotion('p-expired', 'g-ex', '2013-10-08T17:00:00.000Z', 'window_expired'),
      promotion('p-first', 'g-inc', '2013-10-08T14:00:00.000Z', 'promoted', {
        sessionDate: '2013-10-07',
      }),
      promotion('p-demoted', 'g-old', '2013-10-07T14:00:00.000Z', 'halted'),
      promotion('p-earlier', 'g-inc', '2013-10-04T14:00:00.000Z', 'promoted'),
    ];

    // Act
    const through = await slotTenureOf(deps(recent), 'equity-usa', { throughToday: true });
    const before = await slotTenureOf(deps(recent), 'equity-usa', { throughToday: false });

    // Assess: the in-flight promotion decides nothing; the tenure stops at another genome
    expect(through?.holder).toMatchObject({ promotionId: 'p-today', genomeId: 'g-inc' });
    expect(through?.promotions.map((p) => p.promotionId)).toEqual(['p-today', 'p-first']);
    expect(through?.promotions.at(-1)?.sessionDate).toBe('2013-10-07');
    expect(before?.holder.promotionId).toBe('p-first');
    expect(before?.promotions.map((p) => p.promotionId)).toEqual(['p-first']);
  });

  it('a demoted holder has no tenure; an empty history has no holder', async () => {
    // Act
    const demoted = await slotTenureOf(
      deps([promotion('p-h', 'g-inc', '2013-10-09T14:00:00.000Z', 'gates_failed')]),
      'equity-usa',
      { throughToday: true },
    );
    const none = await slotTenureOf(deps([]), 'equity-usa', { throughToday: true });

    // Assess
    expect(demoted?.holder).toMatchObject({ genomeId: 'g-inc', status: 'gates_failed' });
    expect(demoted?.promotions).toEqual([]);
    expect(none).toBeNull();
  });
});

describe('decideSlotAtStaging', () => {
  it('an incumbent demoted at its last session (gates_failed) leaves the slot empty: the challenger takes it', async () => {
    // Act
    const out = await decideSlotAtStaging(
      deps([promotion('p-h', 'g-inc', '2013-10-08T14:00:00.000Z', 'gates_failed')]),
      COHORT,
      CHALLENGER,
    );

    // Assess
    expect(out.candidate.agentId).toBe('a1');
    expect(out.decision.decision).toBe('promote_challenger');
    expect(out.decision.reason).toMatch(/g-inc was demoted \(gates_failed/);
  });

  it("an incumbent that did not run in the challenger's cohort is retired", async () => {
    // Act
    const out = await decideSlotAtStaging(
      deps(
        [promotion('p-h', 'g-gone', '2013-10-08T14:00:00.000Z', 'promoted')],
        [paperResult('g-gone', '2013-10-08', 0.05)],
      ),
      COHORT,
      CHALLENGER,
    );

    // Assess
    expect(out.candidate.agentId).toBe('a1');
    expect(out.decision.decision).toBe('retire_incumbent');
    expect(out.decision.reason).toMatch(/g-gone is retired: it did not run in cohort c-1008/);
  });

  it('an incumbent with a short record keeps the slot and is staged as its own agent in the cohort', async () => {
    // Act
    const out = await decideSlotAtStaging(
      deps(
        [promotion('p-h', 'g-inc', '2013-10-08T14:00:00.000Z', 'promoted')],
        [paperResult('g-inc', '2013-10-08', -0.01)],
      ),
      COHORT,
      CHALLENGER,
    );

    // Assess
    expect(out.candidate.agentId).toBe('a2');
    expect(out.decision.decision).toBe('keep_incumbent');
    expect(out.incumbent?.sessions).toHaveLength(1);
    expect(out.challenger.sessions).toEqual([
      { cohortId: 'c-1008', agentId: 'a1', dailyReturn: 0.02 },
    ]);
  });
});
