import type { DailyHistory, SplitEvent } from '../core/market/corporate-actions.js';
import type { DailyBar, MarketSession } from '../core/market/types.js';

/**
 * Where the core gets market data. Implemented by the LEAN file adapter
 * (`functions/adapters/market-data/lean-market-data.ts`).
 *
 * Errors (all from `functions/core/errors.ts`): `UnknownSymbolError` when a symbol has no data
 * at all, `NoSessionError` when the date has no session for a symbol, `NoDailyHistoryError`
 * when a known symbol has no daily file, `DataFolderMissingError` when the data root itself
 * is missing, `DataFileMissingError` / `DataFileCorruptError` for unreadable files.
 */
export interface MarketDataPort {
  /** Regular-session 1-minute bars of `symbols` on `date` (`YYYY-MM-DD`), aligned by timestamp. */
  loadSession(date: string, symbols: readonly string[]): Promise<MarketSession>;
  /**
   * The minutes of the session on `date` whose bar ended at or before `nowMs` (epoch ms UTC),
   * for the paper-session tick and partial cohorts: never a bar from after "now". Errors as
   * {@link loadSession}.
   */
  loadSessionUpTo(date: string, symbols: readonly string[], nowMs: number): Promise<MarketSession>;
  /** RAW daily bars of `symbol` with `from <= date <= to` (inclusive, `YYYY-MM-DD`), oldest first. */
  loadDaily(symbol: string, from: string, to: string): Promise<readonly DailyBar[]>;
  /**
   * Daily bars of `symbol` over `[from, to]` adjusted for splits and dividends (the basis of
   * VaR/ES history and volatility), or raw with `adjustment: 'unadjusted'` and the reason
   * (e.g. no factor file) when no corporate-action data exists for the symbol.
   */
  loadDailyHistory(symbol: string, from: string, to: string): Promise<DailyHistory>;
  /**
   * Splits of `symbol` effective on a session date `d` with `after < d <= through`, oldest
   * first (empty when the symbol has no corporate-action data).
   */
  splits(symbol: string, after: string, through: string): Promise<readonly SplitEvent[]>;
  /** Session dates (`YYYY-MM-DD`, ascending) that have minute data for every one of `symbols`. */
  listSessions(symbols: readonly string[]): Promise<readonly string[]>;
}
