import type { DailyBar, MarketSession } from '../core/market/types.js';

/**
 * Where the core gets market data. Implemented by the LEAN file adapter
 * (`functions/adapters/market-data/lean-market-data.ts`); an Alpaca market-data adapter can
 * implement the same port later.
 *
 * Errors (all from `functions/core/errors.ts`): `UnknownSymbolError` when a symbol has no data
 * at all, `NoSessionError` when the date has no session for a symbol, `DataFileMissingError`
 * / `DataFileCorruptError` for unreadable files.
 */
export interface MarketDataPort {
  /** Regular-session 1-minute bars of `symbols` on `date` (`YYYY-MM-DD`), aligned by timestamp. */
  loadSession(date: string, symbols: readonly string[]): Promise<MarketSession>;
  /** Daily bars of `symbol` with `from <= date <= to` (inclusive, `YYYY-MM-DD`), oldest first. */
  loadDaily(symbol: string, from: string, to: string): Promise<readonly DailyBar[]>;
  /** Session dates (`YYYY-MM-DD`, ascending) that have minute data for every one of `symbols`. */
  listSessions(symbols: readonly string[]): Promise<readonly string[]>;
}
