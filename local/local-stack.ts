/**
 * The local stack: real local servers (DynamoDB Local, the s3rver S3 emulator), the table
 * and buckets the stateful CDK stack declares, the Lambda environment pointing at them, and
 * the state machines from `statemachines/` bound to the real handler modules.
 *
 * The local mode's composition differs from AWS only by environment variables; the handlers
 * and their composition root (`functions/composition/runtime.ts`) are the deployed ones.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  buildPromotionDeps,
  inFlightWorkflows,
  resetPromotionDeps,
} from '../functions/composition/promotion.js';
import { buildRuntime, type Runtime, resetRuntime } from '../functions/composition/runtime.js';
import { type SweepResult, sweepInFlight } from '../functions/core/use-cases/recover-in-flight.js';
import { ManualClock } from '../functions/ports/clock.js';
import type { DeepPartial, EnvironmentConfig } from '../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../lib/config/environments.js';
import {
  cohortStateMachineValues,
  learningEnvironment,
  pipelineEnvironment,
} from '../lib/config/runtime-env.js';
import { type LocalFunction, LocalStateMachine } from './asl-runner.js';
import {
  ensureTable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalServers,
  startLocalServers,
} from './servers.js';

export const LOCAL_TABLE = 'stagegate-local';

export const LOCAL_BUCKETS = {
  artifacts: 'stagegate-local-artifacts',
  audit: 'stagegate-local-audit',
} as const;

/** The Lambda functions and the ASL placeholders they fill (same names as the CDK stack). */
async function localFunctions(): Promise<LocalFunction[]> {
  const [
    load,
    run,
    score,
    persist,
    audit,
    stage,
    window,
    gates,
    submit,
    poll,
    reconcile,
    complete,
  ] = await Promise.all([
    import('../functions/handlers/load-market-data.js'),
    import('../functions/handlers/run-cohort.js'),
    import('../functions/handlers/score-cohort.js'),
    import('../functions/handlers/persist-cohort.js'),
    import('../functions/handlers/record-audit.js'),
    import('../functions/handlers/stage-promotion.js'),
    import('../functions/handlers/check-promotion-window.js'),
    import('../functions/handlers/evaluate-gates.js'),
    import('../functions/handlers/submit-orders.js'),
    import('../functions/handlers/poll-orders.js'),
    import('../functions/handlers/reconcile-promotion.js'),
    import('../functions/handlers/complete-promotion.js'),
  ]);
  const fn = (placeholder: string, name: string, h: { handler: unknown }): LocalFunction => ({
    placeholder,
    name,
    handler: h.handler as LocalFunction['handler'],
  });
  return [
    fn('LoadMarketDataFunctionArn', 'LoadMarketData', load),
    fn('RunCohortFunctionArn', 'RunCohort', run),
    fn('ScoreCohortFunctionArn', 'ScoreCohort', score),
    fn('PersistCohortFunctionArn', 'PersistCohort', persist),
    fn('RecordAuditFunctionArn', 'RecordAudit', audit),
    fn('StagePromotionFunctionArn', 'StagePromotion', stage),
    fn('CheckPromotionWindowFunctionArn', 'CheckPromotionWindow', window),
    fn('EvaluateGatesFunctionArn', 'EvaluateGates', gates),
    fn('SubmitOrdersFunctionArn', 'SubmitOrders', submit),
    fn('PollOrdersFunctionArn', 'PollOrders', poll),
    fn('ReconcilePromotionFunctionArn', 'ReconcilePromotion', reconcile),
    fn('CompletePromotionFunctionArn', 'CompletePromotion', complete),
    fn(
      'RunLearningCycleFunctionArn',
      'RunLearningCycle',
      await import('../functions/handlers/run-learning-cycle.js'),
    ),
    ...(await day3Functions()),
    ...(await shardFunctions()),
  ];
}

/** The sharded cohort's functions (the Distributed Map path, docs/scale.md). */
async function shardFunctions(): Promise<LocalFunction[]> {
  const [plan, shard, merge] = await Promise.all([
    import('../functions/handlers/plan-cohort-shards.js'),
    import('../functions/handlers/run-cohort-shard.js'),
    import('../functions/handlers/merge-cohort-shards.js'),
  ]);
  return [
    {
      placeholder: 'PlanCohortShardsFunctionArn',
      name: 'PlanCohortShards',
      handler: plan.handler as LocalFunction['handler'],
    },
    {
      placeholder: 'RunCohortShardFunctionArn',
      name: 'RunCohortShard',
      handler: shard.handler as LocalFunction['handler'],
    },
    {
      placeholder: 'MergeCohortShardsFunctionArn',
      name: 'MergeCohortShards',
      handler: merge.handler as LocalFunction['handler'],
    },
  ];
}

/** The Day-3 go/no-go's functions (statemachines/day3-go-no-go.asl.json). */
async function day3Functions(): Promise<LocalFunction[]> {
  const [select, request, start, conclude] = await Promise.all([
    import('../functions/handlers/select-day3-candidate.js'),
    import('../functions/handlers/request-approval.js'),
    import('../functions/handlers/record-leverage-decision.js'),
    import('../functions/handlers/conclude-day3.js'),
  ]);
  const fn = (placeholder: string, name: string, h: { handler: unknown }): LocalFunction => ({
    placeholder,
    name,
    handler: h.handler as LocalFunction['handler'],
  });
  return [
    fn('SelectDay3CandidateFunctionArn', 'SelectDay3Candidate', select),
    fn('RequestApprovalFunctionArn', 'RequestApproval', request),
    fn('RecordLeverageDecisionFunctionArn', 'RecordLeverageDecision', start),
    fn('ConcludeDay3FunctionArn', 'ConcludeDay3', conclude),
  ];
}

export interface LocalStack {
  readonly servers: LocalServers;
  /** The Lambda environment variables the handlers run with. */
  readonly env: Readonly<Record<string, string>>;
  /** The same composition the handlers use, for reading state back (CLI, tests). */
  readonly runtime: Runtime;
  readonly intradayCohort: LocalStateMachine;
  readonly promotionPipeline: LocalStateMachine;
  readonly learningCycle: LocalStateMachine;
  /** `statemachines/day3-go-no-go.asl.json` (runs the promotion pipeline nested). */
  readonly day3GoNoGo: LocalStateMachine;
  /**
   * The clock the in-process handlers read: the local scheduler sets it to each firing and
   * the state machines' Wait states advance it.
   */
  readonly clock: ManualClock;
  /** EventBridge expression of the learning-cycle schedule. */
  readonly learningSchedule: string;
  /** The environment config the local mode runs with (dev's, see lib/config). */
  readonly config: EnvironmentConfig;
  /**
   * What the start-up crash sweep found: runs a previous process left mid-flight in this
   * state folder, reconciled with the broker and closed (functions/core/use-cases/recover-in-flight.ts).
   */
  readonly recovery: SweepResult;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** LEAN data root (absolute or relative to the working directory). */
  readonly dataRoot: string;
  /** Folder for server data, or `'memory'` (tests). */
  readonly stateDir: string | 'memory';
  /** Powertools log level for the handlers. Default `WARN`. */
  readonly logLevel?: string;
  /** Overrides of the dev environment config (tests). */
  readonly configOverrides?: DeepPartial<EnvironmentConfig>;
  /** Simulated paper broker account (each `run` opens a fresh one). Default `local-paper`. */
  readonly brokerAccount?: string;
  /** The simulated clock for the handlers. Default: one starting at the wall clock's now. */
  readonly clock?: ManualClock;
  /** Largest cohort run by one RunCohort; bigger ones fan out in shards of this size. */
  readonly shardAgents?: number;
}

/**
 * Starts the servers, creates the table and buckets, sets the Lambda environment in this
 * process and loads the state machines. Call `stop()` when done (servers also stop with the
 * process).
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  // The emulators (DynamoDB Local's JVM above all) boot in their own processes while this one
  // loads the handler modules: the two overlap instead of adding up.
  const serversStarting = startLocalServers({
    dataDir: options.stateDir,
    buckets: Object.values(LOCAL_BUCKETS),
  });
  serversStarting.catch(() => undefined); // awaited below
  const observability = {
    POWERTOOLS_SERVICE_NAME: 'stagegate',
    POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  // Handler modules create their Powertools logger and metrics when loaded.
  Object.assign(process.env, observability);
  const loadingFunctions = localFunctions();
  loadingFunctions.catch(() => undefined); // awaited below
  let servers: LocalServers;
  try {
    servers = await serversStarting;
  } catch (err) {
    await loadingFunctions.catch(() => undefined);
    throw err;
  }
  const clock = options.clock ?? new ManualClock(Date.now());
  try {
    const config = loadEnvironmentConfig('dev', options.configOverrides);
    const env: Record<string, string> = {
      ...pipelineEnvironment(config),
      BROKER_ACCOUNT: options.brokerAccount ?? 'local-paper',
      ...learningEnvironment(config),
      STAGE: 'local',
      TABLE_NAME: LOCAL_TABLE,
      ARTIFACTS_BUCKET: LOCAL_BUCKETS.artifacts,
      AUDIT_BUCKET: LOCAL_BUCKETS.audit,
      MARKET_DATA_URI: pathToFileURL(path.resolve(options.dataRoot)).href,
      DYNAMODB_ENDPOINT: servers.dynamoEndpoint,
      S3_ENDPOINT: servers.s3Endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      ...observability,
    };
    Object.assign(process.env, env);
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    resetRuntime(clock);
    resetPromotionDeps();
    const ddb = new DynamoDBClient({
      endpoint: servers.dynamoEndpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    await ensureTable(ddb, LOCAL_TABLE);
    ddb.destroy();
    const functions = await loadingFunctions;
    const intradayCohort = await LocalStateMachine.load('intraday-cohort.asl.json', functions, {
      clock,
      values: {
        ...cohortStateMachineValues(config),
        ...(options.shardAgents ? { CohortShardAgents: String(options.shardAgents) } : {}),
      },
    });
    const promotionPipeline = await LocalStateMachine.load(
      'promotion-pipeline.asl.json',
      functions,
      { clock },
    );
    const learningCycle = await LocalStateMachine.load('learning-cycle.asl.json', functions, {
      clock,
    });
    const day3GoNoGo = await LocalStateMachine.load('day3-go-no-go.asl.json', functions, {
      clock,
      stateMachines: { PromotionPipelineStateMachineArn: promotionPipeline },
    });
    const runtime = buildRuntime(env, clock);
    // Nothing else writes to this state folder now: every non-terminal run is abandoned.
    const sweepDeps = buildPromotionDeps(runtime);
    const recovery = await sweepInFlight(
      { clock: sweepDeps.clock, workflows: inFlightWorkflows(sweepDeps) },
      { mode: 'all' },
    );
    return {
      servers,
      env,
      runtime,
      recovery,
      intradayCohort,
      promotionPipeline,
      learningCycle,
      day3GoNoGo,
      clock,
      learningSchedule: config.schedules.learningCycle.expression,
      config,
      stop: () => servers.stop(),
    };
  } catch (err) {
    await servers.stop();
    throw err;
  }
}
