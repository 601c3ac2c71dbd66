/**
 * {@link MarketDataPort} over the Alpaca Market Data API (`https://data.alpaca.markets`) with
 * the global `fetch`: a contract-faithful client rather than `@alpacahq/alpaca-trade-api`
 * (not a dependency of this project; the broker adapter beside it is a fetch client too, and
 * one HTTP stack keeps retries, the shared rate limiter and secret redaction in one style).
 *
 * Contract used (Alpaca docs, Market Data API reference, https://docs.alpaca.markets/reference):
 * - stocks: `GET /v2/stocks/{symbol}/bars?timeframe=1Min|1Day&start&end&limit&page_token&feed
 *   &adjustment` → `{"bars":[{t,o,h,l,c,v,n,vw}] | null, "symbol", "next_page_token"}`;
 *   `GET /v2/stocks/{symbol}/quotes?start&end&limit&page_token&feed` →
 *   `{"quotes":[{t,bp,bs,ap,as,bx,ax,c,z}] | null, "symbol", "next_page_token"}`;
 *   `GET /v2/stocks/{symbol}/bars/latest?feed` → `{"symbol","bar"}`, `.../quotes/latest` →
 *   `{"symbol","quote"}`; `feed` is `iex` (free) or `sip`; `adjustment` is `raw`, `split`,
 *   `dividend` or `all`; `limit` at most 10,000; `start`/`end` RFC-3339, both inclusive.
 * - crypto: `GET /v1beta3/crypto/us/bars|quotes?symbols=BTC/USD&...` → `{"bars":{"BTC/USD":
 *   [...]}, "next_page_token"}`; latest under `/v1beta3/crypto/us/latest/bars|quotes`.
 * - `422` with an `invalid symbol` message for a symbol Alpaca does not know; `429` beyond the
 *   rate limit (200 requests/min per key on the free plan), `X-RateLimit-Reset` epoch seconds.
 *
 * Symbols: a symbol of the form `XXXUSD` listed in {@link AlpacaMarketDataOptions.cryptoPairs}
 * (default BTCUSD, ETHUSD, ...) or written `BTC/USD` is crypto (24 h UTC sessions); anything
 * else is a US equity (NYSE regular session from the core calendar, early closes included).
 *
 * Quotes: Alpaca serves every quote; a minute's bid/ask is the LAST quote whose time falls in
 * the minute (the same "quote bar close" the LEAN files give), sizes of that quote.
 *
 * Resilience: every request takes a token from the process-wide bucket of the key (shared with
 * the broker, `rate-limiter.ts`); a 429 blocks the bucket until `X-RateLimit-Reset` (or
 * `Retry-After`) and retries; 5xx, network faults and timeouts are retried with full-jitter
 * exponential backoff, then `TransientError`. Keys are headers only, never logged or echoed.
 */
import * as z from 'zod';
import {
  NYSE_TIME_ZONE,
  sessionHours,
  tradingDaysBetween,
} from '../../core/calendar/market-calendar.js';
import {
  BrokerAuthError,
  NoSessionError,
  TransientError,
  UnknownSymbolError,
  ValidationError,
} from '../../core/errors.js';
import type { DailyHistory, SplitEvent } from '../../core/market/corporate-actions.js';
import type { DailyBar, MarketSession } from '../../core/market/types.js';
import { type Clock, systemClock } from '../../ports/clock.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import type { SessionFeed, SessionFeedData } from '../../ports/session-ingestion.js';
import {
  realSleep,
  type Sleep,
  sharedRateLimiter,
  type TokenBucket,
} from '../brokers/rate-limiter.js';
import { alignSeries, unionSorted } from './align.js';
import type { MinuteQuotes, MinuteTrades } from './lean-format.js';

/** Alpaca's market data host. */
export const ALPACA_DATA_BASE_URL = 'https://data.alpaca.markets';

/** Price adjustment Alpaca applies to bars. */
export type AlpacaAdjustment = 'raw' | 'split' | 'dividend' | 'all';
/** Stock feed: `iex` (free plan) or `sip` (all US exchanges, paid). */
export type AlpacaFeed = 'iex' | 'sip';

/** Options of {@link AlpacaMarketData}. */
export interface AlpacaMarketDataOptions {
  readonly keyId: string;
  readonly secretKey: string;
  /** @default ALPACA_DATA_BASE_URL; a loopback URL for the local fake. */
  readonly baseUrl?: string;
  /** @default 'iex' */
  readonly feed?: AlpacaFeed;
  /**
   * Adjustment of the minute bars the cohorts and the broker trade on. `raw` keeps the
   * prices orders fill at (the default); daily history always asks for `all`.
   * @default 'raw'
   */
  readonly sessionAdjustment?: AlpacaAdjustment;
  /** Symbols (without `/`) that are crypto pairs. @default BTCUSD, ETHUSD, LTCUSD, ... */
  readonly cryptoPairs?: readonly string[];
  /** Rows per page (1..10,000). @default 10_000 */
  readonly pageLimit?: number;
  /** First date `listSessions` reports. @default 2016-01-04 (Alpaca's history) */
  readonly historyStart?: string;
  /** Per-request timeout, ms. @default 10_000 */
  readonly timeoutMs?: number;
  /** Attempts per request against 5xx / network faults. @default 4 */
  readonly maxAttempts?: number;
  /** 429 answers tolerated per request. @default 5 */
  readonly maxRateLimitRetries?: number;
  /** Backoff base / cap, ms. @default 200 / 5_000 */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly random?: () => number;
  readonly fetchFn?: typeof fetch;
  /** @default the process-wide bucket of `keyId` */
  readonly limiter?: TokenBucket;
}

/** The crypto pairs known without a `/` (Alpaca's `BTC/USD` written as `BTCUSD`). */
export const DEFAULT_CRYPTO_PAIRS: readonly string[] = [
  'BTCUSD',
  'ETHUSD',
  'LTCUSD',
  'BCHUSD',
  'SOLUSD',
  'DOGEUSD',
  'AVAXUSD',
];
const DEFAULT_CRYPTO = DEFAULT_CRYPTO_PAIRS;

/**
 * `crypto` for a `BASE/QUOTE` symbol or one of `cryptoPairs` (case-insensitive), else
 * `equity-usa`: the market {@link AlpacaMarketData.marketOf} answers, without the keys.
 */
export function alpacaMarketOf(
  symbol: string,
  cryptoPairs: readonly string[] = DEFAULT_CRYPTO_PAIRS,
): MarketSession['market'] {
  const s = symbol.trim().toUpperCase();
  return s.includes('/') || cryptoPairs.some((p) => p.toUpperCase() === s)
    ? 'crypto'
    : 'equity-usa';
}
const MINUTE_MS = 60_000;

const num = z.number().finite();
const BarSchema = z.object({ t: z.string(), o: num, h: num, l: num, c: num, v: num });
const QuoteSchema = z.object({ t: z.string(), bp: num, bs: num, ap: num, as: num });
const StockBarsSchema = z.object({
  bars: z.array(BarSchema).nullable().optional(),
  next_page_token: z.string().nullable().optional(),
});
const StockQuotesSchema = z.object({
  quotes: z.array(QuoteSchema).nullable().optional(),
  next_page_token: z.string().nullable().optional(),
});
const CryptoBarsSchema = z.object({
  bars: z.record(z.string(), z.array(BarSchema)).nullable().optional(),
  next_page_token: z.string().nullable().optional(),
});
const CryptoQuotesSchema = z.object({
  quotes: z.record(z.string(), z.array(QuoteSchema)).nullable().optional(),
  next_page_token: z.string().nullable().optional(),
});
const ErrorSchema = z.object({ message: z.string().optional() });

type Bar = z.infer<typeof BarSchema>;
type Quote = z.infer<typeof QuoteSchema>;

/** One row of the data the ingestion stores and the `data pull` command writes. */
export interface AlpacaSessionData {
  readonly symbol: string;
  readonly market: MarketSession['market'];
  readonly bars: readonly Bar[];
  readonly quotes: readonly Quote[];
}

/** Counters of the HTTP work done (benchmarks, ingestion reports). */
export interface AlpacaRequestStats {
  requests: number;
  rateLimited: number;
  retried: number;
  bytes: number;
}

class Retryable extends Error {}

/** See the module comment. */
export class AlpacaMarketData implements MarketDataPort, SessionFeed {
  readonly stats: AlpacaRequestStats = { requests: 0, rateLimited: 0, retried: 0, bytes: 0 };
  readonly #headers: Record<string, string>;
  readonly #secrets: readonly string[];
  private readonly baseUrl: string;
  private readonly feed: AlpacaFeed;
  private readonly sessionAdjustment: AlpacaAdjustment;
  private readonly crypto: ReadonlySet<string>;
  private readonly pageLimit: number;
  private readonly historyStart: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxRateLimitRetries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly fetchFn: typeof fetch;
  private readonly limiter: TokenBucket;

  /** @throws ValidationError for empty keys, a bad URL or option. */
  constructor(options: AlpacaMarketDataOptions) {
    if (!options.keyId || !options.secretKey) {
      throw new ValidationError('alpaca.keys', 'keyId and secretKey are required');
    }
    this.#headers = {
      'APCA-API-KEY-ID': options.keyId,
      'APCA-API-SECRET-KEY': options.secretKey,
      Accept: 'application/json',
    };
    this.#secrets = [options.keyId, options.secretKey];
    this.baseUrl = (options.baseUrl ?? ALPACA_DATA_BASE_URL).replace(/\/+$/, '');
    try {
      new URL(this.baseUrl);
    } catch {
      throw new ValidationError('alpaca.baseUrl', `not a URL: ${this.baseUrl}`);
    }
    this.feed = options.feed ?? 'iex';
    if (this.feed !== 'iex' && this.feed !== 'sip') {
      throw new ValidationError('alpaca.feed', `must be iex or sip, got ${String(this.feed)}`);
    }
    this.sessionAdjustment = options.sessionAdjustment ?? 'raw';
    this.crypto = new Set((options.cryptoPairs ?? DEFAULT_CRYPTO).map((s) => s.toUpperCase()));
    this.pageLimit = options.pageLimit ?? 10_000;
    if (!(Number.isInteger(this.pageLimit) && this.pageLimit >= 1 && this.pageLimit <= 10_000)) {
      throw new ValidationError('alpaca.pageLimit', `must be 1..10000, got ${this.pageLimit}`);
    }
    this.historyStart = options.historyStart ?? '2016-01-04';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.maxRateLimitRetries = options.maxRateLimitRetries ?? 5;
    this.backoffBaseMs = options.backoffBaseMs ?? 200;
    this.backoffMaxMs = options.backoffMaxMs ?? 5_000;
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.fetchFn = options.fetchFn ?? fetch;
    this.limiter = options.limiter ?? sharedRateLimiter(options.keyId);
  }

  /** `crypto` for a listed pair or a `BASE/QUOTE` symbol, else `equity-usa`. */
  marketOf(symbol: string): MarketSession['market'] {
    const s = symbol.trim().toUpperCase();
    return s.includes('/') || this.crypto.has(s) ? 'crypto' : 'equity-usa';
  }

  async loadSession(date: string, symbols: readonly string[]): Promise<MarketSession> {
    return this.session(date, symbols, Number.POSITIVE_INFINITY);
  }

  /** Bars and quotes requested only up to `nowMs`: Alpaca is never asked for the future. */
  async loadSessionUpTo(
    date: string,
    symbols: readonly string[],
    nowMs: number,
  ): Promise<MarketSession> {
    return this.session(date, symbols, nowMs);
  }

  /**
   * The raw minute bars and quotes of each symbol over the session of `date` (ingestion and
   * `stagegate data pull` store these).
   * @throws NoSessionError when `date` is not a session of the symbols' market.
   */
  async fetchSessionData(
    date: string,
    symbols: readonly string[],
    nowMs = Number.POSITIVE_INFINITY,
  ): Promise<{
    market: MarketSession['market'];
    openMs: number;
    closeMs: number;
    data: AlpacaSessionData[];
  }> {
    const { market, names } = this.resolve(symbols);
    const hours = sessionHours(date, market);
    if (hours === null) throw new NoSessionError(date, []);
    const openMs = Date.parse(hours.openIso);
    const closeMs = Date.parse(hours.closeIso);
    const endMs = Math.min(closeMs, nowMs) - 1;
    if (endMs < openMs) {
      return {
        market,
        openMs,
        closeMs,
        data: names.map((n) => ({ symbol: n, market, bars: [], quotes: [] })),
      };
    }
    const start = new Date(openMs).toISOString();
    const end = new Date(endMs).toISOString();
    const data = await Promise.all(
      names.map(async (symbol) => {
        const [bars, quotes] = await Promise.all([
          this.bars(symbol, market, '1Min', start, end, this.sessionAdjustment),
          this.quotes(symbol, market, start, end),
        ]);
        return { symbol, market, bars, quotes };
      }),
    );
    return { market, openMs, closeMs, data };
  }

  /** {@link SessionFeed}: the session's bars and quotes with times as epoch ms. */
  async fetchSession(
    date: string,
    symbols: readonly string[],
    nowMs: number,
  ): Promise<readonly SessionFeedData[]> {
    const { data } = await this.fetchSessionData(date, symbols, nowMs);
    return data.map((d) => ({
      symbol: d.symbol,
      bars: d.bars.map((b) => ({
        t: Date.parse(b.t),
        open: b.o,
        high: b.h,
        low: b.l,
        close: b.c,
        volume: b.v,
      })),
      quotes: d.quotes.map((q) => ({ t: Date.parse(q.t), bid: q.bp, ask: q.ap })),
      quoteSizes: d.quotes.map((q) => [q.bs, q.as] as const),
    }));
  }

  /** {@link SessionFeed}: daily bars with Alpaca's `adjustment` (crypto is never adjusted). */
  async fetchDaily(
    symbol: string,
    from: string,
    to: string,
    adjustment: 'raw' | 'split' | 'all',
  ): Promise<readonly DailyBar[]> {
    return this.daily(symbol, from, to, adjustment);
  }

  private async session(
    date: string,
    symbols: readonly string[],
    nowMs: number,
  ): Promise<MarketSession> {
    const { market, data } = await this.fetchSessionData(date, symbols, nowMs);
    const complete = (t: number) => t + MINUTE_MS <= nowMs;
    const trades = data.map((d) => toMinuteTrades(d.bars.filter((b) => complete(Date.parse(b.t)))));
    const quotes = data.map((d) => toMinuteQuotes(d.quotes));
    if (Number.isFinite(nowMs) === false && trades.every((t) => t.t.length === 0)) {
      throw new NoSessionError(date, []);
    }
    const timestamps = unionSorted(trades.map((t) => t.t));
    const index = new Map<number, number>();
    for (let i = 0; i < timestamps.length; i++) index.set(timestamps[i] as number, i);
    const series = data.map((d, i) =>
      alignSeries(
        d.symbol,
        trades[i] as MinuteTrades,
        quotes[i] as MinuteQuotes,
        index,
        timestamps.length,
      ),
    );
    return { date, market, symbols: data.map((d) => d.symbol), timestamps, series };
  }

  async loadDaily(symbol: string, from: string, to: string): Promise<readonly DailyBar[]> {
    return this.daily(symbol, from, to, 'raw');
  }

  /** Daily bars with Alpaca's `adjustment=all` (splits and dividends); crypto unadjusted. */
  async loadDailyHistory(symbol: string, from: string, to: string): Promise<DailyHistory> {
    const market = this.marketOf(symbol);
    const bars = await this.daily(symbol, from, to, 'all');
    return market === 'crypto'
      ? {
          symbol: symbol.toUpperCase(),
          bars,
          adjustment: 'unadjusted',
          unadjustedReason: 'crypto has no corporate actions',
        }
      : {
          symbol: symbol.toUpperCase(),
          bars,
          adjustment: 'split-and-dividend',
          unadjustedReason: null,
        };
  }

  /**
   * Splits between two session dates, from the ratio of Alpaca's split-adjusted to raw daily
   * closes on each side (no extra endpoint; a dividend moves `split` adjustment not at all).
   */
  async splits(symbol: string, after: string, through: string): Promise<readonly SplitEvent[]> {
    if (this.marketOf(symbol) === 'crypto' || through <= after) return [];
    const [raw, split] = await Promise.all([
      this.daily(symbol, after, through, 'raw'),
      this.daily(symbol, after, through, 'split'),
    ]);
    const out: SplitEvent[] = [];
    for (let i = 1; i < raw.length; i++) {
      const k0 = (split[i - 1]?.close ?? 0) / (raw[i - 1]?.close ?? 1);
      const k1 = (split[i]?.close ?? 0) / (raw[i]?.close ?? 1);
      if (k0 > 0 && k1 > 0 && Math.abs(k0 / k1 - 1) > 1e-6) {
        out.push({
          symbol: symbol.toUpperCase(),
          effectiveDate: (raw[i] as DailyBar).date,
          ratio: k1 / k0,
        });
      }
    }
    return out;
  }

  /** NYSE (or every UTC day for crypto) sessions from `historyStart` to today. */
  async listSessions(symbols: readonly string[]): Promise<readonly string[]> {
    const { market } = this.resolve(symbols);
    const today = new Date(this.clock.now()).toISOString().slice(0, 10);
    return tradingDaysBetween(this.historyStart, today, market);
  }

  /** The latest minute bar of `symbol` (the paper-session tick), or null. */
  async latestBar(symbol: string): Promise<Bar | null> {
    return this.latest(symbol, 'bars');
  }

  /** The latest quote of `symbol`, or null. */
  async latestQuote(symbol: string): Promise<Quote | null> {
    return this.latest(symbol, 'quotes');
  }

  private async latest<K extends 'bars' | 'quotes'>(
    symbol: string,
    kind: K,
  ): Promise<(K extends 'bars' ? Bar : Quote) | null> {
    const market = this.marketOf(symbol);
    const one = kind === 'bars' ? BarSchema : QuoteSchema;
    if (market === 'crypto') {
      const pair = cryptoPair(symbol);
      const json = await this.getJson(
        `/v1beta3/crypto/us/latest/${kind}?${qs({ symbols: pair })}`,
        symbol,
      );
      const parsed = z.object({ [kind]: z.record(z.string(), one).optional() }).parse(json);
      const map = parsed[kind] as Record<string, unknown> | undefined;
      return (map?.[pair] ?? null) as never;
    }
    const json = await this.getJson(
      `/v2/stocks/${encodeURIComponent(symbol.toUpperCase())}/${kind}/latest?${qs({ feed: this.feed })}`,
      symbol,
    );
    const key = kind === 'bars' ? 'bar' : 'quote';
    const parsed = z.object({ [key]: one.nullable().optional() }).parse(json);
    return (parsed[key] ?? null) as never;
  }

  private async daily(
    symbol: string,
    from: string,
    to: string,
    adjustment: AlpacaAdjustment,
  ): Promise<DailyBar[]> {
    const market = this.marketOf(symbol);
    const bars = await this.bars(
      symbol.toUpperCase(),
      market,
      '1Day',
      `${from}T00:00:00Z`,
      `${to}T23:59:59Z`,
      adjustment,
    );
    return bars.map((b) => ({
      date: dayOf(b.t, market),
      open: b.o,
      high: b.h,
      low: b.l,
      close: b.c,
      volume: b.v,
    }));
  }

  private resolve(symbols: readonly string[]): {
    market: MarketSession['market'];
    names: string[];
  } {
    if (!Array.isArray(symbols) || symbols.length === 0) {
      throw new ValidationError('symbols', 'expected at least one symbol');
    }
    const names = symbols.map((s) => s.trim().toUpperCase().replace('/', ''));
    if (new Set(names).size !== names.length) {
      throw new ValidationError('symbols', 'duplicate symbol');
    }
    const markets = new Set(names.map((n) => this.marketOf(n)));
    if (markets.size > 1) throw new ValidationError('symbols', 'cannot mix markets in one session');
    return { market: [...markets][0] as MarketSession['market'], names };
  }

  /** Every page of bars of one symbol. */
  async bars(
    symbol: string,
    market: MarketSession['market'],
    timeframe: '1Min' | '1Day',
    start: string,
    end: string,
    adjustment: AlpacaAdjustment,
  ): Promise<Bar[]> {
    const out: Bar[] = [];
    let token: string | null | undefined;
    do {
      if (market === 'crypto') {
        const pair = cryptoPair(symbol);
        const q = {
          symbols: pair,
          timeframe,
          start,
          end,
          limit: this.pageLimit,
          page_token: token,
        };
        const page = CryptoBarsSchema.parse(
          await this.getJson(`/v1beta3/crypto/us/bars?${qs(q)}`, symbol),
        );
        out.push(...(page.bars?.[pair] ?? []));
        token = page.next_page_token;
      } else {
        const q = {
          timeframe,
          start,
          end,
          limit: this.pageLimit,
          page_token: token,
          feed: this.feed,
          adjustment,
        };
        const page = StockBarsSchema.parse(
          await this.getJson(`/v2/stocks/${encodeURIComponent(symbol)}/bars?${qs(q)}`, symbol),
        );
        out.push(...(page.bars ?? []));
        token = page.next_page_token;
      }
    } while (token);
    return out;
  }

  /** Every page of quotes of one symbol. */
  async quotes(
    symbol: string,
    market: MarketSession['market'],
    start: string,
    end: string,
  ): Promise<Quote[]> {
    const out: Quote[] = [];
    let token: string | null | undefined;
    do {
      if (market === 'crypto') {
        const pair = cryptoPair(symbol);
        const q = { symbols: pair, start, end, limit: this.pageLimit, page_token: token };
        const page = CryptoQuotesSchema.parse(
          await this.getJson(`/v1beta3/crypto/us/quotes?${qs(q)}`, symbol),
        );
        out.push(...(page.quotes?.[pair] ?? []));
        token = page.next_page_token;
      } else {
        const q = { start, end, limit: this.pageLimit, page_token: token, feed: this.feed };
        const page = StockQuotesSchema.parse(
          await this.getJson(`/v2/stocks/${encodeURIComponent(symbol)}/quotes?${qs(q)}`, symbol),
        );
        out.push(...(page.quotes ?? []));
        token = page.next_page_token;
      }
    } while (token);
    return out;
  }

  /**
   * GET with the shared limiter, 429 back-off and bounded retries of 5xx / network faults.
   * @throws UnknownSymbolError on 422/404 naming an invalid symbol; BrokerAuthError on
   *   401/403; TransientError after the retries; ValidationError on another 4xx.
   */
  private async getJson(path: string, symbol: string): Promise<unknown> {
    const where = `GET ${path.split('?')[0]}`;
    let failure: Retryable | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) {
        this.stats.retried++;
        await this.sleep(this.backoffMs(attempt - 1));
      }
      try {
        return await this.once(path, where, symbol);
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        failure = err;
      }
    }
    throw new TransientError(
      `alpaca data: ${where} failed after ${this.maxAttempts} attempts: ${failure?.message}`,
    );
  }

  private async once(path: string, where: string, symbol: string): Promise<unknown> {
    for (let limited = 0; ; limited++) {
      await this.limiter.acquire();
      this.stats.requests++;
      let res: Response;
      let text: string;
      try {
        res = await this.fetchFn(`${this.baseUrl}${path}`, {
          headers: this.#headers,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        text = await res.text();
      } catch (err) {
        const e = err as { name?: string };
        throw new Retryable(
          `${where}: ${e?.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : 'network error'}`,
        );
      }
      this.stats.bytes += text.length;
      if (res.status === 429) {
        this.stats.rateLimited++;
        if (limited >= this.maxRateLimitRetries) {
          throw new TransientError(
            `alpaca data: ${where} still rate limited after ${limited} retries`,
          );
        }
        const wait = this.rateLimitWaitMs(res.headers, limited + 1);
        this.limiter.blockUntil(this.clock.now() + wait);
        await this.sleep(wait);
        continue;
      }
      if (res.status >= 500) throw new Retryable(`${where}: HTTP ${res.status}`);
      if (res.status === 401 || res.status === 403) {
        throw new BrokerAuthError(
          `alpaca data: ${where}: not authorized (${res.status}); check the keys`,
        );
      }
      const message = this.messageOf(text);
      if ((res.status === 422 || res.status === 404) && /symbol/i.test(message)) {
        throw new UnknownSymbolError(symbol.toUpperCase(), []);
      }
      if (res.status !== 200) {
        throw new ValidationError('alpaca.request', `${where}: HTTP ${res.status}: ${message}`);
      }
      try {
        return JSON.parse(text);
      } catch {
        throw new Retryable(`${where}: response is not JSON`);
      }
    }
  }

  private rateLimitWaitMs(headers: Headers, retry: number): number {
    const now = this.clock.now();
    const retryAfter = Number(headers.get('retry-after') ?? Number.NaN);
    if (Number.isFinite(retryAfter)) return Math.max(0, retryAfter * 1000);
    const reset = Number(headers.get('x-ratelimit-reset') ?? Number.NaN);
    if (Number.isFinite(reset) && reset > 0)
      return Math.max(0, Math.min(60_000, reset * 1000 - now));
    return this.backoffMs(retry);
  }

  private backoffMs(n: number): number {
    return Math.floor(
      this.random() * Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (n - 1)),
    );
  }

  private messageOf(text: string): string {
    let message = text.slice(0, 200);
    try {
      const parsed = ErrorSchema.safeParse(JSON.parse(text));
      if (parsed.success && parsed.data.message) message = parsed.data.message;
    } catch {
      // not JSON
    }
    for (const s of this.#secrets) message = message.split(s).join('[redacted]');
    return message;
  }
}

/** `BTCUSD` → `BTC/USD` (a `BASE/QUOTE` symbol is kept). */
export function cryptoPair(symbol: string): string {
  const s = symbol.trim().toUpperCase();
  if (s.includes('/')) return s;
  return `${s.slice(0, -3)}/${s.slice(-3)}`;
}

/** Query string without undefined/null values. */
function qs(q: Record<string, string | number | null | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null) p.set(k, String(v));
  return p.toString();
}

/** Session date of a daily bar: New York date for equities (bars stamp 04:00/05:00Z), UTC for crypto. */
function dayOf(t: string, market: MarketSession['market']): string {
  const ms = Date.parse(t);
  if (market === 'crypto') return new Date(ms).toISOString().slice(0, 10);
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: NYSE_TIME_ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(ms);
}

function toMinuteTrades(bars: readonly Bar[]): MinuteTrades {
  return {
    t: Float64Array.from(bars, (b) => Date.parse(b.t)),
    open: Float64Array.from(bars, (b) => b.o),
    high: Float64Array.from(bars, (b) => b.h),
    low: Float64Array.from(bars, (b) => b.l),
    close: Float64Array.from(bars, (b) => b.c),
    volume: Float64Array.from(bars, (b) => b.v),
  };
}

/** The last quote of each minute, as a minute quote bar. */
function toMinuteQuotes(quotes: readonly Quote[]): MinuteQuotes {
  const last = new Map<number, Quote>();
  for (const q of quotes) last.set(Math.floor(Date.parse(q.t) / MINUTE_MS) * MINUTE_MS, q);
  const keys = [...last.keys()].sort((a, b) => a - b);
  const side = (v: number) => (v > 0 ? v : Number.NaN);
  return {
    t: Float64Array.from(keys),
    bidClose: Float64Array.from(keys, (k) => side((last.get(k) as Quote).bp)),
    askClose: Float64Array.from(keys, (k) => side((last.get(k) as Quote).ap)),
    bidSize: Float64Array.from(keys, (k) => (last.get(k) as Quote).bs),
    askSize: Float64Array.from(keys, (k) => (last.get(k) as Quote).as),
  };
}
