/**
 * Synthetic market data for the simulated broker tests: a {@link MarketDataPort} over
 * hand-built one-symbol sessions (minute bars from 09:30 America/New_York).
 */
import type { FillCosts } from '../../../functions/core/cohort/fill-model.js';
import { NoSessionError, UnknownSymbolError } from '../../../functions/core/errors.js';
import type { DailyHistory, SplitEvent } from '../../../functions/core/market/corporate-actions.js';
import { sessionUpTo } from '../../../functions/core/market/session-window.js';
import type { DailyBar, MarketSession } from '../../../functions/core/market/types.js';
import type { MarketDataPort } from '../../../functions/ports/market-data.js';

export const MINUTE_MS = 60_000;
/** 2024-01-02 09:30 America/New_York (EST, 14:30 UTC). */
export const OPEN = Date.UTC(2024, 0, 2, 14, 30);
export const DATE = '2024-01-02';
/** 2024-01-03 09:30 America/New_York. */
export const NEXT_OPEN = Date.UTC(2024, 0, 3, 14, 30);
export const NEXT_DATE = '2024-01-03';

/** Start of minute `i` of the first session, epoch ms. */
export const minute = (i: number, openMs = OPEN) => openMs + i * MINUTE_MS;

/** Columns of one symbol's session (all arrays the same length). */
export interface BarsSpec {
  readonly bid: readonly number[];
  readonly ask: readonly number[];
  /** Shares per minute. @default 1,000 each minute */
  readonly volume?: readonly number[];
}

/** A one-symbol session starting at `openMs`. */
export function session(
  symbol: string,
  date: string,
  openMs: number,
  spec: BarsSpec,
): MarketSession {
  const n = spec.bid.length;
  const mid = spec.bid.map((b, i) => (b + (spec.ask[i] as number)) / 2);
  return {
    date,
    market: 'equity-usa',
    symbols: [symbol],
    timestamps: Float64Array.from({ length: n }, (_, i) => openMs + i * MINUTE_MS),
    series: [
      {
        symbol,
        open: Float64Array.from(mid),
        high: Float64Array.from(mid),
        low: Float64Array.from(mid),
        close: Float64Array.from(mid),
        volume: Float64Array.from(spec.volume ?? spec.bid.map(() => 1_000)),
        bid: Float64Array.from(spec.bid),
        ask: Float64Array.from(spec.ask),
        bidSize: new Float64Array(n).fill(100),
        askSize: new Float64Array(n).fill(100),
      },
    ],
  };
}

/** A {@link MarketDataPort} over fixed sessions keyed `date/symbol`; counts loads. */
export class FakeMarketData implements MarketDataPort {
  loads = 0;
  private readonly sessions = new Map<string, MarketSession>();

  add(s: MarketSession): this {
    this.sessions.set(`${s.date}/${s.symbols[0]}`, s);
    return this;
  }

  async loadSession(date: string, symbols: readonly string[]): Promise<MarketSession> {
    this.loads++;
    const symbol = symbols[0] as string;
    if (![...this.sessions.keys()].some((k) => k.endsWith(`/${symbol}`))) {
      throw new UnknownSymbolError(symbol, []);
    }
    const s = this.sessions.get(`${date}/${symbol}`);
    if (!s) throw new NoSessionError(date, await this.listSessions([symbol]));
    return s;
  }

  async loadSessionUpTo(
    date: string,
    symbols: readonly string[],
    nowMs: number,
  ): Promise<MarketSession> {
    return sessionUpTo(await this.loadSession(date, symbols), nowMs);
  }

  async loadDaily(): Promise<readonly DailyBar[]> {
    return [];
  }

  /** Splits returned by {@link splits}, settable by a test. */
  splitEvents: SplitEvent[] = [];

  async loadDailyHistory(symbol: string): Promise<DailyHistory> {
    return { symbol, bars: [], adjustment: 'unadjusted', unadjustedReason: 'fake' };
  }

  async splits(symbol: string, after: string, through: string): Promise<readonly SplitEvent[]> {
    return this.splitEvents.filter(
      (e) => e.symbol === symbol && e.effectiveDate > after && e.effectiveDate <= through,
    );
  }

  async listSessions(symbols: readonly string[]): Promise<readonly string[]> {
    return [...this.sessions.keys()]
      .filter((k) => k.endsWith(`/${symbols[0]}`))
      .map((k) => k.split('/')[0] as string)
      .sort();
  }
}

/** Costs with round numbers: 10 bps slippage, 0.01 USD/share, min 0, cap 1%. */
export const COSTS: FillCosts = {
  slippageBps: 10,
  feePerShareUsd: 0.01,
  minFeeUsd: 0,
  maxFeeFraction: 0.01,
};

/** Ten flat minutes: bid 100, ask 100.10, 1,000 shares a minute. */
export const FLAT: BarsSpec = {
  bid: Array.from({ length: 10 }, () => 100),
  ask: Array.from({ length: 10 }, () => 100.1),
};
