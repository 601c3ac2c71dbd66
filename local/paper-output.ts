/**
 * The promotion pipeline's paper session and its orders as the CLI prints them, read from a
 * local execution's state outputs. One reading for the replay (`local/replay.ts`) and the
 * Day-3 micro-live (`local/day3.ts`).
 */
import type { SessionSummary } from '../functions/core/use-cases/paper-session.js';
import type { OrdersOutput } from '../functions/core/use-cases/promotion.js';
import type { LocalExecutionResult } from './asl-runner.js';

/** The paper session summary of a promotion-pipeline execution, or undefined when none ran. */
export function paperSessionOf(
  run: Pick<LocalExecutionResult, 'stateOutputs'>,
): SessionSummary | undefined {
  return (run.stateOutputs.PaperSession as { session?: { output?: SessionSummary } } | undefined)
    ?.session?.output;
}

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
