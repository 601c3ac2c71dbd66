/**
 * The promotion pipeline's paper session orders as the CLI prints them (the session itself is
 * read through `PROMOTION_VIEW`, `local/execution-views.ts`). One reading for the replay
 * (`local/replay.ts`) and the Day-3 micro-live (`local/day3.ts`).
 */
import type { SessionSummary } from '../functions/core/use-cases/paper-session.js';
import type { OrdersOutput } from '../functions/core/use-cases/promotion-orders.js';

/**
 * The session's orders as order rows (quantities in shares, prices in USD); `latencyMs` gives
 * each row's latency in milliseconds.
 */
export function orderRowsOf(
  session: SessionSummary,
  latencyMs: (order: SessionSummary['orders'][number]) => number,
): OrdersOutput['orders'] {
  return session.orders.map((o) => ({
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    status: o.status,
    filledQty: o.filledQty,
    filledAvgPriceUsd: o.avgPriceUsd,
    latencyMs: latencyMs(o),
  }));
}
