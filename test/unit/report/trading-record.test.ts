/**
 * The run report's trading record: round trips from fills (reversals included), their
 * statistics, the cross-session record beside a buy-and-hold benchmark, and the sections the
 * report renders from them.
 */
import { describe, expect, it } from 'vitest';
import type {
  AgentResult,
  Fill,
  SimulationResult,
} from '../../../functions/core/cohort/simulate.js';
import { formatUsd } from '../../../functions/core/report/format.js';
import { tradingRecordSection } from '../../../functions/core/report/record-section.js';
import { renderRunReport } from '../../../functions/core/report/render.js';
import {
  crossSessionRecord,
  dailyRegulatoryRoundingUsd,
  roundTripsOf,
  tradeStats,
} from '../../../functions/core/report/trading-record.js';
import { countRoundTrips } from '../../../functions/core/scoring/round-trips.js';
import { chart, count, syntheticSimulation, table, threeDayInput } from './fixtures.js';

const T0 = Date.parse('2013-10-07T13:30:00.000Z');
const fill = (minute: number, side: 'buy' | 'sell', qty: number, priceUsd: number, feeUsd = 0) =>
  ({
    t: T0 + minute * 60_000,
    decidedAt: T0 + (minute - 1) * 60_000,
    symbol: 'SPY',
    side,
    qty,
    priceUsd,
    feeUsd,
    reason: 'signal',
  }) as Fill;

describe('round trips', () => {
  it('scales in, closes, reverses through zero (fees split pro rata), and leaves an open trip out', () => {
    const fills = [
      fill(1, 'buy', 1, 100, 1),
      fill(2, 'buy', 1, 102, 1),
      fill(5, 'sell', 3, 104, 3), // closes 2 long (fee 2), opens 1 short (fee 1)
      fill(9, 'buy', 1, 103, 1), // closes the short
      fill(10, 'buy', 2, 103), // open at the end: not a round trip
    ];
    const trips = roundTripsOf('a0001', fills);
    expect(trips).toHaveLength(2);
    expect(trips).toHaveLength(countRoundTrips(fills));
    const [long, short] = trips;
    expect(long).toMatchObject({
      direction: 'long',
      qty: 2,
      entryPriceUsd: 101,
      exitPriceUsd: 104,
    });
    expect(long?.pnlUsd).toBeCloseTo((104 - 101) * 2 - 1 - 1 - 2, 10);
    expect(long?.holdingMinutes).toBe(4);
    expect(short).toMatchObject({
      direction: 'short',
      qty: 1,
      entryPriceUsd: 104,
      exitPriceUsd: 103,
    });
    expect(short?.pnlUsd).toBeCloseTo(104 - 103 - 1 - 1, 10);
    expect(short?.holdingMinutes).toBe(4);
  });

  it('gives win rate, profit factor, expectancy and holding time; none without trips or losses', () => {
    const trips = roundTripsOf('a', [
      fill(1, 'buy', 1, 100),
      fill(3, 'sell', 1, 103), // +3
      fill(4, 'buy', 1, 100),
      fill(10, 'sell', 1, 99), // −1
    ]);
    expect(tradeStats(trips)).toEqual({
      roundTrips: 2,
      winRate: 0.5,
      profitFactor: 3,
      expectancyUsd: 1,
      avgHoldingMinutes: 4,
      totalPnlUsd: 2,
    });
    expect(tradeStats([])).toMatchObject({ roundTrips: 0, winRate: null, expectancyUsd: null });
    expect(tradeStats(trips.slice(0, 1)).profitFactor).toBeNull();
  });
});

function sim(date: string, equity: number[], bankroll = 1000): SimulationResult {
  const open = Date.parse(`${date}T13:30:00.000Z`);
  return {
    sessionDate: date,
    bankrollUsd: bankroll,
    timestamps: equity.map((_, i) => open + i * 60_000),
    parent: { equityCurve: equity, grossExposureCurve: equity.map(() => 0), unallocatedCashUsd: 0 },
    agents: [],
  } as unknown as SimulationResult;
}

describe('cross-session record', () => {
  it('sums PnL across sessions, draws the drawdown from the running peak, compounds returns', () => {
    const days = [
      { sessionDate: '2013-10-07', simulation: sim('2013-10-07', [1000, 1010, 990]) },
      { sessionDate: '2013-10-08', simulation: sim('2013-10-08', [1000, 1020, 1030]) },
    ];
    const open7 = Date.parse('2013-10-07T13:30:00.000Z');
    const open8 = Date.parse('2013-10-08T13:30:00.000Z');
    const rec = crossSessionRecord(days, {
      '2013-10-07': { ts: [open7, open7 + 60_000, open7 + 120_000], close: [100, 101, 102] },
      '2013-10-08': { ts: [open8, open8 + 60_000, open8 + 120_000], close: [0, 104, 105] },
    });
    expect(rec.cumulativePnlUsd).toEqual([0, 10, -10, -10, 10, 20]);
    expect(rec.sessionStarts).toEqual([0, 3]);
    expect(rec.underwater[2]).toBeCloseTo(990 / 1010 - 1, 12);
    expect(rec.underwater[5]).toBe(0);
    // Buy and hold: 10 shares at 100; the zero close is skipped (the last close carries).
    expect(rec.benchmarkPnlUsd).toEqual([0, 10, 20, 20, 40, 50]);
    expect(rec.days[0]).toMatchObject({ pnlUsd: -10, dailyReturn: -0.01 });
    expect(rec.days[0]?.benchmarkReturn).toBeCloseTo(0.02, 12);
    expect(rec.days[1]?.cumulativeReturn).toBeCloseTo(0.99 * 1.03 - 1, 12);
    expect(rec.days[1]?.benchmarkReturn).toBeCloseTo(105 / 102 - 1, 12);
    expect(rec.days[1]?.benchmarkCumulativeReturn).toBeCloseTo(0.05, 12);
  });
});

describe('report sections', () => {
  it('renders the trading record and the Day-3 section with their tables and charts', () => {
    const input = threeDayInput(5);
    const html = renderRunReport({
      ...input,
      day3: [
        {
          decision: 'approved',
          approver: 'local:rick',
          candidate: 'lineage-1 (momentum, SPY)',
          candidateBasis: 'paper-slot holder, 2 paper sessions: lineage-1 holds the paper slot',
          baseline:
            'candidate -0.104% per session (n=2) vs best baseline flat 0% per session (n=2)',
          slice: {
            sliceId: 'ml-1',
            status: 'rolled_back',
            statusReason: 'drawdown 6% > 5%',
            capitalSliceUsd: 50,
            bankrollUsd: 1000,
            leverage: 2,
          },
          leverage: [
            {
              decidedAtIso: '2013-10-10T14:00:00.000Z',
              previous: null,
              next: 2,
              rule: 'initial',
              rationale: 'start',
            },
          ],
          monitor: [
            { atIso: '2013-10-10T15:00:00.000Z', action: 'rollback', detail: 'drawdown 6% > 5%' },
          ],
        },
      ],
    });
    expect(html).toContain('<section id="record">');
    expect(chart(html, 'cumulative-equity')).toBeDefined();
    expect(chart(html, 'underwater')).toBeDefined();
    expect(count(table(html, 'daily-returns') ?? '', '<tr>')).toBe(1 + 3);
    expect(count(table(html, 'trade-stats') ?? '', '<tr>')).toBe(1 + 3 + 1);
    expect(table(html, 'symbols')).toBeDefined();
    expect(html).toContain('<section id="day3">');
    expect(table(html, 'rollback-0')).toContain('drawdown 6% &gt; 5%');
    expect(table(html, 'leverage-0')).toContain('initial');
    expect(html).toContain(
      '<p data-field="baseline">Baseline comparison: candidate -0.104% per session (n=2) vs best baseline flat 0% per session (n=2).</p>',
    );
    expect(html).toContain(
      '<p class="sub" data-field="candidate-basis">Chosen as the paper-slot holder, 2 paper sessions: lineage-1 holds the paper slot.</p>',
    );
    expect(html).toContain('no benchmark');
  });
});

describe("the day's regulatory-fee rounding beside the round trips", () => {
  it('a USD 50 agent: one 0.1-share round trip of PnL −0.1015 and a day-level line of −0.0285 make its −0.13 (Alpaca charges SEC, TAF and CAT 0.01 each)', () => {
    // Prepare: buy 0.1 at 500.50, sell 0.1 at 499.50 under Alpaca's rates (CAT 0.000046 on
    // ⌈0.1⌉ = 1 share each side; SEC 49.95 × 0.0000278 and TAF 0.1 × 0.000166 on the sale)
    const sale = 49.95 * 0.0000278 + 0.1 * 0.000166 + 0.000046;
    const accrued = 0.000046 + sale;
    const rounding = 0.03 - accrued;
    const base = syntheticSimulation('2013-10-07', { agents: 1, bankrollUsd: 50 });
    const agent = base.agents[0] as AgentResult;
    const equityCurve = agent.equityCurve.map(() => 50);
    equityCurve[equityCurve.length - 1] = 50 - 0.1 - 0.03;
    const simulation: SimulationResult = {
      ...base,
      parent: { ...base.parent, equityCurve },
      agents: [
        {
          ...agent,
          equityCurve,
          fills: [fill(1, 'buy', 0.1, 500.5, 0.000046), fill(5, 'sell', 0.1, 499.5, sale)],
          regulatoryRoundingUsd: rounding,
        },
      ],
    };

    // Act
    const trips = roundTripsOf(agent.agentId, simulation.agents[0]?.fills ?? []);
    const dayLine = dailyRegulatoryRoundingUsd(simulation.agents);
    const html = tradingRecordSection([{ sessionDate: '2013-10-07', simulation }]);

    // Assess: the trip keeps its own fees; the day line makes up the agent's PnL
    expect(trips).toHaveLength(1);
    expect(trips[0]?.pnlUsd).toBeCloseTo(-0.1 - accrued, 12);
    expect(dayLine).toBeCloseTo(0.03 - accrued, 12);
    expect((trips[0]?.pnlUsd ?? 0) - dayLine).toBeCloseTo((equityCurve.at(-1) ?? 0) - 50, 12);
    const stats = table(html, 'trade-stats') ?? '';
    expect(stats).toContain(`>${formatUsd(-rounding)}<`);
    expect(stats).toContain(`>${formatUsd(-0.13)}<`);
    const list = table(html, 'trades-2013-10-07') ?? '';
    expect(list).toContain('data-row="daily-regulatory-rounding"');
    expect(list).toContain(`>${formatUsd(-rounding)}<`);
  });
});
