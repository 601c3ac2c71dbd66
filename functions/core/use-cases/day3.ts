/**
 * Use cases behind the Day-3 go/no-go state machine (`statemachines/day3-go-no-go.asl.json`):
 *
 *   SelectCandidate: rank the genomes that traded on Day 3 and earlier, walk-forward (on their
 *     own sessions before Day 3; Day 3 held out), run the promotion gates and the evidence
 *     gates (PSR, DSR, out of sample) on the best one ({@link selectDay3Candidate});
 *   RequestApproval (`.waitForTaskToken`): store the approval request with the task token
 *     (encrypted, server-side), announce the signed link ({@link requestDay3Approval});
 *   StartMicroLive: on approval, the slice's first leverage decision and its record
 *     ({@link startMicroLive}); the promotion pipeline then runs with the slice;
 *   Conclude: the outcome (slice active or not, not approved, gates failed) ({@link concludeDay3}).
 *
 * Every decision is appended to the audit trail before the step returns.
 */
import { createHmac } from 'node:crypto';
import type { ApprovalAnnouncer } from '../../ports/approval-announcer.js';
import type { ApprovalStore } from '../../ports/approval-store.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { GenomePoolRepository } from '../../ports/genome-pool.js';
import type { MicroLiveRepository } from '../../ports/micro-live.js';
import type { PromotionRepository } from '../../ports/promotion-repository.js';
import type { ReportPublisher } from '../../ports/report-publisher.js';
import { type ApprovalKey, buildApprovalLink, expFromMs } from '../approval/links.js';
import { downsampleEquityCurve } from '../approval/page.js';
import {
  type ApprovalSummary,
  type EquityCurve,
  MAX_EQUITY_CURVE_POINTS,
} from '../approval/types.js';
import type { AuditDraftOf, AuditKind, AuditPayload } from '../audit/record.js';
import { auditDraft, canonicalJson, sha256Hex } from '../audit/record.js';
import type { CohortConfig } from '../cohort/config.js';
import type { Genome } from '../cohort/genome.js';
import type { SimulationResult } from '../cohort/simulate.js';
import { NotFoundError, parseOrThrow, TransientError, ValidationError } from '../errors.js';
import { evaluateEvidenceGates } from '../gates/evidence.js';
import { type GateResult, strongestAction } from '../gates/types.js';
import { initialLeverage } from '../leverage/policy.js';
import { type ReportDay, renderRunReport } from '../report/render.js';
import { sliceOfBankroll } from '../risk/capital-slice.js';
import { mean, sampleStdev, simpleReturns } from '../scoring/metrics.js';
import type { CohortScore } from '../scoring/score.js';
import { agentDrawdownOfPeak, type CohortRecord } from './cohort-records.js';
import {
  type CandidateEvidence,
  candidateEvidence,
  trackRecords,
  trialsThrough,
} from './day3-evidence.js';
import {
  type ApprovalResult,
  type CandidateMetrics,
  type Day3Config,
  type Day3Request,
  Day3RequestSchema,
  type Day3Selection,
  type LineageDay,
  type MicroLiveSlice,
  type RankedLineage,
} from './day3-records.js';
import { evaluatePromotionGates, type PromotionDeps } from './promotion.js';
import type { StagedPromotion } from './promotion-records.js';
import { readSimulation } from './simulation-artifact.js';

const ACTOR = 'stagegate/day3-go-no-go';
const MINUTE_MS = 60_000;

/** Everything the Day-3 use cases need, built by the composition root. */
export interface Day3Deps {
  /** The promotion pipeline's dependencies (gates, broker, repositories, audit, clock). */
  readonly promotion: PromotionDeps;
  /**
   * The genome pool's generations: lineage is followed through the generations bred between
   * the three cohorts (learning cycles run between them, so a Day-2 genome's parents may
   * never have traded in a cohort).
   */
  readonly genomePool?: GenomePoolRepository;
  /** Publishes the run report of the three days (linked from the approval message). */
  readonly reports?: ReportPublisher;
  readonly config: Day3Config;
  readonly microLive: MicroLiveRepository;
}

/** What requesting an approval additionally needs. */
export interface Day3ApprovalDeps extends Day3Deps {
  readonly approvals: ApprovalStore;
  /** The approval key (links, CSRF, token cipher, approval ids). */
  readonly key: ApprovalKey;
  readonly announcer: ApprovalAnnouncer;
  /** Origin (+ path prefix) of the approval page, e.g. the HTTP API's URL. */
  readonly approvalBaseUrl: string;
}

const streamOfExecution = (executionName: string) => `execution:${executionName}`;
const tailOf = (executionName: string, n: number) =>
  executionName.replace(/[^A-Za-z0-9-]/g, '').slice(-n) || 'x';

function draft<K extends AuditKind>(
  deps: Pick<Day3Deps, 'promotion'>,
  kind: K,
  stream: string,
  subject: Record<string, string | null | undefined>,
  payload: AuditPayload<K>,
  actor = ACTOR,
): AuditDraftOf<K> {
  return auditDraft(kind, {
    actor,
    stream,
    environment: deps.promotion.environment,
    subject,
    payload,
  });
}

// ---------------------------------------------------------------------------------------
// Lineages and ranking (pure)
// ---------------------------------------------------------------------------------------

/** One agent of one daily cohort, as the lineage tracker reads it. */
export interface DayAgent {
  readonly agentId: string;
  readonly genome: Pick<Genome, 'id' | 'parentIds' | 'family' | 'symbol'>;
  /** Leaderboard rank that day (1 = best). */
  readonly rank: number;
  readonly allocationUsd: number;
  readonly totalPnlUsd: number;
  readonly roi: number;
  /** The agent's drawdown from its own peak equity, fraction. */
  readonly maxDrawdownFraction: number;
  readonly tradeCount: number;
}

/** One daily cohort, as the lineage tracker reads it. */
export interface DayCohort {
  readonly sessionDate: string;
  readonly cohortId: string;
  readonly simulationKey: string;
  readonly agents: readonly DayAgent[];
}

/**
 * Ranks the Day-3 candidates, walk-forward (docs/evidence.md). Days oldest first; the last one
 * is Day 3.
 *
 * A candidate is ONE genome (same genome id: a content hash of its family, symbol and genes):
 * its days are the sessions in which that genome itself traded, never a descendant standing in
 * for it. When a genome has several agents on one day (oversized cohorts), its best-ranked
 * agent stands for it that day. Candidates are the genomes that traded on Day 3 and on at
 * least one earlier reviewed day (elites the learning cycles carried over unchanged).
 *
 * Walk-forward: the ranking looks only at the sessions before Day 3 (in sample); Day 3 played
 * no part in the selection and is the candidate's out-of-sample session (`sample` of each day,
 * `outOfSampleMeanRoi`), judged by the `oos` gate.
 *
 * Order: candidates whose in-sample sessions together reached `minTradeCount` trades
 * (eligible) first; then the higher mean in-sample session return, then the smaller worst
 * in-sample drawdown (from the agent's own peak), then genome id (ascending, deterministic).
 * No Sharpe ratio of one session's minute returns. Ranks start at 1.
 *
 * @param minTradeCount minimum trades over the in-sample sessions, count (the gate threshold
 *   `minTradeCount`).
 */
export function rankLineages(days: readonly DayCohort[], minTradeCount: number): RankedLineage[] {
  const lastDay = days.at(-1);
  if (!lastDay || days.length < 2) return [];
  const perDay = days.map((day) => {
    const best = new Map<string, DayAgent>();
    for (const agent of [...day.agents].sort((a, b) => a.rank - b.rank)) {
      if (!best.has(agent.genome.id)) best.set(agent.genome.id, agent);
    }
    return best;
  });
  const last = perDay.at(-1) as Map<string, DayAgent>;
  const rows: Omit<RankedLineage, 'rank'>[] = [];
  for (const [genomeId, finalAgent] of last) {
    const genomeDays: LineageDay[] = [];
    days.forEach((day, i) => {
      const agent = perDay[i]?.get(genomeId);
      if (!agent) return;
      genomeDays.push({
        sessionDate: day.sessionDate,
        cohortId: day.cohortId,
        agentId: agent.agentId,
        genomeId,
        allocationUsd: agent.allocationUsd,
        totalPnlUsd: agent.totalPnlUsd,
        roi: agent.roi,
        maxDrawdownFraction: agent.maxDrawdownFraction,
        tradeCount: agent.tradeCount,
        simulationKey: day.simulationKey,
        sample: day === lastDay ? 'out_of_sample' : 'in_sample',
      });
    });
    const inSample = genomeDays.filter((d) => d.sample === 'in_sample');
    const outOfSample = genomeDays.filter((d) => d.sample === 'out_of_sample');
    if (inSample.length === 0) continue;
    const inSampleTrades = inSample.reduce((n, d) => n + d.tradeCount, 0);
    rows.push({
      lineageId: genomeId,
      family: finalAgent.genome.family,
      symbol: finalAgent.genome.symbol,
      inSampleMeanRoi: mean(inSample.map((d) => d.roi)),
      inSampleSessions: inSample.length,
      outOfSampleMeanRoi: mean(outOfSample.map((d) => d.roi)),
      outOfSampleSessions: outOfSample.length,
      minDailyTrades: Math.min(...inSample.map((d) => d.tradeCount)),
      eligible: inSampleTrades >= minTradeCount,
      days: genomeDays,
    });
  }
  const worstInSampleDrawdown = (r: Omit<RankedLineage, 'rank'>) =>
    Math.max(
      0,
      ...r.days.filter((d) => d.sample === 'in_sample').map((d) => d.maxDrawdownFraction),
    );
  rows.sort(
    (a, b) =>
      Number(b.eligible) - Number(a.eligible) ||
      b.inSampleMeanRoi - a.inSampleMeanRoi ||
      worstInSampleDrawdown(a) - worstInSampleDrawdown(b) ||
      (a.lineageId < b.lineageId ? -1 : a.lineageId > b.lineageId ? 1 : 0),
  );
  return rows.map((r, i) => ({ rank: i + 1, ...r }));
}

/** The micro-live capital slice: `sliceOfBankroll` with the micro-live fraction and floor. */
export function microLiveSliceUsd(
  bankrollUsd: number,
  microLive: { readonly fraction: number; readonly minUsd: number },
  maxExposureFraction = 1,
): number {
  return sliceOfBankroll(bankrollUsd, microLive, maxExposureFraction);
}

/**
 * The approver's summary figures of a candidate over its reviewed sessions: total PnL (USD),
 * return = total PnL / mean daily allocation (fraction), worst daily drawdown from the agent's
 * own peak, total trades, sessions; in-sample and out-of-sample mean session returns side by
 * side; and the Sharpe ratio of the genome's own track record (`evidence`): per session, not
 * annualized, with its sample size, and annualized by √252 only when the evidence says so
 * (at least `minEvidenceSessions` sessions). No minute Sharpe.
 */
export function lineageMetrics(
  candidate: Pick<RankedLineage, 'days' | 'inSampleMeanRoi' | 'outOfSampleMeanRoi'>,
  evidence: Pick<CandidateEvidence, 'sharpe' | 'n' | 'annualizedSharpe'>,
): CandidateMetrics {
  const days = candidate.days;
  const pnl = days.reduce((s, d) => s + d.totalPnlUsd, 0);
  const allocation = mean(days.map((d) => d.allocationUsd));
  const inSample = days.filter((d) => d.sample === 'in_sample').length;
  return {
    totalPnlUsd: pnl,
    roi: allocation > 0 ? pnl / allocation : 0,
    sharpe: Number.isFinite(evidence.sharpe) ? evidence.sharpe : 0,
    sharpeSessions: evidence.n,
    annualizedSharpe: evidence.annualizedSharpe,
    maxDrawdownFraction: Math.max(0, ...days.map((d) => d.maxDrawdownFraction)),
    tradeCount: days.reduce((s, d) => s + d.tradeCount, 0),
    sessions: days.length,
    inSampleRoi: candidate.inSampleMeanRoi,
    inSampleSessions: inSample,
    outOfSampleRoi: candidate.outOfSampleMeanRoi,
    outOfSampleSessions: days.length - inSample,
  };
}

// ---------------------------------------------------------------------------------------
// Equity curves of a lineage (from the cohorts' simulation artifacts)
// ---------------------------------------------------------------------------------------

interface DayCurve {
  readonly allocationUsd: number;
  /** `[minute end epoch ms, equity USD]`. */
  readonly points: readonly (readonly [number, number])[];
}

async function dayCurves(
  artifacts: ArtifactStore,
  days: readonly LineageDay[],
): Promise<DayCurve[]> {
  const out: DayCurve[] = [];
  for (const day of days) {
    const sim = await readSimulation(artifacts, day.simulationKey);
    const agent = sim.agents.find((a) => a.agentId === day.agentId);
    if (!agent) throw new NotFoundError('agent', `${day.agentId} in ${day.simulationKey}`);
    const points: [number, number][] = [];
    for (let i = 0; i < agent.equityCurve.length; i++) {
      const t = sim.timestamps[i];
      const v = agent.equityCurve[i];
      if (typeof t === 'number' && typeof v === 'number' && Number.isFinite(v)) {
        points.push([t + MINUTE_MS, v]);
      }
    }
    out.push({ allocationUsd: agent.allocationUsd, points });
  }
  return out;
}

/**
 * The lineage's equity over its days as one cumulative curve `[epoch ms, USD]` starting from
 * Day 1's allocation (each later day's PnL is added on top of the previous days'), at most
 * 2,000 points (downsampled keeping each bucket's low and high).
 *
 * @throws NotFoundError when an artifact or the agent in it is missing.
 */
export async function lineageEquityCurve(
  artifacts: ArtifactStore,
  days: readonly LineageDay[],
): Promise<EquityCurve> {
  const curves = await dayCurves(artifacts, days);
  const base = curves[0]?.allocationUsd ?? 0;
  let carried = 0;
  const out: [number, number][] = [];
  for (const c of curves) {
    for (const [t, v] of c.points) out.push([t, base + carried + (v - c.allocationUsd)]);
    const last = c.points[c.points.length - 1];
    if (last) carried += last[1] - c.allocationUsd;
  }
  return downsampleEquityCurve(out, MAX_EQUITY_CURVE_POINTS);
}

/**
 * Sample variance (n − 1) of the lineage's per-minute simple returns over its days, each day
 * measured from its own allocation (no overnight return), fraction²: the rollback monitor's
 * yardstick for the live slice's minute returns. Null with fewer than two returns.
 *
 * @throws NotFoundError when an artifact or the agent in it is missing.
 */
export async function lineageReturnVariance(
  artifacts: ArtifactStore,
  days: readonly LineageDay[],
): Promise<number | null> {
  const curves = await dayCurves(artifacts, days);
  const returns: number[] = [];
  for (const c of curves) {
    returns.push(
      ...simpleReturns(
        c.points.map(([, v]) => v),
        c.allocationUsd,
      ),
    );
  }
  if (returns.length < 2) return null;
  const sd = sampleStdev(returns);
  return sd * sd;
}

// ---------------------------------------------------------------------------------------
// SelectCandidate
// ---------------------------------------------------------------------------------------

function parseRequest(raw: unknown): Day3Request {
  return parseOrThrow(Day3RequestSchema, raw, 'request');
}

/**
 * The promotion repository as the gate preview sees it: reads go through, the one write the
 * gates make (marking a promotion `gates_failed`) is dropped, because the review is not a
 * staged promotion; anything else is refused.
 */
function previewPromotions(real: PromotionRepository): PromotionRepository {
  const refuse = async (): Promise<never> => {
    throw new ValidationError('promotion', 'the Day-3 gate preview does not write promotions');
  };
  return {
    stage: refuse,
    get: (id) => real.get(id),
    setStatus: async () => undefined,
    reserveOrder: refuse,
    saveOrder: refuse,
    listOrders: (id) => real.listOrders(id),
    listInFlight: (from, to) => real.listInFlight(from, to),
    getBook: (account) => real.getBook(account),
    saveBook: refuse,
  };
}

/** "psr: 3 sessions < 20 required, PSR 0.61 < 0.95; dsr: ..." for a label. */
function evidenceShortfall(results: readonly GateResult[]): string {
  return results
    .filter((r) => r.verdict === 'fail')
    .map((r) => {
      const observed = typeof r.observed === 'number' ? r.observed.toPrecision(3) : 'undefined';
      return `${r.gate.toUpperCase()} ${observed} < ${String(r.threshold)}`;
    })
    .join(', ');
}

/**
 * The candidate genome's evidence: its own track record over the most recent cohorts up to
 * Day 3 (`config.evidenceLookbackCohorts`), N = distinct genomes evaluated through the Day-3
 * cohort's generation (from the genome pool; without a pool, the distinct genomes read).
 */
async function day3Evidence(
  deps: Day3Deps,
  input: {
    readonly records: readonly CohortRecord[];
    readonly genomeId: string;
    /** The last session the Day-3 ranking looked at (Day 2), `YYYY-MM-DD`. */
    readonly selectionCutoffDate: string;
  },
): Promise<CandidateEvidence> {
  const p = deps.promotion;
  const day3 = input.records.at(-1) as CohortRecord;
  const byId = new Map(input.records.map((r) => [r.cohortId, r]));
  const recent = await p.cohorts.list(deps.config.evidenceLookbackCohorts);
  for (const summary of recent) {
    if (summary.sessionDate > day3.sessionDate || byId.has(summary.cohortId)) continue;
    byId.set(summary.cohortId, await p.cohorts.get(summary.cohortId));
  }
  const records = trackRecords([...byId.values()]);
  const trials = deps.genomePool
    ? await trialsThrough(deps.genomePool, day3.genomeGeneration)
    : null;
  return candidateEvidence({
    genomeId: input.genomeId,
    selectionCutoffDate: input.selectionCutoffDate,
    records,
    trials: trials ?? records.size,
    confidence: p.gateThresholds.minPsr,
    minSessionsToAnnualize: p.gateThresholds.minEvidenceSessions,
  });
}

/**
 * SelectCandidate: loads the Day 1-3 cohorts (the request's, or the three most recent), tracks
 * and ranks the candidate genomes walk-forward ({@link rankLineages}), and runs every promotion gate on the best one
 * as if it were promoted now with the micro-live slice (one `gate_evaluated` record per gate,
 * promotion id = the review id `d3-<execution>`; nothing is staged). The capital slice is
 * {@link microLiveSliceUsd} of the Day-3 bankroll, the leverage the policy's start.
 *
 * @throws ValidationError (bad request; fewer than three cohorts; cohorts not on three
 *   distinct ascending sessions; no genome traded on Day 3 and on an earlier reviewed day), NotFoundError (unknown
 *   cohort, missing artifact).
 */
export async function selectDay3Candidate(
  deps: Day3Deps,
  input: { readonly request: unknown; readonly executionName: string },
): Promise<Day3Selection> {
  const request = parseRequest(input.request);
  const p = deps.promotion;
  let cohortIds = request.cohortIds;
  if (!cohortIds) {
    const recent = await p.cohorts.list(3);
    if (recent.length < 3) {
      throw new ValidationError(
        'request.cohortIds',
        `Day 3 needs three complete cohorts, found ${recent.length}`,
      );
    }
    cohortIds = recent.map((c) => c.cohortId).reverse();
  }
  const records = [];
  for (const id of cohortIds) records.push(await p.cohorts.get(id));
  for (let i = 1; i < records.length; i++) {
    const prev = records[i - 1]?.sessionDate ?? '';
    if (!((records[i]?.sessionDate ?? '') > prev)) {
      throw new ValidationError(
        'request.cohortIds',
        'must be three cohorts of distinct sessions, oldest first',
      );
    }
  }
  const days: DayCohort[] = [];
  const simulations: SimulationResult[] = [];
  for (const record of records) {
    const sim = await readSimulation(p.artifacts, record.artifacts.simulationKey);
    simulations.push(sim);
    const genomes = new Map(sim.agents.map((a) => [a.agentId, a.genome]));
    days.push({
      sessionDate: record.sessionDate,
      cohortId: record.cohortId,
      simulationKey: record.artifacts.simulationKey,
      agents: record.leaderboard.flatMap((row) => {
        const genome = genomes.get(row.agentId);
        // The candidate's drawdown (and the drawdown_agent gate) is the agent's own, from its peak.
        const maxDrawdownFraction = agentDrawdownOfPeak(row, record.bankrollUsd);
        return genome ? [{ ...row, maxDrawdownFraction, genome }] : [];
      }),
    });
  }
  const ranking = rankLineages(days, p.gateThresholds.minTradeCount);
  const candidate = ranking[0];
  if (!candidate) {
    throw new ValidationError(
      'request.cohortIds',
      'no genome traded on Day 3 and on an earlier reviewed day (no candidate with an in-sample and an out-of-sample session)',
    );
  }
  const day3 = records[2] as (typeof records)[number];
  const d3 = candidate.days.at(-1) as LineageDay;
  const sim3 = simulations[2] as SimulationResult;
  const agent = sim3.agents.find((a) => a.agentId === d3.agentId);
  if (!agent) throw new NotFoundError('agent', `${d3.agentId} in ${d3.simulationKey}`);
  const evidence = await day3Evidence(deps, {
    records,
    genomeId: d3.genomeId,
    selectionCutoffDate: records.at(-2)?.sessionDate ?? day3.sessionDate,
  });
  const metrics = lineageMetrics(candidate, evidence);
  const capitalSliceUsd = microLiveSliceUsd(
    day3.bankrollUsd,
    deps.config.microLive,
    p.gateThresholds.maxSymbolExposureFraction,
  );
  const reviewId = `d3-${tailOf(input.executionName, 24)}`;
  const nowMs = p.clock.now();
  const preview: StagedPromotion = {
    promotionId: reviewId,
    cohortId: day3.cohortId,
    sessionDate: day3.sessionDate,
    agentId: d3.agentId,
    agentRank: day3.leaderboard.find((r) => r.agentId === d3.agentId)?.rank ?? 1,
    genome: {
      ...agent.genome,
      parentIds: [...agent.genome.parentIds],
      params: { ...agent.genome.params },
    },
    configHash: sha256Hex(
      canonicalJson({
        cohortConfig: sim3.config as CohortConfig,
        genome: agent.genome,
        gateThresholds: p.gateThresholds,
        promotionConfig: p.promotionConfig,
      }),
    ),
    bankrollUsd: day3.bankrollUsd,
    capitalSliceUsd,
    metrics: {
      totalPnlUsd: metrics.totalPnlUsd,
      sharpe: metrics.sharpe,
      maxDrawdownFraction: metrics.maxDrawdownFraction,
      parentMaxDrawdownFraction: Math.max(...records.map((r) => r.parent.maxDrawdownFraction)),
      // The min-trade-count gate sees the genome's own trades over its reviewed sessions.
      tradeCount: candidate.days.reduce((n, d) => n + d.tradeCount, 0),
    },
    broker: p.brokerAt(nowMs).name,
    approvalId: null,
    status: 'staged',
    statusReason: `Day-3 review of genome ${candidate.lineageId}`,
    stagedAtIso: new Date(nowMs).toISOString(),
  };
  const gates = await evaluatePromotionGates(
    { ...p, promotions: previewPromotions(p.promotions) },
    { promotion: preview },
  );
  const evidenceGates = evaluateEvidenceGates(evidence, p.gateThresholds);
  await p.audit.appendMany(
    evidenceGates.map((r) =>
      draft(
        deps,
        'gate_evaluated',
        `promotion:${reviewId}`,
        { promotion_id: reviewId, cohort_id: day3.cohortId, agent_id: d3.agentId },
        {
          gate: r.gate,
          verdict: r.verdict,
          observed: r.observed,
          threshold: r.threshold,
          unit: r.unit,
          reason: r.reason,
          breaker_action: r.breakerAction,
          evaluated_at: gates.nowIso,
          evidence: { ...evidence, sessions: evidence.sessions.length },
        },
      ),
    ),
  );
  const evidencePassed = evidenceGates.every((r) => r.verdict === 'pass');
  const verdict = !gates.passed ? 'gates_failed' : evidencePassed ? 'go' : 'insufficient_evidence';
  const demoOverride =
    verdict === 'insufficient_evidence' && deps.config.demoOverride
      ? {
          label: `DEMO OVERRIDE (local mode only): insufficient evidence (${evidenceShortfall(evidenceGates)}); the approval is requested for the demonstration, not on the evidence`,
        }
      : null;
  const allResults = [...gates.results, ...evidenceGates];
  return {
    reviewId,
    cohortIds: [...cohortIds],
    sessionDates: records.map((r) => r.sessionDate),
    candidate,
    ranking: ranking.slice(0, 5),
    metrics,
    gates: {
      passed: gates.passed && evidencePassed,
      strongestAction: strongestAction(allResults),
      results: allResults.map((r) => ({ ...r })),
      nowIso: gates.nowIso,
    },
    evidence,
    verdict,
    proceed: verdict === 'go' || demoOverride !== null,
    demoOverride,
    bankrollUsd: day3.bankrollUsd,
    capitalSliceUsd,
    leverage: initialLeverage(deps.config.leveragePolicy).next,
    reportUrl:
      request.reportUrl ??
      (deps.reports
        ? await publishDay3Report(deps.reports, {
            reviewId,
            records,
            simulations,
            artifacts: p.artifacts,
            gates: allResults,
            expiresInSeconds: deps.config.approvalTimeoutSeconds,
            nowIso: new Date(nowMs).toISOString(),
            environment: p.environment,
          })
        : null),
    approval: {
      timeoutSeconds: deps.config.approvalTimeoutSeconds,
      heartbeatSeconds: deps.config.approvalHeartbeatSeconds,
    },
  };
}

// ---------------------------------------------------------------------------------------
// RequestApproval
// ---------------------------------------------------------------------------------------

/**
 * The approval id of an execution: `base64url(HMAC-SHA256(key, "approval-id:v1:<arn>"))`
 * truncated to 22 characters (132 bits). Opaque without the key, and stable for one execution,
 * so a retried RequestApproval task (which gets a new task token) updates the same request
 * instead of creating a second one.
 */
export function approvalIdFor(executionArn: string, key: ApprovalKey): string {
  return createHmac('sha256', key)
    .update(`approval-id:v1:${executionArn}`, 'utf8')
    .digest('base64url')
    .slice(0, 22);
}

/**
 * Renders the run report of the three reviewed days (charts, leaderboards, the candidate's
 * gate table on Day 3) and publishes it; returns its (presigned) URL.
 */
async function publishDay3Report(
  reports: ReportPublisher,
  input: {
    readonly reviewId: string;
    readonly records: readonly CohortRecord[];
    readonly simulations: readonly SimulationResult[];
    readonly artifacts: PromotionDeps['artifacts'];
    readonly gates: readonly GateResult[];
    readonly expiresInSeconds: number;
    readonly nowIso: string;
    readonly environment: string;
  },
): Promise<string> {
  const days: ReportDay[] = [];
  for (const [i, record] of input.records.entries()) {
    const score = (await input.artifacts.getJson(record.artifacts.scoreKey)) as CohortScore;
    days.push({
      sessionDate: record.sessionDate,
      cohortId: record.cohortId,
      simulation: input.simulations[i] as SimulationResult,
      score,
      ...(i === input.records.length - 1 ? { gates: input.gates } : {}),
    });
  }
  const html = renderRunReport({
    title: `Day-3 go/no-go ${input.reviewId}: ${input.records.map((r) => r.sessionDate).join(', ')}`,
    generatedAtIso: input.nowIso,
    environment: input.environment,
    days,
  });
  return reports.publish(`reports/${input.reviewId}.html`, html, input.expiresInSeconds);
}

/** The approver's view of a selection (what the page and the Slack message show). */
export function approvalSummaryOf(selection: Day3Selection): ApprovalSummary {
  const c = selection.candidate;
  const d3 = c.days.at(-1) as LineageDay;
  return {
    candidateId: d3.genomeId,
    agentId: d3.agentId,
    family: c.family,
    symbol: c.symbol,
    sessionDates: [...selection.sessionDates],
    metrics: selection.metrics,
    gates: selection.gates.results.map((g) => ({ ...g })) as ApprovalSummary['gates'],
    bankrollUsd: selection.bankrollUsd,
    capitalSliceUsd: selection.capitalSliceUsd,
    leverage: selection.leverage,
    demoOverride: selection.demoOverride?.label ?? null,
    reportUrl: selection.reportUrl,
  };
}

/**
 * RequestApproval (the Lambda behind the `.waitForTaskToken` task): stores the request with
 * the task token (encrypted by the store), the candidate summary, its equity curve and the
 * approver allow-list, expiring after the configured timeout; records `approval_requested`;
 * then announces the signed link (once: a retried task updates the token and does not post
 * again). The link carries only the approval id, its expiry and an HMAC signature.
 *
 * @returns the approval id and expiry (the task's result comes from the decision, not this).
 * @throws ValidationError (bad selection, short key, bad base URL), ApprovalAlreadyDecidedError
 *   (a retried task after a decision), NotificationRejectedError, TransientError.
 */
export async function requestDay3Approval(
  deps: Day3ApprovalDeps,
  input: {
    readonly selection: Day3Selection;
    readonly taskToken: string;
    readonly executionArn: string;
    readonly executionName: string;
  },
): Promise<{ approvalId: string; expiresAtIso: string }> {
  const { selection } = input;
  const p = deps.promotion;
  const approvalId = approvalIdFor(input.executionArn, deps.key);
  const nowMs = p.clock.now();
  // Nothing sends heartbeats: the task's deadline is the earlier of its two timers.
  const deadlineSeconds = Math.min(
    selection.approval.timeoutSeconds,
    selection.approval.heartbeatSeconds,
  );
  const expiresAtMs = nowMs + deadlineSeconds * 1000;
  const expiresAtIso = new Date(expiresAtMs).toISOString();
  const summary = approvalSummaryOf(selection);
  const equityCurve = await lineageEquityCurve(p.artifacts, selection.candidate.days);
  await deps.approvals.create({
    approvalId,
    taskToken: input.taskToken,
    executionArn: input.executionArn,
    summary,
    equityCurve: equityCurve.map(([t, v]) => [t, v] as [number, number]),
    approvers: [...deps.config.approvers],
    createdAtIso: new Date(nowMs).toISOString(),
    expiresAtIso,
  });
  const link = buildApprovalLink(
    { baseUrl: deps.approvalBaseUrl, approvalId, exp: expFromMs(expiresAtMs) },
    deps.key,
  );
  const d3 = selection.candidate.days.at(-1) as LineageDay;
  await p.audit.append(
    draft(
      deps,
      'approval_requested',
      streamOfExecution(input.executionName),
      {
        execution_id: input.executionArn,
        cohort_id: d3.cohortId,
        agent_id: d3.agentId,
        genome_id: d3.genomeId,
      },
      {
        approval_id: approvalId,
        review_id: selection.reviewId,
        lineage_id: selection.candidate.lineageId,
        cohort_ids: selection.cohortIds,
        session_dates: selection.sessionDates,
        metrics: selection.metrics,
        ranking: selection.ranking.map((r) => ({
          rank: r.rank,
          lineage_id: r.lineageId,
          symbol: r.symbol,
          genome_id: r.lineageId,
          in_sample_mean_roi: r.inSampleMeanRoi,
          in_sample_sessions: r.inSampleSessions,
          out_of_sample_mean_roi: r.outOfSampleMeanRoi,
          out_of_sample_sessions: r.outOfSampleSessions,
          min_daily_trades: r.minDailyTrades,
          eligible: r.eligible,
        })),
        gates_passed: selection.gates.passed,
        verdict: selection.verdict,
        demo_override: selection.demoOverride?.label ?? null,
        evidence: { ...selection.evidence, sessions: selection.evidence.sessions.length },
        capital_slice_usd: selection.capitalSliceUsd,
        leverage: selection.leverage,
        approvers: deps.config.approvers,
        expires_at: expiresAtIso,
        timeout_seconds: selection.approval.timeoutSeconds,
      },
    ),
  );
  const already = await deps.microLive.getMessageRef(approvalId);
  if (!already) {
    const ref = await deps.announcer.request(summary, {
      approvalId,
      approvalUrl: link.url,
      expiresAtIso,
    });
    await deps.microLive.saveMessageRef(approvalId, ref);
  }
  return { approvalId, expiresAtIso };
}

// ---------------------------------------------------------------------------------------
// StartMicroLive
// ---------------------------------------------------------------------------------------

/** The promotion pipeline's input for the micro-live slice (what `.sync:2` starts). */
export interface MicroLivePipelineInput {
  readonly source: 'event';
  readonly cohortId: string;
  readonly agentId: string;
  readonly capitalSliceUsd: number;
  readonly approvalId: string;
  /** Trades behind the approval: the candidate genome's total over its reviewed sessions. */
  readonly evidenceTradeCount: number;
  /** Links the child execution to this one in the Step Functions console. */
  readonly AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: string;
}

/**
 * StartMicroLive (after the approval): records the slice (`starting`) with the approver, the
 * capital slice and the Day 1-3 minute-return variance (the rollback monitor's yardstick),
 * stores the leverage policy's first decision (start 2x) with its rationale and records it
 * (`config_changed`, setting `micro_live.leverage`), and returns the promotion pipeline input
 * for the approved agent and slice. Idempotent per execution.
 *
 * The slice's capital is the capital slice; leverage caps its gross exposure (gross notional /
 * slice equity) and is enforced downstream by the gates' `maxLeverage` and recorded for the
 * rollback monitor (see docs/approval.md).
 *
 * @throws ValidationError, NotFoundError (artifacts), TransientError, AuditWriteError.
 */
export async function startMicroLive(
  deps: Day3Deps,
  input: {
    readonly selection: Day3Selection;
    readonly decision: ApprovalResult;
    readonly executionArn: string;
    readonly executionName: string;
  },
): Promise<{
  sliceId: string;
  capitalSliceUsd: number;
  leverage: number;
  approvedBy: string;
  pipelineInput: MicroLivePipelineInput;
}> {
  const { selection, decision } = input;
  const p = deps.promotion;
  const d3 = selection.candidate.days.at(-1) as LineageDay;
  const sliceId = `ml-${tailOf(input.executionName, 24)}`;
  const nowIso = new Date(p.clock.now()).toISOString();
  const first = initialLeverage(deps.config.leveragePolicy);
  const variance = await lineageReturnVariance(p.artifacts, selection.candidate.days);
  const slice: MicroLiveSlice = {
    sliceId,
    approvalId: decision.approvalId,
    approvedBy: decision.by,
    approvedAtIso: decision.atIso,
    executionArn: input.executionArn,
    reviewId: selection.reviewId,
    cohortId: d3.cohortId,
    agentId: d3.agentId,
    genomeId: d3.genomeId,
    lineageId: selection.candidate.lineageId,
    family: selection.candidate.family,
    symbol: selection.candidate.symbol,
    bankrollUsd: selection.bankrollUsd,
    capitalSliceUsd: selection.capitalSliceUsd,
    leverage: first.next,
    backtestReturnVariance: variance,
    status: 'starting',
    statusReason: `approved by ${decision.by}; promotion pipeline starting`,
    promotionId: null,
    pipelineExecutionArn: null,
    entry: null,
    flattenClientOrderId: null,
    dailyCloses: [],
    version: 0,
    createdAtIso: nowIso,
    updatedAtIso: nowIso,
  };
  const { slice: stored } = await deps.microLive.createSlice(slice);
  const { created, record } = await deps.microLive.recordLeverageDecision({
    ...first,
    sliceId,
    key: 'initial',
    decidedAtIso: nowIso,
    inputs: { capital_slice_usd: selection.capitalSliceUsd, approved_by: decision.by },
  });
  if (created) {
    await p.audit.append(
      draft(
        deps,
        'config_changed',
        streamOfExecution(input.executionName),
        { execution_id: input.executionArn, agent_id: d3.agentId, genome_id: d3.genomeId },
        {
          setting: 'micro_live.leverage',
          slice_id: sliceId,
          previous: record.previous,
          next: record.next,
          rule: record.rule,
          rationale: record.rationale,
          approval_id: decision.approvalId,
          approved_by: decision.by,
          capital_slice_usd: selection.capitalSliceUsd,
        },
      ),
    );
  }
  const pipelineInput: MicroLivePipelineInput = {
    source: 'event',
    cohortId: d3.cohortId,
    agentId: d3.agentId,
    capitalSliceUsd: stored.capitalSliceUsd,
    approvalId: decision.approvalId,
    evidenceTradeCount: selection.candidate.days.reduce((n, d) => n + d.tradeCount, 0),
    AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: input.executionArn,
  };
  return {
    sliceId,
    capitalSliceUsd: stored.capitalSliceUsd,
    leverage: record.next,
    approvedBy: decision.by,
    pipelineInput,
  };
}

// ---------------------------------------------------------------------------------------
// Conclude
// ---------------------------------------------------------------------------------------

/** How a Day-3 execution ended. */
export type Day3Outcome =
  | 'micro_live_started'
  | 'micro_live_not_started'
  | 'not_approved'
  | 'gates_failed'
  /** The order-time gates passed, the evidence gates (`psr`, `dsr`) did not. */
  | 'insufficient_evidence';

/** The Day-3 execution's output. */
export interface Day3Conclusion {
  readonly outcome: Day3Outcome;
  readonly reason: string;
  /** The approval decision: `expired` on a timeout; null when no approval was requested. */
  readonly decision: 'approved' | 'rejected' | 'expired' | null;
  readonly reviewId: string;
  readonly agentId: string;
  readonly approvalId: string | null;
  /** Approver identity `scheme:id` (null when nobody decided). */
  readonly decidedBy: string | null;
  readonly sliceId: string | null;
  readonly promotionId: string | null;
}

/** What the Conclude step receives, per path of the state machine. */
export type ConcludeInput =
  | { readonly kind: 'gates_failed'; readonly selection: Day3Selection }
  | {
      readonly kind: 'timed_out' | 'rejected';
      readonly selection: Day3Selection;
      /** The Catch output `{ Error, Cause }` of the RequestApproval task. */
      readonly error: { readonly Error: string; readonly Cause?: string | null };
    }
  | {
      readonly kind: 'micro_live';
      readonly selection: Day3Selection;
      readonly decision: ApprovalResult;
      readonly sliceId: string;
      /** The promotion pipeline's output (`{ promotionId, outcome, reason }`). */
      readonly pipelineOutput: { promotionId: string; outcome: string; reason: string };
      readonly pipelineExecutionArn: string;
    };

/**
 * Conclude: records how the Day-3 review ended and returns the execution's output.
 * - `gates_failed`: `promotion_completed` (outcome `gates_failed`, the failed gates) on the
 *   review's stream; no approval was requested.
 * - `timed_out`: nobody decided before the deadline: `approval_decided` with decision `expired`
 *   (actor `stagegate/day3-go-no-go`, reason "not approved"), and the announced request is
 *   replaced by its expiry notice.
 * - `rejected`: the approver's `approval_decided` (decision `rejected`) is already recorded by
 *   the page or Slack handler; the output says not approved, by whom.
 * - `micro_live`: the slice becomes `active` with the pipeline's entry fill when the pipeline
 *   promoted, else `not_started` with the pipeline's reason.
 *
 * @throws TransientError, AuditWriteError; NotFoundError (unknown slice).
 */
export async function concludeDay3(
  deps: Day3Deps & {
    readonly approvals?: ApprovalStore;
    readonly announcer?: ApprovalAnnouncer;
    readonly key?: ApprovalKey;
  },
  input: ConcludeInput & { readonly executionArn: string; readonly executionName: string },
): Promise<Day3Conclusion> {
  const p = deps.promotion;
  const s = input.selection;
  const d3 = s.candidate.days.at(-1) as LineageDay;
  const base = {
    decision: null,
    reviewId: s.reviewId,
    agentId: d3.agentId,
    approvalId: null,
    decidedBy: null,
    sliceId: null,
    promotionId: null,
  };
  if (input.kind === 'gates_failed') {
    const failed = s.gates.results
      .filter((g) => g.verdict === 'fail')
      .map((g) => `${g.gate} (observed ${g.observed}, threshold ${g.threshold} ${g.unit})`);
    const outcome =
      s.verdict === 'insufficient_evidence' ? 'insufficient_evidence' : 'gates_failed';
    const reason = `${outcome === 'insufficient_evidence' ? 'insufficient evidence' : 'failed gates'}: ${failed.join('; ')}`;
    await p.audit.append(
      draft(
        deps,
        'promotion_completed',
        `promotion:${s.reviewId}`,
        {
          promotion_id: s.reviewId,
          cohort_id: d3.cohortId,
          agent_id: d3.agentId,
          execution_id: input.executionArn,
        },
        {
          outcome: 'gates_failed',
          verdict: s.verdict,
          reason,
          review: 'day3',
          evidence: { ...s.evidence, sessions: s.evidence.sessions.length },
        },
      ),
    );
    return { ...base, outcome, reason };
  }
  if (input.kind === 'timed_out' || input.kind === 'rejected') {
    const approvalId = deps.key ? approvalIdFor(input.executionArn, deps.key) : null;
    if (input.kind === 'rejected') {
      const reason = `not approved: ${input.error.Cause ?? 'rejected'}`;
      const view =
        approvalId && deps.approvals ? await deps.approvals.getForDisplay(approvalId) : null;
      return {
        ...base,
        decision: 'rejected',
        approvalId,
        decidedBy: view?.decidedBy ?? null,
        outcome: 'not_approved',
        reason,
      };
    }
    const atIso = new Date(p.clock.now()).toISOString();
    const reason = `not approved: no decision within ${s.approval.timeoutSeconds} s (${input.error.Error})`;
    await p.audit.append(
      draft(
        deps,
        'approval_decided',
        streamOfExecution(input.executionName),
        { execution_id: input.executionArn, agent_id: d3.agentId, genome_id: d3.genomeId },
        {
          decision: 'expired',
          reason,
          outcome: 'not_approved',
          approval_id: approvalId,
          timeout_seconds: s.approval.timeoutSeconds,
          error: input.error.Error,
        },
      ),
    );
    if (approvalId && deps.approvals && deps.announcer) {
      const ref = await deps.microLive.getMessageRef(approvalId);
      if (ref) {
        const view = await deps.approvals.getForDisplay(approvalId);
        await deps.announcer.outcome(
          view.summary,
          { approvalId, decision: 'expired', by: null, atIso },
          ref,
        );
      }
    }
    return { ...base, decision: 'expired', approvalId, outcome: 'not_approved', reason };
  }
  if (input.kind !== 'micro_live') throw new ValidationError('kind', 'unknown Day-3 outcome');
  const out = input.pipelineOutput;
  const promoted = out.outcome === 'promoted';
  const orders = promoted ? await p.promotions.listOrders(out.promotionId) : [];
  let qty = 0;
  let notional = 0;
  let lastFillMs = 0;
  let symbol = s.candidate.symbol;
  for (const o of orders) {
    const signed = o.order.side === 'buy' ? o.order.filledQty : -o.order.filledQty;
    qty += signed;
    notional += signed * (o.order.avgFillPriceUsd ?? 0);
    if (o.order.filledQty > 0) {
      lastFillMs = Math.max(lastFillMs, o.order.updatedAtMs);
      symbol = o.order.symbol;
    }
  }
  const hasPosition = promoted && Math.abs(qty) > 1e-9;
  // Safety net: the pipeline must have promoted exactly the approved agent of the approved
  // cohort. Anything else is not what the approver saw: the slice is flattened at once.
  const staged = await p.promotions.get(out.promotionId);
  const mismatch =
    staged.agentId !== d3.agentId || staged.cohortId !== d3.cohortId
      ? `the pipeline staged ${staged.agentId} of ${staged.cohortId}, not the approved ${d3.agentId} of ${d3.cohortId}`
      : null;
  // The slice trades through the paper session (statemachines/paper-session.asl.json), which
  // flattens at the close: a promoted slice is active even when it ends the day flat.
  let status: MicroLiveSlice['status'] = promoted ? 'active' : 'not_started';
  let statusReason = promoted
    ? `promoted by ${out.promotionId}: ${out.reason}`
    : `promotion ${out.promotionId} ${out.outcome}: ${out.reason}`;
  if (mismatch) {
    statusReason = `${mismatch}: ${hasPosition ? 'flattening the unapproved position' : 'nothing to flatten'}`;
    status = hasPosition ? 'flattening' : 'not_started';
    await p.audit.append(
      draft(
        deps,
        'rollback',
        `promotion:${out.promotionId}`,
        {
          promotion_id: out.promotionId,
          cohort_id: staged.cohortId,
          agent_id: staged.agentId,
          execution_id: input.executionArn,
        },
        {
          slice_id: input.sliceId,
          trigger: 'approval_mismatch',
          reason: mismatch,
          approved_agent_id: d3.agentId,
          approved_cohort_id: d3.cohortId,
          position_qty: qty,
        },
      ),
    );
  }
  for (let attempt = 0; ; attempt++) {
    const slice = await deps.microLive.getSlice(input.sliceId);
    if (slice.status !== 'starting') break; // a retried Conclude: already concluded
    const next: MicroLiveSlice = {
      ...slice,
      status,
      statusReason,
      promotionId: out.promotionId,
      pipelineExecutionArn: input.pipelineExecutionArn,
      entry: hasPosition
        ? {
            symbol,
            qty,
            avgPriceUsd: notional / qty,
            filledAtIso: new Date(lastFillMs).toISOString(),
          }
        : null,
      version: slice.version + 1,
      updatedAtIso: new Date(p.clock.now()).toISOString(),
    };
    if (await deps.microLive.updateSlice(next)) break;
    if (attempt >= 4) throw new TransientError(`slice ${input.sliceId} keeps moving`);
  }
  const started = promoted && !mismatch;
  return {
    ...base,
    outcome: started ? 'micro_live_started' : 'micro_live_not_started',
    decision: 'approved',
    reason: `${s.demoOverride ? '[demo override: approved without sufficient evidence] ' : ''}${started ? out.reason : (mismatch ?? `promotion ${out.outcome}: ${out.reason}`)}`,
    approvalId: input.decision.approvalId,
    decidedBy: input.decision.by,
    sliceId: input.sliceId,
    promotionId: out.promotionId,
  };
}
