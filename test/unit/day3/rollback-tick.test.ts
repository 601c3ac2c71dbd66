/**
 * The rollback monitor's per-tick decision for a micro-live slice (table-driven): rollback on
 * drawdown / variance breach with the leverage reset, the closing tick's leverage decision
 * (step up, step down on a loss, hold), and the scheduled monitor valuing a held slice at the
 * broker (its current price), never at the market data's marks, failing closed.
 */
import { describe, expect, it } from 'vitest';
import { type Market, marketDate } from '../../../functions/core/calendar/market-calendar.js';
import type { RegulatoryFees } from '../../../functions/core/cohort/fill-model.js';
import { applyBookFill, emptyAccountBook } from '../../../functions/core/exchange/position-book.js';
import { DEFAULT_LEVERAGE_POLICY } from '../../../functions/core/leverage/policy.js';
import { Order } from '../../../functions/core/orders/order.js';
import type { PaperSessionResult } from '../../../functions/core/paper/track-record.js';
import { DEFAULT_ROLLBACK_CONFIG } from '../../../functions/core/rollback/monitor.js';
import type { Day3Deps } from '../../../functions/core/use-cases/day3.js';
import type { MicroLiveSlice } from '../../../functions/core/use-cases/day3-records.js';
import {
  closedDayInputs,
  decideTick,
  monitorMicroLive,
  paperReturnsBeforeSlice,
} from '../../../functions/core/use-cases/day3-rollback.js';
import type { PromotionOrder } from '../../../functions/core/use-cases/promotion-records.js';
import type { BrokerOrder, BrokerPosition } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { BookWrite } from '../../../functions/ports/promotion-repository.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

/** A flat-ish curve of `n` points around `start` with tiny alternating moves. */
function calm(start: number, n: number, step = 0.01): number[] {
  return Array.from({ length: n }, (_, i) => start + (i % 2 === 0 ? step : -step));
}

describe('closedDayInputs', () => {
  it.each<[string, number[], number, number, boolean, number]>([
    ['first day: PnL from the capital, no Sharpe yet', [], 51, 1, false, 0],
    ['a losing day after a peak: drawdown from the peak close', [52], 49.4, -2.6, false, 0.05],
    ['three days of gains: too few days for an annualized Sharpe', [50.5, 51], 51.6, 0.6, false, 0],
    [
      'twenty days of gains: a rolling Sharpe',
      Array.from({ length: 19 }, (_, i) => 50 + 0.1 * (i + 1) + (i % 2) * 0.05),
      52.1,
      0.2,
      true,
      0,
    ],
  ])('%s', (_name, previous, equity, pnl, hasSharpe, drawdown) => {
    // Act
    const out = closedDayInputs({ capitalUsd: 50, previousCloses: previous, equityUsd: equity });

    // Assess
    expect(out.dayPnlUsd).toBeCloseTo(pnl, 10);
    expect(out.drawdownFraction).toBeCloseTo(drawdown, 10);
    expect(out.rollingSharpe !== null && Number.isFinite(out.rollingSharpe)).toBe(hasSharpe);
  });
});

describe('closedDayInputs with the paper track record before the slice', () => {
  it("counts the paper sessions toward the Sharpe sample; day PnL and drawdown stay the slice's", () => {
    // Prepare: 17 paper sessions + the slice's 3 days = 20 daily returns
    const prior = Array.from({ length: 17 }, (_, i) => 0.002 + (i % 3) * 0.001);
    const slice = { capitalUsd: 50, previousCloses: [50.2, 50.3], equityUsd: 50.5 };

    // Act
    const alone = closedDayInputs(slice);
    const withPaper = closedDayInputs({ ...slice, priorDailyReturns: prior });

    // Assess
    expect(alone.rollingSharpe).toBeNull();
    expect(alone.priorPaperSessions).toBe(0);
    expect(withPaper.rollingSharpe).not.toBeNull();
    expect(withPaper.rollingSharpe as number).toBeGreaterThan(1.5);
    expect(withPaper.priorPaperSessions).toBe(17);
    expect(withPaper.dayPnlUsd).toBeCloseTo(alone.dayPnlUsd, 10);
    expect(withPaper.drawdownFraction).toBe(alone.drawdownFraction);
  });
});

describe('paperReturnsBeforeSlice', () => {
  const approvedAtIso = '2013-10-10T15:00:00.000Z';
  const result = (promotionId: string, recordedAtIso: string, dailyReturn: number) =>
    ({
      genomeId: 'g-1',
      promotionId,
      date: recordedAtIso.slice(0, 10),
      symbol: 'BAC',
      family: 'sma_cross',
      broker: 'simulated:paper',
      capitalUsd: 100,
      paperPnlUsd: dailyReturn * 100,
      referencePnlUsd: dailyReturn * 100,
      parityDifferenceUsd: 0,
      parity: 'exact',
      dailyReturn,
      filledOrders: 2,
      roundTrips: 1,
      cohortPnlUsd: 0,
      halt: null,
      reconciliationClean: true,
      recordedAtIso,
    }) satisfies PaperSessionResult;
  const slice = { genomeId: 'g-1', promotionId: 'p-slice', approvedAtIso };

  it("reads the genome's paper sessions recorded before the approval, oldest first, without the slice's own", async () => {
    // Prepare
    const stored = [
      result('p-2', '2013-10-09T20:00:00.000Z', -0.004),
      result('p-1', '2013-10-08T20:00:00.000Z', 0.003),
      result('p-slice', '2013-10-09T21:00:00.000Z', 0.5),
      result('p-3', '2013-10-11T20:00:00.000Z', 0.01),
    ];
    const deps = { paperTrackRecord: { list: async () => stored } };

    // Act
    const returns = await paperReturnsBeforeSlice(deps, slice);

    // Assess
    expect(returns).toEqual([0.003, -0.004]);
  });

  it('gives none when the track record is absent or cannot be read (the Sharpe stays short)', async () => {
    // Act
    const absent = await paperReturnsBeforeSlice({}, slice);
    const unreadable = await paperReturnsBeforeSlice(
      {
        paperTrackRecord: {
          list: async () => {
            throw new Error('storage down');
          },
        },
      },
      slice,
    );

    // Assess
    expect(absent).toEqual([]);
    expect(unreadable).toEqual([]);
  });
});

describe('decideTick', () => {
  const base = {
    backtestReturnVariance: 1e-6,
    leverage: 2,
    previousCloses: [] as number[],
    rollback: DEFAULT_ROLLBACK_CONFIG,
    policy: DEFAULT_LEVERAGE_POLICY,
  };

  it.each<
    [
      string,
      Partial<Parameters<typeof decideTick>[0]> & { curveUsd: number[]; closeOfDay: boolean },
      'hold' | 'rollback',
      string,
      string | null,
      number | null,
    ]
  >([
    [
      'calm intraday tick: hold, no leverage decision',
      { curveUsd: calm(50, 10), closeOfDay: false },
      'hold',
      'awaiting_observations',
      null,
      null,
    ],
    [
      'drawdown beyond 5 %: rollback, leverage reset',
      { curveUsd: [50, 51, 47], closeOfDay: false, leverage: 5 },
      'rollback',
      'drawdown',
      'reset_after_rollback',
      2,
    ],
    [
      'live variance 100x the backtest: rollback',
      {
        curveUsd: [50, ...Array.from({ length: 40 }, (_, i) => 50 + (i % 2 ? 0.4 : -0.4))],
        closeOfDay: false,
        backtestReturnVariance: 1e-6,
      },
      'rollback',
      'variance',
      'reset_after_rollback',
      2,
    ],
    [
      'no backtest variance: fail closed, rollback',
      { curveUsd: [50, 50.1], closeOfDay: false, backtestReturnVariance: null },
      'rollback',
      'missing_data',
      'reset_after_rollback',
      2,
    ],
    [
      'closing tick after a loss: step down',
      { curveUsd: [50, 49.9, 49.5], closeOfDay: true, leverage: 3 },
      'hold',
      'awaiting_observations',
      'step_down_loss',
      2,
    ],
    [
      'closing tick, first winning day: hold (no Sharpe yet)',
      { curveUsd: [50, 50.2, 50.5], closeOfDay: true },
      'hold',
      'awaiting_observations',
      'hold',
      2,
    ],
    [
      'closing tick, third strong day: hold (fewer than 20 days, no annualized Sharpe)',
      { curveUsd: [50, 50.9, 51.6], closeOfDay: true, previousCloses: [50.4, 51] },
      'hold',
      'awaiting_observations',
      'hold',
      2,
    ],
    [
      'closing tick, twentieth strong day with a tiny drawdown: step up',
      {
        curveUsd: [50, 51.6, 52.1],
        closeOfDay: true,
        previousCloses: Array.from({ length: 19 }, (_, i) => 50 + 0.1 * (i + 1) + (i % 2) * 0.05),
      },
      'hold',
      'awaiting_observations',
      'step_up',
      3,
    ],
  ])('%s', (_name, input, action, trigger, rule, next) => {
    // Act
    const out = decideTick({ ...base, ...input });

    // Assess
    expect(out.verdict.action).toBe(action);
    expect(out.verdict.trigger).toBe(trigger);
    expect(out.leverage?.rule ?? null).toBe(rule);
    expect(out.leverage?.next ?? null).toBe(next);
    if (out.leverage) expect(out.leverage.rationale.length).toBeGreaterThan(10);
  });
});

/** 2026-12-04 15:00 New York: a slice held after its session's day would be watched here. */
const NOW_MS = Date.parse('2026-12-04T20:00:00Z');

/**
 * A scheduled monitor's world: one active slice long 0.5 SPY bought at $100 with $50 of
 * capital; the market data's marks stay at $100 all day; the broker answers `positions`.
 * The kill switch is on so the flatten is recorded as blocked (no order path needed here).
 */
function monitorWorld(
  positions: () => Promise<readonly BrokerPosition[]>,
  at: {
    readonly symbol?: string;
    readonly market?: Market;
    readonly nowMs?: number;
    /** The promotion's orders with what the broker reports of each (default: the entry, no fee). */
    readonly legs?: readonly { leg: string; order: object; reported: Partial<BrokerOrder> }[];
  } = {},
) {
  const symbol = at.symbol ?? 'SPY';
  const sessionDate = marketDate(at.nowMs ?? NOW_MS, at.market ?? 'equity-usa');
  const audit: { kind: string; payload: Record<string, unknown> }[] = [];
  const statuses: { status: string; reason: string }[] = [];
  const saved: MicroLiveSlice[] = [];
  const slice = {
    sliceId: 'slice-1',
    promotionId: 'promo-1',
    cohortId: 'coh-1',
    agentId: 'a1',
    genomeId: 'g1',
    symbol,
    status: 'active',
    statusReason: '',
    capitalSliceUsd: 50,
    leverage: 2,
    backtestReturnVariance: 1e-6,
    dailyCloses: [],
    flattenClientOrderId: null,
    version: 1,
    entry: { symbol, qty: 0.5, avgPriceUsd: 100, filledAtIso: '2026-12-04T15:00:00Z' },
  } as unknown as MicroLiveSlice;
  const order = {
    side: 'buy',
    filledQty: 0.5,
    avgFillPriceUsd: 100,
    clientOrderId: 'sgp_promo-1_entry_1',
    status: 'filled',
  };
  const broker = {
    name: 'fake',
    listPositions: positions,
    getOrderByClientOrderId: async (id: string) => {
      const leg = at.legs?.find((l) => (l.order as { clientOrderId: string }).clientOrderId === id);
      return leg ? leg.reported : { ...order, filledAvgPriceUsd: 100, feesUsd: 0 };
    },
  };
  const flatMarks = {
    date: sessionDate,
    market: at.market ?? 'equity-usa',
    timestamps: Float64Array.from([(at.nowMs ?? NOW_MS) - 120_000]),
    series: [{ symbol, bid: [100], ask: [100], close: [100] }],
  };
  const deps = {
    config: { rollback: DEFAULT_ROLLBACK_CONFIG, leveragePolicy: DEFAULT_LEVERAGE_POLICY },
    microLive: {
      listWatchedSlices: async () => [slice],
      updateSlice: async (next: MicroLiveSlice) => {
        saved.push(next);
        return true;
      },
      recordLeverageDecision: async (record: unknown) => ({ created: true, record }),
    },
    promotion: {
      environment: 'dev',
      clock: { now: () => at.nowMs ?? NOW_MS },
      brokerAt: () => broker,
      killSwitch: { read: async () => ({ engaged: true, reason: 'test' }) },
      marketData: {
        listSessions: async () => [sessionDate],
        loadSession: async () => flatMarks,
      },
      cohorts: {
        get: async () => ({ cohortId: 'coh-1', sessionDate, market: at.market ?? 'equity-usa' }),
      },
      promotions: {
        listOrders: async () => at.legs ?? [{ leg: 'entry', order }],
        get: async () => ({ promotionId: 'promo-1' }),
        setStatus: async (_id: string, status: string, reason: string) => {
          statuses.push({ status, reason });
        },
      },
      audit: {
        append: async (d: { kind: string; payload: Record<string, unknown> }) => {
          audit.push(d);
        },
      },
    },
  } as unknown as Day3Deps;
  return { deps, audit, statuses, saved };
}

const held = (marketPriceUsd?: number, qty = 0.5, symbol = 'SPY'): BrokerPosition[] => [
  { symbol, qty, avgEntryPriceUsd: 100, marketPriceUsd },
];

/**
 * A filled leg of the slice's promotion, 0.5 shares at `price` on `iso`, and the broker's report
 * of it with `fees` by type (USD) and their sum as its fees.
 */
function leg(
  name: string,
  side: string,
  price: number,
  iso: string,
  fees: RegulatoryFees,
): { leg: string; order: object; reported: Partial<BrokerOrder> } {
  const order = {
    side,
    filledQty: 0.5,
    avgFillPriceUsd: price,
    clientOrderId: `sgp_promo-1_${name}_1`,
    status: 'filled',
    createdAtMs: Date.parse(iso),
  };
  const feesUsd = fees.secUsd + fees.tafUsd + fees.catUsd;
  return {
    leg: name,
    order,
    reported: { ...order, filledAvgPriceUsd: price, feesUsd, regulatoryFeesUsd: fees } as never,
  };
}

describe('monitorMicroLive values a held slice at the broker', () => {
  it('holds while the broker prices the position where it was bought', async () => {
    // Arrange
    const world = monitorWorld(async () => held(100));

    // Act
    const [tick] = await monitorMicroLive(world.deps, { closeOfDay: false });

    // Assess
    expect(tick?.action).toBe('hold');
    expect(tick?.equityUsd).toBeCloseTo(50, 10);
    expect(world.audit.filter((r) => r.kind === 'rollback')).toHaveLength(0);
  });

  it("rolls back when the broker's price falls 20 % while the market data stays flat", async () => {
    // Arrange: 0.5 × $80 = $40 held + $0 cash → $40 of $50: 20 % drawdown (limit 5 %).
    const world = monitorWorld(async () => held(80));

    // Act
    const [tick] = await monitorMicroLive(world.deps, { closeOfDay: false });

    // Assess
    expect(tick?.action).toBe('rollback');
    expect(tick?.verdict?.trigger).toBe('drawdown');
    expect(tick?.equityUsd).toBeCloseTo(40, 10);
    const records = world.audit.filter((r) => r.kind === 'rollback');
    expect(records).toHaveLength(1);
    expect(records[0]?.payload).toMatchObject({ trigger: 'drawdown', source: 'broker' });
    expect(records[0]?.payload.mark_usd).toBe(80);
    expect(world.statuses.at(-1)?.status).toBe('halted');
    expect(world.saved.at(-1)?.status).toBe('flattening');
  });

  it("counts each New York day's regulatory-fee rounding in the slice's cash (Alpaca's daily charge): never optimistic", async () => {
    // Arrange: bought 0.5 SPY at $100 on 2026-12-03 (CAT on ⌈0.5⌉ = 1 share: $0.000046),
    // sold 0.5 at $101 on 2026-12-04 (SEC 50.5 × 0.0000278, TAF 0.5 × 0.000166, CAT 0.000046)
    const cat = 0.000046;
    const sale = { secUsd: 50.5 * 0.0000278, tafUsd: 0.5 * 0.000166, catUsd: cat };
    const saleFees = sale.secUsd + sale.tafUsd + sale.catUsd;
    const legs = [
      leg('entry', 'buy', 100, '2026-12-03T15:00:00Z', { secUsd: 0, tafUsd: 0, catUsd: cat }),
      leg('flatten', 'sell', 101, '2026-12-04T15:00:00Z', sale),
    ];
    const world = monitorWorld(async () => [], { legs });

    // Act
    const [tick] = await monitorMicroLive(world.deps, { closeOfDay: false });

    // Assess: 50 − 50 + 50.5 less each day's charge: 12-03 CAT 0.01; 12-04 SEC, TAF, CAT 0.01
    // each. One day's totals (CAT 0.000092 -> 0.01) would read 50.47; the fees alone 50.4985.
    expect(saleFees + cat).toBeLessThan(0.0016);
    expect(tick?.action).toBe('hold');
    expect(tick?.equityUsd).toBeCloseTo(50.5 - 0.01 - 0.03, 9);
  });

  it("a rollback record's fees_usd is what the account was charged, the day's regulatory rounding included: it reconciles equity_usd", async () => {
    // Arrange: the entry (0.5 SPY at $100 on 2026-12-03, CAT $0.000046) costs the account
    // $0.01 that day (its CAT total rounded up); on 2026-12-04 the broker prices SPY at $80
    const cat = { secUsd: 0, tafUsd: 0, catUsd: 0.000046 };
    const world = monitorWorld(async () => held(80), {
      legs: [leg('entry', 'buy', 100, '2026-12-03T15:00:00Z', cat)],
    });

    // Act
    const [tick] = await monitorMicroLive(world.deps, { closeOfDay: false });

    // Assess: 50 − 0.5 × 100 − 0.01 + 0.5 × 80 = 39.99
    expect(tick?.action).toBe('rollback');
    const [record] = world.audit.filter((r) => r.kind === 'rollback').map((r) => r.payload);
    expect(record?.fees_usd).toBeCloseTo(0.01, 12);
    expect(record?.regulatory_rounding_usd).toBeCloseTo(0.01 - 0.000046, 12);
    expect(record?.equity_usd).toBeCloseTo(39.99, 9);
    const r = record as {
      capital_slice_usd: number;
      position_qty: number;
      fees_usd: number;
      mark_usd: number;
      equity_usd: number;
    };
    const fromFills = r.capital_slice_usd - r.position_qty * 100 - r.fees_usd;
    expect(fromFills + r.position_qty * r.mark_usd).toBeCloseTo(r.equity_usd, 9);
  });

  it.each<[string, () => Promise<readonly BrokerPosition[]>, string]>([
    [
      'the broker cannot be read',
      async () => {
        throw new Error('HTTP 500 on /v2/positions');
      },
      'HTTP 500',
    ],
    ['the broker holds no position', async () => [], 'cannot be valued'],
    ['the broker holds the other side', async () => held(100, -0.5), 'cannot be valued'],
    ['the broker reports no current price', async () => held(undefined), 'no current price'],
  ])('fails closed when %s: rollback broker_unreadable, recorded', async (_name, read, text) => {
    // Arrange
    const world = monitorWorld(read);

    // Act
    const [tick] = await monitorMicroLive(world.deps, { closeOfDay: false });

    // Assess
    expect(tick?.action).toBe('rollback');
    expect(tick?.verdict?.trigger).toBe('broker_unreadable');
    expect(tick?.equityUsd).toBeNull();
    const records = world.audit.filter((r) => r.kind === 'rollback');
    expect(records).toHaveLength(1);
    expect(records[0]?.payload.trigger).toBe('broker_unreadable');
    expect(String(records[0]?.payload.reason)).toContain(text);
    expect(world.statuses.at(-1)?.status).toBe('halted');
    expect(tick?.leverage?.rule).toBe('reset_after_rollback');
  });

  it('a redelivered tick (its first attempt recorded the rollback, then failed) records the rollback and the leverage reset once', async () => {
    // Arrange: the first attempt's slice save is refused after its records (the tick fails and
    // the Scheduler redelivers it); the leverage decision is made once (its store is keyed)
    const world = monitorWorld(async () => held(80));
    const sink = new MemoryAuditSink(new ManualClock(NOW_MS));
    const decisions = new Map<string, unknown>();
    let saves = 0;
    const deps = world.deps as unknown as {
      promotion: { audit: unknown };
      microLive: Record<string, unknown>;
    };
    deps.promotion.audit = sink;
    deps.microLive.updateSlice = async () => {
      saves += 1;
      return saves > 1;
    };
    deps.microLive.recordLeverageDecision = async (record: { key: string }) => {
      const made = decisions.get(record.key);
      if (made) return { created: false, record: made };
      decisions.set(record.key, record);
      return { created: true, record };
    };

    // Act
    await expect(monitorMicroLive(world.deps, { closeOfDay: false })).rejects.toThrow(/retry/);
    const [tick] = await monitorMicroLive(world.deps, { closeOfDay: false });

    // Assess
    expect(tick?.action).toBe('rollback');
    const kinds = sink.records().map((r) => r.kind);
    expect(kinds.filter((k) => k === 'rollback')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'config_changed')).toHaveLength(1);
  });

  it('a calm broker never reaches the variance ratio at this cadence: drawdown rule only', async () => {
    // Arrange: a tiny loss, well within the drawdown limit.
    const world = monitorWorld(async () => held(99.9));

    // Act
    const [tick] = await monitorMicroLive(world.deps, { closeOfDay: false });

    // Assess
    expect(tick?.action).toBe('hold');
    expect(tick?.verdict?.observed.varianceRatio).toBeNull();
  });
});

describe('monitorMicroLive watches each slice on its own market', () => {
  /** 2026-12-05 02:00 UTC: Saturday in UTC, still Friday 21:00 in New York. */
  const SATURDAY_UTC = Date.parse('2026-12-05T02:00:00Z');

  it('a crypto slice is left alone by the equity ticks and closes its UTC day on the crypto closing tick', async () => {
    // Arrange: a BTCUSD slice whose stored sessions are UTC days.
    const world = monitorWorld(async () => held(100, 0.5, 'BTCUSD'), {
      symbol: 'BTCUSD',
      market: 'crypto',
      nowMs: SATURDAY_UTC,
    });

    // Act
    const equityTick = await monitorMicroLive(world.deps, { closeOfDay: true });
    const cryptoTick = await monitorMicroLive(world.deps, { closeOfDay: true, market: 'crypto' });

    // Assess: the equity closing tick neither values it nor closes its day; the crypto one
    // records the close of the UTC date (2026-12-05), not the New York date (2026-12-04).
    expect(equityTick).toEqual([]);
    expect(cryptoTick.map((t) => t.action)).toEqual(['hold']);
    expect(world.saved.at(-1)?.dailyCloses).toEqual([{ date: '2026-12-05', equityUsd: 50 }]);
    expect(cryptoTick[0]?.leverage?.rule).toBe('hold');
  });

  it('an equity slice is left alone by the crypto ticks', async () => {
    // Arrange
    const world = monitorWorld(async () => held(80));

    // Act
    const cryptoTick = await monitorMicroLive(world.deps, { closeOfDay: false, market: 'crypto' });
    const equityTick = await monitorMicroLive(world.deps, { closeOfDay: false });

    // Assess: only its own market's tick sees the 20 % drawdown.
    expect(cryptoTick).toEqual([]);
    expect(equityTick.map((t) => t.action)).toEqual(['rollback']);
  });
});

describe('monitorMicroLive rolls a flattening slice back only once its flatten is booked', () => {
  it('a filled flatten whose booking lost its 5 rounds keeps the slice flattening; the next tick books it once, then rolled_back', async () => {
    // Arrange: long 0.5 SPY (entry filled and booked); the flatten (sell 0.5) sits accepted in
    // the store, the broker reports it filled at $101; 5 rival writers move the position book
    // between each read and write of the first tick's booking (`book_moved` 5 times).
    const world = monitorWorld(async () => []);
    const spec = { symbol: 'SPY', qty: 0.5, type: 'market', limitPriceUsd: null } as const;
    const entry = Order.create(
      { ...spec, clientOrderId: 'sgp_promo-1_entry_1', side: 'buy', timeInForce: 'day' },
      NOW_MS - 3_600_000,
    );
    entry.apply({ type: 'fill', qty: 0.5, priceUsd: 100, atMs: NOW_MS - 3_500_000 });
    const flatten = Order.create(
      { ...spec, clientOrderId: 'sgp_promo-1_flatten_1', side: 'sell', timeInForce: 'day' },
      NOW_MS - 60_000,
    );
    const stored = new Map<string, PromotionOrder>([
      [
        'sgp_promo-1_entry_1',
        {
          promotionId: 'promo-1',
          leg: 'entry',
          attempt: 1,
          bookedQty: 0.5,
          order: entry.snapshot(),
        },
      ],
      [
        'sgp_promo-1_flatten_1',
        {
          promotionId: 'promo-1',
          leg: 'flatten',
          attempt: 1,
          bookedQty: 0,
          order: flatten.snapshot(),
        },
      ],
    ]);
    const bought = { symbol: 'SPY', side: 'buy', qty: 0.5, priceUsd: 100, feeUsd: 0, atMs: 0 };
    let book = { book: applyBookFill(emptyAccountBook(), bought as never), version: 1 };
    let rivals = 5;
    const promotions = {
      get: async () => ({ promotionId: 'promo-1', broker: 'alpaca-live:acct' }),
      listOrders: async () => [...stored.values()],
      getBook: async () => book,
      setStatus: async () => {},
      transitionOrder: async (o: PromotionOrder, _expected: PromotionOrder, write?: BookWrite) => {
        if (write && rivals > 0) {
          rivals -= 1;
          return { outcome: 'book_moved' };
        }
        if (write) book = { book: write.book, version: book.version + 1 };
        stored.set(o.order.clientOrderId, o);
        return { outcome: 'saved' };
      },
    };
    const filled = {
      clientOrderId: 'sgp_promo-1_flatten_1',
      symbol: 'SPY',
      side: 'sell',
      qty: 0.5,
      filledQty: 0.5,
      filledAvgPriceUsd: 101,
      status: 'filled',
      feesUsd: 0,
    };
    const broker = {
      name: 'fake',
      getOrderByClientOrderId: async (id: string) =>
        id === filled.clientOrderId
          ? filled
          : { clientOrderId: id, status: 'filled', filledQty: 0.5, filledAvgPriceUsd: 100 },
    };
    const deps = world.deps as unknown as {
      promotion: Record<string, unknown>;
      microLive: Record<string, unknown>;
    };
    let slice = {
      ...((await world.deps.microLive.listWatchedSlices()) as MicroLiveSlice[])[0],
      status: 'flattening',
      statusReason: 'drawdown',
      flattenClientOrderId: 'sgp_promo-1_flatten_1',
    } as MicroLiveSlice;
    deps.microLive.listWatchedSlices = async () => [slice];
    deps.microLive.updateSlice = async (next: MicroLiveSlice) => {
      slice = next;
      return true;
    };
    deps.promotion.promotions = promotions;
    deps.promotion.brokerAt = () => broker;
    deps.promotion.audit = new MemoryAuditSink(new ManualClock(NOW_MS));

    // Act
    const [first] = await monitorMicroLive(world.deps, { closeOfDay: false });
    const afterFirst = {
      status: slice.status,
      booked: stored.get(filled.clientOrderId)?.bookedQty,
    };
    const [second] = await monitorMicroLive(world.deps, { closeOfDay: false });

    // Assess: not rolled back while the fill is out of the book; booked once by the next tick
    expect(first?.action).toBe('awaiting_flatten');
    expect(afterFirst).toEqual({ status: 'flattening', booked: 0 });
    expect(second?.action).toBe('flattened');
    expect(slice.status).toBe('rolled_back');
    expect(stored.get(filled.clientOrderId)?.bookedQty).toBe(0.5);
    expect(book.book.positions.SPY?.qty ?? 0).toBeCloseTo(0, 12);
    expect(book.book.realizedPnlUsd).toBeCloseTo(0.5, 9);
  });
});
