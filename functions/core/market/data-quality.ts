/**
 * Data-quality checks of one ingested session, per symbol (pure): the session ingestion
 * (`functions/core/use-cases/session-ingestion.ts`) runs them on the minute bars and quotes
 * it pulled, stores the report beside the data and records it in the audit trail; a symbol
 * that fails is excluded from that day's cohort with the reasons named, never silently.
 *
 * Checks (each counted; the rules say which counts exclude a symbol):
 * - **missing minutes**: minutes of the session window `[openMs, closeMs)` with no trade bar
 *   (a halt shows up as a run of them; the longest run is reported);
 * - **non-positive prices**: bars with an open/high/low/close `<= 0` or not finite;
 * - **crossed quotes**: minutes whose last quote has bid > ask (both sides present);
 * - **false ticks**: a bar whose close moves more than `falseTickJumpFraction` from the
 *   previous close and comes back within that fraction of it on the next bar (the "spike and
 *   revert" rule of tick filters, e.g. Brownlees & Gallo 2006, "Financial econometric
 *   analysis at ultra-high frequency: data handling concerns", Comput. Stat. Data Anal. 51);
 * - **stale quotes**: the longest run of session minutes with no new quote (the quote in
 *   force is older than the run), in minutes.
 *
 * Units: times epoch ms UTC, prices USD, fractions in [0, 1].
 */
import { ValidationError } from '../errors.js';

/** One minute trade bar as ingested; `t` is the bar start, epoch ms UTC. */
export interface IngestedBar {
  readonly t: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** One quote as ingested (or a minute's last quote); `t` epoch ms UTC, prices USD. */
export interface IngestedQuote {
  readonly t: number;
  readonly bid: number;
  readonly ask: number;
}

/** Thresholds of {@link assessSessionQuality}; every count above its limit excludes the symbol. */
export interface QualityRules {
  /** Largest fraction of the session's minutes that may have no trade bar. */
  readonly maxMissingFraction: number;
  /** Largest number of bars with a non-positive or non-finite price. */
  readonly maxNonPositivePrices: number;
  /** Largest fraction of quoted minutes whose last quote is crossed (bid > ask). */
  readonly maxCrossedQuoteFraction: number;
  /** A close-to-close move above this fraction that reverts on the next bar is a false tick. */
  readonly falseTickJumpFraction: number;
  /** Largest number of false ticks. */
  readonly maxFalseTicks: number;
  /** Longest run of session minutes without a new quote, in minutes. */
  readonly maxStaleQuoteMinutes: number;
}

/** Defaults: a session may miss 10 % of its minutes, no bad price, 1 % crossed, 10 % spikes. */
export const DEFAULT_QUALITY_RULES: QualityRules = {
  maxMissingFraction: 0.1,
  maxNonPositivePrices: 0,
  maxCrossedQuoteFraction: 0.01,
  falseTickJumpFraction: 0.1,
  maxFalseTicks: 0,
  maxStaleQuoteMinutes: 30,
};

/** The quality of one symbol's session. */
export interface SymbolQuality {
  readonly symbol: string;
  /** Minutes in the session window (390 on a full NYSE day, 210 on an early close, 1440 crypto). */
  readonly expectedMinutes: number;
  /** Session minutes with a trade bar. */
  readonly barMinutes: number;
  readonly missingMinutes: number;
  /** Longest run of consecutive missing minutes (a halt, or no trading). */
  readonly longestGapMinutes: number;
  readonly nonPositivePrices: number;
  /** Minutes that have a quote. */
  readonly quotedMinutes: number;
  readonly crossedQuotes: number;
  readonly falseTicks: number;
  /** Longest run of session minutes with no new quote. */
  readonly staleQuoteMinutes: number;
  /** `ok`: usable by the cohort; `excluded`: left out of the day's cohort for `reasons`. */
  readonly status: 'ok' | 'excluded';
  /** Why the symbol is excluded (empty when ok), each naming the count and its limit. */
  readonly reasons: readonly string[];
}

const MINUTE_MS = 60_000;

/**
 * Validates the rules.
 * @throws ValidationError naming `quality.<field>` for a negative or non-finite value, or a
 *   fraction above 1.
 */
export function parseQualityRules(rules: Partial<QualityRules> = {}): QualityRules {
  const out = { ...DEFAULT_QUALITY_RULES, ...rules };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ValidationError(`quality.${k}`, `must be a finite number >= 0, got ${String(v)}`);
    }
    if (k.endsWith('Fraction') && v > 1 && k !== 'falseTickJumpFraction') {
      throw new ValidationError(`quality.${k}`, `is a fraction in [0, 1], got ${v}`);
    }
  }
  return out;
}

/** Closes that jump by more than `jump` (fraction) from the previous close and revert the next minute. */
function countFalseTicks(closes: readonly number[], jump: number): number {
  let falseTicks = 0;
  for (let i = 1; i + 1 < closes.length; i++) {
    const prev = closes[i - 1] as number;
    const cur = closes[i] as number;
    const next = closes[i + 1] as number;
    if (Math.abs(cur / prev - 1) > jump && Math.abs(next / prev - 1) <= jump) falseTicks++;
  }
  return falseTicks;
}

/** Why a symbol's session is excluded under `rules` (empty when it passes), in rule order. */
function exclusionReasons(
  q: Omit<SymbolQuality, 'status' | 'reasons'>,
  rules: QualityRules,
): string[] {
  const reasons: string[] = [];
  const { expectedMinutes, missingMinutes: missing, nonPositivePrices: nonPositive } = q;
  if (q.barMinutes === 0) reasons.push('no trade bar in the session');
  else if (expectedMinutes > 0 && missing / expectedMinutes > rules.maxMissingFraction) {
    reasons.push(
      `${missing} of ${expectedMinutes} minutes missing (longest gap ${q.longestGapMinutes} min) > ${rules.maxMissingFraction} of the session`,
    );
  }
  if (nonPositive > rules.maxNonPositivePrices) {
    reasons.push(
      `${nonPositive} bars with a zero, negative or non-finite price > ${rules.maxNonPositivePrices}`,
    );
  }
  if (q.quotedMinutes > 0 && q.crossedQuotes / q.quotedMinutes > rules.maxCrossedQuoteFraction) {
    reasons.push(
      `${q.crossedQuotes} of ${q.quotedMinutes} quoted minutes crossed (bid > ask) > ${rules.maxCrossedQuoteFraction}`,
    );
  }
  if (q.falseTicks > rules.maxFalseTicks) {
    reasons.push(
      `${q.falseTicks} false ticks (close jumps > ${rules.falseTickJumpFraction} and reverts) > ${rules.maxFalseTicks}`,
    );
  }
  if (q.staleQuoteMinutes > rules.maxStaleQuoteMinutes) {
    reasons.push(
      `quotes stale for ${q.staleQuoteMinutes} consecutive minutes > ${rules.maxStaleQuoteMinutes}`,
    );
  }
  return reasons;
}

/**
 * Assesses one symbol's session (see the module comment for each check).
 *
 * @param bars trade bars in any order; bars outside `[openMs, closeMs)` are ignored.
 * @param quotes quotes in any order; a minute's quote is its last one.
 * @param openMs session open, epoch ms UTC; `closeMs` its close (exclusive).
 */
export function assessSessionQuality(
  symbol: string,
  bars: readonly IngestedBar[],
  quotes: readonly IngestedQuote[],
  openMs: number,
  closeMs: number,
  rules: QualityRules = DEFAULT_QUALITY_RULES,
): SymbolQuality {
  const expectedMinutes = Math.max(0, Math.round((closeMs - openMs) / MINUTE_MS));
  const inSession = (t: number) => t >= openMs && t < closeMs;
  const byMinute = new Map<number, IngestedBar>();
  for (const b of bars) if (inSession(b.t)) byMinute.set(minuteOf(b.t, openMs), b);
  const lastQuote = new Map<number, IngestedQuote>();
  for (const q of [...quotes].sort((a, b) => a.t - b.t)) {
    if (q.t < closeMs) lastQuote.set(Math.max(-1, minuteOf(q.t, openMs)), q);
  }

  let longestGap = 0;
  let gap = 0;
  let stale = 0;
  let longestStale = 0;
  let nonPositive = 0;
  let crossed = 0;
  let quoted = 0;
  const closes: number[] = [];
  for (let m = 0; m < expectedMinutes; m++) {
    const bar = byMinute.get(m);
    if (bar === undefined) {
      gap++;
      longestGap = Math.max(longestGap, gap);
    } else {
      gap = 0;
      const prices = [bar.open, bar.high, bar.low, bar.close];
      if (prices.some((p) => !Number.isFinite(p) || p <= 0)) nonPositive++;
      else closes.push(bar.close);
    }
    const q = lastQuote.get(m);
    if (q === undefined) {
      stale++;
      longestStale = Math.max(longestStale, stale);
    } else {
      stale = 0;
      quoted++;
      if (q.bid > 0 && q.ask > 0 && q.bid > q.ask) crossed++;
    }
  }

  const measured = {
    symbol,
    expectedMinutes,
    barMinutes: byMinute.size,
    missingMinutes: expectedMinutes - byMinute.size,
    longestGapMinutes: longestGap,
    nonPositivePrices: nonPositive,
    quotedMinutes: quoted,
    crossedQuotes: crossed,
    falseTicks: countFalseTicks(closes, rules.falseTickJumpFraction),
    staleQuoteMinutes: longestStale,
  };
  const reasons = exclusionReasons(measured, rules);
  return { ...measured, status: reasons.length === 0 ? 'ok' : 'excluded', reasons };
}

function minuteOf(t: number, openMs: number): number {
  return Math.floor((t - openMs) / MINUTE_MS);
}
