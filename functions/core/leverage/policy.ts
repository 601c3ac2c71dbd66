/**
 * Leverage policy of a micro-live slice: how much leverage (gross notional / slice equity,
 * ratio "x") it may use on the next trading day, decided once per closed day and on rollback.
 * Every decision carries its rule and a human rationale with the numbers, for the audit trail.
 *
 * Rules, evaluated in this order (defaults in {@link DEFAULT_LEVERAGE_POLICY}):
 * 1. Rollback: `next = min(previous, start)` (reset to the starting 2x, never raised by a
 *    rollback), rule `reset_after_rollback`.
 * 2. Missing or non-finite day inputs (day PnL, drawdown, or a NaN Sharpe): fail closed, one
 *    step down (floor 1x), rule `step_down_missing_data`.
 * 3. Losing day (day PnL < 0 USD): one step down (−1x), floor 1x; rule `step_down_loss`, or
 *    `hold_at_floor` when already at the floor.
 * 4. Rolling Sharpe > 1.5 AND drawdown < 3 %: one step up (+1x), cap 10x; rule `step_up`, or
 *    `hold_at_cap` when already at the cap. A null Sharpe (not enough days yet) never steps up.
 * 5. Otherwise unchanged, rule `hold` (the rationale names the condition that was not met).
 *
 * A previous leverage outside [floor, cap] (e.g. after the cap was lowered) is clamped into it
 * first, and the rationale says so. A flat day (PnL = 0) is not a loss.
 *
 * Sharpe: annualized Sharpe ratio of daily returns, risk-free 0 (Sharpe 1966/1994; see
 * functions/core/scoring/metrics.ts), computed by {@link rollingSharpe}.
 */
import * as z from 'zod';
import { parseOrThrow, ValidationError } from '../errors.js';
import { sharpeRatio } from '../scoring/metrics.js';

/** Zod schema of {@link LeveragePolicy}; strict (misspelt keys are rejected). */
export const LeveragePolicySchema = z
  .strictObject({
    /** Leverage a new slice starts at, ratio. */
    startLeverage: z.number().min(1),
    /** Size of one step up or down, ratio (> 0). */
    stepLeverage: z.number().positive(),
    /** Floor, ratio (>= 1: the slice never goes below unlevered). */
    minLeverage: z.number().min(1),
    /** Cap, ratio. */
    maxLeverage: z.number().min(1),
    /** Step up only when the rolling Sharpe is strictly above this. */
    stepUpMinSharpe: z.number(),
    /** Step up only when the drawdown (fraction of peak equity) is strictly below this. */
    stepUpMaxDrawdownFraction: z.number().positive().max(1),
    /**
     * Daily returns needed before the rolling Sharpe is annualized at all (and so before any
     * step up), count >= 2. @default 20 (docs/evidence.md: fewer sessions annualized by √252
     * are a number without meaning).
     */
    minSharpeSessions: z.number().int().min(2).default(20),
  })
  .refine((p) => p.minLeverage <= p.startLeverage && p.startLeverage <= p.maxLeverage, {
    message: 'need minLeverage <= startLeverage <= maxLeverage',
    path: ['startLeverage'],
  });
export type LeveragePolicy = z.infer<typeof LeveragePolicySchema>;

/** Start 2x; +1x when Sharpe > 1.5 and drawdown < 3 %; cap 10x; −1x after a losing day; floor 1x. */
export const DEFAULT_LEVERAGE_POLICY: LeveragePolicy = LeveragePolicySchema.parse({
  startLeverage: 2,
  stepLeverage: 1,
  minLeverage: 1,
  maxLeverage: 10,
  stepUpMinSharpe: 1.5,
  stepUpMaxDrawdownFraction: 0.03,
  minSharpeSessions: 20,
});

/** Which rule decided. */
export type LeverageRule =
  | 'initial'
  | 'reset_after_rollback'
  | 'step_down_missing_data'
  | 'step_down_loss'
  | 'hold_at_floor'
  | 'step_up'
  | 'hold_at_cap'
  | 'hold';

/** One leverage decision. */
export interface LeverageDecision {
  /** Leverage before the decision, ratio; null for the initial decision. */
  readonly previous: number | null;
  /** Leverage from now on, ratio. */
  readonly next: number;
  readonly rule: LeverageRule;
  /** Human explanation with the observed numbers and thresholds. */
  readonly rationale: string;
}

/** What happened since the last decision. */
export type LeverageEvent =
  | {
      readonly kind: 'day_closed';
      /** The slice's PnL of the day, net of fees, USD. */
      readonly dayPnlUsd: number;
      /**
       * Rolling annualized Sharpe of daily returns; null while there are fewer than the policy's
       * `minSharpeSessions` days.
       */
      readonly rollingSharpe: number | null;
      /** Current drawdown of the slice from its peak equity, fraction of the peak. */
      readonly drawdownFraction: number;
    }
  | {
      readonly kind: 'rollback';
      /** Why the rollback monitor rolled back (copied into the rationale). */
      readonly reason: string;
    };

const x = (v: number) => `${Number(v.toFixed(4))}x`;
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const usd = (v: number) => `${v < 0 ? '-' : ''}$${Math.abs(v).toFixed(2)}`;

function parsePolicy(policy: LeveragePolicy): LeveragePolicy {
  return parseOrThrow(LeveragePolicySchema, policy, 'leveragePolicy');
}

/**
 * The first decision of a slice: the policy's starting leverage, rule `initial`.
 *
 * @throws ValidationError when the policy is invalid.
 */
export function initialLeverage(
  policy: LeveragePolicy = DEFAULT_LEVERAGE_POLICY,
): LeverageDecision {
  const p = parsePolicy(policy);
  return {
    previous: null,
    next: p.startLeverage,
    rule: 'initial',
    rationale: `new micro-live slice starts at ${x(p.startLeverage)} (floor ${x(p.minLeverage)}, cap ${x(p.maxLeverage)})`,
  };
}

/** The non-finite inputs of a day-end event, named for the rationale (empty when all usable). */
function missingInputs(event: Extract<LeverageEvent, { kind: 'day_closed' }>): string[] {
  const { dayPnlUsd, rollingSharpe, drawdownFraction } = event;
  const missing: string[] = [];
  if (!Number.isFinite(dayPnlUsd)) missing.push(`day PnL ${String(dayPnlUsd)}`);
  if (!Number.isFinite(drawdownFraction)) missing.push(`drawdown ${String(drawdownFraction)}`);
  if (rollingSharpe !== null && !Number.isFinite(rollingSharpe)) {
    missing.push(`rolling Sharpe ${String(rollingSharpe)}`);
  }
  return missing;
}

/** The two step-up tests (rolling Sharpe above, drawdown below the policy's limits) with their texts. */
function stepUpTests(
  rollingSharpe: number | null,
  drawdownFraction: number,
  p: LeveragePolicy,
): { sharpeOk: boolean; ddOk: boolean; sharpeText: string; ddText: string } {
  const sharpeOk = rollingSharpe !== null && rollingSharpe > p.stepUpMinSharpe;
  const ddOk = drawdownFraction < p.stepUpMaxDrawdownFraction;
  const sharpeText =
    rollingSharpe === null
      ? `rolling Sharpe n/a (too few days) is not > ${p.stepUpMinSharpe}`
      : `rolling Sharpe ${rollingSharpe.toFixed(2)} ${sharpeOk ? '>' : '<='} ${p.stepUpMinSharpe}`;
  const ddText = `drawdown ${pct(drawdownFraction)} ${ddOk ? '<' : '>='} ${pct(p.stepUpMaxDrawdownFraction)}`;
  return { sharpeOk, ddOk, sharpeText, ddText };
}
/**
 * The next leverage after `event`, by the rules in the module comment.
 *
 * @param previous current leverage, ratio (clamped into [floor, cap]).
 * @throws ValidationError when `previous` is not a finite number or the policy is invalid.
 */
export function nextLeverage(
  previous: number,
  event: LeverageEvent,
  policy: LeveragePolicy = DEFAULT_LEVERAGE_POLICY,
): LeverageDecision {
  const p = parsePolicy(policy);
  if (!Number.isFinite(previous)) {
    throw new ValidationError('previous', `must be a finite leverage, got ${previous}`);
  }
  const current = Math.min(p.maxLeverage, Math.max(p.minLeverage, previous));
  const clampNote =
    current !== previous
      ? ` (previous ${x(previous)} clamped to ${x(current)} within floor ${x(p.minLeverage)} / cap ${x(p.maxLeverage)})`
      : '';
  const decide = (next: number, rule: LeverageRule, rationale: string): LeverageDecision => ({
    previous,
    next,
    rule,
    rationale: `${rationale}${clampNote}`,
  });
  const down = Math.max(p.minLeverage, current - p.stepLeverage);
  const up = Math.min(p.maxLeverage, current + p.stepLeverage);

  if (event.kind === 'rollback') {
    const next = Math.min(current, p.startLeverage);
    return decide(
      next,
      'reset_after_rollback',
      `rollback (${event.reason}): leverage ${x(current)} -> ${x(next)} (reset to start ${x(p.startLeverage)}, never raised)`,
    );
  }

  const { dayPnlUsd, rollingSharpe, drawdownFraction } = event;
  const missing = missingInputs(event);
  if (missing.length > 0) {
    return decide(
      down,
      'step_down_missing_data',
      `missing or invalid inputs (${missing.join(', ')}): fail closed, leverage ${x(current)} -> ${x(down)} (floor ${x(p.minLeverage)})`,
    );
  }

  if (dayPnlUsd < 0) {
    if (current <= p.minLeverage) {
      return decide(
        current,
        'hold_at_floor',
        `losing day (PnL ${usd(dayPnlUsd)} < $0): already at the floor ${x(p.minLeverage)}, leverage stays ${x(current)}`,
      );
    }
    return decide(
      down,
      'step_down_loss',
      `losing day (PnL ${usd(dayPnlUsd)} < $0): leverage ${x(current)} -> ${x(down)} (step ${x(p.stepLeverage)}, floor ${x(p.minLeverage)})`,
    );
  }

  const { sharpeOk, ddOk, sharpeText, ddText } = stepUpTests(rollingSharpe, drawdownFraction, p);
  if (sharpeOk && ddOk) {
    if (current >= p.maxLeverage) {
      return decide(
        current,
        'hold_at_cap',
        `${sharpeText} and ${ddText}, day PnL ${usd(dayPnlUsd)}: already at the cap ${x(p.maxLeverage)}, leverage stays ${x(current)}`,
      );
    }
    return decide(
      up,
      'step_up',
      `${sharpeText} and ${ddText}, day PnL ${usd(dayPnlUsd)}: leverage ${x(current)} -> ${x(up)} (step ${x(p.stepLeverage)}, cap ${x(p.maxLeverage)})`,
    );
  }
  const unmet = [sharpeOk ? null : sharpeText, ddOk ? null : ddText].filter(Boolean).join(' and ');
  return decide(
    current,
    'hold',
    `no step up: ${unmet} (day PnL ${usd(dayPnlUsd)}): leverage stays ${x(current)}`,
  );
}

/**
 * Rolling annualized Sharpe ratio of the last `windowDays` daily returns (fractions, oldest
 * first): `mean / sample stdev × √252`, risk-free 0 (see `sharpeRatio`). Null when fewer than
 * `minDays` finite returns are available (or any of the window is not finite: fail closed to
 * "no evidence", which never steps leverage up).
 *
 * @param windowDays >= 2 (default 20 trading days, about a month).
 * @param minDays >= 2 (default 20, `minSharpeSessions` of the default policy: a daily Sharpe
 *   annualized by √252 on a handful of days means nothing, Lo 2002).
 */
export function rollingSharpe(
  dailyReturns: readonly number[],
  windowDays = 20,
  minDays = 20,
): number | null {
  const window = dailyReturns.slice(-Math.max(2, Math.floor(windowDays), Math.floor(minDays)));
  if (window.length < Math.max(2, minDays) || !window.every(Number.isFinite)) return null;
  return sharpeRatio(window, 252);
}
