/**
 * The audit store: an Object-Locked, versioned, encrypted bucket for the hash-chained audit
 * records, the Glue catalog that describes its two layouts (JSON-lines as written, Parquet
 * as compacted) with partition projection, and an Athena workgroup (enforced result location,
 * bytes-scanned cutoff) holding the named audit queries.
 *
 * Layouts (contract with `record-audit` and the compactor):
 * - `audit/env={stage}/dt={yyyy-MM-dd}/hour={HH}/...` JSON lines (OpenX JSON SerDe);
 * - `audit-parquet/env={stage}/dt={yyyy-MM-dd}/...` Parquet.
 */
import { Aws, CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { NAMED_QUERIES } from '../../functions/core/audit/named-queries.js';
import { AUDIT_COLUMNS, AUDIT_VIEW_COLUMNS } from '../../functions/core/audit/table-schema.js';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { auditBucketName, PREFIXES, type ResourceNames } from '../config/naming.js';
import { DataBucket } from './data-bucket.js';

/** Glue columns of one stored audit record (both layouts), from the shared table schema. */
const GLUE_COLUMNS: glue.CfnTable.ColumnProperty[] = AUDIT_COLUMNS.map((c) => ({
  name: c.name,
  type: c.glue,
  comment: c.comment,
}));

/**
 * Glue/Hive type string -> Trino type string, as Athena stores it in a view definition
 * (`int` -> `integer`, `string` -> `varchar`, `struct<a:string>` -> `row(a varchar)`).
 */
export function trinoType(hive: string): string {
  const t = hive.trim();
  const struct = /^struct<(.*)>$/i.exec(t);
  if (struct) {
    const fields = (struct[1] ?? '').split(',').map((f) => {
      const [name = '', type = ''] = f.split(':');
      return `${name.trim()} ${trinoType(type)}`;
    });
    return `row(${fields.join(', ')})`;
  }
  const scalar: Record<string, string> = { int: 'integer', string: 'varchar' };
  return scalar[t.toLowerCase()] ?? t.toLowerCase();
}

/**
 * SQL of the `audit` view: both layouts, each record once per (env, dt, id), the Parquet copy
 * preferred. Same shape as the local DuckDB view (`local/audit/duckdb.ts`).
 */
export function auditViewSql(database: string, jsonTable: string, parquetTable: string): string {
  const cols = AUDIT_VIEW_COLUMNS.map((c) => `"${c}"`).join(', ');
  return [
    `SELECT ${cols} FROM (`,
    `  SELECT ${cols}, row_number() OVER (PARTITION BY "env", "dt", "id" ORDER BY src) AS rn FROM (`,
    `    SELECT ${cols}, 0 AS src FROM "${database}"."${parquetTable}"`,
    '    UNION ALL',
    `    SELECT ${cols}, 1 AS src FROM "${database}"."${jsonTable}"`,
    '  ) u',
    ') d WHERE rn = 1',
  ].join('\n');
}

export interface AuditStoreProps {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly encryptionKey?: kms.IKey;
  readonly accessLogsBucket: s3.IBucket;
  /** Applied to the Athena results bucket and the catalog; the audit bucket is always retained. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The partition projections of the audit tables: `dt` (UTC dates from the configured start
 * date to now, daily) and `env` (this stage only).
 */
function partitionProjections(config: AuditStoreProps['config']): Projections {
  const dtProjection = {
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `${config.audit.projectionStartDate},NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
  };
  const envProjection = {
    'projection.env.type': 'enum',
    'projection.env.values': config.stage,
  };
  return { dt: dtProjection, env: envProjection };
}

type Projections = { readonly dt: Record<string, string>; readonly env: Record<string, string> };

export class AuditStore extends Construct {
  /** Object-Locked audit bucket (always RETAIN: locked objects cannot be deleted anyway). */
  public readonly bucket: s3.Bucket;
  /** Athena query results (expire after `logs.accessLogRetentionDays`). */
  public readonly resultsBucket: s3.Bucket;
  public readonly database: glue.CfnDatabase;
  public readonly jsonTable: glue.CfnTable;
  public readonly parquetTable: glue.CfnTable;
  /** Athena view `audit` over both tables (what the named queries read). */
  public readonly view: glue.CfnTable;
  public readonly workgroup: athena.CfnWorkGroup;
  public readonly namedQueries: athena.CfnNamedQuery[];

  constructor(scope: Construct, id: string, props: AuditStoreProps) {
    super(scope, id);
    const { config, names } = props;
    const retention = Duration.days(config.audit.retentionDays);

    this.bucket = new DataBucket(this, 'Audit', {
      // Retained, so its name must change with every creation of the stack (naming.ts).
      bucketName: auditBucketName(config.stage),
      encryptionKey: props.encryptionKey,
      accessLogsBucket: props.accessLogsBucket,
      removalPolicy: RemovalPolicy.RETAIN,
      objectLockDefaultRetention:
        config.audit.objectLockMode === 'COMPLIANCE'
          ? s3.ObjectLockRetention.compliance(retention)
          : s3.ObjectLockRetention.governance(retention),
    }).bucket;

    this.resultsBucket = new DataBucket(this, 'AthenaResults', {
      bucketName: names.bucket('athena-results'),
      encryptionKey: props.encryptionKey,
      accessLogsBucket: props.accessLogsBucket,
      removalPolicy: props.removalPolicy,
      versioned: false,
      lifecycleRules: [{ expiration: Duration.days(config.logs.accessLogRetentionDays) }],
    }).bucket;

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: names.glueDatabase,
        description: `stagegate ${config.stage} audit records`,
      },
    });
    this.database.applyRemovalPolicy(props.removalPolicy);

    const bucketName = this.bucket.bucketName;
    new CfnOutput(this, 'AuditBucketName', {
      value: bucketName,
      exportName: names.auditBucketExport,
      description: 'Audit bucket of this creation of the stack (read by the workflow stack)',
    });
    const projections = partitionProjections(config);
    this.jsonTable = this.buildJsonTable(names, bucketName, projections);

    this.parquetTable = this.buildParquetTable(names, bucketName, projections);

    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: names.athenaWorkgroup,
      description: `stagegate ${config.stage} audit queries`,
      state: 'ENABLED',
      recursiveDeleteOption: props.removalPolicy === RemovalPolicy.DESTROY,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/${PREFIXES.athenaResults}/`,
          encryptionConfiguration: props.encryptionKey
            ? { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn }
            : { encryptionOption: 'SSE_S3' },
        },
      },
    });
    this.workgroup.applyRemovalPolicy(props.removalPolicy);

    this.view = this.buildView(names);

    this.namedQueries = NAMED_QUERIES.map((query) => {
      const named = new athena.CfnNamedQuery(this, `Query-${query.name}`, {
        name: `${names.prefix}-${query.name}`,
        description: query.description.slice(0, 1024),
        database: names.glueDatabase,
        workGroup: names.athenaWorkgroup,
        queryString: query.sql(names.auditView),
      });
      named.addResourceDependency(this.workgroup);
      named.addResourceDependency(this.database);
      return named;
    });
  }

  /** The JSON-lines table over the records as written (partitions env, dt, hour). */
  private buildJsonTable(
    names: AuditStoreProps['names'],
    bucketName: string,
    projections: Projections,
  ): glue.CfnTable {
    const table = new glue.CfnTable(this, 'JsonLinesTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: names.glueDatabase,
      tableInput: {
        name: names.auditJsonTable,
        description: 'Audit records as written (JSON lines, one record per line)',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [
          { name: 'env', type: 'string' },
          { name: 'dt', type: 'string', comment: 'yyyy-MM-dd (UTC)' },
          { name: 'hour', type: 'string', comment: 'HH, 00-23 (UTC)' },
        ],
        parameters: {
          classification: 'json',
          'projection.enabled': 'true',
          ...projections.env,
          ...projections.dt,
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': `s3://${bucketName}/${PREFIXES.auditJsonLines}/env=\${env}/dt=\${dt}/hour=\${hour}/`,
        },
        storageDescriptor: {
          columns: GLUE_COLUMNS,
          location: `s3://${bucketName}/${PREFIXES.auditJsonLines}/`,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            parameters: { 'serialization.format': '1', 'ignore.malformed.json': 'FALSE' },
          },
        },
      },
    });
    table.addResourceDependency(this.database);
    return table;
  }

  /** The Parquet table over the compacted records (partitions env, dt). */
  private buildParquetTable(
    names: AuditStoreProps['names'],
    bucketName: string,
    projections: Projections,
  ): glue.CfnTable {
    const table = new glue.CfnTable(this, 'ParquetTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: names.glueDatabase,
      tableInput: {
        name: names.auditParquetTable,
        description: 'Audit records compacted to Parquet (one or more files per day)',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [
          { name: 'env', type: 'string' },
          { name: 'dt', type: 'string', comment: 'yyyy-MM-dd (UTC)' },
        ],
        parameters: {
          classification: 'parquet',
          'parquet.compression': 'ZSTD',
          'projection.enabled': 'true',
          ...projections.env,
          ...projections.dt,
          'storage.location.template': `s3://${bucketName}/${PREFIXES.auditParquet}/env=\${env}/dt=\${dt}/`,
        },
        storageDescriptor: {
          columns: GLUE_COLUMNS,
          location: `s3://${bucketName}/${PREFIXES.auditParquet}/`,
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
            parameters: { 'serialization.format': '1' },
          },
        },
      },
    });
    table.addResourceDependency(this.database);
    return table;
  }

  /**
   * The `audit` view as a Glue VIRTUAL_VIEW in Athena's own storage format (a base64 JSON
   * "Presto View" holding the SQL and Trino column types), so it exists right after deploy
   * without anyone running CREATE VIEW.
   */
  private buildView(names: ResourceNames): glue.CfnTable {
    const dataColumns = AUDIT_COLUMNS.map((c) => ({ name: c.name, hive: c.glue }));
    const partitionColumns = [
      { name: 'env', hive: 'string' },
      { name: 'dt', hive: 'string' },
    ];
    const columns = [...dataColumns, ...partitionColumns];
    const expectedNames = AUDIT_VIEW_COLUMNS.join(',');
    if (columns.map((c) => c.name).join(',') !== expectedNames) {
      throw new Error(`audit view columns drifted from AUDIT_VIEW_COLUMNS (${expectedNames})`);
    }
    const definition = {
      originalSql: auditViewSql(names.glueDatabase, names.auditJsonTable, names.auditParquetTable),
      catalog: 'awsdatacatalog',
      schema: names.glueDatabase,
      columns: columns.map((c) => ({ name: c.name, type: trinoType(c.hive) })),
      owner: 'stagegate',
      runAsInvoker: false,
      properties: {},
    };
    const view = new glue.CfnTable(this, 'AuditView', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: names.glueDatabase,
      tableInput: {
        name: names.auditView,
        description: 'Every audit record once (Parquet copy preferred over JSON lines)',
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: `/* Presto View: ${Buffer.from(JSON.stringify(definition)).toString('base64')} */`,
        viewExpandedText: '/* Presto View */',
        partitionKeys: [],
        storageDescriptor: {
          columns: columns.map((c) => ({ name: c.name, type: c.hive })),
          serdeInfo: {},
          location: '',
        },
      },
    });
    view.addResourceDependency(this.database);
    view.addResourceDependency(this.jsonTable);
    view.addResourceDependency(this.parquetTable);
    return view;
  }
}
