/**
 * Corporate actions (splits and dividends) as LEAN factor files describe them, and the pure
 * operations built on them: adjusted daily history, the splits between two dates, and the
 * restatement of a position held across a split.
 *
 * LEAN convention (QuantConnect LEAN `Common/Data/Auxiliary/FactorFile.cs`,
 * `GetPriceScaleFactor`; `../shared/data/README.md`): a factor file is a list of rows
 * `date, price_factor, split_factor, reference_price`, ascending. The row of date `D` applies
 * to every session date `d` with `previous row date < d <= D`; dates after the last row use 1.
 * The adjusted price of a raw price on `d` is `raw · price_factor · split_factor` and the
 * adjusted volume is `raw / split_factor`. Example (AIG, real file): the row `20090630` has
 * split factor 20 and the next row (`20110119`) 1, so the raw close of 2009-06-30 ($1.13) is
 * restated as $22.60 next to the raw close of 2009-07-01 ($18.08): the 1-for-20 reverse split
 * of 2009-07-01 produces no return of its own.
 *
 * Units: prices USD per share, volumes shares, dates `YYYY-MM-DD` (exchange-local).
 */
import { ValidationError } from '../errors.js';
import type { DailyBar } from './types.js';

/** One factor-file row. `date` is `YYYY-MM-DD`; factors are dimensionless, > 0. */
export interface FactorRow {
  readonly date: string;
  /** Cumulative dividend adjustment factor (fraction, (0, 1]). */
  readonly priceFactor: number;
  /** Cumulative split adjustment factor (> 0; > 1 before a reverse split). */
  readonly splitFactor: number;
  /** Raw close on `date` the factors were computed from, USD (0 on the sentinel row). */
  readonly referencePrice: number;
}

/** How a daily history was adjusted, for records and gate reasons. */
export type AdjustmentKind = 'split-and-dividend' | 'split' | 'dividend' | 'unadjusted';

/** Daily history of one symbol with the adjustment it received. */
export interface DailyHistory {
  readonly symbol: string;
  /** Bars oldest first; prices and volumes adjusted as `adjustment` says. */
  readonly bars: readonly DailyBar[];
  readonly adjustment: AdjustmentKind;
  /** Why the history is unadjusted (e.g. the factor file that is missing), else `null`. */
  readonly unadjustedReason: string | null;
}

/** A split taking effect at the open of `effectiveDate`: one old share becomes `ratio` new. */
export interface SplitEvent {
  readonly symbol: string;
  /** First session date trading at the new share count, `YYYY-MM-DD`. */
  readonly effectiveDate: string;
  /** New shares per old share (7 for a 7-for-1 split, 0.05 for AIG's 1-for-20). */
  readonly ratio: number;
}

/** Index of the row that applies to `date` (first row with `row.date >= date`), or -1. */
function rowIndexFor(rows: readonly FactorRow[], date: string): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as FactorRow).date < date) lo = mid + 1;
    else hi = mid;
  }
  return lo < rows.length ? lo : -1;
}

/**
 * The factors that apply to raw prices of session `date` (LEAN convention above); `{1, 1}`
 * after the last row.
 */
export function factorsOn(
  rows: readonly FactorRow[],
  date: string,
): { readonly priceFactor: number; readonly splitFactor: number } {
  const i = rowIndexFor(rows, date);
  if (i < 0) return { priceFactor: 1, splitFactor: 1 };
  const r = rows[i] as FactorRow;
  return { priceFactor: r.priceFactor, splitFactor: r.splitFactor };
}

/**
 * Daily bars restated on today's share basis: prices times `price_factor · split_factor`
 * (`split_factor` only when `dividends` is false), volume divided by `split_factor`.
 * Returns new bars; the input is not modified.
 */
export function adjustDailyBars(
  bars: readonly DailyBar[],
  rows: readonly FactorRow[],
  options: { readonly dividends?: boolean } = {},
): DailyBar[] {
  const dividends = options.dividends ?? true;
  return bars.map((b) => {
    const f = factorsOn(rows, b.date);
    const k = f.splitFactor * (dividends ? f.priceFactor : 1);
    return {
      date: b.date,
      open: b.open * k,
      high: b.high * k,
      low: b.low * k,
      close: b.close * k,
      volume: b.volume / f.splitFactor,
    };
  });
}

/**
 * Splits that take effect on a session date `d` with `after < d <= through` (a position held
 * at the close of `after` and still held on `through` went through them), oldest first.
 * A change of `split_factor` between consecutive rows is a split effective the day after the
 * earlier row's date; its ratio (new shares per old share) is `new split_factor / old split_factor`.
 */
export function splitsBetween(
  symbol: string,
  rows: readonly FactorRow[],
  after: string,
  through: string,
): SplitEvent[] {
  const out: SplitEvent[] = [];
  for (let i = 0; i + 1 < rows.length; i++) {
    const a = rows[i] as FactorRow;
    const b = rows[i + 1] as FactorRow;
    if (a.splitFactor === b.splitFactor) continue;
    // The first session date after row a's date is when the new share count trades; any
    // session date d > a.date with d <= through saw the split.
    if (a.date >= after && a.date < through) {
      out.push({ symbol, effectiveDate: nextDay(a.date), ratio: b.splitFactor / a.splitFactor });
    }
  }
  return out;
}

/** A held position as the position book keeps it. */
export interface HeldPosition {
  /** Signed quantity, shares (long > 0, short < 0). */
  readonly qty: number;
  /** Average cost per share, USD, or null when flat/unknown. */
  readonly avgCostUsd: number | null;
}

/**
 * Restates a position across a split: quantity times `ratio`, average cost divided by it,
 * so the position's cost basis (`qty · avgCost`, USD) and its market value are unchanged.
 * @throws ValidationError when `ratio` is not a finite number > 0.
 */
export function restatePositionForSplit(position: HeldPosition, ratio: number): HeldPosition {
  if (!(Number.isFinite(ratio) && ratio > 0)) {
    throw new ValidationError('ratio', `split ratio must be finite and > 0, got ${ratio}`);
  }
  return {
    qty: position.qty * ratio,
    avgCostUsd: position.avgCostUsd === null ? null : position.avgCostUsd / ratio,
  };
}

function nextDay(iso: string): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * LEAN factor rows from a provider's raw, split-adjusted and fully adjusted daily closes of
 * the same dates (Alpaca `adjustment=raw|split|all`): on each date `d` the split factor is
 * `split(d) / raw(d)` and the price (dividend) factor `all(d) / split(d)`; one row is written
 * on the last date of each run of equal factors (the LEAN convention above: a row covers the
 * dates after the previous row up to its own), then the sentinel `2050-12-31` with the
 * factors of the newest date (1 and 1 when the provider adjusts to today's basis).
 *
 * Factors equal within `tolerance` (relative) are one run: providers round adjusted prices
 * to the cent, so a tolerance above that rounding keeps ordinary days in one run (default
 * 5e-4, a cent on $20; below that price rounding may add harmless extra rows).
 *
 * @throws ValidationError when the three series do not hold the same dates, or a close is
 *   not > 0.
 */
export function factorRowsFromAdjustedCloses(
  raw: readonly DailyBar[],
  split: readonly DailyBar[],
  all: readonly DailyBar[],
  tolerance = 5e-4,
): FactorRow[] {
  if (raw.length !== split.length || raw.length !== all.length) {
    throw new ValidationError(
      'daily',
      `raw, split and all series differ in length (${raw.length}, ${split.length}, ${all.length})`,
    );
  }
  const factors = raw.map((r, i) => {
    const s = split[i] as DailyBar;
    const a = all[i] as DailyBar;
    if (s.date !== r.date || a.date !== r.date) {
      throw new ValidationError(
        'daily',
        `dates differ at row ${i}: ${r.date}, ${s.date}, ${a.date}`,
      );
    }
    if (!(r.close > 0 && s.close > 0 && a.close > 0)) {
      throw new ValidationError('daily', `a close on ${r.date} is not > 0`);
    }
    return { date: r.date, splitFactor: s.close / r.close, priceFactor: a.close / s.close };
  });
  const same = (x: number, y: number) => Math.abs(x / y - 1) <= tolerance;
  const rows: FactorRow[] = [];
  for (let i = 0; i < factors.length; i++) {
    const f = factors[i] as (typeof factors)[number];
    const next = factors[i + 1];
    if (
      next !== undefined &&
      same(f.splitFactor, next.splitFactor) &&
      same(f.priceFactor, next.priceFactor)
    ) {
      continue;
    }
    if (next === undefined) break;
    rows.push({
      date: f.date,
      priceFactor: f.priceFactor,
      splitFactor: f.splitFactor,
      referencePrice: (raw[i] as DailyBar).close,
    });
  }
  const last = factors[factors.length - 1];
  rows.push({
    date: '2050-12-31',
    priceFactor: last?.priceFactor ?? 1,
    splitFactor: last?.splitFactor ?? 1,
    referencePrice: 0,
  });
  return rows;
}
