/**
 * Ports of the session ingestion (`functions/core/use-cases/session-ingestion.ts`): where a
 * session's bars come from ({@link SessionFeed}: the Alpaca market-data adapter) and where they
 * are stored ({@link MarketDataArchive}: the LEAN tree the cohorts read, in S3 or on disk).
 */

import type { FactorRow } from '../core/market/corporate-actions.js';
import type { IngestedBar, IngestedQuote, SymbolQuality } from '../core/market/data-quality.js';
import type { DailyBar, MarketSession } from '../core/market/types.js';

/** The market a symbol trades on. */
export type Market = MarketSession['market'];

/** One symbol's pulled session: trade bars and every quote, times epoch ms UTC, USD. */
export interface SessionFeedData {
  readonly symbol: string;
  readonly bars: readonly IngestedBar[];
  readonly quotes: readonly IngestedQuote[];
  /** Quote sizes (same order as `quotes`), shares or coins: `[bidSize, askSize]`. */
  readonly quoteSizes: readonly (readonly [number, number])[];
}

/** Where a session's data is pulled from. */
export interface SessionFeed {
  /** The market of `symbol` (`crypto` for a listed pair, else `equity-usa`). */
  marketOf(symbol: string): Market;
  /**
   * Minute bars and quotes of each symbol over the session of `date` (`YYYY-MM-DD`),
   * requested only up to `nowMs` (epoch ms UTC).
   * @throws UnknownSymbolError for a symbol the provider does not know; TransientError after
   *   retries; BrokerAuthError for refused keys.
   */
  fetchSession(
    date: string,
    symbols: readonly string[],
    nowMs: number,
  ): Promise<readonly SessionFeedData[]>;
  /** Daily bars over `[from, to]` with the provider's adjustment (`raw`, `split` or `all`). */
  fetchDaily(
    symbol: string,
    from: string,
    to: string,
    adjustment: 'raw' | 'split' | 'all',
  ): Promise<readonly DailyBar[]>;
  /** HTTP requests made and response bytes read so far. */
  readonly stats: { readonly requests: number; readonly bytes: number };
}

/** The stored data-quality report of one session (JSON beside the data). */
export interface SessionQualityReport {
  readonly sessionDate: string;
  readonly market: Market;
  /** When the ingestion ran, UTC ISO-8601 (after the session's close). */
  readonly ingestedAtIso: string;
  /** The session's close, UTC ISO-8601 (13:00 New York on an early close). */
  readonly closeIso: string;
  readonly symbols: readonly SymbolQuality[];
  /** Symbols whose data was stored and the cohort may trade. */
  readonly included: readonly string[];
  /** Symbols left out of the day's cohort, with the reasons. */
  readonly excluded: readonly { readonly symbol: string; readonly reasons: readonly string[] }[];
}

/** Where ingested data is written (each write replaces the object; returns bytes written). */
export interface MarketDataArchive {
  /** The session's stored report, or null when the session was not ingested yet. */
  readQualityReport(market: Market, date: string): Promise<SessionQualityReport | null>;
  writeSession(market: Market, date: string, data: readonly SessionFeedData[]): Promise<number>;
  /** The symbol's RAW daily bars and, for equities, its factor rows (null: none known). */
  writeDaily(
    market: Market,
    symbol: string,
    bars: readonly DailyBar[],
    factors: readonly FactorRow[] | null,
  ): Promise<number>;
  writeQualityReport(report: SessionQualityReport): Promise<number>;
}
