/**
 * S3 key layout of the audit trail (the storage contract the Glue tables are built on):
 *
 * - records:      `audit/env={environment}/dt={YYYY-MM-DD}/hour={HH}/{stream-segment}/{seq:10}-{id}.jsonl`
 * - dead letters: `audit-dead-letter/env={environment}/dt={YYYY-MM-DD}/{id}.json`
 * - compacted:    `audit-parquet/env={environment}/dt={YYYY-MM-DD}/part-0000.parquet`
 *
 * `dt`/`hour` come from the record's `ts` (UTC). The stream segment is the stream id made
 * filesystem- and Hive-safe by {@link encodeStreamSegment}.
 */

import { ValidationError } from '../errors.js';
import type { AuditEnvironment, AuditRecord } from './record.js';
import { AUDIT_ENVIRONMENTS } from './record.js';

export const AUDIT_PREFIX = 'audit/';
export const AUDIT_DEAD_LETTER_PREFIX = 'audit-dead-letter/';
export const AUDIT_PARQUET_PREFIX = 'audit-parquet/';
/** Day manifests (manifest.ts): outside `audit/`, so the Athena/DuckDB views never read them. */
export const AUDIT_MANIFEST_PREFIX = 'audit-manifests/';

/**
 * The sparse DynamoDB index over the stream heads (functions/adapters/audit/stream-heads.ts):
 * its name, key attributes, projected attributes and shards per environment. The stateful
 * CDK stack and the local table (local/servers.ts) declare it from these.
 */
export const AUDIT_HEADS_INDEX = 'audit-heads';
export const AUDIT_HEADS_PK = 'audit_heads_pk';
export const AUDIT_HEADS_SK = 'audit_heads_sk';
export const AUDIT_HEADS_PROJECTED = ['seq', 'hash', 'updated_at'] as const;
/**
 * Index partitions per environment. Each index partition takes up to 1,000 writes/s; a head
 * advance is one index write (two when its sort key moves), so 8 shards leave room for
 * thousands of appends per second while a listing stays 8 Queries.
 */
export const AUDIT_HEAD_SHARDS = 8;

const SAFE = /[A-Za-z0-9.-]/;

/**
 * Injective, reversible encoding of a stream id into one key segment: ASCII letters, digits,
 * `.` and `-` are kept; every other UTF-8 byte (including `_` itself) becomes `_` + two
 * uppercase hex digits. `execution:abc_1` -> `execution_3Aabc_5F1`.
 */
export function encodeStreamSegment(stream: string): string {
  let out = '';
  for (const ch of stream) {
    if (SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, 'utf8')) {
      out += `_${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/** Inverse of {@link encodeStreamSegment}; null when the segment is not a valid encoding. */
export function decodeStreamSegment(segment: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; ) {
    const ch = segment[i] as string;
    if (ch === '_') {
      const hex = segment.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return null;
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    } else if (SAFE.test(ch)) {
      bytes.push(ch.charCodeAt(0));
      i += 1;
    } else {
      return null;
    }
  }
  const text = Buffer.from(bytes).toString('utf8');
  return encodeStreamSegment(text) === segment ? text : null;
}

/** `YYYY-MM-DD` and `HH` (UTC) of an audit `ts`. */
export function partitionOf(ts: string): { dt: string; hour: string } {
  return { dt: ts.slice(0, 10), hour: ts.slice(11, 13) };
}

/** S3 key of a stored record (one record per object; never overwritten). */
export function auditObjectKey(
  record: Pick<AuditRecord, 'environment' | 'ts' | 'stream' | 'seq' | 'id'>,
): string {
  return `${auditObjectKeyPrefix(record)}${record.id}.jsonl`;
}

/**
 * The key of a stored record up to its id: `audit/env=<env>/dt=<day>/hour=<HH>/<stream>/<seq>-`
 * (seq zero-padded to 10 digits). Exactly one object of a stream has it, so a record whose
 * seq and `ts` are known but not its id is found by listing this prefix.
 */
export function auditObjectKeyPrefix(
  record: Pick<AuditRecord, 'environment' | 'ts' | 'stream' | 'seq'>,
): string {
  const seq = String(record.seq).padStart(10, '0');
  return `${auditStreamHourPrefix(record.environment, record.stream, record.ts)}${seq}-`;
}

/**
 * The listing prefix of one stream's records of the UTC hour of `ts`:
 * `audit/env=<env>/dt=<day>/hour=<HH>/<stream>/`.
 */
export function auditStreamHourPrefix(
  environment: AuditEnvironment,
  stream: string,
  ts: string,
): string {
  const { dt, hour } = partitionOf(ts);
  return `${AUDIT_PREFIX}env=${environment}/dt=${dt}/hour=${hour}/${encodeStreamSegment(stream)}/`;
}

/** Most UTC hours {@link auditStreamHourPrefixes} lists (two days). */
export const MAX_STREAM_HOURS = 48;

/**
 * The listing prefixes of one stream's records appended from `fromIso` to `toIso` (UTC ISO-8601),
 * one per UTC hour, oldest first.
 *
 * @throws ValidationError when a bound is not a time, `toIso` precedes `fromIso`, or the window
 *   spans more than {@link MAX_STREAM_HOURS} hours.
 */
export function auditStreamHourPrefixes(
  environment: AuditEnvironment,
  stream: string,
  fromIso: string,
  toIso: string,
): string[] {
  const hourMs = 3_600_000;
  const from = Math.floor(Date.parse(fromIso) / hourMs);
  const to = Math.floor(Date.parse(toIso) / hourMs);
  if (
    !Number.isFinite(from) ||
    !Number.isFinite(to) ||
    to < from ||
    to - from >= MAX_STREAM_HOURS
  ) {
    throw new ValidationError(
      'window',
      `${fromIso} .. ${toIso} is not a window of at most ${MAX_STREAM_HOURS} hours`,
    );
  }
  const out: string[] = [];
  for (let h = from; h <= to; h += 1) {
    out.push(auditStreamHourPrefix(environment, stream, new Date(h * hourMs).toISOString()));
  }
  return out;
}

/**
 * Listing prefix for one environment, optionally one UTC day (`YYYY-MM-DD`).
 * `audit/env=prod/` or `audit/env=prod/dt=2024-01-02/`.
 */
export function auditPrefix(environment: AuditEnvironment, date?: string): string {
  return `${AUDIT_PREFIX}env=${environment}/${date ? `dt=${date}/` : ''}`;
}

/** S3 key of a dead-lettered (rejected) draft; `ts` is when it was rejected. */
export function deadLetterKey(environment: AuditEnvironment, ts: string, id: string): string {
  return `${AUDIT_DEAD_LETTER_PREFIX}env=${environment}/dt=${partitionOf(ts).dt}/${id}.json`;
}

/** S3 key of the compacted zstd Parquet file of one UTC day. */
export function parquetKey(environment: AuditEnvironment, date: string, part = 0): string {
  return `${AUDIT_PARQUET_PREFIX}env=${environment}/dt=${date}/part-${String(part).padStart(4, '0')}.parquet`;
}

/** What a record key says about the record stored under it. */
/** S3 key of the day manifest of `date` (`audit-manifests/env={env}/dt={date}.json`). */
export function manifestKey(environment: AuditEnvironment, date: string): string {
  return `${AUDIT_MANIFEST_PREFIX}env=${environment}/dt=${date}.json`;
}

export interface AuditKeyParts {
  readonly environment: AuditEnvironment;
  readonly dt: string;
  readonly hour: string;
  readonly stream: string;
  readonly seq: number;
  readonly id: string;
}

const KEY_RE =
  /^audit\/env=([a-z]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([A-Za-z0-9._-]+)\/(\d{10})-([0-9A-Z]{26})\.jsonl$/;

/** Parses a record key; null when the key does not follow the layout. */
export function parseAuditObjectKey(key: string): AuditKeyParts | null {
  const m = KEY_RE.exec(key);
  if (!m) return null;
  const [, env, dt, hour, segment, seq, id] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!(AUDIT_ENVIRONMENTS as readonly string[]).includes(env)) return null;
  const stream = decodeStreamSegment(segment);
  if (stream === null) return null;
  return {
    environment: env as AuditEnvironment,
    dt,
    hour,
    stream,
    seq: Number(seq),
    id,
  };
}
