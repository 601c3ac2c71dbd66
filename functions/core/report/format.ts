/**
 * Number and time formatting for the run report (the same conventions as the CLI tables):
 * USD with a thousands separator and 2 decimals, fractions as percentages, clock times in
 * America/New_York. A non-finite number prints as `n/a`.
 */
import { type Market, NYSE_TIME_ZONE } from '../calendar/market-calendar.js';

/** What a non-finite number (NaN, ±Infinity) prints as. */
export const NOT_AVAILABLE = 'n/a';

const USD = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const NY_TIME = new Intl.DateTimeFormat('en-US', {
  timeZone: NYSE_TIME_ZONE,
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/**
 * A USD amount with 2 decimals: `$1,234.50`, `-$0.75`. An amount that rounds to zero cents
 * prints `$0.00` (never `-$0.00`).
 */
export function formatUsd(valueUsd: number): string {
  if (!Number.isFinite(valueUsd)) return NOT_AVAILABLE;
  const cents = Math.round(valueUsd * 100);
  if (cents === 0) return '$0.00';
  return `${cents < 0 ? '-' : ''}$${USD.format(Math.abs(cents) / 100)}`;
}

/** A fraction as a percentage: `formatPercent(0.01234) === '1.23%'`; `-0.00%` prints `0.00%`. */
export function formatPercent(fraction: number, digits = 2): string {
  if (!Number.isFinite(fraction)) return NOT_AVAILABLE;
  const text = (fraction * 100).toFixed(digits);
  return `${/^-0\.?0*$/.test(text) ? text.slice(1) : text}%`;
}

/** A plain number with `digits` decimals (Sharpe ratios, fitness): `1.50`. */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return NOT_AVAILABLE;
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

/** Built once: `Number#toLocaleString` builds a new `Intl.NumberFormat` on every call. */
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

/** A whole count with a thousands separator: `1,234`. */
export function formatCount(value: number): string {
  if (!Number.isFinite(value)) return NOT_AVAILABLE;
  return COUNT_FORMAT.format(Math.round(value));
}

const UTC_TIME = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/**
 * Clock time of `epochMs` (UTC) in `market`'s own zone (`marketTimeZone`: America/New_York for
 * equities, UTC for crypto), 24-hour `HH:MM`.
 */
export function formatMarketTime(epochMs: number, market: Market): string {
  if (market !== 'crypto') return formatNyTime(epochMs);
  if (!Number.isFinite(epochMs)) return NOT_AVAILABLE;
  return UTC_TIME.format(epochMs);
}

/** Clock time of `epochMs` (UTC) in America/New_York, 24-hour `HH:MM`. */
export function formatNyTime(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return NOT_AVAILABLE;
  return NY_TIME.format(epochMs);
}
