/**
 * Everything that holds data: the single DynamoDB table, the S3 buckets (artifacts, market
 * data, audit, Athena results, access logs), the environment's KMS key, and the Glue/Athena
 * audit catalog. Removal follows `config.removalPolicy`, except the audit bucket and the KMS
 * key, which are always retained (locked audit objects outlive the stack, and they stay
 * readable only while their key exists).
 */
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { type ResourceNames, resourceNames } from '../config/naming.js';
import { AuditStore } from '../constructs/audit-store.js';
import { DataBucket } from '../constructs/data-bucket.js';

export interface StatefulStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** Name of the table's only global secondary index. */
export const GSI1 = 'gsi1';

export class StatefulStack extends Stack {
  public readonly config: EnvironmentConfig;
  public readonly names: ResourceNames;
  /** The environment's customer-managed key (staging/prod); undefined in dev. */
  public readonly dataKey?: kms.Key;
  public readonly table: dynamodb.TableV2;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly artifactsBucket: s3.Bucket;
  public readonly marketDataBucket: s3.Bucket;
  public readonly audit: AuditStore;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    this.names = resourceNames(config.stage);
    const removalPolicy =
      config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    if (config.kms.customerManagedKey) {
      this.dataKey = new kms.Key(this, 'DataKey', {
        alias: `alias/${this.names.prefix}-data`,
        description: `stagegate ${config.stage}: data at rest (table, buckets, alarm topic)`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // CloudWatch alarms publish to the KMS-encrypted alarm topic.
      this.dataKey.addToResourcePolicy(
        new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
        }),
      );
    }

    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: this.names.table,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [
        {
          indexName: GSI1,
          partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
        },
      ],
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      encryption: this.dataKey
        ? dynamodb.TableEncryptionV2.customerManagedKey(this.dataKey)
        : dynamodb.TableEncryptionV2.dynamoOwnedKey(),
      deletionProtection: config.removalPolicy === 'retain',
      removalPolicy,
    });

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      bucketName: this.names.bucket('access-logs'),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Server access log delivery only supports SSE-S3 on the target bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      lifecycleRules: [{ expiration: Duration.days(config.logs.accessLogRetentionDays) }],
      removalPolicy,
    });

    this.artifactsBucket = new DataBucket(this, 'Artifacts', {
      bucketName: this.names.bucket('artifacts'),
      encryptionKey: this.dataKey,
      accessLogsBucket: this.accessLogsBucket,
      removalPolicy,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
    }).bucket;

    this.marketDataBucket = new DataBucket(this, 'MarketData', {
      bucketName: this.names.bucket('market-data'),
      encryptionKey: this.dataKey,
      accessLogsBucket: this.accessLogsBucket,
      removalPolicy,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(7) }],
    }).bucket;

    this.audit = new AuditStore(this, 'AuditStore', {
      config,
      names: this.names,
      encryptionKey: this.dataKey,
      accessLogsBucket: this.accessLogsBucket,
      removalPolicy,
    });
  }
}
