/**
 * The simulated broker's pattern-day-trader protection over several real sessions (LEAN SPY
 * minute data of 2013-10-04..11) with an injected clock: under $25,000 it makes up to three
 * day trades in five business days, refuses the order that would make the fourth with the
 * reason, reports the count as Alpaca's `daytrade_count`, lets a position held overnight be
 * closed, and counts a day trade out of the window after five business days. At $30,000
 * nothing is refused.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { newYorkTimeMs } from '../../../functions/core/calendar/market-calendar.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { BrokerRejectedError } from '../../../functions/core/errors.js';
import { FINRA_PDT_RULE } from '../../../functions/core/exchange/day-trades.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import { DATA_ROOT } from '../../support/paths.js';

const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));

function broker(startingCashUsd: number) {
  const clock = new ManualClock(newYorkTimeMs('2013-10-04', '10:00'));
  const b = new SimulatedPaperBroker({
    store: new InMemorySimulatedBrokerStore(),
    marketData,
    clock,
    config: {
      startingCashUsd,
      participationFraction: 1,
      latencyMs: 1_000,
      costs: parseCohortConfig({ bankrollUsd: 1_000 }),
      fractionalShares: true,
      patternDayTrader: FINRA_PDT_RULE,
    },
  });
  let n = 0;
  /** Sends a market day order of 1 SPY at `date` `hhmm` New York, then reads it two minutes on. */
  const order = async (date: string, hhmm: string, side: 'buy' | 'sell') => {
    clock.set(newYorkTimeMs(date, hhmm));
    const clientOrderId = `pdt-${++n}`;
    try {
      await b.submitOrder({
        clientOrderId,
        symbol: 'SPY',
        side,
        qty: 1,
        type: 'market',
        timeInForce: 'day',
      });
    } catch (err) {
      if (!(err instanceof BrokerRejectedError)) throw err;
      return { status: 'rejected', reason: err.message };
    }
    clock.advance(2 * 60_000);
    const o = await b.getOrderByClientOrderId(clientOrderId);
    return { status: o?.status ?? 'unknown', reason: '' };
  };
  const count = async () => (await b.getAccount()).dayTradeCount;
  return { broker: b, clock, order, count };
}

describe('the simulated broker under $25,000 (FINRA 4210, as Alpaca)', () => {
  it('allows three day trades in five business days, refuses the fourth, and rolls the window', async () => {
    // Prepare: a $20,000 account
    const h = broker(20_000);

    // Act / Assess: Friday 10-04, one day trade
    expect((await h.order('2013-10-04', '10:00', 'buy')).status).toBe('filled');
    expect((await h.order('2013-10-04', '10:10', 'sell')).status).toBe('filled');
    expect(await h.count()).toBe(1);

    // Monday 10-07: two more (3 in the window)
    for (const [b, s] of [
      ['10:00', '10:10'],
      ['11:00', '11:10'],
    ] as const) {
      expect((await h.order('2013-10-07', b, 'buy')).status).toBe('filled');
      expect((await h.order('2013-10-07', s, 'sell')).status).toBe('filled');
    }
    expect(await h.count()).toBe(3);

    // The opening buy goes; the sell that would be the fourth day trade is refused, with why
    expect((await h.order('2013-10-07', '12:00', 'buy')).status).toBe('filled');
    const fourth = await h.order('2013-10-07', '12:10', 'sell');
    expect(fourth.status).toBe('rejected');
    expect(fourth.reason).toMatch(
      /pattern day trader protection: .*3 day trades in the last 5 business days/,
    );
    expect(await h.count()).toBe(3);
    expect((await h.broker.listPositions()).map((p) => p.qty)).toEqual([1]);

    // Tuesday 10-08: the position held overnight is closed (not a day trade)
    expect((await h.order('2013-10-08', '10:00', 'sell')).status).toBe('filled');
    expect(await h.count()).toBe(3);
    expect(await h.broker.listPositions()).toEqual([]);

    // Thursday 10-10: still 3 in the window (10-04 is in it): a round trip's close is refused
    expect((await h.order('2013-10-10', '10:00', 'buy')).status).toBe('filled');
    expect((await h.order('2013-10-10', '10:10', 'sell')).status).toBe('rejected');
    expect((await h.order('2013-10-11', '09:45', 'sell')).status).toBe('filled');

    // Friday 10-11: 10-04 left the window (2 day trades): one more round trip is allowed
    expect(await h.count()).toBe(2);
    expect((await h.order('2013-10-11', '10:00', 'buy')).status).toBe('filled');
    expect((await h.order('2013-10-11', '10:10', 'sell')).status).toBe('filled');
    expect(await h.count()).toBe(3);
  });

  it('at $30,000 nothing is refused and every day trade is counted', async () => {
    // Prepare
    const h = broker(30_000);

    // Act
    const statuses: string[] = [];
    for (const [b, s] of [
      ['10:00', '10:10'],
      ['11:00', '11:10'],
      ['12:00', '12:10'],
      ['13:00', '13:10'],
    ] as const) {
      statuses.push((await h.order('2013-10-07', b, 'buy')).status);
      statuses.push((await h.order('2013-10-07', s, 'sell')).status);
    }

    // Assess
    expect(statuses.every((s) => s === 'filled')).toBe(true);
    expect(await h.count()).toBe(4);
  });
});
