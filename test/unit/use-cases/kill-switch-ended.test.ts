/**
 * An engage's `canceled` lists only the orders whose cancel the broker accepted
 * (functions/core/use-cases/kill-switch.ts `cancelsOf`): an open order the broker answers
 * `filled` (it filled before the cancel reached it) or `expired` is reported in `ended` with
 * its status, in the result and in the halt record (`ended_orders`), never as canceled; a
 * filled one still counts, once, in the running session's flatten.
 */
import { describe, expect, it } from 'vitest';
import type { OrderStatus } from '../../../functions/core/orders/order.js';
import { setKillSwitch } from '../../../functions/core/use-cases/kill-switch.js';
import type { BrokerOrder } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { SessionBookSnapshot } from '../../../functions/ports/session-books.js';
import { cancelBroker, restingOrder } from '../../support/doubles/cancel-broker.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';
import { MemorySessionBooks } from '../../support/doubles/memory-session-books.js';

const NOW = Date.parse('2013-10-09T15:00:00Z');
const ACCOUNT = 'alpaca-paper:acct';

/**
 * Four resting orders; the broker answers each DELETE with the order as it now is (as the
 * Alpaca and simulated adapters do): p9's entry 2 filled its 5 shares before the cancel,
 * p9's entry 3 was canceled after 2 of 4 filled, p3's entry expired, p4's cancel is pending.
 */
function broker() {
  const answers = new Map<string, Partial<BrokerOrder> & { status: OrderStatus }>([
    ['sgp_p9_entry_2', { status: 'filled', filledQty: 5, filledAvgPriceUsd: 180 }],
    ['sgp_p9_entry_3', { status: 'canceled', filledQty: 2, filledAvgPriceUsd: 180 }],
    ['sgp_p3_entry_1', { status: 'expired' }],
    ['sgp_p4_entry_1', { status: 'pending_cancel' }],
  ]);
  const open = [
    restingOrder('sgp_p9_entry_2', NOW, { qty: 5 }),
    restingOrder('sgp_p9_entry_3', NOW, { qty: 4 }),
    restingOrder('sgp_p3_entry_1', NOW),
    restingOrder('sgp_p4_entry_1', NOW),
  ];
  return cancelBroker(NOW, open, (order) => ({ ...order, ...answers.get(order.clientOrderId) }));
}

/** p9's last book: long 10 IBM, its entries 2 (5 shares) and 3 (4 shares) open, none filled. */
async function registry(): Promise<MemorySessionBooks> {
  const books = new MemorySessionBooks();
  await books.save(ACCOUNT, {
    promotionId: 'p9',
    date: '2013-10-09',
    symbol: 'IBM',
    market: 'equity-usa',
    qty: 10,
    avgPriceUsd: 180,
    openOrders: 2,
    openOrderNotionalUsd: 1620,
    open: [
      { clientOrderId: 'sgp_p9_entry_2', side: 'buy', qty: 5, filledQty: 0 },
      { clientOrderId: 'sgp_p9_entry_3', side: 'buy', qty: 4, filledQty: 0 },
    ],
    ticks: 30,
    done: false,
    updatedAtIso: new Date(NOW - 60_000).toISOString(),
  } satisfies SessionBookSnapshot);
  return books;
}

describe('engaging the kill switch when an open order ended before its cancel', () => {
  it('reports the filled and expired orders as ended, not canceled, and sizes the flatten with the fill once', async () => {
    // Prepare
    const b = broker();
    const clock = new ManualClock(NOW);
    const audit = new MemoryAuditSink(clock);
    const deps = {
      killSwitch: new MemoryKillSwitch(),
      audit,
      clock,
      environment: 'local' as const,
      broker: b.port,
      flatten: { account: ACCOUNT, sessionBooks: await registry() },
    };

    // Act
    const out = await setKillSwitch(deps, { engaged: true, reason: 'drill', by: 'cli:olivia' });

    // Assess: canceled = accepted cancels only; the others as what they are
    expect(out.canceled).toEqual(['sgp_p9_entry_3', 'sgp_p4_entry_1']);
    expect(out.ended).toEqual([
      { clientOrderId: 'sgp_p9_entry_2', status: 'filled' },
      { clientOrderId: 'sgp_p3_entry_1', status: 'expired' },
    ]);
    // 10 in the book + 5 filled before the cancel + 2 filled before the other's cancel
    expect(b.sent.map((r) => [r.clientOrderId, r.side, r.qty])).toEqual([
      ['sgp_p9_kill-flatten_1', 'sell', 17],
    ]);
    const halt = audit.records().find((r) => r.kind === 'rollback');
    expect(JSON.parse(halt?.payload ?? '{}')).toMatchObject({
      canceled_orders: ['sgp_p9_entry_3', 'sgp_p4_entry_1'],
      ended_orders: [
        { client_order_id: 'sgp_p9_entry_2', status: 'filled' },
        { client_order_id: 'sgp_p3_entry_1', status: 'expired' },
      ],
      flattened: [{ promotion_id: 'p9', qty: 17, side: 'sell' }],
    });
    const filled = audit.records().find((r) => r.subject?.order_id === 'sgp_p9_entry_2');
    expect(JSON.parse(filled?.payload ?? '{}')).toMatchObject({
      status: 'filled',
      previous_status: 'new',
      filled_qty: 5,
    });
  });

  it('a release reports nothing canceled and nothing ended', async () => {
    const clock = new ManualClock(NOW);
    const deps = {
      killSwitch: new MemoryKillSwitch(),
      audit: new MemoryAuditSink(clock),
      clock,
      environment: 'local' as const,
      broker: broker().port,
    };
    const out = await setKillSwitch(deps, { engaged: false, reason: 'drill over', by: 'cli:o' });
    expect(out).toMatchObject({ canceled: [], ended: [] });
  });
});
