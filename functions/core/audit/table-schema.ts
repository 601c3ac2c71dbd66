/**
 * Column layout of the audit tables, shared by the Glue tables (CDK), the local DuckDB view
 * and the Parquet compaction, so the three cannot drift apart.
 *
 * Types are Hive/Glue type strings; `duckdb` is the equivalent DuckDB type.
 */
export interface AuditColumn {
  readonly name: string;
  /** Glue / Hive type string. */
  readonly glue: string;
  /** DuckDB type string. */
  readonly duckdb: string;
  readonly comment: string;
}

const SUBJECT_GLUE =
  'struct<cohort_id:string,agent_id:string,genome_id:string,promotion_id:string,order_id:string,execution_id:string>';
const SUBJECT_DUCKDB =
  'STRUCT(cohort_id VARCHAR, agent_id VARCHAR, genome_id VARCHAR, promotion_id VARCHAR, order_id VARCHAR, execution_id VARCHAR)';

/** Data columns of a stored record, in storage-contract order. */
export const AUDIT_COLUMNS: readonly AuditColumn[] = [
  { name: 'schema_version', glue: 'int', duckdb: 'INTEGER', comment: 'record layout version (1)' },
  { name: 'id', glue: 'string', duckdb: 'VARCHAR', comment: 'ULID of the record' },
  { name: 'ts', glue: 'string', duckdb: 'VARCHAR', comment: 'UTC ISO-8601 with ms' },
  { name: 'environment', glue: 'string', duckdb: 'VARCHAR', comment: 'dev|staging|prod|local' },
  { name: 'kind', glue: 'string', duckdb: 'VARCHAR', comment: 'audited decision kind' },
  { name: 'actor', glue: 'string', duckdb: 'VARCHAR', comment: 'component or human identity' },
  { name: 'stream', glue: 'string', duckdb: 'VARCHAR', comment: 'hash-chain stream id' },
  { name: 'seq', glue: 'bigint', duckdb: 'BIGINT', comment: '0-based position in the stream' },
  { name: 'subject', glue: SUBJECT_GLUE, duckdb: SUBJECT_DUCKDB, comment: 'ids, null if absent' },
  { name: 'payload', glue: 'string', duckdb: 'VARCHAR', comment: 'canonical JSON of the payload' },
  { name: 'prev_hash', glue: 'string', duckdb: 'VARCHAR', comment: 'hash of seq-1, 64 zeros at 0' },
  { name: 'hash', glue: 'string', duckdb: 'VARCHAR', comment: 'SHA-256 of the record sans hash' },
];

/**
 * Partition keys (all `string` in Glue so Athena and DuckDB compare them the same way):
 * JSON-lines table `env`, `dt`, `hour`; Parquet table `env`, `dt`. Suggested partition
 * projection: env enum (dev,staging,prod,local), dt date `yyyy-MM-dd`, hour integer 00-23
 * (digits 2).
 */
export const AUDIT_JSONL_PARTITION_KEYS = ['env', 'dt', 'hour'] as const;
export const AUDIT_PARQUET_PARTITION_KEYS = ['env', 'dt'] as const;

/**
 * Columns of the `audit` view queries run against (data columns + `env`, `dt`): the union of
 * the JSON-lines and Parquet tables, de-duplicated by `id`.
 */
export const AUDIT_VIEW_COLUMNS: readonly string[] = [
  ...AUDIT_COLUMNS.map((c) => c.name),
  'env',
  'dt',
];
