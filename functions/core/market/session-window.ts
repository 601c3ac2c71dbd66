/**
 * Views of a {@link MarketSession} as of a point in time: the paper-session tick and the
 * intraday (partial) cohorts may only see the minutes that have ended by "now".
 */
import type { MarketSession, SymbolSeries } from './types.js';

/** One minute, ms. */
const MINUTE_MS = 60_000;

/**
 * The minutes of `session` whose bar ended at or before `nowMs` (epoch ms UTC): a bar starting
 * at `t` is complete at `t + 60 s`. Returns a new session sharing no arrays with the input;
 * the whole session when every bar is complete, an empty one before the first bar ends.
 */
export function sessionUpTo(session: MarketSession, nowMs: number): MarketSession {
  let n = 0;
  while (n < session.timestamps.length && (session.timestamps[n] as number) + MINUTE_MS <= nowMs)
    n++;
  const cut = (a: Float64Array) => a.slice(0, n);
  return {
    date: session.date,
    market: session.market,
    symbols: session.symbols,
    timestamps: cut(session.timestamps),
    series: session.series.map(
      (s): SymbolSeries => ({
        symbol: s.symbol,
        open: cut(s.open),
        high: cut(s.high),
        low: cut(s.low),
        close: cut(s.close),
        volume: cut(s.volume),
        bid: cut(s.bid),
        ask: cut(s.ask),
        bidSize: cut(s.bidSize),
        askSize: cut(s.askSize),
      }),
    ),
  };
}
