/**
 * "Grow $X over N days" as a tracked plan (issue 15). Pure: the caller passes the evidence
 * (the desk's daily returns), the calendar's sessions and the limits; nothing here raises risk
 * beyond them.
 *
 * - Prerequisites: bankroll within the stage's limits, N trading sessions after the newest
 *   evidence in the market calendar, at least {@link MIN_PLAN_EVIDENCE} sessions of evidence.
 * - Leverage path: the leverage policy's start leverage, held: the policy steps up only on an
 *   annualized daily Sharpe of `minSharpeSessions` sessions, which a plan never assumes. The
 *   path is an upper bound: the daily report applies the policy's step down after a losing
 *   day and never goes above the path.
 * - Risk per day: historical VaR and expected shortfall (Acerbi & Tasche 2002) at
 *   `confidence` of the evidence returns on bankroll × the day's leverage, USD.
 * - Expected range: a bootstrap (Efron 1979; i.i.d. resampling of the daily returns) of the
 *   N-day PnL at the leverage path, its 5th/50th/95th percentiles and the sample size: a
 *   range from the evidence, never a promise. The target is said to lie inside, below or
 *   above it.
 * - Tracking: each session's actual (the desk's return that day × bankroll × leverage), the
 *   cumulative PnL against the median path, the drawdown from peak equity; the plan stops at
 *   its last session (`completed`) or on a breach: drawdown above the gates'
 *   `maxParentDrawdownFraction`, or a day's loss above that day's expected shortfall.
 *
 * Units: USD, fractions, session dates `YYYY-MM-DD` in the market's zone, UTC ISO-8601 times.
 */
import type { IsoDate } from '../calendar/civil-date.js';
import { type Market, nextTradingDay } from '../calendar/market-calendar.js';
import { ValidationError } from '../errors.js';
import type { LeveragePolicy } from '../leverage/policy.js';
import { createRandom } from '../random.js';
import { historicalExpectedShortfall, historicalVar } from '../risk/var.js';

/** Fewest sessions of evidence a plan accepts. */
export const MIN_PLAN_EVIDENCE = 3;
/** Longest plan, trading sessions. */
export const MAX_PLAN_DAYS = 60;

/** What a plan is made from. */
export interface PlanInput {
  readonly planId: string;
  readonly createdBy: string;
  readonly createdAtIso: string;
  /** X: the gain asked for, USD (> 0). */
  readonly targetGainUsd: number;
  /** N: trading sessions. */
  readonly days: number;
  readonly bankrollUsd: number;
  readonly bankrollLimits: { readonly minUsd: number; readonly maxUsd: number };
  readonly market: Market;
  /** The desk's evidence: one return (fraction of the bankroll) per session, oldest first. */
  readonly evidence: {
    readonly source: string;
    readonly sessionDates: readonly IsoDate[];
    readonly dailyReturns: readonly number[];
  };
  readonly policy: LeveragePolicy;
  /** The gates' largest parent drawdown, fraction: a breach stops the plan. */
  readonly maxDrawdownFraction: number;
  /** VaR/ES confidence. @default 0.95 */
  readonly confidence?: number;
  /** Bootstrap resamples. @default 2000 */
  readonly bootstrapRuns?: number;
  readonly seed?: number;
}

/** One planned session. */
export interface PlannedDay {
  readonly sessionDate: IsoDate;
  /** Largest leverage the policy allows that day, ratio. */
  readonly leverage: number;
  readonly varUsd: number;
  readonly esUsd: number;
  /** Median cumulative PnL of the bootstrap by the end of this day, USD. */
  readonly medianCumulativePnlUsd: number;
}

/** A plan record (stored as JSON). */
export interface PlanRecord {
  readonly planId: string;
  readonly createdBy: string;
  readonly createdAtIso: string;
  readonly targetGainUsd: number;
  readonly bankrollUsd: number;
  readonly market: Market;
  readonly confidence: number;
  readonly maxDrawdownFraction: number;
  readonly days: readonly PlannedDay[];
  readonly evidence: {
    readonly source: string;
    readonly sessionDates: readonly IsoDate[];
    readonly n: number;
  };
  /** Bootstrap of the N-day PnL, USD. */
  readonly expected: {
    readonly p05Usd: number;
    readonly p50Usd: number;
    readonly p95Usd: number;
    readonly runs: number;
    /** Where the target lies against the range. */
    readonly target: 'below_range' | 'inside_range' | 'above_range';
  };
  /** Days reported so far, oldest first. */
  readonly reports: readonly PlanDayReport[];
  readonly status: 'active' | 'completed' | 'breached' | 'canceled';
  readonly stopReason: string | null;
  /**
   * The requests that created and canceled the plan (`planRequestKey`, use-cases/plans.ts:
   * hex SHA-256 over the door, the caller and its idempotency key), so a redelivered request
   * is answered and recorded as the first was; absent for a request without a key.
   */
  readonly requestKeys?: { readonly created?: string; readonly canceled?: string };
  /**
   * The fingerprints of those requests' bodies (`planRequestBody`: hex SHA-256 of the command
   * and its normalized arguments), so the key reused with another body is refused; absent
   * beside a key stored before fingerprints were (such a key is matched on the key alone).
   */
  readonly requestBodies?: { readonly created?: string; readonly canceled?: string };
}

/** A day's actual vs plan. */
export interface PlanDayReport {
  readonly sessionDate: IsoDate;
  readonly actualPnlUsd: number;
  readonly cumulativePnlUsd: number;
  readonly plannedCumulativePnlUsd: number;
  readonly leverage: number;
  /** Leverage decision for the next session and why (the policy's step down after a loss). */
  readonly nextLeverage: number;
  readonly leverageReason: string;
  readonly drawdownFraction: number;
  /** What the desk promoted or rolled back that session (ids and outcomes). */
  readonly promotions: readonly string[];
  readonly breach: string | null;
}

function quantile(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/**
 * Checks a plan's prerequisites.
 * @returns the number of sessions of evidence.
 * @throws ValidationError naming `amount`, `days`, `bankroll` or `evidence`.
 */
function validatePlanInput(input: PlanInput): number {
  const { evidence } = input;
  if (!(input.targetGainUsd > 0)) throw new ValidationError('amount', 'must be more than $0');
  if (!Number.isInteger(input.days) || input.days < 1 || input.days > MAX_PLAN_DAYS) {
    throw new ValidationError('days', `must be 1..${MAX_PLAN_DAYS} trading sessions`);
  }
  const { minUsd, maxUsd } = input.bankrollLimits;
  if (!(input.bankrollUsd >= minUsd && input.bankrollUsd <= maxUsd)) {
    throw new ValidationError(
      'bankroll',
      `must be within $${minUsd}..$${maxUsd}, got $${input.bankrollUsd}`,
    );
  }
  const n = evidence.dailyReturns.length;
  if (n < MIN_PLAN_EVIDENCE || evidence.sessionDates.length !== n) {
    throw new ValidationError(
      'evidence',
      `needs ${MIN_PLAN_EVIDENCE}+ sessions of the desk's results, has ${n}: run cohorts first (npm start)`,
    );
  }
  return n;
}

/** The `days` trading sessions after `last`, in order. */
function sessionsAfter(last: IsoDate, days: number, market: Market): IsoDate[] {
  const sessions: IsoDate[] = [];
  let d = last;
  for (let i = 0; i < days; i++) {
    d = nextTradingDay(d, market);
    sessions.push(d);
  }
  return sessions;
}

/**
 * Bootstrap of the plan's cumulative PnL, USD: `runs` resamples (with replacement) of the
 * evidence's daily returns over the plan's sessions.
 * @returns `paths[i]`: every run's cumulative PnL after session i (unsorted); `totals`: every
 *   run's final PnL, sorted ascending.
 */
function bootstrapPnl(
  input: PlanInput,
  sessionCount: number,
  leverageOn: (day: number) => number,
  runs: number,
): { paths: number[][]; totals: number[] } {
  const returns = input.evidence.dailyReturns;
  const n = returns.length;
  const rnd = createRandom(input.seed ?? 1);
  const paths: number[][] = Array.from({ length: sessionCount }, () => []);
  const totals: number[] = [];
  for (let r = 0; r < runs; r++) {
    let cum = 0;
    for (let i = 0; i < sessionCount; i++) {
      const ret = returns[rnd.int(0, n - 1)] as number;
      cum += ret * input.bankrollUsd * leverageOn(i);
      (paths[i] as number[]).push(cum);
    }
    totals.push(cum);
  }
  totals.sort((a, b) => a - b);
  return { paths, totals };
}

/**
 * Validates the prerequisites and builds the plan.
 * @throws ValidationError naming `amount`, `days`, `bankroll` or `evidence` when a
 *   prerequisite fails.
 */
export function createPlan(input: PlanInput): PlanRecord {
  const { evidence, policy } = input;
  const n = validatePlanInput(input);
  const sessions = sessionsAfter(evidence.sessionDates[n - 1] as IsoDate, input.days, input.market);
  const confidence = input.confidence ?? 0.95;
  // The policy steps up only on a measured daily Sharpe; a plan never assumes one: its path
  // holds the start leverage (an upper bound; the tracker steps down after a losing day).
  const leverageOn = (_day: number): number => Math.min(policy.maxLeverage, policy.startLeverage);
  const runs = input.bootstrapRuns ?? 2000;
  const { paths, totals } = bootstrapPnl(input, sessions.length, leverageOn, runs);
  const days: PlannedDay[] = sessions.map((sessionDate, i) => {
    const leverage = leverageOn(i);
    const risk = {
      returns: evidence.dailyReturns,
      positionNotionalUsd: input.bankrollUsd * leverage,
      confidence,
    };
    const sorted = [...(paths[i] as number[])].sort((a, b) => a - b);
    return {
      sessionDate,
      leverage,
      varUsd: historicalVar(risk),
      esUsd: historicalExpectedShortfall(risk),
      medianCumulativePnlUsd: quantile(sorted, 0.5),
    };
  });
  const p05 = quantile(totals, 0.05);
  const p95 = quantile(totals, 0.95);
  return {
    planId: input.planId,
    createdBy: input.createdBy,
    createdAtIso: input.createdAtIso,
    targetGainUsd: input.targetGainUsd,
    bankrollUsd: input.bankrollUsd,
    market: input.market,
    confidence,
    maxDrawdownFraction: input.maxDrawdownFraction,
    days,
    evidence: { source: evidence.source, sessionDates: [...evidence.sessionDates], n },
    expected: {
      p05Usd: p05,
      p50Usd: quantile(totals, 0.5),
      p95Usd: p95,
      runs,
      target:
        input.targetGainUsd < p05
          ? 'below_range'
          : input.targetGainUsd > p95
            ? 'above_range'
            : 'inside_range',
    },
    reports: [],
    status: 'active',
    stopReason: null,
  };
}

export interface SessionActual {
  readonly sessionDate: IsoDate;
  /** The desk's return that session, fraction of its bankroll. */
  readonly dailyReturn: number;
  readonly promotions: readonly string[];
}

/**
 * Reports every planned session that has an actual and is not reported yet, in order; stops
 * the plan at its last session or on the first breach (later sessions are not reported).
 * @returns the updated plan and the reports added now.
 */
export function trackPlan(
  plan: PlanRecord,
  actuals: readonly SessionActual[],
  policy: LeveragePolicy,
): { plan: PlanRecord; added: PlanDayReport[] } {
  if (plan.status !== 'active') return { plan, added: [] };
  const byDate = new Map(actuals.map((a) => [a.sessionDate, a]));
  const reports = [...plan.reports];
  const added: PlanDayReport[] = [];
  let status: PlanRecord['status'] = 'active';
  let stopReason: string | null = null;
  let leverage = reports.at(-1)?.nextLeverage ?? plan.days[0]?.leverage ?? policy.startLeverage;
  let cum = reports.at(-1)?.cumulativePnlUsd ?? 0;
  let peak = Math.max(
    plan.bankrollUsd,
    ...reports.map((r) => plan.bankrollUsd + r.cumulativePnlUsd),
  );
  for (const [i, day] of plan.days.entries()) {
    if (i < reports.length) continue;
    const actual = byDate.get(day.sessionDate);
    if (!actual) break;
    // Never above the plan's path for the day (the plan never raises risk).
    const lev = Math.min(leverage, day.leverage);
    const pnl = actual.dailyReturn * plan.bankrollUsd * lev;
    cum += pnl;
    const equity = plan.bankrollUsd + cum;
    peak = Math.max(peak, equity);
    const drawdown = peak > 0 ? (peak - equity) / peak : 0;
    const nextLeverage = pnl < 0 ? Math.max(policy.minLeverage, lev - policy.stepLeverage) : lev;
    let breach: string | null = null;
    if (drawdown > plan.maxDrawdownFraction) {
      breach = `drawdown ${(drawdown * 100).toFixed(2)}% above the gates' ${(plan.maxDrawdownFraction * 100).toFixed(2)}%`;
    } else if (-pnl > day.esUsd) {
      breach = `loss $${(-pnl).toFixed(2)} above the day's expected shortfall $${day.esUsd.toFixed(2)}`;
    }
    const report: PlanDayReport = {
      sessionDate: day.sessionDate,
      actualPnlUsd: pnl,
      cumulativePnlUsd: cum,
      plannedCumulativePnlUsd: day.medianCumulativePnlUsd,
      leverage: lev,
      nextLeverage,
      leverageReason:
        pnl < 0
          ? `losing day: step down to ${nextLeverage}x (policy floor ${policy.minLeverage}x)`
          : `held at ${lev}x (a step up needs a daily Sharpe of ${policy.minSharpeSessions} sessions)`,
      drawdownFraction: drawdown,
      promotions: [...actual.promotions],
      breach,
    };
    reports.push(report);
    added.push(report);
    leverage = nextLeverage;
    if (breach) {
      status = 'breached';
      stopReason = `stopped on ${day.sessionDate}: ${breach}`;
      break;
    }
    if (i === plan.days.length - 1) {
      status = 'completed';
      stopReason = `completed: ${plan.days.length} sessions, PnL $${cum.toFixed(2)} against a target of $${plan.targetGainUsd.toFixed(2)}`;
    }
  }
  return { plan: { ...plan, reports, status, stopReason }, added };
}

/** The plan canceled by `by` (no effect on a stopped plan). */
export function cancelPlan(plan: PlanRecord, reason: string): PlanRecord {
  if (plan.status !== 'active') return plan;
  return { ...plan, status: 'canceled', stopReason: `canceled: ${reason}` };
}
