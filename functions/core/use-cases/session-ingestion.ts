/**
 * Session ingestion: after a session closes, pull its minute bars and quotes for the universe
 * from the market-data provider (Alpaca), check their quality, store the usable symbols in
 * the LEAN tree the cohorts read (minute trade/quote files, the raw daily file and, for
 * equities, a factor file derived from the provider's adjusted daily closes), and store the
 * data-quality report beside them. The state machine `statemachines/session-ingestion.asl.json`
 * records the report in the audit trail (`session_ingested`) and then starts the session's
 * cohort on the included symbols only: an excluded symbol is left out with its reasons named.
 *
 * Time: the session date comes from the schedule's `scheduledTime` (the New York date for
 * equities, the UTC day that just ended for crypto) or an operator's `sessionDate` (backfill);
 * "now" is the clock's, never an input. A run before the session's close (the 13:05 slot on a
 * day with a 16:00 close) and a run on a closed day are skips; a session already ingested is
 * a skip too (the 16:05 slot after an early close was ingested at 13:05), so the chain runs
 * once per session.
 */
import * as z from 'zod';
import type { Clock } from '../../ports/clock.js';
import type {
  Market,
  MarketDataArchive,
  SessionFeed,
  SessionQualityReport,
} from '../../ports/session-ingestion.js';
import { isTradingDay, sessionHours } from '../calendar/market-calendar.js';
import { ValidationError, validationErrorOf } from '../errors.js';
import { factorRowsFromAdjustedCloses } from '../market/corporate-actions.js';
import {
  assessSessionQuality,
  DEFAULT_QUALITY_RULES,
  parseQualityRules,
  type QualityRules,
} from '../market/data-quality.js';
import { resolveSessionDate } from './intraday-cohort.js';

/** Settings of the ingestion (deployment config `ingestion`). */
export interface IngestionConfig {
  /** The universe: symbols of one market (US equities or crypto pairs). */
  readonly symbols: readonly string[];
  /**
   * The crypto universe a request with `market: 'crypto'` ingests (the deployed crypto
   * stage's `cohort.cryptoSymbols`); absent or empty: such a request is refused.
   */
  readonly cryptoSymbols?: readonly string[];
  /** Calendar days of daily history rewritten with each session (VaR needs ~250 sessions). */
  readonly dailyLookbackDays: number;
  readonly quality: QualityRules;
}

const SYMBOL = /^[A-Z][A-Z0-9.]{0,9}(\/[A-Z]{3,4})?$/;

export const IngestionConfigSchema = z.strictObject({
  symbols: z.array(z.string().regex(SYMBOL)).min(1),
  cryptoSymbols: z.array(z.string().regex(SYMBOL)).optional(),
  dailyLookbackDays: z.number().int().min(30).max(3660).default(550),
  quality: z
    .strictObject({
      maxMissingFraction: z.number().optional(),
      maxNonPositivePrices: z.number().optional(),
      maxCrossedQuoteFraction: z.number().optional(),
      falseTickJumpFraction: z.number().optional(),
      maxFalseTicks: z.number().optional(),
      maxStaleQuoteMinutes: z.number().optional(),
    })
    .default({}),
});

/**
 * Validates the ingestion settings.
 * @throws ValidationError naming `ingestion.<field>`.
 */
export function parseIngestionConfig(value: unknown): IngestionConfig {
  const parsed = IngestionConfigSchema.safeParse(value);
  if (!parsed.success) throw validationErrorOf(parsed.error, 'ingestion');
  const quality = parseQualityRules(
    Object.fromEntries(Object.entries(parsed.data.quality).filter(([, v]) => v !== undefined)),
  );
  return {
    symbols: parsed.data.symbols,
    ...(parsed.data.cryptoSymbols?.length ? { cryptoSymbols: parsed.data.cryptoSymbols } : {}),
    dailyLookbackDays: parsed.data.dailyLookbackDays,
    quality,
  };
}

/** The execution input: what the schedule (or an operator's backfill) sends. */
export const IngestionRequestSchema = z.strictObject({
  source: z.enum(['schedule', 'cli']),
  /** The schedule's firing time, UTC ISO-8601 (EventBridge Scheduler `<aws.scheduler.scheduled-time>`). */
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
  /** A past session to ingest (backfill), `YYYY-MM-DD`; the CLI only. */
  sessionDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  /**
   * The universe to ingest: `crypto` takes `cryptoSymbols` (the crypto schedule's input, the
   * UTC day that just ended), `equity-usa` takes `symbols`. Absent: `symbols`, whatever
   * market they are of.
   */
  market: z.enum(['equity-usa', 'crypto']).optional(),
});
export type IngestionRequest = z.infer<typeof IngestionRequestSchema>;

export interface IngestionDeps {
  readonly feed: SessionFeed;
  readonly archive: MarketDataArchive;
  readonly clock: Clock;
  readonly config: IngestionConfig;
}

/** What the ingestion step returns to the state machine. */
export type IngestionResult =
  | {
      readonly skipped: true;
      readonly sessionDate: string;
      readonly market: Market;
      readonly reason: string;
    }
  | {
      readonly skipped: false;
      readonly sessionDate: string;
      readonly market: Market;
      /** Symbols stored and usable by the cohort (may be empty: then no cohort runs). */
      readonly included: readonly string[];
      readonly excluded: SessionQualityReport['excluded'];
      /** Per-symbol counts for the audit record (missing minutes, crossed quotes, ...). */
      readonly quality: readonly {
        readonly symbol: string;
        readonly status: 'ok' | 'excluded';
        readonly missing_minutes: number;
        readonly longest_gap_minutes: number;
        readonly non_positive_prices: number;
        readonly crossed_quotes: number;
        readonly false_ticks: number;
        readonly stale_quote_minutes: number;
      }[];
      readonly requests: number;
      readonly bytesRead: number;
      readonly bytesStored: number;
    };

const DAY_MS = 86_400_000;

/**
 * The symbols a request ingests and their market (see {@link IngestionRequestSchema} `market`).
 * @throws ValidationError (`ingestion.cryptoSymbols`) for a crypto request on a stage without
 *   crypto pairs; (`ingestion.symbols`) for a universe of two markets, or not of `requested`.
 */
function universeOf(
  deps: Pick<IngestionDeps, 'config' | 'feed'>,
  requested: Market | undefined,
): { readonly symbols: string[]; readonly market: Market } {
  const field = requested === 'crypto' ? 'ingestion.cryptoSymbols' : 'ingestion.symbols';
  const listed = requested === 'crypto' ? (deps.config.cryptoSymbols ?? []) : deps.config.symbols;
  if (listed.length === 0) {
    throw new ValidationError(field, 'is empty: this stage ingests no crypto pair');
  }
  const symbols = listed.map((s) => s.toUpperCase());
  const markets = new Set(symbols.map((s) => deps.feed.marketOf(s)));
  if (markets.size !== 1) {
    throw new ValidationError(field, 'one market per ingestion (equities or crypto)');
  }
  const market = [...markets][0] as Market;
  if (requested !== undefined && market !== requested) {
    throw new ValidationError(field, `holds ${market} symbols, not ${requested}`);
  }
  return { symbols, market };
}

/**
 * The request checked (zod, strict) and resolved: the symbols of its universe (upper case,
 * see {@link universeOf}), their one market, and the session date (given, or the one the
 * schedule fired for).
 * @throws ValidationError naming the request field, or `ingestion.symbols` /
 *   `ingestion.cryptoSymbols` for a universe of no, mixed or another market.
 */
function resolveIngestion(
  deps: IngestionDeps,
  input: unknown,
): { symbols: string[]; market: Market; sessionDate: string } {
  const parsed = IngestionRequestSchema.safeParse(input);
  if (!parsed.success) throw validationErrorOf(parsed.error, 'request');
  const request = parsed.data;
  if (!request.sessionDate && !request.scheduledTime) {
    throw new ValidationError('request.scheduledTime', 'scheduledTime or sessionDate is required');
  }
  const { symbols, market } = universeOf(deps, request.market);
  const sessionDate = resolveSessionDate({
    ...(request.sessionDate ? { sessionDate: request.sessionDate } : {}),
    ...(request.scheduledTime ? { scheduledTime: request.scheduledTime } : {}),
    market,
  });
  return { symbols, market, sessionDate };
}

/**
 * Writes the daily history (raw bars and, for US equities, split/dividend factors) of each
 * included symbol over the configured lookback ending on `sessionDate`.
 * @returns bytes stored.
 */
async function writeDailyHistory(
  deps: IngestionDeps,
  market: Market,
  sessionDate: string,
  symbols: ReadonlySet<string>,
): Promise<number> {
  let bytesStored = 0;
  const from = new Date(
    Date.parse(`${sessionDate}T00:00:00Z`) - deps.config.dailyLookbackDays * DAY_MS,
  )
    .toISOString()
    .slice(0, 10);
  for (const symbol of symbols) {
    const raw = await deps.feed.fetchDaily(symbol, from, sessionDate, 'raw');
    let factors = null;
    if (market === 'equity-usa' && raw.length > 0) {
      const [split, all] = await Promise.all([
        deps.feed.fetchDaily(symbol, from, sessionDate, 'split'),
        deps.feed.fetchDaily(symbol, from, sessionDate, 'all'),
      ]);
      factors = factorRowsFromAdjustedCloses(raw, split, all);
    }
    bytesStored += await deps.archive.writeDaily(market, symbol, raw, factors);
  }
  return bytesStored;
}

/**
 * Ingests one session (see the module comment).
 * @throws ValidationError for a bad request or mixed markets; what the feed and archive
 *   throw (UnknownSymbolError, TransientError, BrokerAuthError).
 */
export async function ingestSession(deps: IngestionDeps, input: unknown): Promise<IngestionResult> {
  const { symbols, market, sessionDate } = resolveIngestion(deps, input);
  const skip = (reason: string): IngestionResult => ({
    skipped: true,
    sessionDate,
    market,
    reason,
  });
  if (!isTradingDay(sessionDate, market)) return skip(`${market} market closed on ${sessionDate}`);
  const hours = sessionHours(sessionDate, market);
  if (hours === null) return skip(`${market} market closed on ${sessionDate}`);
  const openMs = Date.parse(hours.openIso);
  const closeMs = Date.parse(hours.closeIso);
  const nowMs = deps.clock.now();
  if (nowMs < closeMs) {
    return skip(`the ${sessionDate} session closes at ${hours.closeIso}; not closed yet`);
  }
  const existing = await deps.archive.readQualityReport(market, sessionDate);
  if (existing !== null) {
    return skip(`the ${sessionDate} session was already ingested at ${existing.ingestedAtIso}`);
  }

  const readBefore = { ...deps.feed.stats };
  const data = await deps.feed.fetchSession(sessionDate, symbols, nowMs);
  const rules = deps.config.quality ?? DEFAULT_QUALITY_RULES;
  const qualities = data.map((d) =>
    assessSessionQuality(d.symbol, d.bars, d.quotes, openMs, closeMs, rules),
  );
  const ok = new Set(qualities.filter((q) => q.status === 'ok').map((q) => q.symbol));
  let bytesStored = await deps.archive.writeSession(
    market,
    sessionDate,
    data.filter((d) => ok.has(d.symbol)),
  );

  bytesStored += await writeDailyHistory(deps, market, sessionDate, ok);

  const report: SessionQualityReport = {
    sessionDate,
    market,
    ingestedAtIso: new Date(nowMs).toISOString(),
    closeIso: hours.closeIso,
    symbols: qualities,
    included: qualities.filter((q) => q.status === 'ok').map((q) => q.symbol),
    excluded: qualities
      .filter((q) => q.status === 'excluded')
      .map((q) => ({ symbol: q.symbol, reasons: q.reasons })),
  };
  // Written last: its presence means the session's files are complete.
  bytesStored += await deps.archive.writeQualityReport(report);
  return {
    skipped: false,
    sessionDate,
    market,
    included: report.included,
    excluded: report.excluded,
    quality: qualities.map((q) => ({
      symbol: q.symbol,
      status: q.status,
      missing_minutes: q.missingMinutes,
      longest_gap_minutes: q.longestGapMinutes,
      non_positive_prices: q.nonPositivePrices,
      crossed_quotes: q.crossedQuotes,
      false_ticks: q.falseTicks,
      stale_quote_minutes: q.staleQuoteMinutes,
    })),
    requests: deps.feed.stats.requests - readBefore.requests,
    bytesRead: deps.feed.stats.bytes - readBefore.bytes,
    bytesStored,
  };
}
