import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { AuditSink } from '../../ports/audit.js';
import type { BrokerOrder, BrokerPort } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { CohortRepository } from '../../ports/cohort-repository.js';
import type { KillSwitchPort } from '../../ports/kill-switch.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import type { PromotionRepository } from '../../ports/promotion-repository.js';
import type { AuditDraftOf, AuditEnvironment, AuditKind, AuditPayload } from '../audit/record.js';
import { auditDraft, canonicalJson, decisionProvenance, sha256Hex } from '../audit/record.js';
import { type Market, marketDate, marketTimeMs } from '../calendar/market-calendar.js';
import type { CohortConfig } from '../cohort/config.js';
import { FRACTIONAL_QTY_STEP, roundQtyDown } from '../cohort/fill-model.js';
import type { Genome } from '../cohort/genome.js';
import { sessionOpenMs } from '../cohort/simulate.js';
import { createStrategy, HOLD } from '../cohort/strategies.js';
import {
  BrokerRejectedError,
  KillSwitchEngagedError,
  NoDailyHistoryError,
  NoSessionError,
  NotFoundError,
  parseOrThrow,
  StagegateError,
  ValidationError,
} from '../errors.js';
import {
  type AccountBook,
  applyBookFill,
  openPositions,
  restateBookForSplit,
} from '../exchange/position-book.js';
import { evaluateGates, type GateEvaluation } from '../gates/evaluate.js';
import { promotionWindowOf } from '../gates/gates.js';
import type { GateThresholds } from '../gates/thresholds.js';
import { gateVerdictFields } from '../gates/types.js';
import type { SplitEvent } from '../market/corporate-actions.js';
import type { DailyBar, MarketSession } from '../market/types.js';
import { clientOrderId } from '../orders/client-order-id.js';
import { isTerminalOrderStatus, Order, type OrderEvent, type OrderSide } from '../orders/order.js';
import { brokerReportEvents, submitOnce } from '../orders/order-intent.js';
import { type Discrepancy, reconcile } from '../orders/reconcile.js';
import { sliceOfBankroll } from '../risk/capital-slice.js';
import {
  intradayReturns,
  maxIntradayExposureFraction,
  minutePnlReturns,
} from '../risk/strategy-pnl.js';
import { countRoundTrips } from '../scoring/round-trips.js';
import { agentDrawdownOfPeak } from './cohort-records.js';
import {
  type PromotionConfig,
  type PromotionOrder,
  PromotionRequestSchema,
  type StagedPromotion,
} from './promotion-records.js';
import { riskLookbackOf } from './risk-lookback.js';
import { readSimulation } from './simulation-artifact.js';

const MINUTE_MS = 60_000;
/** Daily history for VaR / ES: about four years of sessions. */
const RISK_HISTORY_DAYS = 1500;
const ACTOR = 'stagegate/promotion-pipeline';

/** Everything the pipeline's use cases need, built by the composition root. */
export interface PromotionDeps {
  readonly clock: Clock;
  readonly marketData: MarketDataPort;
  readonly artifacts: ArtifactStore;
  readonly cohorts: CohortRepository;
  readonly promotions: PromotionRepository;
  readonly killSwitch: KillSwitchPort;
  readonly audit: AuditSink;
  /** Deployment environment written into audit records. */
  readonly environment: AuditEnvironment;
  /** The paper broker as of `nowMs` (the simulated broker fills up to that time). */
  brokerAt(nowMs: number): BrokerPort;
  /** The broker account orders go to (keys the local position book). */
  readonly brokerAccount: string;
  readonly gateThresholds: GateThresholds;
  readonly promotionConfig: PromotionConfig;
}

/** One order the promotion intends to send. */
export interface PlannedLeg {
  readonly leg: string;
  readonly symbol: string;
  readonly side: OrderSide;
  /** Shares, > 0. */
  readonly qty: number;
  /** Reference price at planning time (ask for buys, bid for sells), USD. */
  readonly refPriceUsd: number;
}

const isoOf = (ms: number) => new Date(ms).toISOString();

/** Calendar of a staged promotion (records staged before the field existed: `equity-usa`). */
const marketOf = (p: Pick<StagedPromotion, 'market'>): Market => p.market ?? 'equity-usa';

function draft<K extends AuditKind>(
  deps: Pick<PromotionDeps, 'environment'>,
  kind: K,
  stream: string,
  subject: Record<string, string | undefined>,
  payload: AuditPayload<K>,
): AuditDraftOf<K> {
  return auditDraft(kind, {
    actor: ACTOR,
    stream,
    environment: deps.environment,
    subject,
    payload,
  });
}

const streamOf = (promotionId: string) => `promotion:${promotionId}`;

// ---------------------------------------------------------------------------------------
// Stage
// ---------------------------------------------------------------------------------------

/**
 * The promotion id of a candidate in a session: `pr-<YYYYMMDD>-<14 hex>` (26 characters, so
 * client_order_ids keep it verbatim), the hex being the first 14 digits of SHA-256 over the
 * canonical JSON of {cohortId, agentId, approvalId, sessionDate}. Deterministic: a rerun for
 * the same candidate and session (New York date) finds its predecessor instead of starting a
 * second promotion with a new client_order_id.
 */
export function promotionIdFor(key: {
  readonly cohortId: string;
  readonly agentId: string;
  readonly approvalId: string | null;
  /** New York session date, `YYYY-MM-DD`. */
  readonly sessionDate: string;
}): string {
  const hex = sha256Hex(canonicalJson(key)).slice(0, 14);
  return `pr-${key.sessionDate.replaceAll('-', '')}-${hex}`;
}

/**
 * The cohort a scheduled promotion takes: the newest complete cohort of `market` whose session
 * is the IMMEDIATELY preceding session of its symbols. Today's cohort was scored on bars the
 * promotion window has not seen yet (no look-ahead), and an older cohort (a gap in the runs,
 * another universe's leftovers in the same state) is never promoted: a recorded skip names why.
 * "Today" is the market's civil date of now (a crypto day is a UTC date).
 */
async function scheduledCohortId(
  deps: Pick<PromotionDeps, 'clock' | 'cohorts' | 'marketData'>,
  market: Market,
): Promise<{ readonly cohortId: string } | { readonly skip: string }> {
  const today = marketDate(deps.clock.now(), market);
  const newest = (await deps.cohorts.list(20)).find(
    (c) => c.sessionDate < today && (c.market ?? 'equity-usa') === market,
  );
  if (!newest) return { skip: `no complete ${market} cohort before ${today} to promote` };
  const previous = (await deps.marketData.listSessions(newest.symbols))
    .filter((d) => d < today)
    .at(-1);
  if (previous !== undefined && newest.sessionDate !== previous) {
    return {
      skip: `the newest earlier cohort ${newest.cohortId} is of ${newest.sessionDate}, not of the session before ${today} (${previous}, ${newest.symbols.join(',')}): an older cohort is never promoted`,
    };
  }
  return { cohortId: newest.cohortId };
}

/**
 * Stage: picks the cohort's best candidate (the highest-ranked agent with a positive PnL that
 * meets the minimum trade count; rank 1 when none does, and the gates will say so), freezes its genome,
 * config hash and capital slice, and records `promotion_staged`.
 *
 * @throws ValidationError (bad request), NotFoundError (unknown cohort or artifact).
 */
export async function stagePromotion(
  deps: PromotionDeps,
  input: {
    readonly request: unknown;
    readonly executionName: string;
    readonly executionId: string;
  },
): Promise<{ skipped: false; promotion: StagedPromotion } | { skipped: true; reason: string }> {
  const request = parseOrThrow(PromotionRequestSchema, input.request, 'request');
  let cohortId = request.cohortId;
  if (!cohortId) {
    const picked = await scheduledCohortId(deps, request.market ?? 'equity-usa');
    if ('skip' in picked) return { skipped: true, reason: picked.skip };
    cohortId = picked.cohortId;
  }
  const cohort = await deps.cohorts.get(cohortId);
  if (cohort.partial) {
    throw new ValidationError(
      'request.cohortId',
      `cohort ${cohort.cohortId} is partial (bars up to ${cohort.partial.upToIso}); promotions read complete cohorts only`,
    );
  }
  const min = deps.gateThresholds.minTradeCount;
  // Never an agent with fewer fills than the minimum (a 0-trade agent is no strategy): the
  // best profitable one, else the best with enough fills (the gates judge it), else a skip.
  const candidate = request.agentId
    ? cohort.leaderboard.find((r) => r.agentId === request.agentId)
    : (cohort.leaderboard.find((r) => r.tradeCount >= min && r.totalPnlUsd > 0) ??
      cohort.leaderboard.find((r) => r.tradeCount >= min));
  if (!candidate) {
    if (request.agentId)
      throw new NotFoundError('agent', `${request.agentId} in cohort ${cohort.cohortId}`);
    if (cohort.leaderboard.length === 0)
      throw new ValidationError('request.cohortId', `cohort ${cohort.cohortId} has no agents`);
    return {
      skipped: true,
      reason: `no agent of ${cohort.cohortId} has at least ${min} fills (the minimum trade count)`,
    };
  }
  const simulation = await readSimulation(deps.artifacts, cohort.artifacts.simulationKey);
  const agent = simulation.agents.find((a) => a.agentId === candidate.agentId);
  if (!agent) {
    throw new ValidationError(
      'request.cohortId',
      `agent ${candidate.agentId} missing from the simulation artifact`,
    );
  }
  const genome: Genome = agent.genome;
  const { promotionConfig: pc, gateThresholds } = deps;
  const capitalSliceUsd =
    request.capitalSliceUsd ??
    sliceOfBankroll(
      cohort.bankrollUsd,
      { fraction: pc.capitalSliceFraction, minUsd: pc.minCapitalSliceUsd },
      gateThresholds.maxSymbolExposureFraction,
    );
  const configHash = sha256Hex(
    canonicalJson({
      cohortConfig: simulation.config as CohortConfig,
      genome,
      gateThresholds,
      promotionConfig: pc,
    }),
  );
  const nowMs = deps.clock.now();
  const market: Market = cohort.market ?? request.market ?? 'equity-usa';
  const promotionId = promotionIdFor({
    cohortId: cohort.cohortId,
    agentId: candidate.agentId,
    approvalId: request.approvalId ?? null,
    sessionDate: marketDate(nowMs, market),
  });
  const staged: StagedPromotion = {
    promotionId,
    cohortId: cohort.cohortId,
    sessionDate: cohort.sessionDate,
    ...(market === 'equity-usa' ? {} : { market }),
    agentId: candidate.agentId,
    agentRank: candidate.rank,
    genome: { ...genome, parentIds: [...genome.parentIds], params: { ...genome.params } },
    configHash,
    bankrollUsd: cohort.bankrollUsd,
    capitalSliceUsd,
    metrics: {
      totalPnlUsd: candidate.totalPnlUsd,
      sharpe: candidate.sharpe,
      // The drawdown_agent gate: the agent's own drawdown from its peak equity.
      maxDrawdownFraction: agentDrawdownOfPeak(candidate, cohort.bankrollUsd),
      parentMaxDrawdownFraction: cohort.parent.maxDrawdownFraction,
      // min_trade_count counts round trips (a position opened and closed), fills beside it.
      tradeCount: request.evidenceTradeCount ?? countRoundTrips(agent.fills),
      fillCount: agent.fills.length,
    },
    broker: `${deps.brokerAt(nowMs).name}:${deps.brokerAccount}`,
    approvalId: request.approvalId ?? null,
    ...(request.sliceRollback ? { sliceRollback: request.sliceRollback } : {}),
    // The VaR / ES lookback: the same genome's recent sessions (the Day-3 review's rule).
    riskSessions: await riskLookbackOf(deps.cohorts, cohort, candidate.agentId, genome.id),
    status: 'staged',
    statusReason: `rank ${candidate.rank} of ${cohort.leaderboard.length}`,
    stagedAtIso: isoOf(nowMs),
  };
  const { created, promotion } = await deps.promotions.stage(staged);
  if (!created && promotion.status !== 'staged') {
    // A rerun for the same candidate and session finds its predecessor: never a second entry.
    return {
      skipped: true,
      reason:
        promotion.status === 'submitted'
          ? `promotion ${promotion.promotionId} is already in flight (submitted); the crash sweeper reconciles it`
          : `promotion ${promotion.promotionId} already ended: ${promotion.status} (${promotion.statusReason})`,
    };
  }
  await deps.audit.append(
    draft(
      deps,
      'promotion_staged',
      streamOf(promotion.promotionId),
      {
        promotion_id: promotion.promotionId,
        cohort_id: promotion.cohortId,
        agent_id: promotion.agentId,
        genome_id: promotion.genome.id,
        execution_id: input.executionId,
      },
      {
        config_hash: promotion.configHash,
        capital_slice_usd: promotion.capitalSliceUsd,
        genome: promotion.genome,
        metrics: promotion.metrics,
        broker: promotion.broker,
        ...(created ? {} : { resumed: true }),
      },
    ),
  );
  return { skipped: false, promotion };
}

// ---------------------------------------------------------------------------------------
// Promotion window
// ---------------------------------------------------------------------------------------

export interface WindowCheck {
  readonly status: 'open' | 'not_yet' | 'closed';
  readonly nowIso: string;
  readonly opensAtIso: string;
  readonly closesAtIso: string;
  /** Seconds to wait before checking again (0 unless `not_yet`). */
  readonly waitSeconds: number;
}

/**
 * Where "now" stands relative to today's promotion window of the promotion's market
 * ({@link promotionWindowOf}: America/New_York open/close for `equity-usa`, UTC for `crypto`,
 * from the gate thresholds; open inclusive, close exclusive). "Today" is the market's civil
 * date of now. A market without a configured window is `closed` (the promotion expires).
 */
export function checkPromotionWindow(
  deps: Pick<PromotionDeps, 'clock' | 'gateThresholds' | 'promotionConfig'>,
  promotion?: Pick<StagedPromotion, 'market'>,
): WindowCheck {
  const now = deps.clock.now();
  const market = marketOf(promotion ?? {});
  const date = marketDate(now, market);
  const window = promotionWindowOf(market, deps.gateThresholds);
  if (!window) {
    const at = isoOf(now);
    return { nowIso: at, opensAtIso: at, closesAtIso: at, status: 'closed', waitSeconds: 0 };
  }
  const opens = marketTimeMs(date, window.opensAt, market);
  const closes = marketTimeMs(date, window.closesAt, market);
  const base = { nowIso: isoOf(now), opensAtIso: isoOf(opens), closesAtIso: isoOf(closes) };
  if (now < opens) {
    const wait = Math.ceil((opens - now) / 1000);
    return {
      ...base,
      status: 'not_yet',
      waitSeconds: Math.min(wait, deps.promotionConfig.windowCheckSeconds),
    };
  }
  if (now >= closes) return { ...base, status: 'closed', waitSeconds: 0 };
  return { ...base, status: 'open', waitSeconds: 0 };
}

// ---------------------------------------------------------------------------------------
// Gates
// ---------------------------------------------------------------------------------------

/** Index of the last bar whose minute has ended at `nowMs`, or -1. */
function lastCompleteBar(session: MarketSession, nowMs: number): number {
  let idx = -1;
  for (let i = 0; i < session.timestamps.length; i++) {
    if ((session.timestamps[i] as number) + MINUTE_MS <= nowMs) idx = i;
    else break;
  }
  return idx;
}

/**
 * The candidate's entry leg at `nowMs`: its strategy replayed over today's completed bars
 * gives a target (signed fraction of the capital slice); when the strategy is flat or has
 * not spoken yet, the genome's base position (long `riskFraction`) is used, so a promotion
 * always opens the position the candidate trades with. Quantity rounds down to whole or
 * 1e-6 shares; an empty plan means the slice cannot buy the step.
 */
export function planEntry(
  promotion: Pick<StagedPromotion, 'genome' | 'capitalSliceUsd'>,
  session: MarketSession,
  lastIdx: number,
  wholeShares: boolean,
): PlannedLeg[] {
  const symbol = promotion.genome.symbol;
  const s = session.series.find((x) => x.symbol === symbol);
  if (!s || lastIdx < 0) return [];
  const strategy = createStrategy(promotion.genome as Genome);
  strategy.reset(sessionOpenMs(session));
  let target = HOLD;
  for (let i = 0; i <= lastIdx; i++) {
    const close = s.close[i] as number;
    if (Number.isNaN(close)) continue;
    const out = strategy.step(
      session.timestamps[i] as number,
      close,
      s.high[i] as number,
      s.low[i] as number,
      s.volume[i] as number,
    );
    if (!Number.isNaN(out)) target = out;
  }
  const riskFraction = promotion.genome.params.riskFraction ?? 1;
  if (Number.isNaN(target) || target === 0) target = riskFraction;
  const side: OrderSide = target > 0 ? 'buy' : 'sell';
  const price = (side === 'buy' ? s.ask[lastIdx] : s.bid[lastIdx]) as number;
  if (!(price > 0)) return [];
  const qty = roundQtyDown(
    (promotion.capitalSliceUsd * Math.abs(target)) / price,
    wholeShares ? 1 : FRACTIONAL_QTY_STEP,
  );
  return qty > 0 ? [{ leg: 'entry', symbol, side, qty, refPriceUsd: price }] : [];
}

/**
 * The candidate's own P&L for the VaR / ES gates: its minute P&L per USD of allocation and its
 * largest intraday gross exposure / allocation, from the simulation artifacts, and the length
 * in minutes of the promotion's own session (m of the √m scaling). Nulls (the gates fail
 * closed) when a cohort, its artifact or the agent cannot be read.
 *
 * One sample rule for the Day-3 review and every promotion (docs/evidence.md, "Risk on the
 * strategy's own P&L"): `riskSessions` is the candidate genome's lookback, its own recent
 * sessions oldest first (the Day-3 review's reviewed days; a promotion's, fixed when staged by
 * {@link riskLookbackOf}). The sample is every session's minutes pooled, each session's
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

async function killSwitchState(
  deps: Pick<PromotionDeps, 'killSwitch'>,
): Promise<'on' | 'off' | 'unknown'> {
  try {
    const state = await deps.killSwitch.read();
    return state?.engaged ? 'on' : 'off';
  } catch {
    return 'unknown';
  }
}

export interface GatesOutput extends GateEvaluation {
  readonly plan: readonly PlannedLeg[];
  readonly nowIso: string;
}

/**
 * Gates: observes everything the gates need at "now" (kill switch, drawdowns, VaR/ES from
 * daily history, exposure and leverage after the planned entry, trade count, liquidity and
 * spread at the last complete minute, data staleness, promotion window), evaluates them,
 * records one `gate_evaluated` per gate and, when any fails, marks the promotion
 * `gates_failed`. Missing observations fail their gate (closed), never throw.
 */
export async function evaluatePromotionGates(
  deps: PromotionDeps,
  input: { readonly promotion: StagedPromotion },
): Promise<GatesOutput> {
  const p = input.promotion;
  const now = deps.clock.now();
  const market = marketOf(p);
  const date = marketDate(now, market);
  const symbol = p.genome.symbol;
  let session: MarketSession | null = null;
  try {
    session = await deps.marketData.loadSession(date, [symbol]);
  } catch (err) {
    if (!(err instanceof NoSessionError)) throw err;
  }
  const lastIdx = session ? lastCompleteBar(session, now) : -1;
  const plan = session ? planEntry(p, session, lastIdx, deps.promotionConfig.wholeShares) : [];
  const series = session?.series.find((x) => x.symbol === symbol);
  const leg = plan[0];
  const notional = leg ? (leg.side === 'buy' ? 1 : -1) * leg.qty * leg.refPriceUsd : null;

  const fromDate = new Date(Date.parse(`${date}T00:00:00Z`) - RISK_HISTORY_DAYS * 86_400_000)
    .toISOString()
    .slice(0, 10);
  const dayBefore = new Date(Date.parse(`${date}T00:00:00Z`) - 86_400_000)
    .toISOString()
    .slice(0, 10);
  // Adjusted for splits and dividends (a split never shows up as a return); a symbol without
  // daily history only says "no history" in the VaR/ES gates' underlying view, never an unknown symbol.
  const history = await dailyHistoryOrNull(deps.marketData, symbol, fromDate, dayBefore);
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
  const positionsAfterTrade =
    notional === null ? null : [...positions, { symbol, notionalUsd: notional }];
  const gateInput: Parameters<typeof evaluateGates>[0] = {
    nowMs: now,
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
    positionsAfterTrade,
    leverage: {
      grossNotionalUsd: notional === null ? null : Math.abs(notional),
      equityUsd: p.capitalSliceUsd,
    },
    trades: { tradeCount: p.metrics.tradeCount, fillCount: p.metrics.fillCount ?? null },
    liquidity: {
      orderQty: leg?.qty ?? null,
      minuteVolume: series && lastIdx >= 0 ? (series.volume[lastIdx] as number) : null,
      dailyVolume: daily.at(-1)?.volume ?? null,
      bidUsd: series && lastIdx >= 0 ? (series.bid[lastIdx] as number) : null,
      askUsd: series && lastIdx >= 0 ? (series.ask[lastIdx] as number) : null,
    },
    staleness: {
      lastBarMs:
        session && lastIdx >= 0 ? (session.timestamps[lastIdx] as number) + MINUTE_MS : null,
    },
    // The session must be of the candidate's calendar: a symbol whose data says otherwise
    // fails the window gate (closed) rather than trade on the wrong day's hours.
    window: { isTradingDay: session !== null && session.market === market, market },
  };
  const evaluation = evaluateGates(gateInput, deps.gateThresholds);
  // What the verdicts rest on: a change of thresholds or of inputs between two evaluations
  // shows as a different hash in the trail.
  const provenance = decisionProvenance(deps.gateThresholds, gateInput);
  // One head advance for the whole gate table (16 records), objects written in parallel.
  await deps.audit.appendMany(
    evaluation.results.map((r) =>
      draft(
        deps,
        'gate_evaluated',
        streamOf(p.promotionId),
        { promotion_id: p.promotionId, cohort_id: p.cohortId, agent_id: p.agentId },
        {
          ...gateVerdictFields(r),
          evaluated_at: isoOf(now),
          provenance,
        },
      ),
    ),
  );
  if (!evaluation.passed) {
    const failed = evaluation.results.filter((r) => r.verdict === 'fail').map((r) => r.gate);
    await deps.promotions.setStatus(
      p.promotionId,
      'gates_failed',
      `failed gates: ${failed.join(', ')}`,
    );
  }
  return { ...evaluation, plan, nowIso: isoOf(now) };
}

// ---------------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------------

/**
 * Applies the broker's view of an order to our snapshot through the Order entity (an
 * illegal transition throws IllegalOrderTransitionError), books new fills into THE
 * position book (`exchange/position-book.ts`), saves, and records `order_status_changed` when anything moved.
 */
export async function syncOrder(
  deps: PromotionDeps,
  p: StagedPromotion,
  tracked: PromotionOrder,
  reported: BrokerOrder,
  nowMs: number,
): Promise<PromotionOrder> {
  const order = Order.rehydrate(tracked.order);
  // An event the lifecycle does not allow throws IllegalOrderTransitionError (recorded by
  // the state machine's Catch): a broker report never silently rewrites an order's history.
  for (const ev of brokerReportEvents(tracked.order, reported, nowMs)) order.apply(ev);
  const next = order.snapshot();
  if (next.status === tracked.order.status && next.filledQty === tracked.order.filledQty)
    return tracked;
  let bookedQty = tracked.bookedQty;
  let bookedFeesUsd = tracked.bookedFeesUsd ?? 0;
  const toBook = next.filledQty - bookedQty;
  if (toBook > 1e-9) {
    const prevNotional = bookedQty * (tracked.order.avgFillPriceUsd ?? 0);
    const price = (next.filledQty * (next.avgFillPriceUsd ?? 0) - prevNotional) / toBook;
    for (let attempt = 0; attempt < 5; attempt++) {
      const { book, version } = await deps.promotions.getBook(p.broker);
      const booked = applyBookFill(book, {
        symbol: next.symbol,
        side: next.side,
        qty: toBook,
        priceUsd: price,
        feeUsd: Math.max(0, reported.feesUsd - (tracked.bookedFeesUsd ?? 0)),
        atMs: nowMs,
      });
      if (await deps.promotions.saveBook(p.broker, booked, version)) {
        bookedQty = next.filledQty;
        bookedFeesUsd = reported.feesUsd;
        break;
      }
    }
  }
  const updated: PromotionOrder = { ...tracked, bookedQty, bookedFeesUsd, order: next };
  await deps.promotions.saveOrder(updated);
  await deps.audit.append(
    draft(
      deps,
      'order_status_changed',
      streamOf(p.promotionId),
      { promotion_id: p.promotionId, order_id: next.clientOrderId },
      {
        client_order_id: next.clientOrderId,
        status: next.status,
        previous_status: tracked.order.status,
        filled_qty: next.filledQty,
        filled_avg_price: next.avgFillPriceUsd,
        broker_status: reported.status,
      },
    ),
  );
  return updated;
}

export interface OrdersOutput {
  readonly orders: readonly {
    readonly clientOrderId: string;
    readonly symbol: string;
    readonly side: OrderSide;
    readonly qty: number;
    readonly status: string;
    readonly filledQty: number;
    readonly filledAvgPriceUsd: number | null;
    /** Submission to last update, ms (submission-to-terminal once terminal). */
    readonly latencyMs: number;
  }[];
  readonly allTerminal: boolean;
}

function ordersOutput(orders: readonly PromotionOrder[]): OrdersOutput {
  return {
    orders: orders.map((o) => ({
      clientOrderId: o.order.clientOrderId,
      symbol: o.order.symbol,
      side: o.order.side,
      qty: o.order.qty,
      status: o.order.status,
      filledQty: o.order.filledQty,
      filledAvgPriceUsd: o.order.avgFillPriceUsd,
      latencyMs: o.order.updatedAtMs - o.order.createdAtMs,
    })),
    allTerminal: orders.every((o) => isTerminalOrderStatus(o.order.status)),
  };
}

async function assertKillSwitchOff(deps: Pick<PromotionDeps, 'killSwitch'>): Promise<void> {
  const ks = await killSwitchState(deps);
  if (ks !== 'off') throw new KillSwitchEngagedError(ks);
}

/**
 * Submit: for each planned leg re-checks the kill switch (fails closed), then reserves the
 * order under its deterministic client_order_id (conditional write) BEFORE sending it, and
 * sends it. A retry or restart after the broker accepted but before we recorded finds the
 * reservation and the broker answers with the same order (`duplicate`), so exactly one
 * order per leg exists. A broker rejection is recorded on the order, not retried.
 *
 * @throws KillSwitchEngagedError when the switch is on or unreadable.
 */
export async function submitPromotionOrders(
  deps: PromotionDeps,
  input: {
    readonly promotion: StagedPromotion;
    readonly plan: readonly PlannedLeg[];
  },
): Promise<OrdersOutput> {
  const p = input.promotion;
  if (input.plan.length === 0) await assertKillSwitchOff(deps);
  const now = deps.clock.now();
  const broker = deps.brokerAt(now);
  const out: PromotionOrder[] = [];
  for (const leg of input.plan) {
    // Re-read before every leg, not once: an operator who engages the switch mid-submission
    // stops the legs not yet sent (those already sent are canceled by the engage itself).
    await assertKillSwitchOff(deps);
    const coid = clientOrderId({ promotionId: p.promotionId, leg: leg.leg, attempt: 1 });
    const fresh = Order.create(
      {
        clientOrderId: coid,
        symbol: leg.symbol,
        side: leg.side,
        qty: leg.qty,
        type: 'market',
        limitPriceUsd: null,
        timeInForce: 'day',
      },
      now,
    ).snapshot();
    const { created, order: reserved } = await deps.promotions.reserveOrder({
      promotionId: p.promotionId,
      leg: leg.leg,
      attempt: 1,
      bookedQty: 0,
      order: fresh,
    });
    if (isTerminalOrderStatus(reserved.order.status)) {
      out.push(reserved);
      continue;
    }
    try {
      // Intent before effect (functions/core/orders/order-intent.ts): `order_intent` is
      // appended before the broker call, `order_submitted` after; a reservation that existed
      // already is looked up at the broker first and never sent twice.
      const { order: reported } = await submitOnce(
        {
          audit: deps.audit,
          environment: deps.environment,
          actor: ACTOR,
          stream: streamOf(p.promotionId),
          subject: { promotion_id: p.promotionId },
        },
        broker,
        {
          clientOrderId: coid,
          symbol: reserved.order.symbol,
          side: reserved.order.side,
          qty: reserved.order.qty,
          type: 'market',
          timeInForce: 'day',
        },
        { mayBeKnown: !created },
      );
      out.push(await syncOrder(deps, p, reserved, reported, now));
    } catch (err) {
      if (!(err instanceof BrokerRejectedError)) throw err;
      const order = Order.rehydrate(reserved.order);
      order.apply({ type: 'rejected', atMs: now, reason: err.reason } as OrderEvent);
      const rejected: PromotionOrder = { ...reserved, order: order.snapshot() };
      await deps.promotions.saveOrder(rejected);
      await deps.audit.append(
        draft(
          deps,
          'order_status_changed',
          streamOf(p.promotionId),
          { promotion_id: p.promotionId, order_id: coid },
          {
            client_order_id: coid,
            status: 'rejected',
            previous_status: reserved.order.status,
            filled_qty: 0,
            filled_avg_price: null,
            reason: err.reason,
          },
        ),
      );
      out.push(rejected);
    }
  }
  await deps.promotions.setStatus(
    p.promotionId,
    'submitted',
    `${out.length} order(s) sent to ${broker.name}`,
  );
  return ordersOutput(out);
}

/**
 * Poll: asks the broker for every open order of the promotion and applies what moved.
 * With `cancelOpen`, requests cancellation of every order still open first (the poll budget
 * ran out, or the kill switch was engaged).
 */
export async function pollPromotionOrders(
  deps: PromotionDeps,
  input: {
    readonly promotion: StagedPromotion;
    readonly cancelOpen?: boolean;
  },
): Promise<OrdersOutput> {
  const p = input.promotion;
  const now = deps.clock.now();
  const broker = deps.brokerAt(now);
  const tracked = await deps.promotions.listOrders(p.promotionId);
  const out: PromotionOrder[] = [];
  for (const o of tracked) {
    if (isTerminalOrderStatus(o.order.status)) {
      out.push(o);
      continue;
    }
    const reported = input.cancelOpen
      ? await broker.cancelOrder(o.order.clientOrderId)
      : await broker.getOrderByClientOrderId(o.order.clientOrderId);
    out.push(reported ? await syncOrder(deps, p, o, reported, now) : o);
  }
  return ordersOutput(out);
}

/**
 * Reconcile: compares the local position book and this promotion's orders with the broker's
 * positions and orders, and records a `reconciliation` with every discrepancy.
 */
export async function reconcilePromotion(
  deps: PromotionDeps,
  input: { readonly promotion: StagedPromotion },
): Promise<{
  clean: boolean;
  discrepancies: readonly Discrepancy[];
  positions: readonly { symbol: string; qty: number }[];
}> {
  const p = input.promotion;
  const now = deps.clock.now();
  const broker = deps.brokerAt(now);
  const [{ book }, brokerPositions, tracked] = await Promise.all([
    deps.promotions.getBook(p.broker),
    broker.listPositions(),
    deps.promotions.listOrders(p.promotionId),
  ]);
  const brokerOrders: { clientOrderId: string; status: string; filledQty: number }[] = [];
  for (const o of tracked) {
    const b = await broker.getOrderByClientOrderId(o.order.clientOrderId);
    if (b)
      brokerOrders.push({
        clientOrderId: b.clientOrderId,
        status: b.status,
        filledQty: b.filledQty,
      });
  }
  const localPositions = openPositions(book as AccountBook).map((v) => ({
    symbol: v.symbol,
    qty: v.qty,
  }));
  const discrepancies = reconcile(
    {
      localPositions,
      brokerPositions: brokerPositions.map((b) => ({ symbol: b.symbol, qty: b.qty })),
      localOrders: tracked.map((o) => ({
        clientOrderId: o.order.clientOrderId,
        status: o.order.status,
        filledQty: o.order.filledQty,
      })),
      brokerOrders,
    },
    { qtyTolerance: deps.promotionConfig.reconcileQtyTolerance },
  );
  await deps.audit.append(
    draft(
      deps,
      'reconciliation',
      streamOf(p.promotionId),
      { promotion_id: p.promotionId },
      {
        clean: discrepancies.length === 0,
        discrepancies,
        local_positions: localPositions,
        broker_positions: brokerPositions,
        orders: brokerOrders,
        broker: broker.name,
      },
    ),
  );
  return { clean: discrepancies.length === 0, discrepancies, positions: localPositions };
}

/** Ends a promotion: records `promotion_completed` with the outcome and reason. */
export async function completePromotion(
  deps: PromotionDeps,
  input: {
    readonly promotion: StagedPromotion;
    readonly outcome: 'promoted' | 'gates_failed' | 'window_expired' | 'halted' | 'failed';
    readonly reason: string;
  },
): Promise<{ promotionId: string; outcome: string; reason: string }> {
  const p = input.promotion;
  let { outcome, reason } = input;
  if (outcome === 'promoted') {
    // A promotion demoted during its paper session (a micro-live slice's rollback) stays
    // demoted: completing the pipeline never undoes it.
    const current = await deps.promotions.get(p.promotionId);
    if (current.status === 'halted') {
      outcome = 'halted';
      reason = current.statusReason;
    }
  }
  const status = outcome === 'failed' ? 'failed' : outcome;
  await deps.promotions.setStatus(p.promotionId, status, reason);
  await deps.audit.append(
    draft(
      deps,
      'promotion_completed',
      streamOf(p.promotionId),
      { promotion_id: p.promotionId, cohort_id: p.cohortId, agent_id: p.agentId },
      { outcome, reason },
    ),
  );
  return { promotionId: p.promotionId, outcome, reason };
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
        draft(
          deps,
          'position_restated',
          streamOf(p.promotionId),
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
