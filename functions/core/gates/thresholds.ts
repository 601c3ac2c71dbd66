/**
 * Gate thresholds: every number a promotion gate / circuit breaker compares an observation
 * with. The per-environment config (`lib/config`) supplies one {@link GateThresholds} per
 * stage; the gates themselves hold no hidden defaults.
 *
 * Units are in the field names:
 * - `...Fraction`: a fraction (0.05 = 5 %), of the denominator named in the JSDoc;
 * - `...Bps`: basis points (1 bp = 0.0001);
 * - `...Seconds`: seconds;
 * - `...Ny`: wall-clock time `HH:MM` (24 h) in America/New_York;
 * - `...Utc`: wall-clock time `HH:MM` (24 h) in UTC;
 * - `...Confidence`: the VaR / expected-shortfall confidence level α as a fraction (0.99);
 * - counts are integers, leverage is a ratio (gross notional / equity, "x").
 */
import * as z from 'zod';

/** `HH:MM`, 24-hour clock, 00:00..23:59. */
const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24-hour clock, America/New_York)');

/** `HH:MM`, 24-hour clock in UTC, 00:00..23:59. */
const hhmmUtc = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24-hour clock, UTC)');

/** A fraction strictly above 0 and at most 1. */
const unitFraction = z.number().gt(0).lte(1);

/** A confidence level α for VaR / ES, strictly between 0.5 and 1. */
const confidence = z.number().gt(0.5).lt(1);

/** Minutes since midnight of an `HH:MM` string already validated by {@link hhmm}. */
const minutesOfDay = (value: string): number => {
  const [h = '0', m = '0'] = value.split(':');
  return Number(h) * 60 + Number(m);
};

/**
 * Zod schema of {@link GateThresholds}. Strict: an unknown (misspelt) key is rejected rather
 * than silently ignored, and the promotion window must open before it closes (same day,
 * America/New_York).
 */
/** The thresholds' fields without the cross-field rule (for configs that compose them). */
export const GateThresholdFieldsSchema = z.strictObject({
  /** Max drawdown of the parent wallet (bankroll) from its peak equity, fraction of peak. */
  maxParentDrawdownFraction: unitFraction,
  /** Max drawdown of the candidate agent from its peak equity, fraction of peak. */
  maxAgentDrawdownFraction: unitFraction,
  /** Confidence level α of the one-session VaR gates (historical and parametric), e.g. 0.99. */
  varConfidence: confidence,
  /** Confidence level α of the one-session expected-shortfall gates, e.g. 0.975 (Basel FRTB). */
  esConfidence: confidence,
  /**
   * Min number of P&L observations for VaR/ES: minute P&L of the strategy (capped at the
   * minutes of its session, so an early close still counts) and, for the underlying's labelled
   * view, sessions of open-to-close history; fewer fails closed. Count.
   */
  varMinObservations: z.number().int().min(2),
  /**
   * Max one-session VaR of the candidate strategy's own P&L, fraction of the capital slice it
   * will trade (`risk/strategy-pnl.ts`).
   */
  maxVar1dFraction: z.number().positive(),
  /** Max one-session expected shortfall of the strategy's own P&L, fraction of the slice. */
  maxExpectedShortfall1dFraction: z.number().positive(),
  /** Max |notional| in any one symbol after the trade, fraction of capital. */
  maxSymbolExposureFraction: z.number().positive(),
  /** Max gross notional (sum of |notional| over symbols) after the trade, fraction of capital. */
  maxAggregateExposureFraction: z.number().positive(),
  /** Max leverage of the candidate: gross notional / candidate equity, ratio ("x"), >= 1. */
  maxLeverage: z.number().min(1),
  /**
   * Min number of round trips (a position opened and closed back to flat) the candidate made
   * in its evaluation window (`scoring/round-trips.ts`); fills are reported beside it. Count.
   */
  minTradeCount: z.number().int().min(0),
  /** Max order size as a fraction of the last minute bar's volume (participation rate). */
  maxMinuteVolumeParticipationFraction: unitFraction,
  /** Max order size as a fraction of the daily volume (participation rate). */
  maxDailyVolumeParticipationFraction: unitFraction,
  /** Max quoted spread (ask − bid) / mid, basis points. */
  maxQuotedSpreadBps: z.number().positive(),
  /** Max age of the last bar vs the injected `now`, seconds. */
  maxBarAgeSeconds: z.number().positive(),
  /**
   * Min probabilistic Sharpe ratio PSR(0) of the candidate's own session returns (Bailey &
   * López de Prado 2012), a probability; the Day-3 `psr` gate.
   */
  minPsr: unitFraction,
  /**
   * Min deflated Sharpe ratio of the candidate's own session returns, deflated by the number
   * of distinct genomes evaluated since the pool was seeded (Bailey & López de Prado 2014), a
   * probability; the Day-3 `dsr` gate.
   */
  minDsr: unitFraction,
  /**
   * Min number of sessions in the candidate's own track record for its Sharpe ratio (and PSR,
   * DSR) to count as evidence, and for a daily Sharpe ratio to be annualized by √252. Count.
   */
  minEvidenceSessions: z.number().int().min(2),
  /**
   * Min number of out-of-sample sessions of the candidate: sessions after the last one its
   * selection looked at (walk-forward; docs/evidence.md), on which its mean session return must
   * also be positive; the Day-3 `oos` gate. Count >= 1.
   */
  minOutOfSampleSessions: z.number().int().min(1),
  /**
   * Length of the VaR / ES lookback, sessions (1..20): the candidate genome's own sessions
   * among the cohorts of its latest `riskLookbackSessions` session dates (its promotion's and the
   * ones before; the Day-3 review's latest reviewed days), pooled, beside its latest session
   * alone; the worse is judged (`riskGate`, docs/evidence.md "Risk on the strategy's own P&L").
   * 1 judges the latest session alone.
   */
  riskLookbackSessions: z.number().int().min(1).max(20),
  /** Promotion window opens at this local time (inclusive), `HH:MM` America/New_York. */
  promotionWindowOpenNy: hhmm,
  /** Promotion window closes at this local time (exclusive), `HH:MM` America/New_York. */
  promotionWindowCloseNy: hhmm,
  /**
   * Crypto promotion window (24 h UTC sessions, `market-calendar.ts`): opens at this UTC time
   * (inclusive), `HH:MM` UTC. Absent (with its close): crypto candidates have no window and
   * the `promotion_window` gate fails closed for them.
   */
  cryptoPromotionWindowOpenUtc: hhmmUtc.optional(),
  /** Crypto promotion window closes at this UTC time (exclusive), `HH:MM` UTC. */
  cryptoPromotionWindowCloseUtc: hhmmUtc.optional(),
});

export const GateThresholdsSchema = GateThresholdFieldsSchema.refine(
  (t) => minutesOfDay(t.promotionWindowOpenNy) < minutesOfDay(t.promotionWindowCloseNy),
  {
    message: 'promotionWindowOpenNy must be earlier than promotionWindowCloseNy (same day)',
    path: ['promotionWindowCloseNy'],
  },
)
  .refine(
    (t) =>
      (t.cryptoPromotionWindowOpenUtc === undefined) ===
      (t.cryptoPromotionWindowCloseUtc === undefined),
    {
      message: 'cryptoPromotionWindowOpenUtc and cryptoPromotionWindowCloseUtc go together',
      path: ['cryptoPromotionWindowCloseUtc'],
    },
  )
  .refine(
    (t) =>
      t.cryptoPromotionWindowOpenUtc === undefined ||
      t.cryptoPromotionWindowCloseUtc === undefined ||
      minutesOfDay(t.cryptoPromotionWindowOpenUtc) < minutesOfDay(t.cryptoPromotionWindowCloseUtc),
    {
      message:
        'cryptoPromotionWindowOpenUtc must be earlier than cryptoPromotionWindowCloseUtc (same UTC day)',
      path: ['cryptoPromotionWindowCloseUtc'],
    },
  );

/** Thresholds of every gate; see {@link GateThresholdsSchema} for units and bounds. */
export type GateThresholds = z.infer<typeof GateThresholdsSchema>;

/**
 * THE default thresholds: every stage's config (`lib/config/environments.ts`, `gates` and the
 * promotion window `promotion.windows[0]`) is built from these, and a stage tightens them only
 * by an explicit override; the gates themselves hold no hidden defaults.
 *
 * Rationale: 10 % parent / 5 % agent drawdown stops; 99 % one-session VaR ≤ 2 % and 97.5 % ES
 * ≤ 3 % of the capital slice, on the strategy's own minute P&L (250 minutes, or its whole
 * session on an early close; the underlying's view on 250 sessions); a single symbol ≤ 20 % and
 * gross ≤ 50 % of capital; leverage at most 4x at promotion (the micro-live slice's policy may
 * step up to its own 10x cap later, on evidence); at least 4 round trips; ≤ 5 % of a minute's
 * and ≤ 1 % of a day's volume; spread ≤ 20 bps; bars ≤ 120 s old; promotions only 10:00–15:30
 * New York time, away from the opening and closing auctions (crypto, 24 h UTC sessions:
 * 00:30–23:00 UTC, after the previous UTC day's cohort and well before the session's flatten
 * at 00:00 UTC); PSR and DSR at least 0.95 (the papers' usual 95 % confidence) on at least 20
 * sessions (about a trading month: fewer daily returns say too little about skewness and
 * kurtosis), and a positive mean return on at least one session after the candidate's
 * selection (out of sample); a VaR / ES lookback of 3 sessions (the Day-3 review's window).
 */
export const DEFAULT_GATE_THRESHOLDS: GateThresholds = GateThresholdsSchema.parse({
  maxParentDrawdownFraction: 0.1,
  maxAgentDrawdownFraction: 0.05,
  varConfidence: 0.99,
  esConfidence: 0.975,
  varMinObservations: 250,
  maxVar1dFraction: 0.02,
  maxExpectedShortfall1dFraction: 0.03,
  maxSymbolExposureFraction: 0.2,
  maxAggregateExposureFraction: 0.5,
  maxLeverage: 4,
  minTradeCount: 4,
  maxMinuteVolumeParticipationFraction: 0.05,
  maxDailyVolumeParticipationFraction: 0.01,
  maxQuotedSpreadBps: 20,
  maxBarAgeSeconds: 120,
  minPsr: 0.95,
  minDsr: 0.95,
  minEvidenceSessions: 20,
  minOutOfSampleSessions: 1,
  riskLookbackSessions: 3,
  promotionWindowOpenNy: '10:00',
  promotionWindowCloseNy: '15:30',
  cryptoPromotionWindowOpenUtc: '00:30',
  cryptoPromotionWindowCloseUtc: '23:00',
});
