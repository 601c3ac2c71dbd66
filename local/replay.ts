/**
 * The local main job: replays real sessions through the SAME schedules the CDK app deploys.
 * A simulated clock walks the firings of every schedule (cohort start, promotion window,
 * learning cycles) in time order; each firing starts an execution of the matching state
 * machine from `statemachines/` on the local stack, with the in-process handlers reading the
 * simulated time. Nothing here decides the order in which handlers run: the schedules and
 * the ASL do.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TZDate } from '@date-fns/tz';
import { marketDate, NYSE_TIME_ZONE } from '../functions/core/calendar/market-calendar.js';
import { StagegateError } from '../functions/core/errors.js';
import { symbolMinutes } from '../functions/core/exchange/exchange-model.js';
import { baselineSummary, describeBaselineSummary } from '../functions/core/gates/baseline.js';
import type { GateResult } from '../functions/core/gates/types.js';
import type { ReportBenchmark, ReportDay3 } from '../functions/core/report/record-section.js';
import { type ReportDay, renderRunReport } from '../functions/core/report/render.js';
import type { BenchmarkSession } from '../functions/core/report/trading-record.js';
import type { CohortScore } from '../functions/core/scoring/score.js';
import type { LearningOutput } from '../functions/core/use-cases/learning.js';
import type { SessionSummary } from '../functions/core/use-cases/paper-session.js';
import type { GatesOutput } from '../functions/core/use-cases/promotion-gates.js';
import type { OrdersOutput } from '../functions/core/use-cases/promotion-orders.js';
import { readSimulation } from '../functions/core/use-cases/simulation-artifact.js';
import { type StageSchedule, stageSchedules } from '../lib/config/schedules.js';
import type { LocalExecutionResult, LocalStateMachine } from './asl-runner.js';
import { type LocalDailyReport, runLocalDailyReport } from './daily-report.js';
import {
  type ApprovalMode,
  type Day3RunOutcome,
  NoSessionAfterDay3Error,
  runDay3,
} from './day3.js';
import {
  COHORT_VIEW,
  INGESTION_VIEW,
  LEARNING_VIEW,
  PROMOTION_VIEW,
  readExecution,
} from './execution-views.js';
import {
  cohortHeader,
  collapsingProgress,
  gatesTable,
  leaderboardTable,
  ordersTable,
  paperOrdersTable,
  signedUsd,
} from './format.js';
import type { LocalStack } from './local-stack.js';
import { orderRowsOf } from './paper-output.js';
import { type ScheduleSpec, timeline } from './scheduler.js';

export interface ReplayOptions {
  /** Session dates to replay (New York dates with data), ascending. */
  readonly sessions: readonly string[];
  readonly symbols: readonly string[];
  /**
   * Calendar of the symbols: `equity-usa` (NYSE sessions, New York schedules; the default)
   * or `crypto` (24 h UTC sessions, the stage config's `schedules.crypto`).
   */
  readonly market?: 'equity-usa' | 'crypto';
  readonly bankrollUsd: number;
  readonly agentCount: number;
  readonly allocation: string;
  readonly seed: number;
  /** Run the promotion schedule (default true). */
  readonly promote?: boolean;
  /**
   * Day-3 go/no-go after every third completed cohort: `auto` approves (demo, labelled),
   * `manual` waits for the approval page, `reject` declines. Absent: no go/no-go.
   */
  readonly approval?: ApprovalMode;
  /** Seconds the approval waits (default: the config's approval timeout). */
  readonly approvalTimeoutSeconds?: number;
  /** The Day-3 demo override of the evidence gates (see `runDay3`); default true. */
  readonly demoOverride?: boolean;
  /** Folder the HTML run report is written to (created). */
  readonly reportDir: string;
  readonly out?: (text: string) => void;
  /**
   * Where the sessions' bars come from. `lean` (default): the cohort schedule (09:35 New York)
   * reads the LEAN tree. `alpaca-fake`: the deployed chain: the session-ingestion schedule
   * (16:05, and 13:05 on early-close days) pulls each closed session from the fake Alpaca data
   * server through the Alpaca adapter, then runs the cohort on the included symbols and the
   * learning cycle; the Day-3 go/no-go follows the chain (see {@link replay}). Needs a stack
   * started with `alpacaFake`.
   */
  readonly marketData?: 'lean' | 'alpaca-fake';
  /**
   * Every execution event (the cost benchmark counts transitions and task time with it), and
   * `FiringStarted` as each schedule firing begins (`machine`: the firing's state machine, or
   * the firing's name when it runs none, e.g. `daily-report`).
   */
  readonly onEvent?: (e: { machine: string; type: string; state?: string; atMs: number }) => void;
}

export interface CohortOutcome {
  readonly sessionDate: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  readonly cohortId?: string;
  /** Chain mode: what the session ingestion stored and left out (with reasons). */
  readonly ingestion?: {
    readonly included: readonly string[];
    readonly excluded: readonly { readonly symbol: string; readonly reasons: readonly string[] }[];
  };
  readonly genomeGeneration?: number;
  readonly meanRoi?: number;
  readonly error?: string;
  readonly cause?: string;
}

export interface PromotionOutcome {
  readonly sessionDate: string;
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly outcome?: string;
  readonly reason?: string;
  readonly error?: string;
  readonly cohortId?: string;
  readonly agentId?: string;
  /** The paper slot's decision at staging (incumbent/challenger), when the pipeline picked. */
  readonly slot?: { readonly decision: string; readonly reason: string };
  readonly gates?: GatesOutput;
  readonly orders?: OrdersOutput;
  readonly reconciliationClean?: boolean;
  /** The paper session's summary (orders, parity, reconciliation) when it ran. */
  readonly paper?: SessionSummary;
}

export interface ReplayResult {
  readonly cohorts: readonly CohortOutcome[];
  readonly goNoGo: readonly Day3RunOutcome[];
  /**
   * Go/no-go reviews not run because no session with data follows Day 3 (the micro-live slice
   * would have nothing to trade): the three cohort ids and why. An outcome, not a failure.
   */
  readonly goNoGoWaiting: readonly {
    readonly cohortIds: readonly string[];
    readonly reason: string;
  }[];
  readonly promotions: readonly PromotionOutcome[];
  readonly learning: readonly (LearningOutput & { atIso: string })[];
  readonly reportPath: string | null;
  readonly firings: number;
  /** The daily report of each `daily-report` firing (posted to the terminal). */
  readonly dailyReports: readonly LocalDailyReport[];
}

const NY = NYSE_TIME_ZONE;

const nyDate = (ms: number): string => marketDate(ms, 'equity-usa');

function nyHhmm(ms: number): string {
  const t = new TZDate(ms, NY);
  return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
}

/** Midnight New York at the start of `date`, epoch ms. */
function nyMidnight(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new TZDate(y, m - 1, d, 0, 0, 0, 0, NY).getTime();
}

/** The schedules of the local environment config, as EventBridge Scheduler would fire them. */
export function replaySchedules(
  stack: Pick<LocalStack, 'config'>,
  promote: boolean,
  goNoGo = false,
  market: 'equity-usa' | 'crypto' = 'equity-usa',
  marketData: 'lean' | 'alpaca-fake' = 'lean',
): ScheduleSpec[] {
  if (marketData === 'alpaca-fake') return chainSchedules(stack, promote, market);
  // The stage's definitions (lib/config/schedules.ts), under the replay's firing names:
  // the crypto block (`schedules.crypto`, UTC) or the deployed equity schedules.
  const all = stageSchedules(stack.config);
  const deployed = market === 'crypto' ? all.crypto : all;
  const as = (name: string, s: StageSchedule): ScheduleSpec => ({
    name,
    expression: s.expression,
    timezone: s.timezone,
  });
  const specs: ScheduleSpec[] = [
    as('cohort-start', deployed.cohortStart),
    ...(promote ? [as('promotion', deployed.promotionStart)] : []),
    as('learning-cycle', deployed.learningCycle),
  ];
  // After the close: acts once three cohorts completed since the last go/no-go.
  if (goNoGo) specs.push(as('go-no-go', deployed.day3GoNoGo));
  if (deployed.dailyReport.enabled) specs.push(as('daily-report', deployed.dailyReport));
  return specs;
}

/**
 * Why a replay failed, for the CLI's exit code (README, "Exit codes"): the first cohort whose
 * execution FAILED, else the first Day-3 go/no-go execution that FAILED; null when every
 * execution ended. A Day-3 decision (approved, rejected, timed out, gates failed, insufficient
 * evidence) is an outcome, not a failure, whatever `--approval` asked for.
 */
export function replayFailure(
  result: Pick<ReplayResult, 'cohorts' | 'goNoGo'>,
): { readonly kind: 'cohort' | 'day3'; readonly message: string } | null {
  const cohort = result.cohorts.find((d) => d.status === 'FAILED');
  if (cohort) {
    return {
      kind: 'cohort',
      message: `run failed on ${cohort.sessionDate}: ${cohort.error}: ${cohort.cause}`,
    };
  }
  const day3 = result.goNoGo.find((d) => d.status === 'FAILED');
  if (day3) {
    return {
      kind: 'day3',
      message: `Day-3 go/no-go failed: ${day3.error ?? 'error'}: ${day3.cause ?? ''}`,
    };
  }
  return null;
}

/**
 * The deployed schedules of the session chain (`--market-data alpaca-fake`), as the CDK app
 * enables them: the session ingestion (it starts the cohort and the learning cycle), the
 * promotion window and the stand-alone learning cycles; the 09:35 cohort and the 16:30
 * go/no-go are deployed disabled. Crypto: `schedules.crypto`'s session ingestion (00:05 UTC, after the UTC day
 * closed), its learning cycles and its daily report (00:55 UTC).
 */
function chainSchedules(
  stack: Pick<LocalStack, 'config'>,
  promote: boolean,
  market: 'equity-usa' | 'crypto',
): ScheduleSpec[] {
  if (market === 'crypto') {
    const { sessionIngestion, learningCycle, dailyReport } = stageSchedules(stack.config).crypto;
    return [
      {
        name: 'session-ingestion',
        expression: sessionIngestion.expression,
        timezone: sessionIngestion.timezone,
      },
      {
        name: 'learning-cycle',
        expression: learningCycle.expression,
        timezone: learningCycle.timezone,
      },
      // After the UTC day's chain, as deployed (crypto-daily-report), like the equity one.
      ...(dailyReport.enabled
        ? [
            {
              name: 'daily-report',
              expression: dailyReport.expression,
              timezone: dailyReport.timezone,
            },
          ]
        : []),
    ];
  }
  const { sessionIngestion } = stageSchedules(stack.config);
  return [
    ...replaySchedules(stack, promote, false, market).filter((s) => s.name !== 'cohort-start'),
    {
      name: 'session-ingestion',
      expression: sessionIngestion.expression,
      timezone: sessionIngestion.timezone,
    },
  ];
}

/** The state one replay accumulates over its firings (outcomes, report days, Day-3 window). */
interface ReplayRun {
  readonly stack: LocalStack;
  readonly options: ReplayOptions;
  readonly write: (t: string) => void;
  readonly crypto: boolean;
  readonly sessionChain: LocalStateMachine | undefined;
  readonly progress: (e: { type: string; state?: string }) => void;
  readonly cohorts: CohortOutcome[];
  readonly promotions: PromotionOutcome[];
  readonly learning: (LearningOutput & { atIso: string })[];
  readonly goNoGo: Day3RunOutcome[];
  readonly goNoGoWaiting: { readonly cohortIds: readonly string[]; readonly reason: string }[];
  readonly dailyReports: LocalDailyReport[];
  readonly reportDays: Map<string, ReportDay>;
  /** Session count (Day N of the run), cohort ids since the last go/no-go, current machine. */
  day: number;
  sinceGoNoGo: string[];
  machine: string;
}

/** One firing as the replay prints and names it: UTC ISO time, session date, stamp, execution name. */
export interface FiringContext {
  readonly iso: string;
  readonly date: string;
  readonly stamp: string;
  readonly name: string;
}

/**
 * The session date a firing belongs to. Equity firings fall on the session's New York date; a
 * crypto session's cohort and learning firings on the next UTC day (its cohort runs after the
 * UTC day closed), and a crypto promotion on the UTC day it trades (as an equity promotion on
 * its New York day).
 */
function firingSession(crypto: boolean, ms: number, name?: string): string {
  return !crypto
    ? nyDate(ms)
    : new Date(name === 'promotion' ? ms : ms - 86_400_000).toISOString().slice(0, 10);
}

/** The schedule firings of `options.sessions`, in time order (sessions first..last, inclusive). */
function replayFirings(stack: LocalStack, options: ReplayOptions, first: string, last: string) {
  const crypto = options.market === 'crypto';
  const sessions = new Set(options.sessions);
  const from = crypto ? Date.parse(`${first}T00:00:00Z`) + 86_400_000 : nyMidnight(first);
  const to = crypto
    ? Date.parse(`${last}T00:00:00Z`) + 2 * 86_400_000
    : nyMidnight(last) + 86_400_000;
  return timeline(
    replaySchedules(
      stack,
      options.promote !== false,
      options.approval !== undefined,
      options.market ?? 'equity-usa',
      options.marketData ?? 'lean',
    ),
    from,
    to,
  ).filter((f) => sessions.has(firingSession(crypto, f.atMs, f.name)));
}

/**
 * The stamp, session date and execution name of the firing at `atMs`. The name (and so the
 * cohort id, `cohortIdFor`) is `<prefix>-<session date><HHMM>-<suffix>` with the firing's
 * clock time in the market's zone: New York for equities, UTC for crypto (24 h UTC sessions).
 * Nothing parses it; it only has to read right.
 */
export function firingContext(crypto: boolean, atMs: number, firingName: string): FiringContext {
  const iso = new Date(atMs).toISOString();
  const date = firingSession(crypto, atMs, firingName);
  const stamp = crypto
    ? `${iso.slice(0, 16).replace('T', ' ')} UTC`
    : `${date} ${nyHhmm(atMs)} New York`;
  const prefix =
    {
      'cohort-start': 'sched',
      promotion: 'promo',
      'learning-cycle': 'learn',
      'session-ingestion': 'ingest',
    }[firingName] ?? 'run';
  const hhmm = crypto ? iso.slice(11, 16) : nyHhmm(atMs);
  const name = `${prefix}-${date.replaceAll('-', '')}${hhmm.replace(':', '')}-${Date.now().toString(36)}`;
  return { iso, date, stamp, name };
}

/** Runs the Day-3 go/no-go over the last three cohorts once three accrued (and approval is on). */
async function replayGoNoGo(run: ReplayRun, stamp: string): Promise<void> {
  const { options, write } = run;
  if (run.sinceGoNoGo.length < 3 || !options.approval) return;
  const cohortIds = run.sinceGoNoGo.slice(-3);
  run.sinceGoNoGo = [];
  write(
    `\n[${stamp}] Day-3 go/no-go over ${cohortIds.join(', ')}${options.approval === 'auto' ? '  (--approval auto: approving automatically, demo only)' : ''}\n`,
  );
  let out: Day3RunOutcome;
  try {
    out = await runDay3(run.stack, {
      cohortIds,
      approval: options.approval,
      timeoutSeconds: options.approvalTimeoutSeconds,
      demoOverride: options.demoOverride,
      write,
    });
  } catch (err) {
    if (!(err instanceof NoSessionAfterDay3Error)) throw err;
    const reason = `${err.message}: the go/no-go and its micro-live slice wait for the next session; replay a range with a session after ${err.day3Date}`;
    run.goNoGoWaiting.push({ cohortIds, reason });
    write(`  go/no-go: waiting: ${reason}\n`);
    return;
  }
  run.goNoGo.push(out);
  write(
    `  go/no-go: ${out.decision}${out.approver ? ` by ${out.approver}` : ''}; micro-live: ${out.slice ? `${out.slice.status}` : 'not started'}${out.promotion ? ` (${out.promotion.outcome}: ${out.promotion.reason})` : ''}\n`,
  );
}

/** The scheduled cohort start; true when the cohort failed (the replay stops). */
async function replayCohortStart(run: ReplayRun, f: FiringContext): Promise<boolean> {
  const { options, write } = run;
  run.day++;
  write(`\n[${f.stamp}] schedule cohort-start: Day ${run.day}/${new Set(options.sessions).size}  `);
  const result = await run.stack.intradayCohort.execute(
    {
      source: 'schedule',
      scheduledTime: f.iso,
      symbols: options.symbols,
      bankrollUsd: options.bankrollUsd,
      agentCount: options.agentCount,
      allocation: options.allocation,
      seed: options.seed,
      ...(run.crypto ? { market: 'crypto' as const } : {}),
    },
    { executionName: f.name, onProgress: run.progress },
  );
  write(`[${result.status.toLowerCase()}]\n`);
  const outcome = await reportCohort(run.stack, result, f.date, write, run.reportDays);
  run.cohorts.push(outcome);
  if (outcome.status === 'FAILED') return true;
  if (outcome.cohortId) run.sinceGoNoGo.push(outcome.cohortId);
  return false;
}

/**
 * The session-ingestion chain (ingest, cohort, learning cycle, then the go/no-go); true when
 * its cohort failed (the replay stops). A skip (before the close, closed day, already
 * ingested) counts no day.
 */
async function replaySessionChain(
  run: ReplayRun,
  chain: LocalStateMachine,
  f: FiringContext,
): Promise<boolean> {
  const { write } = run;
  write(`\n[${f.stamp}] schedule session-ingestion  `);
  const result = await chain.execute(
    { source: 'schedule', scheduledTime: f.iso },
    { executionName: f.name, onProgress: run.progress },
  );
  write(`[${result.status.toLowerCase()}]\n`);
  const outcome = await reportChain(run.stack, result, f.date, write, run.reportDays);
  if (outcome === null) return false;
  run.day++;
  run.cohorts.push(outcome);
  const learned = result.childExecutions?.RunLearningCycle;
  if (learned) {
    write(`\n[${f.stamp}] chained learning-cycle  [${learned.status.toLowerCase()}]\n`);
    reportLearning(learned, f.iso, run.learning, write);
  }
  if (outcome.status === 'FAILED') return true;
  if (outcome.cohortId) run.sinceGoNoGo.push(outcome.cohortId);
  // Deployed, the chain starts the go/no-go here (after the learning cycle); locally it
  // runs at the same point with its approval page (see the README).
  await replayGoNoGo(run, f.stamp);
  return false;
}

/** The scheduled promotion pipeline; its gates and paper orders join the promoted day's report. */
async function replayPromotion(run: ReplayRun, f: FiringContext): Promise<void> {
  const { write, reportDays } = run;
  write(`\n[${f.stamp}] schedule promotion  `);
  const result = await run.stack.promotionPipeline.execute(
    { source: 'schedule', ...(run.crypto ? { market: 'crypto' as const } : {}) },
    { executionName: f.name, onProgress: run.progress },
  );
  write(`[${result.status.toLowerCase()}]\n`);
  const outcome = printPromotion(result, f.date, write);
  run.promotions.push(outcome);
  const promotedDay = outcome.cohortId
    ? [...reportDays.values()].find((d) => d.cohortId === outcome.cohortId)
    : undefined;
  if (promotedDay && outcome.gates) {
    reportDays.set(promotedDay.sessionDate, {
      ...promotedDay,
      gates: outcome.gates.results as readonly GateResult[],
      promotion: {
        candidateAgentId: outcome.agentId ?? '?',
        orders: outcome.orders?.orders ?? [],
        reconciliation:
          outcome.reconciliationClean === undefined
            ? (outcome.reason ?? outcome.outcome ?? 'not submitted')
            : outcome.reconciliationClean
              ? 'clean'
              : 'discrepancies (see the audit trail)',
      },
    });
  }
}

/** Runs one firing; true when the replay stops (a failed cohort). */
async function replayFiring(
  run: ReplayRun,
  firingName: string,
  f: FiringContext,
): Promise<boolean> {
  const { stack, write } = run;
  if (firingName === 'cohort-start') return replayCohortStart(run, f);
  if (firingName === 'session-ingestion' && run.sessionChain) {
    return replaySessionChain(run, run.sessionChain, f);
  }
  if (firingName === 'go-no-go') await replayGoNoGo(run, f.stamp);
  else if (firingName === 'daily-report') {
    const at = { iso: f.iso, stamp: f.stamp, crypto: run.crypto };
    run.dailyReports.push(await runLocalDailyReport(stack, at, write));
  } else if (firingName === 'promotion') await replayPromotion(run, f);
  else {
    write(`\n[${f.stamp}] schedule learning-cycle  `);
    // As the deployed schedules: each market's learning cycle breeds that market's pool.
    const result = await stack.learningCycle.execute(
      { source: 'schedule', market: run.crypto ? 'crypto' : 'equity-usa' },
      { executionName: f.name, onProgress: run.progress },
    );
    write(`[${result.status.toLowerCase()}]\n`);
    reportLearning(result, f.iso, run.learning, write);
  }
  return false;
}

/** Writes the run's HTML report (days, SPY benchmark, Day 3, learning); null when no day ran. */
async function writeReplayReport(run: ReplayRun): Promise<string | null> {
  const { options, reportDays } = run;
  if (reportDays.size === 0) return null;
  await mkdir(options.reportDir, { recursive: true });
  const reportPath = path.join(
    options.reportDir,
    `run-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}.html`,
  );
  const days = [...reportDays.values()].sort((a, b) => a.sessionDate.localeCompare(b.sessionDate));
  const benchmark = run.crypto ? undefined : await benchmarkOf(run.stack, 'SPY', days);
  const html = renderRunReport({
    title: `stagegate local run: ${options.sessions.join(', ')}`,
    generatedAtIso: new Date().toISOString(),
    environment: 'local',
    days,
    ...(benchmark ? { benchmark } : {}),
    day3: run.goNoGo.map(reportDay3),
    learning: run.learning
      .filter((l) => l.generation !== null)
      .map((l) => ({
        generation: l.generation as number,
        bestFitness: l.bestFitness,
        meanFitness: l.meanFitness,
      })),
  });
  await writeFile(reportPath, html);
  run.write(`run report: ${reportPath}\n`);
  return reportPath;
}

const FIRING_MACHINES: Readonly<Record<string, string>> = {
  'cohort-start': 'intraday-cohort',
  promotion: 'promotion-pipeline',
  'learning-cycle': 'learning-cycle',
};

/**
 * Replays `sessions` through the schedules and prints each cohort's leaderboard, each
 * promotion's gates, orders and reconciliation, and each learning cycle; writes the run report.
 */
export async function replay(stack: LocalStack, options: ReplayOptions): Promise<ReplayResult> {
  const write = options.out ?? ((t: string) => process.stdout.write(t));
  const first = options.sessions[0];
  const last = options.sessions.at(-1);
  if (!first || !last) throw new Error('replay needs at least one session');
  const chained = options.marketData === 'alpaca-fake';
  const alpaca = stack.alpaca;
  if (chained && !alpaca)
    throw new Error('--market-data alpaca-fake needs a stack with alpacaFake');
  const sessionChain = chained
    ? await alpaca?.sessionIngestion({
        symbols: options.symbols,
        bankrollUsd: options.bankrollUsd,
        agentCount: options.agentCount,
        allocation: options.allocation,
      })
    : undefined;
  const firings = replayFirings(stack, options, first, last);
  const entered = collapsingProgress(write);
  const run: ReplayRun = {
    stack,
    options,
    write,
    crypto: options.market === 'crypto',
    sessionChain,
    progress: (e) => {
      options.onEvent?.({
        machine: run.machine,
        type: e.type,
        state: e.state,
        atMs: performance.now(),
      });
      if (e.type === 'StateEntered' && e.state) entered(e.state);
    },
    cohorts: [],
    promotions: [],
    learning: [],
    goNoGo: [],
    goNoGoWaiting: [],
    dailyReports: [],
    reportDays: new Map<string, ReportDay>(),
    day: 0,
    sinceGoNoGo: [],
    machine: '',
  };
  for (const firing of firings) {
    run.machine = FIRING_MACHINES[firing.name] ?? firing.name;
    options.onEvent?.({ machine: run.machine, type: 'FiringStarted', atMs: performance.now() });
    stack.clock.set(firing.atMs);
    const f = firingContext(run.crypto, firing.atMs, firing.name);
    if (await replayFiring(run, firing.name, f)) break;
  }

  write(`\n${learningSummary(run.cohorts, run.learning)}\n`);
  const reportPath = await writeReplayReport(run);
  const { cohorts, goNoGo, goNoGoWaiting, promotions, learning, dailyReports } = run;
  const result = { cohorts, goNoGo, goNoGoWaiting, promotions, learning, reportPath, dailyReports };
  return { ...result, firings: firings.length };
}

const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(5));

/**
 * Buy and hold of `symbol` (the universe's ETF) for the report: its minute closes on each
 * session of the run; undefined when the data folder has none of them.
 */
async function benchmarkOf(
  stack: LocalStack,
  symbol: string,
  days: readonly ReportDay[],
): Promise<ReportBenchmark | undefined> {
  const sessions: Record<string, BenchmarkSession> = {};
  for (const d of days) {
    try {
      const m = symbolMinutes(
        await stack.runtime.marketData.loadSession(d.sessionDate, [symbol]),
        symbol,
      );
      if (m) sessions[d.sessionDate] = { ts: Array.from(m.ts), close: Array.from(m.series.close) };
    } catch (err) {
      if (!(err instanceof StagegateError)) throw err;
    }
  }
  return Object.keys(sessions).length > 0 ? { symbol, sessions } : undefined;
}

/** A Day-3 outcome as the run report shows it. */
function reportDay3(d: Day3RunOutcome): ReportDay3 {
  const c = d.selection?.candidate;
  return {
    decision: d.decision,
    approver: d.approver,
    candidate: c ? `${c.lineageId} (${c.family}, ${c.symbol})` : null,
    candidateBasis: d.selection?.candidateBasis.reason ?? null,
    baseline: d.selection
      ? d.selection.evidence.baselines
        ? describeBaselineSummary(baselineSummary(d.selection.evidence.baselines))
        : 'not compared (the baseline gate failed closed)'
      : null,
    slice: d.slice
      ? {
          sliceId: d.slice.sliceId,
          status: d.slice.status,
          statusReason: d.slice.statusReason,
          capitalSliceUsd: d.slice.capitalSliceUsd,
          bankrollUsd: d.slice.bankrollUsd,
          leverage: d.slice.leverage,
        }
      : null,
    leverage: d.leverage.map((l) => ({
      decidedAtIso: l.decidedAtIso,
      previous: l.previous,
      next: l.next,
      rule: l.rule,
      rationale: l.rationale,
    })),
    monitor: d.monitorTicks.map((t) => ({ atIso: t.atIso, action: t.action, detail: t.reason })),
  };
}

function reportLearning(
  result: LocalExecutionResult,
  iso: string,
  learning: (LearningOutput & { atIso: string })[],
  write: (t: string) => void,
): void {
  const out = readExecution(LEARNING_VIEW, result).output;
  if (out) {
    learning.push({ ...out, atIso: iso });
    write(
      out.status === 'evolved'
        ? `  generation ${out.fromGeneration} -> ${out.generation}: best fitness ${fmt(out.bestFitness)}, mean ${fmt(out.meanFitness)}, improved over previous cycle: ${out.improvedOverPrevious ?? 'n/a'} (${out.cohortsInWindow} cohort(s) in the lookback)\n  ${validationLine(out.validation)}\n`
        : `  skipped: ${out.reason}\n`,
    );
  } else {
    write(`  learning cycle failed: ${result.error}: ${result.cause}\n`);
  }
}

/** How a learning cycle split its sessions (breeding vs the elites' validation). */
export function validationLine(v: LearningOutput['validation'] | undefined): string {
  if (!v) return 'validation: n/a';
  if (v.status === 'split') {
    return `bred on ${v.trainingSessionDates.join(', ')}; elites chosen on held-out ${v.validationSessionDates.join(', ')} (best validation fitness ${fmt(v.bestFitness)})`;
  }
  return `no validation session (${v.reason}): bred and chose elites on ${v.trainingSessionDates.join(', ') || 'no session'}`;
}

/**
 * One session-ingestion chain's outcome: null for a skip (the 13:05 slot on a full day, a
 * closed day, a session already ingested); else the session's cohort (SKIPPED when no symbol
 * passed the data-quality checks, FAILED when the ingestion or the cohort failed).
 */
async function reportChain(
  stack: LocalStack,
  result: LocalExecutionResult,
  sessionDate: string,
  write: (t: string) => void,
  reportDays: Map<string, ReportDay>,
): Promise<CohortOutcome | null> {
  const ingestion = readExecution(INGESTION_VIEW, result);
  const ingested = ingestion.ingestion;
  if (result.status === 'SUCCEEDED' && ingested?.skipped) {
    write(`  skipped: ${ingested.reason}\n`);
    return null;
  }
  if (!ingested || ingested.skipped) {
    write(`\ningestion failed: ${result.error}: ${result.cause}\n`);
    return { sessionDate, status: 'FAILED', error: result.error, cause: result.cause };
  }
  write(
    `  ingested ${ingested.sessionDate} from Alpaca (${ingested.requests} requests, ${ingested.bytesStored} bytes stored): included ${ingested.included.join(',') || '(none)'}${ingested.excluded.map((e) => `; excluded ${e.symbol}: ${e.reasons.join(', ')}`).join('')}\n`,
  );
  const summary = { included: ingested.included, excluded: ingested.excluded };
  const cohort = result.childExecutions?.RunCohort;
  if (!cohort) {
    write(`  no cohort: ${result.error ?? 'skipped'}: ${result.cause ?? ''}\n`);
    return {
      sessionDate,
      status: result.error === 'NoUsableSymbol' ? 'SKIPPED' : 'FAILED',
      error: result.error,
      cause: result.cause,
      ingestion: summary,
    };
  }
  write(`  chained intraday-cohort [${cohort.status.toLowerCase()}]\n`);
  const outcome = await reportCohort(stack, cohort, sessionDate, write, reportDays);
  return { ...outcome, ingestion: summary };
}

async function reportCohort(
  stack: LocalStack,
  result: LocalExecutionResult,
  sessionDate: string,
  write: (t: string) => void,
  reportDays: Map<string, ReportDay>,
): Promise<CohortOutcome> {
  if (result.status === 'FAILED') {
    write(`\ncohort failed: ${result.error}: ${result.cause}\n`);
    return { sessionDate, status: 'FAILED', error: result.error, cause: result.cause };
  }
  const out = readExecution(COHORT_VIEW, result).output;
  if (!out) throw new Error('the intraday cohort SUCCEEDED without an output');
  if (out.skipped) {
    write(`  skipped: ${out.reason}\n`);
    return { sessionDate, status: 'SKIPPED', cause: out.reason };
  }
  const record = await stack.runtime.cohorts.get(out.cohortId);
  write(
    `\n${cohortHeader(record)}\ngenome pool generation ${record.genomeGeneration}\n\n${leaderboardTable(record.leaderboard, record.bankrollUsd)}\n`,
  );
  const [simulation, score] = await Promise.all([
    readSimulation(stack.runtime.artifacts, record.artifacts.simulationKey),
    stack.runtime.artifacts.getJson(record.artifacts.scoreKey) as Promise<CohortScore>,
  ]);
  reportDays.set(sessionDate, { sessionDate, cohortId: record.cohortId, simulation, score });
  const meanRoi =
    record.leaderboard.reduce((s, r) => s + r.roi, 0) / Math.max(1, record.leaderboard.length);
  return {
    sessionDate,
    status: 'SUCCEEDED',
    cohortId: record.cohortId,
    genomeGeneration: record.genomeGeneration,
    meanRoi,
  };
}

/** Prints one promotion's staged candidate, gate table, orders and reconciliation. */
export function printPromotion(
  result: LocalExecutionResult,
  sessionDate: string,
  write: (t: string) => void,
): PromotionOutcome {
  const run = readExecution(PROMOTION_VIEW, result);
  const { gates, paperSession: session } = run;
  const orders: OrdersOutput | undefined = session
    ? {
        allSettled: true,
        orders: orderRowsOf(
          session,
          (o) => Math.max(0, Date.parse(o.updatedAtIso || '') - o.submittedAtMs) || 0,
        ),
      }
    : undefined;
  const rec = run.reconciliation;
  const p = run.staged;
  if (p) {
    write(
      `  staged ${p.agentId} of ${p.cohortId} (${p.genome.family} on ${p.genome.symbol}), capital slice $${p.capitalSliceUsd.toFixed(2)}, config hash ${p.configHash.slice(0, 12)}…\n`,
    );
    const slot = run.stageOutput?.slot;
    if (slot) write(`  paper slot: ${slot.decision.replaceAll('_', ' ')}: ${slot.reason}\n`);
  }
  if (gates) write(`\n${gatesTable(gates.results)}\n`);
  if (session) {
    const id = session.parity.promotionId;
    write(
      session.orders.length > 0
        ? `\npaper session ${id}: the strategy's orders through the day\n${paperOrdersTable(session.orders, p?.market ?? 'equity-usa')}\n`
        : `\npaper session ${id}: the strategy asked for no position in the window (no order)\n`,
    );
    write(
      `parity ${id}: paper ${signedUsd(session.parity.paperPnlUsd)}, simulator ${signedUsd(session.parity.referencePnlUsd)}, difference ${signedUsd(session.parity.differenceUsd)}\n`,
    );
  } else if (orders) write(`\n${ordersTable(orders.orders)}\n`);
  if (rec) {
    write(
      `\nreconciliation: ${rec.clean ? 'clean (local book and orders match the broker)' : `${rec.discrepancies.length} discrepancies: ${JSON.stringify(rec.discrepancies)}`}\n`,
    );
  }
  const out = run.output;
  const skipped = out !== undefined && 'skipped' in out;
  if (result.status === 'FAILED') write(`  promotion failed: ${result.error}: ${result.cause}\n`);
  else if (skipped) write(`  skipped: ${out.reason}\n`);
  else write(`  outcome: ${out?.outcome}: ${out?.reason}\n`);
  return {
    sessionDate,
    status: result.status,
    outcome: skipped ? 'skipped' : out?.outcome,
    reason: out?.reason,
    error: result.error,
    cohortId: p?.cohortId,
    agentId: p?.agentId,
    ...(run.stageOutput?.slot ? { slot: run.stageOutput.slot } : {}),
    gates,
    orders,
    reconciliationClean: rec?.clean,
    ...(session ? { paper: session } : {}),
  };
}

/** Whether the pool improved across the replay, or why that cannot be read off the numbers. */
export function learningSummary(
  cohorts: readonly CohortOutcome[],
  learning: readonly (LearningOutput & { atIso: string })[],
): string {
  const lines = ['Learning across the replay:'];
  for (const c of cohorts.filter((x) => x.status === 'SUCCEEDED')) {
    lines.push(
      `  ${c.sessionDate}: generation ${c.genomeGeneration}, mean agent ROI ${((c.meanRoi ?? 0) * 100).toFixed(3)}%`,
    );
  }
  const evolved = learning.filter((l) => l.status === 'evolved');
  lines.push(
    `  learning cycles: ${learning.length} (${evolved.length} evolved, ${learning.length - evolved.length} skipped)`,
  );
  const validated = evolved.filter((l) => l.validation?.status === 'split').length;
  lines.push(
    `  cycles whose elites were chosen on a held-out validation session: ${validated} of ${evolved.length}`,
  );
  const fit = evolved.map((l) => l.bestFitness).filter((v): v is number => v !== null);
  if (fit.length >= 2) {
    const firstFit = fit[0] as number;
    const lastFit = fit.at(-1) as number;
    lines.push(
      `  best training fitness: first cycle ${firstFit.toFixed(5)}, last cycle ${lastFit.toFixed(5)} (${lastFit > firstFit ? 'improved' : 'did not improve'})`,
    );
  }
  lines.push(
    '  Read with care: each cohort trades a different session, so a change in mean ROI mixes the pool',
    '  with the market of that day; breeding fitness is measured on one to three sessions here and the',
    '  elites on one held-out session, which is too little evidence to call a pool better out of sample.',
  );
  return lines.join('\n');
}
