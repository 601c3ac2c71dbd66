/**
 * The daily report after the close (issue 15, "Daily report delivery"): the session just
 * closed, told in numbers and posted to the desk's channel by a schedule (AWS: EventBridge
 * Scheduler -> `post-daily-report`; local: the replay's `daily-report` firing).
 *
 * What it says, all read from the stored records:
 * - the session's cohort (agents, bankroll, PnL) and the desk's session returns (newest
 *   complete cohort per session: total PnL / bankroll), with the daily Sharpe and PSR(0)
 *   (Bailey & López de Prado 2012) of those returns;
 * - tomorrow's candidate (the best agent of the session's cohort): its genome's per-session
 *   Sharpe, PSR(0) and DSR (Bailey & López de Prado 2014; N = the distinct genomes of the
 *   cohorts read, `candidateEvidence`);
 * - the promotions of the session with their gate verdicts (`gate_evaluated`);
 * - the paper sessions of the session with their PnL, parity (paper vs the reference
 *   simulation) and reconciliation (`paper_session_completed`);
 * - the pending approvals; the active plan's actual vs plan (`reportPlan`, recorded
 *   `plan_event` `day_reported`) when a plan is active.
 *
 * Which session: the newest one whose close is at or before the clock's now and at most
 * {@link REPORT_MAX_AGE_MS} ago (a schedule firing on a holiday or before the close reports
 * nothing and says why). The time comes from the Clock port only: no input can set it.
 *
 * Which market: `deps.market`. Each market has its own report per session date (the equity
 * report of NYSE session D and the crypto report of UTC day D are two reports, each posted
 * once): its keys are {@link dailyReportKeys}; it reads only that market's cohorts,
 * promotions and paper sessions (records without a market are equity). The pending approvals
 * are the desk's (both markets) in each.
 *
 * Every outcome is recorded `report_posted` (stream `report:daily`, payload `market`):
 * `posted` with the channel and message ts, `skipped` with the reason, `failed` with the error
 * (then rethrown). A session already posted is skipped (the schedule may deliver twice): the
 * posted report is kept at `daily-reports/<session date>.json` (equity) or
 * `daily-reports/<market>/<session date>.json` in the artifact store.
 *
 * Units: money USD, returns and drawdowns fractions, Sharpe ratios per session (not
 * annualized), times UTC ISO-8601, dates `YYYY-MM-DD` in the market's time zone.
 */
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { AuditReader, AuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { CohortRepository } from '../../ports/cohort-repository.js';
import type { ConsoleReadModel } from '../../ports/console-read-model.js';
import type { GenomePoolRepository } from '../../ports/genome-pool.js';
import type { PostClaimStore } from '../../ports/post-claims.js';
import type { ReportChannel } from '../../ports/report-channel.js';
import { pendingApprovalsAt } from '../approval/pending.js';
import type { AuditDraft, AuditEnvironment } from '../audit/record.js';
import { appendKeyed } from '../audit/step-scoped.js';
import {
  type Market,
  marketDate,
  previousTradingDay,
  sessionHours,
} from '../calendar/market-calendar.js';
import { NotFoundError, PlanConflictError } from '../errors.js';
import { sharpeWithPsr } from '../scoring/sharpe-inference.js';
import {
  type GateRow,
  gateRowsOf,
  PROMOTION_STREAMS,
  readAuditRows,
  utcDayAndNext,
} from './audit-rows.js';
import type { CohortSummary } from './cohort-records.js';
import {
  type PaperSessionSummary,
  paperSessionSummary,
  paperSessionsFrom,
} from './console-trading.js';
import { candidateEvidence, trackRecords, trialsThrough } from './day3-evidence.js';
import { type PlanDeps, type PlanReport, planLines, reportPlan, sessionResults } from './plans.js';
import type { StagedPromotion } from './promotion-records.js';

/** A schedule firing more than this long after the newest close reports nothing, ms (one day). */
export const REPORT_MAX_AGE_MS = 86_400_000;
/** Audit stream of the daily reports. */
export const DAILY_REPORT_STREAM = 'report:daily';
/** Artifact key prefix of the posted reports. */
export const DAILY_REPORT_PREFIX = 'daily-reports';
/** Most sessions of evidence read (newest complete cohort of each). */
const EVIDENCE_SESSIONS = 60;

/**
 * The key segments that set `market`'s report apart: none for `equity-usa` (its keys are the
 * ones written before reports had a market, so a stage's earlier reports and claims still
 * count as the equity ones and are never posted again), `[market]` for the others.
 */
function marketScope(market: Market): string[] {
  return market === 'equity-usa' ? [] : [market];
}

/**
 * The keys of `market`'s report of `sessionDate` (`YYYY-MM-DD`): the artifact of the posted
 * report (`daily-reports/2013-10-08.json`, `daily-reports/crypto/2013-10-08.json`) and the
 * post claim (`daily-report#2013-10-08`, `daily-report#crypto#2013-10-08`).
 */
export function dailyReportKeys(
  market: Market,
  sessionDate: string,
): { readonly artifact: string; readonly claim: string } {
  const scope = marketScope(market);
  return {
    artifact: [DAILY_REPORT_PREFIX, ...scope, `${sessionDate}.json`].join('/'),
    claim: ['daily-report', ...scope, sessionDate].join('#'),
  };
}

/** A record's market: `crypto` when it says so; absent (older records) = `equity-usa`. */
const marketOf = (r: { readonly market?: Market }): Market => r.market ?? 'equity-usa';

/** What the daily report reads and writes through. */
export interface DailyReportDeps {
  readonly readModel: Pick<ConsoleReadModel, 'listCohorts' | 'listPromotions' | 'listApprovals'>;
  readonly cohorts: Pick<CohortRepository, 'get'>;
  /** The genome pool (the DSR's N, as the Day-3 review counts it); absent = genomes read. */
  readonly genomePool?: GenomePoolRepository;
  readonly auditReader: AuditReader;
  readonly audit: AuditSink;
  readonly artifacts: ArtifactStore;
  /** The post claims ({@link dailyReportKeys}): one post per market and session, atomically. */
  readonly claims: PostClaimStore;
  readonly environment: AuditEnvironment;
  readonly clock: Clock;
  /** The market reported: its calendar picks the session, its records fill the report. */
  readonly market: Market;
  readonly channel: ReportChannel;
  /** The active plan's daily actual vs plan; absent = plans are not reported. */
  readonly plan?: PlanDeps;
  /** The operator console's base URL, linked from the message; null when there is none. */
  readonly consoleUrl?: string | null;
  /** The min PSR/DSR the Day-3 gates require (shown beside the figures), probability. */
  readonly minPsr: number;
}

/**
 * `deps` for `market`'s report (the handler's event names it): the same stores and channel;
 * the active plan, tracked on the stage's chat-ops market (`deps.market`), is reported in
 * that market's report only (never twice a day).
 */
export function dailyReportDepsFor(deps: DailyReportDeps, market: Market): DailyReportDeps {
  if (market === deps.market) return deps;
  const { plan: _tracked, ...others } = deps;
  return { ...others, market };
}

/** The candidate's Sharpe evidence (per session, not annualized). */
export interface ReportCandidate {
  readonly cohortId: string;
  readonly agentId: string;
  readonly genomeId: string;
  readonly sessions: number;
  readonly sharpe: number;
  readonly psr: number | null;
  readonly dsr: number | null;
  /**
   * N of the DSR: the distinct genomes evaluated since the pool was seeded through the
   * cohort's generation (`trialsThrough`, as the Day-3 review), at least the genomes read.
   */
  readonly trials: number;
}

/** A promotion of the session with its gate verdicts. */
export interface ReportPromotion {
  readonly promotion: Pick<
    StagedPromotion,
    'promotionId' | 'status' | 'statusReason' | 'capitalSliceUsd' | 'agentId'
  > & { readonly symbol: string };
  readonly gates: readonly GateRow[];
}

/** The daily report of one market's session. */
export interface DailyReport {
  /** The session's market (reports kept before reports had one are the equity ones). */
  readonly market: Market;
  readonly sessionDate: string;
  readonly closeIso: string;
  readonly earlyClose: boolean;
  readonly generatedAtIso: string;
  /** The session's newest complete cohort, or null when none completed. */
  readonly cohort: CohortSummary | null;
  /** The desk's return per session (oldest first), fractions. */
  readonly sessionReturns: readonly { readonly sessionDate: string; readonly return: number }[];
  /** Daily Sharpe of the session returns (per session), null with fewer than 2. */
  readonly dailySharpe: number | null;
  /** PSR(0) of the session returns, null when undefined. */
  readonly psr: number | null;
  readonly candidate: ReportCandidate | null;
  readonly promotions: readonly ReportPromotion[];
  readonly paperSessions: readonly PaperSessionSummary[];
  readonly pendingApprovals: readonly {
    readonly approvalId: string;
    readonly symbol: string;
    readonly capitalSliceUsd: number;
    readonly expiresAtIso: string;
  }[];
  /**
   * The plan's lines (with today's actual vs plan), null without an active plan;
   * [{@link PLAN_CHANGED_LINE}] when the plan kept changing under the report.
   */
  readonly plan: readonly string[] | null;
  readonly minPsr: number;
  readonly consoleUrl: string | null;
}

/** The outcome of one scheduled run. */
export type DailyReportOutcome =
  | {
      readonly outcome: 'posted';
      readonly report: DailyReport;
      readonly channel: string;
      readonly ts: string;
    }
  | { readonly outcome: 'skipped'; readonly sessionDate: string | null; readonly reason: string };

/**
 * The session to report at `nowMs`: the newest session of `market` whose close is at or
 * before `nowMs`, or null with the reason when it closed more than {@link REPORT_MAX_AGE_MS}
 * ago (a holiday, a weekend).
 */
export function sessionToReport(
  nowMs: number,
  market: Market,
): { sessionDate: string; closeIso: string; earlyClose: boolean } | { reason: string } {
  let date = marketDate(nowMs, market);
  for (let i = 0; i < 10; i++) {
    const hours = sessionHours(date, market);
    if (hours && Date.parse(hours.closeIso) <= nowMs) {
      if (nowMs - Date.parse(hours.closeIso) > REPORT_MAX_AGE_MS) {
        return { reason: `no session closed in the last 24 h (the newest closed on ${date})` };
      }
      return { sessionDate: date, closeIso: hours.closeIso, earlyClose: hours.earlyClose };
    }
    date = previousTradingDay(date, market);
  }
  return { reason: 'no closed session found' };
}

async function candidateOf(
  deps: DailyReportDeps,
  results: readonly CohortSummary[],
  cohort: CohortSummary | null,
): Promise<ReportCandidate | null> {
  if (!cohort?.bestAgentId) return null;
  const records = await Promise.all(results.map((c) => deps.cohorts.get(c.cohortId)));
  const own = records.find((r) => r.cohortId === cohort.cohortId);
  const row = own?.leaderboard.find((r) => r.agentId === cohort.bestAgentId);
  if (!row) return null;
  const tracks = trackRecords(records);
  const pooled =
    deps.genomePool && own
      ? await trialsThrough(deps.genomePool, own.market ?? 'equity-usa', own.genomeGeneration)
      : null;
  const e = candidateEvidence({
    genomeId: row.genomeId,
    selectionCutoffDate: cohort.sessionDate,
    records: tracks,
    trials: Math.max(pooled ?? 0, tracks.size),
    confidence: deps.minPsr,
    minSessionsToAnnualize: Number.POSITIVE_INFINITY,
  });
  return {
    cohortId: cohort.cohortId,
    agentId: row.agentId,
    genomeId: row.genomeId,
    sessions: e.n,
    sharpe: e.sharpe,
    psr: e.psr,
    dsr: e.dsr,
    trials: e.trials,
  };
}

/** The desk's session returns, their daily Sharpe and PSR(0). */
function deskEvidence(results: readonly CohortSummary[]) {
  const sessionReturns = results.map((c) => ({
    sessionDate: c.sessionDate,
    return: c.totalPnlUsd / c.bankrollUsd,
  }));
  const evidence = sharpeWithPsr(sessionReturns.map((r) => r.return));
  if (!evidence) return { sessionReturns, dailySharpe: null, psr: null };
  const { sharpe, psr } = evidence;
  return { sessionReturns, dailySharpe: sharpe, psr: Number.isFinite(psr) ? psr : null };
}

/**
 * The market's promotions of the session (staged for it or on its date) with their gates,
 * and its paper sessions.
 */
async function tradingOf(deps: DailyReportDeps, sessionDate: string) {
  const promotions = (await deps.readModel.listPromotions({ limit: 50 })).items.filter(
    (p) =>
      marketOf(p) === deps.market &&
      (p.sessionDate === sessionDate || p.stagedAtIso.startsWith(sessionDate)),
  );
  // Gate verdicts and paper sessions are all on promotion streams: the rest is left unread.
  const rows = await readAuditRows(
    deps.auditReader,
    deps.environment,
    utcDayAndNext(`${sessionDate}T00:00:00Z`),
    PROMOTION_STREAMS,
  );
  const paperSessions = paperSessionsFrom(rows)
    .map(paperSessionSummary)
    .filter((s) => s.sessionDate === sessionDate && s.market === deps.market);
  return {
    promotions: promotions.map((p) => ({
      promotion: {
        promotionId: p.promotionId,
        status: p.status,
        statusReason: p.statusReason,
        capitalSliceUsd: p.capitalSliceUsd,
        agentId: p.agentId,
        symbol: p.genome.symbol,
      },
      gates: gateRowsOf(rows, p.promotionId),
    })),
    paperSessions,
  };
}

/** The report's plan line when the plan kept changing under its report (PlanConflictError). */
export const PLAN_CHANGED_LINE = 'plan: changed during the report, see next report';

/**
 * The plan's report of today (`reportPlan`, which already re-reads and decides again up to
 * PLAN_WRITE_ATTEMPTS times), or `changed` when the plan still kept changing under it (a
 * concurrent cancel, create or `plan status`): the report posts without the plan's lines
 * rather than being lost to a plan race; the next report (or `plan status`) reports the
 * sessions this one did not, since a report adds every closed session not yet reported.
 */
async function planReportOf(plan: PlanDeps): Promise<PlanReport | 'changed'> {
  try {
    return await reportPlan(plan, 'stagegate/daily-report');
  } catch (err) {
    if (err instanceof PlanConflictError) return 'changed';
    throw err;
  }
}

/**
 * Builds `deps.market`'s report of `session` from that market's stored records (and reports
 * the active plan when `deps.plan` is set).
 */
export async function buildDailyReport(
  deps: DailyReportDeps,
  session: { sessionDate: string; closeIso: string; earlyClose: boolean },
): Promise<DailyReport> {
  const nowMs = deps.clock.now();
  const all = await sessionResults(deps, deps.market);
  const results = all.filter((c) => c.sessionDate <= session.sessionDate).slice(-EVIDENCE_SESSIONS);
  const cohort = results.find((c) => c.sessionDate === session.sessionDate) ?? null;
  const [candidate, trading, approvals, plan] = await Promise.all([
    candidateOf(deps, results, cohort),
    tradingOf(deps, session.sessionDate),
    deps.readModel.listApprovals({ limit: 50 }),
    deps.plan ? planReportOf(deps.plan) : null,
  ]);
  return {
    market: deps.market,
    ...session,
    generatedAtIso: new Date(nowMs).toISOString(),
    cohort,
    ...deskEvidence(results),
    candidate,
    ...trading,
    pendingApprovals: pendingApprovalsAt(approvals.items, nowMs).map((a) => ({
      approvalId: a.approvalId,
      symbol: a.summary.symbol,
      capitalSliceUsd: a.summary.capitalSliceUsd,
      expiresAtIso: a.expiresAtIso,
    })),
    plan:
      plan === 'changed'
        ? [PLAN_CHANGED_LINE]
        : plan?.plan && plan.added.length > 0
          ? planLines(plan.plan)
          : null,
    minPsr: deps.minPsr,
    consoleUrl: deps.consoleUrl ?? null,
  };
}

async function alreadyPosted(deps: DailyReportDeps, sessionDate: string): Promise<boolean> {
  try {
    await deps.artifacts.getJson(dailyReportKeys(deps.market, sessionDate).artifact);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}

/**
 * Records the run's outcome. With the Scheduler's `scheduledTime` (the same on every
 * redelivery of one scheduled invocation) the record is appended once per invocation and
 * kind of outcome: its key is `{daily-report, (market unless equity), scheduledTime, session,
 * done|failed}`, where `posted` and `skipped` share `done` (a redelivery of a run that posted finds the report
 * posted and would record a skip: it gets the posted record back instead) and a failure is
 * recorded once however often it is retried (its later errors are in the log).
 */
function recordReportOutcome(
  deps: DailyReportDeps,
  sessionDate: string | null,
  payload: Record<string, unknown> & { outcome: 'posted' | 'skipped' | 'failed' },
  scheduledTime: string | null,
) {
  const draft: AuditDraft = {
    kind: 'report_posted',
    actor: 'stagegate/daily-report',
    stream: DAILY_REPORT_STREAM,
    environment: deps.environment,
    payload: { report: 'daily', market: deps.market, session_date: sessionDate, ...payload },
  };
  const outcome = payload.outcome === 'failed' ? 'failed' : 'done';
  const key = scheduledTime
    ? ['daily-report', ...marketScope(deps.market), scheduledTime, sessionDate, outcome]
    : null;
  return appendKeyed(deps.audit, draft, key);
}

/**
 * The scheduled run of `deps.market`'s report: picks the session ({@link sessionToReport}),
 * builds its report, renders it with `render`, posts it to the channel, keeps it and records
 * the outcome. A session (of that market) is
 * posted at most once: a claim is taken atomically before the post (of two runs at the same
 * instant one posts, the other is skipped) and updated with Slack's ts after it, so a retry
 * after Slack accepted the post (the report's save failed) saves the report without posting
 * again (`recovered`), and a claim left without an outcome (a crash during the post) is
 * skipped, not posted again.
 *
 * `scheduledTime` (the Scheduler's `<aws.scheduler.scheduled-time>`, never used as "now"):
 * the outcome is recorded once per scheduled invocation under a redelivery ({@link
 * recordReportOutcome}); null (a manual run) appends every time.
 *
 * @throws NotificationRejectedError / TransientError from the channel (recorded `failed`
 *   first), TransientError from the stores.
 */
export async function postDailyReport(
  deps: DailyReportDeps,
  render: (report: DailyReport) => { text: string; blocks: readonly object[] },
  scheduledTime: string | null = null,
): Promise<DailyReportOutcome> {
  const recordOutcome = (
    sessionDate: string | null,
    payload: Parameters<typeof recordReportOutcome>[2],
  ) => recordReportOutcome(deps, sessionDate, payload, scheduledTime);
  const which = sessionToReport(deps.clock.now(), deps.market);
  if ('reason' in which) {
    await recordOutcome(null, { outcome: 'skipped', reason: which.reason });
    return { outcome: 'skipped', sessionDate: null, reason: which.reason };
  }
  if (await alreadyPosted(deps, which.sessionDate)) {
    const reason = `the ${which.sessionDate} report was already posted`;
    await recordOutcome(which.sessionDate, { outcome: 'skipped', reason });
    return { outcome: 'skipped', sessionDate: which.sessionDate, reason };
  }
  const keys = dailyReportKeys(deps.market, which.sessionDate);
  const claimKey = keys.claim;
  const atIso = new Date(deps.clock.now()).toISOString();
  const claim = await deps.claims.begin(claimKey, atIso);
  if (!claim.claimed && claim.claim.status !== 'posted') {
    // Another run holds the claim: it is posting now, or it died while Slack answered (Slack
    // may have accepted it). Not posted again (fail closed against a double post).
    const reason = `a post of the ${which.sessionDate} report started at ${claim.claim.atIso} is ${claim.claim.status} with no recorded outcome: not posted again (another run is posting, or it died: check the channel)`;
    await recordOutcome(which.sessionDate, { outcome: 'skipped', reason });
    return { outcome: 'skipped', sessionDate: which.sessionDate, reason };
  }
  const report = await buildDailyReport(deps, which);
  let posted: { channel: string; ts: string };
  let recovered = false;
  if (!claim.claimed && claim.claim.status === 'posted') {
    // Slack accepted it (its ts is kept) but the report was not saved: save it, post nothing.
    posted = { channel: claim.claim.channel, ts: claim.claim.ts };
    recovered = true;
  } else {
    try {
      posted = await deps.channel.post(render(report));
    } catch (err) {
      // Slack refused or failed: nothing was posted, a retry may post.
      await deps.claims.settle(claimKey, { status: 'failed', atIso });
      await recordOutcome(which.sessionDate, {
        outcome: 'failed',
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
      throw err;
    }
    await deps.claims.settle(claimKey, { status: 'posted', atIso, ...posted });
  }
  await deps.artifacts.putJson(keys.artifact, {
    ...report,
    posted,
  });
  await recordOutcome(which.sessionDate, {
    outcome: 'posted',
    channel: posted.channel,
    ts: posted.ts,
    cohort_id: report.cohort?.cohortId ?? null,
    daily_sharpe: report.dailySharpe,
    psr: report.psr,
    dsr: report.candidate?.dsr ?? null,
    promotions: report.promotions.map((p) => `${p.promotion.promotionId}:${p.promotion.status}`),
    paper_sessions: report.paperSessions.map((s) => s.promotionId),
    pending_approvals: report.pendingApprovals.length,
    ...(recovered ? { recovered: true } : {}),
  });
  return { outcome: 'posted', report, ...posted };
}
