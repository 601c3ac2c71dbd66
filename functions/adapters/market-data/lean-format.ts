/**
 * Parsing of the public LEAN data format (QuantConnect LEAN, Apache-2.0; format described in
 * `Data/equity/readme.md` and `Data/crypto/readme.md` of the LEAN repository and in
 * `../shared/data/README.md`): zip archives holding one header-less CSV each.
 *
 * - minute trade: `ms, open, high, low, close, volume`
 * - minute quote: `ms, bid_open, bid_high, bid_low, bid_close, bid_size,
 *   ask_open, ask_high, ask_low, ask_close, ask_size` (a side with no quote is left empty)
 * - daily: `YYYYMMDD HH:mm, open, high, low, close, volume`
 *
 * `ms` is milliseconds since midnight of the file's date in the exchange time zone
 * (America/New_York wall clock for US equities, UTC for crypto). Equity prices are in
 * deci-cents (1/10,000 USD); crypto prices are plain decimals.
 */
import { TZDate } from '@date-fns/tz';
import AdmZip from 'adm-zip';
import { parse } from 'csv-parse/sync';
import { NYSE_TIME_ZONE } from '../../core/calendar/market-calendar.js';
import { DataFileCorruptError, ValidationError } from '../../core/errors.js';
import type { FactorRow } from '../../core/market/corporate-actions.js';
import type { DailyBar, MarketSession } from '../../core/market/types.js';

/** The markets the loader knows. */
export type Market = MarketSession['market'];

/** Time zone of US equity LEAN files. */
export const NEW_YORK_TZ = NYSE_TIME_ZONE;
/** Milliseconds in a (wall-clock) day. */
export const MS_PER_DAY = 86_400_000;
/** Regular session of US equities, as ms since New York midnight: [09:30, 16:00). */
export const EQUITY_REGULAR_SESSION = { startMs: 34_200_000, endMs: 57_600_000 } as const;

/** Divisor turning a file price into USD: deci-cents for equities, 1 for crypto. */
export function priceDivisor(market: Market): number {
  return market === 'equity-usa' ? 10_000 : 1;
}

/** A calendar date split into parts (month 1-12). */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function realDate(year: number, month: number, day: number): CalendarDate | undefined {
  const probe = new Date(Date.UTC(year, month - 1, day));
  return probe.getUTCFullYear() === year &&
    probe.getUTCMonth() === month - 1 &&
    probe.getUTCDate() === day
    ? { year, month, day }
    : undefined;
}

/**
 * Parses a `YYYY-MM-DD` calendar date.
 * @throws ValidationError(field) when the text is not `YYYY-MM-DD` or not a real date
 *   (e.g. `2013-02-30`).
 */
export function parseIsoDate(value: unknown, field = 'date'): CalendarDate {
  const m = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  const parsed = m ? realDate(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
  if (parsed === undefined) {
    throw new ValidationError(
      field,
      `expected a real date as YYYY-MM-DD, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `{2013,10,4}` → `2013-10-04`. */
export function formatIsoDate(d: CalendarDate): string {
  return `${d.year}-${pad2(d.month)}-${pad2(d.day)}`;
}

/** `{2013,10,4}` → `20131004` (LEAN file-name form). */
export function formatLeanDate(d: CalendarDate): string {
  return `${d.year}${pad2(d.month)}${pad2(d.day)}`;
}

/** `20131004` → `2013-10-04`, or `undefined` when not a real `YYYYMMDD` date. */
export function leanDateToIso(yyyymmdd: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(yyyymmdd);
  const d = m ? realDate(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
  return d ? formatIsoDate(d) : undefined;
}

/**
 * Converts a LEAN bar time (date + ms since midnight in the exchange time zone) to epoch ms UTC.
 *
 * For `equity-usa` the ms are a New York wall-clock offset from midnight, resolved with
 * `@date-fns/tz` (IANA rules, so EST/EDT and the DST switch days are handled by the tz
 * database, not by hand): 2013-10-04 + 09:30 → 13:30Z (EDT), 2013-12-02 + 09:30 → 14:30Z (EST).
 * For `crypto` the ms are since midnight UTC.
 *
 * @param date the file's session date.
 * @param msSinceMidnight integer in `[0, 86_400_000)`.
 * @returns epoch milliseconds UTC of the bar start.
 */
export function leanTimeToEpochMs(
  date: CalendarDate,
  msSinceMidnight: number,
  market: Market,
): number {
  if (market === 'crypto') {
    return Date.UTC(date.year, date.month - 1, date.day) + msSinceMidnight;
  }
  const hours = Math.floor(msSinceMidnight / 3_600_000);
  const minutes = Math.floor((msSinceMidnight % 3_600_000) / 60_000);
  const seconds = Math.floor((msSinceMidnight % 60_000) / 1000);
  const millis = msSinceMidnight % 1000;
  return new TZDate(
    date.year,
    date.month - 1,
    date.day,
    hours,
    minutes,
    seconds,
    millis,
    NEW_YORK_TZ,
  ).getTime();
}

/**
 * A {@link leanTimeToEpochMs} for one file's date that asks the tz database once per wall-clock
 * hour instead of once per row (a UTC offset only changes on an hour boundary in
 * America/New_York: DST switches happen at 02:00 local), then adds the minutes within it.
 */
export function epochConverter(
  date: CalendarDate,
  market: Market,
): (msSinceMidnight: number) => number {
  if (market === 'crypto') {
    const midnight = Date.UTC(date.year, date.month - 1, date.day);
    return (ms) => midnight + ms;
  }
  const hourStart = new Map<number, number>();
  return (ms) => {
    const hour = Math.floor(ms / 3_600_000);
    let start = hourStart.get(hour);
    if (start === undefined) {
      start = leanTimeToEpochMs(date, hour * 3_600_000, market);
      hourStart.set(hour, start);
    }
    return start + (ms - hour * 3_600_000);
  };
}

/** One CSV record with its 1-based line number in the file. */
export interface CsvRow {
  readonly line: number;
  readonly fields: readonly string[];
}

/**
 * Unzips a LEAN archive (first file entry) and splits its CSV into rows.
 * @throws DataFileCorruptError(relPath) when the bytes are not a zip, the zip is empty or its
 *   entry fails to inflate (bad CRC), or the CSV is malformed (detail names the line).
 */
export function readLeanCsv(bytes: Uint8Array, relPath: string): CsvRow[] {
  let csv: Buffer;
  try {
    const zip = new AdmZip(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const entry = zip.getEntries().find((e) => !e.isDirectory);
    if (entry === undefined) {
      throw new DataFileCorruptError(relPath, 'zip archive holds no file');
    }
    csv = entry.getData();
  } catch (err) {
    if (err instanceof DataFileCorruptError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new DataFileCorruptError(relPath, `not a readable zip archive (${why})`, { cause: err });
  }
  try {
    const records = parse(csv, {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as ReadonlyArray<{ record: string[]; info: { lines: number } }>;
    return records.map((r) => ({ line: r.info.lines, fields: r.record }));
  } catch (err) {
    const line =
      typeof err === 'object' && err !== null && 'lines' in err && typeof err.lines === 'number'
        ? err.lines
        : undefined;
    const why = err instanceof Error ? err.message : String(err);
    throw new DataFileCorruptError(relPath, `line ${line ?? '?'}: bad CSV (${why})`, {
      cause: err,
    });
  }
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Row-level validation helper: every failure names the file and the line. */
class RowReader {
  constructor(
    private readonly relPath: string,
    private readonly row: CsvRow,
  ) {}

  fail(detail: string): never {
    throw new DataFileCorruptError(this.relPath, `line ${this.row.line}: ${detail}`);
  }

  expectColumns(n: number): void {
    if (this.row.fields.length !== n) {
      this.fail(`expected ${n} columns, found ${this.row.fields.length}`);
    }
  }

  isEmpty(i: number): boolean {
    return (this.row.fields[i] ?? '').trim() === '';
  }

  /** A finite, non-negative number in column `i` (0-based). */
  nonNegative(i: number, what: string): number {
    const raw = (this.row.fields[i] ?? '').trim();
    const v = NUMBER.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(v)) this.fail(`${what} is not a finite number: ${JSON.stringify(raw)}`);
    if (v < 0) this.fail(`${what} is negative: ${raw}`);
    return v;
  }

  /** A bar start in ms since midnight: integer in [0, 86_400_000). */
  msOfDay(i: number): number {
    const v = this.nonNegative(i, 'time (ms since midnight)');
    if (!Number.isInteger(v) || v >= MS_PER_DAY) {
      this.fail(`time (ms since midnight) out of range: ${v}`);
    }
    return v;
  }

  /** open/high/low/close at columns `i..i+3`, checked `high >= low`, divided by `divisor`. */
  ohlc(i: number, divisor: number, what: string): [number, number, number, number] {
    const o = this.nonNegative(i, `${what}open`);
    const h = this.nonNegative(i + 1, `${what}high`);
    const l = this.nonNegative(i + 2, `${what}low`);
    const c = this.nonNegative(i + 3, `${what}close`);
    if (h < l) this.fail(`${what}high ${h} is below ${what}low ${l}`);
    return [o / divisor, h / divisor, l / divisor, c / divisor];
  }

  /** Ensures bar times strictly increase down the file. */
  after(previous: number, current: number): void {
    if (current <= previous) this.fail('bar time is not after the previous row');
  }
}

/** Which part of the day a minute file keeps, as ms since midnight: `[startMs, endMs)`. */
export interface MsWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** The whole day; crypto sessions. */
export const WHOLE_DAY: MsWindow = { startMs: 0, endMs: MS_PER_DAY };

/** Session window of a market: the regular session for US equities, the UTC day for crypto. */
export function sessionWindow(market: Market): MsWindow {
  return market === 'equity-usa' ? EQUITY_REGULAR_SESSION : WHOLE_DAY;
}

/** Minute trade bars kept from one file, column-oriented; `t` epoch ms UTC, prices USD. */
export interface MinuteTrades {
  readonly t: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** The quote fields fills need, column-oriented; `t` epoch ms UTC, prices USD, sizes shares. */
export interface MinuteQuotes {
  readonly t: Float64Array;
  readonly bidClose: Float64Array;
  readonly askClose: Float64Array;
  readonly bidSize: Float64Array;
  readonly askSize: Float64Array;
}

/** What the minute parsers need to know about the file. */
export interface MinuteFileContext {
  readonly relPath: string;
  readonly date: CalendarDate;
  readonly market: Market;
  /** Rows outside this window are validated, then dropped (extended hours). */
  readonly window: MsWindow;
}

/**
 * Parses a minute trade CSV: every row is validated (6 numeric columns, finite, non-negative,
 * `high >= low`, integer ms in the day, strictly increasing), then rows inside `window` are
 * kept, times converted as {@link leanTimeToEpochMs} and prices to USD.
 * @throws DataFileCorruptError naming `relPath` and the line of the first bad row.
 */
export function parseMinuteTrades(rows: readonly CsvRow[], ctx: MinuteFileContext): MinuteTrades {
  const div = priceDivisor(ctx.market);
  const toEpoch = epochConverter(ctx.date, ctx.market);
  const n = rows.length;
  const t = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  let k = 0;
  let prev = -1;
  for (const row of rows) {
    const r = new RowReader(ctx.relPath, row);
    r.expectColumns(6);
    const ms = r.msOfDay(0);
    r.after(prev, ms);
    prev = ms;
    const [o, h, l, c] = r.ohlc(1, div, '');
    const v = r.nonNegative(5, 'volume');
    if (ms < ctx.window.startMs || ms >= ctx.window.endMs) continue;
    t[k] = toEpoch(ms);
    open[k] = o;
    high[k] = h;
    low[k] = l;
    close[k] = c;
    volume[k] = v;
    k++;
  }
  return {
    t: t.slice(0, k),
    open: open.slice(0, k),
    high: high.slice(0, k),
    low: low.slice(0, k),
    close: close.slice(0, k),
    volume: volume.slice(0, k),
  };
}

/**
 * Parses a minute quote CSV (11 columns). A side whose four prices are all empty (LEAN writes
 * `,,,` when there was no bid or no ask) or whose close is 0 gives `NaN` for that side's price;
 * an empty size reads as 0. Other rules as {@link parseMinuteTrades}, applied per side.
 * @throws DataFileCorruptError naming `relPath` and the line of the first bad row.
 */
export function parseMinuteQuotes(rows: readonly CsvRow[], ctx: MinuteFileContext): MinuteQuotes {
  const div = priceDivisor(ctx.market);
  const toEpoch = epochConverter(ctx.date, ctx.market);
  const n = rows.length;
  const t = new Float64Array(n);
  const bidClose = new Float64Array(n);
  const askClose = new Float64Array(n);
  const bidSize = new Float64Array(n);
  const askSize = new Float64Array(n);
  let k = 0;
  let prev = -1;
  const side = (r: RowReader, first: number, what: string): number => {
    if ([0, 1, 2, 3].every((j) => r.isEmpty(first + j))) return Number.NaN;
    const close = r.ohlc(first, div, what)[3];
    return close > 0 ? close : Number.NaN;
  };
  const size = (r: RowReader, i: number, what: string): number =>
    r.isEmpty(i) ? 0 : r.nonNegative(i, what);
  for (const row of rows) {
    const r = new RowReader(ctx.relPath, row);
    r.expectColumns(11);
    const ms = r.msOfDay(0);
    r.after(prev, ms);
    prev = ms;
    const bid = side(r, 1, 'bid_');
    const bSize = size(r, 5, 'bid_size');
    const ask = side(r, 6, 'ask_');
    const aSize = size(r, 10, 'ask_size');
    if (ms < ctx.window.startMs || ms >= ctx.window.endMs) continue;
    t[k] = toEpoch(ms);
    bidClose[k] = bid;
    askClose[k] = ask;
    bidSize[k] = bSize;
    askSize[k] = aSize;
    k++;
  }
  return {
    t: t.slice(0, k),
    bidClose: bidClose.slice(0, k),
    askClose: askClose.slice(0, k),
    bidSize: bidSize.slice(0, k),
    askSize: askSize.slice(0, k),
  };
}

const DAILY_TIME = /^(\d{8}) \d{2}:\d{2}$/;

/**
 * Parses a daily CSV (`YYYYMMDD HH:mm,o,h,l,c,v`) into {@link DailyBar}s, prices in USD,
 * oldest first. Rows are validated like minute rows; dates must strictly increase.
 * @throws DataFileCorruptError naming `relPath` and the line of the first bad row.
 */
export function parseDaily(rows: readonly CsvRow[], relPath: string, market: Market): DailyBar[] {
  const div = priceDivisor(market);
  const bars: DailyBar[] = [];
  let prev = '';
  for (const row of rows) {
    const r: RowReader = new RowReader(relPath, row);
    r.expectColumns(6);
    const stamp = (row.fields[0] ?? '').trim();
    const m = DAILY_TIME.exec(stamp);
    const date = m?.[1] !== undefined ? leanDateToIso(m[1]) : undefined;
    if (date === undefined) r.fail(`bad date ${JSON.stringify(stamp)}, expected YYYYMMDD HH:mm`);
    if (date <= prev) r.fail(`date ${date} is not after the previous row`);
    prev = date;
    const [open, high, low, close] = r.ohlc(1, div, '');
    const volume = r.nonNegative(5, 'volume');
    bars.push({ date, open, high, low, close, volume });
  }
  return bars;
}

/**
 * Parses a LEAN factor file (plain CSV, not zipped): `YYYYMMDD, price_factor, split_factor,
 * reference_price` rows, dates strictly increasing, factors finite and > 0 (see
 * `functions/core/market/corporate-actions.ts` for the convention).
 * @throws DataFileCorruptError naming `relPath` and the line of the first bad row.
 */
export function parseFactorFile(csv: string, relPath: string): FactorRow[] {
  const out: FactorRow[] = [];
  let prev = '';
  const lines = csv.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const text = (lines[i] ?? '').trim();
    if (text === '') continue;
    const r: RowReader = new RowReader(relPath, { line: i + 1, fields: text.split(',') });
    r.expectColumns(4);
    const date = leanDateToIso((text.split(',')[0] ?? '').trim());
    if (date === undefined) r.fail('bad date, expected YYYYMMDD');
    if (date <= prev) r.fail(`date ${date} is not after the previous row`);
    prev = date;
    const priceFactor = r.nonNegative(1, 'price_factor');
    const splitFactor = r.nonNegative(2, 'split_factor');
    if (priceFactor <= 0 || splitFactor <= 0) r.fail('factors must be > 0');
    out.push({
      date,
      priceFactor,
      splitFactor,
      referencePrice: r.nonNegative(3, 'reference_price'),
    });
  }
  return out;
}
