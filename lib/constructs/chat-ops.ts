/**
 * The `/stagegate` slash command of one environment (issue 15, docs/chatops.md): the
 * slack-command function, its `POST /slack/commands` route on the Slack-facing HTTP API, the
 * asynchronous follow-ups of long commands, and what a kill-switch confirmation click needs.
 *
 * - The Slack-facing API is the Day-3 approval API when the go/no-go is deployed (it already
 *   serves `POST /slack/interactivity`; its function hands a kill-switch click, the signed
 *   request as received, to the slack-command function by a synchronous invoke, and holds no
 *   kill-switch or broker grant itself); otherwise the console's HTTP
 *   API, where `POST /slack/interactivity` is routed to the slack-command function itself
 *   (kill-switch clicks only: there are no approvals without the go/no-go).
 * - Slack presents no AWS or JWT credentials: the function authenticates each request by its
 *   `X-Slack-Signature` (v0 HMAC of the raw body with the signing secret, read through the
 *   Powertools secret reader) and the 5-minute timestamp window, before it reads anything.
 * - Long commands (cohort start) are acknowledged at once and handed to an asynchronous
 *   invocation of the same function (`lambda:InvokeFunction` on itself only), which posts the
 *   answer to Slack's `response_url`. Such an invocation is never retried (a retried cohort
 *   start would start a second cohort); a failed one lands in the failure queue, alarmed by
 *   the workflow stack.
 * - Roles: `slack.commandUsers` of the stage config (`SLACK_COMMAND_USERS_JSON`); every stage
 *   ships it empty, so every caller is refused until an operator lists them.
 *
 * Grants (least privilege): gsi1 queries and Get/Query on cohort, promotion and approval items
 * (status, fund?, plan evidence); Get/Put on the kill switch and the broker's order
 * cancellation (engaging the switch cancels open orders); Get/Put on the plan item
 * (`PLAN`, conditional puts) and a read of the pre-migration `plans/current.json` (moved to the
 * item on first read, never written); audit appends; the signing secret; `states:StartExecution` on the
 * intraday-cohort state machine (cohort start).
 */
import { ArnFormat, CfnOutput, Duration, Stack, TimeZone } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { LEGACY_PLAN_KEY } from '../../functions/adapters/dynamodb/plan-store.js';
import type { Market } from '../../functions/core/calendar/market-calendar.js';
import { DAILY_REPORT_PREFIX } from '../../functions/core/use-cases/daily-report.js';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PARTITIONS, PREFIXES, type ResourceNames } from '../config/naming.js';
import { chatOpsConfigOf } from '../config/runtime-env.js';
import { type StageSchedule, stageSchedules } from '../config/schedules.js';
import { CHATOPS_HANDLERS } from '../handlers.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';
import type { FunctionFactory, PromotionPipeline } from './promotion-pipeline.js';
import { deadLetterQueueOf } from './scheduled-start.js';
import type { StagegateFunction } from './stagegate-function.js';

/** Key prefix of the pre-migration plan object (`plans/current.json`): read-only, to move it. */
export const LEGACY_PLANS_PREFIX = LEGACY_PLAN_KEY.split('/')[0] as string;

export interface ChatOpsProps {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly table: ITableV2;
  /** The table's `gsi1` (cohort, promotion and approval listings). */
  readonly indexName: string;
  readonly buckets: { readonly artifacts: IBucket; readonly audit: IBucket };
  /** The Slack signing secret (from the stateful stack). */
  readonly signingSecret: ISecret;
  /** The Slack bot token (the daily report's `chat.postMessage`). */
  readonly botToken: ISecret;
  /** The environment's schedule group (the daily report's schedule). */
  readonly scheduleGroup: scheduler.IScheduleGroup;
  /** The promotion pipeline: its broker settings and grants serve the kill switch. */
  readonly promotion: PromotionPipeline;
  /** `cohort start` starts it (a partial cohort). */
  readonly intradayCohort: IStateMachine;
  /**
   * The Slack-facing API and, when the Day-3 go/no-go is deployed, its interactivity
   * function (which then acts on the kill-switch clicks too).
   */
  readonly slackApi: apigwv2.HttpApi;
  /**
   * The operator console's page URL the daily report links to (`CONSOLE_URL`): the
   * CloudFront distribution serving the console pages (`OperatorConsole.url`).
   */
  readonly consoleUrl: string;
  readonly interactivity?: StagegateFunction;
  readonly newFunction: FunctionFactory;
  /**
   * Deploy the crypto daily report too (`schedules.crypto.dailyReport`, UTC, every day): set
   * when the stage deploys its crypto stage (`cohort.cryptoSymbols`, the crypto ingestion).
   * @default false
   */
  readonly cryptoReport?: boolean;
}

/** One market's daily-report schedule and its dead-letter queue. */
export interface DailyReportSchedule {
  readonly schedule: scheduler.Schedule;
  /** Firings the Scheduler could not deliver. */
  readonly deadLetterQueue: sqs.Queue;
}

export class ChatOps extends Construct {
  /** The slack-command function. */
  public readonly function: StagegateFunction;
  /** Failed asynchronous follow-ups (never retried). */
  public readonly followUpFailureQueue: sqs.Queue;
  /**
   * The post-daily-report function (one for both markets), the equity schedule and its
   * dead-letter queue, and the crypto schedule with its own when `cryptoReport`.
   */
  public readonly dailyReport: DailyReportSchedule & {
    readonly function: StagegateFunction;
    /** Delivered (asynchronous) invocations of either market that failed after their retries. */
    readonly failureQueue: sqs.Queue;
    /** `crypto-daily-report` (deployed with the crypto stage). */
    readonly crypto?: DailyReportSchedule;
  };
  /** `https://<api>/slack/commands`: the slash command's Request URL in the Slack app. */
  public readonly commandsUrl: string;
  /** `https://<api>/slack/interactivity`: the Slack app's Interactivity Request URL. */
  public readonly interactivityUrl: string;

  constructor(scope: Construct, id: string, props: ChatOpsProps) {
    super(scope, id);
    const { config, table, buckets, promotion } = props;
    const chatOpsEnv = {
      SLACK_COMMAND_USERS_JSON: JSON.stringify(config.slack.commandUsers),
      SLACK_SIGNING_SECRET_ID: props.signingSecret.secretArn,
    };
    const fn = this.servesKillSwitchClicks(
      props
        .newFunction(this, 'slackCommand', CHATOPS_HANDLERS.slackCommand, {
          ...promotion.brokerEnvironment,
          ...chatOpsEnv,
          CHATOPS_CONFIG_JSON: JSON.stringify(chatOpsConfigOf(config)),
          INTRADAY_COHORT_STATE_MACHINE_ARN: props.intradayCohort.stateMachineArn,
        })
        .queriesIndex(table, props.indexName)
        .usesTableItemsIn(
          table,
          [PARTITIONS.cohort, PARTITIONS.promotion, PARTITIONS.approval],
          ['GetItem', 'Query'],
        )
        // The plan (`PLAN / CURRENT`): read, and conditional puts (compare-and-set).
        .usesTableItemsIn(table, [PARTITIONS.plan], ['GetItem', 'PutItem'])
        // The plan a stage stored before it moved to the table: read once, to move it.
        .readsObjects(buckets.artifacts, LEGACY_PLANS_PREFIX)
        // `status`: today's paper sessions (their audit trail and their books, read only).
        .readsObjects(buckets.audit, PREFIXES.auditJsonLines)
        .usesTableItemsIn(table, [PARTITIONS.sessionBook], ['Query']),
      props,
    );
    props.intradayCohort.grantStartExecution(fn);
    // The follow-up: this function invokes itself asynchronously (its unqualified ARN only).
    // A policy of its own, apart from the role's default policy, which the function depends
    // on (that would be a cycle).
    new iam.Policy(this, 'SelfInvoke', {
      roles: [fn.executionRole],
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [
            Stack.of(this).formatArn({
              service: 'lambda',
              resource: 'function',
              resourceName: fn.functionName,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      ],
    });
    this.followUpFailureQueue = this.followUpFailures(fn, props);
    this.function = fn;

    this.route(fn, props);
    this.dailyReport = this.buildDailyReport(props);
    this.commandsUrl = `${props.slackApi.apiEndpoint}/slack/commands`;
    this.interactivityUrl = `${props.slackApi.apiEndpoint}/slack/interactivity`;
    new CfnOutput(this, 'SlackCommandsUrl', {
      description: 'Request URL of the /stagegate slash command in the Slack app',
      value: this.commandsUrl,
    });
    new CfnOutput(this, 'SlackInteractivityUrl', {
      description: 'Interactivity Request URL of the Slack app (approvals, kill-switch clicks)',
      value: this.interactivityUrl,
    });
  }

  /**
   * The daily report after the close: the post-daily-report function (reads the cohorts,
   * promotions, approvals, the audit trail; writes `daily-reports/` and the plan; posts with
   * the bot token; claims each post with a conditional put on `POST_CLAIM#*`) and its
   * EventBridge Scheduler schedules, one per market ({@link dailyReportSchedule}): equity
   * (`schedules.dailyReport`, in `schedules.timezone`) and, with `cryptoReport`, crypto
   * (`schedules.crypto.dailyReport`, UTC), each with its own dead-letter queue; a delivered
   * invocation is retried twice, then sent to the failure queue. A retried firing after a post
   * that was kept posts nothing (the use case skips a posted session of that market).
   */
  private buildDailyReport(props: ChatOpsProps): ChatOps['dailyReport'] {
    const { config, table, buckets } = props;
    const fn = props
      .newFunction(this, 'postDailyReport', CHATOPS_HANDLERS.postDailyReport, {
        CHATOPS_CONFIG_JSON: JSON.stringify(chatOpsConfigOf(config)),
        SLACK_BOT_TOKEN_SECRET_ID: props.botToken.secretArn,
        SLACK_CHANNEL: config.slack.channel,
        CONSOLE_URL: props.consoleUrl,
      })
      .queriesIndex(table, props.indexName)
      .usesTableItemsIn(
        table,
        [PARTITIONS.cohort, PARTITIONS.promotion, PARTITIONS.approval],
        ['GetItem', 'Query'],
      )
      .usesTableItemsIn(table, [PARTITIONS.postClaim], ['GetItem', 'PutItem'])
      .readsAndWritesObjects(buckets.artifacts, DAILY_REPORT_PREFIX)
      .usesTableItemsIn(table, [PARTITIONS.plan], ['GetItem', 'PutItem'])
      .readsObjects(buckets.artifacts, LEGACY_PLANS_PREFIX)
      .readsObjects(buckets.audit, PREFIXES.auditJsonLines)
      .readsSecret(props.botToken)
      .appendsAudit(buckets.audit, table, config.stage);
    const failureQueue = deadLetterQueueOf(
      this,
      { id: 'DailyReportFailures', name: `${props.names.prefix}-daily-report-failures` },
      'the failed daily-report invocations',
    );
    fn.configureAsyncInvoke({
      onFailure: new lambdaDestinations.SqsDestination(failureQueue),
      // A retry after a post that was kept posts nothing (the session is skipped).
      retryAttempts: 2,
      maxEventAge: Duration.minutes(60),
    });
    const { equity, crypto } = this.dailyReportSchedules(fn, props);
    return { function: fn, ...equity, failureQueue, ...(crypto ? { crypto } : {}) };
  }

  /**
   * The markets' daily-report schedules (crypto only with `cryptoReport`) and the one role
   * EventBridge Scheduler invokes post-daily-report with.
   */
  private dailyReportSchedules(
    fn: StagegateFunction,
    props: ChatOpsProps,
  ): { readonly equity: DailyReportSchedule; readonly crypto?: DailyReportSchedule } {
    const invoker = new iam.Role(this, 'DailyReportSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Lets EventBridge Scheduler invoke the ${props.config.stage} daily report`,
    });
    const schedules = stageSchedules(props.config);
    const equity = this.dailyReportSchedule(fn, invoker, props, {
      id: 'DailyReport',
      schedule: schedules.dailyReport,
      market: 'equity-usa',
    });
    const crypto = props.cryptoReport
      ? this.dailyReportSchedule(fn, invoker, props, {
          id: 'CryptoDailyReport',
          schedule: schedules.crypto.dailyReport,
          market: 'crypto',
        })
      : undefined;
    const invokePolicy = invoker.node.tryFindChild('DefaultPolicy');
    if (invokePolicy) {
      acknowledgeNag(
        invokePolicy,
        wildcardResourceFinding(invokePolicy, `${fn.functionArn}:*`),
        'The scheduler target grant (grantInvoke) covers the post-daily-report function and its qualified ARNs ("<function>:*") of that one function only; the schedules invoke the unqualified function.',
      );
    }
    return { equity, ...(crypto ? { crypto } : {}) };
  }

  /**
   * One market's daily-report schedule (`<market>` in its input, with the scheduled time) and
   * its dead-letter queue `stagegate-<stage>-[crypto-]daily-report-schedule-dlq`
   * ({@link deadLetterQueueOf}), alarmed by the workflow stack.
   */
  private dailyReportSchedule(
    fn: StagegateFunction,
    invoker: iam.Role,
    props: ChatOpsProps,
    s: { readonly id: string; readonly schedule: StageSchedule; readonly market: Market },
  ): DailyReportSchedule {
    const { config } = props;
    const deadLetterQueue = deadLetterQueueOf(
      this,
      { id: `${s.id}ScheduleDlq`, name: `${props.names.prefix}-${s.schedule.name}-schedule-dlq` },
      `the ${s.schedule.name} schedule`,
    );
    const schedule = new scheduler.Schedule(this, s.id, {
      scheduleName: s.schedule.name,
      scheduleGroup: props.scheduleGroup,
      description: `Daily report of the ${config.stage} ${s.market} session after the close (${s.schedule.expression} ${s.schedule.timezone}), to ${config.slack.channel}`,
      schedule: scheduler.ScheduleExpression.expression(
        s.schedule.expression,
        TimeZone.of(s.schedule.timezone),
      ),
      enabled: s.schedule.enabled,
      timeWindow: scheduler.TimeWindow.off(),
      target: new schedulerTargets.LambdaInvoke(fn, {
        role: invoker,
        input: scheduler.ScheduleTargetInput.fromObject({
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          market: s.market,
        }),
        deadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(60),
      }),
    });
    return { schedule, deadLetterQueue };
  }

  /** The follow-ups' failure destination: never retried, dead-lettered into an alarmed queue. */
  private followUpFailures(fn: StagegateFunction, props: ChatOpsProps): sqs.Queue {
    const queue = new sqs.Queue(this, 'FollowUpFailures', {
      queueName: `${props.names.prefix}-slack-follow-up-failures`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeNag(
      queue,
      'AwsSolutions-SQS3',
      'This queue is itself the on-failure destination (dead letters) of the slash-command follow-ups; its depth is alarmed.',
    );
    fn.configureAsyncInvoke({
      onFailure: new lambdaDestinations.SqsDestination(queue),
      // A retried cohort start would start a second cohort; Slack's response_url lives 30 min.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(15),
    });
    return queue;
  }

  /** `POST /slack/commands` (and the kill-switch clicks where no Day-3 interactivity exists). */
  private route(fn: StagegateFunction, props: ChatOpsProps): void {
    const routes = props.slackApi.addRoutes({
      path: '/slack/commands',
      methods: [HttpMethod.POST],
      integration: new integrations.HttpLambdaIntegration('SlackCommands', fn),
    });
    if (!props.interactivity) {
      routes.push(
        ...props.slackApi.addRoutes({
          path: '/slack/interactivity',
          methods: [HttpMethod.POST],
          integration: new integrations.HttpLambdaIntegration('SlackKillSwitchClicks', fn),
        }),
      );
    } else {
      // The click reaches the Day-3 interactivity function, which hands the signed request
      // as received to this function (synchronous invoke of this one function): the approval
      // door itself never gets the kill-switch write or the broker.
      props.interactivity.addEnvironment('SLACK_COMMAND_FUNCTION_NAME', fn.functionName);
      props.interactivity.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [fn.functionArn],
        }),
      );
    }
    for (const route of routes) {
      acknowledgeNag(
        route,
        'AwsSolutions-APIG4',
        'Slack cannot present AWS or JWT credentials: slack-command authenticates every request itself by the X-Slack-Signature v0 HMAC of the raw body with the signing secret and a 5-minute timestamp window (docs/chatops.md), before it reads anything.',
      );
    }
  }

  /**
   * What a kill-switch confirmation click acts through: the signing secret, the switch
   * (Get/Put), the broker (open orders canceled on engage) and the audit trail.
   */
  private servesKillSwitchClicks(fn: StagegateFunction, props: ChatOpsProps): StagegateFunction {
    return props.promotion
      .usesBroker(
        fn
          .readsSecret(props.signingSecret)
          .usesTableItemsIn(props.table, [PARTITIONS.killSwitch], ['GetItem', 'PutItem']),
      )
      .appendsAudit(props.buckets.audit, props.table, props.config.stage);
  }
}
