/**
 * `stagegate data pull`: builds a local LEAN data tree from the Alpaca Market Data API for a
 * user with keys, through the SAME path the deployed session ingestion takes
 * (`functions/core/use-cases/session-ingestion.ts` over the Alpaca market-data adapter and the
 * LEAN archive): per trading session of the range, the minute trade and quote files of the
 * symbols that pass the data-quality checks, the raw daily file and (equities) a factor file
 * derived from Alpaca's adjusted closes, and the session's data-quality report under
 * `quality/`. The tree is what `--data` reads.
 *
 * Keys come from the environment variables Alpaca's own SDKs read (`APCA_API_KEY_ID`,
 * `APCA_API_SECRET_KEY`), never from a flag (a flag would land in the shell history) and are
 * never printed. The endpoint is `ALPACA_DATA_BASE_URL` (the Lambda's variable; default
 * Alpaca's `https://data.alpaca.markets`).
 */
import path from 'node:path';
import { AlpacaMarketData } from '../functions/adapters/market-data/alpaca-market-data.js';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import { FileSystemBlobSink, LeanArchive } from '../functions/adapters/market-data/lean-archive.js';
import {
  CALENDAR_FIRST_DATE,
  CALENDAR_LAST_DATE,
  tradingDaysBetween,
} from '../functions/core/calendar/market-calendar.js';
import { UnknownSymbolError, ValidationError } from '../functions/core/errors.js';
import { DEFAULT_QUALITY_RULES } from '../functions/core/market/data-quality.js';
import {
  type IngestionResult,
  ingestSession,
  parseIngestionConfig,
} from '../functions/core/use-cases/session-ingestion.js';
import { type Clock, systemClock } from '../functions/ports/clock.js';
import type { Market } from '../functions/ports/session-ingestion.js';

/** What `data pull` was asked for (validated by {@link parsePullRequest}). */
export interface PullRequest {
  /** Upper-case symbols of one market (`SPY`, `BTCUSD` or `BTC/USD`). */
  readonly symbols: readonly string[];
  /** First and last session date, `YYYY-MM-DD` (New York dates; UTC days for crypto). */
  readonly from: string;
  readonly to: string;
  /** The LEAN tree written (absolute). */
  readonly out: string;
  readonly feed: 'iex' | 'sip';
  /** Calendar days of daily history written with each session. */
  readonly dailyLookbackDays: number;
}

/** A refused request: the CLI exits 2 (usage error) with this message, naming the flag. */
export class PullUsageError extends Error {
  override name = 'PullUsageError';
}

/** Longest range one pull accepts, calendar days (a year of sessions). */
export const MAX_PULL_DAYS = 366;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isRealDate(d: string): boolean {
  const ms = Date.parse(`${d}T00:00:00Z`);
  return DATE.test(d) && Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === d;
}

/**
 * Checks the flags of `data pull`.
 * @throws PullUsageError naming the flag: no symbol, a malformed symbol, a date that is not a
 *   real `YYYY-MM-DD`, `--from` after `--to`, a range over {@link MAX_PULL_DAYS} days, a
 *   `--to` not before today (the session is not over), symbols of two markets.
 */
export function parsePullRequest(
  flags: {
    symbols: readonly string[];
    from: string;
    to: string;
    out: string;
    feed: 'iex' | 'sip';
    dailyLookbackDays: number;
  },
  todayUtc: string,
): PullRequest & { market: Market } {
  const symbols = flags.symbols.map((s) => s.toUpperCase());
  if (symbols.length === 0) throw new PullUsageError('--symbols needs at least one symbol');
  let config: ReturnType<typeof parseIngestionConfig>;
  try {
    config = parseIngestionConfig({
      symbols,
      dailyLookbackDays: flags.dailyLookbackDays,
    });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const bad = symbols.find((s) => !/^[A-Z][A-Z0-9.]{0,9}(\/[A-Z]{3,4})?$/.test(s));
    throw new PullUsageError(
      bad
        ? `--symbols: "${bad}" is not a symbol (letters, digits and dots, e.g. SPY, BRK.B, BTC/USD)`
        : `--daily-lookback-days must be from 30 to 3660, got ${flags.dailyLookbackDays}`,
    );
  }
  for (const [flag, d] of [
    ['--from', flags.from],
    ['--to', flags.to],
  ] as const) {
    if (!isRealDate(d)) throw new PullUsageError(`${flag} must be a date YYYY-MM-DD, got "${d}"`);
    if (d < CALENDAR_FIRST_DATE || d > CALENDAR_LAST_DATE) {
      throw new PullUsageError(
        `${flag} must be within the market calendar (${CALENDAR_FIRST_DATE}..${CALENDAR_LAST_DATE}), got ${d}`,
      );
    }
  }
  if (flags.from > flags.to) {
    throw new PullUsageError(`--from ${flags.from} is after --to ${flags.to}`);
  }
  const days = (Date.parse(flags.to) - Date.parse(flags.from)) / 86_400_000 + 1;
  if (days > MAX_PULL_DAYS) {
    throw new PullUsageError(
      `--from..--to spans ${days} days; one pull takes at most ${MAX_PULL_DAYS} (split the range)`,
    );
  }
  if (flags.to >= todayUtc) {
    throw new PullUsageError(
      `--to ${flags.to} is not before today (${todayUtc} UTC): a session is pulled once it is over`,
    );
  }
  const feed = new AlpacaMarketData({ keyId: 'x', secretKey: 'x' });
  const markets = new Set(config.symbols.map((s) => feed.marketOf(s)));
  if (markets.size !== 1) {
    throw new PullUsageError(
      `--symbols mixes US equities and crypto pairs (${symbols.join(',')}): one market per pull`,
    );
  }
  return {
    symbols: config.symbols,
    from: flags.from,
    to: flags.to,
    out: path.resolve(flags.out),
    feed: flags.feed,
    dailyLookbackDays: config.dailyLookbackDays,
    market: [...markets][0] as Market,
  };
}

/** The Alpaca keys from the environment. @throws PullUsageError naming the missing variable. */
export function alpacaKeysFromEnv(env: NodeJS.ProcessEnv): { keyId: string; secretKey: string } {
  const keyId = env.APCA_API_KEY_ID ?? '';
  const secretKey = env.APCA_API_SECRET_KEY ?? '';
  const missing = [
    ...(keyId ? [] : ['APCA_API_KEY_ID']),
    ...(secretKey ? [] : ['APCA_API_SECRET_KEY']),
  ];
  if (missing.length > 0) {
    throw new PullUsageError(
      `set ${missing.join(' and ')} (your Alpaca key pair; paper keys serve market data too)`,
    );
  }
  return { keyId, secretKey };
}

/** One session of the pull. */
export type PulledSession = IngestionResult;

/** A pull that stopped on a session: names the date and, when known, the symbol. */
export class PullError extends Error {
  override name = 'PullError';
  constructor(
    readonly date: string,
    readonly symbol: string | null,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Pulls every trading session of `[from, to]` on the symbols' calendar (see the module
 * comment), one after the other; `onSession` sees each result as it lands.
 * @throws PullError naming the date (and the symbol Alpaca does not know); the sessions
 *   before it stay written.
 */
export async function pullData(
  request: PullRequest & { market: Market },
  deps: {
    keys: { keyId: string; secretKey: string };
    baseUrl?: string;
    clock?: Clock;
    onSession?: (s: PulledSession) => void;
  },
): Promise<PulledSession[]> {
  const clock = deps.clock ?? systemClock;
  const feed = new AlpacaMarketData({
    ...deps.keys,
    feed: request.feed,
    ...(deps.baseUrl ? { baseUrl: deps.baseUrl } : {}),
    clock,
  });
  const archive = new LeanArchive(
    new FileSystemBlobSource(request.out),
    new FileSystemBlobSink(request.out),
  );
  const config = {
    symbols: request.symbols,
    dailyLookbackDays: request.dailyLookbackDays,
    quality: DEFAULT_QUALITY_RULES,
  };
  const out: PulledSession[] = [];
  for (const date of tradingDaysBetween(request.from, request.to, request.market)) {
    let result: PulledSession;
    try {
      result = await ingestSession(
        { feed, archive, clock, config },
        { source: 'cli', sessionDate: date },
      );
    } catch (err) {
      if (err instanceof UnknownSymbolError) {
        throw new PullError(
          date,
          err.symbol,
          `Alpaca does not know the symbol ${err.symbol} (pulling the ${date} session); sessions before ${date} are written`,
        );
      }
      throw new PullError(
        date,
        null,
        `pulling the ${date} session failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}; sessions before ${date} are written`,
      );
    }
    out.push(result);
    deps.onSession?.(result);
  }
  return out;
}
