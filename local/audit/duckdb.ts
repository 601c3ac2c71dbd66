/**
 * Local audit queries: mirror the audit objects of one environment from the (local) S3 bucket
 * into a cache folder that keeps the Hive layout, expose them to DuckDB as a view named
 * `audit` (JSON-lines + compacted Parquet, de-duplicated by id) and run the SQL the Athena
 * named queries use. Also `verifyAudit`, which re-checks every hash chain.
 *
 * The `audit` view has the stored record columns plus the partition columns `env` and `dt`
 * (strings), exactly like the Athena view described in docs/audit.md. DuckDB lacks Trino's
 * `json_extract_scalar`; a macro with that name maps it onto `json_extract_string`.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { AuditDayAnchors } from '../../functions/adapters/audit/day-anchors.js';
import { mapLimit, S3AuditReader } from '../../functions/adapters/audit/s3-audit-reader.js';
import { AUDIT_PARQUET_PREFIX, auditPrefix } from '../../functions/core/audit/keys.js';
import type { AuditSqlParam } from '../../functions/core/audit/named-queries.js';
import { getNamedQuery, positionalParams } from '../../functions/core/audit/named-queries.js';
import type { AuditEnvironment } from '../../functions/core/audit/record.js';
import { AUDIT_COLUMNS } from '../../functions/core/audit/table-schema.js';
import type { VerifyResult } from '../../functions/core/audit/verify.js';
import { ValidationError } from '../../functions/core/errors.js';
import type { AuditTrailDeps } from '../../functions/core/use-cases/audit-compaction.js';
import { verifyAuditTrail } from '../../functions/core/use-cases/audit-compaction.js';

/** A result row, values as plain JS (BIGINT as number when safe, else string). */
export type AuditRow = Record<string, unknown>;

/** Where to find the bucket and which environment to read. */
export interface AuditBucketOptions {
  /** S3 client (locally: `forcePathStyle: true`, `requestChecksumCalculation: 'WHEN_REQUIRED'`). */
  readonly s3Client: S3Client;
  readonly bucket: string;
  readonly environment: AuditEnvironment;
  /** Only this UTC day (`YYYY-MM-DD`); all days when absent. */
  readonly date?: string;
}

export interface MirrorOptions extends AuditBucketOptions {
  /** Local cache folder; objects land in `{cacheDir}/{bucket}/{key}`. */
  readonly cacheDir: string;
}

export interface MirrorResult {
  /** `{cacheDir}/{bucket}`: the root the Hive globs start from. */
  readonly root: string;
  readonly jsonlObjects: number;
  readonly parquetObjects: number;
  /** Objects fetched this time (the rest were already cached with the same ETag). */
  readonly downloaded: number;
  /** Cached files removed because the object no longer exists (or moved). */
  readonly removed: number;
}

const MANIFEST = '.audit-mirror.json';
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function checkDate(date: string | undefined): void {
  if (date !== undefined && !DATE_RE.test(date)) {
    throw new ValidationError('date', `must be YYYY-MM-DD, got "${date}"`);
  }
}

async function walk(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/** True when a key is safe to map onto the local filesystem. */
function safeKey(key: string): boolean {
  return !key.split('/').some((s) => s === '' || s === '.' || s === '..') && !key.includes('\\');
}

/**
 * Mirrors `audit/env={environment}/[dt=...]` and `audit-parquet/env={environment}/[dt=...]`
 * into `{cacheDir}/{bucket}`: new or changed objects (by ETag) are downloaded, cached files
 * whose object is gone are removed, so the mirror always equals the bucket.
 *
 * @throws ValidationError for a malformed `date`.
 * @throws TransientError when S3 keeps failing after bounded retries.
 */
export async function mirrorAudit(options: MirrorOptions): Promise<MirrorResult> {
  checkDate(options.date);
  const reader = new S3AuditReader({ s3: options.s3Client, bucket: options.bucket });
  const root = path.join(options.cacheDir, options.bucket);
  const manifestPath = path.join(root, MANIFEST);
  let manifest: Record<string, string> = {};
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, string>;
  } catch {
    manifest = {};
  }
  const parquetPrefix = `${AUDIT_PARQUET_PREFIX}env=${options.environment}/${options.date ? `dt=${options.date}/` : ''}`;
  const prefixes = [auditPrefix(options.environment, options.date), parquetPrefix];
  let downloaded = 0;
  let removed = 0;
  let jsonlObjects = 0;
  let parquetObjects = 0;
  for (const prefix of prefixes) {
    const listed = (await reader.list(prefix)).filter((o) => safeKey(o.key));
    const wanted = new Set(listed.map((o) => o.key));
    for (const file of await walk(path.join(root, prefix))) {
      const key = path.relative(root, file).split(path.sep).join('/');
      if (!wanted.has(key)) {
        await rm(file, { force: true });
        delete manifest[key];
        removed += 1;
      }
    }
    await mapLimit(listed, 16, async (o) => {
      const file = path.join(root, o.key);
      const cached =
        manifest[o.key] === o.etag &&
        (await stat(file).then(
          (s) => s.size === o.size,
          () => false,
        ));
      if (!cached) {
        const bytes = await reader.getBytes(o.key);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(`${file}.part`, bytes);
        await rename(`${file}.part`, file);
        manifest[o.key] = o.etag;
        downloaded += 1;
      }
    });
    if (prefix === parquetPrefix)
      parquetObjects = listed.filter((o) => o.key.endsWith('.parquet')).length;
    else jsonlObjects = listed.filter((o) => o.key.endsWith('.jsonl')).length;
  }
  await mkdir(root, { recursive: true });
  await writeFile(manifestPath, JSON.stringify(manifest));
  return { root, jsonlObjects, parquetObjects, downloaded, removed };
}

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const DATA_COLUMNS = AUDIT_COLUMNS.map((c) => c.name).join(', ');
const VIEW_COLUMNS = `${DATA_COLUMNS}, env, dt`;
const JSON_COLUMNS = `{${AUDIT_COLUMNS.map((c) => `${c.name}: ${sqlString(c.duckdb)}`).join(', ')}}`;

/** Which files the `audit` view reads (glob patterns; null or empty = none of that format). */
export interface AuditViewSources {
  /** JSON-lines files under `.../env=*\/dt=*\/hour=*\/...`. */
  readonly jsonl?: readonly string[] | null;
  /** Parquet files under `.../env=*\/dt=*\/...`. */
  readonly parquet?: readonly string[] | null;
}

/**
 * Creates the `json_extract_scalar` macro and the views `audit_jsonl`, `audit_parquet` (when
 * they have sources) and `audit` (their union, de-duplicated by `id` within a day, Parquet
 * preferred) on a DuckDB connection.
 */
export async function createAuditViews(
  connection: DuckDBConnection,
  sources: AuditViewSources,
): Promise<void> {
  await connection.run(
    'CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)',
  );
  const parts: string[] = [];
  if (sources.parquet && sources.parquet.length > 0) {
    await connection.run(
      `CREATE OR REPLACE VIEW audit_parquet AS SELECT ${VIEW_COLUMNS} FROM read_parquet([${sources.parquet.map(sqlString).join(', ')}], hive_partitioning = true, hive_types = {'env': 'VARCHAR', 'dt': 'VARCHAR'})`,
    );
    parts.push(`SELECT ${VIEW_COLUMNS}, 0 AS src FROM audit_parquet`);
  }
  if (sources.jsonl && sources.jsonl.length > 0) {
    await connection.run(
      `CREATE OR REPLACE VIEW audit_jsonl AS SELECT ${VIEW_COLUMNS} FROM read_json([${sources.jsonl.map(sqlString).join(', ')}], format = 'newline_delimited', hive_partitioning = true, hive_types = {'env': 'VARCHAR', 'dt': 'VARCHAR', 'hour': 'VARCHAR'}, columns = ${JSON_COLUMNS})`,
    );
    parts.push(`SELECT ${VIEW_COLUMNS}, 1 AS src FROM audit_jsonl`);
  }
  let body: string;
  if (parts.length === 0) {
    const nulls = AUDIT_COLUMNS.map((c) => `CAST(NULL AS ${c.duckdb}) AS ${c.name}`);
    body = `SELECT ${nulls.join(', ')}, CAST(NULL AS VARCHAR) AS env, CAST(NULL AS VARCHAR) AS dt WHERE false`;
  } else if (parts.length === 1) {
    body = `SELECT ${VIEW_COLUMNS} FROM ${sources.parquet?.length ? 'audit_parquet' : 'audit_jsonl'}`;
  } else {
    // Partitioning the window by (env, dt, id) lets filters on env/dt reach the file scans.
    body = `SELECT ${VIEW_COLUMNS} FROM (SELECT *, row_number() OVER (PARTITION BY env, dt, id ORDER BY src) AS rn FROM (${parts.join(' UNION ALL ')}) u) d WHERE rn = 1`;
  }
  await connection.run(`CREATE OR REPLACE VIEW audit AS ${body}`);
}

function toPlain(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
  }
  return value;
}

/** Runs one statement with positional parameters and returns plain JS rows. */
export async function runSql(
  connection: DuckDBConnection,
  sql: string,
  params: readonly AuditSqlParam[] = [],
): Promise<AuditRow[]> {
  const reader = await connection.runAndReadAll(sql, params as DuckDBValue[]);
  return reader.getRowObjectsJS().map((r) => toPlain(r) as AuditRow);
}

/** The JSON-lines and Parquet globs of a mirrored environment. */
export async function mirroredSources(
  root: string,
  environment: AuditEnvironment,
  date?: string,
): Promise<AuditViewSources> {
  const dt = date ?? '*';
  const jsonlDir = path.join(root, 'audit', `env=${environment}`);
  const parquetDir = path.join(root, 'audit-parquet', `env=${environment}`);
  const files = [...(await walk(jsonlDir)), ...(await walk(parquetDir))];
  const hasJsonl = files.some((f) => f.endsWith('.jsonl') && (!date || f.includes(`dt=${date}`)));
  const hasParquet = files.some(
    (f) => f.endsWith('.parquet') && (!date || f.includes(`dt=${date}`)),
  );
  return {
    jsonl: hasJsonl ? [path.join(jsonlDir, `dt=${dt}`, 'hour=*', '*', '*.jsonl')] : null,
    parquet: hasParquet ? [path.join(parquetDir, `dt=${dt}`, '*.parquet')] : null,
  };
}

export interface QueryAuditOptions extends MirrorOptions {
  /** Raw SQL against the view `audit` (use `?` placeholders + `params` array). */
  readonly sql?: string;
  /** Name of a query in NAMED_QUERIES (its parameters by name in `params`). */
  readonly namedQuery?: string;
  readonly params?: readonly AuditSqlParam[] | Readonly<Record<string, AuditSqlParam>>;
}

/**
 * Mirrors the bucket, builds the `audit` view and runs one query (raw `sql` or a
 * `namedQuery`), with parameters bound by DuckDB (never spliced into the text).
 *
 * @returns the rows, values as plain JS.
 * @throws ValidationError when neither or both of `sql`/`namedQuery` are given, the named
 *   query is unknown, a parameter is missing, or the date is malformed.
 * @throws TransientError when S3 keeps failing; DuckDB errors (bad SQL) propagate as is.
 */
export async function queryAudit(options: QueryAuditOptions): Promise<AuditRow[]> {
  if ((options.sql === undefined) === (options.namedQuery === undefined)) {
    throw new ValidationError('sql', 'give exactly one of sql or namedQuery');
  }
  let sql: string;
  let params: AuditSqlParam[];
  if (options.namedQuery !== undefined) {
    const q = getNamedQuery(options.namedQuery);
    if (Array.isArray(options.params)) {
      throw new ValidationError('params', 'named queries take parameters by name');
    }
    sql = q.sql('audit');
    params = positionalParams(q, options.params as Readonly<Record<string, AuditSqlParam>>);
  } else {
    sql = options.sql as string;
    if (options.params !== undefined && !Array.isArray(options.params)) {
      throw new ValidationError('params', 'raw SQL takes positional parameters (an array)');
    }
    params = [...((options.params as readonly AuditSqlParam[] | undefined) ?? [])];
  }
  const mirror = await mirrorAudit(options);
  const instance = await (await import('@duckdb/node-api')).DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await createAuditViews(
      connection,
      await mirroredSources(mirror.root, options.environment, options.date),
    );
    return await runSql(connection, sql, params);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export interface VerifyAuditOptions extends AuditBucketOptions {
  /**
   * Stream-head table (also holds the day anchor). When given, every stream head in the table
   * must have its records, the newest stored record of every stream must be its head, and the
   * day manifests must chain up to the anchor; with `date`, the day's first and last records
   * must meet the neighbour days (functions/core/audit/manifest.ts).
   */
  readonly heads?: { readonly dynamo: DynamoDBDocumentClient; readonly tableName: string };
}

/**
 * Lists and reads every record of the environment (or of one UTC day) and verifies the hash
 * chains and, with `heads`, completeness: no stream missing (every head in the table has its
 * records), no tail missing (the head), the day manifests chained up to the anchor and
 * matching the records; for one day, its first record meets the previous manifest and its last
 * record the day's manifest, the next stored record or the head.
 *
 * @returns the VerifyResult (ok, or the first break naming stream, seq, id, S3 key, reason).
 * @throws ValidationError for a malformed `date`.
 * @throws TransientError when S3 or DynamoDB keep failing after bounded retries.
 */
export async function verifyAudit(options: VerifyAuditOptions): Promise<VerifyResult> {
  checkDate(options.date);
  return verifyAuditTrail(auditTrailDeps(options), options.date);
}

/** The ports of the core audit verification/anchoring over the local bucket and head table. */
export function auditTrailDeps(options: VerifyAuditOptions): AuditTrailDeps {
  const reader = new S3AuditReader({ s3: options.s3Client, bucket: options.bucket });
  const anchors = options.heads
    ? new AuditDayAnchors({
        s3: options.s3Client,
        bucket: options.bucket,
        dynamo: options.heads.dynamo,
        tableName: options.heads.tableName,
      })
    : undefined;
  return { reader, anchors, environment: options.environment };
}
