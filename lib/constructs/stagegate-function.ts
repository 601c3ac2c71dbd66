/**
 * The house Lambda function: a NodejsFunction with fixed defaults and intent-revealing,
 * least-privilege grant methods.
 *
 * Fixed: nodejs22.x on arm64, runtime updates on `Auto`, X-Ray tracing active, an explicit log
 * group with retention, ESM bundle with the AWS SDK inside (see {@link BUNDLE_SETTINGS}),
 * source maps on, Powertools environment. The
 * execution role is created here with no managed policy; the runtime's own needs (log group,
 * X-Ray) sit in the role's default policy and every data grant goes into a separate
 * `DataAccess` policy, so a wildcard acknowledgement for X-Ray can never hide a data grant.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, RuntimeManagementMode, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { Stage } from '../config/environment-config.js';
import { PARTITIONS, PREFIXES } from '../config/naming.js';
import { LOCK_FILE, REPO_ROOT } from '../paths.js';
import { nodejsBundlingOptions, RUNTIME_NODE_OPTIONS } from './bundling.js';
import { acknowledgeNag, STAR_RESOURCE_FINDING, wildcardResourceFinding } from './nag.js';

export interface StagegateFunctionProps {
  /** Absolute path of the handler's TypeScript entry (must export `handler`). */
  readonly entry: string;
  readonly stage: Stage;
  /** POWERTOOLS_SERVICE_NAME, e.g. `run-cohort`. */
  readonly serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE, e.g. `stagegate/dev`. */
  readonly metricsNamespace: string;
  /** POWERTOOLS_LOG_LEVEL. */
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Retention of the function's log group. */
  readonly logRetention: RetentionDays;
  /** What happens to the log group on stack deletion. @default RemovalPolicy.DESTROY */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Extra environment variables (merged over the Powertools ones). */
  readonly environment?: Readonly<Record<string, string>>;
  readonly description?: string;
}

/** Actions a reader of an S3 key prefix needs; ListBucket makes a missing key a 404, not a 403. */
const S3_READ = ['s3:GetObject'] as const;
const S3_WRITE = ['s3:PutObject'] as const;

/** DynamoDB item-level actions a function may be granted (no table management, no delete). */
export type DynamoItemAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'Scan'
  | 'PutItem'
  | 'UpdateItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem';

const DYNAMODB_WRITE_ACTIONS = [
  'PutItem',
  'UpdateItem',
  'BatchWriteItem',
  'ConditionCheckItem',
] as const satisfies readonly DynamoItemAction[];

/** Environment variable carrying the Alpaca market-data secret's ARN (`readsLiveMarketData`). */
export const ALPACA_DATA_SECRET_ARN_ENV = 'ALPACA_DATA_SECRET_ARN';

export class StagegateFunction extends NodejsFunction {
  /** The execution role (no managed policies). */
  public readonly executionRole: iam.Role;
  private dataAccess?: iam.Policy;
  private readonly secretsRead = new Set<ISecret>();

  constructor(scope: Construct, id: string, props: StagegateFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      logGroupName: `/stagegate/${props.stage}/functions/${props.serviceName}`,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.stage} ${props.serviceName} function`,
    });
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      /**
       * Auto: Lambda applies each runtime version (Node and OS patches) as AWS releases it.
       * Safe because the function never uses the runtime's AWS SDK (it is bundled, see
       * BUNDLE_SETTINGS.external), so a runtime update cannot change the SDK the tests ran.
       * Not `manual(arn)`: AWS documents a pinned runtime version as a temporary rollback
       * only (docs/deploy.md, "AWS SDK version"). Asserted by test/infra/sdk-version.test.ts.
       */
      runtimeManagementMode: RuntimeManagementMode.AUTO,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      description: props.description,
      role,
      logGroup,
      projectRoot: REPO_ROOT,
      depsLockFilePath: LOCK_FILE,
      bundling: nodejsBundlingOptions(),
      environment: {
        STAGE: props.stage,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        NODE_OPTIONS: RUNTIME_NODE_OPTIONS,
        ...props.environment,
      },
    });
    this.executionRole = role;
    logGroup.grantWrite(role);

    const defaultPolicy = role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      acknowledgeNag(
        defaultPolicy,
        STAR_RESOURCE_FINDING,
        'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) has no resource-level permissions: AWS requires Resource "*". Data grants live in the separate DataAccess policy.',
      );
    }
  }

  /** The policy holding every data grant (created on first use). */
  private dataPolicy(): iam.Policy {
    this.dataAccess ??= new iam.Policy(this, 'DataAccess', { roles: [this.executionRole] });
    return this.dataAccess;
  }

  private allow(
    actions: readonly string[],
    resources: string[],
    conditions?: iam.Conditions,
  ): void {
    this.dataPolicy().addStatements(
      new iam.PolicyStatement({ actions: [...actions], resources, conditions }),
    );
  }

  private allowKey(
    key: kms.IKey | undefined,
    service: 's3' | 'dynamodb' | 'secretsmanager',
    actions: string[],
  ): void {
    if (!key) return;
    this.allow(actions, [key.keyArn], {
      StringEquals: { 'kms:ViaService': `${service}.${Stack.of(this).region}.amazonaws.com` },
    });
  }

  private allowObjects(
    bucket: IBucket,
    keyPrefix: string,
    actions: readonly string[],
    why: string,
  ) {
    const prefix = keyPrefix.replace(/\/+$/, '');
    const objects = bucket.arnForObjects(prefix === '' ? '*' : `${prefix}/*`);
    this.allow(actions, [objects]);
    acknowledgeNag(
      this.dataPolicy(),
      wildcardResourceFinding(this, objects),
      prefix === ''
        ? `S3 object permissions need an object ARN; the bucket is dedicated to the objects this function ${why}, so "<bucket>/*" is the narrowest ARN.`
        : `S3 object permissions are granted on a key prefix; "${prefix}/*" is the narrowest ARN that covers the objects this function ${why}.`,
    );
  }

  /**
   * Read objects under `keyPrefix` (s3:GetObject) and list the bucket (so a missing key is a
   * 404, which the handlers map to a named error); kms:Decrypt via S3 when the bucket has a key.
   */
  public readsObjects(bucket: IBucket, keyPrefix: string): this {
    this.allowObjects(bucket, keyPrefix, S3_READ, 'reads');
    this.allow(['s3:ListBucket'], [bucket.bucketArn]);
    this.allowKey(bucket.encryptionKey, 's3', ['kms:Decrypt']);
    return this;
  }

  /**
   * Create objects under `keyPrefix` (s3:PutObject only: no delete, no overwrite-protection
   * bypass); kms:GenerateDataKey + kms:Decrypt (multipart uploads) via S3 when the bucket has a key.
   */
  public writesObjects(bucket: IBucket, keyPrefix: string): this {
    this.allowObjects(bucket, keyPrefix, S3_WRITE, 'writes');
    this.allowKey(bucket.encryptionKey, 's3', ['kms:GenerateDataKey', 'kms:Decrypt']);
    return this;
  }

  /** {@link readsObjects} and {@link writesObjects} on the same prefix. */
  public readsAndWritesObjects(bucket: IBucket, keyPrefix: string): this {
    return this.readsObjects(bucket, keyPrefix).writesObjects(bucket, keyPrefix);
  }

  /**
   * Exactly the listed item actions on the table (and on the named indexes for Query/Scan);
   * with a customer-managed key, kms:Decrypt/DescribeKey (+ Encrypt/GenerateDataKey when an
   * action writes) via DynamoDB.
   */
  public usesTableItems(
    table: ITableV2,
    actions: readonly DynamoItemAction[],
    indexNames: readonly string[] = [],
  ): this {
    const indexed = actions.some((a) => a === 'Query' || a === 'Scan');
    this.allow(
      actions.map((a) => `dynamodb:${a}`),
      [
        table.tableArn,
        ...(indexed ? indexNames.map((name) => `${table.tableArn}/index/${name}`) : []),
      ],
    );
    const writes = actions.some((a) => (DYNAMODB_WRITE_ACTIONS as readonly string[]).includes(a));
    this.allowKey(
      table.encryptionKey,
      'dynamodb',
      writes
        ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']
        : ['kms:Decrypt', 'kms:DescribeKey'],
    );
    return this;
  }

  /**
   * Exactly the listed item actions, and only on items whose partition key matches one of
   * `partitions` (IAM fine-grained access: `ForAllValues:StringLike` on
   * `dynamodb:LeadingKeys`, patterns from {@link PARTITIONS}, e.g. `PROMOTION#*`). Items
   * written inside `TransactWriteItems` are authorised as PutItem/UpdateItem/ConditionCheckItem
   * on their own keys, so the same condition covers them. KMS grants as {@link usesTableItems}.
   *
   * @throws Error when `partitions` is empty (that would be an unconditioned grant).
   */
  public usesTableItemsIn(
    table: ITableV2,
    partitions: readonly string[],
    actions: readonly DynamoItemAction[],
  ): this {
    if (partitions.length === 0) {
      throw new Error(`${this.node.path}: usesTableItemsIn needs at least one partition pattern`);
    }
    if (actions.includes('Scan')) {
      throw new Error(
        `${this.node.path}: Scan carries no leading key; grant it without a condition`,
      );
    }
    this.allow(
      actions.map((a) => `dynamodb:${a}`),
      [table.tableArn],
      { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...partitions] } },
    );
    const writes = actions.some((a) => (DYNAMODB_WRITE_ACTIONS as readonly string[]).includes(a));
    this.allowKey(
      table.encryptionKey,
      'dynamodb',
      writes
        ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']
        : ['kms:Decrypt', 'kms:DescribeKey'],
    );
    return this;
  }

  /**
   * dynamodb:Query on one index (only the index ARN, not the table). No `LeadingKeys`
   * condition: a Query on an index carries the index's partition key, and the grant must not
   * depend on how IAM maps it; the index holds only projections of items the function may
   * read anyway (see docs/deploy.md, cdk-nag acknowledgements).
   */
  public queriesIndex(table: ITableV2, indexName: string): this {
    this.allow(['dynamodb:Query'], [`${table.tableArn}/index/${indexName}`]);
    this.allowKey(table.encryptionKey, 'dynamodb', ['kms:Decrypt', 'kms:DescribeKey']);
    return this;
  }

  /**
   * states:DescribeExecution on the executions of ONE state machine (`execution:<name>:*`), and
   * nothing else of it: what a redelivered approval reads the Day-3 execution with when its
   * re-sent resume is refused (functions/adapters/sfn/sfn-executions.ts). By name, so the grant
   * needs no reference to the state machine (no dependency cycle with the functions it runs).
   */
  public describesExecutionsOf(stateMachineName: string): this {
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.allow(['states:DescribeExecution'], [executions]);
    acknowledgeNag(
      this.dataPolicy(),
      wildcardResourceFinding(this, executions),
      `DescribeExecution is granted on execution ARNs; the execution a redelivered approval reads is named at run time, so "${stateMachineName}:*" is the narrowest ARN: that one state machine's executions, describe only.`,
    );
    return this;
  }

  /**
   * secretsmanager:GetSecretValue on exactly this secret (its full ARN), and kms:Decrypt via
   * Secrets Manager when the secret has a customer-managed key.
   */
  public readsSecret(secret: ISecret): this {
    // One grant per secret (the Alpaca secret serves both the broker and the market data).
    if (this.secretsRead.has(secret)) return this;
    this.secretsRead.add(secret);
    this.allow(['secretsmanager:GetSecretValue'], [secret.secretArn]);
    this.allowKey(secret.encryptionKey, 'secretsmanager', ['kms:Decrypt']);
    return this;
  }

  /**
   * What reading the session in progress from Alpaca needs (`functions/composition/
   * live-market-data.ts`): `ALPACA_DATA_SECRET_ARN` (the ARN, never a key) and `ALPACA_DATA_FEED`
   * in the environment, and GetSecretValue on that one secret (plus kms:Decrypt with a
   * customer-managed key).
   */
  public readsLiveMarketData(secret: ISecret, feed: 'iex' | 'sip'): this {
    this.addEnvironment(ALPACA_DATA_SECRET_ARN_ENV, secret.secretArn);
    this.addEnvironment('ALPACA_DATA_FEED', feed);
    return this.readsSecret(secret);
  }

  /**
   * What appending to the hash-chained audit trail needs (`functions/adapters/audit/
   * s3-audit-sink.ts`): HeadObject (s3:GetObject) and PutObject under `audit/env=<stage>/`,
   * PutObject of rejected drafts under `audit-dead-letter/env=<stage>/`, and GetItem +
   * conditional UpdateItem of the stream heads and their idempotency-key items
   * (`AUDIT_STREAM#*` items only; a keyed append's TransactWriteItems is two UpdateItems,
   * which IAM authorizes as such).
   */
  public appendsAudit(bucket: IBucket, table: ITableV2, stage: Stage): this {
    return this.readsAndWritesObjects(bucket, `${PREFIXES.auditJsonLines}/env=${stage}`)
      .writesObjects(bucket, `${PREFIXES.auditDeadLetter}/env=${stage}`)
      .usesTableItemsIn(table, [PARTITIONS.auditStream], ['GetItem', 'UpdateItem']);
  }

  /** Get/batch-get/query items of the table and of the named indexes (no `index/*`). */
  public readsTableItems(table: ITableV2, indexNames: readonly string[] = []): this {
    return this.usesTableItems(table, ['GetItem', 'BatchGetItem', 'Query'], indexNames);
  }

  /** Put/update/batch-write/condition-check items (no reads, no deletes). */
  public writesTableItems(table: ITableV2): this {
    return this.usesTableItems(table, DYNAMODB_WRITE_ACTIONS);
  }
}
