/**
 * Account-level controls of the paper sessions that share one broker account: the pre-trade
 * check of an opening order against the whole account (gross exposure of every session and
 * position, the pattern-day-trader count), and the reconciliation of the SUM of the sessions'
 * own books against the broker's positions (quantity and average price). Pure: the caller
 * reads the broker and the session registry (`ports/session-books.ts`).
 *
 * Sources: the pattern-day-trader rule is FINRA Rule 4210(f)(8)(B) (four or more day trades
 * within five business days in a margin account with less than $25,000 equity); Alpaca applies
 * it as "PDT protection" and reports `daytrade_count` on the account (see
 * `../shared/DESIGN.md`; fractional day trades count too). Units: shares (signed, short < 0),
 * USD, USD per share.
 */
import type { SessionBookSnapshot } from '../../ports/session-books.js';

/** Limits of the whole broker account, across every paper session on it. */
export interface AccountLimits {
  /**
   * Largest gross exposure of the account (every position at its market value, plus every
   * session's unfilled open orders, plus the new order) as a fraction of the account equity.
   */
  readonly maxGrossExposureFraction: number;
  /** Below this account equity (USD) the day-trade limit applies (FINRA: 25,000). */
  readonly pdtMinEquityUsd: number;
  /** Day trades allowed within five business days below that equity (FINRA: 3; the 4th makes a PDT). */
  readonly pdtMaxDayTrades: number;
}

/** FINRA/Alpaca defaults; gross exposure at most the equity (no margin). */
export const DEFAULT_ACCOUNT_LIMITS: AccountLimits = {
  maxGrossExposureFraction: 1,
  pdtMinEquityUsd: 25_000,
  pdtMaxDayTrades: 3,
};

/** The account as a tick sees it before an opening order. */
export interface AccountView {
  /** Account equity, USD (broker). */
  readonly equityUsd: number;
  /** Market value of every position at the account, long plus |short|, USD (broker). */
  readonly grossExposureUsd: number;
  /** Unfilled notional of every OTHER active session's open orders, USD (session registry). */
  readonly otherSessionsOpenNotionalUsd: number;
  /** Day trades in the last five business days as the broker counts them; null when unknown. */
  readonly dayTradeCount: number | null;
  /** Non-flat positions at the account (an intraday session closes each today: a day trade). */
  readonly openPositions: number;
}

/** The order being checked. */
export interface AccountOrderCheck {
  /** Notional of the order at the mark, USD. */
  readonly notionalUsd: number;
  /** Notional of the orders toward flat this session sent this tick (they reduce gross), USD. */
  readonly reducingNotionalUsd: number;
  /** True when the order opens a position from flat (a new round trip, hence a day trade). */
  readonly opensFromFlat: boolean;
  /**
   * Market of the symbol (absent: `equity-usa`). The pattern-day-trader rule (FINRA 4210)
   * covers securities in a margin account, not crypto: Alpaca applies no PDT check to crypto
   * orders (docs.alpaca.markets, "Crypto Trading").
   */
  readonly market?: 'equity-usa' | 'crypto';
}

/**
 * Why an opening order must not be sent given the account, or null when it may.
 * - exposure: `gross + other sessions' open orders − this tick's reducing orders + notional`
 *   above `maxGrossExposureFraction × equity`;
 * - pattern day trader (US equities only; equity below `pdtMinEquityUsd`, order opening from flat): the broker's
 *   count plus one day trade per non-flat position (each is closed today) plus this one above
 *   `pdtMaxDayTrades`; an unknown count refuses (fail closed).
 * Conservative on purpose: a position carried from an earlier day counts as a future day trade.
 */
export function accountRefusal(
  limits: AccountLimits,
  view: AccountView,
  order: AccountOrderCheck,
): string | null {
  const cap = limits.maxGrossExposureFraction * Math.max(0, view.equityUsd);
  const projected =
    view.grossExposureUsd +
    view.otherSessionsOpenNotionalUsd -
    order.reducingNotionalUsd +
    order.notionalUsd;
  if (projected > cap + 1e-6) {
    return `pre-trade: account exposure limit (gross ${projected.toFixed(2)} USD with this order > ${limits.maxGrossExposureFraction} × equity ${view.equityUsd.toFixed(2)} USD)`;
  }
  if (order.market !== 'crypto' && order.opensFromFlat && view.equityUsd < limits.pdtMinEquityUsd) {
    if (view.dayTradeCount === null) {
      return `pre-trade: pattern-day-trader count unknown with equity ${view.equityUsd.toFixed(2)} USD < ${limits.pdtMinEquityUsd} USD (fail closed)`;
    }
    const dayTrades = view.dayTradeCount + view.openPositions + 1;
    if (dayTrades > limits.pdtMaxDayTrades) {
      return `pre-trade: pattern-day-trader limit (${view.dayTradeCount} day trades in 5 business days + ${view.openPositions} open + this one > ${limits.pdtMaxDayTrades}, equity ${view.equityUsd.toFixed(2)} USD < ${limits.pdtMinEquityUsd} USD)`;
    }
  }
  return null;
}

/** One difference between the sum of the sessions' books and the broker. */
export interface AccountDiscrepancy {
  readonly symbol: string;
  /**
   * `broker_larger` / `broker_smaller`: the broker's position differs from the sum of the
   * sessions' books by more than the tolerance and is larger / not larger in absolute shares
   * (long or short); `avg_price_mismatch`: quantities agree
   * but the average entry prices differ by more than the tolerance.
   */
  readonly kind: 'broker_larger' | 'broker_smaller' | 'avg_price_mismatch';
  /** Sum of the sessions' signed positions, shares. */
  readonly bookQty: number;
  readonly brokerQty: number;
  /** Quantity-weighted average entry of the sessions' books, USD per share (0 when flat). */
  readonly bookAvgPriceUsd: number;
  readonly brokerAvgPriceUsd: number;
  /** The sessions holding the symbol. */
  readonly promotionIds: readonly string[];
  readonly detail: string;
}

/** Result of {@link reconcileAccount}. */
export interface AccountReconciliation {
  readonly clean: boolean;
  readonly discrepancies: readonly AccountDiscrepancy[];
  /** Symbols not compared because an order on them is still open (the books are in flight). */
  readonly inFlight: readonly string[];
}

/**
 * Compares the sum of the sessions' books with the broker's positions, symbol by symbol
 * (`symbols` when given, else every symbol on either side). A symbol with an open order at
 * the broker or in a session's last snapshot is skipped (its books are in flight).
 * Quantities match within `qtyTolerance` shares; average entry prices within
 * `avgPriceToleranceBps` of the broker's.
 */
export function reconcileAccount(input: {
  readonly books: readonly SessionBookSnapshot[];
  readonly positions: readonly { symbol: string; qty: number; avgEntryPriceUsd: number }[];
  readonly openOrderSymbols: ReadonlySet<string>;
  readonly qtyTolerance: number;
  readonly avgPriceToleranceBps: number;
  readonly symbols?: readonly string[];
}): AccountReconciliation {
  const all = new Set<string>([
    ...input.books.map((b) => b.symbol),
    ...input.positions.map((p) => p.symbol),
  ]);
  const symbols = [...(input.symbols ?? all)].sort();
  const discrepancies: AccountDiscrepancy[] = [];
  const inFlight: string[] = [];
  for (const symbol of symbols) {
    const books = input.books.filter((b) => b.symbol === symbol);
    if (input.openOrderSymbols.has(symbol) || books.some((b) => b.openOrders > 0)) {
      inFlight.push(symbol);
      continue;
    }
    const bookQty = books.reduce((s, b) => s + b.qty, 0);
    const held = books.filter((b) => b.qty !== 0 && Math.sign(b.qty) === Math.sign(bookQty));
    const heldQty = held.reduce((s, b) => s + b.qty, 0);
    const bookAvg =
      heldQty === 0 ? 0 : held.reduce((s, b) => s + b.qty * b.avgPriceUsd, 0) / heldQty;
    const pos = input.positions.find((p) => p.symbol === symbol);
    const brokerQty = pos?.qty ?? 0;
    const brokerAvg = pos?.avgEntryPriceUsd ?? 0;
    const base = {
      symbol,
      bookQty,
      brokerQty,
      bookAvgPriceUsd: bookAvg,
      brokerAvgPriceUsd: brokerAvg,
      promotionIds: books.filter((b) => b.qty !== 0).map((b) => b.promotionId),
    };
    const diff = brokerQty - bookQty;
    if (Math.abs(diff) > input.qtyTolerance) {
      discrepancies.push({
        ...base,
        kind: Math.abs(brokerQty) > Math.abs(bookQty) ? 'broker_larger' : 'broker_smaller',
        detail: `${symbol}: broker holds ${brokerQty} shares, the sessions' books ${bookQty}`,
      });
      continue;
    }
    if (Math.abs(bookQty) > input.qtyTolerance && brokerAvg > 0) {
      const bps = (Math.abs(bookAvg - brokerAvg) / brokerAvg) * 10_000;
      if (bps > input.avgPriceToleranceBps) {
        discrepancies.push({
          ...base,
          kind: 'avg_price_mismatch',
          detail: `${symbol}: broker average entry ${brokerAvg} USD, the sessions' books ${bookAvg.toFixed(6)} USD (${bps.toFixed(1)} bps apart)`,
        });
      }
    }
  }
  return { clean: discrepancies.length === 0, discrepancies, inFlight };
}
