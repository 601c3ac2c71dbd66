/**
 * The operator console of one environment (issue 14, docs/console.md): a Cognito user pool
 * with the groups `viewer`, `operator` and `risk` (no self sign-up, MFA required, strong
 * passwords), its managed sign-in domain and a public app client (authorization code grant
 * with PKCE, redirecting only to the console's URL), the pages on S3 + CloudFront with `/api/*`
 * on the same origin ({@link ConsoleHosting}), and an API Gateway HTTP API whose `ANY /api/{proxy+}` route is
 * guarded by a JWT authorizer on that pool and served by the console-api function (the same
 * handler the local console server runs). The function reads roles from the token's
 * `cognito:groups` claim, so a user in no group can read nothing.
 *
 * Grants (least privilege): gsi1 queries (cohort, promotion and approval listings); cohort,
 * promotion, approval and kill-switch items; the artifacts (simulation documents) and audit
 * objects for reading; audit appends; the kill-switch write and the broker's order
 * cancellation (engaging the switch cancels open orders); `states:StartExecution` on the
 * intraday-cohort state machine (`cohort start`, a partial cohort); with the Day-3 go/no-go deployed, the
 * approval key secret and the task-token response of its state machine (decisions from the
 * console). Users are created by an administrator (`aws cognito-idp admin-create-user`,
 * `admin-add-user-to-group`), docs/deploy.md.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PARTITIONS, PREFIXES, type ResourceNames } from '../config/naming.js';
import { chatOpsConfigOf } from '../config/runtime-env.js';
import { CONSOLE_OUTPUTS } from '../console-files.js';
import { CONSOLE_HANDLERS } from '../handlers.js';
import { LEGACY_PLANS_PREFIX } from './chat-ops.js';
import { ConsoleHosting } from './console-hosting.js';
import type { Day3GoNoGo } from './day3-go-no-go.js';
import type { FunctionFactory, PromotionPipeline } from './promotion-pipeline.js';
import type { StagegateFunction } from './stagegate-function.js';

/** The console roles, one Cognito group each. */
export const CONSOLE_GROUPS = ['viewer', 'operator', 'risk'] as const;

export interface OperatorConsoleProps {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly table: ITableV2;
  /** The table's `gsi1` (cohorts, promotions, approvals listings). */
  readonly indexName: string;
  readonly buckets: {
    readonly artifacts: IBucket;
    readonly audit: IBucket;
    /** Read for the paper-session price chart (the session's minute bars). */
    readonly marketData: IBucket;
  };
  /** The promotion pipeline: its broker settings and grants serve the kill switch. */
  readonly promotion: PromotionPipeline;
  /** The intraday-cohort state machine: `cohort start` (a partial cohort) starts it. */
  readonly intradayCohort: IStateMachine;
  /** The Day-3 go/no-go, when deployed: approval decisions from the console. */
  readonly day3?: Day3GoNoGo;
  /** The approval key secret (with `day3`). */
  readonly approvalKey?: ISecret;
  /**
   * The Slack bot token secret (with `day3`): a console signature updates the Slack approval
   * message (`chat.update`). Only this secret: never the Slack signing secret.
   */
  readonly slackBotToken?: ISecret;
  readonly newFunction: FunctionFactory;
}

export class OperatorConsole extends Construct {
  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  /** The Cognito managed sign-in (authorization code with PKCE). */
  public readonly signInDomain: cognito.UserPoolDomain;
  /** The pages: S3 + CloudFront, `/api/*` on the same origin. */
  public readonly hosting: ConsoleHosting;
  public readonly api: apigwv2.HttpApi;
  /**
   * The console's page URL (HTTPS, trailing slash), which messages link to: the CloudFront
   * distribution that serves the pages with `/api/*` on the same origin (`ConsoleHosting.url`).
   */
  public get url(): string {
    return this.hosting.url;
  }
  public readonly function: StagegateFunction;

  constructor(scope: Construct, id: string, props: OperatorConsoleProps) {
    super(scope, id);
    const { config, names } = props;
    const stage = config.stage;
    const removalPolicy =
      config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.userPool = this.buildUserPool(props, removalPolicy);
    // The managed sign-in's domain prefix, unique per region: the stage's prefix and the account.
    const domainPrefix = `${names.prefix}-${Aws.ACCOUNT_ID}`;
    this.signInDomain = this.userPool.addDomain('SignIn', { cognitoDomain: { domainPrefix } });

    const fn = this.buildFunction(props);
    this.function = fn;

    this.api = new apigwv2.HttpApi(this, 'ConsoleApi', {
      apiName: `${names.prefix}-console`,
      description: `stagegate ${stage}: operator console API`,
      createDefaultStage: false,
    });
    this.addDefaultStage(props, removalPolicy);
    const signInUrl = this.signInDomain.baseUrl();
    this.hosting = new ConsoleHosting(this, 'Pages', { config, names, api: this.api, signInUrl });
    this.userPoolClient = this.signInClient(names, this.hosting.url);
    const authorizer = new authorizers.HttpUserPoolAuthorizer('ConsoleJwt', this.userPool, {
      userPoolClients: [this.userPoolClient],
    });
    this.api.addRoutes({
      path: '/api/{proxy+}',
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.HEAD, apigwv2.HttpMethod.POST],
      integration: new integrations.HttpLambdaIntegration('ConsoleApiIntegration', fn),
      authorizer,
    });
  }

  /** The console's user pool (MFA required, no self sign-up) and one group per console role. */
  private buildUserPool(
    props: OperatorConsoleProps,
    removalPolicy: RemovalPolicy,
  ): cognito.UserPool {
    const { names } = props;
    const stage = props.config.stage;
    const userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: `${names.prefix}-console`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy,
    });
    for (const group of CONSOLE_GROUPS) {
      new cognito.CfnUserPoolGroup(this, `Group-${group}`, {
        userPoolId: userPool.userPoolId,
        groupName: group,
        description: `stagegate ${stage} console role ${group}`,
      });
    }
    return userPool;
  }

  /**
   * The console API function with its environment and grants: the read model, the approval,
   * kill-switch and plan writes, the broker, the audit trail, `cohort start`, and (with Day 3)
   * the approval key and the task-token answer.
   */
  private buildFunction(props: OperatorConsoleProps): StagegateFunction {
    const { config, table, buckets, promotion } = props;
    const stage = config.stage;
    const env: Record<string, string> = {
      ...promotion.brokerEnvironment,
      INTRADAY_COHORT_STATE_MACHINE_ARN: props.intradayCohort.stateMachineArn,
      // The plan routes: the stage's bankroll limits, gates and leverage policy.
      CHATOPS_CONFIG_JSON: JSON.stringify(chatOpsConfigOf(config)),
    };
    if (props.day3 && props.approvalKey && props.slackBotToken) {
      Object.assign(env, {
        TASK_TOKEN_MODE: 'aws',
        SECRETS_MODE: 'secrets-manager',
        APPROVAL_KEY_SECRET_ID: props.approvalKey.secretArn,
        // A console signature updates the Slack request (docs/approval.md); token never logged.
        NOTIFIER: 'slack',
        SLACK_CHANNEL: config.slack.channel,
        SLACK_BOT_TOKEN_SECRET_ID: props.slackBotToken.secretArn,
        APPROVAL_BASE_URL: props.day3.api.apiEndpoint,
      });
    }
    const fn = promotion
      .usesBroker(
        props
          .newFunction(this, 'consoleApi', CONSOLE_HANDLERS.consoleApi, env)
          .queriesIndex(table, props.indexName)
          .usesTableItemsIn(table, [PARTITIONS.cohort], ['GetItem', 'Query'])
          .usesTableItemsIn(table, [PARTITIONS.promotion], ['GetItem', 'Query'])
          .usesTableItemsIn(table, [PARTITIONS.approval], ['GetItem', 'UpdateItem'])
          .usesTableItemsIn(table, [PARTITIONS.killSwitch], ['GetItem', 'PutItem'])
          // Micro-live slices and their leverage decisions: read only.
          .usesTableItemsIn(table, [PARTITIONS.microLive], ['GetItem', 'Query'])
          // Engaging the kill switch flattens the running paper sessions: their books.
          .usesTableItemsIn(table, [PARTITIONS.sessionBook], ['Query'])
          // The plan routes: the plan item (conditional puts: compare-and-set).
          .usesTableItemsIn(table, [PARTITIONS.plan], ['GetItem', 'PutItem'])
          // The pre-migration plan object: read once, to move it to the item.
          .readsObjects(buckets.artifacts, LEGACY_PLANS_PREFIX)
          .readsObjects(buckets.artifacts, PREFIXES.cohortArtifacts)
          .readsObjects(buckets.marketData, PREFIXES.marketData)
          .readsObjects(buckets.audit, PREFIXES.auditJsonLines),
      )
      .appendsAudit(buckets.audit, table, stage);
    // `cohort start`: StartExecution on the intraday-cohort state machine only.
    props.intradayCohort.grantStartExecution(fn);
    if (props.day3 && props.approvalKey && props.slackBotToken) {
      fn.readsSecret(props.approvalKey).readsSecret(props.slackBotToken);
      props.day3.stateMachine.grantTaskResponse(fn);
      // A repeated decision whose re-sent answer is refused reads the Day-3 execution.
      fn.describesExecutionsOf(props.names.day3StateMachine);
    }
    return fn;
  }

  /** The API's `$default` stage: auto-deployed, throttled, access-logged (refusals included). */
  private addDefaultStage(props: OperatorConsoleProps, removalPolicy: RemovalPolicy): void {
    const { config } = props;
    const stage = config.stage;
    const accessLogs = new logs.LogGroup(this, 'ConsoleApiAccessLogs', {
      logGroupName: `/stagegate/${stage}/console-api/access`,
      retention: config.logs.retentionDays as logs.RetentionDays,
      removalPolicy,
    });
    this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // Requests the authorizer refuses never reach the function: they are recorded here.
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            user: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
      throttle: { rateLimit: 20, burstLimit: 40 },
    });
  }

  /** The app client of the managed sign-in and the sign-in outputs. */
  private signInClient(names: ResourceNames, url: string): cognito.UserPoolClient {
    // Sign-in: the authorization code grant with PKCE (a public client, no secret) through the
    // Cognito managed login, redirecting only to the console's own URL.
    const client = this.userPool.addClient('ConsoleClient', {
      userPoolClientName: `${names.prefix}-console`,
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [url],
        logoutUrls: [url],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      idTokenValidity: Duration.hours(8),
      accessTokenValidity: Duration.hours(8),
      preventUserExistenceErrors: true,
    });
    const output = (logicalId: string, value: string, description: string) => {
      new CfnOutput(this, logicalId, { value, description }).overrideLogicalId(logicalId);
    };
    output(CONSOLE_OUTPUTS.signInUrl, this.signInDomain.baseUrl(), 'Cognito sign-in base URL');
    output(CONSOLE_OUTPUTS.clientId, client.userPoolClientId, 'Console app client');
    output(CONSOLE_OUTPUTS.userPoolId, this.userPool.userPoolId, 'Console user pool');
    return client;
  }
}
