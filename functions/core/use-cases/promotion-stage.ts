/**
 * The promotion pipeline's first and last steps: StageCandidate (pick and freeze the
 * candidate), CheckPromotionWindow, and the `promotion_completed` record (`promotion.ts` lists
 * the other steps).
 */
import { canonicalJson, sha256Hex } from '../audit/record.js';
import { type Market, marketDate, marketTimeMs } from '../calendar/market-calendar.js';
import type { CohortConfig } from '../cohort/config.js';
import type { Genome } from '../cohort/genome.js';
import { NotFoundError, parseOrThrow, ValidationError } from '../errors.js';
import { promotionWindowOf } from '../gates/gates.js';
import { sliceOfBankroll } from '../risk/capital-slice.js';
import { countRoundTrips } from '../scoring/round-trips.js';
import { type AgentRow, agentDrawdownOfPeak, type CohortRecord } from './cohort-records.js';
import {
  isoOf,
  type PromotionDeps,
  promotionDraft,
  promotionMarket,
  promotionStream,
} from './promotion.js';
import {
  type PromotionRequest,
  PromotionRequestSchema,
  type StagedPromotion,
} from './promotion-records.js';
import { decideSlotAtStaging, recordSlotDecision, type SlotOutcome } from './promotion-slot.js';
import { riskLookbackOf } from './risk-lookback.js';
import { readSimulation } from './simulation-artifact.js';

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
 * The cohort and the agent a promotion request takes: the named cohort (or the scheduled one,
 * {@link scheduledCohortId}) and the named agent, else the best profitable agent with at least
 * the minimum trade count, else the best with enough fills (the gates judge it). Never an agent
 * with fewer fills than the minimum (a 0-trade agent is no strategy): a skip with its reason.
 *
 * @throws ValidationError (partial cohort, no agents), NotFoundError (unknown cohort or agent).
 */
async function bestCandidate(
  deps: Pick<PromotionDeps, 'clock' | 'cohorts' | 'marketData' | 'gateThresholds'>,
  request: PromotionRequest,
): Promise<
  { readonly cohort: CohortRecord; readonly candidate: AgentRow } | { readonly skip: string }
> {
  let cohortId = request.cohortId;
  if (!cohortId) {
    const picked = await scheduledCohortId(deps, request.market ?? 'equity-usa');
    if ('skip' in picked) return picked;
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
  const candidate = request.agentId
    ? cohort.leaderboard.find((r) => r.agentId === request.agentId)
    : (cohort.leaderboard.find((r) => r.tradeCount >= min && r.totalPnlUsd > 0) ??
      cohort.leaderboard.find((r) => r.tradeCount >= min));
  if (candidate) return { cohort, candidate };
  if (request.agentId)
    throw new NotFoundError('agent', `${request.agentId} in cohort ${cohort.cohortId}`);
  if (cohort.leaderboard.length === 0)
    throw new ValidationError('request.cohortId', `cohort ${cohort.cohortId} has no agents`);
  return {
    skip: `no agent of ${cohort.cohortId} has at least ${min} fills (the minimum trade count)`,
  };
}

/**
 * The candidate a request stages: the named agent as asked; otherwise the winner of the paper
 * slot's incumbent/challenger decision against the best candidate ({@link bestCandidate},
 * `promotion-slot.ts`), returned with the decision to record.
 */
async function pickCandidate(
  deps: PromotionDeps,
  request: PromotionRequest,
): Promise<
  | {
      readonly cohort: CohortRecord;
      readonly candidate: AgentRow;
      readonly slot: SlotOutcome | null;
    }
  | { readonly skip: string }
> {
  const best = await bestCandidate(deps, request);
  if ('skip' in best || request.agentId) return 'skip' in best ? best : { ...best, slot: null };
  const slot = await decideSlotAtStaging(deps, best.cohort, best.candidate);
  return { cohort: best.cohort, candidate: slot.candidate, slot };
}

/**
 * The candidate frozen now: its genome from the simulation artifact, the config hash
 * (SHA-256 of the canonical JSON of cohort config, genome, gate thresholds and pipeline
 * config), its capital slice (USD) and its metrics, under its deterministic promotion id.
 *
 * @throws ValidationError when the agent is missing from the simulation artifact.
 */
async function frozenCandidate(
  deps: PromotionDeps,
  request: PromotionRequest,
  cohort: CohortRecord,
  candidate: AgentRow,
): Promise<StagedPromotion> {
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
  return {
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
    riskSessions: await riskLookbackOf(
      deps.cohorts,
      cohort,
      candidate.agentId,
      genome.id,
      deps.gateThresholds.riskLookbackSessions,
    ),
    status: 'staged',
    statusReason: `rank ${candidate.rank} of ${cohort.leaderboard.length}`,
    stagedAtIso: isoOf(nowMs),
  };
}

/**
 * Stage: picks the candidate ({@link pickCandidate}: the paper slot's winner unless the request
 * names the agent), records the slot decision (`paper_slot_decided`), freezes its genome,
 * config hash and capital slice ({@link frozenCandidate}), and records `promotion_staged`.
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
): Promise<
  | {
      skipped: false;
      promotion: StagedPromotion;
      /** The paper slot's decision (null: the request named the agent). */
      slot: { decision: string; reason: string } | null;
    }
  | { skipped: true; reason: string }
> {
  const request = parseOrThrow(PromotionRequestSchema, input.request, 'request');
  const picked = await pickCandidate(deps, request);
  if ('skip' in picked) return { skipped: true, reason: picked.skip };
  const staged = await frozenCandidate(deps, request, picked.cohort, picked.candidate);
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
    promotionDraft(
      deps,
      'promotion_staged',
      promotionStream(promotion.promotionId),
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
  if (picked.slot) await recordSlotDecision(deps, promotion, picked.slot, !created);
  const slot = picked.slot
    ? { decision: picked.slot.decision.decision, reason: picked.slot.decision.reason }
    : null;
  return { skipped: false, promotion, slot };
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
  const market = promotionMarket(promotion ?? {});
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
    promotionDraft(
      deps,
      'promotion_completed',
      promotionStream(p.promotionId),
      { promotion_id: p.promotionId, cohort_id: p.cohortId, agent_id: p.agentId },
      { outcome, reason },
    ),
  );
  return { promotionId: p.promotionId, outcome, reason };
}
