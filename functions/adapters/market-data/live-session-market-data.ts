/**
 * {@link MarketDataPort} of the live path: closed sessions and every history (daily bars,
 * factor files, splits) from the stored tree the session ingestion writes after each close,
 * and the session in progress from the live feed (Alpaca's bars and quotes), up to the clock's
 * "now" only. So a promotion at its window (10:00 New York, 01:00 UTC for crypto) and its
 * paper session's ticks see today's bars so far instead of failing closed on a session the
 * ingestion has not stored yet (it runs after the close).
 *
 * "The session in progress" of a symbol's market is the session whose civil date is the
 * market's date of now (`market-calendar.ts`: New York date for `equity-usa`, UTC date for
 * `crypto`) once it has opened. A request for it goes to the live feed only when the stored
 * tree has no such session; the live feed is always asked up to `min(nowMs, clock.now())`, so
 * no bar after now is ever requested. Every other date is the stored tree's answer (errors
 * included: a past session the ingestion did not store stays missing, never fetched here).
 */

import { isTradingDay, marketDate, sessionHours } from '../../core/calendar/market-calendar.js';
import { DataFileMissingError, NoSessionError, UnknownSymbolError } from '../../core/errors.js';
import type { DailyHistory, SplitEvent } from '../../core/market/corporate-actions.js';
import type { DailyBar, MarketSession } from '../../core/market/types.js';
import type { Clock } from '../../ports/clock.js';
import type { MarketDataPort } from '../../ports/market-data.js';

/** The live feed: a market-data port that also tells a symbol's market (the Alpaca adapter). */
export interface LiveFeed extends Pick<MarketDataPort, 'loadSessionUpTo'> {
  /** `crypto` or `equity-usa` for `symbol`. */
  marketOf(symbol: string): MarketSession['market'];
}

export class LiveSessionMarketData implements MarketDataPort {
  constructor(
    private readonly stored: MarketDataPort,
    private readonly live: LiveFeed,
    private readonly clock: Clock,
  ) {}

  /**
   * The stored session of `date`; for the session in progress that the tree does not hold
   * yet, its bars so far from the live feed (a partial session: bars that ended by now).
   */
  async loadSession(date: string, symbols: readonly string[]): Promise<MarketSession> {
    return this.routed(date, symbols, Number.POSITIVE_INFINITY, () =>
      this.stored.loadSession(date, symbols),
    );
  }

  /** As {@link loadSession}, cut at `nowMs` (and never after the clock's now). */
  async loadSessionUpTo(
    date: string,
    symbols: readonly string[],
    nowMs: number,
  ): Promise<MarketSession> {
    return this.routed(date, symbols, nowMs, () =>
      this.stored.loadSessionUpTo(date, symbols, nowMs),
    );
  }

  loadDaily(symbol: string, from: string, to: string): Promise<readonly DailyBar[]> {
    return this.stored.loadDaily(symbol, from, to);
  }

  loadDailyHistory(symbol: string, from: string, to: string): Promise<DailyHistory> {
    return this.stored.loadDailyHistory(symbol, from, to);
  }

  splits(symbol: string, after: string, through: string): Promise<readonly SplitEvent[]> {
    return this.stored.splits(symbol, after, through);
  }

  /** The stored sessions, plus the session in progress once it has opened. */
  async listSessions(symbols: readonly string[]): Promise<readonly string[]> {
    let stored: readonly string[] = [];
    try {
      stored = await this.stored.listSessions(symbols);
    } catch (err) {
      if (!(err instanceof UnknownSymbolError)) throw err;
    }
    const current = this.currentSession(symbols);
    if (current === null || stored.includes(current)) return stored;
    return [...stored, current].sort();
  }

  /** The date of the session in progress of `symbols`' market, or null (closed, not open yet). */
  private currentSession(symbols: readonly string[]): string | null {
    const first = symbols[0];
    if (first === undefined) return null;
    const market = this.live.marketOf(first);
    const now = this.clock.now();
    const date = marketDate(now, market);
    if (!isTradingDay(date, market)) return null;
    const hours = sessionHours(date, market);
    return hours && now >= Date.parse(hours.openIso) ? date : null;
  }

  private async routed(
    date: string,
    symbols: readonly string[],
    upToMs: number,
    fromStore: () => Promise<MarketSession>,
  ): Promise<MarketSession> {
    try {
      return await fromStore();
    } catch (err) {
      const missing =
        err instanceof NoSessionError ||
        err instanceof UnknownSymbolError ||
        err instanceof DataFileMissingError;
      if (!missing || this.currentSession(symbols) !== date) throw err;
    }
    const now = Math.min(upToMs, this.clock.now());
    return this.live.loadSessionUpTo(date, symbols, now);
  }
}
