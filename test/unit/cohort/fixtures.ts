/**
 * Hand-built MarketSession fixtures for the cohort and scoring tests. Sessions start at 09:30
 * America/New_York (13:30 UTC in October 2013, EDT) with one bar per minute.
 */
import type { CohortConfig } from '../../../functions/core/cohort/config.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import type { Genome, StrategyFamily } from '../../../functions/core/cohort/genome.js';
import { genomeId } from '../../../functions/core/cohort/genome.js';
import type { MarketSession, SymbolSeries } from '../../../functions/core/market/types.js';
import { createRandom } from '../../../functions/core/random.js';

export const MINUTE_MS = 60_000;
/** 2013-10-07 09:30 America/New_York. */
export const OPEN_2013_10_07 = Date.UTC(2013, 9, 7, 13, 30);

/** Per-symbol columns; missing columns are derived from `close`. */
export interface SeriesSpec {
  readonly close: readonly number[];
  readonly high?: readonly number[];
  readonly low?: readonly number[];
  readonly volume?: readonly number[];
  readonly bid?: readonly number[];
  readonly ask?: readonly number[];
}

/**
 * A session from explicit columns. Defaults: high = low = open = close, volume 100 (0 when the
 * close is NaN), bid = close − halfSpread, ask = close + halfSpread (NaN when close is NaN).
 */
export function makeSession(
  spec: Readonly<Record<string, SeriesSpec | readonly number[]>>,
  options: { date?: string; startMs?: number; halfSpread?: number } = {},
): MarketSession {
  const symbols = Object.keys(spec);
  const first = spec[symbols[0] as string];
  const bars = (Array.isArray(first) ? first : (first as SeriesSpec).close).length;
  const startMs = options.startMs ?? OPEN_2013_10_07;
  const half = options.halfSpread ?? 0.01;
  const series: SymbolSeries[] = symbols.map((symbol) => {
    const raw = spec[symbol] as SeriesSpec | readonly number[];
    const s: SeriesSpec = Array.isArray(raw)
      ? { close: raw as readonly number[] }
      : (raw as SeriesSpec);
    const close = Float64Array.from(s.close);
    if (close.length !== bars)
      throw new Error(`fixture ${symbol}: ${close.length} != ${bars} bars`);
    return {
      symbol,
      open: Float64Array.from(close),
      high: Float64Array.from(s.high ?? s.close),
      low: Float64Array.from(s.low ?? s.close),
      close,
      volume: Float64Array.from(s.volume ?? s.close.map((c) => (Number.isNaN(c) ? 0 : 100))),
      bid: Float64Array.from(s.bid ?? s.close.map((c) => c - half)),
      ask: Float64Array.from(s.ask ?? s.close.map((c) => c + half)),
      bidSize: new Float64Array(bars).fill(100),
      askSize: new Float64Array(bars).fill(100),
    };
  });
  return {
    date: options.date ?? '2013-10-07',
    market: 'equity-usa',
    symbols,
    timestamps: Float64Array.from({ length: bars }, (_, t) => startMs + t * MINUTE_MS),
    series,
  };
}

/** Options of {@link randomSession}. */
export interface RandomSessionOptions {
  readonly symbols?: readonly string[];
  readonly bars?: number;
  /** Per-minute return standard deviation (fraction). */
  readonly volatility?: number;
  /** Probability that a minute has no trade (NaN close/high/low). */
  readonly tradeGap?: number;
  /** Probability that a minute has no quote (NaN bid/ask). */
  readonly quoteGap?: number;
}

/**
 * A random-walk session (deterministic for a seed): prices start between 20 and 200 USD, move
 * by normal returns, high/low straddle the close, spreads of 1..5 cents, optional gaps.
 */
export function randomSession(seed: number, options: RandomSessionOptions = {}): MarketSession {
  const rng = createRandom(seed);
  const symbols = options.symbols ?? ['SPY', 'BAC'];
  const bars = options.bars ?? 390;
  const vol = options.volatility ?? 0.002;
  const spec: Record<string, SeriesSpec> = {};
  for (const symbol of symbols) {
    let p = rng.uniform(20, 200);
    const close: number[] = [];
    const high: number[] = [];
    const low: number[] = [];
    const bid: number[] = [];
    const ask: number[] = [];
    for (let t = 0; t < bars; t++) {
      p *= Math.exp(vol * rng.normal());
      const c = Math.round(p * 100) / 100;
      const noTrade = rng.next() < (options.tradeGap ?? 0);
      const noQuote = rng.next() < (options.quoteGap ?? 0);
      const half = rng.int(1, 5) / 200;
      close.push(noTrade ? Number.NaN : c);
      high.push(noTrade ? Number.NaN : c * (1 + Math.abs(vol * rng.normal())));
      low.push(noTrade ? Number.NaN : c * (1 - Math.abs(vol * rng.normal())));
      bid.push(noQuote ? Number.NaN : c - half);
      ask.push(noQuote ? Number.NaN : c + half);
    }
    spec[symbol] = { close, high, low, bid, ask };
  }
  return makeSession(spec);
}

/** A genome with explicit genes (id derived from the content). */
export function genome(
  family: StrategyFamily,
  symbol: string,
  params: Readonly<Record<string, number>>,
): Genome {
  const content = { family, symbol, generation: 0, parentIds: [], params };
  return { id: genomeId(content), ...content };
}

/** A validated config with overrides. */
export function config(overrides: Readonly<Record<string, unknown>> = {}): CohortConfig {
  return parseCohortConfig({ bankrollUsd: 1_000, agentCount: 1, ...overrides });
}
