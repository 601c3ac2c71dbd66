/**
 * THE position book: how a fill changes a position, cash, realized PnL and fees. Every ledger
 * books fills through ONE function, {@link bookFill}: the cohort simulator's ledgers
 * (`cohort/ledger.ts`) directly, and through {@link applyBookFill} the simulated paper broker's
 * account (`adapters/brokers/simulated-broker.ts`), the paper session's own book, the core
 * exchange broker and the promotion pipeline's reconciliation. So their cash, average price,
 * realized PnL and fees cannot disagree by construction: same float operations in the same
 * order (no rounding anywhere; cents are only taken when reported).
 *
 * Accounting (weighted-average cost basis, as broker statements such as Alpaca's
 * `avg_entry_price` report it): a fill that adds to a position (or opens one) moves the
 * average price to the size-weighted mean; a fill that reduces a position realizes
 * `(fillPrice − avgPrice) × closedQty × sign(position)` and leaves the average unchanged; the
 * part of a fill beyond flat opens the opposite side at the fill price. A remaining quantity
 * below {@link DUST_QTY} counts as flat. Fees are not part of realized PnL; they are kept apart.
 *
 * Identity for any mark `m` (USD), exact in real arithmetic (≈1e-9 USD per fill in floats):
 *
 *     cash + Σ qty × m  ==  startingCash + realizedPnl + Σ (m − avgPrice) × qty − fees
 *
 * Units: quantities in shares (signed: short < 0), prices USD per share, money USD.
 */
import type { Side } from '../cohort/fill-model.js';
import { restatePositionForSplit } from '../market/corporate-actions.js';

/** Position size below which a position counts as closed, shares. */
export const DUST_QTY = 1e-9;

/** One symbol's position: signed quantity, average entry price and realized PnL so far. */
export interface BookedPosition {
  readonly symbol: string;
  /** Signed shares (short < 0). */
  readonly qty: number;
  /** Weighted-average entry price, USD per share (0 when flat). */
  readonly avgPriceUsd: number;
  /** Realized PnL of this symbol, gross of fees, USD. */
  readonly realizedPnlUsd: number;
  /** When the current (non-flat) position was opened from flat, epoch ms UTC, if known. */
  readonly openedAtMs?: number;
  /**
   * Last session date (`YYYY-MM-DD`) whose splits are already applied; absent until the first
   * restatement.
   */
  readonly restatedThrough?: string;
}

/** A position's quantity and average price after one fill, and the PnL that fill realized. */
export interface PositionChange {
  readonly qty: number;
  readonly avgPriceUsd: number;
  /** PnL realized by this fill, USD (0 when it only opened or added). */
  readonly realizedUsd: number;
}

/**
 * Books `signedQty` shares (> 0 bought, < 0 sold) at `priceUsd` on a position of `qty` shares
 * at `avgPriceUsd` (see the module comment for the rule). Pure; allocation-free apart from the
 * returned object. Internal: ledgers book through {@link bookFill}.
 */
function bookPositionFill(
  qty: number,
  avgPriceUsd: number,
  signedQty: number,
  priceUsd: number,
): PositionChange {
  if (qty === 0 || qty > 0 === signedQty > 0) {
    const nq = qty + signedQty;
    return {
      qty: nq,
      avgPriceUsd: (avgPriceUsd * Math.abs(qty) + priceUsd * Math.abs(signedQty)) / Math.abs(nq),
      realizedUsd: 0,
    };
  }
  let nq = qty + signedQty;
  if (Math.abs(nq) < DUST_QTY) nq = 0;
  const closed = nq === 0 ? Math.abs(qty) : Math.min(Math.abs(signedQty), Math.abs(qty));
  const realizedUsd = (priceUsd - avgPriceUsd) * closed * (qty > 0 ? 1 : -1);
  let avg = avgPriceUsd;
  if (nq === 0) avg = 0;
  else if (nq > 0 !== qty > 0) avg = priceUsd;
  return { qty: nq, avgPriceUsd: avg, realizedUsd };
}

/**
 * What one fill changes on an account holding one position in the filled symbol: the account's
 * cash, fees and realized PnL (USD), the position's signed quantity (shares) and average price
 * (USD per share).
 */
export interface FillLedgerState {
  readonly cashUsd: number;
  /** Fees paid, USD. */
  readonly feesUsd: number;
  /** Realized PnL, gross of fees, USD. */
  readonly realizedPnlUsd: number;
  /** Signed shares (short < 0). */
  readonly qty: number;
  /** Weighted-average entry price, USD per share (0 when flat). */
  readonly avgPriceUsd: number;
}

/** A {@link FillLedgerState} after one fill, with the PnL that fill realized (USD). */
export interface BookedFill extends FillLedgerState {
  readonly realizedUsd: number;
}

/**
 * THE booking of one fill: `signedQty` shares (> 0 bought, < 0 sold, never 0) at `priceUsd`
 * (USD per share, slippage included) paying `feeUsd` (USD, >= 0). Cash moves by
 * `−signedQty × priceUsd − feeUsd`, fees by `feeUsd`; the position and realized PnL follow the
 * weighted-average-cost rule of the module comment. Pure; every ledger of the house (cohort
 * ledgers, account books, the simulated broker) books fills only through this function.
 */
export function bookFill(
  state: FillLedgerState,
  signedQty: number,
  priceUsd: number,
  feeUsd: number,
): BookedFill {
  const change = bookPositionFill(state.qty, state.avgPriceUsd, signedQty, priceUsd);
  return {
    cashUsd: state.cashUsd - signedQty * priceUsd - feeUsd,
    feesUsd: state.feesUsd + feeUsd,
    realizedPnlUsd: state.realizedPnlUsd + change.realizedUsd,
    qty: change.qty,
    avgPriceUsd: change.avgPriceUsd,
    realizedUsd: change.realizedUsd,
  };
}

/** An account's book: cash, fees, realized PnL and one position per symbol ever traded. */
export interface AccountBook {
  /** Cash, USD (short-sale proceeds included). */
  readonly cashUsd: number;
  /** Realized PnL, gross of fees, USD. */
  readonly realizedPnlUsd: number;
  /** Fees paid, USD. */
  readonly feesUsd: number;
  /** Positions by symbol (flat ones kept with qty 0). */
  readonly positions: Readonly<Record<string, BookedPosition>>;
}

/** One execution to book on an {@link AccountBook}. */
export interface BookFill {
  readonly symbol: string;
  readonly side: Side;
  /** Shares, > 0. */
  readonly qty: number;
  /** USD per share. */
  readonly priceUsd: number;
  /** USD. */
  readonly feeUsd: number;
  /** Execution time, epoch ms UTC (kept as the position's open time when it opens from flat). */
  readonly atMs?: number;
}

/** A book holding `cashUsd` and nothing else. */
export function emptyAccountBook(cashUsd = 0): AccountBook {
  return { cashUsd, realizedPnlUsd: 0, feesUsd: 0, positions: {} };
}

/**
 * The book after one fill, booked by {@link bookFill} on the account and the symbol's position
 * (the position also keeps its own realized PnL and the time it opened). Pure (returns a new
 * book).
 */
export function applyBookFill(book: AccountBook, fill: BookFill): AccountBook {
  const signed = fill.side === 'buy' ? fill.qty : -fill.qty;
  const pos = book.positions[fill.symbol] ?? {
    symbol: fill.symbol,
    qty: 0,
    avgPriceUsd: 0,
    realizedPnlUsd: 0,
  };
  const change = bookFill(
    {
      cashUsd: book.cashUsd,
      feesUsd: book.feesUsd,
      realizedPnlUsd: book.realizedPnlUsd,
      qty: pos.qty,
      avgPriceUsd: pos.avgPriceUsd,
    },
    signed,
    fill.priceUsd,
    fill.feeUsd,
  );
  const reopened = change.qty !== 0 && (pos.qty === 0 || change.qty > 0 !== pos.qty > 0);
  const openedAtMs = change.qty === 0 ? undefined : reopened ? fill.atMs : pos.openedAtMs;
  return {
    cashUsd: change.cashUsd,
    feesUsd: change.feesUsd,
    realizedPnlUsd: change.realizedPnlUsd,
    positions: {
      ...book.positions,
      [fill.symbol]: {
        symbol: fill.symbol,
        qty: change.qty,
        avgPriceUsd: change.avgPriceUsd,
        realizedPnlUsd: pos.realizedPnlUsd + change.realizedUsd,
        ...(openedAtMs === undefined ? {} : { openedAtMs }),
        ...(pos.restatedThrough === undefined ? {} : { restatedThrough: pos.restatedThrough }),
      },
    },
  };
}

/** A position before and after a split restatement (shares, USD per share). */
export interface RestatedSide {
  readonly qty: number;
  readonly avgPriceUsd: number;
}

/**
 * Re-states `symbol`'s position across a split effective on `effectiveDate` (`YYYY-MM-DD`):
 * quantity times `ratio` (new shares per old share), average price divided by it
 * (`restatePositionForSplit`), so cost basis and value are unchanged; marks it
 * `restatedThrough = effectiveDate`. Pure.
 * @throws ValidationError when `ratio` is not finite and > 0.
 */
export function restateBookForSplit(
  book: AccountBook,
  symbol: string,
  ratio: number,
  effectiveDate: string,
): { book: AccountBook; before: RestatedSide; after: RestatedSide } {
  const pos = book.positions[symbol] ?? { symbol, qty: 0, avgPriceUsd: 0, realizedPnlUsd: 0 };
  const r = restatePositionForSplit({ qty: pos.qty, avgCostUsd: pos.avgPriceUsd }, ratio);
  const next: BookedPosition = {
    ...pos,
    qty: r.qty,
    avgPriceUsd: r.avgCostUsd ?? 0,
    restatedThrough: effectiveDate,
  };
  return {
    book: { ...book, positions: { ...book.positions, [symbol]: next } },
    before: { qty: pos.qty, avgPriceUsd: pos.avgPriceUsd },
    after: { qty: next.qty, avgPriceUsd: next.avgPriceUsd },
  };
}

/** Non-flat positions, sorted by symbol. */
export function openPositions(book: AccountBook): BookedPosition[] {
  return Object.values(book.positions)
    .filter((p) => p.qty !== 0)
    .sort((a, b) => a.symbol.localeCompare(b.symbol));
}

/**
 * Equity at `marks` (USD per share by symbol): cash + Σ qty × mark; a position without a mark
 * is valued at its average price.
 */
export function bookEquityUsd(book: AccountBook, marks: Readonly<Record<string, number>>): number {
  let equity = book.cashUsd;
  for (const p of Object.values(book.positions)) {
    if (p.qty === 0) continue;
    const m = marks[p.symbol];
    equity += p.qty * (m !== undefined && m > 0 ? m : p.avgPriceUsd);
  }
  return equity;
}
