/**
 * Local compaction: one UTC day of JSON-lines audit objects -> one zstd Parquet file at
 * `audit-parquet/env={environment}/dt={YYYY-MM-DD}/part-0000.parquet`, written with DuckDB.
 * (On AWS the same job is an Athena UNLOAD, see docs/audit.md.)
 *
 * The day is verified first (its chains, with each stream's first record of the day as the
 * anchor): a broken day is not compacted, so compaction never launders tampered records. The
 * JSON-lines objects stay: they are the source of truth, the Parquet file a derived copy.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import { AuditDayAnchors } from '../../functions/adapters/audit/day-anchors.js';
import { S3AuditReader } from '../../functions/adapters/audit/s3-audit-reader.js';
import { parquetKey } from '../../functions/core/audit/keys.js';
import { buildDayManifest, verifyManifestChain } from '../../functions/core/audit/manifest.js';
import { auditRecordSchema } from '../../functions/core/audit/record.js';
import { AUDIT_COLUMNS } from '../../functions/core/audit/table-schema.js';
import { AuditChainBrokenError, ValidationError } from '../../functions/core/errors.js';
import type { MirrorOptions, VerifyAuditOptions } from './duckdb.js';
import { createAuditViews, mirrorAudit, mirroredSources, runSql, verifyAudit } from './duckdb.js';

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
 * @throws AuditChainBrokenError when the day's chains do not verify (nothing is written).
 * @throws ValidationError for a malformed date.
 * @throws TransientError when S3 keeps failing after bounded retries.
 */
export async function compactAuditDay(options: CompactOptions): Promise<CompactResult> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.date)) {
    throw new ValidationError('date', `must be YYYY-MM-DD, got "${options.date}"`);
  }
  const check = await verifyAudit(options);
  if (!check.ok && check.firstBreak) {
    const b = check.firstBreak;
    throw new AuditChainBrokenError(b.stream, b.seq, b.key, b.reason, b.detail);
  }
  const mirror = await mirrorAudit(options);
  const sources = await mirroredSources(mirror.root, options.environment, options.date);
  if (!sources.jsonl) return { key: null, records: 0, bytes: 0, manifestKey: null };
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'stagegate-compact-'));
  const instance = await DuckDBInstance.create(':memory:');
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
    return { key, records, bytes: body.byteLength, manifestKey: await anchorDay(options) };
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Writes the (verified) day's manifest and moves the anchor to it (see
 * functions/core/audit/manifest.ts). Days are anchored in date order: a day older than the
 * newest anchored one, or one anchored already, is left as it is.
 *
 * @returns the manifest's S3 key, or null when nothing was anchored.
 */
async function anchorDay(options: CompactOptions): Promise<string | null> {
  if (!options.heads) return null;
  const anchors = new AuditDayAnchors({
    s3: options.s3Client,
    bucket: options.bucket,
    dynamo: options.heads.dynamo,
    tableName: options.heads.tableName,
  });
  const [stored, anchor] = await Promise.all([
    anchors.readManifests(options.environment),
    anchors.readAnchor(options.environment),
  ]);
  const { manifests } = verifyManifestChain(stored, anchor);
  const newest = manifests[manifests.length - 1] ?? null;
  if (newest && newest.date >= options.date) return null;
  const inputs = await new S3AuditReader({
    s3: options.s3Client,
    bucket: options.bucket,
  }).readRecords({ environment: options.environment, date: options.date });
  const records = inputs.flatMap((i) => {
    const parsed = auditRecordSchema.safeParse(i.record);
    return parsed.success ? [parsed.data] : [];
  });
  const manifest = buildDayManifest({
    environment: options.environment,
    date: options.date,
    records,
    previous: newest,
  });
  return anchors.writeManifest(manifest, anchor);
}
