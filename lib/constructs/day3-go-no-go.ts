/**
 * The Day-3 go/no-go of one environment, stateless part (docs/approval.md): the four
 * state-machine functions, the Standard state machine loaded from
 * `statemachines/day3-go-no-go.asl.json` (human approval by `.waitForTaskToken`, micro-live by
 * `startExecution.sync:2` of the promotion pipeline), the approval HTTP API (approval page
 * behind an authorizer, Slack interactivity verified by its signature), the rollback monitor
 * and the schedules (go/no-go, rollback ticks) with dead-letter queues. Alarms and dashboard
 * widgets are added by the workflow stack, which owns the alarm topic.
 *
 * Grants mirror what each handler's use case calls (`functions/core/use-cases/day3*.ts`)
 * through the adapters of `functions/composition/approval.ts`:
 *
 * | function | DynamoDB (partition patterns) | S3 | other |
 * | --- | --- | --- | --- |
 * | select-day3-candidate | Query `COHORT#*` + gsi1; Get/Query `GENOME_POOL`; Query `PAPER_TRACK#*`; Get `BROKER_BOOK#*`, `CONFIG` | read `cohorts/`, `lean/`; read/write `reports/` | audit |
 * | request-approval | Get/Put `APPROVAL#*` | read `cohorts/` | approval key, bot token, audit |
 * | record-leverage-decision | Get/Put `MICROLIVE#*` | read `cohorts/` | audit |
 * | conclude-day3 | Get `APPROVAL#*`; Get/Put `MICROLIVE#*`; Get/Query `PROMOTION#*` | | approval key, bot token, audit |
 * | approval-http | Get/Update `APPROVAL#*` | | approval key, bot token, SendTask* on this machine, audit |
 * | slack-interactivity | as approval-http | | + signing secret |
 * | rollback-monitor | Query gsi1; Get/Put `MICROLIVE#*`; Get/Put/Update/Query `PROMOTION#*`; Get/Put `BROKER_BOOK#*`; Get `CONFIG` | read `lean/` | broker, audit |
 *
 * `reports/` holds the run report select-day3-candidate publishes; the link it hands out is a
 * presigned GetObject URL signed with the function's own credentials, hence the read grant.
 * "broker" and "audit" are those of {@link PromotionPipeline}. No function may write the kill
 * switch.
 */

import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { APPROVAL_PAGE_PATH } from '../../functions/adapters/http/api-gateway.js';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PARTITIONS, PREFIXES, type ResourceNames } from '../config/naming.js';
import {
  ROLLBACK_MONITOR_TIME_ZONE,
  rollbackMonitorSchedules,
} from '../config/rollback-monitor.js';
import { day3Environment } from '../config/runtime-env.js';
import { stageSchedules } from '../config/schedules.js';
import {
  APPROVAL_HANDLERS,
  type ApprovalHandlerName,
  DAY3_HANDLERS,
  type Day3HandlerName,
  HANDLERS,
} from '../handlers.js';
import { DAY3_GO_NO_GO_ASL } from '../paths.js';
import { aslStateMachine } from './asl-state-machine.js';
import { acknowledgeNag } from './nag.js';
import type { FunctionFactory, PromotionPipeline } from './promotion-pipeline.js';
import { deadLetterQueueOf, rollbackTickSchedules, scheduledStart } from './scheduled-start.js';
import type { StagegateFunction } from './stagegate-function.js';

/** Key prefix of the Day-3 run reports in the artifacts bucket. */
export const REPORTS_PREFIX = 'reports';

export { ROLLBACK_MONITOR_TIME_ZONE, rollbackMonitorSchedules };

export interface Day3GoNoGoProps {
  /** The environment's validated config (`approval`, `promotion`, `slack`, schedules). */
  readonly config: EnvironmentConfig;
  /** Physical names of the environment (`resourceNames(stage)`). */
  readonly names: ResourceNames;
  /** The single table (from the stateful stack). */
  readonly table: ITableV2;
  /** Index of complete cohorts and of watched micro-live slices. */
  readonly indexName: string;
  readonly buckets: {
    readonly artifacts: IBucket;
    readonly marketData: IBucket;
    readonly audit: IBucket;
  };
  /** The approval secrets (from the stateful stack). */
  readonly secrets: {
    readonly approvalKey: ISecret;
    readonly slackBotToken: ISecret;
    readonly slackSigningSecret: ISecret;
  };
  /** The promotion pipeline: RunMicroLive starts it; its broker grants serve the monitor. */
  readonly promotion: PromotionPipeline;
  /** The shared record-audit function (the Catch paths call it). */
  readonly recordAudit: StagegateFunction;
  /** The environment's schedule group (shared with the other schedules). */
  readonly scheduleGroup: scheduler.IScheduleGroup;
  /** Builds each function with the stack's defaults (runtime, logs, env). */
  readonly newFunction: FunctionFactory;
}

/**
 * The Day-3 go/no-go of one environment (see the module comment).
 *
 * @throws ValidationError (field `day3.approvers`) when `approval.approvers` is empty, and the
 *   pipeline's field errors when the promotion settings would be refused.
 */
export class Day3GoNoGo extends Construct {
  /** The state machine's four functions, by handler name. */
  public readonly functions: Record<Day3HandlerName, StagegateFunction>;
  /** approval-http, slack-interactivity, rollback-monitor. */
  public readonly approvalFunctions: Record<ApprovalHandlerName, StagegateFunction>;
  /** `stagegate-<stage>-day3-go-no-go` (Standard: it waits for a task token). */
  public readonly stateMachine: sfn.StateMachine;
  /** `stagegate-<stage>-approval`: the approval page and Slack interactivity. */
  public readonly api: apigwv2.HttpApi;
  /** The API's `$default` stage (access logs, throttling). */
  public readonly apiStage: apigwv2.HttpStage;
  /** Starts the go/no-go (`schedules.day3GoNoGo`). */
  public readonly schedule: scheduler.Schedule;
  /** The rollback monitor's ticks ({@link rollbackMonitorSchedules} at the stage's cadence). */
  public readonly rollbackSchedules: scheduler.Schedule[];
  /** Undeliverable go/no-go starts and rollback ticks. */
  public readonly scheduleDeadLetterQueue: sqs.Queue;
  /**
   * `stagegate-<stage>-rollback-monitor-failures`: the failure destination of the rollback
   * monitor's asynchronous invocations (the Scheduler invokes it with InvocationType Event):
   * a tick that still fails after Lambda's retries lands here instead of being dropped.
   */
  public readonly asyncFailureQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: Day3GoNoGoProps) {
    super(scope, id);
    const { config, table, buckets, names, secrets, promotion } = props;
    const removalPolicy =
      config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const { api, apiStage } = this.buildApi(props, removalPolicy);
    this.api = api;
    this.apiStage = apiStage;
    const baseUrl = this.api.apiEndpoint;

    const w = this.functionWiring(props, baseUrl);
    const { audited, readsApprovalSecrets, approvalEnv, day3Env } = w;
    this.functions = this.buildDay3Functions(props, w);

    this.stateMachine = aslStateMachine(this, 'Day3GoNoGo', {
      stateMachineName: names.day3StateMachine,
      definitionFile: DAY3_GO_NO_GO_ASL,
      tasks: {
        ...Object.fromEntries(
          (Object.keys(DAY3_HANDLERS) as Day3HandlerName[]).map((name) => [
            DAY3_HANDLERS[name].aslPlaceholder,
            this.functions[name],
          ]),
        ),
        [HANDLERS.recordAudit.aslPlaceholder]: props.recordAudit,
      },
      nestedStateMachines: {
        PromotionPipelineStateMachineArn: {
          stateMachine: promotion.stateMachine,
          stateMachineName: names.promotionStateMachine,
        },
      },
      logRetention: config.logs.retentionDays as logs.RetentionDays,
      logRemovalPolicy: removalPolicy,
    });

    // The decision doors: read the request, claim it, audit, answer the waiting task (or read
    // the execution when a redelivery's answer is refused), update the Slack message.
    const decides = (name: 'approvalHttp' | 'slackInteractivity', env: Record<string, string>) => {
      const f = audited(
        readsApprovalSecrets(
          props
            .newFunction(this, name, APPROVAL_HANDLERS[name], env)
            .usesTableItemsIn(table, [PARTITIONS.approval], ['GetItem', 'UpdateItem'])
            .describesExecutionsOf(names.day3StateMachine),
        ),
      );
      this.stateMachine.grantTaskResponse(f);
      return f;
    };
    const approvalHttp = decides('approvalHttp', approvalEnv);
    const slackInteractivity = decides('slackInteractivity', {
      ...approvalEnv,
      SLACK_SIGNING_SECRET_ID: secrets.slackSigningSecret.secretArn,
    }).readsSecret(secrets.slackSigningSecret);
    // Watched slices (gsi1), their promotions and orders, the session's marks; on a breach
    // the flatten order through the promotion's own order path (kill switch re-checked).
    const rollbackMonitor = audited(
      promotion.usesBroker(
        props
          .newFunction(this, 'rollbackMonitor', APPROVAL_HANDLERS.rollbackMonitor, day3Env)
          .queriesIndex(table, props.indexName)
          .usesTableItemsIn(table, [PARTITIONS.microLive], ['GetItem', 'PutItem'])
          .usesTableItemsIn(
            table,
            [PARTITIONS.promotion],
            ['GetItem', 'PutItem', 'UpdateItem', 'Query'],
          )
          .usesTableItemsIn(table, [PARTITIONS.brokerBook], ['GetItem', 'PutItem'])
          .usesTableItemsIn(table, [PARTITIONS.killSwitch], ['GetItem'])
          .readsObjects(buckets.marketData, PREFIXES.marketData),
      ),
    );
    this.approvalFunctions = { approvalHttp, slackInteractivity, rollbackMonitor };

    this.addRoutes(props, approvalHttp, slackInteractivity);

    // The Scheduler's dead-letter queue only catches invocations it could not deliver; a
    // delivered (asynchronous) invocation whose function fails goes to this destination.
    this.asyncFailureQueue = this.buildAsyncFailureQueue(props, rollbackMonitor);
    const built = this.buildSchedules(props, rollbackMonitor);
    this.scheduleDeadLetterQueue = built.queue;
    this.schedule = built.schedule;
    this.rollbackSchedules = built.rollback;
  }

  /** The approval API and its `$default` stage (throttled; access logs keep the route key only). */
  private buildApi(
    props: Day3GoNoGoProps,
    removalPolicy: RemovalPolicy,
  ): { api: apigwv2.HttpApi; apiStage: apigwv2.HttpStage } {
    const { config, names } = props;
    const stage = config.stage;
    const api = new apigwv2.HttpApi(this, 'ApprovalApi', {
      apiName: names.approvalApi,
      description: `stagegate ${stage}: Day-3 approval page and Slack interactivity`,
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'ApprovalApiAccessLogs', {
      logGroupName: `/stagegate/${stage}/approval-api/access`,
      retention: config.logs.retentionDays as logs.RetentionDays,
      removalPolicy,
    });
    const apiStage = api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // The route key, never the path or query string: the link's signature stays out of logs.
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
      throttle: { rateLimit: 10, burstLimit: 20 },
    });
    return { api, apiStage };
  }

  /** What the Day-3 and approval functions share: their environments and grant helpers. */
  private functionWiring(props: Day3GoNoGoProps, baseUrl: string) {
    const { config, table, buckets, secrets, promotion } = props;
    const stage = config.stage;
    const approvalEnv = {
      NOTIFIER: 'slack',
      SLACK_CHANNEL: config.slack.channel,
      APPROVAL_BASE_URL: baseUrl,
      APPROVAL_KEY_SECRET_ID: secrets.approvalKey.secretArn,
      SLACK_BOT_TOKEN_SECRET_ID: secrets.slackBotToken.secretArn,
    };
    // What getDay3CoreDeps / getDay3Deps read: the Day-3 config and the pipeline's settings.
    const day3Env = { ...promotion.brokerEnvironment, ...day3Environment(config) };
    const audited = (f: StagegateFunction) => f.appendsAudit(buckets.audit, table, stage);
    const readsApprovalSecrets = (f: StagegateFunction) =>
      f.readsSecret(secrets.approvalKey).readsSecret(secrets.slackBotToken);
    const fn = (name: Day3HandlerName, environment: Record<string, string>) =>
      props.newFunction(this, name, DAY3_HANDLERS[name], environment);
    return { approvalEnv, day3Env, audited, readsApprovalSecrets, fn };
  }

  /** The four Day-3 workflow functions with their grants. */
  private buildDay3Functions(
    props: Day3GoNoGoProps,
    w: ReturnType<Day3GoNoGo['functionWiring']>,
  ): Day3GoNoGo['functions'] {
    const { table, buckets } = props;
    const { audited, readsApprovalSecrets, approvalEnv, day3Env, fn } = w;
    return {
      // Cohorts (gsi1 list + Query), their simulations, the pool's lineage, the gate preview
      // (session + daily bars, book, kill switch; its one write is dropped), the run report.
      selectDay3Candidate: audited(
        fn('selectDay3Candidate', day3Env)
          .usesTableItemsIn(table, [PARTITIONS.cohort], ['Query'])
          .queriesIndex(table, props.indexName)
          .usesTableItemsIn(table, [PARTITIONS.genomePool], ['GetItem', 'Query'])
          .usesTableItemsIn(table, [PARTITIONS.paperTrack], ['Query'])
          .usesTableItemsIn(table, [PARTITIONS.brokerBook, PARTITIONS.killSwitch], ['GetItem'])
          .readsObjects(buckets.artifacts, PREFIXES.cohortArtifacts)
          .readsObjects(buckets.marketData, PREFIXES.marketData)
          .readsAndWritesObjects(buckets.artifacts, REPORTS_PREFIX),
      ),
      // Equity curve from the simulations; the request (conditional Put) and its Slack
      // message ref (Get/Put); the Slack post with the bot token.
      requestApproval: audited(
        readsApprovalSecrets(
          fn('requestApproval', { ...day3Env, ...approvalEnv })
            .readsObjects(buckets.artifacts, PREFIXES.cohortArtifacts)
            .usesTableItemsIn(table, [PARTITIONS.approval], ['GetItem', 'PutItem']),
        ),
      ),
      // The slice (conditional Put, Get on a retry) and the first leverage decision.
      recordLeverageDecision: audited(
        fn('recordLeverageDecision', day3Env)
          .readsObjects(buckets.artifacts, PREFIXES.cohortArtifacts)
          .usesTableItemsIn(table, [PARTITIONS.microLive], ['GetItem', 'PutItem']),
      ),
      // The outcome: the promotion's orders, the slice (versioned Put), the request and its
      // Slack message (updated with the bot token).
      concludeDay3: audited(
        readsApprovalSecrets(
          fn('concludeDay3', { ...day3Env, ...approvalEnv })
            .usesTableItemsIn(table, [PARTITIONS.approval], ['GetItem'])
            .usesTableItemsIn(table, [PARTITIONS.microLive], ['GetItem', 'PutItem'])
            .usesTableItemsIn(table, [PARTITIONS.promotion], ['GetItem', 'Query']),
        ),
      ),
    };
  }

  /**
   * The approval page route (IAM or JWT authorizer) and the Slack interactivity route (the
   * handler checks Slack's request signature itself).
   */
  private addRoutes(
    props: Day3GoNoGoProps,
    approvalHttp: StagegateFunction,
    slackInteractivity: StagegateFunction,
  ): void {
    const { config } = props;
    const authorizer = config.approval.jwt
      ? new authorizers.HttpJwtAuthorizer('ApprovalPageJwt', config.approval.jwt.issuer, {
          jwtAudience: [...config.approval.jwt.audience],
        })
      : new authorizers.HttpIamAuthorizer();
    // ANY: every method reaches the handler, which answers GET/HEAD/POST and refuses the rest
    // with 405 and an input_rejected audit record (docs/approval.md). A request without valid
    // credentials is refused by the authorizer before the handler; it is in the access log.
    this.api.addRoutes({
      path: APPROVAL_PAGE_PATH,
      methods: [apigwv2.HttpMethod.ANY],
      integration: new integrations.HttpLambdaIntegration('ApprovalPage', approvalHttp),
      authorizer,
    });
    const slackRoutes = this.api.addRoutes({
      path: '/slack/interactivity',
      methods: [apigwv2.HttpMethod.POST],
      integration: new integrations.HttpLambdaIntegration('SlackInteractivity', slackInteractivity),
    });
    for (const route of slackRoutes) {
      acknowledgeNag(
        route,
        'AwsSolutions-APIG4',
        'Slack cannot present AWS or JWT credentials: slack-interactivity authenticates every request itself by the X-Slack-Signature v0 HMAC of the raw body with the signing secret and a 5-minute timestamp window (docs/approval.md), before it reads anything.',
      );
    }
  }

  /** The on-failure destination of the rollback monitor's asynchronous invocations. */
  private buildAsyncFailureQueue(
    props: Day3GoNoGoProps,
    rollbackMonitor: StagegateFunction,
  ): sqs.Queue {
    const queue = new sqs.Queue(this, 'RollbackMonitorFailures', {
      queueName: `${props.names.prefix}-rollback-monitor-failures`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeNag(
      queue,
      'AwsSolutions-SQS3',
      'This queue is itself the on-failure destination (dead letters) of the rollback monitor asynchronous invocations; its depth is alarmed.',
    );
    rollbackMonitor.configureAsyncInvoke({
      onFailure: new lambdaDestinations.SqsDestination(queue),
      // A tick older than its 5-minute slot is superseded by the next one.
      retryAttempts: 1,
      maxEventAge: Duration.minutes(4),
    });
    return queue;
  }

  /**
   * The go/no-go start (`schedules.day3GoNoGo`) and the equity rollback-monitor ticks, both
   * dead-lettered to `stagegate-<stage>-day3-schedule-dlq`.
   */
  private buildSchedules(props: Day3GoNoGoProps, rollbackMonitor: StagegateFunction) {
    const { config, names } = props;
    const queue = deadLetterQueueOf(
      this,
      { id: 'Day3ScheduleDlq', name: `${names.prefix}-day3-schedule-dlq` },
      'the go/no-go and rollback-monitor schedule targets',
    );
    const { day3GoNoGo, rollbackMonitor: ticks } = stageSchedules(config);
    const { schedule } = scheduledStart(this, {
      machine: this.stateMachine,
      schedule: day3GoNoGo,
      group: props.scheduleGroup,
      name: day3GoNoGo.name,
      id: 'Day3GoNoGoStart',
      description: `Starts the ${config.stage} Day-3 go/no-go (${day3GoNoGo.expression} ${day3GoNoGo.timezone})`,
      deadLetterQueue: queue,
      // SelectCandidate then reviews the three most recent complete cohorts.
      withScheduledTime: false,
    });
    const rollback = rollbackTickSchedules(this, {
      ticks,
      monitor: rollbackMonitor,
      group: props.scheduleGroup,
      deadLetterQueue: queue,
      everyMinutes: config.schedules.rollbackMonitor.everyMinutes,
      role: {
        id: 'RollbackMonitorSchedulerRole',
        description: `Lets EventBridge Scheduler invoke the ${config.stage} rollback monitor`,
      },
      watches: `${config.stage} micro-live slices`,
    });
    return { queue, schedule, rollback };
  }
}
