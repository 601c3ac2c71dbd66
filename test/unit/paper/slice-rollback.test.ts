/**
 * The micro-live slice valued at the broker (`valueSliceAtBroker`) and one tick of its
 * rollback monitor (`checkSliceRollback`): the broker's current price decides, and anything
 * that keeps the broker from carrying the slice's position fails closed.
 */
import { describe, expect, it } from 'vitest';
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
