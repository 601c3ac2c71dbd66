/**
 * The time in force of stagegate's market orders, per market (`alpacaTimeInForce`,
 * `marketOrderRequest`): `day` for equities, `gtc` for crypto (Alpaca takes only `gtc`/`ioc`
 * for crypto). The flatten senders outside the paper session use it too: the kill switch's
 * flatten of a running crypto session and the crash sweeper's flatten of an abandoned one go
 * out `gtc`, an equity session's `day` (a session book written before the market was
 * recorded reads as equity).
 */
import { describe, expect, it } from 'vitest';
import { alpacaTimeInForce } from '../../../functions/core/exchange/exchange-model.js';
import { marketOrderRequest } from '../../../functions/core/orders/order-intent.js';
import { setKillSwitch } from '../../../functions/core/use-cases/kill-switch.js';
import { recoverPaperSession } from '../../../functions/core/use-cases/paper-session-recovery.js';
import type {
  BrokerOrder,
  BrokerOrderRequest,
  BrokerPort,
} from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { SessionBookSnapshot } from '../../../functions/ports/session-books.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';
import { MemorySessionBooks } from '../../support/doubles/memory-session-books.js';

describe('time in force per market', () => {
  it('is day for equities and gtc for crypto', () => {
    expect(alpacaTimeInForce('equity-usa')).toBe('day');
    expect(alpacaTimeInForce('crypto')).toBe('gtc');
  });

  it('marketOrderRequest builds a market order with the market time in force', () => {
    const base = { clientOrderId: 'p_x_1', side: 'buy', qty: 0.25 } as const;
    expect(marketOrderRequest({ ...base, symbol: 'BTCUSD', market: 'crypto' })).toEqual({
      ...base,
      symbol: 'BTCUSD',
      type: 'market',
      timeInForce: 'gtc',
    });
    expect(marketOrderRequest({ ...base, symbol: 'SPY', market: 'equity-usa' })).toMatchObject({
      type: 'market',
      timeInForce: 'day',
    });
  });
});

/** A broker that records what it is sent and fills nothing (every order rests `new`). */
function recordingBroker() {
  const sent: BrokerOrderRequest[] = [];
  const orderOf = (r: BrokerOrderRequest): BrokerOrder => ({
    brokerOrderId: `b-${r.clientOrderId}`,
    clientOrderId: r.clientOrderId,
    symbol: r.symbol,
    side: r.side,
    type: r.type,
    qty: r.qty,
    filledQty: 0,
    filledAvgPriceUsd: null,
    status: 'new',
    submittedAtIso: '2018-04-05T12:00:00.000Z',
    updatedAtIso: '2018-04-05T12:00:00.000Z',
    feesUsd: 0,
  });
  const broker = {
    name: 'alpaca-paper',
    listOpenOrders: async () => [],
    getOrderByClientOrderId: async () => null,
    submitOrder: async (r: BrokerOrderRequest) => {
      sent.push(r);
      return { order: orderOf(r), duplicate: false };
    },
  } as unknown as BrokerPort;
  return { broker, sent };
}

function snapshot(
  over: Partial<SessionBookSnapshot> & Pick<SessionBookSnapshot, 'promotionId' | 'symbol'>,
): SessionBookSnapshot {
  return {
    date: '2018-04-05',
    qty: 0.5,
    avgPriceUsd: 100,
    openOrders: 0,
    openOrderNotionalUsd: 0,
    open: [],
    ticks: 3,
    done: false,
    updatedAtIso: '2018-04-05T12:00:00.000Z',
    ...over,
  };
}

describe('the flatten senders', () => {
  it('the kill switch flattens a crypto session gtc and an equity one (or one without a recorded market) day', async () => {
    // Prepare: three running sessions on the account on 2018-04-05 (a Thursday, 12:00 UTC)
    const clock = new ManualClock(Date.parse('2018-04-05T12:00:00Z'));
    const books = new MemorySessionBooks();
    await books.save(
      'alpaca-paper:test',
      snapshot({ promotionId: 'PC', symbol: 'BTCUSD', market: 'crypto' }),
    );
    await books.save(
      'alpaca-paper:test',
      snapshot({ promotionId: 'PE', symbol: 'SPY', market: 'equity-usa' }),
    );
    await books.save('alpaca-paper:test', snapshot({ promotionId: 'PL', symbol: 'IBM' }));
    const { broker, sent } = recordingBroker();

    // Act
    const out = await setKillSwitch(
      {
        killSwitch: new MemoryKillSwitch(),
        audit: new MemoryAuditSink(clock),
        clock,
        environment: 'local',
        broker,
        flatten: { sessionBooks: books, account: 'alpaca-paper:test' },
      },
      { engaged: true, reason: 'test', by: 'cli:test' },
    );

    // Assess
    expect(out.flattenErrors).toEqual([]);
    expect(Object.fromEntries(sent.map((r) => [r.symbol, r.timeInForce]))).toEqual({
      BTCUSD: 'gtc',
      SPY: 'day',
      IBM: 'day',
    });
  });

  it('the crash sweeper flattens an abandoned crypto session gtc', async () => {
    // Prepare: a crypto session left holding 0.5 BTC
    const clock = new ManualClock(Date.parse('2018-04-05T12:00:00Z'));
    const books = new MemorySessionBooks();
    await books.save(
      'alpaca-paper:test',
      snapshot({ promotionId: 'PC', symbol: 'BTCUSD', market: 'crypto' }),
    );
    const { broker, sent } = recordingBroker();

    // Act
    const out = await recoverPaperSession(
      { sessionBooks: books, audit: new MemoryAuditSink(clock), environment: 'local' },
      {
        promotionId: 'PC',
        broker: 'test',
        stagedAtIso: '2018-04-05T01:00:00.000Z',
        market: 'crypto',
      },
      broker,
      clock.now(),
    );

    // Assess
    expect(out?.flatten?.status).toBe('new');
    expect(sent).toEqual([
      expect.objectContaining({ symbol: 'BTCUSD', side: 'sell', qty: 0.5, timeInForce: 'gtc' }),
    ]);
  });
});
