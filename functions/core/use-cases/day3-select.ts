/**
 * SelectCandidate, the first step of the Day-3 go/no-go state machine: ranks the candidates
 * walk-forward, runs the promotion and evidence gates on the best one and publishes the report.
 */
import type { PromotionRepository } from '../../ports/promotion-repository.js';
import { canonicalJson, decisionProvenance, sha256Hex } from '../audit/record.js';
import type { Market } from '../calendar/market-calendar.js';
import type { CohortConfig } from '../cohort/config.js';
import type { SimulationResult } from '../cohort/simulate.js';
import { NotFoundError, parseOrThrow, ValidationError } from '../errors.js';
import { classifyEvidenceFailures, evaluateEvidenceGates } from '../gates/evidence.js';
import { type GateResult, gateVerdictFields, strongestAction } from '../gates/types.js';
import { initialLeverage } from '../leverage/policy.js';
import { readPaperTrackRecord } from '../paper/track-record.js';
import { agentDrawdownOfPeak, type CohortRecord } from './cohort-records.js';
import { type Day3Deps, day3Draft, tailOf } from './day3.js';
import {
  baselinesFromCohorts,
  type CandidateEvidence,
  candidateEvidence,
  trackRecords,
  trialsThrough,
} from './day3-evidence.js';
import {
  type DayCohort,
  holderLineage,
  lineageMetrics,
  microLiveSliceUsd,
  rankLineages,
} from './day3-ranking.js';
import {
  type CandidateBasis,
  type CandidateMetrics,
  type Day3Request,
  Day3RequestSchema,
  type Day3Selection,
  type LineageDay,
  type RankedLineage,
} from './day3-records.js';
import { publishDay3Report } from './day3-report.js';
import type { PromotionDeps } from './promotion.js';
import { evaluatePromotionGates, recordedGateResults } from './promotion-gates.js';
import type { StagedPromotion } from './promotion-records.js';
import { slotTenureOf } from './promotion-slot.js';
import { readSimulation } from './simulation-artifact.js';

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
    transitionOrder: refuse,
    listOrders: (id) => real.listOrders(id),
    listInFlight: (from, to) => real.listInFlight(from, to),
    listRecent: (limit) => real.listRecent(limit),
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
 * Day 3 (`config.evidenceLookbackCohorts`) with its paper sessions up to Day 3 (the broker's
 * fills at parity replace the simulated session of their date), N = distinct genomes evaluated through the Day-3
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
    ? await trialsThrough(deps.genomePool, day3.market ?? 'equity-usa', day3.genomeGeneration)
    : null;
  // The genome's paper sessions (the broker's fills) count in its record (#13 item 4).
  const paper = deps.paperTrackRecord
    ? (await readPaperTrackRecord(deps.paperTrackRecord, input.genomeId)).sessions
    : [];
  const cohorts = [...byId.values()];
  const row = cohorts.flatMap((c) => c.leaderboard).find((r) => r.genomeId === input.genomeId);
  return candidateEvidence({
    genomeId: input.genomeId,
    selectionCutoffDate: input.selectionCutoffDate,
    lastSessionDate: day3.sessionDate,
    paper,
    records,
    trials: trials ?? records.size,
    confidence: p.gateThresholds.minPsr,
    minSessionsToAnnualize: p.gateThresholds.minEvidenceSessions,
    ...(row ? { symbol: row.symbol } : {}),
    baselinesOf: baselinesFromCohorts(cohorts),
  });
}

/**
 * SelectCandidate: loads the Day 1-3 cohorts (the request's, or the three most recent), ranks
 * the candidate genomes walk-forward ({@link rankLineages}), puts forward the paper slot's
 * holder or else the best-ranked genome ({@link chooseCandidate}), and runs every promotion
 * gate and evidence gate on it as if it were promoted now with the micro-live slice (one `gate_evaluated` record per gate,
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
  const { cohortIds, records } = await reviewedCohorts(p, request);
  const { days, simulations } = await reviewedDays(p, records);
  const ranking = rankLineages(days, p.gateThresholds.minTradeCount);
  const { candidate, candidateBasis, evidence, gateCohort, sim3, agent } = await reviewedCandidate(
    deps,
    { records, days, simulations, ranking },
  );
  const day3 = records[2] as CohortRecord;
  const metrics = lineageMetrics(candidate, evidence);
  const capitalSliceUsd = microLiveSliceUsd(
    day3.bankrollUsd,
    deps.config.microLive,
    p.gateThresholds.maxSymbolExposureFraction,
  );
  const reviewId = `d3-${tailOf(input.executionName, 24)}`;
  const { gates, evidenceGates } = await reviewGates(deps, {
    reviewId,
    records,
    gateCohort,
    sim3,
    agent,
    candidate,
    metrics,
    capitalSliceUsd,
    evidence,
    candidateBasis,
  });
  const { evidencePassed, verdict, evidenceAgainst, demoOverride } = day3Verdict(
    deps,
    gates,
    evidenceGates,
    evidence,
  );
  const allResults = [...gates.results, ...evidenceGates];
  return {
    reviewId,
    cohortIds: [...cohortIds],
    sessionDates: records.map((r) => r.sessionDate),
    candidate,
    ranking: ranking.slice(0, 5),
    candidateBasis,
    metrics,
    gates: {
      passed: gates.passed && evidencePassed,
      strongestAction: strongestAction(allResults),
      results: allResults.map((r) => ({ ...r })),
      nowIso: gates.nowIso,
    },
    evidence,
    verdict,
    evidenceAgainst,
    proceed: verdict === 'go' || demoOverride !== null,
    demoOverride,
    bankrollUsd: day3.bankrollUsd,
    capitalSliceUsd,
    leverage: initialLeverage(deps.config.leveragePolicy).next,
    reportUrl:
      request.reportUrl ??
      // At the recorded evaluation's time (a replayed step's: its first attempt's).
      (await day3Report(deps, {
        reviewId,
        records,
        simulations,
        gates: allResults,
        nowMs: Date.parse(gates.nowIso),
        review: reviewOf(verdict, candidate, candidateBasis, evidence),
      })),
    approval: approvalTimers(deps),
  };
}

/** The review as the published Day-3 report states it. */
function reviewOf(
  verdict: Day3Selection['verdict'],
  candidate: RankedLineage,
  basis: CandidateBasis,
  evidence: CandidateEvidence,
): NonNullable<Parameters<typeof publishDay3Report>[1]['review']> {
  return {
    verdict,
    candidate: `${candidate.lineageId} (${candidate.family}, ${candidate.symbol})`,
    candidateBasis: basis.reason,
    baselines: evidence.baselines,
  };
}

/** What the RequestApproval task's TimeoutSecondsPath / HeartbeatSecondsPath read. */
function approvalTimers(deps: Day3Deps): Day3Selection['approval'] {
  return {
    timeoutSeconds: deps.config.approvalTimeoutSeconds,
    heartbeatSeconds: deps.config.approvalHeartbeatSeconds,
  };
}

/**
 * The reviewed candidate ({@link chooseCandidate}) with its evidence, why it was chosen, and
 * the cohort, simulation and agent of its latest reviewed session (the one the gates judge:
 * Day 3 for a ranked genome).
 *
 * @throws ValidationError (no candidate), NotFoundError (the agent missing from its artifact).
 */
async function reviewedCandidate(
  deps: Day3Deps,
  input: {
    readonly records: readonly CohortRecord[];
    readonly days: readonly DayCohort[];
    readonly simulations: readonly SimulationResult[];
    readonly ranking: readonly RankedLineage[];
  },
): Promise<{
  candidate: RankedLineage;
  candidateBasis: CandidateBasis;
  evidence: CandidateEvidence;
  gateCohort: CohortRecord;
  sim3: SimulationResult;
  agent: SimulationResult['agents'][number];
}> {
  const { records } = input;
  const chosen = await chooseCandidate(deps.promotion, input);
  const last = chosen.candidate.days.at(-1) as LineageDay;
  const at = Math.max(
    0,
    records.findIndex((r) => r.cohortId === last.cohortId),
  );
  const sim3 = input.simulations[at] as SimulationResult;
  const agent = sim3.agents.find((a) => a.agentId === last.agentId);
  if (!agent) throw new NotFoundError('agent', `${last.agentId} in ${last.simulationKey}`);
  const evidence = await day3Evidence(deps, {
    records,
    genomeId: last.genomeId,
    selectionCutoffDate: chosen.selectionCutoffDate,
  });
  const candidateBasis: CandidateBasis = {
    ...chosen.basis,
    reason: chosen.basis.reason.replace('{paper}', paperCount(evidence.paper.sessions)),
    paperSessions: evidence.paper.sessions,
  };
  return {
    candidate: chosen.candidate,
    candidateBasis,
    evidence,
    gateCohort: records[at] as CohortRecord,
    sim3,
    agent,
  };
}

/** How far back a scheduled review looks for three cohorts of its market (cohorts). */
const REVIEW_SCAN_COHORTS = 60;

/**
 * The three most recent complete cohorts of `market` (their sessions on that market's
 * calendar: a crypto day is a UTC date), oldest first.
 *
 * @throws ValidationError when fewer than three are found.
 */
async function recentCohortIds(p: PromotionDeps, market: Market): Promise<string[]> {
  const recent = (await p.cohorts.list(REVIEW_SCAN_COHORTS))
    .filter((c) => (c.market ?? 'equity-usa') === market)
    .slice(0, 3);
  if (recent.length < 3) {
    throw new ValidationError(
      'request.cohortIds',
      `Day 3 needs three complete ${market} cohorts, found ${recent.length}`,
    );
  }
  return recent.map((c) => c.cohortId).reverse();
}

/**
 * The reviewed cohorts: the request's, or the three most recent of `request.market`
 * (`equity-usa` when absent), oldest first. All three must be of one market (one calendar).
 *
 * @throws ValidationError (fewer than three cohorts; not three distinct ascending sessions;
 *   cohorts of two markets), NotFoundError (unknown cohort).
 */
async function reviewedCohorts(
  p: PromotionDeps,
  request: Day3Request,
): Promise<{ cohortIds: readonly string[]; records: CohortRecord[] }> {
  const cohortIds = request.cohortIds ?? (await recentCohortIds(p, request.market ?? 'equity-usa'));
  const records: CohortRecord[] = [];
  for (const id of cohortIds) records.push(await p.cohorts.get(id));
  const markets = new Set(records.map((r) => r.market ?? 'equity-usa'));
  if (markets.size > 1) {
    throw new ValidationError(
      'request.cohortIds',
      `must be three cohorts of one market (one calendar), got ${[...markets].join(' and ')}`,
    );
  }
  for (let i = 1; i < records.length; i++) {
    const prev = records[i - 1]?.sessionDate ?? '';
    if (!((records[i]?.sessionDate ?? '') > prev)) {
      throw new ValidationError(
        'request.cohortIds',
        'must be three cohorts of distinct sessions, oldest first',
      );
    }
  }
  return { cohortIds, records };
}

/** Each reviewed cohort as the lineage tracker reads it, with its simulation artifact. */
async function reviewedDays(
  p: PromotionDeps,
  records: readonly CohortRecord[],
): Promise<{ days: DayCohort[]; simulations: SimulationResult[] }> {
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
  return { days, simulations };
}

/**
 * The candidate as if promoted now with the micro-live slice (never staged: the gates see it
 * through {@link previewPromotions}).
 */
function previewPromotion(
  p: PromotionDeps,
  input: {
    readonly reviewId: string;
    readonly records: readonly CohortRecord[];
    /** The cohort of the candidate's latest reviewed session (its agent and simulation). */
    readonly gateCohort: CohortRecord;
    readonly sim3: SimulationResult;
    readonly agent: SimulationResult['agents'][number];
    readonly candidate: RankedLineage;
    readonly metrics: CandidateMetrics;
    readonly capitalSliceUsd: number;
    readonly nowMs: number;
  },
): StagedPromotion {
  const { records, sim3, agent, candidate, metrics } = input;
  const day3 = input.gateCohort;
  const d3 = candidate.days.at(-1) as LineageDay;
  return {
    promotionId: input.reviewId,
    cohortId: day3.cohortId,
    sessionDate: day3.sessionDate,
    // The Day-3 cohort's calendar: a crypto candidate is judged on UTC days and the UTC
    // promotion window, as the micro-live slice's own promotion (staged from the same cohort).
    ...(day3.market && day3.market !== 'equity-usa' ? { market: day3.market } : {}),
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
    capitalSliceUsd: input.capitalSliceUsd,
    metrics: {
      totalPnlUsd: metrics.totalPnlUsd,
      sharpe: metrics.sharpe,
      maxDrawdownFraction: metrics.maxDrawdownFraction,
      parentMaxDrawdownFraction: Math.max(...records.map((r) => r.parent.maxDrawdownFraction)),
      // The min-trade-count gate sees the genome's own trades over its reviewed sessions.
      tradeCount: candidate.days.reduce((n, d) => n + d.tradeCount, 0),
    },
    broker: p.brokerAt(input.nowMs).name,
    // The VaR / ES gates pool the genome's own sessions on the stage's lookback, the latest
    // `riskLookbackSessions` reviewed session dates (a promotion's rule); Day 3 gives m.
    riskSessions: candidate.days
      .filter((d) =>
        records
          .slice(-p.gateThresholds.riskLookbackSessions)
          .some((r) => r.sessionDate === d.sessionDate),
      )
      .map((d) => ({ cohortId: d.cohortId, agentId: d.agentId })),
    approvalId: null,
    status: 'staged',
    statusReason: `Day-3 review of genome ${candidate.lineageId}`,
    stagedAtIso: new Date(input.nowMs).toISOString(),
  };
}

/**
 * The review's gates on the previewed promotion: the order-time gates (evaluate-gates' use
 * case, its one write dropped) and the evidence gates, each table recorded. A retried step
 * gets its first attempt's records back: the verdicts returned are the recorded ones.
 */
async function reviewGates(
  deps: Day3Deps,
  input: Omit<Parameters<typeof previewPromotion>[1], 'nowMs'> & {
    readonly evidence: CandidateEvidence;
    readonly candidateBasis: CandidateBasis;
  },
): Promise<{
  gates: Awaited<ReturnType<typeof evaluatePromotionGates>>;
  evidenceGates: readonly GateResult[];
}> {
  const p = deps.promotion;
  const preview = previewPromotion(p, { ...input, nowMs: p.clock.now() });
  // The order-time gates only: the review's own `baseline` evidence gate judges the baselines.
  const gates = await evaluatePromotionGates(
    { ...p, promotions: previewPromotions(p.promotions) },
    { promotion: preview },
    { dailyBaseline: false },
  );
  const evidenceGates = await recordEvidenceGates(deps, {
    reviewId: input.reviewId,
    day3: input.gateCohort,
    d3: input.candidate.days.at(-1) as LineageDay,
    evidence: input.evidence,
    evidenceGates: evaluateEvidenceGates(input.evidence, p.gateThresholds),
    gates,
    candidateBasis: input.candidateBasis,
  });
  return { gates, evidenceGates };
}

/**
 * One `gate_evaluated` record per evidence gate, on the review's promotion stream. Returns the
 * verdicts the records hold: `evidenceGates` itself, or, when a step-scoped sink replays a
 * committed first attempt, that attempt's (the decision follows the record).
 */
async function recordEvidenceGates(
  deps: Day3Deps,
  input: {
    readonly reviewId: string;
    readonly day3: CohortRecord;
    readonly d3: LineageDay;
    readonly evidence: CandidateEvidence;
    readonly evidenceGates: readonly GateResult[];
    readonly gates: { readonly nowIso: string };
    readonly candidateBasis: CandidateBasis;
  },
): Promise<readonly GateResult[]> {
  const { reviewId, evidence } = input;
  // What the verdicts rest on: the thresholds and the evidence (docs/audit.md#provenance).
  const provenance = decisionProvenance(deps.promotion.gateThresholds, evidence);
  const recorded = await deps.promotion.audit.appendMany(
    input.evidenceGates.map((r) =>
      day3Draft(
        deps,
        'gate_evaluated',
        `promotion:${reviewId}`,
        { promotion_id: reviewId, cohort_id: input.day3.cohortId, agent_id: input.d3.agentId },
        {
          ...gateVerdictFields(r),
          evaluated_at: input.gates.nowIso,
          evidence: { ...evidence, sessions: evidence.sessions.length },
          candidate_basis: input.candidateBasis,
          provenance,
        },
      ),
    ),
  );
  return recordedGateResults(recorded, input.evidenceGates, {
    cohort_id: input.day3.cohortId,
    agent_id: input.d3.agentId,
  });
}

/**
 * The review's verdict: `gates_failed` when an order-time gate failed or an evidence gate
 * measured against the candidate (a full record with a non-positive Sharpe ratio, an
 * out-of-sample loss, below the best baseline: {@link classifyEvidenceFailures}), else `go`
 * when every evidence gate passed, else
 * `insufficient_evidence` (too little evidence only), which only a demo override (local mode)
 * lets proceed to the approval. Nothing overrides evidence against the candidate.
 */
function day3Verdict(
  deps: Day3Deps,
  gates: { readonly passed: boolean },
  evidenceGates: readonly GateResult[],
  evidence: CandidateEvidence,
): {
  evidencePassed: boolean;
  verdict: Day3Selection['verdict'];
  evidenceAgainst: string[];
  demoOverride: Day3Selection['demoOverride'];
} {
  const evidencePassed = evidenceGates.every((r) => r.verdict === 'pass');
  const { against } = classifyEvidenceFailures(
    evidenceGates,
    evidence,
    deps.promotion.gateThresholds,
  );
  const verdict: Day3Selection['verdict'] =
    !gates.passed || against.length > 0
      ? 'gates_failed'
      : evidencePassed
        ? 'go'
        : 'insufficient_evidence';
  const demoOverride =
    verdict === 'insufficient_evidence' && deps.config.demoOverride
      ? {
          label: `DEMO OVERRIDE (local mode only): insufficient evidence (${evidenceShortfall(evidenceGates)}); the approval is requested for the demonstration, not on the evidence`,
        }
      : null;
  return {
    evidencePassed,
    verdict,
    evidenceAgainst: against.map((r) => `${r.gate}: ${r.reason}`),
    demoOverride,
  };
}

/** The published run report's URL (null without a report publisher). */
async function day3Report(
  deps: Day3Deps,
  input: {
    readonly reviewId: string;
    readonly records: readonly CohortRecord[];
    readonly simulations: readonly SimulationResult[];
    readonly gates: readonly GateResult[];
    readonly nowMs: number;
    readonly review: Parameters<typeof publishDay3Report>[1]['review'];
  },
): Promise<string | null> {
  if (!deps.reports) return null;
  return publishDay3Report(deps.reports, {
    reviewId: input.reviewId,
    records: input.records,
    simulations: input.simulations,
    artifacts: deps.promotion.artifacts,
    gates: input.gates,
    expiresInSeconds: deps.config.approvalTimeoutSeconds,
    nowIso: new Date(input.nowMs).toISOString(),
    environment: deps.promotion.environment,
    ...(input.review ? { review: input.review } : {}),
  });
}

const paperCount = (n: number): string => `${n} paper session${n === 1 ? '' : 's'}`;

/**
 * The genome the review puts forward, why, and the last session its selection looked at:
 *
 * - a genome holds the reviewed market's paper slot now (`slotTenureOf`, today's finished
 *   promotion included) and traded in a reviewed cohort: THAT genome (the risk officer approves
 *   micro-live for the strategy that paper-traded), labelled walk-forward at the cohort session
 *   of the promotion that began its tenure (its paper sessions came after it: out of sample);
 * - otherwise (no holder, a demoted one, or one absent from the reviewed cohorts): the best of
 *   the walk-forward ranking, cut off at Day 2; the reason says which case.
 *
 * `basis.reason` holds `{paper}` where the holder's paper session count goes once read.
 *
 * @throws ValidationError when the ranking decides and no genome traded on Day 3 and on an
 *   earlier reviewed day.
 */
async function chooseCandidate(
  p: PromotionDeps,
  input: {
    readonly records: readonly CohortRecord[];
    readonly days: readonly DayCohort[];
    readonly ranking: readonly RankedLineage[];
  },
): Promise<{
  candidate: RankedLineage;
  basis: Omit<CandidateBasis, 'paperSessions'>;
  selectionCutoffDate: string;
}> {
  const { records, ranking } = input;
  const market = records[0]?.market ?? 'equity-usa';
  const tenure = await slotTenureOf(p, market, { throughToday: true });
  const holder = tenure
    ? {
        promotionId: tenure.holder.promotionId,
        genomeId: tenure.holder.genomeId,
        status: tenure.holder.status,
      }
    : null;
  const since = tenure?.promotions.at(-1);
  const lineage =
    tenure && since
      ? holderLineage(
          input.days,
          tenure.holder.genomeId,
          since.sessionDate,
          p.gateThresholds.minTradeCount,
        )
      : null;
  if (tenure && since && lineage) {
    const pick = ranking[0]?.lineageId;
    const other =
      pick && pick !== lineage.lineageId ? `, not the walk-forward ranking's pick ${pick}` : '';
    return {
      candidate: lineage,
      selectionCutoffDate: since.sessionDate,
      basis: {
        basis: 'paper_slot_holder',
        holder,
        reason: `paper-slot holder, {paper}: ${lineage.lineageId} holds the ${market} paper slot (promotion ${tenure.holder.promotionId}; staged first from the cohort of ${since.sessionDate}, so every later session is out of sample); the go/no-go reviews the genome that paper-traded${other}`,
      },
    };
  }
  const why = !tenure
    ? `no genome holds the ${market} paper slot`
    : tenure.holder.status !== 'promoted'
      ? `the ${market} paper slot's last holder ${tenure.holder.genomeId} was demoted (${tenure.holder.status}: ${tenure.holder.statusReason})`
      : `the ${market} paper slot's holder ${tenure.holder.genomeId} traded in none of the reviewed cohorts (no session for its gates)`;
  return {
    candidate: firstCandidate(ranking),
    selectionCutoffDate: records.at(-2)?.sessionDate ?? '',
    basis: { basis: 'walk_forward_ranking', holder, reason: `walk-forward ranking: ${why}` },
  };
}

/**
 * The best-ranked candidate.
 *
 * @throws ValidationError when no genome traded on Day 3 and on an earlier reviewed day.
 */
function firstCandidate(ranking: readonly RankedLineage[]): RankedLineage {
  const candidate = ranking[0];
  if (!candidate) {
    throw new ValidationError(
      'request.cohortIds',
      'no genome traded on Day 3 and on an earlier reviewed day (no candidate with an in-sample and an out-of-sample session)',
    );
  }
  return candidate;
}
