/**
 * The stateful stack per stage: table keys/GSI/PITR/TTL, bucket encryption, versioning,
 * Object Lock mode and retention, TLS-only policies, retention on deletion, and the Glue /
 * Athena audit catalog.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { NAMED_QUERIES } from '../../functions/core/audit/named-queries.js';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments } from '../../lib/config/environments.js';
import { logicalIdOf, type SynthesizedStage, synthStage } from './synth.js';

const built = {} as Record<Stage, SynthesizedStage>;

beforeAll(() => {
  for (const stage of STAGES) built[stage] = synthStage(stage);
});

type Resource = { Properties: Record<string, unknown>; DeletionPolicy?: string };

function bucketNamed(template: Template, purpose: string): Resource {
  const buckets = template.findResources('AWS::S3::Bucket');
  const match = Object.values(buckets).find((b) =>
    JSON.stringify(b.Properties?.BucketName ?? '').includes(`-${purpose}-`),
  );
  if (!match) throw new Error(`no bucket for ${purpose}`);
  return match as Resource;
}

describe.each(STAGES)('stateful stack (%s)', (stage) => {
  const config = environments[stage];
  const cmk = config.kms.customerManagedKey;

  it('has the single table: pk/sk, GSIs gsi1 and audit-heads, on-demand, PITR, TTL expiresAt', () => {
    // Prepare
    const { stateful } = built[stage];

    // Act / Assess
    stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: `stagegate-${stage}`,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({
          IndexName: 'audit-heads',
          KeySchema: [
            { AttributeName: 'audit_heads_pk', KeyType: 'HASH' },
            { AttributeName: 'audit_heads_sk', KeyType: 'RANGE' },
          ],
          // Never the head record itself (up to 256 KiB): only what verify compares.
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: ['seq', 'hash', 'updated_at'],
          },
        }),
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ],
    });
  });

  it(`encrypts the table with ${cmk ? 'the environment key' : 'the DynamoDB-owned key'}`, () => {
    // Prepare
    const { stateful, env } = built[stage];

    // Act
    const table = Object.values(
      stateful.findResources('AWS::DynamoDB::GlobalTable'),
    )[0] as Resource;

    // Assess
    if (cmk) {
      const keyId = logicalIdOf(env.stateful.dataKey!);
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
      expect(JSON.stringify(table.Properties.Replicas)).toContain(keyId);
    } else {
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: false });
    }
  });

  it.each(['artifacts', 'market-data', 'audit', 'athena-results'])(
    '%s bucket: public access blocked, encrypted, logged, TLS-only',
    (purpose) => {
      // Prepare
      const { stateful } = built[stage];

      // Act
      const bucket = bucketNamed(stateful, purpose);

      // Assess
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const sse = JSON.stringify(bucket.Properties.BucketEncryption);
      expect(sse).toContain(cmk ? '"SSEAlgorithm":"aws:kms"' : '"SSEAlgorithm":"AES256"');
      expect(bucket.Properties.LoggingConfiguration).toEqual(
        expect.objectContaining({ DestinationBucketName: expect.anything() }),
      );
    },
  );

  it('denies every non-TLS request on every bucket', () => {
    // Prepare
    const { stateful } = built[stage];
    const buckets = Object.keys(stateful.findResources('AWS::S3::Bucket'));

    // Act
    const policies = Object.values(stateful.findResources('AWS::S3::BucketPolicy'));
    const tlsOnly = policies.filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('"aws:SecureTransport":"false"'),
    );

    // Assess
    expect(tlsOnly).toHaveLength(buckets.length);
  });

  it(`locks audit objects in ${config.audit.objectLockMode} mode for ${config.audit.retentionDays} days and keeps the bucket`, () => {
    // Prepare
    const { stateful } = built[stage];

    // Act
    const audit = bucketNamed(stateful, 'audit');

    // Assess
    expect(audit.Properties.ObjectLockEnabled).toBe(true);
    expect(audit.Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: {
        DefaultRetention: { Mode: config.audit.objectLockMode, Days: config.audit.retentionDays },
      },
    });
    expect(audit.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(audit.DeletionPolicy).toBe('Retain');
  });

  it('versions the artifacts and market-data buckets', () => {
    // Prepare
    const { stateful } = built[stage];

    // Act / Assess
    for (const purpose of ['artifacts', 'market-data']) {
      expect(bucketNamed(stateful, purpose).Properties.VersioningConfiguration).toEqual({
        Status: 'Enabled',
      });
    }
  });

  it(`${cmk ? 'creates' : 'does not create'} a rotating customer-managed key`, () => {
    // Prepare
    const { stateful } = built[stage];

    // Act / Assess
    if (cmk) {
      stateful.resourceCountIs('AWS::KMS::Key', 1);
      stateful.hasResource('AWS::KMS::Key', {
        Properties: Match.objectLike({ EnableKeyRotation: true }),
        DeletionPolicy: 'Retain',
      });
    } else {
      stateful.resourceCountIs('AWS::KMS::Key', 0);
    }
  });

  it('declares both audit layouts with partition projection for this environment only', () => {
    // Prepare
    const { stateful } = built[stage];

    // Act / Assess
    stateful.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: `stagegate_${stage}`,
      TableInput: Match.objectLike({
        Name: 'audit_jsonl',
        PartitionKeys: [
          Match.objectLike({ Name: 'env' }),
          Match.objectLike({ Name: 'dt' }),
          Match.objectLike({ Name: 'hour' }),
        ],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.env.type': 'enum',
          'projection.env.values': stage,
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': Match.objectLike({
            'Fn::Join': ['', Match.arrayWith([`/audit/env=\${env}/dt=\${dt}/hour=\${hour}/`])],
          }),
        }),
        StorageDescriptor: Match.objectLike({
          SerdeInfo: Match.objectLike({
            SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
          }),
          Columns: Match.arrayWith([
            Match.objectLike({ Name: 'seq', Type: 'bigint' }),
            Match.objectLike({
              Name: 'subject',
              Type: Match.stringLikeRegexp('^struct<cohort_id:string,'),
            }),
          ]),
        }),
      }),
    });
    stateful.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'audit_parquet',
        PartitionKeys: [Match.objectLike({ Name: 'env' }), Match.objectLike({ Name: 'dt' })],
        Parameters: Match.objectLike({
          'projection.env.values': stage,
          'storage.location.template': Match.objectLike({
            'Fn::Join': ['', Match.arrayWith([`/audit-parquet/env=\${env}/dt=\${dt}/`])],
          }),
        }),
        StorageDescriptor: Match.objectLike({
          SerdeInfo: Match.objectLike({
            SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
          }),
        }),
      }),
    });
  });

  it('defines the audit view over both tables in Athena view format', () => {
    // Prepare
    const { stateful } = built[stage];
    const views = Object.values(stateful.findResources('AWS::Glue::Table')).filter(
      (t) => t.Properties.TableInput.TableType === 'VIRTUAL_VIEW',
    );

    // Act
    const text = String(views[0]?.Properties.TableInput.ViewOriginalText);
    const encoded = /^\/\* Presto View: (.+) \*\/$/.exec(text)?.[1] ?? '';
    const definition = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as {
      originalSql: string;
      schema: string;
      columns: { name: string; type: string }[];
    };

    // Assess
    expect(views).toHaveLength(1);
    expect(views[0]?.Properties.TableInput.Name).toBe('audit');
    expect(definition.schema).toBe(`stagegate_${stage}`);
    expect(definition.originalSql).toContain(`"stagegate_${stage}"."audit_jsonl"`);
    expect(definition.originalSql).toContain(`"stagegate_${stage}"."audit_parquet"`);
    expect(definition.columns).toContainEqual({
      name: 'subject',
      type: 'row(cohort_id varchar, agent_id varchar, genome_id varchar, promotion_id varchar, order_id varchar, execution_id varchar)',
    });
  });

  it('enforces the Athena workgroup result location and bytes-scanned cutoff', () => {
    // Prepare
    const { stateful, env } = built[stage];
    const resultsBucket = logicalIdOf(env.stateful.audit.resultsBucket);

    // Act / Assess
    stateful.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: `stagegate-${stage}`,
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
        ResultConfiguration: Match.objectLike({
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: resultsBucket }, '/results/']] },
          EncryptionConfiguration: Match.objectLike({
            EncryptionOption: cmk ? 'SSE_KMS' : 'SSE_S3',
          }),
        }),
      }),
    });
  });

  it('registers every named query in the workgroup, against the audit view', () => {
    // Prepare
    const { stateful } = built[stage];

    // Act
    const queries = Object.values(stateful.findResources('AWS::Athena::NamedQuery'));

    // Assess
    expect(queries).toHaveLength(NAMED_QUERIES.length);
    for (const q of queries) {
      expect(q.Properties.WorkGroup).toBe(`stagegate-${stage}`);
      expect(q.Properties.Database).toBe(`stagegate_${stage}`);
      expect(q.Properties.QueryString).toMatch(/FROM audit\b/);
    }
  });
});

describe('removal policies', () => {
  it('prod retains the table (with deletion protection), every bucket and the key', () => {
    // Prepare
    const { stateful } = built.prod;

    // Act
    const retained = (type: string) =>
      Object.values(stateful.findResources(type)).every((r) => r.DeletionPolicy === 'Retain');

    // Assess
    expect(retained('AWS::DynamoDB::GlobalTable')).toBe(true);
    expect(retained('AWS::S3::Bucket')).toBe(true);
    expect(retained('AWS::KMS::Key')).toBe(true);
    stateful.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({ DeletionProtectionEnabled: true })],
    });
  });

  it('dev deletes the table and non-audit buckets but still keeps the audit bucket', () => {
    // Prepare
    const { stateful } = built.dev;

    // Act
    const table = Object.values(stateful.findResources('AWS::DynamoDB::GlobalTable'))[0];
    const artifacts = bucketNamed(stateful, 'artifacts');
    const audit = bucketNamed(stateful, 'audit');

    // Assess
    expect(table?.DeletionPolicy).toBe('Delete');
    expect(artifacts.DeletionPolicy).toBe('Delete');
    expect(audit.DeletionPolicy).toBe('Retain');
  });
});
