/**
 * The composition root of the local runtime. It builds typed dependencies (the runtime on the
 * local emulators with explicit credentials and the manual clock, the promotion pipeline's
 * dependencies, and per Day-3 run the approval flow's: local task tokens, an in-memory random
 * approval key, a console/webhook notifier) and hands them to the SAME handler factories the
 * Lambda entry points use (`createHandler` of each `functions/handlers/*.ts`). It never writes
 * `process.env` and keeps no module state: two local stacks in one process do not share
 * dependencies.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AlpacaMarketData } from '../functions/adapters/market-data/alpaca-market-data.js';
import { LiveSessionMarketData } from '../functions/adapters/market-data/live-session-market-data.js';
import {
  type ApprovalDeps,
  assembleApprovalDeps,
  assembleDay3Deps,
  type Day3HandlerDeps,
} from '../functions/composition/approval.js';
import { type AlpacaDataKeys, buildIngestionDeps } from '../functions/composition/ingestion.js';
import { buildPaperSessionDeps } from '../functions/composition/paper-session.js';
import { buildPromotionDeps } from '../functions/composition/promotion.js';
import {
  type ClientCredentials,
  composeRuntime,
  type Runtime,
} from '../functions/composition/runtime.js';
import { readRuntimeEnv } from '../functions/config/env.js';
import { approvalKeyFromSecret } from '../functions/core/approval/links.js';
import { ValidationError } from '../functions/core/errors.js';
import type { Day3Deps } from '../functions/core/use-cases/day3.js';
import {
  type Day3Config,
  day3ConfigFrom,
  defaultHeartbeatSeconds,
} from '../functions/core/use-cases/day3-records.js';
import type { PaperSessionDeps } from '../functions/core/use-cases/paper-session.js';
import type { PromotionRecoveryDeps } from '../functions/core/use-cases/promotion-recovery.js';
import type { IngestionDeps } from '../functions/core/use-cases/session-ingestion.js';
import type { ManualClock } from '../functions/ports/clock.js';
import type { Notifier } from '../functions/ports/notifier.js';
import type { SecretName, SecretsPort } from '../functions/ports/secrets.js';
import type { EnvironmentConfig } from '../lib/config/environment-config.js';
import {
  cohortEnvironment,
  ingestionEnvironment,
  learningEnvironment,
  pipelineEnvironment,
} from '../lib/config/runtime-env.js';
import type { LocalFunction, LocalHandler } from './asl-runner.js';
import { localExecutions } from './local-executions.js';
import { localTaskTokens } from './local-task-tokens.js';

/** What the local runtime is built from. */
export interface LocalRuntimeInput {
  /** The environment config the local mode runs with (dev's, see lib/config). */
  readonly config: EnvironmentConfig;
  readonly clock: ManualClock;
  /** LEAN data root (absolute or relative to the working directory). */
  readonly dataRoot: string;
  readonly tableName: string;
  readonly buckets: { readonly artifacts: string; readonly audit: string };
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  readonly region: string;
  readonly credentials: ClientCredentials;
  /** Simulated paper broker account. */
  readonly brokerAccount: string;
  /**
   * The session ingestion's Alpaca market-data endpoint and keys (`--market-data
   * alpaca-fake`: the local fake Alpaca data server). Absent: no ingestion function.
   */
  readonly alpacaData?: { readonly baseUrl: string; readonly keys: AlpacaDataKeys };
}

/** The local runtime's dependencies (what the in-process handlers and the CLI read). */
export interface LocalDeps {
  readonly runtime: Runtime;
  readonly promotion: PromotionRecoveryDeps;
  /** The paper session's dependencies (the pipeline's, the reference exchange, its limits). */
  readonly paperSession: PaperSessionDeps;
  /**
   * The approval key of this local runtime: 32 random bytes made at start, held in memory,
   * never printed (links, CSRF tokens and the task-token cipher of every Day-3 run).
   */
  readonly approvalSecrets: InMemorySecrets;
  /**
   * The session ingestion's dependencies (built on first use: the deployed composition's
   * `buildIngestionDeps` with the keys given), when `alpacaData` was given.
   */
  readonly ingestion?: () => Promise<IngestionDeps>;
}

/** Secrets held in memory for one local run (never printed, never in `process.env`). */
export class InMemorySecrets implements SecretsPort {
  constructor(private readonly values: Readonly<Partial<Record<SecretName, string>>>) {}

  async get(name: SecretName): Promise<string> {
    const value = this.values[name];
    if (!value) throw new ValidationError(`secrets.${name}`, 'is not set in the local mode');
    return value;
  }
}

/**
 * Builds the runtime and the promotion pipeline's dependencies from the same per-stage config
 * the CDK app deploys (`lib/config/runtime-env.ts`), read through the Lambda's own zod schema.
 *
 * @throws ValidationError naming the config field when the config is invalid.
 */
export function composeLocalDeps(input: LocalRuntimeInput): LocalDeps {
  const env = readRuntimeEnv({
    ...pipelineEnvironment(input.config),
    ...cohortEnvironment(input.config),
    ...learningEnvironment(input.config),
    BROKER_ACCOUNT: input.brokerAccount,
    STAGE: 'local',
    TABLE_NAME: input.tableName,
    ARTIFACTS_BUCKET: input.buckets.artifacts,
    AUDIT_BUCKET: input.buckets.audit,
    ...(input.alpacaData
      ? { ...ingestionEnvironment(input.config), ALPACA_DATA_BASE_URL: input.alpacaData.baseUrl }
      : {}),
    MARKET_DATA_URI: pathToFileURL(path.resolve(input.dataRoot)).href,
    DYNAMODB_ENDPOINT: input.dynamoEndpoint,
    S3_ENDPOINT: input.s3Endpoint,
    AWS_REGION: input.region,
  });
  const alpaca = input.alpacaData;
  const base = composeRuntime(env, input.clock, input.credentials);
  // The live path: closed sessions from the tree the ingestion stores, the session in
  // progress from the (fake) Alpaca data server up to the clock's now, so a promotion at its
  // window sees today's bars so far.
  const runtime: Runtime = alpaca
    ? {
        ...base,
        marketData: new LiveSessionMarketData(
          base.marketData,
          new AlpacaMarketData({
            ...alpaca.keys,
            baseUrl: alpaca.baseUrl,
            feed: env.ALPACA_DATA_FEED,
            clock: input.clock,
          }),
          input.clock,
        ),
      }
    : base;
  const promotion = buildPromotionDeps(runtime);
  let ingestion: Promise<IngestionDeps> | undefined;
  return {
    runtime,
    promotion,
    paperSession: buildPaperSessionDeps(runtime, promotion),
    approvalSecrets: new InMemorySecrets({ approvalKey: randomBytes(32).toString('base64url') }),
    ...(alpaca
      ? {
          ingestion: () => {
            ingestion ??= buildIngestionDeps(runtime, alpaca.keys);
            return ingestion;
          },
        }
      : {}),
  };
}

type HandlerModule<T> = {
  createHandler: (provide: () => T | Promise<T>) => unknown;
};

function bind<T>(
  placeholder: string,
  name: string,
  module: HandlerModule<T>,
  deps: T,
): LocalFunction {
  return { placeholder, name, handler: module.createHandler(() => deps) as LocalHandler };
}

/**
 * Loads every handler module the local runtime binds (the local stack overlaps this with the
 * emulators' start-up; the later `import()`s are then served from the module cache).
 */
export async function preloadHandlerModules(): Promise<void> {
  await Promise.all([
    import('../functions/handlers/load-market-data.js'),
    import('../functions/handlers/run-cohort.js'),
    import('../functions/handlers/score-cohort.js'),
    import('../functions/handlers/persist-cohort.js'),
    import('../functions/handlers/record-audit.js'),
    import('../functions/handlers/run-learning-cycle.js'),
    import('../functions/handlers/plan-cohort-shards.js'),
    import('../functions/handlers/run-cohort-shard.js'),
    import('../functions/handlers/merge-cohort-shards.js'),
    import('../functions/handlers/stage-promotion.js'),
    import('../functions/handlers/check-promotion-window.js'),
    import('../functions/handlers/evaluate-gates.js'),
    import('../functions/handlers/reconcile-promotion.js'),
    import('../functions/handlers/complete-promotion.js'),
    import('../functions/handlers/start-paper-session.js'),
    import('../functions/handlers/paper-tick.js'),
    import('../functions/handlers/finish-paper-session.js'),
    import('../functions/handlers/select-day3-candidate.js'),
    import('../functions/handlers/request-approval.js'),
    import('../functions/handlers/record-leverage-decision.js'),
    import('../functions/handlers/conclude-day3.js'),
    import('../functions/handlers/rollback-monitor.js'),
    import('../functions/handlers/approval-http.js'),
    import('../functions/handlers/slack-interactivity.js'),
  ]);
}

/**
 * The cohort, pipeline, paper-session, learning and shard functions, bound to `deps` (same names and ASL
 * placeholders as the CDK stack).
 */
export async function localFunctions(deps: LocalDeps): Promise<LocalFunction[]> {
  const { runtime: rt, promotion: p } = deps;
  const h = await Promise.all([
    import('../functions/handlers/load-market-data.js'),
    import('../functions/handlers/run-cohort.js'),
    import('../functions/handlers/score-cohort.js'),
    import('../functions/handlers/persist-cohort.js'),
    import('../functions/handlers/record-audit.js'),
    import('../functions/handlers/run-learning-cycle.js'),
    import('../functions/handlers/plan-cohort-shards.js'),
    import('../functions/handlers/run-cohort-shard.js'),
    import('../functions/handlers/merge-cohort-shards.js'),
  ]);
  const [load, run, score, persist, audit, learn, plan, shard, merge] = h;
  const q = await Promise.all([
    import('../functions/handlers/stage-promotion.js'),
    import('../functions/handlers/check-promotion-window.js'),
    import('../functions/handlers/evaluate-gates.js'),
    import('../functions/handlers/reconcile-promotion.js'),
    import('../functions/handlers/complete-promotion.js'),
  ]);
  const [stage, window, gates, reconcile, complete] = q;
  const [startSession, tick, finishSession] = await Promise.all([
    import('../functions/handlers/start-paper-session.js'),
    import('../functions/handlers/paper-tick.js'),
    import('../functions/handlers/finish-paper-session.js'),
  ]);
  const ps = deps.paperSession;
  return [
    bind('LoadMarketDataFunctionArn', 'LoadMarketData', load, rt),
    bind('RunCohortFunctionArn', 'RunCohort', run, rt),
    bind('ScoreCohortFunctionArn', 'ScoreCohort', score, rt),
    bind('PersistCohortFunctionArn', 'PersistCohort', persist, rt),
    bind('RecordAuditFunctionArn', 'RecordAudit', audit, rt),
    bind('RunLearningCycleFunctionArn', 'RunLearningCycle', learn, rt),
    bind('PlanCohortShardsFunctionArn', 'PlanCohortShards', plan, rt),
    bind('RunCohortShardFunctionArn', 'RunCohortShard', shard, rt),
    bind('MergeCohortShardsFunctionArn', 'MergeCohortShards', merge, rt),
    bind('StagePromotionFunctionArn', 'StagePromotion', stage, p),
    bind('CheckPromotionWindowFunctionArn', 'CheckPromotionWindow', window, p),
    bind('EvaluateGatesFunctionArn', 'EvaluateGates', gates, p),
    bind('ReconcilePromotionFunctionArn', 'ReconcilePromotion', reconcile, p),
    bind('CompletePromotionFunctionArn', 'CompletePromotion', complete, p),
    bind('StartPaperSessionFunctionArn', 'StartPaperSession', startSession, ps),
    bind('PaperTickFunctionArn', 'PaperTick', tick, ps),
    bind('FinishPaperSessionFunctionArn', 'FinishPaperSession', finishSession, ps),
  ];
}

/** The session ingestion's function over `provide`d dependencies (ASL placeholder as in the CDK stack). */
export async function ingestFunction(
  provide: () => Promise<IngestionDeps>,
): Promise<LocalFunction> {
  const ingest = await import('../functions/handlers/ingest-session.js');
  return {
    placeholder: 'IngestSessionFunctionArn',
    name: 'IngestSession',
    handler: ingest.createHandler(provide) as LocalHandler,
  };
}

/**
 * The approval dependencies of the local runtime: its in-memory approval key, the in-process
 * task-token registry and `notifier` (Slack cannot reach a loopback interactivity endpoint:
 * the message links to the page, no action buttons).
 */
export async function composeLocalApproval(
  deps: LocalDeps,
  notifier: Notifier,
  slackSigningSecret?: string,
  approvalBaseUrl?: string,
): Promise<ApprovalDeps> {
  const approvalKey = await deps.approvalSecrets.get('approvalKey');
  const secrets = new InMemorySecrets({
    approvalKey,
    ...(slackSigningSecret ? { slackSigningSecret } : {}),
  });
  return assembleApprovalDeps({
    runtime: deps.runtime,
    secrets,
    key: approvalKeyFromSecret(approvalKey),
    notifier,
    interactive: false,
    taskTokens: localTaskTokens,
    executions: localExecutions,
    approvalBaseUrl,
  });
}

/** What one local Day-3 run is composed with. */
export interface LocalDay3Settings {
  /** Origin of the local approval page (the links' base). */
  readonly approvalBaseUrl: string;
  /** Approver identities `scheme:id` allowed to decide. */
  readonly approvers: readonly string[];
  /** How long the approval waits, s. @default the config's `promotion.approvalTimeoutHours` */
  readonly timeoutSeconds?: number;
  /** The labelled demo override of the evidence gates (`--approval auto` only). @default false */
  readonly demoOverride?: boolean;
  /** Where approval requests and outcomes are announced. */
  readonly notifier: Notifier;
  /** The Slack signing secret the interactivity handler verifies against (tests). */
  readonly slackSigningSecret?: string;
}

/** The typed dependencies and handlers of one local Day-3 run. */
export interface LocalDay3 {
  readonly config: Day3Config;
  readonly approval: ApprovalDeps;
  readonly day3: Day3HandlerDeps;
  /** The Day-3 go/no-go's functions (ASL placeholders as in the CDK stack). */
  readonly functions: readonly LocalFunction[];
  /** The HTTP API's handlers (approval page, Slack interactivity), as the approval server calls them. */
  readonly http: { readonly approval: LocalHandler; readonly slack: LocalHandler };
  /** The rollback monitor's handler (EventBridge Scheduler's target in AWS). */
  readonly rollbackMonitor: LocalHandler;
}

/**
 * Composes one local Day-3 run: the Day-3 config from the environment config (timeout
 * override, allow-list, demo override), {@link composeLocalApproval} with the run's notifier,
 * and the Day-3 and approval handlers bound to them.
 */
export async function composeLocalDay3(
  deps: LocalDeps,
  config: EnvironmentConfig,
  settings: LocalDay3Settings,
): Promise<LocalDay3> {
  const base = day3ConfigFrom({
    approvalTimeoutHours: config.promotion.approvalTimeoutHours,
    microLive: config.promotion.microLive,
    approvers: settings.approvers,
    leveragePolicy: config.promotion.leveragePolicy,
    rollback: config.promotion.rollback,
    demoOverride: settings.demoOverride ?? false,
  });
  const timeout = settings.timeoutSeconds ?? base.approvalTimeoutSeconds;
  const day3Config: Day3Config = {
    ...base,
    approvalTimeoutSeconds: timeout,
    approvalHeartbeatSeconds: defaultHeartbeatSeconds(timeout),
  };
  const approval = await composeLocalApproval(
    deps,
    settings.notifier,
    settings.slackSigningSecret,
    settings.approvalBaseUrl,
  );
  const core: Day3Deps = assembleDay3Deps(deps.runtime, deps.promotion, day3Config);
  const day3: Day3HandlerDeps = {
    ...approval,
    ...core,
    microLive: approval.microLive,
    approvalBaseUrl: settings.approvalBaseUrl,
  };
  const [select, request, start, conclude, monitor, page, slack] = await Promise.all([
    import('../functions/handlers/select-day3-candidate.js'),
    import('../functions/handlers/request-approval.js'),
    import('../functions/handlers/record-leverage-decision.js'),
    import('../functions/handlers/conclude-day3.js'),
    import('../functions/handlers/rollback-monitor.js'),
    import('../functions/handlers/approval-http.js'),
    import('../functions/handlers/slack-interactivity.js'),
  ]);
  return {
    config: day3Config,
    approval,
    day3,
    functions: [
      bind('SelectDay3CandidateFunctionArn', 'SelectDay3Candidate', select, core),
      bind('RequestApprovalFunctionArn', 'RequestApproval', request, day3),
      bind('RecordLeverageDecisionFunctionArn', 'RecordLeverageDecision', start, core),
      bind('ConcludeDay3FunctionArn', 'ConcludeDay3', conclude, day3),
    ],
    http: {
      approval: page.createHandler(() => approval) as LocalHandler,
      slack: slack.createHandler(() => approval) as LocalHandler,
    },
    rollbackMonitor: monitor.createHandler(() => core) as LocalHandler,
  };
}
