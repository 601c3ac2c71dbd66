/**
 * The Lambda handlers the workflow deploys: entry file, sizing, and the ASL placeholder that
 * receives each function's ARN. {@link HANDLERS} serve the intraday cohort state machine,
 * {@link PIPELINE_HANDLERS} the promotion pipeline and {@link LEARNING_HANDLERS} the learning
 * cycle (both also call `recordAudit`).
 * `bench/bundles.bench.ts` bundles {@link DEPLOYED_FUNCTIONS}.
 *
 * Every function's timeout stays below the `TimeoutSeconds` of the Task states that call it
 * (asserted in test/infra), so a slow invocation ends as the Lambda's own timeout error.
 */
import { handlerEntry } from './paths.js';

/** A deployed function: entry, sizing, description. */
export interface FunctionSpec {
  /** File name under `functions/handlers/` (without `.ts`); also the Powertools service name. */
  readonly file: string;
  /** Memory (MB); 1769 MB buys one full vCPU. */
  readonly memoryMb: number;
  /** Timeout (seconds). */
  readonly timeoutSeconds: number;
  readonly description: string;
}

/** A function a state machine calls: also the ASL placeholder that receives its ARN. */
export interface HandlerSpec extends FunctionSpec {
  /** `definitionSubstitutions` key in the state machine definition(s) that call it. */
  readonly aslPlaceholder: string;
}

export const HANDLERS = {
  loadMarketData: {
    file: 'load-market-data',
    aslPlaceholder: 'LoadMarketDataFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 60,
    description: 'Loads the session minute bars (LEAN files) from the market-data bucket',
  },
  runCohort: {
    file: 'run-cohort',
    aslPlaceholder: 'RunCohortFunctionArn',
    memoryMb: 1769,
    timeoutSeconds: 300,
    description: 'Seeds the agents and simulates the cohort over the session',
  },
  scoreCohort: {
    file: 'score-cohort',
    aslPlaceholder: 'ScoreCohortFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 120,
    description: 'Scores every agent of a simulated cohort',
  },
  persistCohort: {
    file: 'persist-cohort',
    aslPlaceholder: 'PersistCohortFunctionArn',
    memoryMb: 512,
    timeoutSeconds: 60,
    description: 'Persists the cohort document and per-agent stats',
  },
  planCohortShards: {
    file: 'plan-cohort-shards',
    aslPlaceholder: 'PlanCohortShardsFunctionArn',
    // Reads the genome pool once and writes the plan (genomes + allocations, < 300 KB).
    memoryMb: 1024,
    timeoutSeconds: 90,
    description: 'Plans a sharded cohort: genomes from the pool, one bankroll split, the shards',
  },
  runCohortShard: {
    file: 'run-cohort-shard',
    aslPlaceholder: 'RunCohortShardFunctionArn',
    // The same simulation as run-cohort, on at most `cohort.shardAgents` agents.
    memoryMb: 1769,
    timeoutSeconds: 300,
    description: "Simulates one shard of a cohort's agents (Distributed Map child)",
  },
  mergeCohortShards: {
    file: 'merge-cohort-shards',
    aslPlaceholder: 'MergeCohortShardsFunctionArn',
    // Holds every shard in memory to write the one simulation artifact: sized like run-cohort.
    memoryMb: 1769,
    timeoutSeconds: 240,
    description: 'Merges the cohort shards into the simulation artifact run-cohort would write',
  },
  recordAudit: {
    file: 'record-audit',
    aslPlaceholder: 'RecordAuditFunctionArn',
    memoryMb: 512,
    timeoutSeconds: 30,
    description: 'Appends a hash-chained audit record (also input_rejected from Catch paths)',
  },
} as const satisfies Record<string, HandlerSpec>;

export type HandlerName = keyof typeof HANDLERS;

/**
 * The promotion pipeline's own functions (`statemachines/promotion-pipeline.asl.json`) and
 * its nested paper session's (`statemachines/paper-session.asl.json`: start, tick, finish).
 */
export const PIPELINE_HANDLERS = {
  stagePromotion: {
    file: 'stage-promotion',
    aslPlaceholder: 'StagePromotionFunctionArn',
    // Reads the cohort's simulation artifact (megabytes for large cohorts).
    memoryMb: 1024,
    timeoutSeconds: 90,
    description: "Freezes a cohort's best candidate (genome, config hash, capital slice)",
  },
  checkPromotionWindow: {
    file: 'check-promotion-window',
    aslPlaceholder: 'CheckPromotionWindowFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 15,
    description: 'Tells whether now is inside the promotion window (America/New_York)',
  },
  evaluateGates: {
    file: 'evaluate-gates',
    aslPlaceholder: 'EvaluateGatesFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 90,
    description: 'Evaluates every risk gate for the staged candidate and plans the entry order',
  },
  startPaperSession: {
    file: 'start-paper-session',
    aslPlaceholder: 'StartPaperSessionFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 45,
    description: "Starts a promoted genome's paper session (window open to the close)",
  },
  paperTick: {
    file: 'paper-tick',
    aslPlaceholder: 'PaperTickFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 40,
    description: 'One minute of a paper session: track, book, step the strategy, size, send',
  },
  finishPaperSession: {
    file: 'finish-paper-session',
    aslPlaceholder: 'FinishPaperSessionFunctionArn',
    memoryMb: 1769,
    timeoutSeconds: 240,
    description: 'Ends a paper session: reference simulation, parity record, reconciliation',
  },
  reconcilePromotion: {
    file: 'reconcile-promotion',
    aslPlaceholder: 'ReconcilePromotionFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 90,
    description: 'Reconciles local positions and orders with the paper broker',
  },
  completePromotion: {
    file: 'complete-promotion',
    aslPlaceholder: 'CompletePromotionFunctionArn',
    memoryMb: 512,
    timeoutSeconds: 45,
    description: 'Records the outcome of a promotion (promoted, gates failed, expired, halted)',
  },
} as const satisfies Record<string, HandlerSpec>;

export type PipelineHandlerName = keyof typeof PIPELINE_HANDLERS;

/** The functions of the paper-session definition (the rest are the pipeline's). */
export const PAPER_SESSION_FUNCTIONS = [
  'startPaperSession',
  'paperTick',
  'finishPaperSession',
] as const satisfies readonly PipelineHandlerName[];

/** The learning cycle's own function (`statemachines/learning-cycle.asl.json`). */
export const LEARNING_HANDLERS = {
  runLearningCycle: {
    file: 'run-learning-cycle',
    aslPlaceholder: 'RunLearningCycleFunctionArn',
    // Reads the scored cohorts of the lookback and evolves the whole pool in memory.
    memoryMb: 1024,
    timeoutSeconds: 240,
    description: 'Evolves the genome pool from the scored cohorts of the lookback window',
  },
} as const satisfies Record<string, HandlerSpec>;

export type LearningHandlerName = keyof typeof LEARNING_HANDLERS;

/** The Day-3 go/no-go state machine's own functions (`statemachines/day3-go-no-go.asl.json`). */
export const DAY3_HANDLERS = {
  selectDay3Candidate: {
    file: 'select-day3-candidate',
    aslPlaceholder: 'SelectDay3CandidateFunctionArn',
    // Reads three cohorts' simulation artifacts (megabytes each) and runs every gate.
    memoryMb: 1769,
    timeoutSeconds: 240,
    description: 'Ranks the genome lineages of the last three cohorts and previews the gates',
  },
  requestApproval: {
    file: 'request-approval',
    aslPlaceholder: 'RequestApprovalFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 60,
    description: 'Stores the encrypted task token, posts the signed approval link to Slack',
  },
  recordLeverageDecision: {
    file: 'record-leverage-decision',
    aslPlaceholder: 'RecordLeverageDecisionFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 90,
    description: "Stores the approved micro-live slice and the leverage policy's first decision",
  },
  concludeDay3: {
    file: 'conclude-day3',
    aslPlaceholder: 'ConcludeDay3FunctionArn',
    memoryMb: 512,
    timeoutSeconds: 45,
    description: 'Records how the Day-3 review ended and updates the Slack message',
  },
} as const satisfies Record<string, HandlerSpec>;

export type Day3HandlerName = keyof typeof DAY3_HANDLERS;

/** Day-3 functions triggered by HTTP or a schedule, not by a state machine. */
export const APPROVAL_HANDLERS = {
  approvalHttp: {
    file: 'approval-http',
    memoryMb: 512,
    // API Gateway HTTP APIs cut integrations at 30 s.
    timeoutSeconds: 25,
    description: 'Approval page: GET renders, POST decides (signed link, CSRF, allow-list)',
  },
  slackInteractivity: {
    file: 'slack-interactivity',
    memoryMb: 512,
    // Slack wants an answer within 3 s; the decision itself is one conditional update.
    timeoutSeconds: 25,
    description: 'Slack Approve/Reject buttons (signature-verified), same decision path',
  },
  rollbackMonitor: {
    file: 'rollback-monitor',
    memoryMb: 1024,
    // Every 5 minutes: must finish well before the next tick.
    timeoutSeconds: 240,
    description: 'Watches micro-live slices: drawdown/variance rollback, daily leverage step',
  },
} as const satisfies Record<string, FunctionSpec>;

/** The crash sweeper (scheduled, lib/constructs/promotion-pipeline.ts). */
export const RECOVERY_HANDLERS = {
  recoverInFlight: {
    file: 'recover-in-flight',
    memoryMb: 512,
    // Hourly; a handful of abandoned promotions at most, a few broker calls each.
    timeoutSeconds: 300,
    description:
      'Crash sweeper: reconciles promotions left mid-flight with the broker, closes them',
  },
} as const satisfies Record<string, FunctionSpec>;

export type ApprovalHandlerName = keyof typeof APPROVAL_HANDLERS;

/** The session ingestion's own function (`statemachines/session-ingestion.asl.json`). */
export const INGESTION_HANDLERS = {
  ingestSession: {
    file: 'ingest-session',
    aslPlaceholder: 'IngestSessionFunctionArn',
    // Holds one session of bars and quotes per symbol in memory while it writes the zips.
    memoryMb: 1024,
    timeoutSeconds: 600,
    description: 'Pulls the closed session from Alpaca, checks its quality, stores the LEAN tree',
  },
} as const satisfies Record<string, HandlerSpec>;

/** Every handler a state machine calls (cohort, pipeline, learning, Day-3, ingestion), each once. */
export const DEPLOYED_HANDLERS: readonly HandlerSpec[] = [
  ...Object.values(HANDLERS),
  ...Object.values(PIPELINE_HANDLERS),
  ...Object.values(LEARNING_HANDLERS),
  ...Object.values(DAY3_HANDLERS),
  ...Object.values(INGESTION_HANDLERS),
];

/** The operator console API (HTTP API + Cognito JWT authorizer; docs/console.md). */
export const CONSOLE_HANDLERS = {
  consoleApi: {
    file: 'console-api',
    memoryMb: 1024,
    // Cohort documents read a simulation artifact; the audit page reads up to 31 days.
    timeoutSeconds: 29,
    description: 'Operator console API: cohorts, promotions, kill switch, approvals, audit, CSV',
  },
} as const satisfies Record<string, FunctionSpec>;

/** The `/stagegate` slash command (HTTP API route + its own asynchronous follow-ups; docs/chatops.md). */
export const CHATOPS_HANDLERS = {
  slackCommand: {
    file: 'slack-command',
    memoryMb: 1024,
    // The HTTP answer is due within Slack's 3 s (long work is handed to an asynchronous
    // invocation of this function); a follow-up starts a cohort or answers a plan/fund?.
    timeoutSeconds: 25,
    description: 'Slack /stagegate slash command: status, kill switch, cohort start, fund?, plans',
  },
  postDailyReport: {
    file: 'post-daily-report',
    memoryMb: 1024,
    // Reads up to 60 sessions of cohorts and two days of audit records, posts one message.
    timeoutSeconds: 120,
    description: 'Daily report after the close, posted to the Slack channel (scheduled)',
  },
} as const satisfies Record<string, FunctionSpec>;

/** Every deployed function: {@link DEPLOYED_HANDLERS} and the HTTP/scheduled ones. */
export const DEPLOYED_FUNCTIONS: readonly FunctionSpec[] = [
  ...DEPLOYED_HANDLERS,
  ...Object.values(APPROVAL_HANDLERS),
  ...Object.values(RECOVERY_HANDLERS),
  ...Object.values(CONSOLE_HANDLERS),
  ...Object.values(CHATOPS_HANDLERS),
];

/** Absolute entry path of a handler. */
export function entryOf(spec: FunctionSpec): string {
  return handlerEntry(spec.file);
}
