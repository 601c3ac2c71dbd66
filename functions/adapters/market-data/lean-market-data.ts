/**
 * {@link MarketDataPort} over LEAN-format files (local folder or S3, through a
 * {@link BlobSource}). Layout under the data root:
 *
 * - `equity/usa/minute/{sym}/{YYYYMMDD}_{trade|quote}.zip`, `equity/usa/daily/{sym}.zip`
 * - `equity/usa/factor_files/{sym}.csv` (splits and dividends; optional: without it the
 *   daily history is reported unadjusted)
 * - `crypto/coinbase/minute/{sym}/{YYYYMMDD}_{trade|quote}.zip`,
 *   `crypto/coinbase/daily/{sym}_trade.zip`
 *
 * Symbols are case-insensitive on input, lower-case on disk and upper-case in results.
 */
import {
  DataFileMissingError,
  NoDailyHistoryError,
  NoSessionError,
  UnknownSymbolError,
  ValidationError,
} from '../../core/errors.js';
import {
  adjustDailyBars,
  type DailyHistory,
  type FactorRow,
  type SplitEvent,
  splitsBetween,
} from '../../core/market/corporate-actions.js';
import { sessionUpTo } from '../../core/market/session-window.js';
import type { DailyBar, MarketSession } from '../../core/market/types.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import { alignSeries, unionSorted } from './align.js';
import type { BlobSource } from './blob-source.js';
import {
  type CalendarDate,
  formatIsoDate,
  formatLeanDate,
  leanDateToIso,
  type Market,
  type MinuteQuotes,
  type MinuteTrades,
  parseDaily,
  parseFactorFile,
  parseIsoDate,
  parseMinuteQuotes,
  parseMinuteTrades,
  readLeanCsv,
  sessionWindow,
} from './lean-format.js';
import { WeightedLru } from './weighted-lru.js';

/** Where each market lives under the data root. */
export const LAYOUT: Record<
  Market,
  {
    readonly minute: string;
    readonly daily: string;
    readonly dailySuffix: string;
    /** Folder of `{sym}.csv` factor files, or null when the market has no corporate actions. */
    readonly factors: string | null;
  }
> = {
  crypto: {
    minute: 'crypto/coinbase/minute',
    daily: 'crypto/coinbase/daily',
    dailySuffix: '_trade.zip',
    factors: null,
  },
  'equity-usa': {
    minute: 'equity/usa/minute',
    daily: 'equity/usa/daily',
    dailySuffix: '.zip',
    factors: 'equity/usa/factor_files',
  },
};

/** What daily history is for, named in the error when the daily file is missing. */
const DAILY_NEEDED_BY = 'the VaR/ES risk gates and risk-weighted allocation';
/** Inference order: a symbol found under crypto/coinbase is crypto, otherwise US equity. */
const MARKETS: readonly Market[] = ['crypto', 'equity-usa'];

const TRADE_FILE = /^(\d{8})_trade\.zip$/;

/** Options of {@link LeanMarketData}. */
export interface LeanMarketDataOptions {
  /**
   * Largest number of parsed rows (minute bars, daily bars, listing names) kept in the
   * in-memory LRU cache across calls (warm Lambda starts). About 50-100 bytes per row.
   * @default 250_000
   */
  readonly cacheRowBudget?: number;
}

interface ResolvedSymbol {
  /** Upper-case, as returned. */
  readonly symbol: string;
  /** Lower-case, as on disk. */
  readonly onDisk: string;
  readonly market: Market;
}

/**
 * Loads LEAN minute and daily bars and aligns symbols by timestamp.
 *
 * Units: prices USD (equity deci-cents ÷ 10,000; crypto as stored), volumes and sizes in
 * shares/coins, times epoch ms UTC. Equity sessions keep bars starting in [09:30, 16:00)
 * America/New_York (at most 390); crypto sessions keep the whole UTC day.
 *
 * Errors: `ValidationError('date' | 'from' | 'to' | 'symbols')` for bad input;
 * `UnknownSymbolError` when a symbol has no minute folder (or, for `loadDaily`, no daily
 * file); `NoSessionError` when the date has no trade file for a symbol;
 * `DataFileMissingError` when a needed file (e.g. the quote file) is absent;
 * `DataFileCorruptError` for a bad zip or row; `TransientError` passed through from the
 * source.
 *
 * Parsed files and folder listings are cached per instance (bounded, see
 * {@link LeanMarketDataOptions.cacheRowBudget}); files are assumed immutable while it lives,
 * but the tree may grow (the session ingestion adds a session's files and rewrites the daily
 * and factor files): a session or symbol missing from the cached listings re-reads them, and
 * the daily and factor files, once before the error.
 */
export class LeanMarketData implements MarketDataPort {
  private readonly cache: WeightedLru<unknown>;
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /**
   * Cache keys of what the session ingestion rewrites as the tree grows: folder listings, the
   * daily and the factor files (re-read after a miss, see loadSession).
   */
  private readonly listingKeys = new Set<string>();

  /**
   * @param source byte source rooted at the LEAN data root (e.g. `/work/shared/data/lean`
   *   or `s3://bucket/lean`).
   */
  constructor(
    private readonly source: BlobSource,
    options: LeanMarketDataOptions = {},
  ) {
    this.cache = new WeightedLru(options.cacheRowBudget ?? 250_000);
  }

  /**
   * Regular-session minute bars of `symbols` on `date`, aligned by timestamp: `timestamps`
   * is the sorted union of bar starts where any symbol traded; a symbol with no trade in a
   * minute has NaN OHLC and volume 0; bid/ask/sizes come from the quote bar of the same
   * minute (close values), NaN when there is none.
   *
   * @param date session date `YYYY-MM-DD` (New York date for equities, UTC date for crypto).
   * @param symbols one or more distinct symbols of the same market, any case.
   * @throws ValidationError invalid date, empty/duplicate symbols, or mixed markets.
   * @throws UnknownSymbolError a symbol has no minute data folder (lists known symbols).
   * @throws NoSessionError no trade file for `date` for some symbol (lists the dates every
   *   requested symbol has).
   * @throws DataFileMissingError the quote file of a symbol is missing.
   * @throws DataFileCorruptError a file is not a zip or has a bad row (names file and line).
   */
  async loadSession(date: string, symbols: readonly string[]): Promise<MarketSession> {
    const day = parseIsoDate(date, 'date');
    const isoDate = formatIsoDate(day);
    const resolved = await this.resolveSymbols(symbols);
    const market = resolved[0]!.market;
    let datesPerSymbol = await Promise.all(resolved.map((s) => this.sessionDates(s)));
    if (datesPerSymbol.some((dates) => !dates.includes(isoDate))) {
      // A tree the session ingestion writes grows while this instance lives (a warm Lambda,
      // the local replay): a miss re-reads the folder listings (and the rewritten daily and
      // factor files) once before it is an error.
      this.forgetListings();
      datesPerSymbol = await Promise.all(resolved.map((s) => this.sessionDates(s)));
    }
    if (datesPerSymbol.some((dates) => !dates.includes(isoDate))) {
      throw new NoSessionError(isoDate, intersect(datesPerSymbol));
    }
    const files = await Promise.all(
      resolved.map(async (s) => {
        const [trades, quotes] = await Promise.all([
          this.minuteTrades(s, day),
          this.minuteQuotes(s, day),
        ]);
        return { s, trades, quotes };
      }),
    );
    const timestamps = unionSorted(files.map((f) => f.trades.t));
    const index = new Map<number, number>();
    for (let i = 0; i < timestamps.length; i++) index.set(timestamps[i]!, i);
    const series = files.map((f) =>
      alignSeries(f.s.symbol, f.trades, f.quotes, index, timestamps.length),
    );
    return { date: isoDate, market, symbols: resolved.map((s) => s.symbol), timestamps, series };
  }

  /**
   * {@link loadSession} restricted to the minutes that ended by `nowMs` (see
   * `sessionUpTo`); the files are complete days, so this is a view, not a different read.
   */
  async loadSessionUpTo(
    date: string,
    symbols: readonly string[],
    nowMs: number,
  ): Promise<MarketSession> {
    return sessionUpTo(await this.loadSession(date, symbols), nowMs);
  }

  /**
   * RAW daily bars of `symbol` with `from <= date <= to` (inclusive), oldest first, prices USD.
   * @throws ValidationError `from`/`to` not real `YYYY-MM-DD` dates, or `to` before `from`.
   * @throws NoDailyHistoryError the symbol has minute data but no daily file (names the file).
   * @throws UnknownSymbolError the symbol has no data at all (lists the symbols that have some).
   * @throws DataFileCorruptError bad zip or row.
   */
  async loadDaily(symbol: string, from: string, to: string): Promise<readonly DailyBar[]> {
    const fromIso = formatIsoDate(parseIsoDate(from, 'from'));
    const toIso = formatIsoDate(parseIsoDate(to, 'to'));
    if (toIso < fromIso) throw new ValidationError('to', `${toIso} is before from ${fromIso}`);
    if (typeof symbol !== 'string' || symbol.trim() === '') {
      throw new ValidationError('symbol', 'must be a non-empty string');
    }
    const onDisk = symbol.trim().toLowerCase();
    const upper = onDisk.toUpperCase();
    const dailySymbols = await Promise.all(MARKETS.map((m) => this.dailySymbols(m)));
    const market = MARKETS.find((_, i) => dailySymbols[i]!.includes(onDisk));
    if (market === undefined) {
      const minuteSymbols = await Promise.all(MARKETS.map((m) => this.minuteSymbols(m)));
      const minuteMarket = MARKETS.find((_, i) => minuteSymbols[i]!.includes(onDisk));
      if (minuteMarket !== undefined) {
        const { daily, dailySuffix } = LAYOUT[minuteMarket];
        throw new NoDailyHistoryError(upper, `${daily}/${onDisk}${dailySuffix}`, DAILY_NEEDED_BY);
      }
      throw new UnknownSymbolError(upper, upperSortedUnion([...dailySymbols, ...minuteSymbols]));
    }
    const relPath = `${LAYOUT[market].daily}/${onDisk}${LAYOUT[market].dailySuffix}`;
    const bars = await this.cached(
      `daily:${relPath}`,
      async () =>
        parseDaily(readLeanCsv(await this.source.read(relPath), relPath), relPath, market),
      (b) => b.length,
    );
    return bars.filter((b) => b.date >= fromIso && b.date <= toIso);
  }

  /**
   * Daily bars over `[from, to]` adjusted for splits and dividends with the symbol's LEAN
   * factor file (`equity/usa/factor_files/{sym}.csv`); raw and reported `unadjusted` (with
   * the missing file named) when there is none, and for crypto (no factor files).
   * @throws as {@link loadDaily}; DataFileCorruptError for a bad factor file.
   */
  async loadDailyHistory(
    symbol: string,
    from: string,
    to: string,
    options: { readonly dividends?: boolean; readonly splits?: boolean } = {},
  ): Promise<DailyHistory> {
    const raw = await this.loadDaily(symbol, from, to);
    const upper = symbol.trim().toUpperCase();
    const factors = await this.factorRows(symbol);
    if (factors.rows === null) {
      return { symbol: upper, bars: raw, adjustment: 'unadjusted', unadjustedReason: factors.why };
    }
    return {
      symbol: upper,
      bars: adjustDailyBars(raw, factorRowsFor(factors.rows, options)),
      adjustment:
        options.dividends === false
          ? 'split'
          : options.splits === false
            ? 'dividend'
            : 'split-and-dividend',
      unadjustedReason: null,
    };
  }

  /**
   * Splits effective on a session date `d` with `after < d <= through`, from the factor
   * file; empty when the symbol has none.
   */
  async splits(symbol: string, after: string, through: string): Promise<readonly SplitEvent[]> {
    const afterIso = formatIsoDate(parseIsoDate(after, 'after'));
    const throughIso = formatIsoDate(parseIsoDate(through, 'through'));
    const factors = await this.factorRows(symbol);
    if (factors.rows === null) return [];
    return splitsBetween(symbol.trim().toUpperCase(), factors.rows, afterIso, throughIso);
  }

  /** The symbol's factor rows, or null with the reason (file missing, crypto). */
  private async factorRows(
    symbol: string,
  ): Promise<{ rows: FactorRow[]; why: null } | { rows: null; why: string }> {
    const onDisk = symbol.trim().toLowerCase();
    const market = await this.marketOf(onDisk);
    const dir = market === undefined ? null : LAYOUT[market].factors;
    if (dir === null) {
      return {
        rows: null,
        why: `${market ?? 'unknown'} market has no corporate-action factor files`,
      };
    }
    const relPath = `${dir}/${onDisk}.csv`;
    try {
      const rows = await this.cached(
        `factor:${relPath}`,
        async () =>
          parseFactorFile(Buffer.from(await this.source.read(relPath)).toString('utf8'), relPath),
        (r) => r.length,
      );
      return { rows, why: null };
    } catch (err) {
      if (err instanceof DataFileMissingError) {
        return {
          rows: null,
          why: `no factor file ${relPath} (split and dividend adjustment of the daily history)`,
        };
      }
      throw err;
    }
  }

  /** The market `symbol` (any case) has minute or daily data in, or undefined (no data). */
  async symbolMarket(symbol: string): Promise<Market | undefined> {
    return this.marketOf(symbol.trim().toLowerCase());
  }

  /** The market a lower-case symbol has minute or daily data in, if any. */
  private async marketOf(onDisk: string): Promise<Market | undefined> {
    for (const m of MARKETS) {
      if ((await this.minuteSymbols(m)).includes(onDisk)) return m;
      if ((await this.dailySymbols(m)).includes(onDisk)) return m;
    }
    return undefined;
  }

  /**
   * Session dates (`YYYY-MM-DD`, ascending) with a minute trade file for every one of
   * `symbols` (quote files are not checked here; `loadSession` requires them).
   * @throws ValidationError empty/duplicate symbols, or mixed markets.
   * @throws UnknownSymbolError a symbol has no minute data folder.
   */
  async listSessions(symbols: readonly string[]): Promise<readonly string[]> {
    const resolved = await this.resolveSymbols(symbols);
    return intersect(await Promise.all(resolved.map((s) => this.sessionDates(s))));
  }

  private async resolveSymbols(symbols: readonly string[]): Promise<ResolvedSymbol[]> {
    try {
      return await this.resolveListed(symbols);
    } catch (err) {
      if (!(err instanceof UnknownSymbolError || err instanceof NoSessionError)) throw err;
      // A symbol the ingestion added since the listings were read (see loadSession).
      this.forgetListings();
      return this.resolveListed(symbols);
    }
  }

  /**
   * Drops every cached folder listing and daily/factor file: a new session in the tree comes
   * with rewritten daily and factor files (a split of that day). Minute files stay cached.
   */
  private forgetListings(): void {
    for (const key of this.listingKeys) this.cache.delete(key);
    this.listingKeys.clear();
  }

  private async resolveListed(symbols: readonly string[]): Promise<ResolvedSymbol[]> {
    if (!Array.isArray(symbols) || symbols.length === 0) {
      throw new ValidationError('symbols', 'expected at least one symbol');
    }
    const perMarket = await Promise.all(MARKETS.map((m) => this.minuteSymbols(m)));
    const dailyOnly = await Promise.all(MARKETS.map((m) => this.dailySymbols(m)));
    const resolved = symbols.map((raw, i): ResolvedSymbol => {
      if (typeof raw !== 'string' || raw.trim() === '') {
        throw new ValidationError(`symbols[${i}]`, 'must be a non-empty string');
      }
      const onDisk = raw.trim().toLowerCase();
      const market = MARKETS.find((_, m) => perMarket[m]!.includes(onDisk));
      if (market === undefined) {
        if (dailyOnly.some((d) => d.includes(onDisk))) {
          // Known (a daily file exists) but without minute bars: no session, not unknown.
          throw new NoSessionError(
            `any date (${onDisk.toUpperCase()} has daily bars but no minute files under ${LAYOUT[MARKETS[dailyOnly.findIndex((d) => d.includes(onDisk))]!].minute}/${onDisk})`,
            [],
          );
        }
        throw new UnknownSymbolError(
          onDisk.toUpperCase(),
          upperSortedUnion([...perMarket, ...dailyOnly]),
        );
      }
      return { symbol: onDisk.toUpperCase(), onDisk, market };
    });
    const seen = new Set<string>();
    for (const s of resolved) {
      if (seen.has(s.symbol)) throw new ValidationError('symbols', `duplicate symbol ${s.symbol}`);
      seen.add(s.symbol);
    }
    const markets = new Set(resolved.map((s) => s.market));
    if (markets.size > 1) {
      throw new ValidationError(
        'symbols',
        `cannot mix markets in one session: ${resolved.map((s) => `${s.symbol} (${s.market})`).join(', ')}`,
      );
    }
    return resolved;
  }

  /** Lower-case symbols with a minute folder in `market`. */
  private minuteSymbols(market: Market): Promise<string[]> {
    const dir = LAYOUT[market].minute;
    return this.cached(
      `list:${dir}`,
      () => this.source.list(dir),
      (names) => names.length,
    );
  }

  /** Lower-case symbols with a daily file in `market`. */
  private dailySymbols(market: Market): Promise<string[]> {
    const { daily, dailySuffix } = LAYOUT[market];
    return this.cached(
      `list:${daily}`,
      async () =>
        (await this.source.list(daily))
          .filter((n) => n.endsWith(dailySuffix))
          .map((n) => n.slice(0, -dailySuffix.length)),
      (names) => names.length,
    );
  }

  /** `YYYY-MM-DD` dates, ascending, with a minute trade file for the symbol. */
  private sessionDates(s: ResolvedSymbol): Promise<string[]> {
    const dir = `${LAYOUT[s.market].minute}/${s.onDisk}`;
    return this.cached(
      `list:${dir}`,
      async () =>
        (await this.source.list(dir))
          .map((n) => TRADE_FILE.exec(n)?.[1])
          .map((d) => (d === undefined ? undefined : leanDateToIso(d)))
          .filter((d): d is string => d !== undefined)
          .sort(),
      (dates) => dates.length,
    );
  }

  private minuteTrades(s: ResolvedSymbol, day: CalendarDate): Promise<MinuteTrades> {
    const relPath = `${LAYOUT[s.market].minute}/${s.onDisk}/${formatLeanDate(day)}_trade.zip`;
    return this.cached(
      `trade:${relPath}`,
      async () =>
        parseMinuteTrades(readLeanCsv(await this.source.read(relPath), relPath), {
          relPath,
          date: day,
          market: s.market,
          window: sessionWindow(s.market),
        }),
      (f) => f.t.length,
    );
  }

  private minuteQuotes(s: ResolvedSymbol, day: CalendarDate): Promise<MinuteQuotes> {
    const relPath = `${LAYOUT[s.market].minute}/${s.onDisk}/${formatLeanDate(day)}_quote.zip`;
    return this.cached(
      `quote:${relPath}`,
      async () => {
        let bytes: Uint8Array;
        try {
          bytes = await this.source.read(relPath);
        } catch (err) {
          if (err instanceof DataFileMissingError) {
            throw new DataFileMissingError(
              err.path,
              `${err.message} (quote file of ${s.symbol}: fills need bid/ask)`,
            );
          }
          throw err;
        }
        return parseMinuteQuotes(readLeanCsv(bytes, relPath), {
          relPath,
          date: day,
          market: s.market,
          window: sessionWindow(s.market),
        });
      },
      (f) => f.t.length,
    );
  }

  /**
   * Memoises `load()` under `key`: concurrent callers share one in-flight promise; a resolved
   * value is kept in the LRU with `weigh(value)` rows; a rejection is not cached.
   */
  private async cached<T>(
    key: string,
    load: () => Promise<T>,
    weigh: (v: T) => number,
  ): Promise<T> {
    if (/^(list|daily|factor):/.test(key)) this.listingKeys.add(key);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit as T;
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending as Promise<T>;
    const p = load().then((v) => {
      this.cache.set(key, v, Math.max(1, weigh(v)));
      return v;
    });
    this.inFlight.set(key, p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(key);
    }
  }
}

/** Dates present in every list, ascending. */
function intersect(lists: readonly (readonly string[])[]): string[] {
  const [first, ...rest] = lists;
  if (first === undefined) return [];
  return first.filter((d) => rest.every((l) => l.includes(d))).sort();
}

function upperSortedUnion(lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat().map((s) => s.toUpperCase()))].sort();
}

/** Factor rows with the split or dividend part neutralised, per `options` (default both). */
function factorRowsFor(
  rows: readonly FactorRow[],
  options: { readonly dividends?: boolean; readonly splits?: boolean },
): FactorRow[] {
  return rows.map((r) => ({
    ...r,
    priceFactor: options.dividends === false ? 1 : r.priceFactor,
    splitFactor: options.splits === false ? 1 : r.splitFactor,
  }));
}
