/**
 * The house S3 bucket: public access blocked, TLS 1.2+ only, encrypted (customer-managed KMS
 * key with an S3 bucket key when given, SSE-S3 otherwise), server access logs to the
 * environment's log bucket, object ownership enforced.
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface DataBucketProps {
  /** Physical bucket name (see `resourceNames(stage).bucket`). */
  readonly bucketName: string;
  /** Customer-managed key; absent = SSE-S3. */
  readonly encryptionKey?: kms.IKey;
  /** Target of server access logs (required: every data bucket is logged). */
  readonly accessLogsBucket: s3.IBucket;
  readonly removalPolicy: RemovalPolicy;
  /** @default true */
  readonly versioned?: boolean;
  /** Object Lock default retention; enables Object Lock (and versioning) when set. */
  readonly objectLockDefaultRetention?: s3.ObjectLockRetention;
  readonly lifecycleRules?: s3.LifecycleRule[];
}

export class DataBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataBucketProps) {
    super(scope, id);
    const objectLock = props.objectLockDefaultRetention !== undefined;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      ...(props.encryptionKey
        ? {
            encryption: s3.BucketEncryption.KMS,
            encryptionKey: props.encryptionKey,
            bucketKeyEnabled: true,
          }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      versioned: objectLock || (props.versioned ?? true),
      objectLockEnabled: objectLock || undefined,
      objectLockDefaultRetention: props.objectLockDefaultRetention,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: `${id.toLowerCase()}/`,
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(7) },
        ...(props.lifecycleRules ?? []),
      ],
      removalPolicy: props.removalPolicy,
    });
  }
}
