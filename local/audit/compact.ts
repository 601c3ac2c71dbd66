/**
 * Local compaction: one UTC day of JSON-lines audit objects -> one zstd Parquet file at
 * `audit-parquet/env={environment}/dt={YYYY-MM-DD}/part-0000.parquet`, written with DuckDB.
 * (On AWS the same job is an Athena UNLOAD, see docs/audit.md.)
 *
 * The day is verified and anchored first by the same core use case the AWS compaction's
 * verify step runs (`verifyAndAnchorAuditDay`, functions/core/use-cases/audit-compaction.ts):
 * a broken day is not compacted, so compaction never launders tampered records. The JSON-lines
 * objects stay: they are the source of truth, the Parquet file a derived copy.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parquetKey } from '../../functions/core/audit/keys.js';
import { AUDIT_COLUMNS } from '../../functions/core/audit/table-schema.js';
import { ValidationError } from '../../functions/core/errors.js';
import { verifyAndAnchorAuditDay } from '../../functions/core/use-cases/audit-compaction.js';
import type { MirrorOptions, VerifyAuditOptions } from './duckdb.js';
import {
  auditTrailDeps,
  createAuditViews,
  mirrorAudit,
  mirroredSources,
  runSql,
} from './duckdb.js';

export interface CompactOptions extends MirrorOptions {
  /** The UTC day to compact, `YYYY-MM-DD` (required). */
  readonly date: string;
  /**
   * Stream-head table: the day is verified for completeness too, then anchored (its manifest
   * written and the anchor moved to it) unless a later day is anchored already.
   */
  readonly heads?: VerifyAuditOptions['heads'];
}

export interface CompactResult {
  /** S3 key written, null when the day had no records. */
  readonly key: string | null;
  readonly records: number;
  /** Size of the Parquet file, bytes. */
  readonly bytes: number;
  /**
   * S3 key of the day manifest written, null when none was (no `heads`, no records, the day
   * was anchored before, or a later day is anchored already).
   */
  readonly manifestKey: string | null;
}

/**
 * Writes the rows of `select` (which must yield the AUDIT_COLUMNS) to a zstd Parquet file,
 * sorted by stream and seq so row-group statistics prune well.
 */
export async function writeAuditParquet(
  connection: DuckDBConnection,
  from: string,
  outFile: string,
): Promise<void> {
  const cols = AUDIT_COLUMNS.map((c) => c.name).join(', ');
  const target = `'${outFile.replaceAll("'", "''")}'`;
  await connection.run(
    `COPY (SELECT ${cols} FROM ${from} ORDER BY stream, seq) TO ${target} (FORMAT parquet, COMPRESSION zstd)`,
  );
}

/**
 * Verifies and compacts one day of one environment into `part-0000.parquet` (re-running
 * replaces the file with the same rows plus any late ones).
 *
 * @returns the key written and the number of records, or `key: null` for an empty day.
 * @throws AuditChainBrokenError when the day does not verify (nothing is written or anchored).
 * @throws ValidationError for a malformed date.
 * @throws TransientError when S3 keeps failing after bounded retries.
 */
export async function compactAuditDay(options: CompactOptions): Promise<CompactResult> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.date)) {
    throw new ValidationError('date', `must be YYYY-MM-DD, got "${options.date}"`);
  }
  const { manifestKey } = await verifyAndAnchorAuditDay(auditTrailDeps(options), options.date);
  const mirror = await mirrorAudit(options);
  const sources = await mirroredSources(mirror.root, options.environment, options.date);
  if (!sources.jsonl) return { key: null, records: 0, bytes: 0, manifestKey };
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stagegate-compact-'));
  const instance = await (await import('@duckdb/node-api')).DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await createAuditViews(connection, { jsonl: sources.jsonl });
    const [row] = await runSql(connection, 'SELECT count(*) AS n FROM audit');
    const records = Number(row?.n ?? 0);
    const file = path.join(tmp, 'part-0000.parquet');
    await writeAuditParquet(connection, 'audit', file);
    const body = await readFile(file);
    const key = parquetKey(options.environment, options.date);
    await options.s3Client.send(
      new PutObjectCommand({
        Bucket: options.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/vnd.apache.parquet',
      }),
    );
    return { key, records, bytes: body.byteLength, manifestKey };
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(tmp, { recursive: true, force: true });
  }
}
