/**
 * Stream heads in the DynamoDB single table: item `pk = AUDIT_STREAM#{stream}`, `sk = HEAD`
 * with `seq` (N), `hash` (S), plus `record` (S, the head record's JSON line: the write-ahead
 * copy that lets any writer finish an interrupted S3 write), `object_key` (S) and
 * `updated_at` (S, ISO-8601).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord, StreamHead } from '../../core/audit/record.js';

/** Partition key of a stream's head item. */
export const streamHeadPk = (stream: string): string => `AUDIT_STREAM#${stream}`;
export const STREAM_HEAD_SK = 'HEAD';

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
  };
}

/**
 * Moves the head to `record` if, and only if, it is still where the caller read it:
 * `attribute_not_exists(pk)` for seq 0, `seq = record.seq - 1` otherwise.
 *
 * @returns true when the head moved, false when another writer got there first.
 */
export async function advanceStreamHead(
  dynamo: DynamoDBDocumentClient,
  tableName: string,
  record: AuditRecord,
  line: string,
  objectKey: string,
  batch: readonly { readonly key: string; readonly line: string }[] = [],
): Promise<boolean> {
  // A batch moves the head by batch.length + 1 records at once.
  const expected = record.seq - 1 - batch.length;
  const first = expected < 0;
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: streamHeadPk(record.stream), sk: STREAM_HEAD_SK },
        UpdateExpression:
          'SET #seq = :seq, #hash = :hash, #record = :record, #key = :key, #at = :at, #batch = :batch',
        ConditionExpression: first ? 'attribute_not_exists(pk)' : '#seq = :expected',
        ExpressionAttributeNames: {
          '#seq': 'seq',
          '#hash': 'hash',
          '#record': 'record',
          '#key': 'object_key',
          '#at': 'updated_at',
          '#batch': 'batch',
        },
        ExpressionAttributeValues: {
          ':seq': record.seq,
          ':hash': record.hash,
          ':record': line,
          ':key': objectKey,
          ':at': record.ts,
          ':batch': batch.map((b) => ({ key: b.key, line: b.line })),
          ...(first ? {} : { ':expected': expected }),
        },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailure(err)) return false;
    throw err;
  }
}

/** True for DynamoDB's conditional-check failure (by class, or by name across SDK copies). */
export function isConditionalCheckFailure(err: unknown): boolean {
  return (
    err instanceof ConditionalCheckFailedException ||
    (err instanceof Error && err.name === 'ConditionalCheckFailedException')
  );
}
