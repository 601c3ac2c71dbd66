/**
 * Day-3 candidate ranking: lineages tracked through three daily cohorts (offspring join their
 * parent's lineage), ranked by mean one-day ROI then Sharpe, with a minimum trade count per
 * day; the micro-live capital slice; the approver's summary figures.
 */
import { describe, expect, it } from 'vitest';
import {
  type DayAgent,
  type DayCohort,
  lineageMetrics,
  microLiveSliceUsd,
  rankLineages,
} from '../../../functions/core/use-cases/day3.js';

function agent(
  agentId: string,
  genomeId: string,
  o: Partial<Omit<DayAgent, 'genome'>> & { parents?: string[]; symbol?: string } = {},
): DayAgent {
  return {
    agentId,
    genome: {
      id: genomeId,
      parentIds: o.parents ?? [],
      family: 'momentum',
      symbol: o.symbol ?? 'SPY',
    },
    rank: o.rank ?? 1,
    allocationUsd: o.allocationUsd ?? 100,
    totalPnlUsd: o.totalPnlUsd ?? (o.roi ?? 0) * 100,
    roi: o.roi ?? 0,
    sharpe: o.sharpe ?? 0,
    maxDrawdownFraction: o.maxDrawdownFraction ?? 0.01,
    tradeCount: o.tradeCount ?? 10,
  };
}

function day(n: number, agents: DayAgent[]): DayCohort {
  return {
    sessionDate: `2013-10-0${6 + n}`,
    cohortId: `coh-${n}`,
    simulationKey: `cohorts/${n}/simulation.json`,
    agents,
  };
}

describe('rankLineages', () => {
  it('follows a genome through offspring: a child joins the lineage of its parent', () => {
    // Prepare: g-a on day 1, its child g-a2 on day 2, grandchild g-a3 on day 3
    const days = [
      day(1, [agent('a1', 'g-a', { roi: 0.01 })]),
      day(2, [agent('a1', 'g-a2', { parents: ['g-a'], roi: 0.02 })]),
      day(3, [agent('a1', 'g-a3', { parents: ['g-x', 'g-a2'], roi: 0.03 })]),
    ];

    // Act
    const ranked = rankLineages(days, 4);

    // Assess
    expect(ranked).toHaveLength(1);
    expect(ranked[0]?.lineageId).toBe('g-a');
    expect(ranked[0]?.days.map((d) => d.genomeId)).toEqual(['g-a', 'g-a2', 'g-a3']);
    expect(ranked[0]?.meanRoi).toBeCloseTo(0.02, 12);
  });

  it('leaves out lineages missing on any day', () => {
    // Prepare: g-b is absent on day 2; g-c is a new root on day 3 (no known parent)
    const days = [
      day(1, [agent('a1', 'g-a'), agent('a2', 'g-b', { roi: 0.5 })]),
      day(2, [agent('a1', 'g-a')]),
      day(3, [
        agent('a1', 'g-a'),
        agent('a2', 'g-b', { roi: 0.5 }),
        agent('a3', 'g-c', { parents: ['g-zz'] }),
      ]),
    ];

    // Act
    const ranked = rankLineages(days, 1);

    // Assess
    expect(ranked.map((r) => r.lineageId)).toEqual(['g-a']);
  });

  it.each<[string, DayAgent[][], number, string[]]>([
    [
      'higher mean one-day ROI ranks first',
      [
        [agent('a', 'g-a', { roi: 0.01 }), agent('b', 'g-b', { roi: 0.02 })],
        [agent('a', 'g-a', { roi: 0.01 }), agent('b', 'g-b', { roi: 0.02 })],
        [agent('a', 'g-a', { roi: 0.01 }), agent('b', 'g-b', { roi: 0.02 })],
      ],
      4,
      ['g-b', 'g-a'],
    ],
    [
      'equal ROI: the smaller worst drawdown ranks first, whatever the minute Sharpe',
      [
        [
          agent('a', 'g-a', { roi: 0.01, sharpe: 9, maxDrawdownFraction: 0.03 }),
          agent('b', 'g-b', { roi: 0.01, sharpe: 1, maxDrawdownFraction: 0.01 }),
        ],
        [agent('a', 'g-a', { roi: 0.01, sharpe: 9 }), agent('b', 'g-b', { roi: 0.01, sharpe: 1 })],
        [agent('a', 'g-a', { roi: 0.01, sharpe: 9 }), agent('b', 'g-b', { roi: 0.01, sharpe: 1 })],
      ],
      4,
      ['g-b', 'g-a'],
    ],
    [
      'below the minimum trade count over the three days ranks after every eligible lineage',
      [
        [agent('a', 'g-a', { roi: 0.001 }), agent('b', 'g-b', { roi: 0.09, tradeCount: 1 })],
        [agent('a', 'g-a', { roi: 0.001 }), agent('b', 'g-b', { roi: 0.09, tradeCount: 1 })],
        [agent('a', 'g-a', { roi: 0.001 }), agent('b', 'g-b', { roi: 0.09, tradeCount: 1 })],
      ],
      4,
      ['g-a', 'g-b'],
    ],
    [
      'full tie: lineage id decides (deterministic)',
      [
        [agent('b', 'g-b'), agent('a', 'g-a')],
        [agent('b', 'g-b'), agent('a', 'g-a')],
        [agent('b', 'g-b'), agent('a', 'g-a')],
      ],
      4,
      ['g-a', 'g-b'],
    ],
  ])('%s', (_name, agents, minTrades, expected) => {
    // Prepare
    const days = agents.map((a, i) => day(i + 1, a));

    // Act
    const ranked = rankLineages(days, minTrades);

    // Assess
    expect(ranked.map((r) => r.lineageId)).toEqual(expected);
    expect(ranked.map((r) => r.rank)).toEqual(expected.map((_, i) => i + 1));
  });

  it('marks eligibility by the trades over the three days (an ORB trades twice a day)', () => {
    // Prepare
    const twoADay = [2, 2, 2].map((t, i) => day(i + 1, [agent('a', 'g-a', { tradeCount: t })]));
    const tooFew = [1, 0, 2].map((t, i) => day(i + 1, [agent('a', 'g-a', { tradeCount: t })]));

    // Act
    const [enough] = rankLineages(twoADay, 6);
    const [short] = rankLineages(tooFew, 4);

    // Assess
    expect(enough?.minDailyTrades).toBe(2);
    expect(enough?.eligible).toBe(true);
    expect(short?.eligible).toBe(false);
  });

  it("lets a lineage's best-ranked agent of the day stand for it", () => {
    // Prepare: two children of g-a on day 2; the one ranked 1 must be used
    const days = [
      day(1, [agent('a1', 'g-a', { rank: 1 })]),
      day(2, [
        agent('a2', 'g-a-weak', { parents: ['g-a'], rank: 2, roi: -0.05 }),
        agent('a1', 'g-a-strong', { parents: ['g-a'], rank: 1, roi: 0.05 }),
      ]),
      day(3, [agent('a1', 'g-a-strong', { rank: 1 })]),
    ];

    // Act
    const [row] = rankLineages(days, 1);

    // Assess
    expect(row?.days[1]?.genomeId).toBe('g-a-strong');
    expect(row?.days[1]?.roi).toBe(0.05);
  });
});

describe('microLiveSliceUsd', () => {
  it.each<[number, number, number, number]>([
    // bankroll, fraction, min, slice
    [1000, 0.05, 50, 50],
    [10_000, 0.05, 50, 500],
    [500, 0.05, 50, 50],
    [40, 0.05, 50, 40],
    [1234.56, 0.05, 50, 61.73],
  ])('bankroll $%d at %d with min $%d -> $%d', (bankroll, fraction, minUsd, expected) => {
    // Act
    const slice = microLiveSliceUsd(bankroll, { fraction, minUsd });

    // Assess
    expect(slice).toBeCloseTo(expected, 10);
  });
});

describe('lineageMetrics', () => {
  it('sums PnL and trades, averages Sharpe, keeps the worst drawdown', () => {
    // Prepare
    const days = [
      agent('a', 'g-a', { totalPnlUsd: 2, roi: 0.02, tradeCount: 5, maxDrawdownFraction: 0.01 }),
      agent('a', 'g-a', { totalPnlUsd: -1, roi: -0.01, tradeCount: 6, maxDrawdownFraction: 0.03 }),
      agent('a', 'g-a', { totalPnlUsd: 3, roi: 0.03, tradeCount: 7, maxDrawdownFraction: 0.02 }),
    ].map((a, i) => day(i + 1, [a]));
    const [row] = rankLineages(days, 1);

    // Act
    const m = lineageMetrics(row as NonNullable<typeof row>);

    // Assess
    expect(m).toMatchObject({
      totalPnlUsd: 4,
      tradeCount: 18,
      maxDrawdownFraction: 0.03,
      sessions: 3,
    });
    expect(m.roi).toBeCloseTo(0.04, 12);
  });
});
