/**
 * FINRA's day-trade count as Alpaca applies it (`core/exchange/day-trades.ts`): the FINRA and
 * Alpaca examples, the rolling window of five business days (holidays skipped), crypto never
 * counting, and the protection refusing the order that could make the fourth day trade.
 */
import { describe, expect, it } from 'vitest';
import {
  type DayTradeLedger,
  dayTradeCount,
  EMPTY_DAY_TRADE_LEDGER,
  FINRA_PDT_RULE,
  pdtRefusal,
  pdtWindow,
  recordDayTradeFill,
} from '../../../functions/core/exchange/day-trades.js';

/** Feeds signed fills (buy > 0) of one symbol on `date`, starting from `start` shares. */
function trade(
  fills: readonly number[],
  opts: {
    date?: string;
    start?: number;
    ledger?: DayTradeLedger;
    market?: 'equity-usa' | 'crypto';
  } = {},
): DayTradeLedger {
  let ledger = opts.ledger ?? EMPTY_DAY_TRADE_LEDGER;
  let position = opts.start ?? 0;
  for (const q of fills) {
    ledger = recordDayTradeFill(ledger, {
      symbol: 'ABC',
      date: opts.date ?? '2013-10-08',
      market: opts.market ?? 'equity-usa',
      positionBefore: position,
      signedQty: q,
    });
    position += q;
  }
  return ledger;
}

describe('recordDayTradeFill', () => {
  it.each<[string, number[], number, number]>([
    ['FINRA A: buy 250, buy 250, sell 500', [250, 250, -500], 0, 1],
    ['FINRA B: buy, sell, buy, sell', [100, -100, 100, -100], 0, 2],
    ['buy 10, sell 5, sell 5', [10, -5, -5], 0, 1],
    ['short 10, cover 5', [-10, 5], 0, 1],
    ['held 100 long: buy 10, sell 5', [10, -5], 100, 1],
    ['held 100 long: sell 10, buy 5', [-10, 5], 100, 0],
    ['held 100 short: buy 10, sell 5', [10, -5], -100, 0],
    ['buy 10, sell 5, buy 5, sell 10', [10, -5, 5, -10], 0, 2],
    ['held overnight, sold today', [-100], 100, 0],
    ['long 10 sold through flat to short 5, covered', [10, -15, 5], 0, 2],
  ])('%s: %d day trade(s)', (_name, fills, start, expected) => {
    // Act
    const ledger = trade(fills, { start });

    // Assess
    expect(dayTradeCount(ledger, '2013-10-08')).toBe(expected);
  });

  it('a position opened yesterday and closed today is not a day trade', () => {
    // Prepare
    const monday = trade([10], { date: '2013-10-07' });

    // Act
    const tuesday = trade([-10], { date: '2013-10-08', start: 10, ledger: monday });

    // Assess
    expect(dayTradeCount(tuesday, '2013-10-08')).toBe(0);
  });

  it('crypto round trips never count', () => {
    // Act / Assess
    expect(dayTradeCount(trade([1, -1, 1, -1], { market: 'crypto' }), '2013-10-08')).toBe(0);
  });
});

describe('the rolling window of five business days', () => {
  it('skips weekends and exchange holidays', () => {
    // Assess: Monday 2013-10-14 (Columbus Day trades); Friday 2013-11-29 after Thanksgiving
    expect(pdtWindow('2013-10-14')).toEqual([
      '2013-10-14',
      '2013-10-11',
      '2013-10-10',
      '2013-10-09',
      '2013-10-08',
    ]);
    expect(pdtWindow('2013-12-02')).toEqual([
      '2013-12-02',
      '2013-11-29',
      '2013-11-27',
      '2013-11-26',
      '2013-11-25',
    ]);
  });

  it('a day trade leaves the count after five business days', () => {
    // Prepare: a day trade on Friday 2013-10-04
    const ledger = trade([1, -1], { date: '2013-10-04' });

    // Assess
    expect(dayTradeCount(ledger, '2013-10-10')).toBe(1);
    expect(dayTradeCount(ledger, '2013-10-11')).toBe(0);
  });
});

describe('pdtRefusal', () => {
  const three = trade([1, -1, 1, -1, 1, -1]);
  const base = {
    rule: FINRA_PDT_RULE,
    market: 'equity-usa' as const,
    date: '2013-10-08',
    equityUsd: 20_000,
    symbol: 'ABC',
    workingSides: [] as ('buy' | 'sell')[],
  };

  it('refuses the order that would close a position opened today as the fourth day trade', () => {
    // Prepare: three day trades, then a buy today
    const ledger = trade([1], { ledger: three });

    // Act
    const reason = pdtRefusal({ ...base, ledger, side: 'sell', position: 1 });

    // Assess
    expect(reason).toMatch(
      /^pattern day trader protection: .* 3 day trades in the last 5 business days .* 20000\.00 USD < 25000 USD/,
    );
  });

  it.each<[string, Partial<Parameters<typeof pdtRefusal>[0]>]>([
    ['an opening order with nothing working', { ledger: three, side: 'buy', position: 0 }],
    [
      'equity at $25,000',
      { ledger: trade([1], { ledger: three }), side: 'sell', position: 1, equityUsd: 25_000 },
    ],
    ['two day trades so far', { ledger: trade([1, -1, 1, -1, 1]), side: 'sell', position: 1 }],
    ['closing a position held overnight', { ledger: three, side: 'sell', position: 5 }],
    [
      'crypto',
      { ledger: trade([1], { ledger: three }), side: 'sell', position: 1, market: 'crypto' },
    ],
  ])('lets through %s', (_name, over) => {
    // Act / Assess
    expect(pdtRefusal({ ...base, ledger: three, side: 'buy', position: 0, ...over })).toBeNull();
  });

  it('counts a working order on the other side as a potential day trade', () => {
    // Act / Assess
    expect(
      pdtRefusal({ ...base, ledger: three, side: 'buy', position: 0, workingSides: ['sell'] }),
    ).toMatch(/pattern day trader protection/);
  });
});
