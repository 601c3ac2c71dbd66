/**
 * The live feed of {@link LiveSessionMarketData} behind a promise of the Alpaca market-data
 * keys: a deployed Lambda builds it at cold start without reading the secret, and the keys are
 * fetched (Secrets Manager through Powertools Parameters, `functions/composition/live-market-data.ts`)
 * only when a session in progress is first asked of Alpaca. A failed key load is retried on
 * the next request. The keys live only inside {@link AlpacaMarketData}'s headers: never in an
 * error, a log line or a record.
 */
import type { MarketSession } from '../../core/market/types.js';
import {
  AlpacaMarketData,
  type AlpacaMarketDataOptions,
  alpacaMarketOf,
  DEFAULT_CRYPTO_PAIRS,
} from './alpaca-market-data.js';
import type { LiveFeed } from './live-session-market-data.js';

/** Alpaca API keys (the secret's JSON `{keyId, secretKey}`). */
export interface AlpacaKeys {
  readonly keyId: string;
  readonly secretKey: string;
}

export class LazyAlpacaFeed implements LiveFeed {
  #feed: Promise<AlpacaMarketData> | undefined;

  /**
   * @param keys loads the keys (called at most once at a time; again after a failure).
   * @param options the adapter's options but the keys (feed, base URL, clock, crypto pairs).
   */
  constructor(
    private readonly keys: () => Promise<AlpacaKeys>,
    private readonly options: Omit<AlpacaMarketDataOptions, 'keyId' | 'secretKey'> = {},
  ) {}

  /** `crypto` or `equity-usa`, as the Alpaca adapter answers it (no keys needed). */
  marketOf(symbol: string): MarketSession['market'] {
    return alpacaMarketOf(symbol, this.options.cryptoPairs ?? DEFAULT_CRYPTO_PAIRS);
  }

  /**
   * The bars and quotes of the session on `date` that ended by `nowMs`, from Alpaca.
   * @throws BrokerAuthError / TransientError from the key load; the adapter's errors.
   */
  async loadSessionUpTo(
    date: string,
    symbols: readonly string[],
    nowMs: number,
  ): Promise<MarketSession> {
    return (await this.feed()).loadSessionUpTo(date, symbols, nowMs);
  }

  private feed(): Promise<AlpacaMarketData> {
    this.#feed ??= this.keys().then(
      (k) => new AlpacaMarketData({ ...this.options, keyId: k.keyId, secretKey: k.secretKey }),
      (err: unknown) => {
        this.#feed = undefined;
        throw err;
      },
    );
    return this.#feed;
  }
}
