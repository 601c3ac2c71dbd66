/**
 * Market data model shared by the loader, the cohort simulator, the gates and the brokers.
 *
 * Units: prices in USD per share (or per coin), volumes in shares (or coins), times as epoch
 * milliseconds UTC (`number`) or UTC ISO-8601 strings where named `...Iso`. Session dates are
 * exchange-local calendar dates `YYYY-MM-DD` (America/New_York for US equities).
 */

/** One 1-minute trade bar. `t` is the bar's start, epoch ms UTC. */
export interface TradeBar {
  readonly t: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** One 1-minute quote bar (top of book). `t` is the bar's start, epoch ms UTC. */
export interface QuoteBar {
  readonly t: number;
  readonly bidOpen: number;
  readonly bidHigh: number;
  readonly bidLow: number;
  readonly bidClose: number;
  readonly bidSize: number;
  readonly askOpen: number;
  readonly askHigh: number;
  readonly askLow: number;
  readonly askClose: number;
  readonly askSize: number;
}

/** One daily bar. `date` is the exchange-local session date `YYYY-MM-DD`. */
export interface DailyBar {
  readonly date: string;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/**
 * One symbol's bars over a session, aligned to {@link MarketSession.timestamps}.
 *
 * Column-oriented typed arrays so the simulator can sweep thousands of agents over them
 * without allocation. Every array has `timestamps.length` entries; a minute with no trade
 * has `NaN` in open/high/low/close and `0` in volume; a minute with no quote has `NaN` in
 * bid/ask. Fills use `bid`/`ask` (the quote bar's close, i.e. the last quote of the minute).
 */
export interface SymbolSeries {
  readonly symbol: string;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  /** Bid at the end of the minute (quote bar bid close), USD. */
  readonly bid: Float64Array;
  /** Ask at the end of the minute (quote bar ask close), USD. */
  readonly ask: Float64Array;
  /** Bid size at the end of the minute, shares. */
  readonly bidSize: Float64Array;
  /** Ask size at the end of the minute, shares. */
  readonly askSize: Float64Array;
}

/**
 * The regular-session minutes of one trading day for a set of symbols, aligned by timestamp.
 *
 * `timestamps` is the sorted union of minute starts (epoch ms UTC) at which at least one
 * symbol traded inside the regular session (09:30-16:00 America/New_York for US equities,
 * the whole UTC day for crypto). `series[i].symbol === symbols[i]`.
 */
export interface MarketSession {
  /** Exchange-local session date, `YYYY-MM-DD`. */
  readonly date: string;
  readonly market: 'equity-usa' | 'crypto';
  readonly symbols: readonly string[];
  readonly timestamps: Float64Array;
  readonly series: readonly SymbolSeries[];
}
