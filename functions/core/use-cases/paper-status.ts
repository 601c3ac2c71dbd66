/**
 * The paper sessions of today as `/stagegate status` shows them (issue 15): for each session
 * of the market's current date, its symbol, position, session PnL, open orders (by
 * client_order_id) and its parity / reconciliation state.
 *
 * Sources: the session's audit trail (`paper_decision`, `order_intent`,
 * `order_status_changed`, `paper_session_completed`, folded by `paperSessionsFrom`) and its
 * own book on the broker account (`SessionBookRegistry`: the signed position, its average
 * price and the orders not yet terminal, as of the last tick).
 *
 * Session PnL: once the session completed, the paper PnL it recorded (marked at the close);
 * while it runs, the fills' cash flow plus the position marked at the LAST FILL price (the
 * tick's own mark is not stored), labelled as such: an estimate, not the broker's equity.
 *
 * Units: money USD, quantities shares (signed: negative short), times UTC ISO-8601.
 */
import type { AuditReader } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { SessionBookRegistry } from '../../ports/session-books.js';
import type { AuditEnvironment } from '../audit/record.js';
import { type Market, marketDate } from '../calendar/market-calendar.js';
import { PROMOTION_STREAMS, readAuditRows } from './audit-rows.js';
import { type PaperSessionDetail, paperSessionsFrom } from './console-trading.js';

/** One of today's paper sessions as the status shows it. */
export interface PaperSessionStatus {
  readonly promotionId: string;
  readonly symbol: string | null;
  readonly sessionDate: string | null;
  readonly status: 'running' | 'completed' | 'halted';
  readonly halt: { readonly mode: string; readonly reason: string } | null;
  /** Signed shares held by the session (its own book, else its fills); 0 when flat. */
  readonly positionQty: number;
  /** Session PnL, USD; null before any fill. */
  readonly sessionPnlUsd: number | null;
  /** How `sessionPnlUsd` was measured. */
  readonly pnlBasis: 'recorded at the close' | 'fills, position at the last fill price' | 'none';
  /** Orders not yet in a terminal status. */
  readonly openOrders: readonly {
    readonly clientOrderId: string;
    readonly side: string;
    /** Shares ordered and filled so far. */
    readonly qty: number;
    readonly filledQty: number;
  }[];
  /** paper − reference simulation PnL, USD; null until the session completed. */
  readonly parityDifferenceUsd: number | null;
  /** Null until the session completed (and reconciled). */
  readonly reconciliationClean: boolean | null;
}

/** What it reads. */
export interface PaperStatusDeps {
  readonly auditReader: AuditReader;
  readonly environment: AuditEnvironment;
  readonly clock: Clock;
  readonly market: Market;
  /** The sessions' books; absent = position and open orders from the audit trail only. */
  readonly sessionBooks?: Pick<SessionBookRegistry, 'list'>;
  /** The broker account key of a promotion (`<broker>:<account>`), or null when unknown. */
  readonly accountOf: (promotionId: string) => string | null;
}

const TERMINAL = new Set(['filled', 'canceled', 'rejected', 'expired', 'done_for_day']);

function fromFills(d: PaperSessionDetail): { qty: number; pnl: number | null } {
  let qty = 0;
  let cash = 0;
  let last: number | null = null;
  for (const f of d.fills) {
    const sign = f.side === 'sell' ? -1 : 1;
    qty += sign * f.qty;
    cash -= sign * f.qty * f.priceUsd;
    last = f.priceUsd;
  }
  return { qty, pnl: last === null ? null : cash + qty * last };
}

/** Today's paper sessions (the market date of the clock's now), newest start first. */
export async function todaysPaperSessions(deps: PaperStatusDeps): Promise<PaperSessionStatus[]> {
  const nowMs = deps.clock.now();
  const today = marketDate(nowMs, deps.market);
  const utcToday = new Date(nowMs).toISOString().slice(0, 10);
  const utcYesterday = new Date(nowMs - 86_400_000).toISOString().slice(0, 10);
  const rows = await readAuditRows(
    deps.auditReader,
    deps.environment,
    [utcYesterday, utcToday],
    PROMOTION_STREAMS,
  );
  const sessions = paperSessionsFrom(rows).filter((s) => s.sessionDate === today);
  return Promise.all(
    sessions.map(async (d) => {
      const account = deps.accountOf(d.promotionId);
      const book =
        account && deps.sessionBooks
          ? (await deps.sessionBooks.list(account, today)).find(
              (b) => b.promotionId === d.promotionId,
            )
          : undefined;
      const fills = fromFills(d);
      const done = d.status !== 'running';
      return {
        promotionId: d.promotionId,
        symbol: d.symbol,
        sessionDate: d.sessionDate,
        status: d.status,
        halt: d.halt,
        positionQty: book ? book.qty : fills.qty,
        sessionPnlUsd: done ? d.paperPnlUsd : fills.pnl,
        pnlBasis: done
          ? 'recorded at the close'
          : fills.pnl === null
            ? 'none'
            : 'fills, position at the last fill price',
        openOrders: book
          ? book.open.map((o) => ({ ...o }))
          : d.orders
              .filter((o) => !TERMINAL.has(o.status))
              .map((o) => ({
                clientOrderId: o.clientOrderId,
                side: o.side,
                qty: o.qty,
                filledQty: o.filledQty,
              })),
        parityDifferenceUsd: d.differenceUsd,
        reconciliationClean: d.reconciliationClean,
      };
    }),
  );
}
