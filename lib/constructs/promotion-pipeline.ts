/**
 * The promotion pipeline (issue 3) of one environment, stateless part: its seven Lambda
 * functions with least-privilege grants, the Standard state machine loaded from
 * `statemachines/promotion-pipeline.asl.json`, the weekday schedule that starts it when the
 * promotion window opens (America/New_York) with a dead-letter queue, and the log metric
 * filters its alarms watch. Alarms and dashboard widgets are added by the workflow stack,
 * which owns the alarm topic.
 *
 * Grants mirror what each handler's use case calls (`functions/core/use-cases/promotion.ts`)
 * through the adapters built in `functions/composition/promotion.ts`:
 *
 * | function | DynamoDB (partition patterns) | S3 | other |
 * | --- | --- | --- | --- |
 * | stage-promotion | Query `COHORT#*`, `PAPER_TRACK#*` + gsi1; Put/Get `PROMOTION#*` | read `cohorts/` | audit |
 * | check-promotion-window | none | none | none (pure computation) |
 * | evaluate-gates | Get `BROKER_BOOK#*`, `CONFIG`; Update `PROMOTION#*` | read `lean/` | audit |
 * | start-paper-session | none | read `lean/` | broker, audit |
 * | paper-tick | Get `KILLSWITCH`; Put/Query `SESSION_BOOK#*`; Update `PROMOTION#*` (a slice's rollback) | read `lean/` | broker, audit |
 * | finish-paper-session | Put/Query `SESSION_BOOK#*`; Put `PAPER_TRACK#*` | read `lean/` | broker, audit |
 * | reconcile-promotion | Get `BROKER_BOOK#*`; Query `PROMOTION#*` | | broker, audit |
 * | complete-promotion | Get/Update `PROMOTION#*` | | audit |
 *
 * "broker" is, for the simulated adapter, Get/BatchGet/Put (transactional) on
 * `SIMBROKER#<account>` and reading `lean/` (it fills against real quotes); for
 * `alpaca-paper`, GetSecretValue on the Alpaca secret. "audit" is
 * {@link StagegateFunction.appendsAudit}. No function may write the kill switch.
 */
import { Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ValidationError } from '../../functions/core/errors.js';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PARTITIONS, PREFIXES, type ResourceNames } from '../config/naming.js';
import { pipelineEnvironment } from '../config/runtime-env.js';
import { stageSchedules } from '../config/schedules.js';
import {
  type FunctionSpec,
  HANDLERS,
  PAPER_SESSION_FUNCTIONS,
  PIPELINE_HANDLERS,
  type PipelineHandlerName,
  RECOVERY_HANDLERS,
} from '../handlers.js';
import { PAPER_SESSION_ASL, PROMOTION_PIPELINE_ASL } from '../paths.js';
import { aslStateMachine } from './asl-state-machine.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';
import type { StagegateFunction } from './stagegate-function.js';

/** Environment variable carrying the Alpaca secret's ARN (only with `alpaca-paper`). */
export const ALPACA_SECRET_ARN_ENV = 'ALPACA_SECRET_ARN';

/** The pipeline functions that talk to the paper broker. */
export const BROKER_FUNCTIONS = [
  'startPaperSession',
  'paperTick',
  'finishPaperSession',
  'reconcilePromotion',
] as const satisfies readonly PipelineHandlerName[];

/**
 * Grants a function the ingested tree and, given `alpacaDataSecret`, today's bars from Alpaca
 * (`ALPACA_DATA_SECRET_ARN`, `ALPACA_DATA_FEED`, GetSecretValue on that secret).
 */
function marketDataReader(
  props: PromotionPipelineProps,
): (f: StagegateFunction) => StagegateFunction {
  const secret = props.alpacaDataSecret;
  return (f) => {
    const withTree = f.readsObjects(props.buckets.marketData, PREFIXES.marketData);
    return secret ? withTree.readsLiveMarketData(secret, props.config.ingestion.feed) : withTree;
  };
}

/** Creates one house function (the workflow stack's defaults) with extra environment. */
export type FunctionFactory = (
  scope: Construct,
  id: string,
  spec: FunctionSpec,
  environment: Readonly<Record<string, string>>,
) => StagegateFunction;

export interface PromotionPipelineProps {
  /** The environment's validated config (thresholds, window, pipeline, broker adapter). */
  readonly config: EnvironmentConfig;
  /** Physical names of the environment (`resourceNames(stage)`). */
  readonly names: ResourceNames;
  /** The single table (from the stateful stack). */
  readonly table: ITableV2;
  /** Index the cohort repository lists complete cohorts from. */
  readonly cohortIndexName: string;
  readonly buckets: {
    readonly artifacts: IBucket;
    readonly marketData: IBucket;
    readonly audit: IBucket;
  };
  /** The shared record-audit function (the pipeline's Catch paths call it). */
  readonly recordAudit: StagegateFunction;
  /** Alpaca paper API keys; required when `broker.adapter` is `alpaca-paper`. */
  readonly alpacaPaperSecret?: ISecret;
  /**
   * Alpaca market-data keys (the stage's Alpaca secret): given, the functions that read the
   * session in progress (gates, paper session, the simulated broker's fills) read today's bars
   * from Alpaca (`ALPACA_DATA_SECRET_ARN`, GetSecretValue on this secret only); absent, they
   * read only the ingested tree and today's market gates fail closed.
   */
  readonly alpacaDataSecret?: ISecret;
  /** The environment's schedule group (shared with the cohort schedule). */
  readonly scheduleGroup: scheduler.IScheduleGroup;
  /** Builds each of the seven functions with the stack's defaults (runtime, logs, env). */
  readonly newFunction: FunctionFactory;
}

/** What the pipeline's function builders share: the broker secret and the grant helpers. */
interface PipelineWiring {
  readonly props: PromotionPipelineProps;
  /** The Alpaca paper secret (`alpaca-paper` only). */
  readonly secret: ISecret | undefined;
  /** {@link pipelineEnvironment} plus `ALPACA_SECRET_ARN` with the `alpaca-paper` adapter. */
  readonly environment: Readonly<Record<string, string>>;
  readonly readsMarketData: (f: StagegateFunction) => StagegateFunction;
  /** The paper broker's needs (see the module comment). */
  readonly usesBroker: (f: StagegateFunction) => StagegateFunction;
  /** The pipeline's own broker functions: the simulated broker books fills on today's bars. */
  readonly usesPipelineBroker: (f: StagegateFunction) => StagegateFunction;
  /** Appends to the audit trail. */
  readonly audited: (f: StagegateFunction) => StagegateFunction;
}

/**
 * The pipeline's shared wiring.
 *
 * @throws ValidationError (field `broker.adapter`) when the adapter is `alpaca-paper` and no
 *   secret is given.
 */
function pipelineWiring(props: PromotionPipelineProps): PipelineWiring {
  const { config, table, buckets } = props;
  const alpaca = config.broker.adapter === 'alpaca-paper';
  if (alpaca && !props.alpacaPaperSecret) {
    throw new ValidationError(
      'broker.adapter',
      'alpaca-paper needs the Alpaca paper secret (alpacaPaperSecret prop)',
    );
  }
  const secret = alpaca ? props.alpacaPaperSecret : undefined;
  const readsMarketData = marketDataReader(props);
  const usesBroker = (f: StagegateFunction): StagegateFunction => {
    if (secret) return f.readsSecret(secret);
    return f
      .readsObjects(buckets.marketData, PREFIXES.marketData)
      .usesTableItemsIn(
        table,
        [PARTITIONS.simulatedBroker(config.broker.simulated.accountId)],
        ['GetItem', 'BatchGetItem', 'PutItem'],
      );
  };
  return {
    props,
    secret,
    environment: {
      ...pipelineEnvironment(config),
      ...(secret ? { [ALPACA_SECRET_ARN_ENV]: secret.secretArn } : {}),
    },
    readsMarketData,
    usesBroker,
    usesPipelineBroker: (f) => (secret ? usesBroker(f) : usesBroker(readsMarketData(f))),
    audited: (f) => f.appendsAudit(buckets.audit, table, config.stage),
  };
}

/** Grants one pipeline function (just created with the pipeline's environment) what it needs. */
type FunctionGrants = (w: PipelineWiring, f: StagegateFunction) => StagegateFunction;

/** Each pipeline function's grants (the module comment's table), in creation order. */
const PIPELINE_FUNCTION_GRANTS: { readonly [N in PipelineHandlerName]: FunctionGrants } = {
  // Lists (gsi1) or reads (Query on COHORT#<id>) the cohort, reads its simulation.sga,
  // reads the paper slot (recent promotions on gsi1, the incumbent's PAPER_TRACK#<genome>),
  // stages the promotion (conditional Put, Get on a lost race).
  stagePromotion: ({ props: { table, buckets, cohortIndexName }, audited }, f) =>
    audited(
      f
        .readsObjects(buckets.artifacts, PREFIXES.cohortArtifacts)
        .usesTableItemsIn(table, [PARTITIONS.cohort, PARTITIONS.paperTrack], ['Query'])
        .queriesIndex(table, cohortIndexName)
        .usesTableItemsIn(table, [PARTITIONS.promotion], ['GetItem', 'PutItem']),
    ),
  // Pure: compares the clock with the window from GATE_THRESHOLDS_JSON.
  checkPromotionWindow: (_w, f) => f,
  // Session + daily bars, the position book, the kill switch; marks gates_failed.
  evaluateGates: ({ props: { table }, audited, readsMarketData }, f) =>
    audited(
      readsMarketData(f)
        .usesTableItemsIn(table, [PARTITIONS.brokerBook, PARTITIONS.killSwitch], ['GetItem'])
        .usesTableItemsIn(table, [PARTITIONS.promotion], ['UpdateItem']),
    ),
  // The paper session: the kill switch (read at every submit), the session's bars, the
  // broker account (simulated: its items; Alpaca: the secret), audit.
  startPaperSession: ({ audited, usesBroker, readsMarketData }, f) =>
    audited(usesBroker(readsMarketData(f))),
  // ... and every session's own book on the account (account limits, reconciliation).
  paperTick: ({ props: { table }, audited, usesBroker, readsMarketData }, f) =>
    audited(
      usesBroker(
        readsMarketData(f)
          .usesTableItemsIn(table, [PARTITIONS.killSwitch], ['GetItem'])
          .usesTableItemsIn(table, [PARTITIONS.sessionBook], ['PutItem', 'Query'])
          // A micro-live slice's rollback demotes its promotion (`halted`).
          .usesTableItemsIn(table, [PARTITIONS.promotion], ['UpdateItem']),
      ),
    ),
  // ... the kill switch read once at the settle (a halt a flat, idle session did not read).
  finishPaperSession: ({ props: { table }, audited, usesBroker, readsMarketData }, f) =>
    audited(
      usesBroker(
        readsMarketData(f)
          .usesTableItemsIn(table, [PARTITIONS.killSwitch], ['GetItem'])
          .usesTableItemsIn(table, [PARTITIONS.sessionBook], ['PutItem', 'Query'])
          // The session's result appended to its genome's paper track record.
          .usesTableItemsIn(table, [PARTITIONS.paperTrack], ['PutItem']),
      ),
    ),
  // Reads the book and the orders; the broker side may book late fills (simulated).
  reconcilePromotion: ({ props: { table }, audited, usesPipelineBroker }, f) =>
    audited(
      usesPipelineBroker(
        f
          .usesTableItemsIn(table, [PARTITIONS.brokerBook], ['GetItem'])
          .usesTableItemsIn(table, [PARTITIONS.promotion], ['Query']),
      ),
    ),
  // Final status, then promotion_completed.
  completePromotion: ({ props: { table }, audited }, f) =>
    audited(f.usesTableItemsIn(table, [PARTITIONS.promotion], ['GetItem', 'UpdateItem'])),
};

/**
 * The promotion pipeline of one environment (see the module comment).
 *
 * @throws ValidationError (field `broker.adapter`) when the adapter is `alpaca-paper` and no
 *   secret is given; (field `gates.<threshold>`, `pipeline.<field>`, `promotion.windows`) when
 *   the config would be refused by the pipeline's Lambdas.
 */
export class PromotionPipeline extends Construct {
  /** The seven pipeline functions, by handler name. */
  public readonly functions: Record<PipelineHandlerName, StagegateFunction>;
  /** `stagegate-<stage>-promotion-pipeline` (Standard). */
  public readonly stateMachine: sfn.StateMachine;
  /** `stagegate-<stage>-paper-session` (Standard), run nested by the pipeline. */
  public readonly paperSession: sfn.StateMachine;
  /** Starts the pipeline at the promotion window's open, weekdays, America/New_York. */
  public readonly schedule: scheduler.Schedule;
  /** `stagegate-<stage>-promotion-schedule-dlq`: starts the scheduler could not deliver. */
  public readonly scheduleDeadLetterQueue: sqs.Queue;
  /**
   * The crash sweeper (functions/handlers/recover-in-flight.ts): reconciles promotions left
   * mid-flight with the broker by client_order_id and closes them; never sends an order.
   */
  public readonly recoverInFlight: StagegateFunction;
  /** Starts the crash sweeper hourly. */
  public readonly recoverySchedule: scheduler.Schedule;
  /**
   * `stagegate-<stage>-recover-in-flight-failures`: failure destination of the crash
   * sweeper's asynchronous invocations (Scheduler -> Lambda), alarmed by the workflow stack.
   */
  public readonly asyncFailureQueue: sqs.Queue;
  /** Count of `reconciliation discrepancies` errors logged by reconcile-promotion. */
  public readonly reconciliationDiscrepancies: cloudwatch.Metric;
  /** Count of submissions refused because the kill switch was on (or unreadable). */
  public readonly killSwitchHalts: cloudwatch.Metric;
  /**
   * The environment every function that trades through the pipeline's order path needs:
   * {@link pipelineEnvironment} plus `ALPACA_SECRET_ARN` with the `alpaca-paper` adapter.
   */
  public readonly brokerEnvironment: Readonly<Record<string, string>>;
  private readonly grantBroker: (f: StagegateFunction) => StagegateFunction;

  constructor(scope: Construct, id: string, props: PromotionPipelineProps) {
    super(scope, id);
    const wiring = pipelineWiring(props);
    this.grantBroker = wiring.usesBroker;
    this.brokerEnvironment = wiring.environment;
    this.functions = this.buildFunctions(wiring);
    const machines = this.buildStateMachines(props);
    this.paperSession = machines.paperSession;
    this.stateMachine = machines.stateMachine;

    const built = this.buildSchedule(props);
    this.schedule = built.schedule;
    this.scheduleDeadLetterQueue = built.queue;

    const recovery = this.buildRecoverInFlight(wiring);
    this.recoverInFlight = recovery.fn;
    this.asyncFailureQueue = recovery.failures;
    this.recoverySchedule = this.buildRecoverySchedule(props, built.queue);

    const namespace = `stagegate/${props.config.stage}`;
    this.reconciliationDiscrepancies = this.discrepancyMetric(namespace);
    this.killSwitchHalts = this.haltMetric(namespace);
  }

  /** The pipeline's functions from {@link PIPELINE_FUNCTION_GRANTS}, in its order. */
  private buildFunctions(w: PipelineWiring): Record<PipelineHandlerName, StagegateFunction> {
    // Every pipeline function gets the secret's ARN (not a secret itself): the composition
    // root (functions/composition/promotion.ts) requires it whenever BROKER_MODE is
    // alpaca-paper, even in steps that never call the broker. Only BROKER_FUNCTIONS may read
    // the secret (usesBroker).
    const entries = (
      Object.entries(PIPELINE_FUNCTION_GRANTS) as [PipelineHandlerName, FunctionGrants][]
    ).map(([name, grants]) => {
      const f = w.props.newFunction(this, name, PIPELINE_HANDLERS[name], w.environment);
      return [name, grants(w, f)] as const;
    });
    return Object.fromEntries(entries) as Record<PipelineHandlerName, StagegateFunction>;
  }

  /** The paper-session state machine, and the pipeline's, which runs it nested. */
  private buildStateMachines(props: PromotionPipelineProps) {
    const { config, names } = props;
    const paperFunctions = new Set<PipelineHandlerName>(PAPER_SESSION_FUNCTIONS);
    const tasksOf = (handlers: PipelineHandlerName[]) =>
      Object.fromEntries(
        handlers.map((name) => [PIPELINE_HANDLERS[name].aslPlaceholder, this.functions[name]]),
      );
    const all = Object.keys(PIPELINE_HANDLERS) as PipelineHandlerName[];
    const logging = {
      logRetention: config.logs.retentionDays as logs.RetentionDays,
      logRemovalPolicy:
        config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    };
    const paperSession = aslStateMachine(this, 'PaperSession', {
      stateMachineName: names.paperSessionStateMachine,
      definitionFile: PAPER_SESSION_ASL,
      tasks: {
        ...tasksOf(all.filter((n) => paperFunctions.has(n))),
        [HANDLERS.recordAudit.aslPlaceholder]: props.recordAudit,
      },
      ...logging,
    });
    const stateMachine = aslStateMachine(this, 'PromotionPipeline', {
      stateMachineName: names.promotionStateMachine,
      definitionFile: PROMOTION_PIPELINE_ASL,
      tasks: {
        ...tasksOf(all.filter((n) => !paperFunctions.has(n))),
        [HANDLERS.recordAudit.aslPlaceholder]: props.recordAudit,
      },
      nestedStateMachines: {
        PaperSessionStateMachineArn: {
          stateMachine: paperSession,
          stateMachineName: names.paperSessionStateMachine,
        },
      },
      ...logging,
    });
    return { paperSession, stateMachine };
  }

  /**
   * The crash sweeper: lists in-flight promotions (gsi1), reads/saves their orders, closes
   * them, books fills, cancels open orders at the broker; and its failure destination (the
   * Scheduler's dead-letter queue only catches invocations it could not deliver; a delivered,
   * asynchronous invocation whose function fails goes to this queue).
   */
  private buildRecoverInFlight(w: PipelineWiring) {
    const { props } = w;
    const { table, names } = props;
    const fn = w.audited(
      w.usesPipelineBroker(
        props
          .newFunction(this, 'recoverInFlight', RECOVERY_HANDLERS.recoverInFlight, w.environment)
          .queriesIndex(table, props.cohortIndexName)
          .usesTableItemsIn(
            table,
            [PARTITIONS.promotion],
            ['GetItem', 'Query', 'PutItem', 'UpdateItem'],
          )
          .usesTableItemsIn(table, [PARTITIONS.brokerBook], ['GetItem', 'PutItem'])
          // an abandoned paper session's last book (its open orders, its position)
          .usesTableItemsIn(table, [PARTITIONS.sessionBook], ['Query', 'PutItem']),
      ),
    );
    const failures = new sqs.Queue(this, 'RecoverInFlightFailures', {
      queueName: `${names.prefix}-recover-in-flight-failures`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeNag(
      failures,
      'AwsSolutions-SQS3',
      'This queue is itself the on-failure destination (dead letters) of the crash sweeper asynchronous invocations; its depth is alarmed.',
    );
    fn.configureAsyncInvoke({
      onFailure: new lambdaDestinations.SqsDestination(failures),
      retryAttempts: 2,
      maxEventAge: Duration.minutes(50),
    });
    return { fn, failures };
  }

  /** Starts the crash sweeper hourly at minute 0 UTC (undeliverable starts go to `deadLetterQueue`). */
  private buildRecoverySchedule(
    props: PromotionPipelineProps,
    deadLetterQueue: sqs.IQueue,
  ): scheduler.Schedule {
    const stage = props.config.stage;
    const recoveryInvoker = new iam.Role(this, 'RecoverInFlightSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Lets EventBridge Scheduler invoke the ${stage} crash sweeper`,
    });
    const schedule = new scheduler.Schedule(this, 'RecoverInFlight', {
      scheduleName: 'recover-in-flight',
      scheduleGroup: props.scheduleGroup,
      description: `Crash sweeper of the ${stage} promotions and gtc orders past their UTC day (hourly, at minute 0)`,
      // At minute 0 (UTC), not a rate: one run falls on 00:00 UTC, the crypto close, when it
      // cancels the gtc orders no paper session watches (use-cases/gtc-day-close.ts).
      schedule: scheduler.ScheduleExpression.cron({ minute: '0' }),
      timeWindow: scheduler.TimeWindow.off(),
      target: new schedulerTargets.LambdaInvoke(this.recoverInFlight, {
        role: recoveryInvoker,
        input: scheduler.ScheduleTargetInput.fromObject({
          source: 'schedule',
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
        deadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(50),
      }),
    });
    const invokePolicy = recoveryInvoker.node.tryFindChild('DefaultPolicy');
    if (invokePolicy) {
      acknowledgeNag(
        invokePolicy,
        wildcardResourceFinding(invokePolicy, `${this.recoverInFlight.functionArn}:*`),
        'The scheduler target grant (grantInvoke) covers the crash sweeper and its qualified ARNs ("<function>:*", versions and aliases) of that one function only; the schedule invokes the unqualified function.',
      );
    }
    return schedule;
  }

  /**
   * reconcile-promotion, paper-tick (the account vs the sum of the sessions' books) and
   * finish-paper-session log "reconciliation discrepancies" at ERROR when any discrepancy is
   * found; three filters publish to one metric, which the alarm watches.
   */
  private discrepancyMetric(namespace: string): cloudwatch.Metric {
    const pattern = logs.FilterPattern.all(
      logs.FilterPattern.stringValue('$.level', '=', 'ERROR'),
      logs.FilterPattern.stringValue('$.message', '=', 'reconciliation discrepancies'),
    );
    return this.logMetric(namespace, 'ReconciliationDiscrepancies', pattern, [
      ['PaperTickReconciliationDiscrepancies', this.functions.paperTick],
      ['PaperFinishReconciliationDiscrepancies', this.functions.finishPaperSession],
      ['ReconciliationDiscrepancies', this.functions.reconcilePromotion],
    ]);
  }

  /**
   * `KillSwitchHalts`: paper-tick logs "paper session halted" at WARN when a breaker halts the
   * session (the kill switch on, or unreadable: fail closed); finish-paper-session when its
   * settle step recorded the kill-switch halt of a session whose ticks did not read the switch
   * again (once per session, not again on a retry). Two filters, one metric.
   */
  private haltMetric(namespace: string): cloudwatch.Metric {
    const pattern = logs.FilterPattern.stringValue('$.message', '=', 'paper session halted');
    return this.logMetric(namespace, 'KillSwitchHalts', pattern, [
      ['PaperFinishKillSwitchHalts', this.functions.finishPaperSession],
      ['KillSwitchHalts', this.functions.paperTick],
    ]);
  }

  /**
   * One metric filter per `[logical id, function]` on the function's log group, each adding 1
   * to `metricName` in `namespace` (no dimension: one metric) per matching line; that metric,
   * summed over 5 minutes.
   */
  private logMetric(
    namespace: string,
    metricName: string,
    filterPattern: logs.IFilterPattern,
    sources: readonly (readonly [string, StagegateFunction])[],
  ): cloudwatch.Metric {
    const filters = sources.map(
      ([id, fn]) =>
        new logs.MetricFilter(this, id, {
          logGroup: fn.logGroup,
          metricNamespace: namespace,
          metricName,
          filterPattern,
          metricValue: '1',
        }),
    );
    return (filters.at(-1) as logs.MetricFilter).metric({
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
  }

  /**
   * Grants `f` the paper broker's needs (see the module comment): the simulated account's
   * partition and the market data, or the Alpaca secret. Pair with {@link brokerEnvironment}.
   */
  public usesBroker(f: StagegateFunction): StagegateFunction {
    return this.grantBroker(f);
  }

  private buildSchedule(props: PromotionPipelineProps) {
    const { config, names } = props;
    const queue = new sqs.Queue(this, 'PromotionScheduleDlq', {
      queueName: `${names.prefix}-promotion-schedule-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeNag(
      queue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the promotion schedule target; its depth is alarmed.',
    );
    if (!config.promotion.windows[0]) {
      throw new ValidationError('promotion.windows', 'needs at least one window');
    }
    const start = stageSchedules(config).promotionStart;
    const schedule = new scheduler.Schedule(this, 'PromotionStart', {
      scheduleName: start.name,
      scheduleGroup: props.scheduleGroup,
      description: `Starts the ${config.stage} promotion pipeline when the promotion window opens (${start.expression} ${start.timezone})`,
      schedule: scheduler.ScheduleExpression.expression(
        start.expression,
        TimeZone.of(start.timezone),
      ),
      timeWindow: scheduler.TimeWindow.off(),
      enabled: start.enabled,
      target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
        // StageCandidate then promotes the most recent complete cohort.
        input: scheduler.ScheduleTargetInput.fromObject({ source: 'schedule' }),
        deadLetterQueue: queue,
        retryAttempts: 3,
        // Same budget as the cohort start: an undeliverable start is dead-lettered (and
        // alarmed) while the window is still open, so it can be started by hand.
        maxEventAge: Duration.minutes(30),
      }),
    });
    return { schedule, queue };
  }
}
