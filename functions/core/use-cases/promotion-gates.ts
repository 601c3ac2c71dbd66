/**
 * EvaluateGates: everything the promotion gates observe at "now" (the candidate's own P&L,
 * adjusted daily history, the position book restated for splits, the planned entry), the
 * evaluation and its `gate_evaluated` records.
 */
import type { MarketDataPort } from '../../ports/market-data.js';
import { type AuditRecord, decisionProvenance } from '../audit/record.js';
import { marketDate } from '../calendar/market-calendar.js';
import {
  NoDailyHistoryError,
  NoSessionError,
  NotFoundError,
  RecordedDecisionMismatchError,
  StagegateError,
  ValidationError,
} from '../errors.js';
import { MINUTE_MS } from '../exchange/exchange-model.js';
import { type AccountBook, openPositions, restateBookForSplit } from '../exchange/position-book.js';
import { evaluateGates, type GateEvaluation } from '../gates/evaluate.js';
import {
  GATE_VERDICTS,
  type GateResult,
  gateVerdictFields,
  noGateFailed,
  strongestAction,
} from '../gates/types.js';
import type { SplitEvent } from '../market/corporate-actions.js';
import type { DailyBar, MarketSession } from '../market/types.js';
import {
  intradayReturns,
  maxIntradayExposureFraction,
  minutePnlReturns,
} from '../risk/strategy-pnl.js';
import {
  isoOf,
  killSwitchState,
  type PromotionDeps,
  promotionDraft,
  promotionMarket,
  promotionStream,
} from './promotion.js';
import { dailyBaselineCheck } from './promotion-baseline.js';
import { lastCompleteBar, type PlannedLeg, planEntry } from './promotion-plan.js';
import type { StagedPromotion } from './promotion-records.js';
import { readSimulation } from './simulation-artifact.js';

/** Daily history for VaR / ES: about four years of sessions. */
const RISK_HISTORY_DAYS = 1500;

/**
 * The candidate's own P&L for the VaR / ES gates: its minute P&L per USD of allocation and its
 * largest intraday gross exposure / allocation, from the simulation artifacts, and the length
 * in minutes of the promotion's own session (m of the √m scaling). Nulls (the gates fail
 * closed) when a cohort, its artifact or the agent cannot be read.
 *
 * One sample rule for the Day-3 review and every promotion (docs/evidence.md, "Risk on the
 * strategy's own P&L"): `riskSessions` is the candidate genome's lookback, its own recent
 * sessions oldest first (the Day-3 review's reviewed days; a promotion's, fixed when staged by
 * `riskLookbackOf` in `risk-lookback.ts`). The sample is every session's minutes pooled, each session's
 * returns measured from its own allocation: the agents are flat overnight, so no overnight
 * return enters (Jorion 2007, ch. 4: the P&L the position actually carries). The latest
 * session's minutes are returned apart as well; the gates judge the worse of the two samples.
 * Without `riskSessions`, the promotion's cohort session alone.
 */
export async function strategyPnlOf(
  deps: Pick<PromotionDeps, 'cohorts' | 'artifacts'>,
  p: Pick<StagedPromotion, 'cohortId' | 'agentId' | 'riskSessions'>,
): Promise<{
  minuteReturns: number[] | null;
  minutesPerSession: number | null;
  maxIntradayExposureFraction: number | null;
  lookbackSessions: number;
  latestSessionMinuteReturns: number[] | null;
}> {
  const sessions = p.riskSessions?.length ? p.riskSessions : [p];
  try {
    const minuteReturns: number[] = [];
    let latest: number[] = [];
    let exposure = 0;
    let minutesPerSession: number | null = null;
    for (const s of sessions) {
      const cohort = await deps.cohorts.get(s.cohortId);
      const simulation = await readSimulation(deps.artifacts, cohort.artifacts.simulationKey);
      const agent = simulation.agents.find((a) => a.agentId === s.agentId);
      if (!agent) throw new NotFoundError('agent', `${s.agentId} in ${s.cohortId}`);
      latest = minutePnlReturns(agent.equityCurve, agent.allocationUsd);
      minuteReturns.push(...latest);
      exposure = Math.max(
        exposure,
        maxIntradayExposureFraction(agent.grossExposureCurve, agent.allocationUsd),
      );
      if (s.cohortId === p.cohortId) minutesPerSession = simulation.timestamps.length;
    }
    return {
      minuteReturns,
      minutesPerSession,
      maxIntradayExposureFraction: exposure,
      lookbackSessions: sessions.length,
      latestSessionMinuteReturns: latest,
    };
  } catch (err) {
    if (!(err instanceof StagegateError)) throw err;
    return {
      minuteReturns: null,
      minutesPerSession: null,
      maxIntradayExposureFraction: null,
      lookbackSessions: sessions.length,
      latestSessionMinuteReturns: null,
    };
  }
}

export interface GatesOutput extends GateEvaluation {
  readonly plan: readonly PlannedLeg[];
  readonly nowIso: string;
}

/** Today's session of the candidate's symbol (null: none), its last complete bar at `nowMs` and the entry plan. */
async function sessionAt(
  deps: Pick<PromotionDeps, 'marketData' | 'promotionConfig'>,
  p: StagedPromotion,
  date: string,
  nowMs: number,
): Promise<{ session: MarketSession | null; lastIdx: number; plan: PlannedLeg[] }> {
  let session: MarketSession | null = null;
  try {
    session = await deps.marketData.loadSession(date, [p.genome.symbol]);
  } catch (err) {
    if (!(err instanceof NoSessionError)) throw err;
  }
  const lastIdx = session ? lastCompleteBar(session, nowMs) : -1;
  const plan = session ? planEntry(p, session, lastIdx, deps.promotionConfig.wholeShares) : [];
  return { session, lastIdx, plan };
}

/** `YYYY-MM-DD` that many days before `date`. */
const daysBefore = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);

/**
 * The gates' input at `nowMs`: kill switch, drawdowns, the candidate's own P&L and the
 * underlying's adjusted daily history (VaR/ES), positions of the split-restated book and the
 * planned entry (exposure, leverage), trade count, liquidity and spread at the last complete
 * minute, data staleness, and the session's calendar (window). Missing observations are nulls.
 */
async function gateInputAt(
  deps: PromotionDeps,
  p: StagedPromotion,
  nowMs: number,
): Promise<{ gateInput: Parameters<typeof evaluateGates>[0]; plan: PlannedLeg[] }> {
  const market = promotionMarket(p);
  const date = marketDate(nowMs, market);
  const symbol = p.genome.symbol;
  const { session, lastIdx, plan } = await sessionAt(deps, p, date, nowMs);
  const series = session?.series.find((x) => x.symbol === symbol);
  const leg = plan[0];
  const notional = leg ? (leg.side === 'buy' ? 1 : -1) * leg.qty * leg.refPriceUsd : null;
  // Adjusted for splits and dividends (a split never shows up as a return); a symbol without
  // daily history only says "no history" in the VaR/ES gates' underlying view, never an unknown symbol.
  const history = await dailyHistoryOrNull(
    deps.marketData,
    symbol,
    daysBefore(date, RISK_HISTORY_DAYS),
    daysBefore(date, 1),
  );
  const daily = history.bars;
  const { book } = await restateBookForSplits(deps, p, date);
  const lastPrice = (sym: string): number | null => {
    const sr = session?.series.find((x) => x.symbol === sym);
    if (!sr || lastIdx < 0) return null;
    const c = sr.close[lastIdx] as number;
    return Number.isNaN(c) ? null : c;
  };
  const positions = openPositions(book).map((v) => ({
    symbol: v.symbol,
    notionalUsd: v.qty * (lastPrice(v.symbol) ?? v.avgPriceUsd),
  }));
  const atLast = (values: ArrayLike<number> | undefined): number | null =>
    values && lastIdx >= 0 ? (values[lastIdx] as number) : null;
  const gateInput: Parameters<typeof evaluateGates>[0] = {
    nowMs,
    capitalUsd: p.bankrollUsd,
    killSwitch: { state: await killSwitchState(deps) },
    drawdown: {
      parentDrawdownFraction: p.metrics.parentMaxDrawdownFraction,
      agentDrawdownFraction: p.metrics.maxDrawdownFraction,
    },
    risk: {
      ...(await strategyPnlOf(deps, p)),
      capitalSliceUsd: p.capitalSliceUsd,
      underlyingIntradayReturns: history.missing === null ? intradayReturns(daily) : null,
      historyNote: history.note,
    },
    positionsAfterTrade:
      notional === null ? null : [...positions, { symbol, notionalUsd: notional }],
    leverage: {
      grossNotionalUsd: notional === null ? null : Math.abs(notional),
      equityUsd: p.capitalSliceUsd,
    },
    trades: { tradeCount: p.metrics.tradeCount, fillCount: p.metrics.fillCount ?? null },
    liquidity: {
      orderQty: leg?.qty ?? null,
      minuteVolume: atLast(series?.volume),
      dailyVolume: daily.at(-1)?.volume ?? null,
      bidUsd: atLast(series?.bid),
      askUsd: atLast(series?.ask),
    },
    staleness: {
      lastBarMs:
        session && lastIdx >= 0 ? (session.timestamps[lastIdx] as number) + MINUTE_MS : null,
    },
    // The session must be of the candidate's calendar: a symbol whose data says otherwise
    // fails the window gate (closed) rather than trade on the wrong day's hours.
    window: { isTradingDay: session !== null && session.market === market, market },
  };
  return { gateInput, plan };
}

/**
 * The 16 order-time gates ({@link evaluateGates}) and, for a promotion of the pipeline, the
 * daily `baseline` gate after them ({@link dailyBaselineCheck}: the genome's paper sessions
 * out of sample against the best baseline; `not_judged` on too few sessions, which does not
 * block: `passed` is true when no gate failed).
 */
async function promotionEvaluation(
  deps: PromotionDeps,
  p: StagedPromotion,
  gateInput: Parameters<typeof evaluateGates>[0],
  withBaseline: boolean,
): Promise<GateEvaluation> {
  const evaluation = evaluateGates(gateInput, deps.gateThresholds);
  if (!withBaseline) return evaluation;
  const { gate } = await dailyBaselineCheck(deps, p, promotionMarket(p));
  const results = [...evaluation.results, gate];
  return {
    results,
    passed: noGateFailed(results),
    strongestAction: strongestAction(results),
  };
}

/**
 * Gates: observes everything the gates need at "now" ({@link gateInputAt}), evaluates them
 * (the 16 order-time gates, then the daily `baseline` gate unless `options.dailyBaseline` is
 * false: the Day-3 review judges the baselines with its own evidence gate), records one
 * `gate_evaluated` per gate and, when any fails, marks the promotion `gates_failed`. Missing
 * observations fail their gate (closed), never throw.
 */
export async function evaluatePromotionGates(
  deps: PromotionDeps,
  input: { readonly promotion: StagedPromotion },
  options: { readonly dailyBaseline?: boolean } = {},
): Promise<GatesOutput> {
  const p = input.promotion;
  const now = deps.clock.now();
  const { gateInput, plan } = await gateInputAt(deps, p, now);
  const evaluation = await promotionEvaluation(deps, p, gateInput, options.dailyBaseline ?? true);
  // What the verdicts rest on: a change of thresholds or of inputs between two evaluations
  // shows as a different hash in the trail.
  const provenance = decisionProvenance(deps.gateThresholds, gateInput);
  // One head advance for the whole gate table (16 records), objects written in parallel.
  const recorded = await deps.audit.appendMany(
    evaluation.results.map((r) =>
      promotionDraft(
        deps,
        'gate_evaluated',
        promotionStream(p.promotionId),
        { promotion_id: p.promotionId, cohort_id: p.cohortId, agent_id: p.agentId },
        {
          ...gateVerdictFields(r),
          evaluated_at: isoOf(now),
          provenance,
        },
      ),
    ),
  );
  // A retried step whose first attempt committed gets that attempt's records back (a step-
  // scoped sink): the decision is the recorded one, never a second, unrecorded evaluation.
  const decided = recordedEvaluation(recorded, evaluation, isoOf(now), {
    cohort_id: p.cohortId,
    agent_id: p.agentId,
  });
  if (!decided.passed) {
    const failed = decided.results.filter((r) => r.verdict === 'fail').map((r) => r.gate);
    await deps.promotions.setStatus(
      p.promotionId,
      'gates_failed',
      `failed gates: ${failed.join(', ')}`,
    );
  }
  return { ...decided, plan, nowIso: decided.nowIso ?? isoOf(now) };
}

/**
 * The gate evaluation the `gate_evaluated` records hold (their payloads, in order), with the
 * time they were evaluated at. `evaluated` itself when the records are this evaluation's (made
 * at `nowIso`), or not one per result (a sink that returned other records).
 */
export function recordedEvaluation(
  records: readonly AuditRecord[],
  evaluated: GateEvaluation,
  nowIso: string,
  subject?: { readonly cohort_id: string; readonly agent_id: string },
): GateEvaluation & { readonly nowIso?: string } {
  const results = recordedGateResults(records, evaluated.results, subject);
  if (results === evaluated.results) return evaluated;
  const payloads = records.map((r) => JSON.parse(r.payload) as Record<string, unknown>);
  if (payloads[0]?.evaluated_at === nowIso) return evaluated;
  return {
    results,
    passed: noGateFailed(results),
    strongestAction: strongestAction(results),
    ...(typeof payloads[0]?.evaluated_at === 'string' ? { nowIso: payloads[0].evaluated_at } : {}),
  };
}

/**
 * The gate results the `gate_evaluated` records hold (their payloads, in order: the verdict
 * fields of `gateVerdictFields`). `evaluated` itself (the same array) when the records are not
 * one per result of the same gates in the same order (a sink that returned other records).
 * A retried step appending through a step-scoped sink gets the first attempt's records back:
 * its decision is then the recorded one (docs/audit.md, "Idempotent appends").
 *
 * @throws RecordedDecisionMismatchError when `subject` is given and a record judged another
 *   cohort or agent (the step's input did not pin its subject, and it changed between attempts).
 */
export function recordedGateResults(
  records: readonly AuditRecord[],
  evaluated: readonly GateResult[],
  subject?: { readonly cohort_id: string; readonly agent_id: string },
): readonly GateResult[] {
  if (!Array.isArray(records) || records.length !== evaluated.length) return evaluated;
  const other = subject
    ? records.find(
        (r) =>
          r.subject?.cohort_id !== subject.cohort_id || r.subject?.agent_id !== subject.agent_id,
      )
    : undefined;
  if (other) {
    throw new RecordedDecisionMismatchError(
      `the recorded gate table ${other.stream} judged cohort ${other.subject?.cohort_id} agent ${other.subject?.agent_id}, ` +
        `not cohort ${subject?.cohort_id} agent ${subject?.agent_id}: failing closed rather than apply one candidate's verdicts to another`,
    );
  }
  const payloads = records.map((r) => JSON.parse(r.payload) as Record<string, unknown>);
  if (payloads.some((p, i) => p.gate !== evaluated[i]?.gate)) return evaluated;
  return payloads.map(
    (p): GateResult => ({
      gate: p.gate as GateResult['gate'],
      // An unknown verdict fails closed; `not_judged` stays what it was recorded as.
      verdict: (GATE_VERDICTS as readonly unknown[]).includes(p.verdict)
        ? (p.verdict as GateResult['verdict'])
        : 'fail',
      observed: (p.observed ?? null) as GateResult['observed'],
      threshold: (p.threshold ?? null) as GateResult['threshold'],
      unit: String(p.unit),
      reason: String(p.reason),
      breakerAction: p.breaker_action as GateResult['breakerAction'],
    }),
  );
}

/**
 * The adjusted daily history of `symbol` over `[from, to]` for the risk gates. `missing` is
 * the reason when there is none (no daily file: "no history"), `note` what the gate reason
 * should say about the adjustment (e.g. "unadjusted: no factor file ...").
 */
export async function dailyHistoryOrNull(
  marketData: MarketDataPort,
  symbol: string,
  from: string,
  to: string,
): Promise<{ bars: readonly DailyBar[]; missing: string | null; note: string | null }> {
  try {
    const h = await marketData.loadDailyHistory(symbol, from, to);
    return {
      bars: h.bars,
      missing: null,
      note:
        h.adjustment === 'unadjusted'
          ? `history unadjusted (${h.unadjustedReason ?? 'no corporate-action data'})`
          : `history adjusted for ${h.adjustment.replaceAll('-', ' ')}`,
    };
  } catch (err) {
    if (!(err instanceof NoDailyHistoryError)) throw err;
    return { bars: [], missing: err.message, note: `no history: ${err.message}` };
  }
}

/**
 * Re-states the account's position book across the splits that took effect since each
 * position was last re-stated (or opened) up to `date` (`YYYY-MM-DD`): quantity times the
 * split ratio, cost divided by it, so the position keeps its value. Each restatement is saved
 * (optimistic version) and recorded as a `position_restated` audit record. Returns the book.
 */
export async function restateBookForSplits(
  deps: Pick<PromotionDeps, 'promotions' | 'marketData' | 'audit' | 'clock' | 'environment'>,
  p: Pick<StagedPromotion, 'promotionId' | 'broker'>,
  date: string,
): Promise<{ book: AccountBook; version: number }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await deps.promotions.getBook(p.broker);
    let book = current.book;
    const records: { symbol: string; event: SplitEvent; before: unknown; after: unknown }[] = [];
    for (const view of openPositions(book)) {
      // Splits are corporate actions of US equities: their effective dates are NYSE dates.
      const opened =
        view.openedAtMs === undefined ? null : marketDate(view.openedAtMs, 'equity-usa');
      const since = view.restatedThrough ?? opened;
      if (since === null || since >= date) continue;
      const events = await deps.marketData.splits(view.symbol, since, date);
      for (const event of events) {
        const out = restateBookForSplit(book, view.symbol, event.ratio, event.effectiveDate);
        records.push({ symbol: view.symbol, event, before: out.before, after: out.after });
        book = out.book;
      }
    }
    if (records.length === 0) return current;
    let saved: boolean;
    try {
      saved = await deps.promotions.saveBook(p.broker, book, current.version);
    } catch (err) {
      // A read-only repository (the Day-3 gate preview) refuses writes: gate on the
      // restated book without persisting or recording it.
      if (err instanceof ValidationError) return { book, version: current.version };
      throw err;
    }
    if (!saved) continue;
    await deps.audit.appendMany(
      records.map((r) =>
        promotionDraft(
          deps,
          'position_restated',
          promotionStream(p.promotionId),
          { promotion_id: p.promotionId },
          {
            account: p.broker,
            symbol: r.symbol,
            reason: 'split',
            effective_date: r.event.effectiveDate,
            ratio: r.event.ratio,
            before: r.before,
            after: r.after,
          },
        ),
      ),
    );
    return { book, version: current.version + 1 };
  }
  return deps.promotions.getBook(p.broker);
}
