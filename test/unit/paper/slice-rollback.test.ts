/**
 * The micro-live slice valued at the broker (`valueSliceAtBroker`) and one tick of its
 * rollback monitor (`checkSliceRollback`): the broker's current price decides, and anything
 * that keeps the broker from carrying the slice's position fails closed.
 */
import { describe, expect, it } from 'vitest';
import type { RegulatoryFees } from '../../../functions/core/cohort/fill-model.js';
import {
  type PaperSessionState,
  sessionCashUsd,
} from '../../../functions/core/paper/paper-session.js';
import {
  checkSliceRollback,
  valueSliceAtBroker,
} from '../../../functions/core/paper/slice-rollback.js';
import { DEFAULT_ROLLBACK_CONFIG } from '../../../functions/core/rollback/monitor.js';
import type { BrokerPosition } from '../../../functions/ports/broker.js';

const spy = (qty: number, marketPriceUsd?: number): BrokerPosition => ({
  symbol: 'SPY',
  qty,
  avgEntryPriceUsd: 100,
  ...(marketPriceUsd === undefined ? {} : { marketPriceUsd }),
});

describe('valueSliceAtBroker', () => {
  it.each<[string, number, readonly BrokerPosition[], number]>([
    ['long at the broker price', 2, [spy(2, 90)], 10 + 2 * 90],
    ['short at the broker price', -2, [spy(-2, 110)], 10 - 2 * 110],
    ['flat: the cash alone, whatever the broker holds for others', 0, [], 10],
    ['another session holds more of the symbol: still valued', 1, [spy(3, 95)], 10 + 95],
  ])('%s', (_name, qty, positions, equity) => {
    // Act
    const v = valueSliceAtBroker({ cashUsd: 10, qty }, 'SPY', positions);

    // Assess
    expect(v.kind).toBe('valued');
    expect(v.kind === 'valued' && v.equityUsd).toBeCloseTo(equity, 9);
  });

  it.each<[string, number, readonly BrokerPosition[] | Error, RegExp]>([
    ['the read failed', 1, new Error('HTTP 500'), /^broker unreadable: HTTP 500/],
    ['no position at the broker', 1, [], /broker holds 0 SPY/],
    ['the other side at the broker', 1, [spy(-1, 100)], /broker holds -1 SPY/],
    ['less than the book at the broker', 2, [spy(1, 100)], /broker holds 1 SPY/],
    ['no current price', 1, [spy(1)], /no current price of SPY/],
    ['a zero price', 1, [spy(1, 0)], /no current price of SPY/],
  ])('unreadable: %s', (_name, qty, positions, reason) => {
    // Act
    const v = valueSliceAtBroker({ cashUsd: 10, qty }, 'SPY', positions);

    // Assess
    expect(v).toMatchObject({ kind: 'unreadable', reason: expect.stringMatching(reason) });
  });
});

describe('checkSliceRollback', () => {
  const rollback = { ...DEFAULT_ROLLBACK_CONFIG, backtestReturnVariance: 1 };

  it('adds the point to the curve (starting at the capital) and holds within limits', () => {
    // Act
    const out = checkSliceRollback({
      rollback,
      capitalUsd: 100,
      curveUsd: [],
      valuation: { kind: 'valued', equityUsd: 99, markUsd: 50 },
    });

    // Assess
    expect(out.equityCurveUsd).toEqual([100, 99]);
    expect(out.verdict.action).toBe('hold');
  });

  it('rolls back on a drawdown from the running peak beyond the limit', () => {
    // Act: peak 104, now 98.5: 5.3 % > 5 %
    const out = checkSliceRollback({
      rollback,
      capitalUsd: 100,
      curveUsd: [100, 104],
      valuation: { kind: 'valued', equityUsd: 98.5, markUsd: 50 },
    });

    // Assess
    expect(out.verdict).toMatchObject({ action: 'rollback', trigger: 'drawdown' });
    expect(out.verdict.observed.drawdownFraction).toBeCloseTo(5.5 / 104, 12);
  });

  it('fails closed when the broker cannot value the slice: curve unchanged, rollback', () => {
    // Act
    const out = checkSliceRollback({
      rollback,
      capitalUsd: 100,
      curveUsd: [100, 101],
      valuation: { kind: 'unreadable', reason: 'broker unreadable: timeout' },
    });

    // Assess
    expect(out.equityCurveUsd).toEqual([100, 101]);
    expect(out.verdict).toMatchObject({
      action: 'rollback',
      trigger: 'broker_unreadable',
      reason: 'fail closed: broker unreadable: timeout',
    });
  });

  it('fails closed without a variance yardstick', () => {
    // Act
    const out = checkSliceRollback({
      rollback: { ...rollback, backtestReturnVariance: null },
      capitalUsd: 100,
      curveUsd: [],
      valuation: { kind: 'valued', equityUsd: 100, markUsd: null },
    });

    // Assess
    expect(out.verdict).toMatchObject({ action: 'rollback', trigger: 'missing_data' });
  });
});

describe("the slice's cash counts the day's regulatory-fee rounding (sessionCashUsd)", () => {
  /** A filled order of the session as the broker reported it, fees by type. */
  const filled = (side: 'buy' | 'sell', priceUsd: number, fees: RegulatoryFees) =>
    ({
      symbol: 'SPY',
      side,
      filledQty: 0.1,
      avgPriceUsd: priceUsd,
      feesUsd: fees.secUsd + fees.tafUsd + fees.catUsd,
      regulatoryFeesUsd: fees,
    }) as PaperSessionState['orders'][number];

  it('a USD 50 slice: a 0.1-share round trip and a 0.1-share entry held cost USD 0.03 that day, so the broker values it at 49.97, not 49.9985', () => {
    // Prepare: buy 0.1 at 500.50, sell 0.1 at 499.50, buy 0.1 at 500.00 (Alpaca's rates:
    // CAT 0.000046 per order on ⌈0.1⌉ = 1 share; the sale: SEC 49.95 × 0.0000278, TAF 0.1 × 0.000166)
    const cat = { secUsd: 0, tafUsd: 0, catUsd: 0.000046 };
    const sale = { secUsd: 49.95 * 0.0000278, tafUsd: 0.1 * 0.000166, catUsd: 0.000046 };
    const state = {
      capitalUsd: 50,
      date: '2024-01-02',
      orders: [filled('buy', 500.5, cat), filled('sell', 499.5, sale), filled('buy', 500, cat)],
    };

    // Act
    const cashUsd = sessionCashUsd(state);
    const v = valueSliceAtBroker({ cashUsd, qty: 0.1 }, 'SPY', [spy(0.1, 501)]);

    // Assess: 50 − 50.05 + 49.95 − 50 less the day's charge: SEC, TAF and CAT 0.01 each
    expect(cashUsd).toBeCloseTo(50 - 50.05 + 49.95 - 50 - 0.03, 9);
    expect(v.kind === 'valued' && v.equityUsd).toBeCloseTo(49.97, 9);
    // Without fees by type (Alpaca paper's orders) nothing more is counted than the fees
    const plain = state.orders.map(({ regulatoryFeesUsd: _, ...o }) => o);
    const accrued = 3 * 0.000046 + sale.secUsd + sale.tafUsd;
    expect(sessionCashUsd({ ...state, orders: plain })).toBeCloseTo(
      50 - 50.05 + 49.95 - 50 - accrued,
      12,
    );
  });
});
