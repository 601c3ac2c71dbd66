/**
 * Stream heads in the DynamoDB single table: item `pk = AUDIT_STREAM#{stream}`, `sk = HEAD`
 * with `seq` (N), `hash` (S), plus `record` (S, the head record's JSON line: the write-ahead
 * copy that lets any writer finish an interrupted S3 write), `object_key` (S) and
 * `updated_at` (S, ISO-8601: the head record's `ts`).
 *
 * Every head also carries the keys of the sparse index `AUDIT_HEADS_INDEX` (core/audit/keys.ts), so the
 * completeness checks list the heads of an environment, or the heads written since a day,
 * with a Query whose cost grows with the streams it returns, not with the table:
 * `audit_heads_pk = AUDIT_HEADS#{environment}#{shard}` (shard 0..`AUDIT_HEAD_SHARDS`-1,
 * from the stream id's SHA-256, so one busy day's head writes spread over several index
 * partitions instead of one) and `audit_heads_sk = {updated_at}#{stream}`.
 *
 * Each committed idempotency key has its own item beside the head (`pk` the stream's,
 * `sk = IDEMPOTENCY#<sha256 of the key>`: `key`, `id`, `seq`, `hash`, `ts`, `count` of the
 * records it committed, `expiresAt` for the table's TTL), written in one transaction with the
 * head advance that commits its records.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  GetCommand,
  paginateQuery,
  paginateScan,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  AUDIT_HEAD_SHARDS,
  AUDIT_HEADS_INDEX,
  AUDIT_HEADS_PK,
  AUDIT_HEADS_SK,
} from '../../core/audit/keys.js';
import type { DatedStreamHead } from '../../core/audit/manifest.js';
import type { AuditEnvironment, AuditRecord, StreamHead } from '../../core/audit/record.js';

/** Partition key of a stream's head item. */
export const streamHeadPk = (stream: string): string => `AUDIT_STREAM#${stream}`;
export const STREAM_HEAD_SK = 'HEAD';

/**
 * Sort key of a committed idempotency key's item, beside its stream's head (same `pk`):
 * `IDEMPOTENCY#` + hex SHA-256 of the key (fixed length whatever the caller's key).
 */
export const idempotencyKeySk = (key: string): string =>
  `IDEMPOTENCY#${createHash('sha256').update(key, 'utf8').digest('hex')}`;

/** The index shard of a stream: first byte of SHA-256(stream) modulo `AUDIT_HEAD_SHARDS`. */
export function auditHeadShard(stream: string): number {
  return (createHash('sha256').update(stream, 'utf8').digest()[0] ?? 0) % AUDIT_HEAD_SHARDS;
}

/** Index keys of a stream's head written at `ts` (UTC ISO-8601) in `environment`. */
export function auditHeadIndexKeys(
  environment: string,
  stream: string,
  ts: string,
): { [AUDIT_HEADS_PK]: string; [AUDIT_HEADS_SK]: string } {
  return {
    [AUDIT_HEADS_PK]: `AUDIT_HEADS#${environment}#${auditHeadShard(stream)}`,
    [AUDIT_HEADS_SK]: `${ts}#${stream}`,
  };
}

/** A committed idempotency key and the record it committed (docs/audit.md). */
export interface IdempotencyEntry {
  readonly key: string;
  readonly id: string;
  readonly seq: number;
  readonly hash: string;
  /**
   * The record's `ts` and how many records the key committed (a batch ends at `seq`), so a
   * replay can read the records back; absent on entries of a plain `appendOnce`.
   */
  readonly ts?: string;
  readonly count?: number;
}

/** A head as stored: chaining fields plus the record it points at (when written by the sink). */
export interface StoredStreamHead extends StreamHead {
  /** JSON line of the head record (absent on items written by other tools). */
  readonly record: string | null;
  /** S3 key the head record belongs at. */
  readonly objectKey: string | null;
  /**
   * The records committed together with the head by a batch append (before the head
   * record), so an interrupted batch can be finished by the next writer; empty otherwise.
   */
  readonly batch?: readonly { readonly key: string; readonly line: string }[];
  /**
   * Keys committed by releases that kept them in the head item (attribute `idempotency`, the
   * stream's last 16, oldest first): still read, so a redelivery of such a key replays; no
   * longer written (each key now has its own item, {@link idempotencyKeySk}).
   */
  readonly idempotency?: readonly IdempotencyEntry[];
}

function isIdempotencyEntry(e: unknown): e is IdempotencyEntry {
  const v = e as Partial<Record<keyof IdempotencyEntry, unknown>> | null;
  return (
    typeof v?.key === 'string' &&
    typeof v.id === 'string' &&
    typeof v.hash === 'string' &&
    Number.isInteger(Number(v.seq))
  );
}

/** Reads the head with a strongly consistent read; null for a new stream. */
export async function readStreamHead(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  stream: string,
): Promise<StoredStreamHead | null> {
  const out = await dynamo.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: streamHeadPk(stream), sk: STREAM_HEAD_SK },
      ConsistentRead: true,
    }),
  );
  const item = out.Item;
  if (!item) return null;
  return {
    seq: Number(item.seq),
    hash: String(item.hash),
    record: typeof item.record === 'string' ? item.record : null,
    objectKey: typeof item.object_key === 'string' ? item.object_key : null,
    batch: Array.isArray(item.batch)
      ? (item.batch as { key: string; line: string }[]).filter(
          (b) => typeof b?.key === 'string' && typeof b?.line === 'string',
        )
      : [],
    idempotency: Array.isArray(item.idempotency)
      ? (item.idempotency as unknown[]).filter(isIdempotencyEntry).map(toEntry)
      : [],
  };
}

/** A stored entry (a key's item, or one of a head's legacy list) as an {@link IdempotencyEntry}. */
function toEntry(e: IdempotencyEntry): IdempotencyEntry {
  return {
    key: e.key,
    id: e.id,
    seq: Number(e.seq),
    hash: e.hash,
    ...(typeof e.ts === 'string' ? { ts: e.ts } : {}),
    ...(Number.isInteger(Number(e.count)) ? { count: Number(e.count) } : {}),
  };
}

/** A key to commit with a head advance: its entry and when its item expires (DynamoDB TTL). */
export interface KeyCommit {
  readonly entry: IdempotencyEntry;
  /** Epoch seconds UTC (`expiresAt`, the table's TTL attribute). */
  readonly expiresAt: number;
}

/**
 * What {@link advanceStreamHead} did: `moved` (the head now holds `record`, by this call or by
 * an earlier attempt of it whose answer was lost), `lost` (another writer moved the head
 * first: re-read and chain again), or `key_committed` (the key was committed before, by
 * another append: `entry` is what it committed, nothing was written now).
 */
export type HeadAdvance =
  | { readonly outcome: 'moved' }
  | { readonly outcome: 'lost' }
  | { readonly outcome: 'key_committed'; readonly entry: IdempotencyEntry };

const MOVED: HeadAdvance = { outcome: 'moved' };
const LOST: HeadAdvance = { outcome: 'lost' };

/**
 * Moves the head to `record` if, and only if, it is still where the caller read it:
 * `attribute_not_exists(pk)` for seq 0, `seq = record.seq - 1` otherwise.
 *
 * Idempotent under retries: when an earlier attempt of this same update was applied but its
 * answer was lost (a timeout, a dropped connection) and the retry fails its condition, the
 * head already holds this very record (same hash; the record's unique id is inside it), so
 * the update counts as done and the record is committed once, never chained a second time.
 *
 * With `key`, the head update and the key's own item ({@link idempotencyKeySk}, created with
 * `attribute_not_exists(pk)`) are one `TransactWriteItems`: the key is committed exactly when
 * its record is, and a key committed before fails the transaction. The transaction is sent
 * without reading the key first: only when DynamoDB cancels it with `ConditionalCheckFailed`
 * on the key's item (its `CancellationReasons`, in the order of the actions) is the key's
 * item read, to tell this very record (an earlier attempt's lost answer: `moved`) from
 * another append's (`key_committed`). A cancellation without reasons reads the key too.
 * Both are UpdateItem actions on the stream's partition (`AUDIT_STREAM#...`), so the audit
 * grant is unchanged.
 *
 * @returns what happened ({@link HeadAdvance}).
 */
export async function advanceStreamHead(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  record: AuditRecord,
  line: string,
  objectKey: string,
  batch: readonly { readonly key: string; readonly line: string }[] = [],
  key?: KeyCommit,
): Promise<HeadAdvance> {
  const head = headUpdate(tableName, record, line, objectKey, batch);
  try {
    if (key) {
      await dynamo.send(
        new TransactWriteCommand({
          TransactItems: [{ Update: head }, { Update: keyUpdate(tableName, record.stream, key) }],
        }),
      );
    } else {
      await dynamo.send(new UpdateCommand(head));
    }
    return MOVED;
  } catch (err) {
    if (!isConditionalCheckFailure(err) && !isTransactionCanceled(err)) throw err;
    if (key && keyMayBeCommitted(err)) {
      const entry = await readIdempotencyEntry(dynamo, tableName, record.stream, key.entry.key);
      if (entry) return entry.hash === record.hash ? MOVED : { outcome: 'key_committed', entry };
    }
    const current = await readStreamHead(dynamo, tableName, record.stream);
    return current !== null && current.hash === record.hash ? MOVED : LOST;
  }
}

/**
 * True when a cancelled transaction of {@link advanceStreamHead} failed the key item's
 * condition (its second action), or does not say why.
 */
function keyMayBeCommitted(err: unknown): boolean {
  const reasons = (err as { CancellationReasons?: readonly { Code?: string }[] })
    .CancellationReasons;
  if (!Array.isArray(reasons) || reasons.length < 2) return true;
  return reasons[1]?.Code === 'ConditionalCheckFailed';
}

/** The conditional head update of {@link advanceStreamHead}. */
function headUpdate(
  tableName: string,
  record: AuditRecord,
  line: string,
  objectKey: string,
  batch: readonly { readonly key: string; readonly line: string }[],
) {
  // A batch moves the head by batch.length + 1 records at once.
  const expected = record.seq - 1 - batch.length;
  const first = expected < 0;
  const index = auditHeadIndexKeys(record.environment, record.stream, record.ts);
  return {
    TableName: tableName,
    Key: { pk: streamHeadPk(record.stream), sk: STREAM_HEAD_SK },
    UpdateExpression:
      'SET #seq = :seq, #hash = :hash, #record = :record, #key = :key, #at = :at, #batch = :batch, #ipk = :ipk, #isk = :isk',
    ConditionExpression: first ? 'attribute_not_exists(pk)' : '#seq = :expected',
    ExpressionAttributeNames: {
      '#seq': 'seq',
      '#hash': 'hash',
      '#record': 'record',
      '#key': 'object_key',
      '#at': 'updated_at',
      '#batch': 'batch',
      '#ipk': AUDIT_HEADS_PK,
      '#isk': AUDIT_HEADS_SK,
    },
    ExpressionAttributeValues: {
      ':seq': record.seq,
      ':hash': record.hash,
      ':record': line,
      ':key': objectKey,
      ':at': record.ts,
      ':batch': batch.map((b) => ({ key: b.key, line: b.line })),
      ':ipk': index[AUDIT_HEADS_PK],
      ':isk': index[AUDIT_HEADS_SK],
      ...(first ? {} : { ':expected': expected }),
    },
  };
}

/** The update creating a key's item (`attribute_not_exists(pk)`: a key commits once). */
function keyUpdate(tableName: string, stream: string, key: KeyCommit) {
  const e = key.entry;
  return {
    TableName: tableName,
    Key: { pk: streamHeadPk(stream), sk: idempotencyKeySk(e.key) },
    UpdateExpression:
      'SET #k = :k, #id = :id, #seq = :seq, #hash = :hash, #ts = :ts, #count = :count, #exp = :exp',
    ConditionExpression: 'attribute_not_exists(pk)',
    ExpressionAttributeNames: {
      '#k': 'key',
      '#id': 'id',
      '#seq': 'seq',
      '#hash': 'hash',
      '#ts': 'ts',
      '#count': 'count',
      '#exp': 'expiresAt',
    },
    ExpressionAttributeValues: {
      ':k': e.key,
      ':id': e.id,
      ':seq': e.seq,
      ':hash': e.hash,
      ':ts': e.ts ?? null,
      ':count': e.count ?? 1,
      ':exp': key.expiresAt,
    },
  };
}

/**
 * The entry of `key` committed on `stream` (its own item, strongly consistent read); null
 * when the key was never committed (or its item expired: `AUDIT_IDEMPOTENCY_TTL_DAYS`, core/audit/idempotency.ts).
 */
export async function readIdempotencyEntry(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  stream: string,
  key: string,
): Promise<IdempotencyEntry | null> {
  const out = await dynamo.send(
    new GetCommand({
      TableName: tableName,
      Key: { pk: streamHeadPk(stream), sk: idempotencyKeySk(key) },
      ConsistentRead: true,
    }),
  );
  const item = out.Item;
  if (!isIdempotencyEntry(item) || item.key !== key) return null;
  return toEntry(item);
}

/** True for a cancelled `TransactWriteItems` (a condition failed, or a conflicting write). */
export function isTransactionCanceled(err: unknown): boolean {
  return err instanceof Error && err.name === 'TransactionCanceledException';
}

/** True for DynamoDB's conditional-check failure (by class, or by name across SDK copies). */
export function isConditionalCheckFailure(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err instanceof Error && err.name === 'ConditionalCheckFailedException')
  );
}

/**
 * Heads of `environment` from `AUDIT_HEADS_INDEX`: every one, or (with `since`, a UTC
 * day `YYYY-MM-DD`) those whose record is of that day or later. One Query per shard (paged);
 * the index is eventually consistent, so a head advanced in the last moments may show its
 * previous position (the daily check reads yesterday's heads, long settled).
 *
 * @returns heads keyed by stream, each with its record's `ts`.
 */
export async function queryStreamHeads(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  environment: AuditEnvironment,
  since?: string,
): Promise<Map<string, DatedStreamHead>> {
  const out = new Map<string, DatedStreamHead>();
  const shards = Array.from({ length: AUDIT_HEAD_SHARDS }, (_, i) => i);
  await Promise.all(
    shards.map(async (shard) => {
      const pages = paginateQuery(
        { client: dynamo },
        {
          TableName: tableName,
          IndexName: AUDIT_HEADS_INDEX,
          KeyConditionExpression: since ? '#pk = :pk AND #sk >= :since' : '#pk = :pk',
          ExpressionAttributeNames: {
            '#pk': AUDIT_HEADS_PK,
            ...(since ? { '#sk': AUDIT_HEADS_SK } : {}),
          },
          ExpressionAttributeValues: {
            ':pk': `AUDIT_HEADS#${environment}#${shard}`,
            ...(since ? { ':since': since } : {}),
          },
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const pk = String(item.pk);
          out.set(pk.slice(streamHeadPk('').length), {
            seq: Number(item.seq),
            hash: String(item.hash),
            ts: typeof item.updated_at === 'string' ? item.updated_at : null,
          });
        }
      }
    }),
  );
  return out;
}

/** What {@link indexLegacyStreamHeads} found (and, unless a dry run, indexed). */
export interface LegacyHeadsReport {
  /** Head items without index keys whose environment and `updated_at` could be read. */
  readonly legacy: number;
  /** Of those, by the environment named in their head record. */
  readonly byEnvironment: Readonly<Record<string, number>>;
  /** Head items without index keys and without a readable environment or `updated_at`. */
  readonly unreadable: number;
  /** Heads given their keys now (0 in a dry run; a head a writer indexed meanwhile is not counted). */
  readonly indexed: number;
}

/**
 * One-time migration: gives every head item written before `AUDIT_HEADS_INDEX` existed
 * its index keys (environment from its head record, sort key from `updated_at`). A Scan of
 * the whole table (filtered to head items without the keys, so it reads every item once),
 * run once when the index is added (locally by `ensureTable`, in AWS by
 * `stagegate audit index-heads`), never on a hot path. Idempotent: heads that have the keys
 * are left alone, and the update is conditional on their absence.
 *
 * @param options.apply false: a dry run, counting what would be indexed, writing nothing.
 *   Default true.
 * @returns what was found and indexed.
 */
export async function indexLegacyStreamHeads(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  options: { readonly apply?: boolean } = {},
): Promise<LegacyHeadsReport> {
  const apply = options.apply ?? true;
  const byEnvironment: Record<string, number> = {};
  let legacy = 0;
  let unreadable = 0;
  let indexed = 0;
  const pages = paginateScan(
    { client: dynamo },
    {
      TableName: tableName,
      FilterExpression: 'begins_with(pk, :prefix) AND sk = :head AND attribute_not_exists(#ipk)',
      ExpressionAttributeNames: { '#ipk': AUDIT_HEADS_PK },
      ExpressionAttributeValues: { ':prefix': streamHeadPk(''), ':head': STREAM_HEAD_SK },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const environment = environmentOfLine(item.record);
      if (environment === null || typeof item.updated_at !== 'string') {
        unreadable += 1;
        continue;
      }
      legacy += 1;
      byEnvironment[environment] = (byEnvironment[environment] ?? 0) + 1;
      if (apply && (await indexLegacyHead(dynamo, tableName, item, environment))) indexed += 1;
    }
  }
  return { legacy, byEnvironment, unreadable, indexed };
}

/** Sets one legacy head's index keys; false when a writer advanced it (and set them) meanwhile. */
async function indexLegacyHead(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  environment: string,
): Promise<boolean> {
  const stream = String(item.pk).slice(streamHeadPk('').length);
  const keys = auditHeadIndexKeys(environment, stream, String(item.updated_at));
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: item.pk, sk: STREAM_HEAD_SK },
        UpdateExpression: 'SET #ipk = :ipk, #isk = :isk',
        ConditionExpression: 'attribute_not_exists(#ipk)',
        ExpressionAttributeNames: { '#ipk': AUDIT_HEADS_PK, '#isk': AUDIT_HEADS_SK },
        ExpressionAttributeValues: {
          ':ipk': keys[AUDIT_HEADS_PK],
          ':isk': keys[AUDIT_HEADS_SK],
        },
      }),
    );
    return true;
  } catch (err) {
    if (!isConditionalCheckFailure(err)) throw err;
    return false;
  }
}

/** The `environment` of a head record's JSON line; null when it is not one. */
function environmentOfLine(line: unknown): string | null {
  if (typeof line !== 'string') return null;
  try {
    const env = (JSON.parse(line) as { environment?: unknown }).environment;
    return typeof env === 'string' ? env : null;
  } catch {
    return null;
  }
}
