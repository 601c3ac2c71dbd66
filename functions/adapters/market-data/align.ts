/**
 * Aligns per-symbol minute trades and quotes on the union of their timestamps (shared by the
 * LEAN and Alpaca adapters). Units as `functions/core/market/types.ts`.
 */
import type { SymbolSeries } from '../../core/market/types.js';
import type { MinuteQuotes, MinuteTrades } from './lean-format.js';

/** Sorted, de-duplicated union of several (each sorted) timestamp arrays. */
export function unionSorted(arrays: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(arrays.reduce((n, a) => n + a.length, 0));
  let k = 0;
  for (const a of arrays) {
    all.set(a, k);
    k += a.length;
  }
  all.sort();
  let w = 0;
  for (let r = 0; r < all.length; r++) {
    if (w === 0 || all[r] !== all[w - 1]) all[w++] = all[r]!;
  }
  return all.slice(0, w);
}

export function alignSeries(
  symbol: string,
  trades: MinuteTrades,
  quotes: MinuteQuotes,
  index: ReadonlyMap<number, number>,
  n: number,
): SymbolSeries {
  const nan = (): Float64Array => new Float64Array(n).fill(Number.NaN);
  const s = {
    symbol,
    open: nan(),
    high: nan(),
    low: nan(),
    close: nan(),
    volume: new Float64Array(n),
    bid: nan(),
    ask: nan(),
    bidSize: nan(),
    askSize: nan(),
  };
  for (let r = 0; r < trades.t.length; r++) {
    const i = index.get(trades.t[r]!)!;
    s.open[i] = trades.open[r]!;
    s.high[i] = trades.high[r]!;
    s.low[i] = trades.low[r]!;
    s.close[i] = trades.close[r]!;
    s.volume[i] = trades.volume[r]!;
  }
  for (let r = 0; r < quotes.t.length; r++) {
    const i = index.get(quotes.t[r]!);
    if (i === undefined) continue;
    s.bid[i] = quotes.bidClose[r]!;
    s.ask[i] = quotes.askClose[r]!;
    s.bidSize[i] = quotes.bidSize[r]!;
    s.askSize[i] = quotes.askSize[r]!;
  }
  return s;
}
