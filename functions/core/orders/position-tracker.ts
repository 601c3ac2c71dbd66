/**
 * FIFO position tracking: open lots per symbol, long and short, realized P&L per fill.
 *
 * Pure functions over an immutable, JSON-serialisable {@link PositionBook}. A fill first
 * closes the oldest opposite-side lots (first in, first out) and realizes P&L on the closed
 * quantity; any remainder opens a new lot on the fill's side (so one fill can flip a position
 * from long to short). Realized P&L of closing q shares of a lot opened at c with a fill at p:
 * long q·(p − c), short q·(c − p) (USD; fees are not modelled here). Average cost is the
 * quantity-weighted mean open price of the remaining lots.
 *
 * Example (hand-computed in the tests): buy 10 @ 100, buy 10 @ 110, sell 15 @ 120 → closes
 * 10 @ 100 and 5 @ 110: realized 15·120 − (10·100 + 5·110) = 250 USD; 5 @ 110 remain.
 */
import { ValidationError } from '../errors.js';
import { restatePositionForSplit } from '../market/corporate-actions.js';
import type { OrderSide } from './order.js';

/** One open lot. `qty` is signed shares: > 0 long, < 0 short. */
export interface Lot {
  readonly qty: number;
  /** Open price, USD per share. */
  readonly priceUsd: number;
  /** When the lot was opened, epoch ms UTC. */
  readonly openedAtMs: number;
}

/** One symbol's open lots (oldest first, all on the same side) and realized P&L to date. */
export interface SymbolPosition {
  readonly symbol: string;
  readonly lots: readonly Lot[];
  /** Cumulative realized P&L, USD. */
  readonly realizedPnlUsd: number;
  /**
   * Last session date (`YYYY-MM-DD`) whose splits are already applied to the lots; absent
   * until the first restatement (the earliest lot's open date is used then).
   */
  readonly restatedThrough?: string;
}

/** All positions, keyed by symbol. */
export type PositionBook = Readonly<Record<string, SymbolPosition>>;

/** One execution to book. */
export interface PositionFill {
  readonly symbol: string;
  readonly side: OrderSide;
  /** Executed quantity, shares, > 0. */
  readonly qty: number;
  /** Execution price, USD per share, > 0. */
  readonly priceUsd: number;
  /** Execution time, epoch ms UTC. */
  readonly atMs: number;
}

/** A position as reported to callers. */
export interface PositionView {
  readonly symbol: string;
  /** Net signed quantity, shares (> 0 long, < 0 short, 0 flat). */
  readonly qty: number;
  /** Quantity-weighted mean open price of the remaining lots, USD; null when flat. */
  readonly avgCostUsd: number | null;
  readonly lots: readonly Lot[];
  /** Cumulative realized P&L of this symbol, USD. */
  readonly realizedPnlUsd: number;
}

/** Result of booking one fill. */
export interface FillOutcome {
  readonly book: PositionBook;
  /** P&L realized by this fill, USD (0 when it only opened or added). */
  readonly realizedPnlUsd: number;
  /** Shares of existing lots this fill closed. */
  readonly closedQty: number;
  /** The symbol's position after the fill. */
  readonly position: PositionView;
}

/** Remaining lot quantities at or below this (shares) are float dust and dropped. */
const DUST_QTY = 1e-9;

/** A book with no positions. */
export function emptyBook(): PositionBook {
  return {};
}

function view(symbol: string, pos: SymbolPosition | undefined): PositionView {
  const lots = pos?.lots ?? [];
  let qty = 0;
  let cost = 0;
  for (const lot of lots) {
    qty += lot.qty;
    cost += lot.qty * lot.priceUsd;
  }
  return {
    symbol,
    qty,
    avgCostUsd: lots.length > 0 ? cost / qty : null,
    lots,
    realizedPnlUsd: pos?.realizedPnlUsd ?? 0,
  };
}

/** The position in `symbol` (flat with zero realized P&L when never traded). */
export function positionOf(book: PositionBook, symbol: string): PositionView {
  return view(symbol, book[symbol]);
}

/** Every symbol in the book (including flat ones with realized P&L), sorted by symbol. */
export function positionsOf(book: PositionBook): PositionView[] {
  return Object.keys(book)
    .sort()
    .map((s) => view(s, book[s]));
}

/**
 * Books one fill FIFO and returns the new book (the input book is not modified).
 *
 * @throws ValidationError when the symbol is empty, the side unknown, qty or price not
 *   positive finite numbers, or `atMs` not finite.
 */
export function applyFill(book: PositionBook, fill: PositionFill): FillOutcome {
  const { symbol, side, qty, priceUsd, atMs } = fill;
  if (symbol.length === 0) throw new ValidationError('fill.symbol', 'must not be empty');
  if (side !== 'buy' && side !== 'sell') {
    throw new ValidationError('fill.side', `must be buy or sell, got ${String(side)}`);
  }
  if (!(Number.isFinite(qty) && qty > 0)) {
    throw new ValidationError('fill.qty', `must be a positive number of shares, got ${qty}`);
  }
  if (!(Number.isFinite(priceUsd) && priceUsd > 0)) {
    throw new ValidationError('fill.priceUsd', `must be a positive price, got ${priceUsd}`);
  }
  if (!Number.isFinite(atMs))
    throw new ValidationError('fill.atMs', `must be epoch ms, got ${atMs}`);

  const sign = side === 'buy' ? 1 : -1;
  const prev = book[symbol];
  const lots: Lot[] = [];
  let remaining = qty;
  let realized = 0;
  let closed = 0;
  for (const lot of prev?.lots ?? []) {
    const opposite = Math.sign(lot.qty) === -sign;
    if (!opposite || remaining <= DUST_QTY) {
      lots.push(lot);
      continue;
    }
    const lotSize = Math.abs(lot.qty);
    const take = Math.min(lotSize, remaining);
    // Long lot closed by a sell: take·(p − c). Short lot closed by a buy: take·(c − p).
    realized += take * (priceUsd - lot.priceUsd) * Math.sign(lot.qty);
    closed += take;
    remaining -= take;
    const left = lotSize - take;
    if (left > DUST_QTY) lots.push({ ...lot, qty: Math.sign(lot.qty) * left });
  }
  if (remaining > DUST_QTY) lots.push({ qty: sign * remaining, priceUsd, openedAtMs: atMs });

  const next: SymbolPosition = {
    symbol,
    lots,
    realizedPnlUsd: (prev?.realizedPnlUsd ?? 0) + realized,
  };
  const newBook: PositionBook = { ...book, [symbol]: next };
  return {
    book: newBook,
    realizedPnlUsd: realized,
    closedQty: closed,
    position: view(symbol, next),
  };
}

/** A position before and after a split restatement (quantity shares, average cost USD). */
export interface RestatedSide {
  readonly qty: number;
  readonly avgCostUsd: number | null;
}

/**
 * Re-states `symbol`'s lots across a split effective on `effectiveDate` (`YYYY-MM-DD`): each
 * lot's quantity times `ratio` (new shares per old share), its price divided by it (see
 * {@link restatePositionForSplit}), so cost basis and market value are unchanged. Marks the
 * position `restatedThrough = effectiveDate`. Returns the new book (input unchanged) and the
 * position before/after for the audit record.
 * @throws ValidationError when `ratio` is not finite and > 0.
 */
export function restateBookForSplit(
  book: PositionBook,
  symbol: string,
  ratio: number,
  effectiveDate: string,
): { book: PositionBook; before: RestatedSide; after: RestatedSide } {
  const pos = book[symbol];
  const beforeView = view(symbol, pos);
  const lots = (pos?.lots ?? []).map((lot) => {
    const r = restatePositionForSplit({ qty: lot.qty, avgCostUsd: lot.priceUsd }, ratio);
    return { ...lot, qty: r.qty, priceUsd: r.avgCostUsd as number };
  });
  const next: SymbolPosition = {
    symbol,
    lots,
    realizedPnlUsd: pos?.realizedPnlUsd ?? 0,
    restatedThrough: effectiveDate,
  };
  const afterView = view(symbol, next);
  return {
    book: { ...book, [symbol]: next },
    before: { qty: beforeView.qty, avgCostUsd: beforeView.avgCostUsd },
    after: { qty: afterView.qty, avgCostUsd: afterView.avgCostUsd },
  };
}
