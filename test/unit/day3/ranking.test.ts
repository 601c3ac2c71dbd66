/**
 * Day-3 candidate ranking, walk-forward: one genome per candidate (its own sessions only),
 * ranked on the sessions before Day 3, Day 3 held out; the micro-live capital slice; the
 * approver's summary figures.
 */
import { describe, expect, it } from 'vitest';
import {
  type DayAgent,
  type DayCohort,
  holderLineage,
  lineageMetrics,
  microLiveSliceUsd,
  rankLineages,
} from '../../../functions/core/use-cases/day3-ranking.js';

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

describe('rankLineages (walk-forward, one genome per candidate)', () => {
  it("is the same genome every day: a descendant's results never stand in for it", () => {
    // Prepare: g-a trades days 1 and 3; its child g-a2 is best on day 2; grandchild g-a3 day 3.
    const days = [
      day(1, [agent('a1', 'g-a', { roi: 0.01 })]),
      day(2, [agent('a1', 'g-a2', { parents: ['g-a'], roi: 0.5 })]),
      day(3, [
        agent('a1', 'g-a3', { parents: ['g-x', 'g-a2'], roi: 0.03 }),
        agent('a2', 'g-a', { roi: -0.02, rank: 2 }),
      ]),
    ];

    // Act
    const ranked = rankLineages(days, 1);

    // Assess: g-a2 and g-a3 have no in-sample and out-of-sample session of their own
    expect(ranked).toHaveLength(1);
    expect(ranked[0]?.lineageId).toBe('g-a');
    expect(new Set(ranked[0]?.days.map((d) => d.genomeId))).toEqual(new Set(['g-a']));
    expect(ranked[0]?.days.map((d) => [d.sessionDate, d.sample])).toEqual([
      ['2013-10-07', 'in_sample'],
      ['2013-10-09', 'out_of_sample'],
    ]);
    expect(ranked[0]?.inSampleMeanRoi).toBeCloseTo(0.01, 12);
    expect(ranked[0]?.outOfSampleMeanRoi).toBeCloseTo(-0.02, 12);
    expect(ranked[0]).toMatchObject({ inSampleSessions: 1, outOfSampleSessions: 1 });
  });

  it('ranks on the sessions before Day 3 only: Day 3 plays no part in the selection', () => {
    // Prepare: g-b wins Day 3 by far, g-a was better before it.
    const days = [
      day(1, [agent('a', 'g-a', { roi: 0.02 }), agent('b', 'g-b', { roi: 0.01 })]),
      day(2, [agent('a', 'g-a', { roi: 0.02 }), agent('b', 'g-b', { roi: 0.01 })]),
      day(3, [agent('a', 'g-a', { roi: -0.01 }), agent('b', 'g-b', { roi: 0.5 })]),
    ];

    // Act
    const ranked = rankLineages(days, 1);

    // Assess
    expect(ranked.map((r) => r.lineageId)).toEqual(['g-a', 'g-b']);
    expect(ranked[0]?.outOfSampleMeanRoi).toBeCloseTo(-0.01, 12);
  });

  it('leaves out genomes absent on Day 3 or without an earlier session', () => {
    // Prepare: g-b is absent on Day 3; g-c is new on Day 3 (no in-sample session)
    const days = [
      day(1, [agent('a1', 'g-a'), agent('a2', 'g-b', { roi: 0.5 })]),
      day(2, [agent('a1', 'g-a')]),
      day(3, [agent('a1', 'g-a'), agent('a3', 'g-c', { roi: 0.9 })]),
    ];

    // Act
    const ranked = rankLineages(days, 1);

    // Assess
    expect(ranked.map((r) => r.lineageId)).toEqual(['g-a']);
  });

  it.each<[string, DayAgent[][], number, string[]]>([
    [
      'higher mean in-sample ROI ranks first',
      [
        [agent('a', 'g-a', { roi: 0.01 }), agent('b', 'g-b', { roi: 0.02 })],
        [agent('a', 'g-a', { roi: 0.01 }), agent('b', 'g-b', { roi: 0.02 })],
        [agent('a', 'g-a', { roi: 0.01 }), agent('b', 'g-b', { roi: 0.02 })],
      ],
      4,
      ['g-b', 'g-a'],
    ],
    [
      'equal ROI: the smaller worst in-sample drawdown ranks first',
      [
        [
          agent('a', 'g-a', { roi: 0.01, maxDrawdownFraction: 0.03 }),
          agent('b', 'g-b', { roi: 0.01, maxDrawdownFraction: 0.01 }),
        ],
        [agent('a', 'g-a', { roi: 0.01 }), agent('b', 'g-b', { roi: 0.01 })],
        [
          agent('a', 'g-a', { roi: 0.01 }),
          agent('b', 'g-b', { roi: 0.01, maxDrawdownFraction: 0.2 }),
        ],
      ],
      4,
      ['g-b', 'g-a'],
    ],
    [
      'below the minimum trade count in sample ranks after every eligible genome',
      [
        [agent('a', 'g-a', { roi: 0.001 }), agent('b', 'g-b', { roi: 0.09, tradeCount: 1 })],
        [agent('a', 'g-a', { roi: 0.001 }), agent('b', 'g-b', { roi: 0.09, tradeCount: 1 })],
        [agent('a', 'g-a', { roi: 0.001 }), agent('b', 'g-b', { roi: 0.09, tradeCount: 9 })],
      ],
      4,
      ['g-a', 'g-b'],
    ],
    [
      'full tie: genome id decides (deterministic)',
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

  it('marks eligibility by the in-sample trades (an ORB trades twice a day)', () => {
    // Prepare
    const twoADay = [2, 2, 2].map((t, i) => day(i + 1, [agent('a', 'g-a', { tradeCount: t })]));
    const tooFew = [1, 0, 9].map((t, i) => day(i + 1, [agent('a', 'g-a', { tradeCount: t })]));

    // Act
    const [enough] = rankLineages(twoADay, 4);
    const [short] = rankLineages(tooFew, 4);

    // Assess
    expect(enough?.minDailyTrades).toBe(2);
    expect(enough?.eligible).toBe(true);
    expect(short?.eligible).toBe(false);
  });

  it("lets a genome's best-ranked agent of the day stand for it", () => {
    // Prepare: two agents of g-a on day 2 (an oversized cohort); the one ranked 1 is used
    const days = [
      day(1, [agent('a1', 'g-a', { rank: 1 })]),
      day(2, [
        agent('a2', 'g-a', { rank: 2, roi: -0.05 }),
        agent('a1', 'g-a', { rank: 1, roi: 0.05 }),
      ]),
      day(3, [agent('a1', 'g-a', { rank: 1 })]),
    ];

    // Act
    const [row] = rankLineages(days, 1);

    // Assess
    expect(row?.days[1]?.agentId).toBe('a1');
    expect(row?.days[1]?.roi).toBe(0.05);
  });
});

describe('holderLineage (the paper-slot holder, reviewed on its own record)', () => {
  it('takes the genome absent on Day 3, its days labelled at the cutoff, its last day the latest it traded', () => {
    // Prepare: g-h traded days 1 and 2 (bred out before Day 3); a descendant is best on day 2
    const days = [
      day(1, [agent('a1', 'g-h', { roi: 0.01, tradeCount: 3 })]),
      day(2, [
        agent('a1', 'g-h2', { parents: ['g-h'], roi: 0.5 }),
        agent('a4', 'g-h', { roi: -0.02, rank: 4, tradeCount: 5 }),
        agent('a7', 'g-h', { roi: -0.09, rank: 7 }),
      ]),
      day(3, [agent('a1', 'g-x', { roi: 0.03 })]),
    ];

    // Act
    const lineage = holderLineage(days, 'g-h', '2013-10-07', 4);

    // Assess: its own best-ranked agent each day, in sample up to the cutoff, not ranked
    expect(lineage).toMatchObject({
      rank: 0,
      lineageId: 'g-h',
      inSampleSessions: 1,
      outOfSampleSessions: 1,
      minDailyTrades: 3,
      eligible: false,
    });
    expect(lineage?.days.map((d) => [d.sessionDate, d.agentId, d.sample])).toEqual([
      ['2013-10-07', 'a1', 'in_sample'],
      ['2013-10-08', 'a4', 'out_of_sample'],
    ]);
    expect(lineage?.outOfSampleMeanRoi).toBeCloseTo(-0.02, 12);
  });

  it('with a cutoff before every reviewed day, all are out of sample; a genome that never traded is null', () => {
    // Prepare
    const days = [day(1, [agent('a1', 'g-h')]), day(2, [agent('a1', 'g-h')]), day(3, [])];

    // Act
    const lineage = holderLineage(days, 'g-h', '2013-10-01', 1);

    // Assess
    expect(lineage?.days.every((d) => d.sample === 'out_of_sample')).toBe(true);
    expect(lineage).toMatchObject({ inSampleSessions: 0, minDailyTrades: 0, eligible: false });
    expect(holderLineage(days, 'g-none', '2013-10-01', 1)).toBeNull();
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
  it('sums PnL and trades, keeps the worst drawdown, labels the Sharpe and both samples', () => {
    // Prepare
    const days = [
      agent('a', 'g-a', { totalPnlUsd: 2, roi: 0.02, tradeCount: 5, maxDrawdownFraction: 0.01 }),
      agent('a', 'g-a', { totalPnlUsd: -1, roi: -0.01, tradeCount: 6, maxDrawdownFraction: 0.03 }),
      agent('a', 'g-a', { totalPnlUsd: 3, roi: 0.03, tradeCount: 7, maxDrawdownFraction: 0.02 }),
    ].map((a, i) => day(i + 1, [a]));
    const [row] = rankLineages(days, 1);

    // Act
    const m = lineageMetrics(row as NonNullable<typeof row>, {
      sharpe: 0.4,
      n: 3,
      annualizedSharpe: null,
    });

    // Assess
    expect(m).toMatchObject({
      totalPnlUsd: 4,
      tradeCount: 18,
      maxDrawdownFraction: 0.03,
      sessions: 3,
      sharpe: 0.4,
      sharpeSessions: 3,
      annualizedSharpe: null,
      inSampleSessions: 2,
      outOfSampleSessions: 1,
    });
    expect(m.roi).toBeCloseTo(0.04, 12);
    expect(m.inSampleRoi).toBeCloseTo(0.005, 12);
    expect(m.outOfSampleRoi).toBeCloseTo(0.03, 12);
  });
});
